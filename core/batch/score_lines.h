// `smarketing score`'s work, leads in and JSON lines out, on the lead
// pipeline: what the command line runs and what the benchmark measures.
#ifndef SMARKETING_CORE_BATCH_SCORE_LINES_H_
#define SMARKETING_CORE_BATCH_SCORE_LINES_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/batch/lead_pipeline.h"
#include "core/journey/lead_engine.h"
#include "core/scoring/scorer.h"

namespace smarketing {

struct ScoreLinesOptions {
  absl::Time now;
  int threads = 0;  // <= 0: DefaultThreadCount()
  Explanation explanation = Explanation::kRuleIds;
  // The input as messages name it ("leads.jsonl:12: ...").
  std::string name;
  // After each block: leads read so far and the share of the input done
  // (negative when unknown).
  std::function<void(int64_t leads, double fraction)> progress;
};

struct ScoreLinesSummary {
  int64_t scored = 0;
  int64_t refused = 0;
  int64_t by_stage[v1::LifecycleStage_ARRAYSIZE] = {};
};

// Scores every lead of `source` with `engine`'s Playbook at `now` and passes
// the results to `write` in input order, a block at a time: one
// smarketing.v1.ScoreResult per line in the protobuf JSON mapping with
// proto field names. MQLs are routed one after the other in input order,
// from an empty routing state, as if they arrived together at `now`: the
// same file always gives the same owners. Records that cannot be read or
// scored are counted and their messages, naming the line, passed to
// `refuse` in input order. An error reading the input, or ABORTED when
// `write` returns false (the reader went away), ends the run.
absl::StatusOr<ScoreLinesSummary> ScoreToJsonLines(
    const LeadEngine& engine, LeadSource& source,
    const ScoreLinesOptions& options,
    const std::function<bool(absl::string_view)>& write,
    const std::function<void(absl::string_view)>& refuse);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_SCORE_LINES_H_
