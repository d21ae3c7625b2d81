#include "core/journey/routing.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

int32_t OpenLeads(const v1::RoutingState& state, const std::string& owner) {
  const auto it = state.open_leads().find(owner);
  return it == state.open_leads().end() ? 0 : it->second;
}

// What people changed about the member since the Playbook; nullptr when
// nothing.
const v1::MemberStatus* StatusOf(const v1::RoutingState& state,
                                 const std::string& member_id) {
  if (state.members().empty()) return nullptr;
  const auto it = state.members().find(member_id);
  return it == state.members().end() ? nullptr : &it->second;
}

bool InTeam(const v1::MemberStatus& status, absl::string_view team_id) {
  const auto& ids = status.teams().team_ids();
  return std::find(ids.begin(), ids.end(), team_id) != ids.end();
}

// The explanation, without the blank its last sentence left for a next.
void SetExplanation(std::string explanation, v1::RoutingDecision* decision) {
  while (!explanation.empty() && explanation.back() == ' ') {
    explanation.pop_back();
  }
  decision->set_explanation(std::move(explanation));
}

}  // namespace

std::string AccountKey(absl::string_view domain) {
  domain = absl::StripAsciiWhitespace(domain);
  std::string key = absl::AsciiStrToLower(domain);
  absl::string_view view(key);
  absl::ConsumePrefix(&view, "www.");
  absl::ConsumeSuffix(&view, ".");
  return std::string(view);
}

bool Routing::Compile(const v1::Routing& routing, const std::string& path,
                      const absl::flat_hash_set<std::string>& persona_ids,
                      std::shared_ptr<const BusinessCalendar> default_calendar,
                      SlotTable* attributes, SlotTable* properties,
                      ProblemList* problems) {
  const int before = problems->size();
  match_account_owner_ = routing.match_account_owner();
  teams_.clear();
  team_index_.clear();
  rules_.clear();
  fallback_ = -1;

  for (int i = 0; i < routing.teams_size(); ++i) {
    CompileTeam(routing.teams(i), i, path, default_calendar, problems);
  }
  absl::flat_hash_map<std::string, int> rule_ids;
  for (int k = 0; k < routing.rules_size(); ++k) {
    CompileRule(routing.rules(k), k, path, persona_ids, &rule_ids, attributes,
                properties, problems);
  }

  if (routing.fallback_team_id().empty()) {
    if (!routing.rules().empty()) {
      problems->Add(path + ".fallback_team_id",
                    "required when rules exist: it receives what no rule "
                    "matched and what a team could not take");
    }
  } else if ((fallback_ = FindTeam(routing.fallback_team_id())) < 0) {
    problems->Add(path + ".fallback_team_id",
                  absl::StrCat("unknown team \"", routing.fallback_team_id(),
                               "\"; ", TeamIds()));
  }
  return problems->size() == before;
}

void Routing::CompileTeam(
    const v1::Team& proto, int i, const std::string& path,
    std::shared_ptr<const BusinessCalendar> default_calendar,
    ProblemList* problems) {
  const std::string team_path = absl::StrCat(path, ".teams[", i, "]");
  Team& team = teams_.emplace_back();
  team.id = proto.id();
  team.strategy = proto.strategy();
  team.manager_id = proto.manager_id();
  if (team.id.empty()) {
    problems->Add(team_path + ".id", "an id is required");
  } else if (auto [it, inserted] = team_index_.emplace(team.id, i); !inserted) {
    problems->Add(
        team_path + ".id",
        absl::StrCat("duplicate id \"", team.id, "\", already used at ", path,
                     ".teams[", it->second, "].id"));
  }
  if (team.strategy == v1::ASSIGNMENT_STRATEGY_UNSPECIFIED) {
    problems->Add(team_path + ".strategy",
                  "required: round_robin, weighted or capacity");
  } else if (!v1::AssignmentStrategy_IsValid(team.strategy)) {
    problems->Add(team_path + ".strategy",
                  absl::StrCat("unknown strategy ", team.strategy));
  }

  absl::flat_hash_map<std::string, int> member_ids;
  for (int j = 0; j < proto.members_size(); ++j) {
    const v1::TeamMember& m = proto.members(j);
    const std::string member_path =
        absl::StrCat(team_path, ".members[", j, "]");
    if (m.id().empty()) {
      problems->Add(member_path + ".id", "an id is required");
    } else if (auto [it, inserted] = member_ids.emplace(m.id(), j); !inserted) {
      problems->Add(
          member_path + ".id",
          absl::StrCat("duplicate id \"", m.id(), "\", already used at ",
                       team_path, ".members[", it->second, "].id"));
    }
    Member member = CompileMember(m, member_path, team.strategy, problems);
    if (m.role() == v1::MEMBER_ROLE_SALES)
      team.sales.push_back(std::move(member));
  }

  if (proto.has_calendar()) {
    auto calendar = std::make_shared<BusinessCalendar>();
    if (calendar->Compile(proto.calendar(), team_path + ".calendar",
                          problems)) {
      team.calendar = std::move(calendar);
    }
  } else {
    team.calendar = default_calendar;
  }
}

