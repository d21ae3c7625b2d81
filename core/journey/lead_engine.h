// What one Playbook version does to a lead the service keeps, over its
// life: score it, move it through the lifecycle (scorer recommendations,
// opt-outs, sales feedback, manual moves), route it when it becomes MQL,
// free its owner's slot when it closes, and say where it stands against
// the SLA. The service stores the results; every rule lives here.
#ifndef SMARKETING_CORE_JOURNEY_LEAD_ENGINE_H_
#define SMARKETING_CORE_JOURNEY_LEAD_ENGINE_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/base/problems.h"
#include "core/journey/lifecycle.h"
#include "core/journey/routing.h"
#include "core/journey/sla.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"
#include "smarketing/v1/routing_state.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

// An SLA escalation step due on a lead and not carried out yet.
struct DueSlaStep {
  // Index in the priority's escalations.
  int step = -1;
  v1::EscalationAction action = v1::ESCALATION_ACTION_UNSPECIFIED;
};

// A stored lead's evolving state: its lifecycle and its latest score, whose
// `routing` is the lead's current team and owner (kept across rescoring)
// and whose `sla` is its SLA status as of the last change.
struct LeadState {
  v1::LeadLifecycle lifecycle;
  v1::ScoreResult score;
};

class LeadEngine {
 public:
  // Compiles the whole Playbook: scoring, SLA and routing. On any problem:
  // INVALID_ARGUMENT carrying them all (ProblemsFromStatus), with line and
  // column where `positions` knows them.
  static absl::StatusOr<std::shared_ptr<const LeadEngine>> Create(
      const v1::Playbook& playbook, const SourceMap* positions = nullptr,
      absl::string_view file = "");

  const std::shared_ptr<const CompiledPlaybook>& playbook() const {
    return playbook_;
  }

  // A lead seen for the first time at `at`: NEW, captured by the system.
  absl::StatusOr<v1::LeadLifecycle> Start(absl::Time at) const;

  // The lifecycle rules Refresh moves leads by, for callers that score
  // leads themselves and apply the recommended stage, such as a replay of
  // stored leads as they arrived (core/batch/replay_table.h).
  const Lifecycle& lifecycle() const { return *lifecycle_; }

  // The lead's data or events changed: rescores `lead` (with all its
  // events) at `now` with `scorer` (built on playbook()), then applies what
  // the score calls for: an opt-out, the recommended stage. A lead that
  // becomes MQL is routed at once, recording the assignment in `routing`.
  // On error `state` and `routing` may be half-updated: discard them.
  absl::Status Refresh(const v1::Lead& lead, absl::Time now, Scorer* scorer,
                       LeadState* state, v1::RoutingState* routing) const;

  // Routes `lead`, whose best persona is `persona_id`, as Refresh routes a
  // lead that becomes MQL at `now`, recording the assignment in `routing`;
  // for callers that have scored the lead already, such as a comparison of
  // two Playbooks over a million leads. Empty when the Playbook has no
  // teams.
  v1::RoutingDecision Route(const v1::Lead& lead, absl::string_view persona_id,
                            absl::Time now, v1::RoutingState* routing) const;

  // What becoming MQL at `now` means for a lead just scored into `result`:
  // its team and owner (the assignment recorded in `routing`) and its SLA
  // deadlines, set on `result`. Leads not recommended as MQL are left alone.
  // For callers that keep no lifecycle, such as `smarketing score`.
  void AssignNewMql(const v1::Lead& lead, absl::Time now,
                    v1::RoutingState* routing, v1::ScoreResult* result) const;

  // Sales feedback through the lifecycle (see Lifecycle::ApplyFeedback).
  // Errors and partial updates as Refresh.
  absl::Status ApplyFeedback(const v1::Feedback& feedback, absl::Time now,
                             LeadState* state, v1::RoutingState* routing) const;

  // A manual move (see Lifecycle::Transition); a lead moved to MQL by hand
  // is routed like one the score qualified.
  absl::Status Transition(const v1::Lead& lead, const v1::StageTransition& move,
                          absl::Time now, LeadState* state,
                          v1::RoutingState* routing) const;

  // The owner first touched the lead at `at`.
  absl::Status RecordFirstTouch(absl::Time at, absl::Time now,
                                LeadState* state) const;

  // Where the lead stands against the SLA at `now`: unset (state
  // UNSPECIFIED) when the SLA does not count for it.
  v1::SlaStatus SlaStatusAt(const LeadState& state, absl::Time now) const;
  // The same evaluation with the time until which it holds
  // (SlaEvaluation::next_change); state UNSPECIFIED and holding forever
  // when the SLA does not count for the lead.
  SlaEvaluation EvaluateSla(const LeadState& state, absl::Time now) const;

  // What the service's scheduler carries out (lead_engine_sla.cc).
  //
  // The escalation steps due at `now` on the lead's open SLA breach that
  // its lifecycle (sla_actions) does not record for the current episode
  // (since mql_at), oldest first. Empty when the lead moved on: touched,
  // accepted, recycled, or out of the stages the SLA counts in.
  std::vector<DueSlaStep> DueSlaSteps(const LeadState& state,
                                      absl::Time now) const;

  // Carries out `step` at `now` as the system and records it in the
  // lifecycle's sla_actions: REMIND_OWNER and ESCALATE_TO_MANAGER record
  // whom to tell (the owner, the team's manager); REASSIGN gives the lead
  // to another member by the team's strategy (recorded in `routing`);
  // RECYCLE sends it to NURTURE with "sla_breach". A step the lifecycle
  // refuses (the system never recycles an OPPORTUNITY) is recorded with a
  // note and changes nothing else. Refreshes the SLA status.
  absl::Status ApplySlaStep(const DueSlaStep& step, absl::Time now,
                            LeadState* state, v1::RoutingState* routing) const;

  // A lead waiting in its team's queue (MQL with a team and no owner) is
  // given to a member who can take it now, by the team's strategy. Returns
  // whether it was; the SLA keeps counting from mql_at, as the Playbook
  // says.
  absl::StatusOr<bool> AssignFromQueue(absl::Time now, LeadState* state,
                                       v1::RoutingState* routing) const;
  // Whether AssignFromQueue could assign any lead at `now`.
  bool QueuesMayMove(absl::Time now, const v1::RoutingState& routing) const {
    return routing_.AnyoneCanTakeLeads(now, routing);
  }

  // When the scheduler must look at the lead again after `now`: now when a
  // step is due and not carried out, else the next at-risk time, due time
  // or escalation step; InfiniteFuture() when never.
  absl::Time NextSlaCheck(const LeadState& state, absl::Time now) const;

 private:
  LeadEngine() = default;
  // After any move: routes a lead that started a new MQL episode, frees
  // the owner's slot of a lead that left the open stages, and refreshes
  // the SLA status.
  void AfterMove(const v1::Lead& lead, const v1::LeadLifecycle& before,
                 absl::Time now, LeadState* state,
                 v1::RoutingState* routing) const;

  std::shared_ptr<const CompiledPlaybook> playbook_;
  // Routing conditions read attributes through their own slot tables.
  SlotTable attributes_;
  SlotTable properties_;
  Routing routing_;
  Sla sla_;
  std::unique_ptr<Lifecycle> lifecycle_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_LEAD_ENGINE_H_
