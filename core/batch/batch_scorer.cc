#include "core/batch/batch_scorer.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace smarketing {

int DefaultThreadCount() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void ParallelFor(int64_t count, int threads,
                 const std::function<void(int, int64_t, int64_t)>& fn) {
  if (threads <= 0) threads = DefaultThreadCount();
  threads = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(count, 1)));
  constexpr int64_t kChunk = 1024;
  if (threads == 1) {
    if (count > 0) fn(0, 0, count);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&](int thread) {
    for (;;) {
      const int64_t begin = next.fetch_add(kChunk);
      if (begin >= count) return;
      fn(thread, begin, std::min(count, begin + kChunk));
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& thread : pool) thread.join();
}

void ScoreBatch(std::shared_ptr<const CompiledPlaybook> playbook,
                absl::Span<const v1::Lead* const> leads, absl::Time now,
                int threads, std::vector<LeadScore>* scores,
                std::vector<absl::Status>* statuses) {
  const int64_t count = static_cast<int64_t>(leads.size());
  scores->resize(count);
  statuses->assign(count, absl::OkStatus());
  if (threads <= 0) threads = DefaultThreadCount();
  std::vector<std::unique_ptr<Scorer>> scorers;
  for (int t = 0; t < threads; ++t) {
    scorers.push_back(std::make_unique<Scorer>(playbook));
  }
  ParallelFor(count, threads, [&](int thread, int64_t begin, int64_t end) {
    Scorer& scorer = *scorers[thread];
    for (int64_t i = begin; i < end; ++i) {
      (*statuses)[i] = scorer.Score(*leads[i], now, &(*scores)[i]);
    }
  });
}

}  // namespace smarketing
