// The slim record of one lead that the weekly review reads (LeadReviewFacts):
// which of a stored lead's fields, score and feedback it keeps, and until
// when a review still needs it. The store keeps the record beside the lead
// with these functions, so that the review's figures and the stored leads
// cannot disagree.
#ifndef SMARKETING_CORE_REVIEW_REVIEW_FACTS_H_
#define SMARKETING_CORE_REVIEW_REVIEW_FACTS_H_

#include "absl/time/time.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"
#include "smarketing/v1/review.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

// Sets the lead, lifecycle and score parts of `facts` from a stored lead,
// keeping the feedback it holds.
void SetReviewLead(const v1::Lead& lead, const v1::LeadLifecycle& lifecycle,
                   const v1::ScoreResult& score, v1::LeadReviewFacts* facts);

// Appends one feedback to `facts`, after the earlier ones.
void AddReviewFeedback(const v1::Feedback& feedback,
                       v1::LeadReviewFacts* facts);

// The latest time a review must reach back to for `facts` to count in it:
// the last stage move or feedback, or InfiniteFuture() for an MQL still
// waiting for its first touch (listed as untreated whatever the period);
// InfinitePast() for feedback on a lead not stored (yet). A
// review whose figures all start at or after some time needs only the leads
// whose time is at or after it.
absl::Time ReviewNeededUntil(const v1::LeadReviewFacts& facts);

}  // namespace smarketing

#endif  // SMARKETING_CORE_REVIEW_REVIEW_FACTS_H_
