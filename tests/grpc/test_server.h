// What the service tests share: a temporary folder per test, a token file
// with one token per role, client contexts that carry a token, and a server
// started once its first rescoring pass is over.
#ifndef SMARKETING_TESTS_GRPC_TEST_SERVER_H_
#define SMARKETING_TESTS_GRPC_TEST_SERVER_H_

#include <grpcpp/client_context.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "grpc_server/server.h"

namespace smarketing::test_server {

inline constexpr char kReader[] = "reader-token-aaaaaaaaaaaaaaaa";
inline constexpr char kSales[] = "sales-token-bbbbbbbbbbbbbbbbb";
inline constexpr char kMarketing[] = "marketing-token-ccccccccccccc";
inline constexpr char kAdmin[] = "admin-token-ddddddddddddddddd";

// A fresh folder, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "smarketing-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes a token file holding the four tokens above, one per role.
inline void WriteTokenFile(const std::filesystem::path& path) {
  std::ofstream(path) << "# test tokens\n"
                      << kReader << " reader ann\n"
                      << kSales << " sales sam\n"
                      << kMarketing << " marketing mia\n"
                      << kAdmin << " admin ada\n";
}

// A client context carrying `token` (none when empty) and a deadline.
inline std::unique_ptr<grpc::ClientContext> As(
    const std::string& token,
    std::chrono::seconds deadline = std::chrono::seconds(30)) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

// Starts a server once the rescoring pass it starts with is over: that pass,
// on the rescorer's thread, would otherwise rewrite a lead a test has just
// written, between two of the test's calls.
inline absl::StatusOr<std::unique_ptr<Server>> Start(
    const ServerOptions& options) {
  auto server = Server::Start(options);
  if (!server.ok() || (*server)->rescorer() == nullptr) return server;
  if (auto pass = (*server)->rescorer()->RunOnce(); !pass.ok()) {
    return pass.status();
  }
  return server;
}

}  // namespace smarketing::test_server

#endif  // SMARKETING_TESTS_GRPC_TEST_SERVER_H_
