// Reading leads in the protobuf JSON mapping, per lead of about 20 events:
// the fast lead reader (core/leads/lead_json.h), protobuf's parser, and
// simdjson (Debian's libsimdjson-dev) only tokenizing the same bytes, into
// its DOM or walking every value on demand, without filling a Lead. What a
// simdjson-based reader would cost is at least the latter plus filling the
// Lead (arena strings, Struct maps, timestamps), which the fast reader
// also does: if the fast reader's whole job costs about what simdjson's
// walk alone costs, a reader on simdjson cannot be much faster.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/leads/lead_blocks.h"
#include "core/leads/lead_io.h"
#include "core/leads/lead_json.h"
#include "core/synthetic/lead_generator.h"
#include "simdjson.h"

namespace smarketing {
namespace {

const std::vector<std::string>& Lines() {
  static const auto* const lines = [] {
    LeadGeneratorOptions options;
    options.seed = 2026;
    options.now = absl::FromUnixSeconds(1795424400);
    options.mean_events = 20;
    LeadGenerator generator(options);
    auto* out = new std::vector<std::string>(2000);
    v1::Lead lead;
    for (size_t i = 0; i < out->size(); ++i) {
      generator.Generate(static_cast<int64_t>(i), &lead);
      (*out)[i] = ToStableJson(lead);
    }
    return out;
  }();
  return *lines;
}

void Report(benchmark::State& state, int64_t bytes) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_FastLeadReader(benchmark::State& state) {
  const auto& lines = Lines();
  ReusableLead reusable;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    v1::Lead* lead = reusable.Fresh();
    if (!ParseLeadJsonQuickly(lines[i], lead).ok())
      state.SkipWithError("refused");
    benchmark::DoNotOptimize(lead);
    bytes += static_cast<int64_t>(lines[i].size());
    if (++i == lines.size()) i = 0;
  }
  Report(state, bytes);
}
BENCHMARK(BM_FastLeadReader);

void BM_ProtobufParser(benchmark::State& state) {
  const auto& lines = Lines();
  ReusableLead reusable;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    v1::Lead* lead = reusable.Fresh();
    if (!ParseLeadJson(lines[i], lead).ok()) state.SkipWithError("refused");
    benchmark::DoNotOptimize(lead);
    bytes += static_cast<int64_t>(lines[i].size());
    if (++i == lines.size()) i = 0;
  }
  Report(state, bytes);
}
BENCHMARK(BM_ProtobufParser);

// Building the leads alone, copied from parsed ones into the reader's
// arena: the part of reading that remains whatever the tokenizer.
void BM_FillLeadOnly(benchmark::State& state) {
  const auto& lines = Lines();
  static const auto* const parsed = [&] {
    auto* out = new std::vector<v1::Lead>(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      if (!ParseLeadJson(lines[i], &(*out)[i]).ok()) std::abort();
    }
    return out;
  }();
  ReusableLead reusable;
  size_t i = 0;
  for (auto _ : state) {
    v1::Lead* lead = reusable.Fresh();
    lead->CopyFrom((*parsed)[i]);
    benchmark::DoNotOptimize(lead);
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FillLeadOnly);

const std::vector<simdjson::padded_string>& PaddedLines() {
  static const auto* const padded = [] {
    auto* out = new std::vector<simdjson::padded_string>();
    for (const std::string& line : Lines()) out->emplace_back(line);
    return out;
  }();
  return *padded;
}

void BM_SimdjsonDomOnly(benchmark::State& state) {
  const auto& lines = PaddedLines();
  simdjson::dom::parser parser;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(lines[i]).get(doc)) state.SkipWithError("refused");
    benchmark::DoNotOptimize(doc);
    bytes += static_cast<int64_t>(lines[i].size());
    if (++i == lines.size()) i = 0;
  }
  Report(state, bytes);
}
BENCHMARK(BM_SimdjsonDomOnly);

// Touches every key and value, as a reader filling a Lead must.
size_t Walk(simdjson::ondemand::value value) {
  size_t n = 0;
  switch (value.type()) {
    case simdjson::ondemand::json_type::object:
      for (auto field : value.get_object()) {
        n += field.unescaped_key().value().size();
        n += Walk(field.value());
      }
      break;
    case simdjson::ondemand::json_type::array:
      for (auto element : value.get_array()) n += Walk(element.value());
      break;
    case simdjson::ondemand::json_type::string:
      n += value.get_string().value().size();
      break;
    case simdjson::ondemand::json_type::number:
      n += static_cast<size_t>(value.get_double().value() != 0);
      break;
    case simdjson::ondemand::json_type::boolean:
      n += value.get_bool().value();
      break;
    case simdjson::ondemand::json_type::null:
      break;
  }
  return n;
}

void BM_SimdjsonOnDemandWalkOnly(benchmark::State& state) {
  const auto& lines = PaddedLines();
  simdjson::ondemand::parser parser;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    simdjson::ondemand::document doc = parser.iterate(lines[i]);
    simdjson::ondemand::value root;
    if (doc.get_value().get(root)) state.SkipWithError("refused");
    benchmark::DoNotOptimize(Walk(root));
    bytes += static_cast<int64_t>(lines[i].size());
    if (++i == lines.size()) i = 0;
  }
  Report(state, bytes);
}
BENCHMARK(BM_SimdjsonOnDemandWalkOnly);

}  // namespace
}  // namespace smarketing

BENCHMARK_MAIN();