Routing::Member Routing::CompileMember(const v1::TeamMember& m,
                                       const std::string& member_path,
                                       v1::AssignmentStrategy strategy,
                                       ProblemList* problems) {
  if (m.role() == v1::MEMBER_ROLE_UNSPECIFIED) {
    problems->Add(member_path + ".role", "required: sales or marketing");
  } else if (!v1::MemberRole_IsValid(m.role())) {
    problems->Add(member_path + ".role",
                  absl::StrCat("unknown role ", m.role()));
  }
  if (!std::isfinite(m.weight()) || m.weight() < 0) {
    problems->Add(member_path + ".weight", "must be a finite number >= 0");
  }
  if (strategy == v1::ASSIGNMENT_STRATEGY_CAPACITY &&
      m.role() == v1::MEMBER_ROLE_SALES && m.max_open_leads() <= 0) {
    problems->Add(member_path + ".max_open_leads",
                  "must be > 0 under the capacity strategy");
  } else if (m.max_open_leads() < 0) {
    problems->Add(member_path + ".max_open_leads", "must not be negative");
  }
  Member member;
  member.id = m.id();
  member.weight = m.weight();
  member.max_open_leads = m.max_open_leads();
  member.available = m.available();
  for (int k = 0; k < m.out_of_office_size(); ++k) {
    const v1::TimeInterval& leave = m.out_of_office(k);
    const std::string leave_path =
        absl::StrCat(member_path, ".out_of_office[", k, "]");
    bool ok = true;
    for (const auto& [field, has, value] :
         {std::tuple("start", leave.has_start(), &leave.start()),
          std::tuple("end", leave.has_end(), &leave.end())}) {
      if (!has) {
        problems->Add(absl::StrCat(leave_path, ".", field), "required");
        ok = false;
      } else if (!IsValidTimestamp(*value)) {
        problems->Add(absl::StrCat(leave_path, ".", field),
                      "not a valid timestamp");
        ok = false;
      }
    }
    if (!ok) continue;
    const absl::Time start = TimeFromProto(leave.start());
    const absl::Time end = TimeFromProto(leave.end());
    if (end <= start) {
      problems->Add(leave_path + ".end", "must be after start");
      continue;
    }
    member.out_of_office.emplace_back(start, end);
  }
  return member;
}

void Routing::CompileRule(const v1::RoutingRule& proto, int k,
                          const std::string& path,
                          const absl::flat_hash_set<std::string>& persona_ids,
                          absl::flat_hash_map<std::string, int>* rule_ids,
                          SlotTable* attributes, SlotTable* properties,
                          ProblemList* problems) {
  const std::string rule_path = absl::StrCat(path, ".rules[", k, "]");
  Rule& rule = rules_.emplace_back();
  rule.id = proto.id();
  rule.description = proto.description();
  if (rule.id.empty()) {
    problems->Add(rule_path + ".id", "an id is required");
  } else if (auto [it, inserted] = rule_ids->emplace(rule.id, k); !inserted) {
    problems->Add(
        rule_path + ".id",
        absl::StrCat("duplicate id \"", rule.id, "\", already used at ", path,
                     ".rules[", it->second, "].id"));
  }
  if (!proto.has_when()) {
    problems->Add(rule_path + ".when", "a condition is required");
  } else {
    rule.when.Compile(proto.when(), FieldScope::kLead, rule_path + ".when",
                      problems, attributes, properties);
  }
  if (proto.team_id().empty()) {
    problems->Add(rule_path + ".team_id", "required: the team it sends to");
  } else if ((rule.team = FindTeam(proto.team_id())) < 0) {
    problems->Add(
        rule_path + ".team_id",
        absl::StrCat("unknown team \"", proto.team_id(), "\"; ", TeamIds()));
  }
  for (int m = 0; m < proto.persona_ids_size(); ++m) {
    const std::string& persona = proto.persona_ids(m);
    if (!persona_ids.contains(persona)) {
      problems->Add(absl::StrCat(rule_path, ".persona_ids[", m, "]"),
                    absl::StrCat("unknown persona \"", persona, "\""));
    }
    rule.persona_ids.push_back(persona);
  }
}

