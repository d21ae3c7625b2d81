#include "core/journey/lifecycle.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/enum_label.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

using Stage = v1::LifecycleStage;

constexpr uint8_t kMarketing = 1 << v1::ACTOR_MARKETING;
constexpr uint8_t kSales = 1 << v1::ACTOR_SALES;
constexpr uint8_t kSystem = 1 << v1::ACTOR_SYSTEM;

constexpr TransitionRule kTable[] = {
    {v1::LIFECYCLE_STAGE_UNSPECIFIED, v1::LIFECYCLE_STAGE_NEW,
     kMarketing | kSystem, ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_MQL, kMarketing | kSystem,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_NURTURE, kMarketing | kSystem,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_DISQUALIFIED,
     kMarketing | kSystem, ReasonKind::kDisqualification},
    {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_SAL, kSales,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE, kSales | kSystem,
     ReasonKind::kRecycle},
    {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
     kMarketing | kSales | kSystem, ReasonKind::kDisqualification},
    {v1::LIFECYCLE_STAGE_SAL, v1::LIFECYCLE_STAGE_SQL, kSales,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_SAL, v1::LIFECYCLE_STAGE_NURTURE, kSales | kSystem,
     ReasonKind::kRecycle},
    {v1::LIFECYCLE_STAGE_SAL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
     kSales | kSystem, ReasonKind::kDisqualification},
    {v1::LIFECYCLE_STAGE_SQL, v1::LIFECYCLE_STAGE_OPPORTUNITY, kSales,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_SQL, v1::LIFECYCLE_STAGE_NURTURE, kSales | kSystem,
     ReasonKind::kRecycle},
    {v1::LIFECYCLE_STAGE_SQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
     kSales | kSystem, ReasonKind::kDisqualification},
    {v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_CUSTOMER, kSales,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_NURTURE, kSales,
     ReasonKind::kLoss},
    {v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_DISQUALIFIED,
     kSales | kSystem, ReasonKind::kDisqualification},
    {v1::LIFECYCLE_STAGE_NURTURE, v1::LIFECYCLE_STAGE_MQL, kMarketing | kSystem,
     ReasonKind::kNone},
    {v1::LIFECYCLE_STAGE_NURTURE, v1::LIFECYCLE_STAGE_DISQUALIFIED,
     kMarketing | kSystem, ReasonKind::kDisqualification},
};

// Actor id recorded on the moves the engine makes itself.
constexpr char kEngineActorId[] = "smarketing";

// "MQL" for LIFECYCLE_STAGE_MQL; "(none)" before capture.
std::string StageName(Stage stage) {
  if (stage == v1::LIFECYCLE_STAGE_UNSPECIFIED) return "(none)";
  return absl::AsciiStrToUpper(EnumLabel(stage));
}

std::string ActorName(v1::Actor actor) { return EnumLabel(actor); }

// "marketing, sales or system".
std::string ActorNames(uint8_t actors) {
  std::vector<std::string> names;
  for (v1::Actor a : {v1::ACTOR_MARKETING, v1::ACTOR_SALES, v1::ACTOR_SYSTEM}) {
    if (actors & (1 << a)) names.push_back(ActorName(a));
  }
  if (names.size() == 1) return names[0];
  const std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " or ", last);
}

const char* ReasonKindName(ReasonKind kind) {
  switch (kind) {
    case ReasonKind::kRecycle:
      return "a recycle reason";
    case ReasonKind::kLoss:
      return "a loss reason";
    case ReasonKind::kDisqualification:
      return "a disqualification reason";
    case ReasonKind::kNone:
      break;
  }
  return "";
}

// "SAL (sales), NURTURE (sales or system, with a recycle reason)", or why
// there is none.
std::string AllowedFrom(Stage from) {
  std::vector<std::string> moves;
  for (const TransitionRule& rule : kTable) {
    if (rule.from != from) continue;
    std::string move =
        absl::StrCat(StageName(rule.to), " (", ActorNames(rule.actors));
    if (rule.reason != ReasonKind::kNone) {
      absl::StrAppend(&move, ", with ", ReasonKindName(rule.reason));
    }
    moves.push_back(move + ")");
  }
  if (moves.empty()) return absl::StrCat(StageName(from), " is final");
  return absl::StrCat("from ", StageName(from), " the lead may move to ",
                      absl::StrJoin(moves, ", "));
}

