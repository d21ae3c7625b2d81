// The change feed as the service reads it: pages of the store's change log,
// and a wait for the next committed change, so that WatchChanges streams a
// change as soon as it is committed without polling the store.
#ifndef SMARKETING_GRPC_SERVER_CHANGE_FEED_H_
#define SMARKETING_GRPC_SERVER_CHANGE_FEED_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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

 private:
  Store* store_;
  absl::Mutex mu_;
  int64_t latest_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_CHANGE_FEED_H_
