#include "core/checks/golden_cases.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/playbook/playbook_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::DemoPlaybookPath;
using ::smarketing::testing::MinimalPlaybookYaml;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The minimal Playbook with a fit rule and an engagement rule, so that
// explanations name rules.
std::string Playbook() {
  return absl::StrCat(MinimalPlaybookYaml(), R"(
  rules:
    - id: click
      description: Clicked an e-mail
      event_types: [email_click]
      points: 10
fit_rules:
  - id: has-phone
    description: Left a phone number
    when: {field: contact.phone, exists: true}
    points: 5
routing:
  match_account_owner: true
  teams:
    - id: emea
      strategy: round_robin
      members:
        - {id: u1, role: sales, available: true}
        - {id: u2, role: sales, available: true}
    - id: global
      strategy: round_robin
      members: [{id: u9, role: sales, available: true}]
  rules:
    - id: emea-rule
      when: {field: company.region, equals: EMEA}
      team_id: emea
  fallback_team_id: global
)");
}

std::shared_ptr<const LeadEngine> MustEngine(const std::string& yaml) {
  auto engine =
      LeadEngine::Create(::smarketing::testing::PlaybookFromYaml(yaml));
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  return engine.ok() ? *engine : nullptr;
}

// A software director who clicked twice: fit 100 (clamped), engagement
// about 20, total about 120, MQL.
constexpr char kCase[] = R"(
  - name: software-director
    now: 2026-11-23T12:00:00Z
    lead:
      id: lead-1
      contact: {phone: "+33 1 23 45 67 89"}
      seniority: director
      company: {industry: software}
      events:
        - {id: e1, type: email_click, occurred_at: 2026-11-23T10:00:00Z}
        - {id: e2, type: email_click, occurred_at: 2026-11-23T11:00:00Z}
    expect:
)";

GoldenCaseSet MustParse(const std::string& text) {
  auto set = ParseGoldenCases(text, "cases.yaml");
  EXPECT_TRUE(set.ok()) << set.status().message();
  return set.ok() ? *std::move(set) : GoldenCaseSet();
}

// Runs one case of kCase with `expect` (indented lines under "expect:").
GoldenCaseOutcome RunOne(const std::string& expect) {
  const GoldenCaseSet set = MustParse(absl::StrCat("cases:", kCase, expect));
  std::vector<GoldenCaseOutcome> outcomes =
      RunGoldenCases(MustEngine(Playbook()), set);
  EXPECT_EQ(outcomes.size(), 1u);
  return outcomes.empty() ? GoldenCaseOutcome() : outcomes[0];
}

std::vector<std::string> ProblemLines(const absl::Status& status) {
  std::vector<std::string> lines;
  if (auto problems = ProblemsFromStatus(status)) {
    for (const auto& p : problems->problems())
      lines.push_back(FormatProblem(p));
  }
  return lines;
}

TEST(GoldenCasesTest, EveryExpectationHoldsOnTheRightDecision) {
  const GoldenCaseOutcome outcome = RunOne(R"(
      grade: A
      stage: mql
      persona_id: software-buyer
      min_total: 110
      max_total: 125
      min_fit: 100
      max_fit: 100
      min_engagement: 15
      max_engagement: 20
      fired_rules: [click, has-phone, in-software, senior]
      not_fired_rules: []
      hand_raiser: false
      priority: medium
)");
  EXPECT_TRUE(outcome.passed());
  EXPECT_THAT(outcome.failures, IsEmpty());
  EXPECT_EQ(outcome.name, "software-director");
  EXPECT_EQ(outcome.path, "cases[0]");
  EXPECT_EQ(outcome.position.line, 2);
  EXPECT_EQ(outcome.result.lead_id(), "lead-1");
  EXPECT_EQ(outcome.result.recommended_stage(), v1::LIFECYCLE_STAGE_MQL);
}