// "company_size", "industry"... for every DisqualificationReason.
const std::vector<std::string>& DisqualificationNames() {
  static const auto* const names = [] {
    auto* out = new std::vector<std::string>;
    const auto* type = v1::DisqualificationReason_descriptor();
    for (int i = 0; i < type->value_count(); ++i) {
      if (type->value(i)->number() == 0) continue;
      out->push_back(EnumLabel(type->value(i)));
    }
    return out;
  }();
  return *names;
}

std::string DisqualificationName(v1::DisqualificationReason reason) {
  if (reason == v1::DISQUALIFICATION_REASON_UNSPECIFIED ||
      !v1::DisqualificationReason_IsValid(reason)) {
    reason = v1::DISQUALIFICATION_REASON_OTHER;
  }
  return EnumLabel(reason);
}

bool IsSlaStage(Stage stage) {
  return stage == v1::LIFECYCLE_STAGE_MQL || stage == v1::LIFECYCLE_STAGE_SAL ||
         stage == v1::LIFECYCLE_STAGE_SQL ||
         stage == v1::LIFECYCLE_STAGE_OPPORTUNITY;
}

// INVALID_ARGUMENT naming the field at `path` of the move or the feedback
// for the fronts (a google.rpc.BadRequest in the service); the message
// stays as written.
absl::Status InvalidField(absl::string_view path, absl::string_view message) {
  ProblemList problems;
  problems.Add(path, message);
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kProblemsPayloadUrl,
                    absl::Cord(problems.problems().SerializeAsString()));
  return status;
}

absl::Status CheckTime(const google::protobuf::Timestamp& at, bool has,
                       absl::string_view what) {
  if (!has) {
    return InvalidField("at", absl::StrCat(what, " is required"));
  }
  if (!IsValidTimestamp(at)) {
    return InvalidField("at", absl::StrCat(what, " is not a valid timestamp"));
  }
  return absl::OkStatus();
}

v1::StageTransition Move(Stage to, v1::Actor actor, absl::string_view actor_id,
                         absl::Time at, absl::string_view reason = "") {
  v1::StageTransition move;
  move.set_to(to);
  move.set_actor(actor);
  move.set_actor_id(std::string(actor_id));
  TimeToProto(at, move.mutable_at());
  move.set_reason_code(std::string(reason));
  return move;
}

}  // namespace

absl::Span<const TransitionRule> TransitionTable() { return kTable; }

const TransitionRule* FindTransition(Stage from, Stage to) {
  for (const TransitionRule& rule : kTable) {
    if (rule.from == from && rule.to == to) return &rule;
  }
  return nullptr;
}

absl::StatusOr<v1::LeadLifecycle> Lifecycle::Start(
    absl::Time at, v1::Actor actor, absl::string_view actor_id) const {
  v1::LeadLifecycle lifecycle;
  if (absl::Status status = Transition(
          Move(v1::LIFECYCLE_STAGE_NEW, actor, actor_id, at), &lifecycle);
      !status.ok()) {
    return status;
  }
  return lifecycle;
}

