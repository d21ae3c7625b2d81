#include "core/journey/sla.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/enum_label.h"
#include "core/base/proto_time.h"

namespace smarketing {
namespace {

constexpr double kDefaultAtRiskRatio = 0.8;

enum class Bound { kPositive, kNotNegative };

// The duration at `path`, or nullopt with a problem added. An unset
// duration is 0.
std::optional<absl::Duration> CheckDuration(
    const google::protobuf::Duration& proto, bool required, Bound bound,
    const std::string& path, ProblemList* problems) {
  const std::optional<absl::Duration> d = DurationFromProto(proto);
  if (!d.has_value()) {
    problems->Add(path,
                  "malformed duration: nanos out of range or of the other "
                  "sign than seconds");
    return std::nullopt;
  }
  if (*d == absl::ZeroDuration() && required) {
    problems->Add(path, "required, > 0");
    return std::nullopt;
  }
  if (bound == Bound::kPositive ? *d <= absl::ZeroDuration()
                                : *d < absl::ZeroDuration()) {
    problems->Add(path, bound == Bound::kPositive ? "must be > 0"
                                                  : "must not be negative");
    return std::nullopt;
  }
  if (*d > kMaxSlaDuration) {
    problems->Add(path, "must be at most 366 days");
    return std::nullopt;
  }
  return d;
}

// "high" for PRIORITY_HIGH.
std::string PriorityName(v1::Priority priority) { return EnumLabel(priority); }

std::optional<absl::Time> HappenedBy(const std::optional<absl::Time>& t,
                                     absl::Time now) {
  if (t.has_value() && *t <= now) return t;
  return std::nullopt;
}

}  // namespace

bool RecyclePolicy::Compile(const v1::RecyclePolicy& policy,
                            const std::string& path, ProblemList* problems) {
  const int before = problems->size();
  policy_ = policy;
  auto compile_codes = [&](const auto& reasons, const char* list,
                           Codes* codes) {
    codes->clear();
    for (int i = 0; i < reasons.size(); ++i) {
      const std::string& code = reasons.Get(i).code();
      const std::string code_path =
          absl::StrCat(path, ".", list, "[", i, "].code");
      if (code.empty()) {
        problems->Add(code_path, "required");
      } else if (code == kSlaBreachReason) {
        problems->Add(code_path,
                      absl::StrCat("\"", kSlaBreachReason,
                                   "\" is reserved for leads the SLA "
                                   "recycles"));
      } else if (auto [it, inserted] = codes->emplace(code, i); !inserted) {
        problems->Add(code_path,
                      absl::StrCat("duplicate code \"", code, "\", also ", list,
                                   "[", it->second, "]"));
      }
    }
  };
  compile_codes(policy.rejection_reasons(), "rejection_reasons", &rejections_);
  compile_codes(policy.loss_reasons(), "loss_reasons", &losses_);
  nurture_cooldown_ =
      CheckDuration(policy.nurture_cooldown(), false, Bound::kNotNegative,
                    absl::StrCat(path, ".nurture_cooldown"), problems)
          .value_or(absl::ZeroDuration());
  return problems->size() == before;
}

const v1::ReasonCode* RecyclePolicy::FindRejection(
    absl::string_view code) const {
  const auto it = rejections_.find(code);
  return it == rejections_.end() ? nullptr
                                 : &policy_.rejection_reasons(it->second);
}

const v1::ReasonCode* RecyclePolicy::FindLoss(absl::string_view code) const {
  const auto it = losses_.find(code);
  return it == losses_.end() ? nullptr : &policy_.loss_reasons(it->second);
}

namespace {

RecycleOutcome Outcome(const v1::ReasonCode& reason, absl::Time at,
                       absl::Duration cooldown) {
  RecycleOutcome outcome;
  outcome.reason_code = reason.code();
  if (reason.recycle()) {
    outcome.stage = v1::LIFECYCLE_STAGE_NURTURE;
    outcome.nurture_until = at + cooldown;
  } else {
    outcome.stage = v1::LIFECYCLE_STAGE_DISQUALIFIED;
  }
  return outcome;
}

std::string JoinCodes(const auto& reasons) {
  if (reasons.empty()) return "none";
  return absl::StrJoin(reasons, ", ",
                       [](std::string* out, const v1::ReasonCode& reason) {
                         out->append(reason.code());
                       });
}

}  // namespace

absl::StatusOr<RecycleOutcome> RecyclePolicy::OnRejection(
    absl::string_view code, absl::Time at) const {
  const v1::ReasonCode* reason = FindRejection(code);
  if (reason == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown rejection reason \"", code,
                     "\"; the Playbook agrees on: ", RejectionCodes()));
  }
  return Outcome(*reason, at, nurture_cooldown_);
}

