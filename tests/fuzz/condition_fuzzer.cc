// Rule conditions: the input is one condition in YAML. It is put in a fit
// rule, an engagement rule and a priority rule of a small Playbook (a lead,
// an event and a score each see other fields), and every Playbook that
// compiles scores a fixed set of realistic leads. Compiling may refuse the
// condition, with problems; evaluating must never crash, hang or score
// outside the documented ranges.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/base/yaml_message.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {
namespace {

constexpr char kPlaybook[] = R"(
metadata: {name: fuzz, version: "1"}
personas:
  - id: buyer
    name: Buyer
    criteria:
      - {id: software, description: In software, when: {field: company.industry, equals: software}, weight: 100}
grade_bands:
  - {grade: D, min_fit: 0, max_fit: 50}
  - {grade: A, min_fit: 50, max_fit: 100}
thresholds:
  mql: {min_total: 50, min_fit: 20}
  sql: {min_total: 80, min_fit: 40}
engagement:
  half_life: 7d
  max_score: 100
  rules:
    - {id: visit, description: Visited, event_types: [page_view], points: 2}
priority:
  default_priority: medium
)";

absl::Time Now() {
  return absl::FromUnixSeconds(1795424400);
}  // 2026-11-23T09:00:00Z

const std::vector<v1::Lead>& Leads() {
  static const auto* leads = [] {
    LeadGeneratorOptions options;
    options.seed = 7;
    options.now = Now();
    options.mean_events = 6;
    const LeadGenerator generator(options);
    auto* out = new std::vector<v1::Lead>(16);
    for (int i = 0; i < 16; ++i) generator.Generate(i, &(*out)[i]);
    return out;
  }();
  return *leads;
}

void Score(const v1::Playbook& playbook) {
  auto compiled = CompiledPlaybook::Compile(playbook);
  if (!compiled.ok()) {
    Check(ProblemsFromStatus(compiled.status()).has_value(),
          "a refused condition has no problems listed");
    return;
  }
  Scorer scorer(*compiled);
  LeadScore score;
  for (const v1::Lead& lead : Leads()) {
    const absl::Status status = scorer.Score(lead, Now(), &score);
    Check(status.ok(),
          absl::StrCat("a valid lead failed to score: ", status.message()));
    Check(score.fit >= 0 && score.fit <= 100, "fit outside [0, 100]");
    Check(score.engagement >= 0 && score.engagement <= 100,
          "engagement outside [0, max_score]");
    Check(std::isfinite(score.total), "a total that is not finite");
  }
}

}  // namespace

void TestOneInput(absl::string_view yaml) {
  static const v1::Playbook* base = [] {
    auto* playbook = new v1::Playbook();
    ProblemList problems;
    if (!ParseYamlMessage(kPlaybook, playbook, &problems)) {
      Fail(std::string(problems.ToStatus("base Playbook").message()));
    }
    return playbook;
  }();
  v1::Condition condition;
  ProblemList problems;
  if (!ParseYamlMessage(yaml, &condition, &problems)) return;

  v1::Playbook fit = *base;
  v1::FitRule* rule = fit.add_fit_rules();
  rule->set_id("fuzzed");
  rule->set_description("Fuzzed");
  rule->set_points(10);
  *rule->mutable_when() = condition;
  Score(fit);

  v1::Playbook engagement = *base;
  v1::EngagementRule* event_rule = engagement.mutable_engagement()->add_rules();
  event_rule->set_id("fuzzed");
  event_rule->set_description("Fuzzed");
  event_rule->set_points(5);
  *event_rule->mutable_when() = condition;
  Score(engagement);

  v1::Playbook priority = *base;
  v1::PriorityRule* priority_rule = priority.mutable_priority()->add_rules();
  priority_rule->set_id("fuzzed");
  priority_rule->set_description("Fuzzed");
  priority_rule->set_priority(v1::PRIORITY_HIGH);
  *priority_rule->mutable_when() = condition;
  Score(priority);
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