absl::Status Lifecycle::CheckReason(const TransitionRule& rule, v1::Actor actor,
                                    const std::string& reason) const {
  if (rule.reason == ReasonKind::kNone) return absl::OkStatus();
  const std::string move =
      absl::StrCat(StageName(rule.from), " -> ", StageName(rule.to));
  if (reason.empty()) {
    return InvalidField(
        "reason_code",
        absl::StrCat(move, " needs ", ReasonKindName(rule.reason)));
  }
  const v1::ReasonCode* rejection = recycle_->FindRejection(reason);
  const v1::ReasonCode* loss = recycle_->FindLoss(reason);
  switch (rule.reason) {
    case ReasonKind::kRecycle:
      if (actor == v1::ACTOR_SYSTEM || reason == kSlaBreachReason) {
        if (actor == v1::ACTOR_SYSTEM && reason == kSlaBreachReason) {
          return absl::OkStatus();
        }
        return InvalidField(
            "reason_code",
            absl::StrCat("the system recycles a lead with \"", kSlaBreachReason,
                         "\" only, and only the system does"));
      }
      if (rejection == nullptr) {
        return InvalidField("reason_code",
                            absl::StrCat("unknown rejection reason \"", reason,
                                         "\"; the Playbook agrees on: ",
                                         recycle_->RejectionCodes()));
      }
      if (!rejection->recycle()) {
        return InvalidField(
            "reason_code",
            absl::StrCat("rejection reason \"", reason,
                         "\" disqualifies the lead: move it to DISQUALIFIED"));
      }
      return absl::OkStatus();
    case ReasonKind::kLoss:
      if (loss == nullptr) {
        return InvalidField("reason_code",
                            absl::StrCat("unknown loss reason \"", reason,
                                         "\"; the Playbook agrees on: ",
                                         recycle_->LossCodes()));
      }
      if (!loss->recycle()) {
        return InvalidField(
            "reason_code",
            absl::StrCat("loss reason \"", reason,
                         "\" disqualifies the lead: move it to DISQUALIFIED"));
      }
      return absl::OkStatus();
    case ReasonKind::kDisqualification: {
      const std::vector<std::string>& names = DisqualificationNames();
      if (std::find(names.begin(), names.end(), reason) != names.end()) {
        return absl::OkStatus();
      }
      for (const v1::ReasonCode* code : {rejection, loss}) {
        if (code == nullptr) continue;
        if (!code->recycle()) return absl::OkStatus();
        return InvalidField(
            "reason_code",
            absl::StrCat("reason \"", reason,
                         "\" recycles the lead: move it to NURTURE"));
      }
      return InvalidField(
          "reason_code",
          absl::StrCat(
              "unknown disqualification reason \"", reason, "\"; expected ",
              absl::StrJoin(names, ", "),
              ", or a rejection or loss reason that does not recycle"));
    }
    case ReasonKind::kNone:
      break;
  }
  return absl::OkStatus();
}

absl::Status Lifecycle::Transition(const v1::StageTransition& move,
                                   v1::LeadLifecycle* lifecycle) const {
  if (move.actor() == v1::ACTOR_UNSPECIFIED ||
      !v1::Actor_IsValid(move.actor())) {
    return InvalidField("actor",
                        "actor is required: marketing, sales or system");
  }
  if (absl::Status status = CheckTime(move.at(), move.has_at(), "at");
      !status.ok()) {
    return status;
  }
  if (!v1::LifecycleStage_IsValid(move.to())) {
    return InvalidField("to", absl::StrCat("unknown stage ", move.to()));
  }
  const Stage from = lifecycle->stage();
  const Stage to = move.to();
  if (move.from() != v1::LIFECYCLE_STAGE_UNSPECIFIED && move.from() != from) {
    return absl::FailedPreconditionError(
        absl::StrCat("the lead is at ", StageName(from), ", not ",
                     StageName(move.from()), "; ", AllowedFrom(from)));
  }
  const TransitionRule* rule = FindTransition(from, to);
  if (rule == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(StageName(from), " -> ", StageName(to),
                     " is not allowed; ", AllowedFrom(from)));
  }
  if ((rule->actors & (1 << move.actor())) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(StageName(from), " -> ", StageName(to), " is made by ",
                     ActorNames(rule->actors), ", not ",
                     ActorName(move.actor()), "; ", AllowedFrom(from)));
  }
  if (lifecycle->opted_out() && to != v1::LIFECYCLE_STAGE_DISQUALIFIED) {
    return absl::FailedPreconditionError(
        "the lead opted out: it is never solicited again and may only be "
        "disqualified");
  }
  const absl::Time at = TimeFromProto(move.at());
  if (lifecycle->has_stage_entered_at() &&
      at < TimeFromProto(lifecycle->stage_entered_at())) {
    return InvalidField(
        "at", absl::StrCat(
                  "at (", absl::FormatTime(at, absl::UTCTimeZone()),
                  ") is before the lead's last move (",
                  absl::FormatTime(TimeFromProto(lifecycle->stage_entered_at()),
                                   absl::UTCTimeZone()),
                  ")"));
  }
  if (from == v1::LIFECYCLE_STAGE_NURTURE && to == v1::LIFECYCLE_STAGE_MQL &&
      lifecycle->has_nurture_until() &&
      at < TimeFromProto(lifecycle->nurture_until())) {
    return absl::FailedPreconditionError(
        absl::StrCat("the lead was recycled and may become MQL again from ",
                     absl::FormatTime(TimeFromProto(lifecycle->nurture_until()),
                                      absl::UTCTimeZone())));
  }
  if (absl::Status status =
          CheckReason(*rule, move.actor(), move.reason_code());
      !status.ok()) {
    return status;
  }

  v1::StageTransition* recorded = lifecycle->add_history();
  *recorded = move;
  recorded->set_from(from);
  lifecycle->set_stage(to);
  *lifecycle->mutable_stage_entered_at() = move.at();
  if (from == v1::LIFECYCLE_STAGE_MQL && move.actor() == v1::ACTOR_SALES) {
    *lifecycle->mutable_sales_decision_at() = move.at();
  }
  if (to == v1::LIFECYCLE_STAGE_MQL) {
    // A new MQL episode: the SLA starts over.
    *lifecycle->mutable_mql_at() = move.at();
    lifecycle->clear_first_touched_at();
    lifecycle->clear_sales_decision_at();
    lifecycle->clear_meeting_held_at();
    lifecycle->clear_feedback_at();
    lifecycle->clear_nurture_until();
  }
  if (to == v1::LIFECYCLE_STAGE_NURTURE &&
      (rule->reason == ReasonKind::kRecycle ||
       rule->reason == ReasonKind::kLoss)) {
    TimeToProto(at + recycle_->nurture_cooldown(),
                lifecycle->mutable_nurture_until());
  }
  return absl::OkStatus();
}

