#include "core/batch/score_table.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/batch/lead_pipeline.h"

namespace smarketing {

namespace {

int32_t Code(const std::string& value,
             absl::flat_hash_map<std::string, int32_t>* index,
             std::vector<std::string>* dictionary) {
  if (value.empty()) return -1;
  auto [it, inserted] =
      index->try_emplace(value, static_cast<int32_t>(dictionary->size()));
  if (inserted) dictionary->push_back(value);
  return it->second;
}

// Routing depends on the assignments before it, so MQLs are routed one
// after the other in table order, as `smarketing score` routes a file
// (LeadEngine::AssignNewMql, which only routes: no rescoring). Routing rules
// are conditions of lead scope, which cannot name event fields: the leads
// are built without their events, which are most of the work of building
// a lead.
absl::Status RouteTable(const LeadEngine& engine, const LeadTable& table,
                        const ScoreTableOptions& options, ScoreColumns* out) {
  const int64_t n = table.size();
  out->team.assign(n, -1);
  out->owner.assign(n, -1);
  const v1::Playbook& playbook = engine.playbook()->playbook();
  absl::flat_hash_map<std::string, int32_t> teams, owners;
  v1::RoutingState routing = options.routing_state;
  TableLeadBuilder builder(table);
  v1::ScoreResult result;
  for (int64_t r = 0; r < n; ++r) {
    if (out->stage[r] != v1::LIFECYCLE_STAGE_MQL) continue;
    result.Clear();
    result.set_recommended_stage(v1::LIFECYCLE_STAGE_MQL);
    result.set_priority(static_cast<v1::Priority>(out->priority[r]));
    if (out->persona[r] >= 0) {
      result.set_persona_id(playbook.personas(out->persona[r]).id());
    }
    engine.AssignNewMql(builder.BuildWithoutEvents(r), options.now, &routing,
                        &result);
    out->team[r] = Code(result.routing().team_id(), &teams, &out->teams);
    out->owner[r] = Code(result.routing().owner_id(), &owners, &out->owners);
  }
  return absl::OkStatus();
}

// Sizes the columns for `n` leads and empties the explanations.
void SizeColumns(int64_t n, bool contributions, ScoreColumns* out) {
  out->fit.resize(n);
  out->engagement.resize(n);
  out->total.resize(n);
  out->persona.resize(n);
  out->grade.resize(n);
  out->stage.resize(n);
  out->priority.resize(n);
  out->disqualification_reason.resize(n);
  out->hand_raiser.resize(n);
  out->events_counted.resize(n);
  out->duplicate_events.resize(n);
  if (contributions) {
    out->contribution_begin.assign(n + 1, 0);
    out->contributions.clear();
  }
  out->sentences.clear();
}

void SetScoreColumns(const LeadScore& score, int64_t r, ScoreColumns* out) {
  out->fit[r] = score.fit;
  out->engagement[r] = score.engagement;
  out->total[r] = score.total;
  out->persona[r] = score.persona;
  out->grade[r] = score.grade;
  out->stage[r] = score.stage;
  out->priority[r] = score.priority;
  out->disqualification_reason[r] = score.disqualification_reason;
  out->hand_raiser[r] = score.hand_raiser;
  out->events_counted[r] = score.events_counted;
  out->duplicate_events[r] = score.duplicate_events;
}

// The sentences of the score's explanation, in its order; `scratch` is
// reused from lead to lead.
void ExplanationSentences(const Scorer& scorer, const v1::Lead& lead,
                          const LeadScore& score, absl::Time now,
                          v1::ScoreResult* scratch,
                          std::vector<std::string>* sentences) {
  scorer.ToProto(lead, score, now, scratch);
  sentences->clear();
  for (v1::RuleHit& hit : *scratch->mutable_explanation()) {
    sentences->push_back(std::move(*hit.mutable_sentence()));
  }
}

}  // namespace

absl::Status TableLeadError(const LeadTable& table, int64_t row,
                            absl::string_view lead_id,
                            const absl::Status& status) {
  std::string path;
  if (auto problems = ProblemsFromStatus(status);
      problems && problems->problems_size() > 0) {
    path = problems->problems(0).path();
  }
  std::string where;
  int index = 0;
  if (absl::StartsWith(path, "events[") &&
      absl::SimpleAtoi(path.substr(7, path.find(']') - 7), &index)) {
    where = absl::StrCat(" (events row ", table.EventRow(row, index), ")");
  }
  return FieldError(
      absl::StrCat("leads[", row, "]", path.empty() ? "" : ".", path),
      absl::StrCat("lead \"", lead_id, "\"", where, ": ", status.message()));
}

absl::Status ScoreTable(std::shared_ptr<const CompiledPlaybook> playbook,
                        const LeadTable& table,
                        const ScoreTableOptions& options, ScoreColumns* out) {
  const int64_t n = table.size();
  const bool contributions = options.contributions || options.sentences;
  SizeColumns(n, contributions, out);

  LeadPipeline pipeline({playbook}, options.now, options.threads);
  std::unique_ptr<LeadSource> source = TableLeadSource(table);
  // Per lead of the block, appended in row order once the block is scored,
  // so that results do not depend on the thread count.
  std::vector<std::vector<RuleContribution>> lead_contributions[2];  // per slot
  std::vector<std::vector<std::string>> lead_sentences[2];
  std::vector<v1::ScoreResult> results(pipeline.threads());
  std::mutex error_mutex;
  int64_t error_row = n;
  absl::Status error;

  auto on_lead = [&](const ScoredLead& s) {
    const int64_t r = source->index(s.slot, s.i);
    if (!s.status.ok()) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (r >= error_row) return;
      error_row = r;
      error = TableLeadError(table, r, s.lead->id(), s.status);
      return;
    }
    const LeadScore& score = s.scores[0];
    SetScoreColumns(score, r, out);
    if (!contributions) return;
    lead_contributions[s.slot][s.i].assign(score.explanation.begin(),
                                           score.explanation.end());
    if (options.sentences) {
      ExplanationSentences(pipeline.scorer(s.thread, 0), *s.lead, score,
                           options.now, &results[s.thread],
                           &lead_sentences[s.slot][s.i]);
    }
  };
  auto on_start = [&](int slot, int64_t count) {
    if (!contributions) return;
    lead_contributions[slot].resize(count);
    if (options.sentences) lead_sentences[slot].resize(count);
  };
  auto on_block = [&](int slot, int64_t count) -> absl::Status {
    {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error.ok()) return error;
    }
    if (!contributions) return absl::OkStatus();
    for (int64_t i = 0; i < count; ++i) {
      const int64_t r = source->index(slot, i);
      const auto& list = lead_contributions[slot][i];
      out->contribution_begin[r + 1] =
          out->contribution_begin[r] + static_cast<int64_t>(list.size());
      out->contributions.insert(out->contributions.end(), list.begin(),
                                list.end());
      if (!options.sentences) continue;
      for (std::string& sentence : lead_sentences[slot][i]) {
        out->sentences.push_back(std::move(sentence));
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status st = pipeline.Run(*source, on_start, on_lead, on_block);
      !st.ok()) {
    return st;
  }
  if (options.engine != nullptr) {
    if (absl::Status st = RouteTable(*options.engine, table, options, out);
        !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace smarketing
