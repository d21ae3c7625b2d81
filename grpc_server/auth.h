// Who is calling. Every call carries "authorization: Bearer <token>"; the
// token file maps tokens to a role and the name of their holder. Roles are
// cumulative, reader < sales < marketing < admin; what each role may call is
// declared in access.h.
#ifndef SMARKETING_GRPC_SERVER_AUTH_H_
#define SMARKETING_GRPC_SERVER_AUTH_H_

#include <grpcpp/server_context.h>

#include <array>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smarketing {

enum class Role { kReader = 0, kSales = 1, kMarketing = 2, kAdmin = 3 };

absl::string_view RoleName(Role role);

// The authenticated caller.
struct Caller {
  Role role = Role::kReader;
  // The holder's identifier from the token file (a service or user id,
  // never an e-mail): logged, and recorded as who published a Playbook.
  std::string name;
};

class TokenTable {
 public:
  // Reads lines "TOKEN ROLE NAME" ('#' starts a comment; blank lines are
  // skipped). Tokens must be at least 16 characters long and unique.
  static absl::StatusOr<TokenTable> Load(const std::string& path);
  static absl::StatusOr<TokenTable> Parse(absl::string_view text);

  // The caller holding `token`, or UNAUTHENTICATED. Compares against every
  // entry in constant time, so timing reveals nothing about tokens.
  absl::StatusOr<Caller> Find(absl::string_view token) const;

  // The caller of the call, from its "authorization" metadata, or
  // UNAUTHENTICATED. What the caller may do is decided in access.h.
  absl::StatusOr<Caller> Authenticate(
      const grpc::ServerContextBase& context) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<unsigned char, 32> digest;  // SHA-256 of the token
    Caller caller;
  };
  std::vector<Entry> entries_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_AUTH_H_
