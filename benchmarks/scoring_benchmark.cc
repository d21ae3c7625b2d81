// Leads scored per second with the demo Playbook and synthetic leads of about
// 20 events: the scorer alone, the lead pipeline from leads in memory, and
// smarketing score's work from a JSON lines or CSV file to JSON lines, on
// one and two threads; the ScoreLeads stream's from encoded leads; and the
// price of printing a result.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "core/base/lead_fields.h"
#include "core/base/proto_time.h"
#include "core/batch/lead_pipeline.h"
#include "core/batch/score_json.h"
#include "core/batch/score_lines.h"
#include "core/batch/score_wire.h"
#include "core/journey/lead_engine.h"
#include "core/leads/lead_io.h"
#include "core/leads/lead_json.h"
#include "core/playbook/compiled_playbook.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/json_util.h"

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

// Scoring alone, from leads read flat and validated by the JSON lines
// reader, each with its reader, which holds its strings: the issue's "core
// scoring from the flat form". 4,096 leads (about 40 MB) come from memory
// each time; 256 stay in the cache, as a lead does in the pipeline, where
// it is scored as soon as it is read.
void BM_ScoreFlatOneThread(benchmark::State& state) {
  const Fixture& f = GetFixture();
  struct FlatCase {
    std::string json;
    FlatLeadJsonReader reader;
    v1::Lead fields;
    FlatLead flat;
  };
  std::vector<std::unique_ptr<FlatCase>> cases;
  for (int64_t i = 0; i < state.range(0); ++i) {
    auto c = std::make_unique<FlatCase>();
    if (!google::protobuf::util::MessageToJsonString(f.leads[i], &c->json)
             .ok() ||
        !c->reader.Read(c->json, &c->fields, &c->flat)) {
      state.SkipWithError("a lead was not read flat");
      return;
    }
    cases.push_back(std::move(c));
  }
  Scorer scorer(f.playbook);
  LeadScore score;
  size_t i = 0;
  for (auto _ : state) {
    scorer.ScoreFlat(cases[i]->flat, kNow, &score);
    benchmark::DoNotOptimize(score.total);
    if (++i == cases.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreFlatOneThread)->ArgName("leads")->Arg(256)->Arg(4096);

// Scores every lead of `source` on `pipeline`, keeping each total.
void ScoreTotals(LeadPipeline& pipeline, LeadSource& source,
                 std::vector<double>* totals, benchmark::State& state) {
  absl::Status run = pipeline.Run(
      source, nullptr,
      [&](const ScoredLead& s) {
        (*totals)[source.index(s.slot, s.i)] = s.scores[0].total;
      },
      [](int, int64_t) { return absl::OkStatus(); });
  if (!run.ok()) state.SkipWithError("refused");
  benchmark::DoNotOptimize(totals->data());
}

// On the lead pipeline, from leads in memory: scoring alone, on 1 and 2
// threads and all of them (0).
void BM_ScorePipeline(benchmark::State& state) {
  const Fixture& f = GetFixture();
  LeadPipeline pipeline({f.playbook}, kNow, static_cast<int>(state.range(0)));
  std::vector<double> totals(f.leads.size());
  for (auto _ : state) {
    std::unique_ptr<LeadSource> source = LeadListSource(f.pointers);
    ScoreTotals(pipeline, *source, &totals, state);
  }
  state.SetItemsProcessed(state.iterations() * f.leads.size());
  state.counters["threads"] = pipeline.threads();
}
BENCHMARK(BM_ScorePipeline)
    ->Arg(1)
    ->Arg(2)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The ScoreLeads stream's work on its requests' leads, without gRPC: from
// their encoding, parsed by protobuf onto an arena as the service did before
// (0), or read flat from the bytes (1); on one thread.
void BM_ScoreEncodedLeads(benchmark::State& state) {
  const Fixture& f = GetFixture();
  constexpr size_t kLeads = 10000;
  std::vector<std::string> encoded;
  for (size_t i = 0; i < kLeads; ++i) {
    encoded.push_back(f.leads[i].SerializeAsString());
  }
  const std::vector<absl::string_view> views(encoded.begin(), encoded.end());
  const bool flat = state.range(0) == 1;
  LeadPipeline pipeline({f.playbook}, kNow, 1);
  std::vector<double> totals(kLeads);
  for (auto _ : state) {
    google::protobuf::Arena arena;
    std::vector<const v1::Lead*> parsed;
    std::unique_ptr<LeadSource> source;
    if (flat) {
      source = EncodedLeadSource(views);
    } else {
      for (const absl::string_view bytes : views) {
        auto* lead = google::protobuf::Arena::CreateMessage<v1::Lead>(&arena);
        if (!lead->ParseFromArray(bytes.data(),
                                  static_cast<int>(bytes.size()))) {
          state.SkipWithError("not parsed");
        }
        parsed.push_back(lead);
      }
      source = LeadListSource(parsed);
    }
    ScoreTotals(pipeline, *source, &totals, state);
  }
  state.SetItemsProcessed(state.iterations() * kLeads);
}
BENCHMARK(BM_ScoreEncodedLeads)
    ->ArgName("flat")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

// A CSV cell: quoted, quotes doubled.
std::string CsvCell(absl::string_view text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

// The CSV row of `lead`: every lead column, the attributes of
// `attribute_keys` and the events, as users export them. Exact for the
// fixture's leads, whose attributes are numbers and text that does not read
// as one (BM_ScoreFile's output per lead shows both files give the same
// results); not a general CSV writer (an empty text attribute, or "123",
// would come back otherwise).
std::string CsvRow(const v1::Lead& lead,
                   const std::vector<std::string>& attribute_keys) {
  std::vector<std::string> cells;
  for (const LeadField& field : kLeadFields) {
    if (field.derived) continue;
    switch (field.type) {
      case LeadFieldType::kText:
        cells.push_back(CsvCell(LeadText(lead, field.id)));
        break;
      case LeadFieldType::kWholeNumber:
        cells.push_back(absl::StrCat(LeadInteger(lead, field.id)));
        break;
      case LeadFieldType::kNumber:
        cells.push_back(absl::StrFormat("%.17g", LeadNumber(lead, field.id)));
        break;
      case LeadFieldType::kBool:
        cells.push_back(LeadBool(lead, field.id) ? "true" : "false");
        break;
      case LeadFieldType::kSeniority:
        cells.push_back(lead.seniority() == v1::SENIORITY_UNSPECIFIED
                            ? ""
                            : v1::Seniority_Name(lead.seniority()));
        break;
      case LeadFieldType::kTime: {
        const google::protobuf::Timestamp* t = LeadTime(lead, field.id);
        cells.push_back(t == nullptr ? ""
                                     : absl::FormatTime(absl::RFC3339_full,
                                                        TimeFromProto(*t),
                                                        absl::UTCTimeZone()));
        break;
      }
    }
  }
  for (const std::string& key : attribute_keys) {
    const auto& fields = lead.attributes().fields();
    const auto it = fields.find(key);
    if (it == fields.end()) {
      cells.emplace_back();
    } else if (it->second.has_number_value()) {
      cells.push_back(absl::StrFormat("%.17g", it->second.number_value()));
    } else if (it->second.has_bool_value()) {
      cells.push_back(it->second.bool_value() ? "true" : "false");
    } else {
      cells.push_back(CsvCell(it->second.string_value()));
    }
  }
  std::string events = "[]";
  if (lead.events_size() > 0) {
    v1::Lead events_only;
    *events_only.mutable_events() = lead.events();
    events = ToStableJson(events_only);
    // {"events":[...]} to [...]
    events = events.substr(10, events.size() - 11);
  }
  cells.push_back(CsvCell(events));
  return absl::StrJoin(cells, ",");
}

// A lead file of the fixture's first leads, written once: the same leads as
// JSON lines or as CSV, every field in both.
const std::string& LeadFile(int64_t count, bool csv) {
  static std::string* paths[2] = {};
  std::string*& path = paths[csv];
  if (path != nullptr) return *path;
  const Fixture& f = GetFixture();
  path = new std::string(absl::StrCat(
      std::filesystem::temp_directory_path().string(), "/smarketing_benchmark_",
      ::getpid(), csv ? ".csv" : ".jsonl"));
  std::ofstream out(*path, std::ios::binary);
  if (csv) {
    std::vector<std::string> header;
    for (const LeadField& field : kLeadFields) {
      if (!field.derived) header.emplace_back(field.column);
    }
    absl::btree_set<std::string> keys;
    for (int64_t i = 0; i < count; ++i) {
      for (const auto& [key, value] : f.leads[i].attributes().fields()) {
        if (!value.has_struct_value() && !value.has_list_value()) {
          keys.insert(key);
        }
      }
    }
    const std::vector<std::string> attribute_keys(keys.begin(), keys.end());
    for (const std::string& key : attribute_keys) {
      header.push_back(absl::StrCat("attributes.", key));
    }
    header.emplace_back("events");
    out << absl::StrJoin(header, ",") << "\n";
    for (int64_t i = 0; i < count; ++i) {
      out << CsvRow(f.leads[i], attribute_keys) << "\n";
    }
  } else {
    for (int64_t i = 0; i < count; ++i) out << ToStableJson(f.leads[i]) << "\n";
  }
  std::atexit([] {
    for (std::string* p : paths) {
      if (p != nullptr) std::remove(p->c_str());
    }
  });
  return *path;
}

// smarketing score end to end but for the terminal: a lead file read,
// parsed, scored, routed and printed as JSON lines (explanation as rule ids
// and points), on range(0) threads; range(1) 1 for CSV.
void BM_ScoreFile(benchmark::State& state) {
  constexpr int64_t kLeads = 20000;
  const bool csv = state.range(1) == 1;
  const std::string& path = LeadFile(kLeads, csv);
  auto engine = LeadEngine::Create(GetFixture().playbook->playbook());
  if (!engine.ok()) {
    state.SkipWithError("Playbook refused");
    return;
  }
  ScoreLinesOptions options;
  options.now = kNow;
  options.threads = static_cast<int>(state.range(0));
  options.name = path;
  int64_t bytes = 0, refused = 0;
  for (auto _ : state) {
    auto reader = LeadBlockReader::Open(path);
    if (!reader.ok()) {
      state.SkipWithError("cannot read the lead file");
      return;
    }
    std::unique_ptr<LeadSource> source = FileLeadSource(reader->get());
    auto summary = ScoreToJsonLines(
        **engine, *source, options,
        [&](absl::string_view text) {
          bytes += static_cast<int64_t>(text.size());
          return true;
        },
        [&](absl::string_view) { ++refused; });
    if (!summary.ok() || summary->scored != kLeads)
      state.SkipWithError("not every lead scored");
  }
  state.SetItemsProcessed(state.iterations() * kLeads);
  state.counters["threads"] = options.threads;
  state.counters["output_bytes_per_lead"] =
      static_cast<double>(bytes) /
      static_cast<double>(state.iterations() * kLeads);
}
BENCHMARK(BM_ScoreFile)
    ->ArgNames({"threads", "csv"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({1, 1})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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

// Printing a result as a JSON line, with sentences (range(0) 1) or rule ids
// and points (0): the writer of the pipeline against protobuf's printer,
// which it replaces.
const std::vector<v1::ScoreResult>& Results(bool sentences) {
  static const std::vector<v1::ScoreResult>* results[2] = {};
  if (results[sentences] == nullptr) {
    const Fixture& f = GetFixture();
    Scorer scorer(f.playbook);
    auto* r = new std::vector<v1::ScoreResult>(1000);
    LeadScore score;
    for (size_t i = 0; i < r->size(); ++i) {
      if (!scorer.Score(f.leads[i], kNow, &score).ok()) std::abort();
      scorer.ToProto(
          f.leads[i], score, kNow, &(*r)[i],
          sentences ? Explanation::kSentences : Explanation::kRuleIds);
    }
    results[sentences] = r;
  }
  return *results[sentences];
}

void BM_PrintJsonWriter(benchmark::State& state) {
  const auto& results = Results(state.range(0) == 1);
  ScoreJsonWriter writer;
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    writer.Append(results[i], &out);
    benchmark::DoNotOptimize(out.data());
    if (++i == results.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PrintJsonWriter)->ArgName("sentences")->Arg(0)->Arg(1);

void BM_PrintMessageToJsonString(benchmark::State& state) {
  const auto& results = Results(state.range(0) == 1);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    (void)google::protobuf::util::MessageToJsonString(results[i], &out,
                                                      options);
    benchmark::DoNotOptimize(out.data());
    if (++i == results.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PrintMessageToJsonString)->ArgName("sentences")->Arg(0)->Arg(1);

// Encoding a result for the ScoreLeads stream, rule ids and points as it
// sends by default: the stream's writer (1) against ToProto and protobuf's
// serializer (0), which it replaces.
void BM_EncodeScoreResult(benchmark::State& state) {
  const Fixture& f = GetFixture();
  Scorer scorer(f.playbook);
  std::vector<LeadScore> scores(1000);
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!scorer.Score(f.leads[i], kNow, &scores[i]).ok()) std::abort();
  }
  const bool writer = state.range(0) == 1;
  ScoreWireWriter wire(*f.playbook);
  v1::ScoreResult result;
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    if (writer) {
      wire.Append(f.leads[i], scores[i], kNow, Explanation::kRuleIds, &out);
    } else {
      scorer.ToProto(f.leads[i], scores[i], kNow, &result,
                     Explanation::kRuleIds);
      result.SerializeToString(&out);
    }
    benchmark::DoNotOptimize(out.data());
    if (++i == scores.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeScoreResult)->ArgName("writer")->Arg(0)->Arg(1);

}  // namespace
}  // namespace smarketing

BENCHMARK_MAIN();
