// A Playbook for tests of the SLA scheduler, with or without gRPC.
#ifndef SMARKETING_TESTS_GRPC_SLA_TEST_PLAYBOOK_H_
#define SMARKETING_TESTS_GRPC_SLA_TEST_PLAYBOOK_H_

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/playbook/playbook_loader.h"
#include "gtest/gtest.h"
#include "smarketing/v1/playbook.pb.h"

namespace smarketing {

// The demo Playbook with a calendar that works around the clock, so that
// SLA deadlines are wall-clock offsets, and an urgent policy that uses
// every escalation: first touch within 1h; after the breach remind at
// once, reassign at 30m, the manager at 1h, recycle at 2h.
inline v1::Playbook AroundTheClockPlaybook() {
  auto source = LoadPlaybookFile(
      absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml"));
  EXPECT_TRUE(source.ok()) << source.status();
  v1::Playbook playbook = source->playbook;
  v1::BusinessCalendar* calendar =
      playbook.mutable_sla()->mutable_default_calendar();
  calendar->Clear();
  calendar->set_time_zone("UTC");
  for (int day = v1::WEEKDAY_MONDAY; day <= v1::WEEKDAY_SUNDAY; ++day) {
    v1::WorkingHours* hours = calendar->add_working_hours();
    hours->set_weekday(static_cast<v1::Weekday>(day));
    hours->set_start("00:00");
    hours->set_end("23:59");
  }
  for (v1::Team& team : *playbook.mutable_routing()->mutable_teams()) {
    team.clear_calendar();
    for (v1::TeamMember& member : *team.mutable_members()) {
      member.clear_out_of_office();
    }
  }
  for (v1::SlaPolicy& policy : *playbook.mutable_sla()->mutable_policies()) {
    if (policy.priority() != v1::PRIORITY_URGENT) continue;
    policy.mutable_first_touch()->set_seconds(3600);
    policy.mutable_accept_or_reject()->set_seconds(4 * 3600);
    policy.set_at_risk_ratio(0.5);
    policy.clear_escalations();
    const std::pair<int, v1::EscalationAction> steps[] = {
        {0, v1::ESCALATION_ACTION_REMIND_OWNER},
        {1800, v1::ESCALATION_ACTION_REASSIGN},
        {3600, v1::ESCALATION_ACTION_ESCALATE_TO_MANAGER},
        {7200, v1::ESCALATION_ACTION_RECYCLE}};
    for (const auto& [after, action] : steps) {
      v1::EscalationStep* escalation = policy.add_escalations();
      escalation->mutable_after_breach()->set_seconds(after);
      escalation->set_action(action);
    }
  }
  return playbook;
}

}  // namespace smarketing

#endif  // SMARKETING_TESTS_GRPC_SLA_TEST_PLAYBOOK_H_
