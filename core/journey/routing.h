// Routing of qualified leads to a team (binôme) and an owner, compiled from
// the Playbook: lead-to-account matching first, then the first routing rule
// that matches, then the team's assignment strategy, with a fallback team.
// What routing remembers between leads is a v1::RoutingState that the caller
// keeps and passes in, so a decision is a pure function of the Playbook, the
// lead, that state and the time.
#ifndef SMARKETING_CORE_JOURNEY_ROUTING_H_
#define SMARKETING_CORE_JOURNEY_ROUTING_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/base/problems.h"
#include "core/journey/business_calendar.h"
#include "core/playbook/condition.h"
#include "google/protobuf/map.h"
#include "smarketing/v1/routing.pb.h"
#include "smarketing/v1/routing_decision.pb.h"
#include "smarketing/v1/routing_state.pb.h"

namespace smarketing {

// A sales member takes a lead only when available: `available` is set, no
// out-of-office interval holds the time, and the team's calendar (its own,
// else the SLA's default) is in working hours. What people change without
// a new Playbook version (RoutingState.members: a pause, more absences, a
// capacity, other teams) applies on top of the Playbook's members. Marketing
// members never own leads. Within a team:
//   ROUND_ROBIN gives the lead to the available member assigned longest ago
//     (never assigned first, then in the order of the Playbook), so shares
//     stay even when members leave and come back, without a returning
//     member catching up on what they missed;
//   WEIGHTED runs smooth weighted round-robin over the available members
//     with a weight > 0: leads go in proportion to the weights, interleaved
//     rather than in bursts; a weight of 0 takes no leads;
//   CAPACITY gives the lead to the available member with the most room
//     under max_open_leads (ties: assigned longest ago), and never beyond.
// A team that cannot take the lead (no sales member, all unavailable, all
// at weight 0 or at capacity) passes it to the fallback team; if that one
// cannot either, the lead waits in the fallback team's queue (no owner).
//
// Account matching (when the Playbook asks for it) sends a lead whose
// company domain has a recorded owner to that owner, if they are still a
// sales member of their team and available with room under capacity. The
// first owner of a domain is recorded when a lead of it is routed to
// someone.
class Routing {
 public:
  // Compiles `routing`, found at `path` (e.g. "routing"). Rule conditions
  // intern their attribute paths in the Playbook's slot tables; persona ids
  // of rules must be in `persona_ids`; teams without a calendar use
  // `default_calendar` (nullptr: always working). Every problem is added to
  // `problems`; returns false if there was any.
  bool Compile(const v1::Routing& routing, const std::string& path,
               const absl::flat_hash_set<std::string>& persona_ids,
               std::shared_ptr<const BusinessCalendar> default_calendar,
               SlotTable* attributes, SlotTable* properties,
               ProblemList* problems);

  // Whether the Playbook routes at all (has teams).
  bool has_teams() const { return !teams_.empty(); }

  // The calendar a team works on (its own, else the default); nullptr for
  // an unknown team or when neither exists. For the SLA's deadlines.
  const BusinessCalendar* TeamCalendar(absl::string_view team_id) const;

  // The manager escalations of a team go to; empty when none or unknown.
  absl::string_view TeamManager(absl::string_view team_id) const;

  // Routes the lead in `lead` (whose attributes must be resolved with the
  // Playbook's slot table) whose best persona is `persona_id`, at `now`,
  // and records the assignment in `state`: the rotation, the owner's open
  // leads, the account owner of a new domain. Callers route qualified leads
  // only.
  v1::RoutingDecision Route(const EvalContext& lead,
                            absl::string_view persona_id, absl::Time now,
                            v1::RoutingState* state) const;

  // Gives a routed lead to another member of its team by the team's
  // strategy (an SLA escalation), moving one open lead from the previous
  // owner to the new one. When no other member can take it, the decision
  // is returned unchanged but for its explanation. NOT_FOUND when the team
  // is no longer in the Playbook.
  absl::StatusOr<v1::RoutingDecision> Reassign(
      const v1::RoutingDecision& current, absl::Time now,
      v1::RoutingState* state) const;

  // Whether a member of some team could take a lead at `now`. When none
  // can (every team outside its working hours, away or at capacity), no
  // lead waiting in a queue can be assigned.
  bool AnyoneCanTakeLeads(absl::Time now, const v1::RoutingState& state) const;

 private:
  struct Member {
    std::string id;
    double weight = 0;
    int32_t max_open_leads = 0;
    bool available = false;
    std::vector<std::pair<absl::Time, absl::Time>> out_of_office;
  };
  struct Team {
    std::string id;
    v1::AssignmentStrategy strategy = v1::ASSIGNMENT_STRATEGY_UNSPECIFIED;
    // Sales members only, in the Playbook's order.
    std::vector<Member> sales;
    std::shared_ptr<const BusinessCalendar> calendar;
    std::string manager_id;
  };
  struct Rule {
    std::string id;
    std::string description;
    CompiledCondition when;
    int team = -1;
    std::vector<std::string> persona_ids;
  };

