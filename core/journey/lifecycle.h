// The lead lifecycle state machine: which stage moves are allowed, who may
// make each (marketing, sales, the system) and which need a reason code
// agreed in the Playbook; every move is recorded in the lead's history, and
// sales feedback and the scorer's recommendations go through the same
// table.
//
//   from          to             actors                    reason
//   (none)        NEW            marketing, system         -
//   NEW           MQL            marketing, system         -
//   NEW           NURTURE        marketing, system         -
//   NEW           DISQUALIFIED   marketing, system         disqualification
//   MQL           SAL            sales                     -
//   MQL           NURTURE        sales, system             recycle
//   MQL           DISQUALIFIED   marketing, sales, system  disqualification
//   SAL           SQL            sales                     -
//   SAL           NURTURE        sales, system             recycle
//   SAL           DISQUALIFIED   sales, system             disqualification
//   SQL           OPPORTUNITY    sales                     -
//   SQL           NURTURE        sales, system             recycle
//   SQL           DISQUALIFIED   sales, system             disqualification
//   OPPORTUNITY   CUSTOMER       sales                     -
//   OPPORTUNITY   NURTURE        sales                     loss (recycled)
//   OPPORTUNITY   DISQUALIFIED   sales, system             disqualification
//   NURTURE       MQL            marketing, system         -
//   NURTURE       DISQUALIFIED   marketing, system         disqualification
//
// CUSTOMER and DISQUALIFIED are final: a disqualified lead is never routed
// or nurtured again. Reasons:
//   recycle: a rejection reason that recycles, given by sales; the system
//     recycles only with "sla_breach" (an escalation);
//   loss: a loss reason that recycles;
//   disqualification: a disqualification reason ("company_size",
//     "industry", "geography", "competitor", "bad_data", "opted_out",
//     "other"), or a rejection or loss reason that does not recycle.
// A recycled lead may not become MQL again before the Playbook's nurture
// cooldown has passed. An opted-out lead may only be disqualified: it is
// never solicited again.
#ifndef SMARKETING_CORE_JOURNEY_LIFECYCLE_H_
#define SMARKETING_CORE_JOURNEY_LIFECYCLE_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/journey/sla.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"
#include "smarketing/v1/scoring.pb.h"

namespace smarketing {

// What kind of reason code a move needs.
enum class ReasonKind : uint8_t {
  kNone,              // none needed; one given is recorded as is
  kRecycle,           // a recycling rejection reason, or "sla_breach"
  kLoss,              // a recycling loss reason
  kDisqualification,  // see above
};

// One allowed move.
struct TransitionRule {
  v1::LifecycleStage from;
  v1::LifecycleStage to;
  // Bit (1 << actor) for each v1::Actor allowed to make it.
  uint8_t actors;
  ReasonKind reason;
};

// Every allowed move, in the order of the table above.
absl::Span<const TransitionRule> TransitionTable();

// The rule for from -> to, nullptr when the move is not allowed.
const TransitionRule* FindTransition(v1::LifecycleStage from,
                                     v1::LifecycleStage to);

class Lifecycle {
 public:
  // `recycle` is the Playbook's compiled sla.recycle; it must outlive this.
  explicit Lifecycle(const RecyclePolicy* recycle) : recycle_(recycle) {}

  // Captures a lead: stage NEW at `at`, by `actor` (marketing or system).
  absl::StatusOr<v1::LeadLifecycle> Start(absl::Time at, v1::Actor actor,
                                          absl::string_view actor_id) const;

  // Moves the lead as `move` says (to, actor, actor_id, at, reason_code,
  // note; `from`, when set, must be the current stage) and records it.
  // FAILED_PRECONDITION naming the moves allowed from the current stage when
  // the move or its actor is not allowed, or the lead opted out or is in its
  // nurture cooldown; INVALID_ARGUMENT for a missing actor or time, a time
  // before the last move, or a missing or wrong reason. On error the
  // lifecycle is unchanged.
  absl::Status Transition(const v1::StageTransition& move,
                          v1::LeadLifecycle* lifecycle) const;

  // Applies sales feedback: accepted (MQL -> SAL), rejected (-> NURTURE or
  // DISQUALIFIED by the reason's recycle flag), meeting held (recorded;
  // SAL -> SQL), opportunity created (SQL -> OPPORTUNITY, through SQL from
  // SAL), won (-> CUSTOMER), lost (-> NURTURE or DISQUALIFIED by the loss
  // reason). The first feedback after a meeting is recorded for the SLA.
  // Errors as Transition; nothing is applied on error.
  absl::Status ApplyFeedback(const v1::Feedback& feedback,
                             v1::LeadLifecycle* lifecycle) const;

  // Applies the stage the scorer recommends, as the system: DISQUALIFIED
  // from NEW, MQL or NURTURE (an opt-out from any stage, see
  // RecordOptOut); MQL from NEW, and from NURTURE once the cooldown has
  // passed (engagement rose again); NURTURE from NEW. Stages that sales
  // owns are left alone. Returns whether the lead moved.
  absl::StatusOr<bool> ApplyRecommendation(v1::LifecycleStage recommended,
                                           v1::DisqualificationReason reason,
                                           absl::Time at,
                                           v1::LeadLifecycle* lifecycle) const;

  // The person asked not to be contacted: flags the lead and disqualifies
  // it ("opted_out") unless it is a customer or already disqualified.
  absl::Status RecordOptOut(absl::Time at, v1::LeadLifecycle* lifecycle) const;

  // The owner first touched the lead (call, e-mail) at `at`, for the SLA.
  // Later touches, and touches before the lead became MQL, change nothing.
  absl::Status RecordFirstTouch(absl::Time at,
                                v1::LeadLifecycle* lifecycle) const;

 private:
  absl::Status CheckReason(const TransitionRule& rule, v1::Actor actor,
                           const std::string& reason) const;

  const RecyclePolicy* recycle_;
};

// When the SLA counts from for this lead: when it last became MQL, while it
// is MQL, SAL, SQL or OPPORTUNITY; nullopt otherwise.
std::optional<absl::Time> SlaStart(const v1::LeadLifecycle& lifecycle);

// What the SLA needs to know of the lead's progress since then.
SlaProgress SlaProgressOf(const v1::LeadLifecycle& lifecycle);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_LIFECYCLE_H_
