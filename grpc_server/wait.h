// A wait of an absl::Duration on a std::condition_variable, which takes a
// std::chrono duration and overflows on the longest ones.
#ifndef SMARKETING_GRPC_SERVER_WAIT_H_
#define SMARKETING_GRPC_SERVER_WAIT_H_

#include <algorithm>
#include <chrono>

#include "absl/time/time.h"

namespace smarketing {

// `timeout`, at most a year (an infinite tick waits for Stop in practice).
inline std::chrono::nanoseconds WaitTimeout(absl::Duration timeout) {
  return absl::ToChronoNanoseconds(
      std::clamp(timeout, absl::ZeroDuration(), absl::Hours(24 * 365)));
}

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_WAIT_H_