TEST(GoldenCasesTest, EachFailureShowsExpectedActualAndWhere) {
  const GoldenCaseOutcome outcome = RunOne(R"(
      grade: B
      stage: nurture
      persona_id: other-persona
      min_total: 130
      max_fit: 90
      hand_raiser: true
      priority: urgent
      disqualification_reason: competitor
)");
  EXPECT_FALSE(outcome.passed());
  ASSERT_EQ(outcome.failures.size(), 8u);
  const ExpectationFailure& grade = outcome.failures[0];
  EXPECT_EQ(grade.field, "grade");
  EXPECT_EQ(grade.expected, "\"B\"");
  EXPECT_EQ(grade.actual, "\"A\"");
  EXPECT_EQ(grade.path, "cases[0].expect.grade");
  EXPECT_EQ(grade.position.line, 14);
  EXPECT_EQ(grade.position.column, 14);
  EXPECT_THAT(outcome.failures,
              ElementsAre(Field(&ExpectationFailure::field, "grade"),
                          Field(&ExpectationFailure::field, "stage"),
                          Field(&ExpectationFailure::field, "persona_id"),
                          Field(&ExpectationFailure::field, "min_total"),
                          Field(&ExpectationFailure::field, "max_fit"),
                          Field(&ExpectationFailure::field, "hand_raiser"),
                          Field(&ExpectationFailure::field, "priority"),
                          Field(&ExpectationFailure::field,
                                "disqualification_reason")));
  EXPECT_EQ(outcome.failures[1].expected, "nurture");
  EXPECT_EQ(outcome.failures[1].actual, "mql");
  EXPECT_EQ(outcome.failures[3].expected, ">= 130");
  EXPECT_EQ(outcome.failures[4].expected, "<= 90");
  EXPECT_EQ(outcome.failures[4].actual, "100");
  EXPECT_EQ(outcome.failures[7].actual, "not disqualified");
  // The decision comes with its explanation, to show why.
  EXPECT_GT(outcome.result.explanation_size(), 0);
}

TEST(GoldenCasesTest, RulesThatMustOrMustNotFire) {
  const GoldenCaseOutcome outcome = RunOne(R"(
      fired_rules: [click, no-such-rule]
      not_fired_rules: [has-phone, also-unknown]
)");
  ASSERT_EQ(outcome.failures.size(), 3u);
  EXPECT_EQ(outcome.failures[0].field, "fired_rules[1]");
  EXPECT_EQ(outcome.failures[0].actual,
            "no rule \"no-such-rule\" in the Playbook");
  EXPECT_EQ(outcome.failures[1].field, "not_fired_rules[0]");
  EXPECT_THAT(outcome.failures[1].actual, HasSubstr("Left a phone number"));
  // A rule that was renamed or removed must not pass silently.
  EXPECT_EQ(outcome.failures[2].field, "not_fired_rules[1]");
  EXPECT_EQ(outcome.failures[2].actual,
            "no rule \"also-unknown\" in the Playbook");
  EXPECT_EQ(outcome.failures[2].path, "cases[0].expect.not_fired_rules[1]");
  EXPECT_GT(outcome.failures[2].position.line, 0);
}

TEST(GoldenCasesTest, QualifiedLeadsAreRoutedAsTheServiceWould) {
  const GoldenCaseSet set = MustParse(R"(cases:
  - name: no-rule-matches
    now: 2026-11-23T12:00:00Z
    lead: {id: a, seniority: director, company: {industry: software}}
    expect: {team_id: emea}
  - name: emea
    now: 2026-11-23T12:00:00Z
    lead: {id: b, seniority: director, company: {industry: software, region: EMEA}}
    expect: {team_id: emea, owner_id: u1}
  - name: known-account
    now: 2026-11-23T12:00:00Z
    lead: {id: c, seniority: director, company: {industry: software, region: EMEA, domain: acme.com}}
    routing_state:
      account_owners: {acme.com: {team_id: emea, owner_id: u2}}
    expect: {team_id: emea, owner_id: u2}
  - name: nurtured
    now: 2026-11-23T12:00:00Z
    lead: {id: d, company: {industry: retail, region: EMEA}}
    expect: {team_id: emea}
)");
  const std::vector<GoldenCaseOutcome> outcomes =
      RunGoldenCases(MustEngine(Playbook()), set);
  ASSERT_EQ(outcomes.size(), 4u);
  ASSERT_EQ(outcomes[0].failures.size(), 1u);
  EXPECT_EQ(outcomes[0].failures[0].field, "team_id");
  EXPECT_EQ(outcomes[0].failures[0].actual, "\"global\"");
  EXPECT_TRUE(outcomes[1].passed());
  EXPECT_EQ(outcomes[1].result.routing().rule_id(), "emea-rule");
  EXPECT_TRUE(outcomes[2].passed());
  ASSERT_EQ(outcomes[3].failures.size(), 1u);
  EXPECT_EQ(outcomes[3].failures[0].actual,
            "not routed: the lead is nurture, only qualified leads are routed");
}

