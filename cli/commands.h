// The subcommands of `smarketing`. Each takes its positional arguments and
// the flags, already parsed and checked by smarketing_main.cc, and returns
// the exit code: 0 ok, 1 the check failed, 2 usage or input error.
#ifndef SMARKETING_CLI_COMMANDS_H_
#define SMARKETING_CLI_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/report.h"
#include "core/batch/score_lines.h"

namespace smarketing::cli {

inline constexpr int kOk = 0;
inline constexpr int kCheckFailed = 1;
inline constexpr int kUsageError = 2;

// The flags, for every command.
struct Options {
  // --now; unset: the current time.
  std::optional<absl::Time> now;
  // --threads, resolved: at least 1.
  int threads = 1;
  // --explain (score): none, ids (the default) or sentences.
  Explanation explain = Explanation::kRuleIds;
  // --format (validate, test, diff, check-data), and whether one other than
  // text was asked for.
  OutputFormat format = OutputFormat::kText;
  bool format_given = false;
  // diff: --leads, --top and the limits as written ("" when not given).
  std::string leads;
  int top = 10;
  std::string max_grade_changes;
  std::string max_stage_changes;
  std::string max_team_changes;
  std::string max_changed_leads;
  // sample-leads: --count, --seed, --mean_events.
  int64_t count = 1000;
  uint64_t seed = 1;
  double mean_events = 20;
};

// Prints "smarketing: MESSAGE" and the usage on standard error; returns
// kUsageError.
int UsageError(absl::string_view message);

int Validate(const std::vector<std::string>& args, const Options& options);
int Test(const std::vector<std::string>& args, const Options& options);
int Diff(const std::vector<std::string>& args, const Options& options);
int Score(const std::vector<std::string>& args, const Options& options);
int SampleLeads(const std::vector<std::string>& args, const Options& options);
int CheckData(const std::vector<std::string>& args, const Options& options);

}  // namespace smarketing::cli

#endif  // SMARKETING_CLI_COMMANDS_H_
