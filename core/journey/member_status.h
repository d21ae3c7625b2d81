// What people change about a sales member without a new Playbook version
// (a pause, absences, capacity, teams), checked against the Playbook and
// merged into the member's status that routing reads from the
// RoutingState (see Routing).
#ifndef SMARKETING_CORE_JOURNEY_MEMBER_STATUS_H_
#define SMARKETING_CORE_JOURNEY_MEMBER_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "smarketing/v1/member_status.pb.h"
#include "smarketing/v1/playbook.pb.h"

namespace smarketing {

// Absences one member may have set at once: bounds the routing state.
inline constexpr int kMaxMemberAbsences = 100;

// Sets `fields` ("paused", "out_of_office", "max_open_leads", "teams") of
// `current` to their value in `update`. The member must be a sales member
// of `playbook` unless the update gives their teams; teams must be the
// Playbook's; absences need a start before their end; max_open_leads is in
// [0, 100000]. On any problem: INVALID_ARGUMENT naming the field
// ("status.out_of_office[1].end"), and `current` is unchanged.
absl::Status UpdateMemberStatus(const v1::Playbook& playbook,
                                const v1::MemberStatus& update,
                                absl::Span<const std::string> fields,
                                v1::MemberStatus* current);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_MEMBER_STATUS_H_
