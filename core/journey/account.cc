#include "core/journey/account.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/journey/routing.h"

namespace smarketing {

namespace {

double Hundredths(double x) { return std::round(x * 100) / 100; }

double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + d.nanos() * 1e-9;
}

// What `contact` adds to its account's engagement at `now`.
double ContactEngagement(const v1::AccountScoring& scoring, double half_life,
                         const AccountScoreInput& contact, absl::Time now) {
  const double age =
      std::max(0.0, absl::ToDoubleSeconds(now - contact.scored_at));
  const double decayed = contact.engagement * std::exp2(-age / half_life);
  return scoring.has_max_contact_engagement()
             ? std::min(decayed, scoring.max_contact_engagement())
             : decayed;
}

double HalfLife(const v1::Playbook& playbook) {
  const v1::AccountScoring& a = playbook.account_scoring();
  return Seconds(a.has_half_life() ? a.half_life()
                                   : playbook.engagement().half_life());
}

bool Counted(const v1::AccountScoring& scoring,
             const AccountScoreInput& contact) {
  return !contact.disqualified || scoring.include_disqualified();
}

}  // namespace

AccountScoreInput AccountScoreInputOf(const v1::ScoreResult& score,
                                      v1::LifecycleStage stage) {
  AccountScoreInput in;
  in.fit = score.fit_score();
  in.engagement = score.engagement_score();
  if (score.has_scored_at()) {
    in.scored_at = TimeFromProto(score.scored_at());
  }
  in.disqualified = stage == v1::LIFECYCLE_STAGE_DISQUALIFIED;
  return in;
}

std::optional<v1::AccountScore> ScoreAccount(
    const v1::Playbook& playbook, absl::Span<const AccountScoreInput> contacts,
    absl::Time now) {
  if (!playbook.has_account_scoring()) return std::nullopt;
  const v1::AccountScoring& a = playbook.account_scoring();
  const double half_life = HalfLife(playbook);
  int counted = 0;
  double best_fit = 0;
  double fit_sum = 0;
  double engagement = 0;
  for (const AccountScoreInput& contact : contacts) {
    if (!Counted(a, contact)) continue;
    best_fit = counted == 0 ? contact.fit : std::max(best_fit, contact.fit);
    fit_sum += contact.fit;
    ++counted;
    engagement += ContactEngagement(a, half_life, contact, now);
  }
  const double fit =
      counted == 0 ? 0
      : a.fit_aggregation() == v1::ACCOUNT_FIT_AGGREGATION_AVERAGE
          ? fit_sum / counted
          : best_fit;
  engagement = std::clamp(engagement, 0.0, a.max_engagement());
  const double fit_weight = a.has_fit_weight() ? a.fit_weight() : 1;
  const double engagement_weight =
      a.has_engagement_weight() ? a.engagement_weight() : 1;
  v1::AccountScore out;
  out.set_fit(Hundredths(fit));
  out.set_engagement(Hundredths(engagement));
  out.set_score(Hundredths(fit_weight * fit + engagement_weight * engagement));
  out.set_contacts_counted(counted);
  // Bands tile the score's range (validation): the band holding the
  // score, the top one for its maximum, the nearest one outside the range
  // (a contact's fit reported as 0 below the fit's minimum).
  const v1::AccountGradeBand* lowest = nullptr;
  const v1::AccountGradeBand* highest = nullptr;
  for (const v1::AccountGradeBand& band : a.grade_bands()) {
    if (lowest == nullptr || band.min_score() < lowest->min_score()) {
      lowest = &band;
    }
    if (highest == nullptr || band.max_score() > highest->max_score()) {
      highest = &band;
    }
    if (out.score() >= band.min_score() && out.score() < band.max_score()) {
      out.set_grade(band.grade());
    }
  }
  if (out.grade().empty() && highest != nullptr) {
    out.set_grade(out.score() < lowest->min_score() ? lowest->grade()
                                                    : highest->grade());
  }
  return out;
}

bool SameAccountContribution(const v1::Playbook& playbook,
                             const AccountScoreInput& a,
                             const AccountScoreInput& b, absl::Time now) {
  if (!playbook.has_account_scoring()) return true;
  const v1::AccountScoring& scoring = playbook.account_scoring();
  if (Counted(scoring, a) != Counted(scoring, b)) return false;
  if (!Counted(scoring, a)) return true;
  const double half_life = HalfLife(playbook);
  return a.fit == b.fit && ContactEngagement(scoring, half_life, a, now) ==
                               ContactEngagement(scoring, half_life, b, now);
}