absl::StatusOr<RecycleOutcome> RecyclePolicy::OnLoss(absl::string_view code,
                                                     absl::Time at) const {
  const v1::ReasonCode* reason = FindLoss(code);
  if (reason == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown loss reason \"", code,
                     "\"; the Playbook agrees on: ", LossCodes()));
  }
  return Outcome(*reason, at, nurture_cooldown_);
}

RecycleOutcome RecyclePolicy::OnBreach(absl::Time at) const {
  RecycleOutcome outcome;
  outcome.stage = v1::LIFECYCLE_STAGE_NURTURE;
  outcome.reason_code = kSlaBreachReason;
  outcome.nurture_until = at + nurture_cooldown_;
  return outcome;
}

std::string RecyclePolicy::RejectionCodes() const {
  return JoinCodes(policy_.rejection_reasons());
}

std::string RecyclePolicy::LossCodes() const {
  return JoinCodes(policy_.loss_reasons());
}

namespace {

// Index in sla.policies of each priority's policy, to name duplicates.
using PolicyIndex = std::array<int, v1::Priority_ARRAYSIZE>;

// Whether policies[i] names a priority that no earlier policy has.
bool CheckPolicyPriority(v1::Priority priority, int i,
                         const std::string& policy_path,
                         PolicyIndex* policy_index, ProblemList* problems) {
  if (priority == v1::PRIORITY_UNSPECIFIED) {
    problems->Add(absl::StrCat(policy_path, ".priority"),
                  "required: low, medium, high or urgent");
    return false;
  }
  if (!v1::Priority_IsValid(priority)) {
    problems->Add(absl::StrCat(policy_path, ".priority"),
                  absl::StrCat("unknown priority ", priority));
    return false;
  }
  if (const int other = (*policy_index)[priority]; other >= 0) {
    problems->Add(absl::StrCat(policy_path, ".priority"),
                  absl::StrCat("priority ", PriorityName(priority),
                               " already has a policy: policies[", other, "]"));
    return false;
  }
  (*policy_index)[priority] = i;
  return true;
}

// The policy's escalation steps, by increasing delay after the breach.
bool CompileEscalations(const v1::SlaPolicy& proto,
                        const std::string& policy_path, Sla::Policy* policy,
                        ProblemList* problems) {
  bool ok = true;
  for (int j = 0; j < proto.escalations_size(); ++j) {
    const v1::EscalationStep& step = proto.escalations(j);
    const std::string step_path =
        absl::StrCat(policy_path, ".escalations[", j, "]");
    Sla::Policy::Escalation escalation;
    const std::optional<absl::Duration> after_breach =
        CheckDuration(step.after_breach(), false, Bound::kNotNegative,
                      absl::StrCat(step_path, ".after_breach"), problems);
    if (after_breach.has_value()) {
      escalation.after_breach = *after_breach;
    } else {
      ok = false;
    }
    if (after_breach.has_value() && !policy->escalations.empty() &&
        escalation.after_breach <= policy->escalations.back().after_breach) {
      problems->Add(absl::StrCat(step_path, ".after_breach"),
                    absl::StrCat("must be after the previous step's (",
                                 absl::FormatDuration(
                                     policy->escalations.back().after_breach),
                                 "): steps come by increasing delay"));
      ok = false;
    }
    escalation.action = step.action();
    if (escalation.action == v1::ESCALATION_ACTION_UNSPECIFIED) {
      problems->Add(absl::StrCat(step_path, ".action"),
                    "required: remind_owner, reassign, "
                    "escalate_to_manager or recycle");
      ok = false;
    } else if (!v1::EscalationAction_IsValid(escalation.action)) {
      problems->Add(absl::StrCat(step_path, ".action"),
                    absl::StrCat("unknown action ", escalation.action));
      ok = false;
    }
    policy->escalations.push_back(escalation);
  }
  return ok;
}

// policies[i], or nothing when it has a problem.
std::optional<Sla::Policy> CompilePolicy(const v1::SlaPolicy& proto, int i,
                                         const std::string& path,
                                         PolicyIndex* policy_index,
                                         ProblemList* problems) {
  const std::string policy_path = absl::StrCat(path, ".policies[", i, "]");
  Sla::Policy policy;
  policy.priority = proto.priority();
  bool ok = CheckPolicyPriority(policy.priority, i, policy_path, policy_index,
                                problems);

  auto duration = [&](const google::protobuf::Duration& d,
                      const std::string& field, absl::Duration* out) {
    const std::optional<absl::Duration> value =
        CheckDuration(d, true, Bound::kPositive,
                      absl::StrCat(policy_path, ".", field), problems);
    if (value.has_value()) *out = *value;
    ok = ok && value.has_value();
  };
  duration(proto.first_touch(), "first_touch", &policy.first_touch);
  duration(proto.accept_or_reject(), "accept_or_reject",
           &policy.accept_or_reject);
  if (proto.has_feedback_after_meeting()) {
    duration(proto.feedback_after_meeting(), "feedback_after_meeting",
             &policy.feedback_after_meeting);
  }
  if (proto.at_risk_ratio() != 0) {
    policy.at_risk_ratio = proto.at_risk_ratio();
    if (!(policy.at_risk_ratio > 0 && policy.at_risk_ratio < 1)) {
      problems->Add(absl::StrCat(policy_path, ".at_risk_ratio"),
                    "must be between 0 and 1, both excluded (unset: 0.8)");
      ok = false;
    }
  } else {
    policy.at_risk_ratio = kDefaultAtRiskRatio;
  }
  ok = CompileEscalations(proto, policy_path, &policy, problems) && ok;
  policy.first_touch_at_risk = policy.first_touch * policy.at_risk_ratio;
  policy.accept_or_reject_at_risk =
      policy.accept_or_reject * policy.at_risk_ratio;
  policy.feedback_at_risk =
      policy.feedback_after_meeting * policy.at_risk_ratio;
  if (!ok) return std::nullopt;
  return policy;
}

}  // namespace

