#include "core/journey/sla_listing.h"

#include <algorithm>
#include <tuple>

#include "core/base/proto_time.h"

namespace smarketing {

bool IsListedSlaState(v1::SlaState state, bool breached_only) {
  return state == v1::SLA_STATE_BREACHED ||
         (!breached_only && state == v1::SLA_STATE_AT_RISK);
}

bool operator<(const SlaListingKey& a, const SlaListingKey& b) {
  return std::tie(a.team_id, a.owner_id, a.earliest_due, a.lead_id) <
         std::tie(b.team_id, b.owner_id, b.earliest_due, b.lead_id);
}

SlaListingKey SlaListingKeyOf(absl::string_view lead_id,
                              absl::string_view team_id,
                              absl::string_view owner_id,
                              const v1::SlaStatus& sla) {
  SlaListingKey key{std::string(team_id), std::string(owner_id),
                    absl::InfiniteFuture(), std::string(lead_id)};
  for (const auto& [set, due] :
       {std::make_pair(sla.has_first_touch_due(), &sla.first_touch_due()),
        std::make_pair(sla.has_accept_or_reject_due(),
                       &sla.accept_or_reject_due()),
        std::make_pair(sla.has_feedback_due(), &sla.feedback_due())}) {
    if (set) key.earliest_due = std::min(key.earliest_due, TimeFromProto(*due));
  }
  return key;
}

}  // namespace smarketing