bool AccountScoreChanged(const std::optional<v1::AccountScore>& a,
                         const std::optional<v1::AccountScore>& b) {
  if (a.has_value() != b.has_value()) return true;
  if (!a.has_value()) return false;
  return a->score() != b->score() || a->grade() != b->grade();
}

v1::Account SummarizeAccount(absl::string_view domain,
                             const std::vector<AccountLead>& contacts,
                             bool truncated, const v1::Playbook& playbook,
                             const v1::RoutingState& routing, absl::Time now) {
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
  std::vector<AccountScoreInput> inputs;
  inputs.reserve(contacts.size());
  for (const AccountLead& contact : contacts) {
    const v1::ScoreResult& score = contact.state->score;
    const v1::LifecycleStage stage = contact.state->lifecycle.stage();
    inputs.push_back(AccountScoreInputOf(score, stage));
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
    account.set_best_fit_score(
        any ? std::max(account.best_fit_score(), score.fit_score())
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
  if (auto score = ScoreAccount(playbook, inputs, now)) {
    *account.mutable_score() = *std::move(score);
  }
  return account;
}

namespace {

// Whether `member_id` takes leads as a sales member of `team`: by their
// status's teams when they were moved, else by the Playbook.
bool SalesMemberOf(const v1::Team& team, const std::string& member_id,
                   const v1::RoutingState& routing) {
  if (auto it = routing.members().find(member_id);
      it != routing.members().end() && it->second.has_teams()) {
    const auto& ids = it->second.teams().team_ids();
    return std::find(ids.begin(), ids.end(), team.id()) != ids.end();
  }
  for (const v1::TeamMember& member : team.members()) {
    if (member.id() == member_id) {
      return member.role() == v1::MEMBER_ROLE_SALES;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<int> SetAccountOwners(
    const v1::Playbook& playbook,
    const google::protobuf::RepeatedPtrField<v1::AccountOwnerAssignment>&
        owners,
    v1::RoutingState* routing) {
  if (owners.size() > kMaxAccountOwnersPerRequest) {
    return FieldError("owners",
                      absl::StrCat("has ", owners.size(), " entries; at most ",
                                   kMaxAccountOwnersPerRequest));
  }
  absl::flat_hash_map<std::string, const v1::Team*> teams;
  for (const v1::Team& team : playbook.routing().teams()) {
    teams.emplace(team.id(), &team);
  }
  ProblemList problems;
  for (int i = 0; i < owners.size(); ++i) {
    const v1::AccountOwnerAssignment& owner = owners[i];
    const std::string path = absl::StrCat("owners[", i, "]");
    if (AccountKey(owner.domain()).empty()) {
      problems.Add(absl::StrCat(path, ".domain"), "required");
    }
    if (owner.team_id().empty() && owner.owner_id().empty()) continue;
    auto team = teams.find(owner.team_id());
    if (team == teams.end()) {
      problems.Add(absl::StrCat(path, ".team_id"),
                   absl::StrCat("not a team of the active Playbook: \"",
                                owner.team_id(), "\""));
    } else if (!SalesMemberOf(*team->second, owner.owner_id(), *routing)) {
      problems.Add(absl::StrCat(path, ".owner_id"),
                   absl::StrCat("not a sales member of team ", owner.team_id(),
                                ": \"", owner.owner_id(), "\""));
    }
  }
  if (auto st = problems.ToStatus("the account owners are not valid");
      !st.ok()) {
    return st;
  }
  int changed = 0;
  auto& accounts = *routing->mutable_account_owners();
  for (const v1::AccountOwnerAssignment& owner : owners) {
    const std::string key = AccountKey(owner.domain());
    auto it = accounts.find(key);
    if (owner.team_id().empty() && owner.owner_id().empty()) {
      if (it != accounts.end()) {
        accounts.erase(it);
        ++changed;
      }
      continue;
    }
    if (it != accounts.end() && it->second.team_id() == owner.team_id() &&
        it->second.owner_id() == owner.owner_id()) {
      continue;
    }
    v1::AccountOwner& stored = accounts[key];
    stored.set_team_id(owner.team_id());
    stored.set_owner_id(owner.owner_id());
    ++changed;
  }
  return changed;
}

}  // namespace smarketing