bool Sla::Compile(const v1::Sla& sla, const std::string& path,
                  ProblemList* problems) {
  const int before = problems->size();
  policies_ = {};
  has_policies_ = !sla.policies().empty();
  default_calendar_.reset();
  PolicyIndex policy_index;
  policy_index.fill(-1);
  for (int i = 0; i < sla.policies_size(); ++i) {
    std::optional<Policy> policy =
        CompilePolicy(sla.policies(i), i, path, &policy_index, problems);
    if (policy.has_value()) policies_[policy->priority] = *std::move(policy);
  }

  if (sla.has_default_calendar()) {
    auto calendar = std::make_shared<BusinessCalendar>();
    if (calendar->Compile(sla.default_calendar(),
                          absl::StrCat(path, ".default_calendar"), problems)) {
      default_calendar_ = std::move(calendar);
    }
  } else if (has_policies_) {
    problems->Add(absl::StrCat(path, ".default_calendar"),
                  "required when policies exist: deadlines count business "
                  "time on it for teams without a calendar");
  }
  recycle_.Compile(sla.recycle(), absl::StrCat(path, ".recycle"), problems);
  return problems->size() == before;
}

const Sla::Policy* Sla::policy(v1::Priority priority) const {
  if (priority < 0 || priority >= v1::Priority_ARRAYSIZE) return nullptr;
  const std::optional<Policy>& p = policies_[priority];
  return p.has_value() ? &*p : nullptr;
}

namespace {

// Judges an SLA's deadlines one after the other, and keeps what its state
// depends on.
class DeadlineJudge {
 public:
  DeadlineJudge(absl::Time now, SlaEvaluation* result)
      : now_(now), result_(result) {}

  // One deadline: `due`, at risk `at_risk_share` of business time after the
  // start of `walk`, for `done` to happen.
  void Judge(BusinessCalendar::Walk& walk, absl::Duration at_risk_share,
             absl::Time due, const std::optional<absl::Time>& done) {
    if (done.has_value()) {
      if (*done > due) {
        breached_ = true;
        result_->breached_at = std::min(result_->breached_at, due);
      }
      return;
    }
    all_done_ = false;
    if (now_ > due) {
      breached_ = true;
      result_->breached_at = std::min(result_->breached_at, due);
      open_breach_ = std::min(open_breach_, due);
      return;
    }
    next_due_ = std::min(next_due_, due);
    const absl::Time risky = walk.After(at_risk_share);
    if (now_ >= risky) {
      at_risk_ = true;
      next_risk_or_due_ = std::min(next_risk_or_due_, due);
    } else {
      next_risk_or_due_ = std::min(next_risk_or_due_, risky);
    }
  }

  // The state, and when it next changes, from every deadline judged.
  void Decide() {
    if (breached_) {
      result_->state = v1::SLA_STATE_BREACHED;
      // Only a new open breach changes anything now: it starts escalating.
      result_->next_change = next_due_;
    } else if (all_done_) {
      result_->state = v1::SLA_STATE_MET;
    } else {
      result_->state =
          at_risk_ ? v1::SLA_STATE_AT_RISK : v1::SLA_STATE_ON_TRACK;
      result_->next_change = next_risk_or_due_;
    }
  }

  // The earliest deadline passed with nothing done; InfiniteFuture if none.
  absl::Time open_breach() const { return open_breach_; }

