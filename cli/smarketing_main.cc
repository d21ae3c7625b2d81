// smarketing: the command line that checks, tests and applies a Playbook,
// as people and CI pipelines run it. This file holds the flags and picks the
// command; the commands are in *_commands.cc, their reports in report.cc.
// Exit codes: 0 ok, 1 the check failed, 2 usage or input error.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "core/base/version.h"
#include "core/batch/parallel_for.h"
#ifdef SMARKETING_CLI_IMPORT
#include "cli/import_command.h"
#endif
#ifdef SMARKETING_CLI_REMOTE
#include "cli/review_command.h"
#endif

ABSL_FLAG(std::string, now, "",
          "Scoring time, RFC 3339 (e.g. 2026-11-23T09:00:00Z); default: the "
          "current time. Fix it for reproducible results.");
ABSL_FLAG(int, threads, 0, "Threads for scoring; 0 for all cores.");
ABSL_FLAG(std::string, explain, "ids",
          "score: the explanation in results: ids (each rule that fired and "
          "its points), sentences (and a sentence for people) or none.");
ABSL_FLAG(std::string, format, "text",
          "validate, test, diff: text, json, junit or github.");
ABSL_FLAG(std::string, leads, "",
          "diff: a sample of leads (JSON lines or .csv).");
ABSL_FLAG(int, top, 10, "diff: how many of the largest score changes to list.");
ABSL_FLAG(std::string, max_grade_changes, "",
          "diff: fail when more leads change grade (5% or 120).");
ABSL_FLAG(std::string, max_stage_changes, "",
          "diff: fail when more leads change stage (5% or 120).");
ABSL_FLAG(std::string, max_team_changes, "",
          "diff: fail when more leads change team (5% or 120).");
ABSL_FLAG(
    std::string, max_changed_leads, "",
    "diff: fail when more leads change grade, stage or team (5% or 120).");
ABSL_FLAG(int64_t, count, 1000, "sample-leads: how many leads.");
ABSL_FLAG(uint64_t, seed, 1, "sample-leads: the seed; same seed, same leads.");
ABSL_FLAG(double, mean_events, 20, "sample-leads: mean events per lead.");
ABSL_FLAG(std::string, server, "", "review: host:port of smarketing-server.");
ABSL_FLAG(std::string, tls_ca, "",
          "review: PEM file of the CA of the server's certificate (TLS).");
ABSL_FLAG(std::string, week, "",
          "review: ISO week, e.g. 2026-W48 (default: this week).");
ABSL_FLAG(std::string, team, "", "review: only this team's leads.");
ABSL_FLAG(std::string, campaign, "", "review: only this campaign's leads.");
ABSL_FLAG(std::string, source, "", "review: only this source's leads.");
ABSL_FLAG(std::string, persona, "", "review: only this persona's leads.");

