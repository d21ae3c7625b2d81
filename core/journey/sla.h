// The SLA between marketing and sales compiled for evaluation: how fast sales
// must work a lead of each priority, counted in business time, where a lead
// stands against those deadlines at a given time, which escalation step is
// due, and what a rejection, a loss or a breach does to the lead.
#ifndef SMARKETING_CORE_JOURNEY_SLA_H_
#define SMARKETING_CORE_JOURNEY_SLA_H_

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/base/problems.h"
#include "core/journey/business_calendar.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/sla.pb.h"
#include "smarketing/v1/sla_status.pb.h"

namespace smarketing {

// Reason code the engine records when it recycles a lead that breached its
// SLA; reserved, so a Playbook cannot give it another meaning.
inline constexpr char kSlaBreachReason[] = "sla_breach";

// Deadlines longer than this are refused: no SLA is counted in years, and
// it bounds the work of an evaluation.
inline constexpr absl::Duration kMaxSlaDuration = absl::Hours(24 * 366);

// Where a rejected, lost or breached lead goes, and why.
struct RecycleOutcome {
  // NURTURE or DISQUALIFIED.
  v1::LifecycleStage stage = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  // The reason code, kept on the transition.
  std::string reason_code;
  // For NURTURE: when the lead may become MQL again.
  absl::Time nurture_until = absl::InfinitePast();
};

// The Playbook's sla.recycle: the agreed rejection and loss reason codes and
// the nurture cooldown.
class RecyclePolicy {
 public:
  // Compiles `policy`, found at `path` (e.g. "sla.recycle"), adding every
  // problem to `problems`; returns false if there was any.
  bool Compile(const v1::RecyclePolicy& policy, const std::string& path,
               ProblemList* problems);

  // nullptr when `code` is not an agreed rejection (or loss) reason.
  const v1::ReasonCode* FindRejection(absl::string_view code) const;
  const v1::ReasonCode* FindLoss(absl::string_view code) const;

  // Sales rejected the lead at `at` with `code`: NURTURE when the reason
  // recycles, else DISQUALIFIED. INVALID_ARGUMENT naming the agreed codes
  // when `code` is not one of them.
  absl::StatusOr<RecycleOutcome> OnRejection(absl::string_view code,
                                             absl::Time at) const;
  // The deal was lost at `at` for `code`: as OnRejection, with loss codes.
  absl::StatusOr<RecycleOutcome> OnLoss(absl::string_view code,
                                        absl::Time at) const;
  // The lead breached its SLA and an escalation recycles it at `at`:
  // NURTURE with kSlaBreachReason.
  RecycleOutcome OnBreach(absl::Time at) const;

  absl::Duration nurture_cooldown() const { return nurture_cooldown_; }
  // "code1, code2" for error messages; "none" when there are none.
  std::string RejectionCodes() const;
  std::string LossCodes() const;

 private:
  // Reason codes with their index in the list.
  using Codes = absl::flat_hash_map<std::string, int>;

  v1::RecyclePolicy policy_;
  Codes rejections_;
  Codes losses_;
  absl::Duration nurture_cooldown_;
};

// What has happened to a lead since it entered the stage the SLA counts
// from. Times after the evaluation's `now` are treated as not happened yet.
struct SlaProgress {
  std::optional<absl::Time> first_touched_at;
  // Sales accepted or rejected it.
  std::optional<absl::Time> sales_decision_at;
  // Latest meeting held with the lead.
  std::optional<absl::Time> meeting_held_at;
  // First feedback after that meeting; ignored when before it.
  std::optional<absl::Time> feedback_at;
};

// A lead's deadlines and where it stands at one time. Deadlines that do not
// apply are InfiniteFuture().
struct SlaEvaluation {
  v1::Priority priority = v1::PRIORITY_UNSPECIFIED;
  // UNSPECIFIED when no policy covers the priority.
  v1::SlaState state = v1::SLA_STATE_UNSPECIFIED;
  absl::Time entered_at = absl::InfinitePast();
  absl::Time first_touch_due = absl::InfiniteFuture();
  absl::Time accept_or_reject_due = absl::InfiniteFuture();
  // Once a meeting is held, when the policy sets a feedback delay.
  absl::Time feedback_due = absl::InfiniteFuture();
  // The earliest deadline missed: still open, or met late.
  absl::Time breached_at = absl::InfiniteFuture();
  // The latest escalation step due now for a deadline still open past its
  // due time: its index in the policy's escalations and its action; -1 and
  // UNSPECIFIED when none. Steps count business time from the breach.
  int escalation_step = -1;
  v1::EscalationAction escalation_due = v1::ESCALATION_ACTION_UNSPECIFIED;
  // When the state or the escalation step changes next if nothing happens
  // (the next at-risk time, due time or escalation step ahead);
  // InfiniteFuture() when never. Lets the service find the leads about to
  // breach without evaluating them all.
  absl::Time next_change = absl::InfiniteFuture();
};

class Sla {
 public:
  // One priority's policy, compiled.
  struct Policy {
    v1::Priority priority = v1::PRIORITY_UNSPECIFIED;
    absl::Duration first_touch;
    absl::Duration accept_or_reject;
    // Zero when the policy sets no feedback delay.
    absl::Duration feedback_after_meeting;
    double at_risk_ratio = 0.8;
    // The at-risk share of each deadline.
    absl::Duration first_touch_at_risk;
    absl::Duration accept_or_reject_at_risk;
    absl::Duration feedback_at_risk;
    struct Escalation {
      absl::Duration after_breach;
      v1::EscalationAction action = v1::ESCALATION_ACTION_UNSPECIFIED;
    };
    std::vector<Escalation> escalations;
  };

  // Compiles `sla`, found at `path` (e.g. "sla"), adding every problem to
  // `problems`; returns false if there was any.
  bool Compile(const v1::Sla& sla, const std::string& path,
               ProblemList* problems);

  // The policy of `priority`, nullptr when none.
  const Policy* policy(v1::Priority priority) const;
  bool has_policies() const { return has_policies_; }
  // The calendar of teams without their own; nullptr when the Playbook
  // sets none.
  const std::shared_ptr<const BusinessCalendar>& default_calendar() const {
    return default_calendar_;
  }
  const RecyclePolicy& recycle() const { return recycle_; }

  // A lead of `priority` that entered its stage at `entered_at`, owned by a
  // team working on `calendar` (nullptr: the default calendar), seen at
  // `now`. Every open deadline is ON_TRACK before its at-risk share of
  // business time, AT_RISK from it, BREACHED after its due time; a
  // deadline is MET when what it asks for happened by its due time. The
  // lead is BREACHED if any deadline was missed, else MET when all were
  // met, else AT_RISK if any is, else ON_TRACK. Never allocates.
  SlaEvaluation Evaluate(v1::Priority priority, absl::Time entered_at,
                         const SlaProgress& progress, absl::Time now,
                         const BusinessCalendar* calendar = nullptr) const;

 private:
  std::array<std::optional<Policy>, v1::Priority_ARRAYSIZE> policies_;
  bool has_policies_ = false;
  std::shared_ptr<const BusinessCalendar> default_calendar_;
  RecyclePolicy recycle_;
};

// The evaluation as the schema's SlaStatus; deadlines that do not apply
// stay unset. Reuses `out`'s storage.
void SlaEvaluationToProto(const SlaEvaluation& evaluation, v1::SlaStatus* out);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_SLA_H_
