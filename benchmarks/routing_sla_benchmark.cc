// Routing decisions and SLA evaluations per second on one core. Targets:
// 1,000,000 routing decisions/s and 5,000,000 SLA evaluations/s.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "core/journey/routing.h"
#include "core/journey/sla.h"
#include "google/protobuf/text_format.h"

namespace smarketing {
namespace {

constexpr char kSla[] = R"pb(
  policies {
    priority: PRIORITY_HIGH
    first_touch { seconds: 7200 }
    accept_or_reject { seconds: 28800 }
    feedback_after_meeting { seconds: 57600 }
    escalations { action: ESCALATION_ACTION_REMIND_OWNER }
    escalations {
      after_breach { seconds: 7200 }
      action: ESCALATION_ACTION_REASSIGN
    }
    escalations {
      after_breach { seconds: 28800 }
      action: ESCALATION_ACTION_ESCALATE_TO_MANAGER
    }
  }
  default_calendar {
    time_zone: "Europe/Paris"
    working_hours { weekday: WEEKDAY_MONDAY start: "09:00" end: "12:00" }
    working_hours { weekday: WEEKDAY_MONDAY start: "13:00" end: "18:00" }
    working_hours { weekday: WEEKDAY_TUESDAY start: "09:00" end: "12:00" }
    working_hours { weekday: WEEKDAY_TUESDAY start: "13:00" end: "18:00" }
    working_hours { weekday: WEEKDAY_WEDNESDAY start: "09:00" end: "12:00" }
    working_hours { weekday: WEEKDAY_WEDNESDAY start: "13:00" end: "18:00" }
    working_hours { weekday: WEEKDAY_THURSDAY start: "09:00" end: "12:00" }
    working_hours { weekday: WEEKDAY_THURSDAY start: "13:00" end: "18:00" }
    working_hours { weekday: WEEKDAY_FRIDAY start: "09:00" end: "12:00" }
    working_hours { weekday: WEEKDAY_FRIDAY start: "13:00" end: "18:00" }
    holidays { year: 2026 month: 5 day: 1 }
    holidays { year: 2026 month: 12 day: 25 }
  }
)pb";

// Leads entering MQL every 7 minutes 13 seconds across 2026, so arrivals
// fall in and out of hours, on weekends, holidays and DST changes; each is
// evaluated a business day or so later, with a mix of progress.
struct SlaCase {
  absl::Time entered_at;
  SlaProgress progress;
  absl::Time now;
};

std::vector<SlaCase> SlaCases() {
  std::vector<SlaCase> cases;
  const absl::Time start = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  for (int i = 0; i < 4096; ++i) {
    SlaCase c;
    c.entered_at = start + absl::Seconds(433 * 17 * i);
    c.now = c.entered_at + absl::Hours(i % 47);
    if (i % 3 == 0) c.progress.first_touched_at = c.entered_at + absl::Hours(1);
    if (i % 5 == 0) {
      c.progress.sales_decision_at = c.entered_at + absl::Hours(5);
    }
    cases.push_back(c);
  }
  return cases;
}

void BM_SlaEvaluate(benchmark::State& state) {
  v1::Sla proto;
  google::protobuf::TextFormat::ParseFromString(kSla, &proto);
  Sla sla;
  ProblemList problems;
  if (!sla.Compile(proto, "sla", &problems)) {
    state.SkipWithError("SLA does not compile");
    return;
  }
  const std::vector<SlaCase> cases = SlaCases();
  size_t i = 0;
  for (auto _ : state) {
    const SlaCase& c = cases[i++ & (cases.size() - 1)];
    benchmark::DoNotOptimize(
        sla.Evaluate(v1::PRIORITY_HIGH, c.entered_at, c.progress, c.now));
  }
  state.counters["evaluations/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SlaEvaluate);

// Three regional teams of five, one per strategy, a rule per region, a
// fallback team, account matching on; members on leave and at capacity
// make the strategies skip people.
std::string RoutingText() {
  std::string text = "match_account_owner: true\n";
  const char* regions[] = {"EMEA", "AMER", "APAC"};
  const char* strategies[] = {"ASSIGNMENT_STRATEGY_ROUND_ROBIN",
                              "ASSIGNMENT_STRATEGY_WEIGHTED",
                              "ASSIGNMENT_STRATEGY_CAPACITY"};
  for (int t = 0; t < 3; ++t) {
    absl::StrAppend(&text, "teams { id: \"", regions[t],
                    "\" strategy: ", strategies[t], "\n");
    absl::StrAppend(&text, "  members { id: \"", regions[t],
                    "-marketer\" role: MEMBER_ROLE_MARKETING }\n");
    for (int m = 0; m < 5; ++m) {
      absl::StrAppend(&text, "  members { id: \"", regions[t], "-", m,
                      "\" role: MEMBER_ROLE_SALES available: true weight: ",
                      m + 1, " max_open_leads: 1000000000");
      if (m == 4) {
        // On leave for the whole of 2026.
        absl::StrAppend(&text,
                        " out_of_office { start { seconds: 1767225600 } "
                        "end { seconds: 1798761600 } }");
      }
      text += " }\n";
    }
    text += "}\n";
    absl::StrAppend(&text, "rules { id: \"r-", regions[t],
                    "\" when { field: \"company.region\" equals { "
                    "string_value: \"",
                    regions[t], "\" } } team_id: \"", regions[t], "\" }\n");
  }
  return text + "fallback_team_id: \"EMEA\"\n";
}

void BM_Route(benchmark::State& state) {
  v1::Routing proto;
  google::protobuf::TextFormat::ParseFromString(RoutingText(), &proto);
  SlotTable attributes;
  SlotTable properties;
  Routing routing;
  ProblemList problems;
  if (!routing.Compile(proto, "routing", {}, nullptr, &attributes, &properties,
                       &problems)) {
    state.SkipWithError(problems.problems().DebugString().c_str());
    return;
  }
  // Leads across the regions (and one in none), from 512 companies.
  std::vector<v1::Lead> leads(4096);
  const char* regions[] = {"EMEA", "AMER", "APAC", "LATAM"};
  for (size_t i = 0; i < leads.size(); ++i) {
    leads[i].set_id(absl::StrCat("lead-", i));
    leads[i].mutable_company()->set_region(regions[i % 4]);
    if (i % 3 == 0) {
      leads[i].mutable_company()->set_domain(
          absl::StrCat("company-", i % 512, ".com"));
    }
  }
  const std::vector<const google::protobuf::Value*> no_attributes;
  v1::RoutingState routing_state;
  const absl::Time now = absl::FromUnixSeconds(1772532000);
  size_t i = 0;
  for (auto _ : state) {
    EvalContext context;
    context.lead = &leads[i++ & (leads.size() - 1)];
    context.attributes = &no_attributes;
    benchmark::DoNotOptimize(routing.Route(context, "", now, &routing_state));
  }
  state.counters["decisions/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Route);

}  // namespace
}  // namespace smarketing

BENCHMARK_MAIN();
