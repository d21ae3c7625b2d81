#include "core/base/proto_time.h"

#include <cstdint>

namespace smarketing {
namespace {

constexpr int32_t kNanosPerSecond = 1000000000;

}  // namespace

bool IsValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= kMinTimestampSeconds &&
         t.seconds() <= kMaxTimestampSeconds && t.nanos() >= 0 &&
         t.nanos() < kNanosPerSecond;
}

absl::Time TimeFromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const absl::Time lowest = absl::FromUnixSeconds(kMinTimestampSeconds);
  const absl::Time highest = absl::FromUnixSeconds(kMaxTimestampSeconds);
  if (t < lowest) t = lowest;
  if (t > highest) t = highest;
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

std::optional<absl::Duration> DurationFromProto(
    const google::protobuf::Duration& d) {
  if (d.nanos() <= -kNanosPerSecond || d.nanos() >= kNanosPerSecond ||
      (d.seconds() > 0 && d.nanos() < 0) ||
      (d.seconds() < 0 && d.nanos() > 0)) {
    return std::nullopt;
  }
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace smarketing