std::string Routing::TeamIds() const {
  std::string ids;
  for (int i = 0; i < static_cast<int>(teams_.size()); ++i) {
    if (FindTeam(teams_[i].id) == i) {
      absl::StrAppend(&ids, ids.empty() ? "" : ", ", teams_[i].id);
    }
  }
  return ids.empty() ? "there are no teams" : absl::StrCat("teams: ", ids);
}

int Routing::FindTeam(absl::string_view id) const {
  const auto it = team_index_.find(id);
  return it == team_index_.end() ? -1 : it->second;
}

const BusinessCalendar* Routing::TeamCalendar(absl::string_view team_id) const {
  const int team = FindTeam(team_id);
  return team < 0 ? nullptr : teams_[team].calendar.get();
}

absl::string_view Routing::TeamManager(absl::string_view team_id) const {
  const int team = FindTeam(team_id);
  return team < 0 ? absl::string_view() : teams_[team].manager_id;
}

const char* Routing::Unavailability(const Team& team, const Member& member,
                                    absl::Time now, bool team_working,
                                    const v1::RoutingState& state) const {
  if (!member.available) return "unavailable";
  for (const auto& [start, end] : member.out_of_office) {
    if (now >= start && now < end) return "out of office";
  }
  if (const v1::MemberStatus* status = StatusOf(state, member.id)) {
    if (status->paused()) return "paused";
    for (const v1::TimeInterval& away : status->out_of_office()) {
      if (now >= TimeFromProto(away.start()) &&
          now < TimeFromProto(away.end())) {
        return "out of office";
      }
    }
  }
  if (!team_working) return "outside working hours";
  if (team.strategy == v1::ASSIGNMENT_STRATEGY_CAPACITY &&
      OpenLeads(state, member.id) >= MaxOpenLeads(member, state)) {
    return "at capacity";
  }
  return nullptr;
}

int32_t Routing::MaxOpenLeads(const Member& member,
                              const v1::RoutingState& state) {
  const v1::MemberStatus* status = StatusOf(state, member.id);
  return status != nullptr && status->max_open_leads() > 0
             ? status->max_open_leads()
             : member.max_open_leads;
}

