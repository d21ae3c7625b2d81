// The SLA's escalation steps as the service's scheduler carries them out:
// which are due on a lead, what each does to it, and when to look again.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/proto_time.h"
#include "core/journey/lead_engine.h"

namespace smarketing {
namespace {

// Who the scheduler is in the lead's history.
constexpr char kSystemActor[] = "smarketing";

bool SameTime(const google::protobuf::Timestamp& a,
              const google::protobuf::Timestamp& b) {
  return a.seconds() == b.seconds() && a.nanos() == b.nanos();
}

// Whether `step` of the episode that started at `episode` is recorded.
bool Recorded(const v1::LeadLifecycle& lifecycle,
              const google::protobuf::Timestamp& episode, int step) {
  for (const v1::SlaAction& action : lifecycle.sla_actions()) {
    if (action.step() == step && SameTime(action.episode(), episode)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<DueSlaStep> LeadEngine::DueSlaSteps(const LeadState& state,
                                                absl::Time now) const {
  std::vector<DueSlaStep> due;
  const std::optional<absl::Time> start = SlaStart(state.lifecycle);
  if (!start.has_value() || !sla_.has_policies()) return due;
  const Sla::Policy* policy = sla_.policy(state.score.priority());
  if (policy == nullptr) return due;
  const SlaEvaluation evaluation = sla_.Evaluate(
      state.score.priority(), *start, SlaProgressOf(state.lifecycle), now,
      routing_.TeamCalendar(state.score.routing().team_id()));
  for (int i = 0; i <= evaluation.escalation_step &&
                  i < static_cast<int>(policy->escalations.size());
       ++i) {
    if (Recorded(state.lifecycle, state.lifecycle.mql_at(), i)) continue;
    due.push_back({i, policy->escalations[i].action});
  }
  return due;
}

absl::Status LeadEngine::ApplySlaStep(const DueSlaStep& step, absl::Time now,
                                      LeadState* state,
                                      v1::RoutingState* routing) const {
  v1::SlaAction record;
  *record.mutable_episode() = state->lifecycle.mql_at();
  record.set_step(step.step);
  record.set_action(step.action);
  TimeToProto(now, record.mutable_at());
  record.set_actor_id(kSystemActor);
  const v1::RoutingDecision& current = state->score.routing();
  record.set_owner_id(current.owner_id());
  switch (step.action) {
    case v1::ESCALATION_ACTION_REMIND_OWNER:
      if (current.owner_id().empty()) {
        record.set_note("the lead has no owner to remind");
      }
      break;
    case v1::ESCALATION_ACTION_ESCALATE_TO_MANAGER: {
      const absl::string_view manager = routing_.TeamManager(current.team_id());
      record.set_manager_id(std::string(manager));
      if (manager.empty()) record.set_note("the team has no manager");
      break;
    }
    case v1::ESCALATION_ACTION_REASSIGN: {
      auto decision = routing_.Reassign(current, now, routing);
      if (!decision.ok()) {
        record.set_note(std::string(decision.status().message()));
        break;
      }
      if (decision->owner_id() != current.owner_id()) {
        record.set_new_owner_id(decision->owner_id());
      } else {
        record.set_note("no other member of the team can take the lead now");
      }
      *state->score.mutable_routing() = *std::move(decision);
      break;
    }
    case v1::ESCALATION_ACTION_RECYCLE: {
      const RecycleOutcome outcome = sla_.recycle().OnBreach(now);
      v1::StageTransition move;
      move.set_to(outcome.stage);
      move.set_actor(v1::ACTOR_SYSTEM);
      move.set_actor_id(kSystemActor);
      TimeToProto(now, move.mutable_at());
      move.set_reason_code(outcome.reason_code);
      move.set_note(absl::StrCat("SLA escalation step ", step.step + 1));
      const v1::LeadLifecycle before = state->lifecycle;
      if (auto st = lifecycle_->Transition(move, &state->lifecycle); !st.ok()) {
        record.set_note(std::string(st.message()));
        break;
      }
      record.set_reason_code(outcome.reason_code);
      // A recycled lead leaves the open stages: its owner's slot is freed.
      AfterMove(v1::Lead::default_instance(), before, now, state, routing);
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("escalation step ", step.step, " has no action"));
  }
  *state->lifecycle.add_sla_actions() = std::move(record);
  *state->score.mutable_sla() = SlaStatusAt(*state, now);
  return absl::OkStatus();
}

absl::StatusOr<bool> LeadEngine::AssignFromQueue(
    absl::Time now, LeadState* state, v1::RoutingState* routing) const {
  const v1::RoutingDecision& current = state->score.routing();
  if (state->lifecycle.stage() != v1::LIFECYCLE_STAGE_MQL ||
      current.team_id().empty() || !current.owner_id().empty()) {
    return false;
  }
  auto decision = routing_.Reassign(current, now, routing);
  if (!decision.ok()) return decision.status();
  if (decision->owner_id().empty()) return false;
  *state->score.mutable_routing() = *std::move(decision);
  *state->score.mutable_sla() = SlaStatusAt(*state, now);
  return true;
}

absl::Time LeadEngine::NextSlaCheck(const LeadState& state,
                                    absl::Time now) const {
  const std::optional<absl::Time> start = SlaStart(state.lifecycle);
  if (!start.has_value() || !sla_.has_policies()) return absl::InfiniteFuture();
  if (!DueSlaSteps(state, now).empty()) return now;
  return sla_
      .Evaluate(state.score.priority(), *start, SlaProgressOf(state.lifecycle),
                now, routing_.TeamCalendar(state.score.routing().team_id()))
      .next_change;
}

}  // namespace smarketing
