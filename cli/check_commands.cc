// validate, test and diff: the checks a CI pipeline runs on a change to a
// Playbook. They read files and flags, call the core, and print a report in
// the chosen format.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/playbook_source.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "core/base/problems.h"
#include "core/checks/golden_cases.h"
#include "core/checks/playbook_diff.h"
#include "core/journey/lead_engine.h"
#include "core/leads/lead_blocks.h"

namespace smarketing::cli {
namespace {

void Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::vector<v1::ValidationProblem> Problems(
    const v1::ValidationProblems& problems) {
  return {problems.problems().begin(), problems.problems().end()};
}

// A Playbook read and compiled, or why not: problems in it (the check
// fails), or an error reading it (an input error).
struct LoadedPlaybook {
  std::optional<PlaybookSource> source;
  // The whole Playbook compiled (scoring, routing, SLA): what the service
  // would accept.
  std::shared_ptr<const LeadEngine> engine;
  std::vector<v1::ValidationProblem> problems;
  absl::Status error;
};

LoadedPlaybook Load(const std::string& arg) {
  LoadedPlaybook loaded;
  absl::StatusOr<PlaybookSource> source = ReadPlaybookArgument(arg);
  absl::Status status = source.status();
  if (source.ok()) {
    auto engine =
        LeadEngine::Create(source->playbook, &source->positions, source->file);
    loaded.source = *std::move(source);
    if (engine.ok()) {
      loaded.engine = *std::move(engine);
      return loaded;
    }
    status = engine.status();
  }
  if (auto problems = ProblemsFromStatus(status)) {
    loaded.problems = Problems(*problems);
  } else {
    loaded.error = status;
  }
  return loaded;
}

// Problems of a Playbook that `test` or `diff` cannot use, in the format.
void PrintPlaybookProblems(const std::string& arg, const LoadedPlaybook& loaded,
                           const Options& options) {
  ValidateReport report;
  report.files.push_back({arg, "", loaded.problems});
  if (options.format == OutputFormat::kText) {
    std::cerr << ValidateProblemsText(report);
  } else {
    Print(RenderValidate(report, options.format, false));
  }
}

}  // namespace

int Validate(const std::vector<std::string>& args, const Options& options) {
  if (args.empty()) return UsageError("validate needs at least one PLAYBOOK");
  ValidateReport report;
  bool failed = false;
  for (const std::string& path : args) {
    LoadedPlaybook loaded = Load(path);
    if (!loaded.error.ok()) {
      std::cerr << loaded.error.message() << "\n";
      return kUsageError;
    }
    failed |= !loaded.problems.empty();
    report.files.push_back(
        {path, loaded.engine ? loaded.engine->playbook()->version_label() : "",
         std::move(loaded.problems)});
  }
  Print(RenderValidate(report, options.format, UseColor()));
  if (options.format == OutputFormat::kText)
    std::cerr << ValidateProblemsText(report);
  return failed ? kCheckFailed : kOk;
}

int Test(const std::vector<std::string>& args, const Options& options) {
  if (args.size() < 2)
    return UsageError("test needs a PLAYBOOK and at least one CASES file");
  LoadedPlaybook playbook = Load(args[0]);
  if (!playbook.error.ok()) {
    std::cerr << playbook.error.message() << "\n";
    return kUsageError;
  }
  if (!playbook.problems.empty()) {
    PrintPlaybookProblems(args[0], playbook, options);
    return kCheckFailed;
  }
  // Every file of cases is read before any runs: a broken file is an input
  // error, whatever the others would say.
  std::vector<GoldenCaseSet> sets;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::StatusOr<GoldenCaseSet> set = LoadGoldenCasesFile(args[i]);
    if (!set.ok()) {
      if (auto problems = ProblemsFromStatus(set.status())) {
        for (const v1::ValidationProblem& p : problems->problems()) {
          std::cerr << FormatProblem(p) << "\n";
        }
      } else {
        std::cerr << set.status().message() << "\n";
      }
      return kUsageError;
    }
    sets.push_back(*std::move(set));
  }
  TestReport report;
  report.playbook = args[0];
  report.playbook_version = playbook.engine->playbook()->version_label();
  bool failed = false;
  for (const GoldenCaseSet& set : sets) {
    TestReport::Suite& suite = report.suites.emplace_back();
    suite.file = set.file;
    const absl::Time start = absl::Now();
    suite.outcomes = RunGoldenCases(playbook.engine, set);
    suite.elapsed = absl::Now() - start;
    for (const GoldenCaseOutcome& o : suite.outcomes) failed |= !o.passed();
  }
  Print(RenderTest(report, options.format, UseColor()));
  return failed ? kCheckFailed : kOk;
}

