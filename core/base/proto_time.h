// Conversions between protobuf's Timestamp and Duration and abseil's time
// types, with the range checks that Playbooks and requests need.
#ifndef SMARKETING_CORE_BASE_PROTO_TIME_H_
#define SMARKETING_CORE_BASE_PROTO_TIME_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace smarketing {

// google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z.
inline constexpr int64_t kMinTimestampSeconds = -62135596800;
inline constexpr int64_t kMaxTimestampSeconds = 253402300799;

// Timestamps from 0001-01-01 to 9999-12-31 UTC with nanos in [0, 1e9), as
// google/protobuf/timestamp.proto defines them.
bool IsValidTimestamp(const google::protobuf::Timestamp& t);

// Assumes a valid timestamp.
absl::Time TimeFromProto(const google::protobuf::Timestamp& t);

// Infinite times and times outside the Timestamp range are clamped to it.
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out);

// nullopt when malformed: nanos outside (-1e9, 1e9) or of the other sign
// than seconds.
std::optional<absl::Duration> DurationFromProto(
    const google::protobuf::Duration& d);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_PROTO_TIME_H_
