// Work shared among threads, for the lead pipeline (lead_pipeline.h) and the
// Python bindings.
#ifndef SMARKETING_CORE_BATCH_PARALLEL_FOR_H_
#define SMARKETING_CORE_BATCH_PARALLEL_FOR_H_

#include <cstdint>
#include <functional>

namespace smarketing {

// The number of hardware threads, at least 1.
int DefaultThreadCount();

// Calls `fn(thread_index, begin, end)` on `threads` threads over contiguous
// chunks of [0, count), `chunk` indexes at most, handed out in turn so that
// threads stay busy.
void ParallelFor(int64_t count, int threads,
                 const std::function<void(int, int64_t, int64_t)>& fn,
                 int64_t chunk = 1024);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_PARALLEL_FOR_H_
