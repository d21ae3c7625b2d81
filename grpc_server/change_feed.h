// The change feed as the service reads it: pages of the store's change log,
// and a wait for the next committed change, so that WatchChanges streams a
// change as soon as it is committed without polling the store.
#ifndef SMARKETING_GRPC_SERVER_CHANGE_FEED_H_
#define SMARKETING_GRPC_SERVER_CHANGE_FEED_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "smarketing/v1/change.pb.h"
#include "store/store.h"

namespace smarketing {

class ChangeFeed {
 public:
  explicit ChangeFeed(Store* store) : store_(store) {}

  // Changes after `after_cursor`, oldest first, at most `limit`.
  absl::StatusOr<std::vector<v1::Change>> Read(int64_t after_cursor,
                                               int limit) {
    return store_->ListChanges(after_cursor, limit);
  }

  // A change with `cursor` was committed.
  void Committed(int64_t cursor);

  // Waits until a change after `after_cursor` was committed since this
  // process started, or `timeout` has passed. Changes committed by another
  // process sharing the store are seen when the caller reads again after
  // the timeout.
  void WaitAfter(int64_t after_cursor, absl::Duration timeout);

  // How a Follow ended.
  struct Followed {
    // Changes given to `deliver` and accepted.
    int64_t sent = 0;
    // `deliver` refused a change (its reader went away); otherwise
    // `cancelled` said so.
    bool refused = false;
  };

  // Gives `deliver` every change after `after_cursor`, oldest first, as
  // they are committed, until `cancelled` returns true or `deliver` returns
  // false. Reads the store `batch` changes at a time; when none is left,
  // waits for the next commit (WaitAfter) at most `poll`, then reads again.
  absl::StatusOr<Followed> Follow(
      int64_t after_cursor, int batch, absl::Duration poll,
      absl::FunctionRef<bool()> cancelled,
      absl::FunctionRef<bool(const v1::Change&)> deliver);

 private:
  Store* store_;
  // std::mutex and std::condition_variable rather than abseil's: Debian's
  // abseil is not built with ThreadSanitizer, which cannot see absl::Mutex
  // and would miss races around it (tests/grpc/background_test.cc).
  std::mutex mu_;
  std::condition_variable committed_;
  // Guarded by mu_.
  int64_t latest_ = 0;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_CHANGE_FEED_H_
