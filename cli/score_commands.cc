// score and sample-leads: leads in and out as JSON lines, streamed so that
// files of any size go through in bounded memory.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "core/base/problems.h"
#include "core/batch/lead_pipeline.h"
#include "core/batch/parallel_for.h"
#include "core/batch/score_lines.h"
#include "core/journey/lead_engine.h"
#include "core/leads/lead_blocks.h"
#include "core/leads/lead_io.h"
#include "core/playbook/compiled_playbook.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"

namespace smarketing::cli {
namespace {

bool Write(absl::string_view text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
}

}  // namespace

int Score(const std::vector<std::string>& args, const Options& options) {
  if (args.size() != 2) return UsageError("score needs PLAYBOOK and LEADS");
  if (options.format_given) {
    return UsageError(
        "score prints one JSON result per line; --format applies to "
        "validate, test and diff");
  }
  const absl::Time now = options.now.value_or(absl::Now());
  // The whole Playbook is checked, routing and SLA included, so that score
  // accepts exactly the Playbooks validate and the service accept.
  auto source = LoadPlaybookFile(args[0]);
  absl::StatusOr<std::shared_ptr<const LeadEngine>> engine =
      source.ok() ? LeadEngine::Create(source->playbook, &source->positions,
                                       source->file)
                  : source.status();
  if (!engine.ok()) {
    if (auto problems = ProblemsFromStatus(engine.status())) {
      for (const v1::ValidationProblem& p : problems->problems()) {
        std::cerr << FormatProblem(p) << "\n";
      }
    } else {
      std::cerr << engine.status().message() << "\n";
    }
    return kUsageError;
  }
  const std::shared_ptr<const CompiledPlaybook>& compiled =
      (*engine)->playbook();
  auto reader = LeadBlockReader::Open(args[1]);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return kUsageError;
  }
  ScoreLinesOptions score_options;
  score_options.now = now;
  score_options.threads = options.threads;
  score_options.explanation = options.explain;
  score_options.name = args[1];
  ProgressLine progress("scored");
  if (progress.enabled()) {
    score_options.progress = [&](int64_t leads, double fraction) {
      progress.Update(leads, fraction);
    };
  }
  std::unique_ptr<LeadSource> leads = FileLeadSource(reader->get());
  absl::StatusOr<ScoreLinesSummary> summary = ScoreToJsonLines(
      **engine, *leads, score_options, Write, [&](absl::string_view error) {
        progress.Clear();
        std::cerr << error << "\n";
      });
  progress.Clear();
  if (!summary.ok()) {
    // ABORTED: the reader went away (`| head`), nothing to say.
    if (!absl::IsAborted(summary.status()))
      std::cerr << summary.status().message() << "\n";
    return kUsageError;
  }
  std::fflush(stdout);
  std::cerr << "scored " << summary->scored << " leads with "
            << compiled->version_label() << ": "
            << summary->by_stage[v1::LIFECYCLE_STAGE_MQL] << " MQL, "
            << summary->by_stage[v1::LIFECYCLE_STAGE_NURTURE] << " nurture, "
            << summary->by_stage[v1::LIFECYCLE_STAGE_DISQUALIFIED]
            << " disqualified";
  if (summary->refused)
    std::cerr << "; " << summary->refused << " records refused";
  std::cerr << "\n";
  return summary->refused ? kUsageError : kOk;
}

int SampleLeads(const std::vector<std::string>& args, const Options& options) {
  if (!args.empty()) return UsageError("sample-leads takes no arguments");
  if (options.count < 0) return UsageError("--count must not be negative");
  if (!(options.mean_events >= 0 && options.mean_events <= 10000)) {
    return UsageError("--mean_events must be within [0, 10000]");
  }
  LeadGeneratorOptions generator_options;
  generator_options.seed = options.seed;
  generator_options.now = options.now.value_or(absl::Now());
  generator_options.mean_events = options.mean_events;
  const LeadGenerator generator(generator_options);
  // Lead i depends only on the seed and i: blocks are generated and printed
  // in parallel, and written in order.
  constexpr int64_t kBlock = 8192;
  std::vector<v1::Lead> leads(options.threads);
  std::vector<std::string> lines(kBlock);
  std::string buffer;
  for (int64_t first = 0; first < options.count; first += kBlock) {
    const int64_t n = std::min(kBlock, options.count - first);
    ParallelFor(n, options.threads,
                [&](int thread, int64_t begin, int64_t end) {
                  for (int64_t i = begin; i < end; ++i) {
                    generator.Generate(first + i, &leads[thread]);
                    lines[i] = ToStableJson(leads[thread]);
                    lines[i] += '\n';
                  }
                });
    buffer.clear();
    for (int64_t i = 0; i < n; ++i) buffer += lines[i];
    if (!Write(buffer)) return kUsageError;  // the reader went away (`| head`)
  }
  return kOk;
}

}  // namespace smarketing::cli