std::vector<Routing::Member> Routing::Roster(
    const Team& team, const v1::RoutingState& state) const {
  std::vector<Member> roster;
  for (const Member& m : team.sales) {
    const v1::MemberStatus* status = StatusOf(state, m.id);
    if (status != nullptr && status->has_teams() && !InTeam(*status, team.id)) {
      continue;
    }
    roster.push_back(m);
  }
  // Members people added to the team, by id: the state's map has no order.
  std::vector<Member> added;
  for (const auto& [id, status] : state.members()) {
    if (!status.has_teams() || !InTeam(status, team.id)) continue;
    const bool listed =
        std::any_of(team.sales.begin(), team.sales.end(),
                    [&id = id](const Member& m) { return m.id == id; });
    if (listed) continue;
    // Someone the Playbook knows in another team keeps their weight and
    // capacity there; a newcomer gets weight 1.
    Member member;
    member.id = id;
    member.weight = 1;
    member.available = true;
    for (const Team& other : teams_) {
      for (const Member& m : other.sales) {
        if (m.id == id) member = m;
      }
    }
    added.push_back(std::move(member));
  }
  std::sort(added.begin(), added.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
  for (Member& m : added) roster.push_back(std::move(m));
  return roster;
}

const std::vector<Routing::Member>& Routing::Sales(
    const Team& team, const v1::RoutingState& state,
    std::vector<Member>* roster) const {
  if (state.members().empty()) return team.sales;
  *roster = Roster(team, state);
  return *roster;
}

bool Routing::Working(const Team& team, absl::Time now) {
  return team.calendar == nullptr || team.calendar->IsWorking(now);
}

std::string Routing::Assign(const Team& team, absl::string_view excluded,
                            absl::Time now, v1::RoutingState* state,
                            std::string* explanation) const {
  std::vector<Member> roster;
  const std::vector<Member>& sales = Sales(team, *state, &roster);
  if (sales.empty()) {
    absl::StrAppend(explanation, "Team ", team.id, " has no sales member. ");
    return "";
  }
  v1::TeamRotation& rotation = (*state->mutable_teams())[team.id];
  std::string skipped;
  const absl::InlinedVector<int, 16> eligible =
      EligibleMembers(team, sales, excluded, now, *state, &skipped);
  if (eligible.empty()) {
    absl::StrAppend(explanation, "Nobody in team ", team.id,
                    " can take the lead", skipped.empty() ? "" : ": ", skipped,
                    ". ");
    return "";
  }
  const Member& owner =
      sales[PickMember(team, sales, eligible, rotation.members(), *state)];
  RecordAssignment(team, sales, eligible, owner, skipped, &rotation, state,
                   explanation);
  return owner.id;
}

absl::InlinedVector<int, 16> Routing::EligibleMembers(
    const Team& team, const std::vector<Member>& sales,
    absl::string_view excluded, absl::Time now, const v1::RoutingState& state,
    std::string* skipped) const {
  const bool working = Working(team, now);
  absl::InlinedVector<int, 16> eligible;
  for (int i = 0; i < static_cast<int>(sales.size()); ++i) {
    const Member& m = sales[i];
    if (m.id == excluded) continue;
    const char* why = Unavailability(team, m, now, working, state);
    if (why == nullptr && team.strategy == v1::ASSIGNMENT_STRATEGY_WEIGHTED &&
        m.weight <= 0) {
      why = "weight 0";
    }
    if (why != nullptr) {
      absl::StrAppend(skipped, skipped->empty() ? "" : ", ", m.id, " (", why,
                      ")");
      continue;
    }
    eligible.push_back(i);
  }
  return eligible;
}

int Routing::PickMember(
    const Team& team, const std::vector<Member>& sales,
    absl::Span<const int> eligible,
    const google::protobuf::Map<std::string, v1::MemberRotation>& rotations,
    const v1::RoutingState& state) {
  static const v1::MemberRotation kNeverAssigned;
  auto rotation_of = [&](const Member& m) -> const v1::MemberRotation& {
    const auto it = rotations.find(m.id);
    return it == rotations.end() ? kNeverAssigned : it->second;
  };
  int best = eligible[0];
  for (int i : eligible.subspan(1)) {
    const Member& m = sales[i];
    const v1::MemberRotation& mine = rotation_of(m);
    const v1::MemberRotation& theirs = rotation_of(sales[best]);
    bool better = false;
    switch (team.strategy) {
      case v1::ASSIGNMENT_STRATEGY_WEIGHTED:
        better = mine.weighted_credit() + m.weight >
                 theirs.weighted_credit() + sales[best].weight;
        break;
      case v1::ASSIGNMENT_STRATEGY_CAPACITY: {
        const int64_t room = MaxOpenLeads(m, state) - OpenLeads(state, m.id);
        const int64_t best_room =
            MaxOpenLeads(sales[best], state) - OpenLeads(state, sales[best].id);
        better = room > best_room ||
                 (room == best_room &&
                  mine.last_assignment() < theirs.last_assignment());
        break;
      }
      default:
        better = mine.last_assignment() < theirs.last_assignment();
        break;
    }
    if (better) best = i;
  }
  return best;
}

void Routing::RecordAssignment(const Team& team,
                               const std::vector<Member>& sales,
                               absl::Span<const int> eligible,
                               const Member& owner, const std::string& skipped,
                               v1::TeamRotation* rotation,
                               v1::RoutingState* state,
                               std::string* explanation) {
  auto& rotations = *rotation->mutable_members();
  const int32_t open_before = OpenLeads(*state, owner.id);
  switch (team.strategy) {
    case v1::ASSIGNMENT_STRATEGY_WEIGHTED: {
      // Smooth weighted round-robin: everyone eligible earns their weight,
      // the chosen one pays the total.
      double total_weight = 0;
      for (int i : eligible) {
        total_weight += sales[i].weight;
        v1::MemberRotation& r = rotations[sales[i].id];
        r.set_weighted_credit(r.weighted_credit() + sales[i].weight);
      }
      rotations[owner.id].set_weighted_credit(
          rotations[owner.id].weighted_credit() - total_weight);
      absl::StrAppend(explanation, "Weighted: ", owner.id, " (weight ",
                      owner.weight, " of ", total_weight,
                      " among the available members)");
      break;
    }
    case v1::ASSIGNMENT_STRATEGY_CAPACITY:
      absl::StrAppend(explanation, "Capacity: ", owner.id,
                      " has the most room (", open_before, " of ",
                      MaxOpenLeads(owner, *state), " open leads)");
      break;
    default:
      absl::StrAppend(explanation, "Round-robin: ", owner.id,
                      " is the available member assigned longest ago");
      break;
  }
  if (!skipped.empty()) absl::StrAppend(explanation, "; skipped ", skipped);
  explanation->append(". ");

  rotation->set_assignments(rotation->assignments() + 1);
  v1::MemberRotation& chosen = rotations[owner.id];
  chosen.set_last_assignment(rotation->assignments());
  chosen.set_assigned(chosen.assigned() + 1);
  (*state->mutable_open_leads())[owner.id] = open_before + 1;
}

v1::RoutingDecision Routing::Route(const EvalContext& lead,
                                   absl::string_view persona_id, absl::Time now,
                                   v1::RoutingState* state) const {
  v1::RoutingDecision decision;
  std::string explanation;
  std::string account;
  if (match_account_owner_) {
    account = AccountKey(lead.lead->company().domain());
  }
  if (!account.empty() &&
      RouteToAccountOwner(account, now, state, &decision, &explanation)) {
    return decision;
  }
  const Rule* matched = MatchingRule(lead, persona_id);
  std::string owner;
  if (matched != nullptr) {
    const Team& team = teams_[matched->team];
    absl::StrAppend(&explanation, "Rule ", matched->id);
    if (!matched->description.empty()) {
      absl::StrAppend(&explanation, " (", matched->description, ")");
    }
    absl::StrAppend(&explanation, " matched: team ", team.id, ". ");
    owner = Assign(team, "", now, state, &explanation);
    decision.set_team_id(team.id);
    decision.set_strategy(team.strategy);
    if (!owner.empty()) {
      decision.set_reason(v1::ROUTING_REASON_RULE);
      decision.set_rule_id(matched->id);
    }
  } else {
    explanation.append("No rule matched. ");
  }
  if (owner.empty()) {
    owner = RouteToFallback(matched, now, state, &decision, &explanation);
  }
  if (!owner.empty()) {
    if (!account.empty() && !state->account_owners().contains(account)) {
      v1::AccountOwner& recorded = (*state->mutable_account_owners())[account];
      recorded.set_team_id(decision.team_id());
      recorded.set_owner_id(owner);
    }
    decision.set_owner_id(std::move(owner));
  }
  SetExplanation(std::move(explanation), &decision);
  return decision;
}

bool Routing::RouteToAccountOwner(const std::string& account, absl::Time now,
                                  v1::RoutingState* state,
                                  v1::RoutingDecision* decision,
                                  std::string* explanation) const {
  const auto it = state->account_owners().find(account);
  if (it == state->account_owners().end()) return false;
  const v1::AccountOwner& known = it->second;
  const int team = FindTeam(known.team_id());
  const Member* member = nullptr;
  std::vector<Member> roster;
  if (team >= 0) {
    for (const Member& m : Sales(teams_[team], *state, &roster)) {
      if (m.id == known.owner_id()) member = &m;
    }
  }
  if (member == nullptr) {
    absl::StrAppend(explanation, "The owner of account ", account, ", ",
                    known.owner_id(), ", is no longer a sales member of ",
                    "team ", known.team_id(), ". ");
    return false;
  }
  const Team& t = teams_[team];
  if (const char* why =
          Unavailability(t, *member, now, Working(t, now), *state)) {
    absl::StrAppend(explanation, "The owner of account ", account, ", ",
                    member->id, " (team ", t.id, "), is ", why, ". ");
    return false;
  }
  decision->set_team_id(t.id);
  decision->set_owner_id(member->id);
  decision->set_reason(v1::ROUTING_REASON_ACCOUNT_OWNER);
  absl::StrAppend(explanation, "Account ", account, " belongs to ", member->id,
                  " (team ", t.id, ").");
  decision->set_explanation(std::move(*explanation));
  ++(*state->mutable_open_leads())[member->id];
  return true;
}

const Routing::Rule* Routing::MatchingRule(const EvalContext& lead,
                                           absl::string_view persona_id) const {
  for (const Rule& rule : rules_) {
    if (!rule.persona_ids.empty() &&
        std::find(rule.persona_ids.begin(), rule.persona_ids.end(),
                  persona_id) == rule.persona_ids.end()) {
      continue;
    }
    if (rule.when.Matches(lead)) return &rule;
  }
  return nullptr;
}

std::string Routing::RouteToFallback(const Rule* matched, absl::Time now,
                                     v1::RoutingState* state,
                                     v1::RoutingDecision* decision,
                                     std::string* explanation) const {
  decision->set_reason(v1::ROUTING_REASON_FALLBACK);
  if (fallback_ < 0) {
    decision->clear_team_id();
    decision->clear_strategy();
    explanation->append(
        "The Playbook names no fallback team: the lead is unassigned.");
    return "";
  }
  const Team& fallback = teams_[fallback_];
  absl::StrAppend(explanation, "Fallback team ", fallback.id, ". ");
  std::string owner;
  if (matched == nullptr || matched->team != fallback_) {
    owner = Assign(fallback, "", now, state, explanation);
  }
  decision->set_team_id(fallback.id);
  decision->set_strategy(fallback.strategy);
  if (owner.empty()) {
    absl::StrAppend(explanation, "The lead waits in team ", fallback.id,
                    "'s queue.");
  }
  return owner;
}

absl::StatusOr<v1::RoutingDecision> Routing::Reassign(
    const v1::RoutingDecision& current, absl::Time now,
    v1::RoutingState* state) const {
  const int team = FindTeam(current.team_id());
  if (team < 0) {
    return absl::NotFoundError(absl::StrCat("team \"", current.team_id(),
                                            "\" is no longer in the Playbook"));
  }
  std::string explanation;
  std::string owner =
      Assign(teams_[team], current.owner_id(), now, state, &explanation);
  v1::RoutingDecision decision = current;
  if (owner.empty()) {
    absl::StrAppend(&explanation, "It stays ",
                    current.owner_id().empty()
                        ? "in the team's queue."
                        : absl::StrCat("with ", current.owner_id(), "."));
  } else {
    if (!current.owner_id().empty()) {
      // The previous owner may predate the state; nothing to free then.
      RecordLeadClosed(current.owner_id(), state).IgnoreError();
      explanation = absl::StrCat("Reassigned from ", current.owner_id(), ". ",
                                 explanation);
    }
    decision.set_owner_id(std::move(owner));
    decision.set_strategy(teams_[team].strategy);
  }
  SetExplanation(std::move(explanation), &decision);
  return decision;
}

bool Routing::AnyoneCanTakeLeads(absl::Time now,
                                 const v1::RoutingState& state) const {
  for (const Team& team : teams_) {
    std::vector<Member> roster;
    std::string skipped;
    if (!EligibleMembers(team, Sales(team, state, &roster), "", now, state,
                         &skipped)
             .empty()) {
      return true;
    }
  }
  return false;
}

absl::Status RecordLeadClosed(absl::string_view owner_id,
                              v1::RoutingState* state) {
  auto& open = *state->mutable_open_leads();
  const auto it = open.find(std::string(owner_id));
  if (it == open.end() || it->second <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no open lead is recorded for owner \"", owner_id, "\""));
  }
  if (--it->second == 0) open.erase(it);
  return absl::OkStatus();
}

}  // namespace smarketing
