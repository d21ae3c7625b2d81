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
#include "core/batch/batch_scorer.h"
#include "cli/commands.h"
#include "core/playbook/compiled_playbook.h"
#include "google/protobuf/util/json_util.h"
#include "core/leads/lead_blocks.h"
#include "core/journey/lead_engine.h"
#include "core/synthetic/lead_generator.h"
#include "core/leads/lead_io.h"
#include "core/playbook/playbook_loader.h"
#include "core/base/problems.h"
#include "core/scoring/scorer.h"

namespace smarketing::cli {
namespace {

bool Write(const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
}

}  // namespace

int Score(const std::vector<std::string>& args, const Options& options) {
  if (args.size() != 2) return UsageError("score needs PLAYBOOK and LEADS");
  if (options.format_given) {
    return UsageError("score prints one JSON result per line; --format applies to "
                      "validate, test and diff");
  }
  const absl::Time now = options.now.value_or(absl::Now());
  // The whole Playbook is checked, routing and SLA included, so that score
  // accepts exactly the Playbooks validate and the service accept.
  auto source = LoadPlaybookFile(args[0]);
  absl::StatusOr<std::shared_ptr<const LeadEngine>> engine =
      source.ok() ? LeadEngine::Create(source->playbook, &source->positions, source->file)
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
  const std::shared_ptr<const CompiledPlaybook>& compiled = (*engine)->playbook();
  auto reader = LeadBlockReader::Open(args[1]);
  if (!reader.ok()) {
    std::cerr << reader.status().message() << "\n";
    return kUsageError;
  }

  struct Worker {
    std::unique_ptr<Scorer> scorer;
    ReusableLead lead;
    LeadScore score;
    v1::ScoreResult result;
  };
  std::vector<Worker> workers(options.threads);
  for (Worker& w : workers) w.scorer = std::make_unique<Scorer>(compiled);
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;

  // Each block is parsed, scored and formatted in parallel, then written in
  // input order.
  int64_t scored = 0, rejected = 0, by_stage[v1::LifecycleStage_ARRAYSIZE] = {};
  LeadBlock block;
  std::vector<std::string> output;
  std::vector<std::string> errors;
  std::vector<v1::LifecycleStage> stages;
  // MQLs of the block, kept whole until they are routed.
  struct Mql {
    v1::Lead lead;
    v1::ScoreResult result;
  };
  std::vector<Mql> mqls;
  v1::RoutingState routing;
  std::string buffer;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&block);
    if (!more.ok()) {
      std::cerr << more.status().message() << "\n";
      return kUsageError;
    }
    if (!*more) break;
    const int64_t n = block.size();
    output.resize(n);
    errors.assign(n, std::string());
    if (static_cast<int64_t>(mqls.size()) < n) mqls.resize(n);
    stages.assign(n, v1::LIFECYCLE_STAGE_UNSPECIFIED);
    ParallelFor(n, options.threads, [&](int thread, int64_t begin, int64_t end) {
      Worker& w = workers[thread];
      for (int64_t i = begin; i < end; ++i) {
        v1::Lead& lead = *w.lead.Fresh();
        if (absl::Status st = block.Parse(i, &lead); !st.ok()) {
          errors[i] = std::string(st.message());
          continue;
        }
        if (absl::Status st = w.scorer->Score(lead, now, &w.score); !st.ok()) {
          errors[i] = absl::StrCat(args[1], ":", block.line(i), ": lead \"",
                                   lead.id(), "\": ", st.message());
          continue;
        }
        stages[i] = w.score.stage;
        if (!options.explain) w.score.explanation.clear();
        if (w.score.stage == v1::LIFECYCLE_STAGE_MQL) {
          // Routing assigns owners in turn: it runs below, in input order,
          // so the same file always gives the same owners.
          mqls[i].lead.CopyFrom(lead);
          w.scorer->ToProto(lead, w.score, now, &mqls[i].result);
          continue;
        }
        w.scorer->ToProto(lead, w.score, now, &w.result);
        output[i].clear();
        (void)google::protobuf::util::MessageToJsonString(w.result, &output[i], json);
      }
    });
    for (int64_t i = 0; i < n; ++i) {
      if (!errors[i].empty() || stages[i] != v1::LIFECYCLE_STAGE_MQL) continue;
      (*engine)->AssignNewMql(mqls[i].lead, now, &routing, &mqls[i].result);
      output[i].clear();
      (void)google::protobuf::util::MessageToJsonString(mqls[i].result, &output[i],
                                                        json);
    }
    buffer.clear();
    for (int64_t i = 0; i < n; ++i) {
      if (!errors[i].empty()) {
        std::cerr << errors[i] << "\n";
        ++rejected;
        continue;
      }
      ++scored;
      ++by_stage[stages[i]];
      absl::StrAppend(&buffer, output[i], "\n");
    }
    if (!Write(buffer)) return kUsageError;  // the reader went away
  }
  std::fflush(stdout);
  std::cerr << "scored " << scored << " leads with " << compiled->version_label()
            << ": " << by_stage[v1::LIFECYCLE_STAGE_MQL] << " MQL, "
            << by_stage[v1::LIFECYCLE_STAGE_NURTURE] << " nurture, "
            << by_stage[v1::LIFECYCLE_STAGE_DISQUALIFIED] << " disqualified";
  if (rejected) std::cerr << "; " << rejected << " records refused";
  std::cerr << "\n";
  return rejected ? kUsageError : kOk;
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
    ParallelFor(n, options.threads, [&](int thread, int64_t begin, int64_t end) {
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
