// The one place where the core's statuses become gRPC statuses. Validation
// problems attached by the core (ProblemsFromStatus) travel as
// google.rpc.BadRequest field violations in the standard
// "grpc-status-details-bin" trailer, so that any gRPC client can list them.
#ifndef SMARKETING_GRPC_SERVER_STATUS_H_
#define SMARKETING_GRPC_SERVER_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace smarketing {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_STATUS_H_
