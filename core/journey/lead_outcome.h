// What became of a lead, read from its stage history. The service records
// sales' decisions as stage moves: accepted is a move to SAL; rejected, a
// move by sales from MQL back to nurture or out, with the reason; won, a
// move to CUSTOMER; lost, a move by sales from SAL, SQL or OPPORTUNITY back
// to nurture or out, with the reason. Training data and back-tests read it.
#ifndef SMARKETING_CORE_JOURNEY_LEAD_OUTCOME_H_
#define SMARKETING_CORE_JOURNEY_LEAD_OUTCOME_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "smarketing/v1/lifecycle_state.pb.h"

namespace smarketing {

// A lead rejected, recycled and accepted later is both rejected and
// accepted; the reasons are the latest ones.
struct LeadOutcome {
  bool mql = false;
  std::optional<absl::Time> mql_at;  // the first time it became an MQL
  bool accepted = false;
  bool rejected = false;
  std::string rejection_reason;
  bool sql = false;
  bool converted = false;  // became an opportunity
  bool won = false;
  bool lost = false;
  std::string loss_reason;
};

LeadOutcome OutcomeOf(const v1::LeadLifecycle& lifecycle);

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_LEAD_OUTCOME_H_
