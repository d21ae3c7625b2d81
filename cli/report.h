// How the CI checks of the command line (validate, test, diff) report: as
// text for people (coloured on a terminal), JSON for scripts, JUnit XML so
// that CI systems list each check, or GitHub Actions workflow commands so
// that problems show on the changed lines of a pull request.
#ifndef SMARKETING_CLI_REPORT_H_
#define SMARKETING_CLI_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/checks/golden_cases.h"
#include "core/checks/playbook_diff.h"
#include "smarketing/v1/validation.pb.h"

namespace smarketing::cli {

enum class OutputFormat { kText, kJson, kJunit, kGithub };

// "text", "json", "junit" or "github".
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// Colour for text output: only on a terminal, and never when NO_COLOR is set
// (https://no-color.org).
bool UseColor();

// What `validate` found in each Playbook.
struct ValidateReport {
  struct File {
    std::string path;
    // "name@version" when valid.
    std::string version;
    std::vector<v1::ValidationProblem> problems;
  };
  std::vector<File> files;
};

// What `test` found: the outcome of each case, per file of cases.
struct TestReport {
  std::string playbook;
  std::string playbook_version;
  struct Suite {
    std::string file;
    std::vector<GoldenCaseOutcome> outcomes;
    absl::Duration elapsed;
  };
  std::vector<Suite> suites;
};

// One limit of `diff` and whether it held.
struct LimitCheck {
  // The flag, e.g. "--max-stage-changes".
  std::string flag;
  // What it counts, e.g. "stage changes".
  std::string what;
  ChangeLimit limit;
  int64_t changed = 0;
  int64_t total = 0;
  bool exceeded = false;
};

// What `diff` found.
struct DiffReport {
  // As given on the command line, e.g. "main:playbooks/prod.yaml".
  std::string old_name;
  std::string new_name;
  std::string old_version;
  std::string new_version;
  // Problems of the new Playbook; when there are any, nothing else is set.
  std::vector<v1::ValidationProblem> new_problems;
  std::vector<RuleChange> changes;
  // With --leads.
  std::string leads_file;
  absl::Time now;
  std::optional<LeadImpact> impact;
  std::vector<LimitCheck> limits;
};

// The whole report as the format prints it. Text goes to standard output,
// except that `validate` prints problems as text on standard error
// (ValidateProblemsText), one per line, as compilers do.
std::string RenderValidate(const ValidateReport& report, OutputFormat format,
                           bool color);
std::string ValidateProblemsText(const ValidateReport& report);
std::string RenderTest(const TestReport& report, OutputFormat format,
                       bool color);
std::string RenderDiff(const DiffReport& report, OutputFormat format,
                       bool color);

}  // namespace smarketing::cli

#endif  // SMARKETING_CLI_REPORT_H_
