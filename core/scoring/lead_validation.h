// Checks a lead before anything reads it: a malformed lead is refused with
// the path of the first bad field, never scored or stored half-way.
#ifndef SMARKETING_CORE_SCORING_LEAD_VALIDATION_H_
#define SMARKETING_CORE_SCORING_LEAD_VALIDATION_H_

#include <cstddef>

#include "absl/status/status.h"
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

}  // namespace smarketing

#endif  // SMARKETING_CORE_SCORING_LEAD_VALIDATION_H_