 private:
  const absl::Time now_;
  SlaEvaluation* const result_;
  bool breached_ = false;
  bool at_risk_ = false;
  bool all_done_ = true;
  absl::Time open_breach_ = absl::InfiniteFuture();
  // Of the deadlines still open and not breached: the next at-risk or due
  // time, and the next due time.
  absl::Time next_risk_or_due_ = absl::InfiniteFuture();
  absl::Time next_due_ = absl::InfiniteFuture();
};

// The escalation steps already due for a breach open since `open_breach`,
// and when the next one falls due: only that changes anything now.
void Escalate(const Sla::Policy& p, const BusinessCalendar& calendar,
              absl::Time open_breach, absl::Time now, SlaEvaluation* result) {
  result->next_change = absl::InfiniteFuture();
  BusinessCalendar::Walk from_breach(calendar, open_breach);
  for (int i = 0; i < static_cast<int>(p.escalations.size()); ++i) {
    const absl::Time step_at = from_breach.After(p.escalations[i].after_breach);
    if (step_at > now) {
      result->next_change = step_at;
      break;
    }
    result->escalation_step = i;
    result->escalation_due = p.escalations[i].action;
  }
}

}  // namespace

SlaEvaluation Sla::Evaluate(v1::Priority priority, absl::Time entered_at,
                            const SlaProgress& progress, absl::Time now,
                            const BusinessCalendar* calendar) const {
  SlaEvaluation result;
  result.priority = priority;
  result.entered_at = entered_at;
  const Policy* p = policy(priority);
  if (calendar == nullptr) calendar = default_calendar_.get();
  if (p == nullptr || calendar == nullptr) return result;
  DeadlineJudge judge(now, &result);

  // Both deadlines count from the stage entry; walking to the earlier one
  // first lets the later continue from it, and likewise for at-risk times.
  const bool touch_first = p->first_touch <= p->accept_or_reject;
  BusinessCalendar::Walk to_due(*calendar, entered_at);
  BusinessCalendar::Walk to_risk = to_due;
  if (touch_first) {
    result.first_touch_due = to_due.After(p->first_touch);
    result.accept_or_reject_due = to_due.After(p->accept_or_reject);
  } else {
    result.accept_or_reject_due = to_due.After(p->accept_or_reject);
    result.first_touch_due = to_due.After(p->first_touch);
  }
  const std::optional<absl::Time> touched =
      HappenedBy(progress.first_touched_at, now);
  const std::optional<absl::Time> decided =
      HappenedBy(progress.sales_decision_at, now);
  if (touch_first) {
    judge.Judge(to_risk, p->first_touch_at_risk, result.first_touch_due,
                touched);
    judge.Judge(to_risk, p->accept_or_reject_at_risk,
                result.accept_or_reject_due, decided);
  } else {
    judge.Judge(to_risk, p->accept_or_reject_at_risk,
                result.accept_or_reject_due, decided);
    judge.Judge(to_risk, p->first_touch_at_risk, result.first_touch_due,
                touched);
  }

  const std::optional<absl::Time> meeting =
      HappenedBy(progress.meeting_held_at, now);
  if (meeting.has_value() && p->feedback_after_meeting > absl::ZeroDuration()) {
    BusinessCalendar::Walk from_meeting(*calendar, *meeting);
    BusinessCalendar::Walk meeting_risk = from_meeting;
    result.feedback_due = from_meeting.After(p->feedback_after_meeting);
    std::optional<absl::Time> feedback = HappenedBy(progress.feedback_at, now);
    if (feedback.has_value() && *feedback < *meeting) feedback.reset();
    judge.Judge(meeting_risk, p->feedback_at_risk, result.feedback_due,
                feedback);
  }

  judge.Decide();
  if (judge.open_breach() != absl::InfiniteFuture()) {
    Escalate(*p, *calendar, judge.open_breach(), now, &result);
  }
  return result;
}

void SlaEvaluationToProto(const SlaEvaluation& evaluation, v1::SlaStatus* out) {
  auto finite = [](absl::Time t) {
    return t != absl::InfiniteFuture() && t != absl::InfinitePast();
  };
  out->set_priority(evaluation.priority);
  out->set_state(evaluation.state);
  out->set_escalation_due(evaluation.escalation_due);
  if (finite(evaluation.entered_at)) {
    TimeToProto(evaluation.entered_at, out->mutable_stage_entered_at());
  } else {
    out->clear_stage_entered_at();
  }
  if (finite(evaluation.first_touch_due)) {
    TimeToProto(evaluation.first_touch_due, out->mutable_first_touch_due());
  } else {
    out->clear_first_touch_due();
  }
  if (finite(evaluation.accept_or_reject_due)) {
    TimeToProto(evaluation.accept_or_reject_due,
                out->mutable_accept_or_reject_due());
  } else {
    out->clear_accept_or_reject_due();
  }
  if (finite(evaluation.feedback_due)) {
    TimeToProto(evaluation.feedback_due, out->mutable_feedback_due());
  } else {
    out->clear_feedback_due();
  }
}

}  // namespace smarketing
