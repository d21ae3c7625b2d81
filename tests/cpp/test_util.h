// Helpers shared by the C++ suites: Playbooks and leads written inline as
// YAML, fixed times, and the demo material of examples/.
#ifndef SMARKETING_TESTS_CPP_TEST_UTIL_H_
#define SMARKETING_TESTS_CPP_TEST_UTIL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/base/flat_lead.h"
#include "core/playbook/compiled_playbook.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/playbook.pb.h"

namespace smarketing::testing {

// An RFC 3339 time; fails the test on a typo.
absl::Time At(absl::string_view rfc3339);

// A message from YAML; fails the test if it does not parse.
v1::Playbook PlaybookFromYaml(absl::string_view yaml);
v1::Lead LeadFromYaml(absl::string_view yaml);

// Compiles, failing the test with the problems if the Playbook is invalid.
std::shared_ptr<const CompiledPlaybook> MustCompile(
    const v1::Playbook& playbook);
std::shared_ptr<const CompiledPlaybook> MustCompileYaml(absl::string_view yaml);

// The problems of an invalid Playbook, as "path: message" lines.
std::string ProblemLines(const absl::Status& status);

// A small valid Playbook: one persona, grades, thresholds, and engagement
// last, so that tests can append "  rules:" to it, then top-level sections.
std::string MinimalPlaybookYaml();

// examples/playbooks/demo.yaml, and its path.
std::string DemoPlaybookPath();
v1::Playbook DemoPlaybook();

// The events a reader laid out in `flat` are those of `full`, the lead the
// slow path built: ids, types, times and every property, nested or not.
// Failures name `where`.
void ExpectFlatEventsAre(const FlatLead& flat, const v1::Lead& full,
                         const std::string& where);

// `levels` JSON objects nested under key "k" around the number 1:
// {"k":{"k":1}} for 2.
std::string NestedStructs(int levels);

// A message's bytes, serialized deterministically (map entries in order):
// equal bytes, equal messages.
std::string DeterministicBytes(const google::protobuf::Message& message);

// What a flat reader read (`fields` and `flat`) is `full`, the valid lead
// the slow path read: its own fields, byte for byte, and its events.
void ExpectFlatLeadIs(const v1::Lead& fields, const FlatLead& flat,
                      const v1::Lead& full, const std::string& where);

}  // namespace smarketing::testing

#endif  // SMARKETING_TESTS_CPP_TEST_UTIL_H_
