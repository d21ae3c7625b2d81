#include "core/journey/lead_outcome.h"

#include <algorithm>

#include "core/base/proto_time.h"

namespace smarketing {
namespace {

// How far down the sales funnel a stage is: 0 before sales accepted it.
int SalesDepth(v1::LifecycleStage stage) {
  switch (stage) {
    case v1::LIFECYCLE_STAGE_SAL:
      return 1;
    case v1::LIFECYCLE_STAGE_SQL:
      return 2;
    case v1::LIFECYCLE_STAGE_OPPORTUNITY:
      return 3;
    case v1::LIFECYCLE_STAGE_CUSTOMER:
      return 4;
    default:
      return 0;
  }
}

bool IsSalesDecision(const v1::StageTransition& t) {
  return t.actor() == v1::ACTOR_SALES &&
         (t.to() == v1::LIFECYCLE_STAGE_NURTURE ||
          t.to() == v1::LIFECYCLE_STAGE_DISQUALIFIED);
}

}  // namespace

LeadOutcome OutcomeOf(const v1::LeadLifecycle& lifecycle) {
  LeadOutcome out;
  int deepest = 0;
  for (const v1::StageTransition& t : lifecycle.history()) {
    if (t.to() == v1::LIFECYCLE_STAGE_MQL) {
      out.mql = true;
      if (!out.mql_at.has_value()) out.mql_at = TimeFromProto(t.at());
    }
    deepest = std::max(deepest, SalesDepth(t.to()));
    if (!IsSalesDecision(t)) continue;
    if (t.from() == v1::LIFECYCLE_STAGE_MQL) {
      out.rejected = true;
      out.rejection_reason = t.reason_code();
    } else if (SalesDepth(t.from()) >= 1 && SalesDepth(t.from()) <= 3) {
      out.lost = true;
      out.loss_reason = t.reason_code();
    }
  }
  out.accepted = deepest >= 1;
  out.sql = deepest >= 2;
  out.converted = deepest >= 3;
  out.won = deepest >= 4;
  return out;
}

}  // namespace smarketing
