// Who may call what, declared once: the role each RPC needs. The servicers
// authorize only through Authorize below, and a test checks the table
// against the services' descriptors, so a new method without a rule fails
// the tests (and, until then, refuses every caller).
#ifndef SMARKETING_GRPC_SERVER_ACCESS_H_
#define SMARKETING_GRPC_SERVER_ACCESS_H_

#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "grpc_server/auth.h"

namespace smarketing {

// The rule of one method. A few requests can ask for more than the method
// usually does (publishing and activating at once, moving people between
// teams); that part needs `elevated_role`.
struct MethodAccess {
  // "Service.Method", inside the package smarketing.v1.
  absl::string_view method;
  Role role;
  // The role the elevated part needs, and what that part is (for the error
  // message); empty when the method has none.
  Role elevated_role;
  absl::string_view elevated_part;
};

// Every rule, one per method of every service.
absl::Span<const MethodAccess> MethodAccessTable();

// Authenticates the call from its metadata (UNAUTHENTICATED) and checks the
// caller's role against the rule of `method` (PERMISSION_DENIED), with its
// elevated part when `elevated`.
absl::StatusOr<Caller> Authorize(const TokenTable& tokens,
                                 const grpc::ServerContextBase& context,
                                 absl::string_view method,
                                 bool elevated = false);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_ACCESS_H_
