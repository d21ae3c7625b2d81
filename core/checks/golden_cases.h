// Golden cases: leads the marketing and sales teams agreed on, each with the
// decisions the Playbook must take about it (grade, stage, persona, team or
// owner, score bounds, rules that must or must not fire). `smarketing test`
// runs them in CI, so that a change to the Playbook that decides otherwise
// is caught in review, with the expected and actual decision and the
// explanation side by side.
//
// A file of cases is a v1::GoldenCaseFile in YAML or JSON, read with the
// same mapping as Playbooks (proto/smarketing/v1/golden_case.proto,
// examples/cases/).
#ifndef SMARKETING_CORE_CHECKS_GOLDEN_CASES_H_
#define SMARKETING_CORE_CHECKS_GOLDEN_CASES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/problems.h"
#include "core/journey/lead_engine.h"
#include "smarketing/v1/golden_case.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

// A parsed file of golden cases and where each field was written.
struct GoldenCaseSet {
  v1::GoldenCaseFile cases;
  // Field paths such as "cases[2].expect.grade".
  SourceMap positions;
  std::string file;
};

// Files larger than this are refused before parsing.
inline constexpr size_t kMaxGoldenCaseFileBytes = 16 << 20;

// Parses and checks `text`. On any problem (syntax, unknown field, a case
// without name, `now`, lead id or expectation, two cases with one name, a
// malformed lead, a minimum above its maximum): INVALID_ARGUMENT carrying
// every problem with line and column (ProblemsFromStatus).
absl::StatusOr<GoldenCaseSet> ParseGoldenCases(absl::string_view text,
                                               absl::string_view file = "");

// Reads and parses a file; NOT_FOUND when it cannot be read.
absl::StatusOr<GoldenCaseSet> LoadGoldenCasesFile(const std::string& path);

// One expectation that did not hold.
struct ExpectationFailure {
  // The expectation, e.g. "grade", "min_total", "fired_rules".
  std::string field;
  // What the case expects and what the Playbook decided, in words.
  std::string expected;
  std::string actual;
  // Where the expectation was written, e.g. "cases[2].expect.grade".
  std::string path;
  SourcePosition position;
};

// The verdict on one case.
struct GoldenCaseOutcome {
  std::string name;
  // Where the case was written, e.g. "cases[2]".
  std::string path;
  SourcePosition position;
  // The Playbook's decision, with its explanation.
  v1::ScoreResult result;
  // Empty when the case passed.
  std::vector<ExpectationFailure> failures;

  bool passed() const { return failures.empty(); }
};

// Runs every case of `cases` through `engine` as the service would run a
// new lead arriving at the case's `now`: scored, moved through the
// lifecycle, and routed from the case's routing_state when it qualifies.
// Then checks each expectation. Same inputs, same outcomes.
std::vector<GoldenCaseOutcome> RunGoldenCases(
    std::shared_ptr<const LeadEngine> engine, const GoldenCaseSet& cases);

}  // namespace smarketing

#endif  // SMARKETING_CORE_CHECKS_GOLDEN_CASES_H_
