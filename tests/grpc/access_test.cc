// The access table against the schema: every method of every service the
// proto declares has exactly one rule, and every rule names a real method.
#include "grpc_server/access.h"

#include <filesystem>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

constexpr char kPackage[] = "smarketing.v1.";

// The methods of every service of the schema (one per *_service.proto), as
// "Service.Method".
std::set<std::string> SchemaMethods() {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::set<std::string> methods;
  const std::filesystem::path dir =
      std::filesystem::path(SMARKETING_SOURCE_DIR) / "proto/smarketing/v1";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!absl::EndsWith(entry.path().filename().string(), "_service.proto")) {
      continue;
    }
    const std::string name =
        absl::StrCat("smarketing/v1/", entry.path().filename().string());
    const auto* file = pool->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name << " is not linked into the server";
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        methods.insert(
            absl::StrCat(service->name(), ".", service->method(m)->name()));
      }
    }
  }
  return methods;
}

TEST(AccessTableTest, CoversEveryMethodOfTheSchemaOnce) {
  const std::set<std::string> schema = SchemaMethods();
  ASSERT_FALSE(schema.empty());
  std::set<std::string> ruled;
  for (const MethodAccess& rule : MethodAccessTable()) {
    EXPECT_TRUE(ruled.insert(std::string(rule.method)).second)
        << rule.method << " has two rules";
    EXPECT_TRUE(schema.count(std::string(rule.method)))
        << rule.method << " is not a method of " << kPackage;
  }
  for (const std::string& method : schema) {
    EXPECT_TRUE(ruled.count(method)) << method << " has no access rule";
  }
}

TEST(AccessTableTest, ElevatedPartsAskForMoreAndSayWhat) {
  for (const MethodAccess& rule : MethodAccessTable()) {
    SCOPED_TRACE(rule.method);
    EXPECT_GE(rule.elevated_role, rule.role);
    EXPECT_EQ(rule.elevated_part.empty(), rule.elevated_role == rule.role);
  }
}

}  // namespace
}  // namespace smarketing
