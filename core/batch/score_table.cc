#include "core/batch/score_table.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/batch/batch_scorer.h"

namespace smarketing {

namespace {

int32_t Code(const std::string& value, absl::flat_hash_map<std::string, int32_t>* index,
             std::vector<std::string>* dictionary) {
  if (value.empty()) return -1;
  auto [it, inserted] =
      index->try_emplace(value, static_cast<int32_t>(dictionary->size()));
  if (inserted) dictionary->push_back(value);
  return it->second;
}

// Calls fn(thread, block) for every block of [0, blocks) on `threads`
// threads, handing out blocks one at a time. (ParallelFor hands out 1024
// indexes at a time: right for leads, but given blocks of 1024 leads it
// left a million leads to a single thread.)
void ForEachBlock(int64_t blocks, int threads,
                  const std::function<void(int, int64_t)>& fn) {
  threads = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(blocks, 1)));
  std::atomic<int64_t> next{0};
  auto work = [&](int thread) {
    for (int64_t b; (b = next.fetch_add(1)) < blocks;) fn(thread, b);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& thread : pool) thread.join();
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
    engine.AssignNewMql(builder.BuildWithoutEvents(r), options.now, &routing, &result);
    out->team[r] = Code(result.routing().team_id(), &teams, &out->teams);
    out->owner[r] = Code(result.routing().owner_id(), &owners, &out->owners);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ScoreTable(std::shared_ptr<const CompiledPlaybook> playbook,
                        const LeadTable& table, const ScoreTableOptions& options,
                        ScoreColumns* out) {
  const int64_t n = table.size();
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
  const bool contributions = options.contributions || options.sentences;

  // Blocks of leads, each with its own explanation storage, concatenated in
  // lead order afterwards so that results do not depend on the thread count.
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::vector<RuleContribution>> block_contributions(
      contributions ? blocks : 0);
  std::vector<std::vector<std::string>> block_sentences(
      options.sentences ? blocks : 0);
  if (contributions) out->contribution_begin.assign(n + 1, 0);

  const int threads = static_cast<int>(std::min<int64_t>(
      options.threads > 0 ? options.threads : DefaultThreadCount(),
      std::max<int64_t>(blocks, 1)));
  struct Worker {
    explicit Worker(const std::shared_ptr<const CompiledPlaybook>& playbook,
                    const LeadTable& table)
        : scorer(playbook), builder(table) {}
    Scorer scorer;
    // Each lead is built over the previous one: building it then
    // allocates next to nothing, which would otherwise cost as much as
    // scoring it.
    TableLeadBuilder builder;
    LeadScore score;
    v1::ScoreResult result;
  };
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    workers.push_back(std::make_unique<Worker>(playbook, table));
  }
  std::mutex error_mutex;
  std::atomic<int64_t> error_row{n};
  absl::Status error;

  ForEachBlock(blocks, threads, [&](int thread, int64_t b) {
    Worker& w = *workers[thread];
    LeadScore& score = w.score;
    // A later block cannot hold the first error.
    if (b * kBlock > error_row.load(std::memory_order_relaxed)) return;
    for (int64_t r = b * kBlock, end = std::min(n, r + kBlock); r < end; ++r) {
      const v1::Lead& lead = w.builder.Build(r);
      if (absl::Status st = w.scorer.Score(lead, options.now, &score); !st.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (r < error_row.load()) {
          error_row.store(r);
          std::string path;
          if (auto problems = ProblemsFromStatus(st);
              problems && problems->problems_size() > 0) {
            path = problems->problems(0).path();
          }
          std::string where;
          int index = 0;
          if (absl::StartsWith(path, "events[") &&
              absl::SimpleAtoi(path.substr(7, path.find(']') - 7), &index)) {
            where = absl::StrCat(" (events row ", table.EventRow(r, index), ")");
          }
          error = FieldError(
              absl::StrCat("leads[", r, "]", path.empty() ? "" : ".", path),
              absl::StrCat("lead \"", lead.id(), "\"", where, ": ",
                           st.message()));
        }
        return;
      }
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
      if (!contributions) continue;
      out->contribution_begin[r + 1] = static_cast<int64_t>(score.explanation.size());
      auto& list = block_contributions[b];
      list.insert(list.end(), score.explanation.begin(), score.explanation.end());
      if (options.sentences) {
        w.scorer.ToProto(lead, score, options.now, &w.result);
        for (v1::RuleHit& hit : *w.result.mutable_explanation()) {
          block_sentences[b].push_back(std::move(*hit.mutable_sentence()));
        }
      }
    }
  });
  if (!error.ok()) return error;
  if (options.engine != nullptr) {
    if (absl::Status st = RouteTable(*options.engine, table, options, out);
        !st.ok()) {
      return st;
    }
  }
  if (!contributions) return absl::OkStatus();
  for (int64_t r = 0; r < n; ++r) {
    out->contribution_begin[r + 1] += out->contribution_begin[r];
  }
  out->contributions.clear();
  out->contributions.reserve(out->contribution_begin[n]);
  for (auto& list : block_contributions) {
    out->contributions.insert(out->contributions.end(), list.begin(), list.end());
  }
  out->sentences.clear();
  if (options.sentences) {
    out->sentences.reserve(out->contribution_begin[n]);
    for (auto& list : block_sentences) {
      for (std::string& s : list) out->sentences.push_back(std::move(s));
    }
  }
  return absl::OkStatus();
}

}  // namespace smarketing
