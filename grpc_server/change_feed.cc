#include "grpc_server/change_feed.h"

#include <algorithm>

#include "grpc_server/wait.h"

namespace smarketing {

void ChangeFeed::Committed(int64_t cursor) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::max(latest_, cursor);
  }
  committed_.notify_all();
}

void ChangeFeed::WaitAfter(int64_t after_cursor, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  committed_.wait_for(lock, WaitTimeout(timeout),
                      [this, after_cursor] { return latest_ > after_cursor; });
}

absl::StatusOr<ChangeFeed::Followed> ChangeFeed::Follow(
    int64_t after_cursor, int batch, absl::Duration poll,
    absl::FunctionRef<bool()> cancelled,
    absl::FunctionRef<bool(const v1::Change&)> deliver) {
  Followed followed;
  int64_t cursor = after_cursor;
  while (!cancelled()) {
    auto changes = Read(cursor, batch);
    if (!changes.ok()) return changes.status();
    for (const v1::Change& change : *changes) {
      if (!deliver(change)) {
        followed.refused = true;
        return followed;
      }
      cursor = change.cursor();
      ++followed.sent;
    }
    if (static_cast<int>(changes->size()) < batch) WaitAfter(cursor, poll);
  }
  return followed;
}

}  // namespace smarketing