absl::Status Lifecycle::ApplyFeedback(const v1::Feedback& feedback,
                                      v1::LeadLifecycle* lifecycle) const {
  if (absl::Status status =
          CheckTime(feedback.at(), feedback.has_at(), "feedback at");
      !status.ok()) {
    return status;
  }
  const absl::Time at = TimeFromProto(feedback.at());
  v1::LeadLifecycle next = *lifecycle;
  auto move = [&](Stage to, absl::string_view reason = "") {
    v1::StageTransition m =
        Move(to, v1::ACTOR_SALES, feedback.actor_id(), at, reason);
    m.set_note(feedback.note());
    return Transition(m, &next);
  };
  // A recycle or disqualification by the reason's outcome.
  auto by_reason = [&](const absl::StatusOr<RecycleOutcome>& outcome) {
    if (!outcome.ok()) return outcome.status();
    return move(outcome->stage, outcome->reason_code);
  };

  absl::Status status;
  switch (feedback.outcome_case()) {
    case v1::Feedback::kAccepted:
      status = move(v1::LIFECYCLE_STAGE_SAL);
      break;
    case v1::Feedback::kRejected:
      status = by_reason(
          recycle_->OnRejection(feedback.rejected().reason_code(), at));
      break;
    case v1::Feedback::kMeetingHeld:
      if (next.stage() == v1::LIFECYCLE_STAGE_SAL) {
        status = move(v1::LIFECYCLE_STAGE_SQL);
      } else if (next.stage() != v1::LIFECYCLE_STAGE_SQL &&
                 next.stage() != v1::LIFECYCLE_STAGE_OPPORTUNITY) {
        status = absl::FailedPreconditionError(absl::StrCat(
            "a meeting is recorded once sales accepted the lead (SAL, SQL or "
            "OPPORTUNITY); the lead is at ",
            StageName(next.stage())));
      }
      if (status.ok()) {
        TimeToProto(at, next.mutable_meeting_held_at());
        next.clear_feedback_at();
      }
      break;
    case v1::Feedback::kOpportunityCreated:
      if (next.stage() == v1::LIFECYCLE_STAGE_SAL) {
        status = move(v1::LIFECYCLE_STAGE_SQL);
      }
      if (status.ok()) status = move(v1::LIFECYCLE_STAGE_OPPORTUNITY);
      break;
    case v1::Feedback::kWon:
      status = move(v1::LIFECYCLE_STAGE_CUSTOMER);
      break;
    case v1::Feedback::kLost:
      status = by_reason(recycle_->OnLoss(feedback.lost().reason_code(), at));
      break;
    case v1::Feedback::OUTCOME_NOT_SET:
      status = InvalidField(
          "outcome",
          "feedback needs an outcome: accepted, rejected, meeting_held, "
          "opportunity_created, won or lost");
      break;
  }
  if (!status.ok()) return status;
  if (feedback.outcome_case() != v1::Feedback::kMeetingHeld &&
      next.has_meeting_held_at() && !next.has_feedback_at() &&
      at >= TimeFromProto(next.meeting_held_at())) {
    *next.mutable_feedback_at() = feedback.at();
  }
  *lifecycle = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<bool> Lifecycle::ApplyRecommendation(
    Stage recommended, v1::DisqualificationReason reason, absl::Time at,
    v1::LeadLifecycle* lifecycle) const {
  const Stage stage = lifecycle->stage();
  if (stage == v1::LIFECYCLE_STAGE_UNSPECIFIED) {
    return absl::FailedPreconditionError(
        "the lead has no lifecycle yet: Start it first");
  }
  auto move = [&](Stage to,
                  absl::string_view why = "") -> absl::StatusOr<bool> {
    absl::Status status = Transition(
        Move(to, v1::ACTOR_SYSTEM, kEngineActorId, at, why), lifecycle);
    if (!status.ok()) return status;
    return true;
  };
  const bool marketing_side = stage == v1::LIFECYCLE_STAGE_NEW ||
                              stage == v1::LIFECYCLE_STAGE_MQL ||
                              stage == v1::LIFECYCLE_STAGE_NURTURE;
  switch (recommended) {
    case v1::LIFECYCLE_STAGE_DISQUALIFIED:
      if (reason == v1::DISQUALIFICATION_REASON_OPTED_OUT) {
        if (absl::Status status = RecordOptOut(at, lifecycle); !status.ok()) {
          return status;
        }
        return lifecycle->stage() != stage;
      }
      if (!marketing_side) return false;
      return move(v1::LIFECYCLE_STAGE_DISQUALIFIED,
                  DisqualificationName(reason));
    case v1::LIFECYCLE_STAGE_MQL:
      if (stage == v1::LIFECYCLE_STAGE_NEW) return move(recommended);
      if (stage == v1::LIFECYCLE_STAGE_NURTURE && !lifecycle->opted_out() &&
          !(lifecycle->has_nurture_until() &&
            at < TimeFromProto(lifecycle->nurture_until()))) {
        return move(recommended);
      }
      return false;
    case v1::LIFECYCLE_STAGE_NURTURE:
      if (stage == v1::LIFECYCLE_STAGE_NEW) return move(recommended);
      return false;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "the scorer recommends DISQUALIFIED, NURTURE or MQL, not ",
          StageName(recommended)));
  }
}

