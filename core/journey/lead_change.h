// What a write did to a stored lead, as an entry of the change feed: the
// kinds of change (created, rescored, grade crossed, stage moved, priority
// changed, routed, reassigned, SLA at risk, breached or escalated,
// feedback) found by comparing the lead before and after, and where it
// stands afterwards.
#ifndef SMARKETING_CORE_JOURNEY_LEAD_CHANGE_H_
#define SMARKETING_CORE_JOURNEY_LEAD_CHANGE_H_

#include "core/journey/lead_engine.h"
#include "smarketing/v1/change.pb.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// Describes the change from `before` (nullptr for a new lead) to `after` of
// `lead`, into `change` (cursor, time, actor and revision are the
// caller's). `rescored`: the write rescored the lead; `feedback`: it
// recorded sales feedback. Leaves `change->kinds()` empty when nothing a
// consumer follows changed.
void DescribeLeadChange(const v1::Lead& lead, const LeadState* before,
                        const LeadState& after, bool rescored, bool feedback,
                        v1::Change* change);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_LEAD_CHANGE_H_
