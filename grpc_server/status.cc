#include "grpc_server/status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace smarketing {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  if (auto problems = ProblemsFromStatus(status)) {
    google::rpc::BadRequest bad_request;
    for (const v1::ValidationProblem& problem : problems->problems()) {
      auto* violation = bad_request.add_field_violations();
      violation->set_field(problem.path());
      violation->set_description(
          problem.line() > 0
              ? absl::StrCat("line ", problem.line(), ", column ",
                             problem.column(), ": ", problem.message())
              : problem.message());
    }
    details.add_details()->PackFrom(bad_request);
    // Also the problems with their positions, for smarketing's own clients.
    details.add_details()->PackFrom(*problems);
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace smarketing
