#include "core/journey/lead_change.h"

namespace smarketing {

void DescribeLeadChange(const v1::Lead& lead, const LeadState* before,
                        const LeadState& after, bool rescored, bool feedback,
                        v1::Change* change) {
  change->set_lead_id(lead.id());
  *change->mutable_consent() = lead.consent();
  change->set_stage(after.lifecycle.stage());
  change->set_grade(after.score.grade());
  change->set_total_score(after.score.total_score());
  change->set_priority(after.score.priority());
  change->set_team_id(after.score.routing().team_id());
  change->set_owner_id(after.score.routing().owner_id());
  change->set_sla_state(after.score.sla().state());

  auto add = [&](v1::ChangeKind kind) { change->add_kinds(kind); };
  if (before == nullptr) {
    add(v1::CHANGE_KIND_LEAD_CREATED);
  } else if (rescored) {
    add(v1::CHANGE_KIND_LEAD_UPDATED);
  }
  const v1::LifecycleStage old_stage =
      before ? before->lifecycle.stage() : v1::LIFECYCLE_STAGE_UNSPECIFIED;
  change->set_previous_stage(old_stage);
  if (before != nullptr && before->score.grade() != after.score.grade()) {
    add(v1::CHANGE_KIND_THRESHOLD_CROSSED);
  }
  if (old_stage != after.lifecycle.stage()) add(v1::CHANGE_KIND_STAGE_MOVED);
  if (before != nullptr && before->score.priority() != after.score.priority()) {
    add(v1::CHANGE_KIND_PRIORITY_CHANGED);
  }

  const std::string old_owner =
      before ? before->score.routing().owner_id() : std::string();
  const std::string old_team =
      before ? before->score.routing().team_id() : std::string();
  const v1::RoutingDecision& routing = after.score.routing();
  if (old_owner != routing.owner_id() && !routing.owner_id().empty()) {
    change->set_previous_owner_id(old_owner);
    add(old_owner.empty() ? v1::CHANGE_KIND_ROUTED
                          : v1::CHANGE_KIND_REASSIGNED);
  } else if (old_team.empty() && !routing.team_id().empty()) {
    // Routed to a team whose members cannot take it now: it waits in the
    // team's queue.
    add(v1::CHANGE_KIND_ROUTED);
  }

  const v1::SlaState old_sla =
      before ? before->score.sla().state() : v1::SLA_STATE_UNSPECIFIED;
  const v1::SlaState sla = after.score.sla().state();
  if (sla != old_sla) {
    if (sla == v1::SLA_STATE_AT_RISK) add(v1::CHANGE_KIND_SLA_AT_RISK);
    if (sla == v1::SLA_STATE_BREACHED) add(v1::CHANGE_KIND_SLA_BREACHED);
  }
  const int old_actions = before ? before->lifecycle.sla_actions_size() : 0;
  if (after.lifecycle.sla_actions_size() > old_actions) {
    const v1::SlaAction& last = *after.lifecycle.sla_actions().rbegin();
    add(v1::CHANGE_KIND_SLA_ESCALATED);
    change->set_escalation_step(last.step());
    change->set_escalation_action(last.action());
    change->set_manager_id(last.manager_id());
  }
  if (feedback) add(v1::CHANGE_KIND_FEEDBACK_RECORDED);
}

}  // namespace smarketing