TEST(GoldenCasesTest, EveryProblemOfAFileIsListedWithItsPosition) {
  const absl::StatusOr<GoldenCaseSet> set = ParseGoldenCases(R"(cases:
  - name: first
    now: 2026-11-23T12:00:00Z
    lead: {id: a}
    expect: {stage: mql}
  - name: first
    lead: {id: b, events: [{type: email_open, occurred_at: 2026-11-23T10:00:00Z}]}
    expect: {min_total: 50, max_total: 10}
  - now: 2026-11-23T12:00:00Z
    lead: {id: c}
  - name: no-lead
    now: 2026-11-23T12:00:00Z
    expect: {grade: A}
)",
                                                             "cases.yaml");
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(
      ProblemLines(set.status()),
      ElementsAre(
          HasSubstr("cases.yaml:6:11: cases[1].name: duplicate name \"first\""),
          HasSubstr("cases.yaml:6:5: cases[1].now: required"),
          HasSubstr("cases[1].lead.events[0].id: is required"),
          HasSubstr("cases.yaml:8:25: cases[1].expect.min_total: min_total 50 "
                    "is above "
                    "max_total 10"),
          HasSubstr("cases.yaml:9:5: cases[2].name: a name is required"),
          HasSubstr("cases[2].expect: at least one expectation is required"),
          HasSubstr("cases.yaml:11:5: cases[3].lead: required")));
}

TEST(GoldenCasesTest, TextThatIsNotUtf8IsLocated) {
  // The lead's id would otherwise lose its bad byte on the way out.
  auto raw = ParseGoldenCases(
      "cases:\n  - name: x\n    lead: {id: \"l\xff"
      "1\"}\n",
      "cases.yaml");
  ASSERT_FALSE(raw.ok());
  EXPECT_THAT(
      ProblemLines(raw.status()),
      ElementsAre(HasSubstr("cases.yaml:3:18: not valid YAML: a byte that "
                            "is not valid UTF-8 (0xff)")));
  auto escaped = ParseGoldenCases(
      "cases:\n  - name: x\n    lead: {id: \"l\\_1\"}\n", "cases.yaml");
  ASSERT_FALSE(escaped.ok());
  EXPECT_THAT(ProblemLines(escaped.status()),
              ElementsAre(HasSubstr(
                  "cases.yaml:3:16: cases[0].lead.id: not valid UTF-8")));
}

TEST(GoldenCasesTest, SyntaxAndUnknownFieldsAreLocated) {
  auto unknown = ParseGoldenCases(
      "cases:\n  - name: x\n    expected: {grade: A}\n", "cases.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(ProblemLines(unknown.status()),
              ElementsAre(HasSubstr(
                  "cases.yaml:3:5: cases[0].expected: unknown field")));
  auto syntax = ParseGoldenCases("cases:\n  - name: [unclosed\n", "cases.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(ProblemLines(syntax.status()),
              ElementsAre(HasSubstr("cases.yaml:")));
  auto empty = ParseGoldenCases("", "cases.yaml");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(ProblemLines(empty.status()),
              ElementsAre(HasSubstr("cases.yaml:1:1: the document is empty")));
  auto no_cases = ParseGoldenCases("cases: []\n", "cases.yaml");
  ASSERT_FALSE(no_cases.ok());
  EXPECT_THAT(ProblemLines(no_cases.status()),
              ElementsAre(HasSubstr("cases.yaml:1:8: cases: no golden cases")));
}

TEST(GoldenCasesTest, AMissingFileIsNotFound) {
  EXPECT_EQ(LoadGoldenCasesFile("/no/such/cases.yaml").status().code(),
            absl::StatusCode::kNotFound);
}

// The demo cases of examples/cases/ are the contract of the demo Playbook:
// a change to either that breaks them fails here too.
TEST(GoldenCasesTest, DemoCasesPassWithTheDemoPlaybook) {
  auto set = LoadGoldenCasesFile(
      absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/cases/demo.yaml"));
  ASSERT_TRUE(set.ok()) << set.status().message();
  auto source = LoadPlaybookFile(DemoPlaybookPath());
  ASSERT_TRUE(source.ok()) << source.status().message();
  auto engine = LeadEngine::Create(source->playbook);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  for (const GoldenCaseOutcome& outcome : RunGoldenCases(*engine, *set)) {
    EXPECT_TRUE(outcome.passed())
        << outcome.name << ": " << outcome.failures[0].field << ": expected "
        << outcome.failures[0].expected << ", got "
        << outcome.failures[0].actual;
  }
}

}  // namespace
}  // namespace smarketing
