// smarketing: the command line that checks, tests and applies a Playbook.
// Exit codes: 0 ok, 1 the check failed, 2 usage or input error.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "batch_scorer.h"
#include "compiled_playbook.h"
#include "google/protobuf/util/json_util.h"
#include "lead_generator.h"
#include "lead_io.h"
#include "playbook_loader.h"
#include "problems.h"
#include "scorer.h"

ABSL_FLAG(std::string, now, "",
          "Scoring time, RFC 3339 (e.g. 2026-11-23T09:00:00Z); default: the "
          "current time. Fix it for reproducible results.");
ABSL_FLAG(int, threads, 0, "Threads for scoring; 0 for all cores.");
ABSL_FLAG(bool, explain, true,
          "Include the explanation (rules, points and sentences) in results.");
ABSL_FLAG(int64_t, count, 1000, "sample-leads: how many leads.");
ABSL_FLAG(uint64_t, seed, 1, "sample-leads: the seed; same seed, same leads.");
ABSL_FLAG(double, mean_events, 20, "sample-leads: mean events per lead.");

namespace smarketing {
namespace {

constexpr int kOk = 0;
constexpr int kCheckFailed = 1;
constexpr int kUsageError = 2;

constexpr char kUsage[] = R"(usage: smarketing COMMAND [flags] ARGS

Commands:
  validate PLAYBOOK...        Check Playbooks; print every problem with
                              file:line:column and field path. Exit 1 if any.
  score PLAYBOOK LEADS        Score leads (JSON lines, or .csv; "-" for stdin)
                              and print one ScoreResult per line as JSON.
  sample-leads                Print realistic synthetic leads as JSON lines
                              (--count, --seed, --mean_events, --now).

Flags:
  --now=RFC3339     scoring time (default: now)   --threads=N  (default: all)
  --explain=false   omit explanations             --help       this text

Exit codes: 0 ok, 1 the check failed, 2 usage or input error.
)";

int UsageError(absl::string_view message) {
  std::cerr << "smarketing: " << message << "\n\n" << kUsage;
  return kUsageError;
}

absl::StatusOr<absl::Time> Now() {
  const std::string text = absl::GetFlag(FLAGS_now);
  if (text.empty()) return absl::Now();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--now: not an RFC 3339 time: ", text));
  }
  return t;
}

void PrintStatus(const absl::Status& status) {
  if (auto problems = ProblemsFromStatus(status)) {
    for (const v1::ValidationProblem& p : problems->problems()) {
      std::cerr << FormatProblem(p) << "\n";
    }
  } else {
    std::cerr << status.message() << "\n";
  }
}

absl::StatusOr<std::shared_ptr<const CompiledPlaybook>> LoadCompiled(
    const std::string& path) {
  auto source = LoadPlaybookFile(path);
  if (!source.ok()) return source.status();
  return CompiledPlaybook::Compile(source->playbook, &source->positions,
                                   source->file);
}

int Validate(const std::vector<std::string>& paths) {
  if (paths.empty()) return UsageError("validate needs at least one PLAYBOOK");
  int failed = 0;
  for (const std::string& path : paths) {
    auto compiled = LoadCompiled(path);
    if (compiled.ok()) {
      std::cout << path << ": ok (" << (*compiled)->version_label() << ")\n";
      continue;
    }
    if (!ProblemsFromStatus(compiled.status()).has_value()) {
      std::cerr << compiled.status().message() << "\n";
      return kUsageError;
    }
    ++failed;
    PrintStatus(compiled.status());
  }
  return failed ? kCheckFailed : kOk;
}

