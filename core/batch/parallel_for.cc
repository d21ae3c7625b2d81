#include "core/batch/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace smarketing {

int DefaultThreadCount() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void ParallelFor(int64_t count, int threads,
                 const std::function<void(int, int64_t, int64_t)>& fn,
                 int64_t chunk) {
  if (threads <= 0) threads = DefaultThreadCount();
  // A thread with no chunk to take would only cost its start.
  const int64_t chunks = (count + chunk - 1) / chunk;
  threads = static_cast<int>(
      std::min<int64_t>(threads, std::max<int64_t>(chunks, 1)));
  if (threads == 1) {
    if (count > 0) fn(0, 0, count);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&](int thread) {
    for (;;) {
      const int64_t begin = next.fetch_add(chunk);
      if (begin >= count) return;
      fn(thread, begin, std::min(count, begin + chunk));
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& thread : pool) thread.join();
}

}  // namespace smarketing