namespace smarketing::cli {
namespace {

constexpr char kUsage[] = R"(usage: smarketing COMMAND [flags] ARGS

Commands:
  validate PLAYBOOK...        Check Playbooks; print every problem with
                              file:line:column and field path. Exit 1 if any.
  test PLAYBOOK CASES...      Run golden cases (YAML, see examples/cases/):
                              each failure shows expected against actual and
                              the explanation. Exit 1 if any case fails.
  diff OLD NEW                What changed in the rules and, with --leads, on
                              a sample of leads: grade, stage and team
                              transitions and the largest score changes.
                              Exit 1 if NEW is invalid or a limit is exceeded.
  score PLAYBOOK LEADS        Score leads (JSON lines, or .csv; "-" for stdin)
                              and print one ScoreResult per line as JSON.
  check-data PLAYBOOK LEADS   Check leads (JSON lines or .csv) against the
                              Playbook's conditions: numbers or booleans
                              written as text, keys with dots, unknown
                              columns, rules no lead fires... Exit 1 on any
                              warning (--format=text|json).
  sample-leads                Print realistic synthetic leads as JSON lines
                              (--count, --seed, --mean_events, --now).
  import --server HOST:PORT FILE
                              Load leads and events into smarketing-server
                              (smarketing import --help).
  review --server HOST:PORT   The weekly review from a running service
                              (--week, --team, --campaign, --source,
                              --persona, --tls_ca; --format=text|json|
                              markdown|html); the token in SMARKETING_TOKEN.

A Playbook may be a file or a git revision of one: main:playbooks/prod.yaml
(read with `git show`; the path is relative to the repository's root).

Flags:
  --format=text|json|junit|github   report of validate, test and diff
                                    (review: text|json|markdown|html)
                                    (colour only on a terminal, without NO_COLOR)
  --leads=FILE      diff: sample of leads     --top=N   largest changes (10)
  --max-grade-changes=LIMIT  --max-stage-changes=LIMIT
  --max-team-changes=LIMIT   --max-changed-leads=LIMIT
                    diff: fail above LIMIT, a share (5%) or a count (120)
  --now=RFC3339     scoring time (default: now)   --threads=N  (default: all)
  --explain=ids|sentences|none   score: rules that fired with their points
                    (ids, the default), with sentences, or no explanation
  --help            this text
  --version         print the version and exit

Exit codes: 0 ok, 1 the check failed, 2 usage or input error.
)";

// Flags are written with dashes (--max-stage-changes) or underscores
// (--mean_events); absl knows them by their underscore names.
void NormalizeFlagNames(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return;
    if (!absl::StartsWith(arg, "--")) continue;
    for (char* c = argv[i] + 2; *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
}

// --explain was a boolean before it took a level: --explain, --explain=true
// and --explain=false, --noexplain keep their meaning (sentences, none).
void NormalizeExplainFlag(int argc, char** argv) {
  static char kSentences[] = "--explain=sentences";
  static char kNone[] = "--explain=none";
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return;
    if (arg == "--explain" || arg == "--explain=true" || arg == "-explain") {
      argv[i] = kSentences;
    } else if (arg == "--explain=false" || arg == "--noexplain" ||
               arg == "-noexplain") {
      argv[i] = kNone;
    }
  }
}

// absl's parser exits with status 1 on a bad flag, which would read as "the
// check failed"; flags are checked here first so that misuse exits with 2.
// Debian's abseil (20220623) predates absl::ParseAbseilFlagsOnly, which
// reports bad flags instead of exiting: with it, this check can go.
bool CheckFlags(int argc, char** argv, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      continue;
    }
    if (arg.empty()) continue;  // "-" is standard input
    std::vector<absl::string_view> parts =
        absl::StrSplit(arg, absl::MaxSplits('=', 1));
    absl::string_view name = parts[0];
    const bool negated = absl::ConsumePrefix(&name, "no");
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && negated) flag = absl::FindCommandLineFlag(parts[0]);
    if (flag == nullptr ||
        flag->Filename().find("smarketing_main") == std::string::npos) {
      *error = absl::StrCat("unknown flag --", parts[0]);
      return false;
    }
    if (parts.size() == 2) {
      std::string value_error;
      if (!flag->ParseFrom(parts[1], &value_error)) {
        *error = absl::StrCat("--", name, ": ", value_error);
        return false;
      }
    } else if (!flag->IsOfType<bool>()) {
      if (i + 1 >= argc) {
        *error = absl::StrCat("--", name, " needs a value");
        return false;
      }
      std::string value_error;
      if (!flag->ParseFrom(argv[++i], &value_error)) {
        *error = absl::StrCat("--", name, ": ", value_error);
        return false;
      }
    }
  }
  return true;
}

