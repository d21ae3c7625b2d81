// The weekly review of the stored leads, shared by ReportService.GetReview
// and the HTTP page: checks the request, reads the review facts of the leads
// the period needs from the store and hands them to the core's
// ReviewBuilder.
#ifndef SMARKETING_GRPC_SERVER_REVIEW_QUERY_H_
#define SMARKETING_GRPC_SERVER_REVIEW_QUERY_H_

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc_server/playbooks.h"
#include "smarketing/v1/report_service.pb.h"
#include "store/store.h"

namespace smarketing {

// The review `request` asks for, under the Playbook versions in force during
// its period (see ReviewBuilder::Create), at `now` (the request's own `now`
// wins). INVALID_ARGUMENT naming the field for a bad week or period;
// CANCELLED as soon as `cancelled` returns true.
absl::StatusOr<v1::Review> ComputeReview(Store& store, Playbooks& playbooks,
                                         const v1::GetReviewRequest& request,
                                         absl::Time now,
                                         absl::FunctionRef<bool()> cancelled);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_REVIEW_QUERY_H_
