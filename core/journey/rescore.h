// Re-evaluating the stored leads with a Playbook version: when a pass over
// them is due (a version was activated, or the periodic refresh is due as
// engagement decays), and what a pass keeps of a lead evaluated again. The
// service runs the passes in batches; the decisions are here.
#ifndef SMARKETING_CORE_JOURNEY_RESCORE_H_
#define SMARKETING_CORE_JOURNEY_RESCORE_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "core/journey/lead_engine.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/rescore.pb.h"

namespace smarketing {

// The pass to start at `now`, numbered after `latest` (nullptr when no pass
// ever ran), RUNNING, with its reason, version and start; the caller sets
// leads_total. Due when no pass ran yet, when `active_playbook` is not the
// version of the latest pass (activated since, even while that pass runs),
// or when the latest pass is done and `refresh_interval` (> 0; zero turns
// the refresh off) has passed since it started. nullopt otherwise: the
// latest pass goes on, or nothing is due.
std::optional<v1::RescoreStatus> NextRescorePass(
    const v1::RescoreStatus* latest, int64_t active_playbook, absl::Time now,
    absl::Duration refresh_interval);

// Whether a pass for `reason` stores the lead evaluated again (`after`)
// in place of what is stored (`before`). An activation keeps any
// difference, so that the stored result is the new version's; a refresh
// keeps only a change a consumer of the change feed follows (grade, stage,
// priority, routing, SLA state), so that leads whose engagement decayed
// without crossing anything are not rewritten.
bool RescoreKeeps(v1::RescoreReason reason, const v1::Lead& lead,
                  const LeadState& before, const LeadState& after);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_RESCORE_H_
