// Which leads the SLA listings show and in which order: the leads sales
// must act on now (breached, and at risk unless only breaches are asked
// for), by team and owner, the earliest open deadline first. The service
// only translates this.
#ifndef SMARKETING_CORE_JOURNEY_SLA_LISTING_H_
#define SMARKETING_CORE_JOURNEY_SLA_LISTING_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smarketing/v1/sla_status.pb.h"

namespace smarketing {

// Whether a lead in `state` is listed.
bool IsListedSlaState(v1::SlaState state, bool breached_only);

// A listed lead's place in the listing; compare with operator<.
struct SlaListingKey {
  std::string team_id;
  std::string owner_id;
  // The earliest of the lead's deadlines; InfiniteFuture() when none
  // applies, which sorts last.
  absl::Time earliest_due = absl::InfiniteFuture();
  std::string lead_id;

  friend bool operator<(const SlaListingKey& a, const SlaListingKey& b);
};

SlaListingKey SlaListingKeyOf(absl::string_view lead_id,
                              absl::string_view team_id,
                              absl::string_view owner_id,
                              const v1::SlaStatus& sla);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_SLA_LISTING_H_
