// The closed loop from campaigns to revenue: for the leads captured in a
// period, how far each campaign's, source's and persona's leads went (MQL,
// accepted or rejected by sales and why, meetings, opportunities, wins,
// revenue and margin) and how fast sales first touched them.
#ifndef SMARKETING_CORE_REVIEW_CLOSED_LOOP_H_
#define SMARKETING_CORE_REVIEW_CLOSED_LOOP_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "smarketing/v1/closed_loop.pb.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"

namespace smarketing {

// What one lead's feedback adds to its group's funnel: each outcome counts
// the lead once (every rejection counts for its reason); revenue and margin
// add up over its wins.
v1::FunnelCounts LeadOutcomes(absl::Span<const v1::Feedback> feedback);

// The funnel counts of one group of leads, added one lead at a time.
class FunnelTally {
 public:
  // `time_to_first_touch` when the lead counts as touched.
  void Add(const v1::FunnelCounts& lead, absl::Duration time_to_first_touch);
  // The sums, with the median time to first touch over the touched leads.
  void Finish(v1::FunnelCounts* out) const;

 private:
  v1::FunnelCounts counts_;
  std::vector<absl::Duration> times_to_first_touch_;
};

// Adds leads one at a time, so that a store can stream them.
class ClosedLoopReportBuilder {
 public:
  // The period [start, end).
  ClosedLoopReportBuilder(absl::Time start, absl::Time end);

  // Counts one lead if it was created in the period: each stage reached
  // and each outcome counts the lead once (every rejection counts for its
  // reason); revenue and margin add up over its wins. `persona_id` is its
  // best persona at its latest score.
  void Add(const v1::Lead& lead, const v1::LeadLifecycle& lifecycle,
           absl::string_view persona_id,
           absl::Span<const v1::Feedback> feedback);

  // Segments sorted by key.
  v1::ClosedLoopReport Build() const;

 private:
  absl::Time start_;
  absl::Time end_;
  FunnelTally total_;
  std::map<std::string, FunnelTally> by_campaign_;
  std::map<std::string, FunnelTally> by_source_;
  std::map<std::string, FunnelTally> by_persona_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_REVIEW_CLOSED_LOOP_H_