int Score(const std::vector<std::string>& args) {
  if (args.size() != 2) return UsageError("score needs PLAYBOOK and LEADS");
  auto now = Now();
  if (!now.ok()) return UsageError(now.status().message());
  auto compiled = LoadCompiled(args[0]);
  if (!compiled.ok()) {
    PrintStatus(compiled.status());
    return kUsageError;
  }
  auto reader = LeadReader::Open(args[1]);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return kUsageError;
  }
  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : DefaultThreadCount();
  const bool explain = absl::GetFlag(FLAGS_explain);
  std::vector<std::unique_ptr<Scorer>> scorers;
  for (int t = 0; t < threads; ++t) {
    scorers.push_back(std::make_unique<Scorer>(*compiled));
  }

  // Leads stream through in blocks: read, score and format in parallel,
  // written in input order.
  constexpr int kBlock = 16384;
  std::vector<v1::Lead> leads(kBlock);
  std::vector<int64_t> lines(kBlock);
  std::vector<std::string> output(kBlock);
  std::vector<absl::Status> statuses(kBlock);
  int64_t scored = 0, rejected = 0, by_stage[v1::LifecycleStage_ARRAYSIZE] = {};
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  bool reading = true;
  while (reading) {
    int n = 0;
    while (n < kBlock) {
      auto more = (*reader)->Next(&leads[n]);
      if (!more.ok()) {
        std::cerr << more.status().message() << "\n";
        ++rejected;
        continue;
      }
      if (!*more) {
        reading = false;
        break;
      }
      lines[n] = (*reader)->line();
      ++n;
    }
    std::vector<v1::LifecycleStage> stages(n);
    ParallelFor(n, threads, [&](int thread, int64_t begin, int64_t end) {
      Scorer& scorer = *scorers[thread];
      LeadScore score;
      v1::ScoreResult result;
      for (int64_t i = begin; i < end; ++i) {
        statuses[i] = scorer.Score(leads[i], *now, &score);
        if (!statuses[i].ok()) continue;
        stages[i] = score.stage;
        if (!explain) score.explanation.clear();
        scorer.ToProto(leads[i], score, *now, &result);
        output[i].clear();
        (void)google::protobuf::util::MessageToJsonString(result, &output[i],
                                                          options);
      }
    });
    for (int i = 0; i < n; ++i) {
      if (!statuses[i].ok()) {
        std::cerr << args[1] << ":" << lines[i] << ": lead \"" << leads[i].id()
                  << "\": " << statuses[i].message() << "\n";
        ++rejected;
        continue;
      }
      ++scored;
      ++by_stage[stages[i]];
      std::cout << output[i] << '\n';
    }
  }
  std::cout.flush();
  std::cerr << "scored " << scored << " leads with "
            << (*compiled)->version_label() << ": "
            << by_stage[v1::LIFECYCLE_STAGE_MQL] << " MQL, "
            << by_stage[v1::LIFECYCLE_STAGE_NURTURE] << " nurture, "
            << by_stage[v1::LIFECYCLE_STAGE_DISQUALIFIED] << " disqualified";
  if (rejected) std::cerr << "; " << rejected << " records refused";
  std::cerr << "\n";
  return rejected ? kUsageError : kOk;
}

int SampleLeads(const std::vector<std::string>& args) {
  if (!args.empty()) return UsageError("sample-leads takes no arguments");
  auto now = Now();
  if (!now.ok()) return UsageError(now.status().message());
  const int64_t count = absl::GetFlag(FLAGS_count);
  if (count < 0) return UsageError("--count must not be negative");
  LeadGeneratorOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.now = *now;
  options.mean_events = absl::GetFlag(FLAGS_mean_events);
  if (!(options.mean_events >= 0 && options.mean_events <= 10000)) {
    return UsageError("--mean_events must be within [0, 10000]");
  }
  LeadGenerator generator(options);
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  v1::Lead lead;
  std::string line;
  for (int64_t i = 0; i < count; ++i) {
    generator.Generate(i, &lead);
    line.clear();
    (void)google::protobuf::util::MessageToJsonString(lead, &line, json);
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
      return kUsageError;  // the reader went away (e.g. `| head`)
    }
  }
  return kOk;
}

// absl's parser exits with status 1 on a bad flag, which would read as "the
// check failed"; flags are checked here first so that misuse exits with 2.
bool CheckFlags(int argc, char** argv, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      continue;
    }
    if (arg.empty()) continue;  // "-" is standard input
    std::vector<absl::string_view> parts = absl::StrSplit(arg, absl::MaxSplits('=', 1));
    absl::string_view name = parts[0];
    const bool negated = absl::ConsumePrefix(&name, "no");
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && negated) flag = absl::FindCommandLineFlag(parts[0]);
    if (flag == nullptr || flag->Filename().find("smarketing_main") == std::string::npos) {
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

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      std::cout << kUsage;
      return kOk;
    }
  }
  std::string error;
  if (!CheckFlags(argc, argv, &error)) return UsageError(error);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return UsageError("a command is required");
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command == "validate") return Validate(args);
  if (command == "score") return Score(args);
  if (command == "sample-leads") return SampleLeads(args);
  return UsageError(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace
}  // namespace smarketing

int main(int argc, char** argv) { return smarketing::Main(argc, argv); }