// The parsed flags, checked; a usage error names the flag.
absl::StatusOr<Options> OptionsFromFlags(const std::string& command) {
  Options options;
  if (const std::string now = absl::GetFlag(FLAGS_now); !now.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, now, &t, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--now: not an RFC 3339 time: ", now));
    }
    options.now = t;
  }
  const int threads = absl::GetFlag(FLAGS_threads);
  options.threads = threads > 0 ? threads : DefaultThreadCount();
  if (const std::string explain = absl::GetFlag(FLAGS_explain);
      explain == "ids") {
    options.explain = Explanation::kRuleIds;
  } else if (explain == "sentences") {
    options.explain = Explanation::kSentences;
  } else if (explain == "none") {
    options.explain = Explanation::kNone;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--explain: expected ids, sentences or none; found \"", explain, "\""));
  }
  // review has formats of its own, checked by the command.
  if (command != "review") {
    absl::StatusOr<OutputFormat> format =
        ParseOutputFormat(absl::GetFlag(FLAGS_format));
    if (!format.ok()) return format.status();
    options.format = *format;
  }
  options.format_given = !absl::GetFlag(FLAGS_format).empty() &&
                         absl::GetFlag(FLAGS_format) != "text";
  options.leads = absl::GetFlag(FLAGS_leads);
  options.top = absl::GetFlag(FLAGS_top);
  if (options.top < 0)
    return absl::InvalidArgumentError("--top must not be negative");
  options.max_grade_changes = absl::GetFlag(FLAGS_max_grade_changes);
  options.max_stage_changes = absl::GetFlag(FLAGS_max_stage_changes);
  options.max_team_changes = absl::GetFlag(FLAGS_max_team_changes);
  options.max_changed_leads = absl::GetFlag(FLAGS_max_changed_leads);
  options.count = absl::GetFlag(FLAGS_count);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.mean_events = absl::GetFlag(FLAGS_mean_events);
  return options;
}

int Main(int argc, char** argv) {
#ifdef SMARKETING_CLI_IMPORT
  // Its flags are its own (see import_command.cc).
  if (argc > 1 && absl::string_view(argv[1]) == "import") {
    return Import(argc, argv);
  }
#endif
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      std::cout << kUsage;
      return kOk;
    }
    if (arg == "--version") {
      std::cout << "smarketing " << Version() << "\n";
      return kOk;
    }
  }
  NormalizeFlagNames(argc, argv);
  NormalizeExplainFlag(argc, argv);
  std::string error;
  if (!CheckFlags(argc, argv, &error)) return UsageError(error);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return UsageError("a command is required");
  const std::string command = positional[1];
  absl::StatusOr<Options> options = OptionsFromFlags(command);
  if (!options.ok()) return UsageError(options.status().message());
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command == "validate") return Validate(args, *options);
  if (command == "test") return Test(args, *options);
  if (command == "diff") return Diff(args, *options);
  if (command == "score") return Score(args, *options);
  if (command == "check-data") return CheckData(args, *options);
  if (command == "sample-leads") return SampleLeads(args, *options);
  if (command == "review") {
    if (!args.empty())
      return UsageError("review takes no arguments, only flags");
#ifdef SMARKETING_CLI_REMOTE
    ReviewOptions review;
    review.server = absl::GetFlag(FLAGS_server);
    review.tls_ca = absl::GetFlag(FLAGS_tls_ca);
    review.week = absl::GetFlag(FLAGS_week);
    review.team = absl::GetFlag(FLAGS_team);
    review.campaign = absl::GetFlag(FLAGS_campaign);
    review.source = absl::GetFlag(FLAGS_source);
    review.persona = absl::GetFlag(FLAGS_persona);
    review.format = absl::GetFlag(FLAGS_format);
    const char* token = std::getenv("SMARKETING_TOKEN");
    review.token = token != nullptr ? token : "";
    return Review(review);
#else
    return UsageError("review: this smarketing was built without gRPC");
#endif
  }
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace

int UsageError(absl::string_view message) {
  std::cerr << "smarketing: " << message << "\n\n" << kUsage;
  return kUsageError;
}

}  // namespace smarketing::cli

int main(int argc, char** argv) { return smarketing::cli::Main(argc, argv); }
