// Scores many leads over several threads. Each lead's result depends only on
// the lead, the Playbook and `now`, so results are identical, bit for bit,
// whatever the thread count.
#ifndef SMARKETING_CORE_BATCH_BATCH_SCORER_H_
#define SMARKETING_CORE_BATCH_BATCH_SCORER_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/scoring/scorer.h"

namespace smarketing {

// The number of hardware threads, at least 1.
int DefaultThreadCount();

// Calls `fn(thread_index, begin, end)` on `threads` threads over contiguous
// chunks of [0, count). Chunks are small so that threads stay busy.
void ParallelFor(int64_t count, int threads,
                 const std::function<void(int, int64_t, int64_t)>& fn);

// Scores leads[i] into scores[i] and statuses[i] (resized to match).
// `threads` <= 0 means DefaultThreadCount().
void ScoreBatch(std::shared_ptr<const CompiledPlaybook> playbook,
                absl::Span<const v1::Lead* const> leads, absl::Time now,
                int threads, std::vector<LeadScore>* scores,
                std::vector<absl::Status>* statuses);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_BATCH_SCORER_H_
