#include "grpc_server/change_feed.h"

#include <algorithm>

namespace smarketing {

void ChangeFeed::Committed(int64_t cursor) {
  absl::MutexLock lock(&mu_);
  latest_ = std::max(latest_, cursor);
}

void ChangeFeed::WaitAfter(int64_t after_cursor, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto newer = [this, after_cursor]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return latest_ > after_cursor;
  };
  mu_.AwaitWithTimeout(absl::Condition(&newer), timeout);
}

}  // namespace smarketing
