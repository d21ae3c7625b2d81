#include "core/journey/account.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace smarketing {

v1::Account SummarizeAccount(absl::string_view domain,
                             const std::vector<AccountLead>& contacts,
                             bool truncated, const v1::Playbook& playbook,
                             const v1::RoutingState& routing) {
  v1::Account account;
  account.set_domain(std::string(domain));
  if (auto it = routing.account_owners().find(std::string(domain));
      it != routing.account_owners().end()) {
    *account.mutable_owner() = it->second;
  }
  account.set_contacts_truncated(truncated);
  absl::flat_hash_map<std::string, v1::CommitteeSeat*> seats;
  for (const v1::Persona& persona : playbook.personas()) {
    v1::CommitteeSeat* seat = account.add_committee();
    seat->set_persona_id(persona.id());
    seats.emplace(persona.id(), seat);
  }
  bool any = false;
  for (const AccountLead& contact : contacts) {
    const v1::ScoreResult& score = contact.state->score;
    const v1::LifecycleStage stage = contact.state->lifecycle.stage();
    v1::AccountContact* out = account.add_contacts();
    out->set_lead_id(contact.lead->id());
    out->set_stage(stage);
    out->set_grade(score.grade());
    out->set_total_score(score.total_score());
    out->set_fit_score(score.fit_score());
    out->set_engagement_score(score.engagement_score());
    out->set_persona_id(score.persona_id());
    out->set_priority(score.priority());
    out->set_team_id(score.routing().team_id());
    out->set_owner_id(score.routing().owner_id());
    out->set_sla_state(score.sla().state());
    if (auto it = seats.find(score.persona_id()); it != seats.end()) {
      it->second->add_lead_ids(contact.lead->id());
    }
    account.set_best_fit_score(any ? std::max(account.best_fit_score(),
                                              score.fit_score())
                                   : score.fit_score());
    any = true;
    account.set_total_engagement_score(account.total_engagement_score() +
                                       score.engagement_score());
    switch (stage) {
      case v1::LIFECYCLE_STAGE_MQL:
      case v1::LIFECYCLE_STAGE_SAL:
      case v1::LIFECYCLE_STAGE_SQL:
      case v1::LIFECYCLE_STAGE_OPPORTUNITY:
        account.set_open_contacts(account.open_contacts() + 1);
        break;
      default:
        break;
    }
    const v1::SlaState sla = score.sla().state();
    if (sla == v1::SLA_STATE_AT_RISK || sla == v1::SLA_STATE_BREACHED) {
      account.set_sla_at_risk_or_breached(account.sla_at_risk_or_breached() +
                                          1);
    }
  }
  return account;
}

}  // namespace smarketing
