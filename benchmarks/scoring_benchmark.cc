// Leads scored per second with the demo Playbook and synthetic leads of about
// 20 events, on one thread and on all threads. The explanation is recorded as
// rule ids and points (LeadScore), as the service and bindings keep it.
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/batch/batch_scorer.h"
#include "benchmark/benchmark.h"
#include "core/playbook/compiled_playbook.h"
#include "core/synthetic/lead_generator.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/scorer.h"

namespace smarketing {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795424400);  // 2026-11-23T09:00Z

struct Fixture {
  std::shared_ptr<const CompiledPlaybook> playbook;
  std::vector<v1::Lead> leads;
  std::vector<const v1::Lead*> pointers;
};

const Fixture& GetFixture() {
  static const Fixture* const fixture = [] {
    auto* f = new Fixture;
    auto source = LoadPlaybookFile(
        absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml"));
    if (!source.ok()) {
      fprintf(stderr, "%s\n", std::string(source.status().message()).c_str());
      std::abort();
    }
    auto compiled = CompiledPlaybook::Compile(source->playbook);
    if (!compiled.ok()) {
      fprintf(stderr, "%s\n", std::string(compiled.status().message()).c_str());
      std::abort();
    }
    f->playbook = *compiled;
    LeadGeneratorOptions options;
    options.seed = 2026;
    options.now = kNow;
    options.mean_events = 20;
    LeadGenerator generator(options);
    f->leads.resize(100000);
    for (size_t i = 0; i < f->leads.size(); ++i) {
      generator.Generate(static_cast<int64_t>(i), &f->leads[i]);
      f->pointers.push_back(&f->leads[i]);
    }
    return f;
  }();
  return *fixture;
}

void BM_ScoreOneThread(benchmark::State& state) {
  const Fixture& f = GetFixture();
  Scorer scorer(f.playbook);
  LeadScore score;
  size_t i = 0;
  int64_t events = 0;
  for (auto _ : state) {
    const v1::Lead& lead = f.leads[i];
    if (!scorer.Score(lead, kNow, &score).ok()) state.SkipWithError("refused");
    benchmark::DoNotOptimize(score.total);
    events += lead.events_size();
    if (++i == f.leads.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_lead"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ScoreOneThread);

void BM_ScoreAllThreads(benchmark::State& state) {
  const Fixture& f = GetFixture();
  std::vector<LeadScore> scores;
  std::vector<absl::Status> statuses;
  const int threads = DefaultThreadCount();
  for (auto _ : state) {
    ScoreBatch(f.playbook, f.pointers, kNow, threads, &scores, &statuses);
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(state.iterations() * f.leads.size());
  state.counters["threads"] = threads;
}
BENCHMARK(BM_ScoreAllThreads)->Unit(benchmark::kMillisecond)->UseRealTime();

// With the result converted to a message with sentences, as the command line
// and the service return it: the price of the human explanation.
void BM_ScoreToProtoOneThread(benchmark::State& state) {
  const Fixture& f = GetFixture();
  Scorer scorer(f.playbook);
  LeadScore score;
  v1::ScoreResult result;
  size_t i = 0;
  for (auto _ : state) {
    const v1::Lead& lead = f.leads[i];
    if (!scorer.Score(lead, kNow, &score).ok()) state.SkipWithError("refused");
    scorer.ToProto(lead, score, kNow, &result);
    benchmark::DoNotOptimize(result);
    if (++i == f.leads.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreToProtoOneThread);

}  // namespace
}  // namespace smarketing

BENCHMARK_MAIN();
