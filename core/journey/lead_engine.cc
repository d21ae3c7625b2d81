#include "core/journey/lead_engine.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

// Stages in which a lead holds one of its owner's open-lead slots.
bool IsOpen(v1::LifecycleStage stage) {
  return stage == v1::LIFECYCLE_STAGE_MQL || stage == v1::LIFECYCLE_STAGE_SAL ||
         stage == v1::LIFECYCLE_STAGE_SQL ||
         stage == v1::LIFECYCLE_STAGE_OPPORTUNITY;
}

bool SameTime(const google::protobuf::Timestamp& a,
              const google::protobuf::Timestamp& b) {
  return a.seconds() == b.seconds() && a.nanos() == b.nanos();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LeadEngine>> LeadEngine::Create(
    const v1::Playbook& playbook, const SourceMap* positions,
    absl::string_view file) {
  std::shared_ptr<LeadEngine> engine(new LeadEngine());
  ProblemList problems(positions, file);
  auto compiled = CompiledPlaybook::Compile(playbook, positions, file);
  if (compiled.ok()) {
    engine->playbook_ = *std::move(compiled);
  } else if (auto listed = ProblemsFromStatus(compiled.status())) {
    for (const v1::ValidationProblem& p : listed->problems()) {
      problems.AddAt(p.path(), {p.line(), p.column()}, p.message());
    }
  } else {
    return compiled.status();
  }
  absl::flat_hash_set<std::string> persona_ids;
  for (const v1::Persona& persona : playbook.personas()) {
    persona_ids.insert(persona.id());
  }
  engine->sla_.Compile(playbook.sla(), "sla", &problems);
  engine->routing_.Compile(playbook.routing(), "routing", persona_ids,
                           engine->sla_.default_calendar(),
                           &engine->attributes_, &engine->properties_,
                           &problems);
  if (!problems.empty()) {
    return problems.ToStatus(absl::StrCat(
        "the Playbook", file.empty() ? "" : absl::StrCat(" ", file),
        " is not valid"));
  }
  engine->lifecycle_ = std::make_unique<Lifecycle>(&engine->sla_.recycle());
  return engine;
}

absl::StatusOr<v1::LeadLifecycle> LeadEngine::Start(absl::Time at) const {
  return lifecycle_->Start(at, v1::ACTOR_SYSTEM, "smarketing");
}

absl::Status LeadEngine::Refresh(const v1::Lead& lead, absl::Time now,
                                 Scorer* scorer, LeadState* state,
                                 v1::RoutingState* routing) const {
  auto score = scorer->Score(lead, now);
  if (!score.ok()) return score.status();
  // The owner is the lead's, not the score's: keep it across rescoring.
  score->mutable_routing()->Swap(state->score.mutable_routing());
  state->score = *std::move(score);
  const v1::LeadLifecycle before = state->lifecycle;
  auto moved = lifecycle_->ApplyRecommendation(
      state->score.recommended_stage(), state->score.disqualification_reason(),
      now, &state->lifecycle);
  if (!moved.ok()) return moved.status();
  AfterMove(lead, before, now, state, routing);
  return absl::OkStatus();
}

absl::Status LeadEngine::ApplyFeedback(const v1::Feedback& feedback,
                                       absl::Time now, LeadState* state,
                                       v1::RoutingState* routing) const {
  const v1::LeadLifecycle before = state->lifecycle;
  if (auto st = lifecycle_->ApplyFeedback(feedback, &state->lifecycle);
      !st.ok()) {
    return st;
  }
  // Feedback never qualifies a lead, so routing needs no lead here.
  AfterMove(v1::Lead::default_instance(), before, now, state, routing);
  return absl::OkStatus();
}

absl::Status LeadEngine::Transition(const v1::Lead& lead,
                                    const v1::StageTransition& move,
                                    absl::Time now, LeadState* state,
                                    v1::RoutingState* routing) const {
  const v1::LeadLifecycle before = state->lifecycle;
  if (auto st = lifecycle_->Transition(move, &state->lifecycle); !st.ok()) {
    return st;
  }
  AfterMove(lead, before, now, state, routing);
  return absl::OkStatus();
}

absl::Status LeadEngine::RecordFirstTouch(absl::Time at, absl::Time now,
                                          LeadState* state) const {
  if (auto st = lifecycle_->RecordFirstTouch(at, &state->lifecycle); !st.ok()) {
    return st;
  }
  *state->score.mutable_sla() = SlaStatusAt(*state, now);
  return absl::OkStatus();
}

void LeadEngine::AfterMove(const v1::Lead& lead,
                           const v1::LeadLifecycle& before, absl::Time now,
                           LeadState* state, v1::RoutingState* routing) const {
  const v1::LeadLifecycle& after = state->lifecycle;
  const std::string& owner = state->score.routing().owner_id();
  if (IsOpen(before.stage()) && !IsOpen(after.stage()) && !owner.empty()) {
    // A state that lost track of the owner's count (a Playbook change
    // removed them) has nothing to free: the move stands regardless.
    RecordLeadClosed(owner, routing).IgnoreError();
  }
  const bool new_mql_episode =
      after.stage() == v1::LIFECYCLE_STAGE_MQL && after.has_mql_at() &&
      !(before.has_mql_at() && SameTime(before.mql_at(), after.mql_at()));
  if (new_mql_episode && routing_.has_teams()) {
    *state->score.mutable_routing() =
        Route(lead, state->score.persona_id(), now, routing);
  }
  *state->score.mutable_sla() = SlaStatusAt(*state, now);
}

v1::RoutingDecision LeadEngine::Route(const v1::Lead& lead,
                                      absl::string_view persona_id,
                                      absl::Time now,
                                      v1::RoutingState* routing) const {
  if (!routing_.has_teams()) return v1::RoutingDecision();
  std::vector<const google::protobuf::Value*> attributes;
  attributes_.Resolve(lead.attributes(), &attributes);
  PropertyCache properties(&properties_);
  EvalContext context;
  context.lead = &lead;
  context.attributes = &attributes;
  context.properties = &properties;
  return routing_.Route(context, persona_id, now, routing);
}

void LeadEngine::AssignNewMql(const v1::Lead& lead, absl::Time now,
                              v1::RoutingState* routing,
                              v1::ScoreResult* result) const {
  if (result->recommended_stage() != v1::LIFECYCLE_STAGE_MQL) return;
  if (routing_.has_teams()) {
    *result->mutable_routing() =
        Route(lead, result->persona_id(), now, routing);
  }
  LeadState state;
  state.lifecycle.set_stage(v1::LIFECYCLE_STAGE_MQL);
  TimeToProto(now, state.lifecycle.mutable_stage_entered_at());
  TimeToProto(now, state.lifecycle.mutable_mql_at());
  state.score.set_priority(result->priority());
  *state.score.mutable_routing() = result->routing();
  v1::SlaStatus sla = SlaStatusAt(state, now);
  if (sla.state() != v1::SLA_STATE_UNSPECIFIED) *result->mutable_sla() = sla;
}

v1::SlaStatus LeadEngine::SlaStatusAt(const LeadState& state,
                                      absl::Time now) const {
  v1::SlaStatus status;
  const std::optional<absl::Time> start = SlaStart(state.lifecycle);
  if (!start.has_value() || !sla_.has_policies()) return status;
  SlaEvaluationToProto(EvaluateSla(state, now), &status);
  return status;
}

SlaEvaluation LeadEngine::EvaluateSla(const LeadState& state,
                                      absl::Time now) const {
  const std::optional<absl::Time> start = SlaStart(state.lifecycle);
  if (!start.has_value() || !sla_.has_policies()) return SlaEvaluation();
  const SlaProgress progress = SlaProgressOf(state.lifecycle);
  SlaEvaluation evaluation =
      sla_.Evaluate(state.score.priority(), *start, progress, now,
                    routing_.TeamCalendar(state.score.routing().team_id()));
  // What is recorded as happening later counts from then on, which the
  // evaluation's next change does not foresee.
  for (const std::optional<absl::Time>& at :
       {std::optional<absl::Time>(*start), progress.first_touched_at,
        progress.sales_decision_at, progress.meeting_held_at,
        progress.feedback_at}) {
    if (at.has_value() && *at > now) {
      evaluation.next_change = std::min(evaluation.next_change, *at);
    }
  }
  return evaluation;
}

}  // namespace smarketing