namespace {

// The --max-*-changes flags given, parsed; an error names the flag.
absl::StatusOr<std::vector<LimitCheck>> ParseLimits(const Options& options) {
  struct Limit {
    const char* flag;
    const char* what;
    const std::string* text;
  };
  const Limit limit_flags[] = {
      {"--max-grade-changes", "grade changes", &options.max_grade_changes},
      {"--max-stage-changes", "stage changes", &options.max_stage_changes},
      {"--max-team-changes", "team changes", &options.max_team_changes},
      {"--max-changed-leads", "changed leads", &options.max_changed_leads},
  };
  std::vector<LimitCheck> limits;
  for (const Limit& l : limit_flags) {
    if (l.text->empty()) continue;
    absl::StatusOr<ChangeLimit> limit = ParseChangeLimit(*l.text);
    if (!limit.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(l.flag, ": ", limit.status().message()));
    }
    if (options.leads.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(l.flag, " needs a sample of leads (--leads)"));
    }
    LimitCheck& check = limits.emplace_back();
    check.flag = l.flag;
    check.what = l.what;
    check.limit = *limit;
  }
  return limits;
}

// Each limit against the changes the sample of leads shows.
void CheckLimits(const LeadImpact& impact, std::vector<LimitCheck>* limits) {
  for (LimitCheck& check : *limits) {
    check.total = impact.leads;
    if (check.flag == "--max-grade-changes") {
      check.changed = impact.grades.changed();
    } else if (check.flag == "--max-stage-changes") {
      check.changed = impact.stages.changed();
    } else if (check.flag == "--max-team-changes") {
      check.changed = impact.teams.changed();
    } else {
      check.changed = impact.changed_leads;
    }
    check.exceeded = ExceedsLimit(check.limit, check.changed, check.total);
  }
}

// Scores the --leads sample with both Playbooks into the report; false
// (the error printed) when the sample cannot be read.
bool MeasureSampleImpact(const Options& options,
                         const LoadedPlaybook& old_playbook,
                         const LoadedPlaybook& new_playbook,
                         std::vector<LimitCheck> limits, DiffReport* report) {
  absl::StatusOr<std::unique_ptr<LeadBlockReader>> reader =
      LeadBlockReader::Open(options.leads);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return false;
  }
  LeadImpactOptions impact_options;
  impact_options.now = options.now.value_or(absl::Now());
  impact_options.threads = options.threads;
  impact_options.top = options.top;
  ProgressLine progress("scored with both Playbooks");
  if (progress.enabled()) {
    impact_options.progress = [&](int64_t leads, double fraction) {
      progress.Update(leads, fraction);
    };
  }
  absl::StatusOr<LeadImpact> impact = MeasureLeadImpact(
      old_playbook.engine, new_playbook.engine, reader->get(), impact_options);
  progress.Clear();
  if (!impact.ok()) {
    std::cerr << impact.status().message() << "\n";
    return false;
  }
  report->leads_file = options.leads;
  report->now = impact_options.now;
  report->impact = *std::move(impact);
  CheckLimits(*report->impact, &limits);
  report->limits = std::move(limits);
  return true;
}

}  // namespace

int Diff(const std::vector<std::string>& args, const Options& options) {
  if (args.size() != 2) return UsageError("diff needs OLD and NEW Playbooks");
  absl::StatusOr<std::vector<LimitCheck>> limits = ParseLimits(options);
  if (!limits.ok()) return UsageError(limits.status().message());

  LoadedPlaybook old_playbook = Load(args[0]);
  if (!old_playbook.error.ok()) {
    std::cerr << old_playbook.error.message() << "\n";
    return kUsageError;
  }
  if (!old_playbook.problems.empty()) {
    // The baseline of the comparison is broken: nothing to compare with.
    std::cerr << args[0] << ": the OLD Playbook is not valid:\n";
    for (const v1::ValidationProblem& p : old_playbook.problems) {
      std::cerr << FormatProblem(p) << "\n";
    }
    return kUsageError;
  }
  LoadedPlaybook new_playbook = Load(args[1]);
  if (!new_playbook.error.ok()) {
    std::cerr << new_playbook.error.message() << "\n";
    return kUsageError;
  }
  DiffReport report;
  report.old_name = args[0];
  report.new_name = args[1];
  report.old_version = old_playbook.engine->playbook()->version_label();
  if (!new_playbook.problems.empty()) {
    report.new_problems = std::move(new_playbook.problems);
    Print(RenderDiff(report, options.format, UseColor()));
    return kCheckFailed;
  }
  report.new_version = new_playbook.engine->playbook()->version_label();
  if (!options.max_team_changes.empty() &&
      old_playbook.source->playbook.routing().teams().empty() &&
      new_playbook.source->playbook.routing().teams().empty()) {
    return UsageError(
        "--max-team-changes: neither Playbook routes leads to teams");
  }
  report.changes = DiffPlaybookRules(
      old_playbook.source->playbook, new_playbook.source->playbook,
      &old_playbook.source->positions, &new_playbook.source->positions);
  if (!options.leads.empty() &&
      !MeasureSampleImpact(options, old_playbook, new_playbook,
                           *std::move(limits), &report)) {
    return kUsageError;
  }
  Print(RenderDiff(report, options.format, UseColor()));
  if (report.impact.has_value() && report.impact->refused > 0)
    return kUsageError;
  for (const LimitCheck& check : report.limits) {
    if (check.exceeded) return kCheckFailed;
  }
  return kOk;
}

}  // namespace smarketing::cli
