#include "grpc_server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/playbook/playbook_loader.h"

namespace smarketing {
namespace {

constexpr size_t kMinTokenBytes = 16;

std::array<unsigned char, 32> Digest(absl::string_view token) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up among the providers
  // on every call, under locks: most of the cost of authorizing a call.
  // Fetched once, what remains is the hashing.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<unsigned char, 32> digest;
  if (sha256 != nullptr && EVP_Digest(token.data(), token.size(), digest.data(),
                                      nullptr, sha256, nullptr) == 1) {
    return digest;
  }
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         digest.data());
  return digest;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kSales:
      return "sales";
    case Role::kMarketing:
      return "marketing";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  auto text = ReadFileToString(path, 1 << 20);
  if (!text.ok()) return text.status();
  auto table = Parse(*text);
  if (!table.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token file ", path, ": ", table.status().message()));
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    // Messages name the line, never the token.
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": expected \"TOKEN ROLE NAME\""));
    }
    if (fields[0].size() < kMinTokenBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": tokens must be at least ",
                       kMinTokenBytes, " characters long"));
    }
    Entry entry;
    entry.digest = Digest(fields[0]);
    entry.caller.name = std::string(fields[2]);
    bool known = false;
    for (Role role :
         {Role::kReader, Role::kSales, Role::kMarketing, Role::kAdmin}) {
      if (fields[1] == RoleName(role)) {
        entry.caller.role = role;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": unknown role \"", fields[1],
                       "\"; expected reader, sales, marketing or admin"));
    }
    for (const Entry& other : table.entries_) {
      if (other.digest == entry.digest) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_number, ": duplicate token"));
      }
    }
    table.entries_.push_back(std::move(entry));
  }
  return table;
}

absl::StatusOr<Caller> TokenTable::Find(absl::string_view token) const {
  const auto digest = Digest(token);
  const Entry* found = nullptr;
  // No early exit: every entry is compared whatever matched.
  for (const Entry& entry : entries_) {
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) {
      found = &entry;
    }
  }
  if (found == nullptr) {
    return absl::UnauthenticatedError("the bearer token is not valid");
  }
  return found->caller;
}

absl::StatusOr<Caller> TokenTable::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "missing \"authorization: Bearer <token>\" metadata");
  }
  const absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(value, kBearer)) {
    return absl::UnauthenticatedError(
        "the authorization metadata must read \"Bearer <token>\"");
  }
  return Find(absl::StripAsciiWhitespace(value.substr(kBearer.size())));
}

}  // namespace smarketing
