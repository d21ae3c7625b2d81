#include "core/batch/score_lines.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/batch/score_json.h"

namespace smarketing {
namespace {

// An MQL kept for routing, which reads conditions of lead scope only. A
// lead read flat, nearly every one, holds no events here (they are in its
// FlatLead); the few others' are copied and dropped.
void CopyForRouting(const v1::Lead& from, v1::Lead* to) {
  to->CopyFrom(from);
  to->clear_events();
}

// One run of ScoreToJsonLines: the leads of each block scored in parallel
// into JSON lines (MQLs kept whole), then the block written in input order
// with its MQLs routed one after the other.
class JsonLinesRun {
 public:
  JsonLinesRun(const LeadEngine& engine, LeadSource& source,
               const ScoreLinesOptions& options,
               const std::function<bool(absl::string_view)>& write,
               const std::function<void(absl::string_view)>& refuse)
      : engine_(engine),
        source_(source),
        options_(options),
        write_(write),
        refuse_(refuse),
        pipeline_({engine.playbook()}, options.now, options.threads),
        workers_(pipeline_.threads(), Worker(engine.playbook())),
        block_writer_(engine.playbook()) {}

  absl::StatusOr<ScoreLinesSummary> Run() {
    if (absl::Status st = pipeline_.Run(
            source_, [this](int slot, int64_t n) { SizeBlock(slot, n); },
            [this](const ScoredLead& s) { ScoreLead(s); },
            [this](int slot, int64_t n) { return WriteBlock(slot, n); });
        !st.ok()) {
      return st;
    }
    return summary_;
  }

 private:
  struct Worker {
    explicit Worker(std::shared_ptr<const CompiledPlaybook> playbook)
        : writer(std::move(playbook)) {}
    ScoreJsonWriter writer;
    v1::ScoreResult result;
  };
  struct Mql {
    v1::Lead lead;
    v1::ScoreResult result;
    // With rule ids: the explanation, left out of `result`.
    std::vector<RuleContribution> explanation;
  };
  // What each lead of a block leaves for WriteBlock: its JSON line, or its
  // error; MQLs kept whole until they are routed.
  struct Block {
    std::vector<std::string> lines;
    std::vector<std::string> errors;
    std::vector<v1::LifecycleStage> stages;
    std::vector<Mql> mqls;
  };

  // The block's storage is sized before its leads are scored.
  void SizeBlock(int slot, int64_t n) {
    Block& block = blocks_[slot];
    if (static_cast<int64_t>(block.lines.size()) < n) {
      block.lines.resize(n);
      block.errors.resize(n);
      block.stages.resize(n);
      block.mqls.resize(n);
    }
  }

  // On a worker thread.
  void ScoreLead(const ScoredLead& s) {
    Block& block = blocks_[s.slot];
    if (!s.status.ok()) {
      block.errors[s.i] =
          s.lead == nullptr
              ? std::string(s.status.message())
              : absl::StrCat(options_.name, ":", source_.line(s.slot, s.i),
                             ": lead \"", s.lead->id(),
                             "\": ", s.status.message());
      return;
    }
    block.errors[s.i].clear();
    const LeadScore& score = s.scores[0];
    block.stages[s.i] = score.stage;
    const Scorer& scorer = pipeline_.scorer(s.thread, 0);
    // With rule ids, the default, the explanation (the bulk of a line) is
    // printed from the score itself rather than from RuleHits.
    const bool rule_ids = options_.explanation == Explanation::kRuleIds;
    const Explanation in_result =
        rule_ids ? Explanation::kNone : options_.explanation;
    if (score.stage == v1::LIFECYCLE_STAGE_MQL) {
      Mql& mql = block.mqls[s.i];
      CopyForRouting(*s.lead, &mql.lead);
      scorer.ToProto(*s.lead, score, options_.now, &mql.result, in_result);
      if (rule_ids) mql.explanation = score.explanation;
      return;
    }
    Worker& w = workers_[s.thread];
    block.lines[s.i].clear();
    scorer.ToProto(*s.lead, score, options_.now, &w.result, in_result);
    if (rule_ids) {
      w.writer.Append(w.result, score.explanation, &block.lines[s.i]);
    } else {
      w.writer.Append(w.result, &block.lines[s.i]);
    }
  }

  // Beside the workers, one block at a time.
  absl::Status WriteBlock(int slot, int64_t n) {
    Block& block = blocks_[slot];
    buffer_.clear();
    for (int64_t i = 0; i < n; ++i) {
      if (!block.errors[i].empty()) {
        refuse_(block.errors[i]);
        ++summary_.refused;
        continue;
      }
      ++summary_.scored;
      ++summary_.by_stage[block.stages[i]];
      if (block.stages[i] == v1::LIFECYCLE_STAGE_MQL) {
        Mql& mql = block.mqls[i];
        engine_.AssignNewMql(mql.lead, options_.now, &routing_, &mql.result);
        if (options_.explanation == Explanation::kRuleIds) {
          block_writer_.Append(mql.result, mql.explanation, &buffer_);
        } else {
          block_writer_.Append(mql.result, &buffer_);
        }
      } else {
        buffer_ += block.lines[i];
      }
      buffer_ += '\n';
    }
    if (!write_(buffer_)) return absl::AbortedError("the output was closed");
    read_ += n;
    if (options_.progress) options_.progress(read_, source_.fraction_done());
    return absl::OkStatus();
  }

  const LeadEngine& engine_;
  LeadSource& source_;
  const ScoreLinesOptions& options_;
  const std::function<bool(absl::string_view)>& write_;
  const std::function<void(absl::string_view)>& refuse_;
  LeadPipeline pipeline_;
  std::vector<Worker> workers_;
  Block blocks_[2];  // one per slot
  // WriteBlock's own, as it runs beside the workers.
  ScoreJsonWriter block_writer_;
  v1::RoutingState routing_;
  std::string buffer_;
  ScoreLinesSummary summary_;
  int64_t read_ = 0;
};

}  // namespace

absl::StatusOr<ScoreLinesSummary> ScoreToJsonLines(
    const LeadEngine& engine, LeadSource& source,
    const ScoreLinesOptions& options,
    const std::function<bool(absl::string_view)>& write,
    const std::function<void(absl::string_view)>& refuse) {
  return JsonLinesRun(engine, source, options, write, refuse).Run();
}

}  // namespace smarketing