  // Picks an owner in `team` by its strategy, skipping `excluded`, records
  // the assignment in `state` and appends why to `explanation`. Empty when
  // nobody can take the lead.
  std::string Assign(const Team& team, absl::string_view excluded,
                     absl::Time now, v1::RoutingState* state,
                     std::string* explanation) const;
  // Assign's steps: the members who may take the lead now (indexes in
  // `sales`, the others appended to `skipped` with why), the one the
  // strategy picks, and the record of the assignment with why.
  absl::InlinedVector<int, 16> EligibleMembers(const Team& team,
                                               const std::vector<Member>& sales,
                                               absl::string_view excluded,
                                               absl::Time now,
                                               const v1::RoutingState& state,
                                               std::string* skipped) const;
  static int PickMember(
      const Team& team, const std::vector<Member>& sales,
      absl::Span<const int> eligible,
      const google::protobuf::Map<std::string, v1::MemberRotation>& rotations,
      const v1::RoutingState& state);
  static void RecordAssignment(const Team& team,
                               const std::vector<Member>& sales,
                               absl::Span<const int> eligible,
                               const Member& owner, const std::string& skipped,
                               v1::TeamRotation* rotation,
                               v1::RoutingState* state,
                               std::string* explanation);
  // Route's steps. The owner of the lead's account when they can take it
  // (true, `decision` complete); otherwise appends why not.
  bool RouteToAccountOwner(const std::string& account, absl::Time now,
                           v1::RoutingState* state,
                           v1::RoutingDecision* decision,
                           std::string* explanation) const;
  // The first rule for the persona whose condition the lead meets.
  const Rule* MatchingRule(const EvalContext& lead,
                           absl::string_view persona_id) const;
  // Sends the lead to the fallback team; its owner, empty when it waits in
  // the queue or there is no fallback team.
  std::string RouteToFallback(const Rule* matched, absl::Time now,
                              v1::RoutingState* state,
                              v1::RoutingDecision* decision,
                              std::string* explanation) const;
  // The team's sales members: the Playbook's, or `roster` filled with the
  // people changes applied when `state` has any.
  const std::vector<Member>& Sales(const Team& team,
                                   const v1::RoutingState& state,
                                   std::vector<Member>* roster) const;
  // Whether the team's calendar is in working hours at `now`.
  static bool Working(const Team& team, absl::Time now);
  // Why `member` cannot take a lead now, or nullptr when they can.
  // `team_working`: whether the team's calendar is in working hours.
  const char* Unavailability(const Team& team, const Member& member,
                             absl::Time now, bool team_working,
                             const v1::RoutingState& state) const;
  // The team's sales members once people changes (RoutingState.members:
  // teams) are applied: the Playbook's, less those moved out, then those
  // moved in, by id.
  std::vector<Member> Roster(const Team& team,
                             const v1::RoutingState& state) const;
  // The member's capacity, as people changed it.
  static int32_t MaxOpenLeads(const Member& member,
                              const v1::RoutingState& state);
  // Compile's parts: a team with its members, a member, a rule.
  void CompileTeam(const v1::Team& proto, int i, const std::string& path,
                   std::shared_ptr<const BusinessCalendar> default_calendar,
                   ProblemList* problems);
  static Member CompileMember(const v1::TeamMember& m,
                              const std::string& member_path,
                              v1::AssignmentStrategy strategy,
                              ProblemList* problems);
  void CompileRule(const v1::RoutingRule& proto, int k, const std::string& path,
                   const absl::flat_hash_set<std::string>& persona_ids,
                   absl::flat_hash_map<std::string, int>* rule_ids,
                   SlotTable* attributes, SlotTable* properties,
                   ProblemList* problems);
  int FindTeam(absl::string_view id) const;
  // "teams: a, b" for "unknown team" messages.
  std::string TeamIds() const;

  bool match_account_owner_ = false;
  std::vector<Team> teams_;
  absl::flat_hash_map<std::string, int> team_index_;
  std::vector<Rule> rules_;
  int fallback_ = -1;
};

// The key of a company domain in RoutingState.account_owners: lower case,
// without surrounding blanks, a leading "www." or a trailing dot. Empty
// when there is no domain.
std::string AccountKey(absl::string_view domain);

// An owner closed one of their leads (won, lost, recycled, disqualified):
// frees one of their open-lead slots so capacity-aware routing sees it.
// FAILED_PRECONDITION when the state records no open lead for them.
absl::Status RecordLeadClosed(absl::string_view owner_id,
                              v1::RoutingState* state);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_ROUTING_H_