absl::Status Lifecycle::RecordOptOut(absl::Time at,
                                     v1::LeadLifecycle* lifecycle) const {
  v1::LeadLifecycle next = *lifecycle;
  next.set_opted_out(true);
  const Stage stage = next.stage();
  if (stage != v1::LIFECYCLE_STAGE_UNSPECIFIED &&
      stage != v1::LIFECYCLE_STAGE_CUSTOMER &&
      stage != v1::LIFECYCLE_STAGE_DISQUALIFIED) {
    if (absl::Status status = Transition(
            Move(v1::LIFECYCLE_STAGE_DISQUALIFIED, v1::ACTOR_SYSTEM,
                 kEngineActorId, at,
                 DisqualificationName(v1::DISQUALIFICATION_REASON_OPTED_OUT)),
            &next);
        !status.ok()) {
      return status;
    }
  }
  *lifecycle = std::move(next);
  return absl::OkStatus();
}

absl::Status Lifecycle::RecordFirstTouch(absl::Time at,
                                         v1::LeadLifecycle* lifecycle) const {
  if (!lifecycle->has_mql_at() || lifecycle->has_first_touched_at() ||
      at < TimeFromProto(lifecycle->mql_at())) {
    return absl::OkStatus();
  }
  TimeToProto(at, lifecycle->mutable_first_touched_at());
  return absl::OkStatus();
}

std::optional<absl::Time> SlaStart(const v1::LeadLifecycle& lifecycle) {
  if (!IsSlaStage(lifecycle.stage()) || !lifecycle.has_mql_at()) {
    return std::nullopt;
  }
  return TimeFromProto(lifecycle.mql_at());
}

SlaProgress SlaProgressOf(const v1::LeadLifecycle& lifecycle) {
  auto time_of = [](bool has, const google::protobuf::Timestamp& t) {
    return has ? std::optional<absl::Time>(TimeFromProto(t)) : std::nullopt;
  };
  SlaProgress progress;
  progress.first_touched_at =
      time_of(lifecycle.has_first_touched_at(), lifecycle.first_touched_at());
  progress.sales_decision_at =
      time_of(lifecycle.has_sales_decision_at(), lifecycle.sales_decision_at());
  progress.meeting_held_at =
      time_of(lifecycle.has_meeting_held_at(), lifecycle.meeting_held_at());
  progress.feedback_at =
      time_of(lifecycle.has_feedback_at(), lifecycle.feedback_at());
  return progress;
}

}  // namespace smarketing
