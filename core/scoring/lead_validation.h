// Checks a lead before anything reads it: a malformed lead is refused with
// the path of the first bad field, never scored or stored half-way.
#ifndef SMARKETING_CORE_SCORING_LEAD_VALIDATION_H_
#define SMARKETING_CORE_SCORING_LEAD_VALIDATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "core/base/flat_lead.h"
#include "core/base/proto_time.h"
#include "smarketing/v1/event.pb.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// Limits that keep a hostile lead from exhausting memory or time.
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxTextBytes = 64 << 10;
inline constexpr int kMaxEventsPerLead = 1000000;
inline constexpr int kMaxValueDepth = 16;

// OK, or INVALID_ARGUMENT naming the field ("events[3].occurred_at") and
// what is wrong, with the problem attached (ProblemsFromStatus).
absl::Status ValidateLead(const v1::Lead& lead);

// The same checks for one event, at `path` ("events[3]").
absl::Status ValidateEvent(const v1::Event& event, absl::string_view path);

// Whether an event's own fields (id, type, custom type, time) pass
// ValidateEvent, for readers that lay events out flat and leave one that
// does not to ValidateEvent, on the slow path. Its properties are the
// reader's to check. Inline: readers call it for every event.
inline bool EventFieldsAreValid(const FlatEvent& event) {
  return !event.id.empty() && event.id.size() <= kMaxIdBytes &&
         event.type != v1::EVENT_TYPE_UNSPECIFIED &&
         v1::EventType_IsValid(event.type) &&
         event.custom_type.size() <= kMaxIdBytes &&
         (event.type != v1::EVENT_TYPE_CUSTOM || !event.custom_type.empty()) &&
         event.seconds >= kMinTimestampSeconds &&
         event.seconds <= kMaxTimestampSeconds && event.nanos >= 0 &&
         event.nanos < 1000000000;
}

}  // namespace smarketing

#endif  // SMARKETING_CORE_SCORING_LEAD_VALIDATION_H_
