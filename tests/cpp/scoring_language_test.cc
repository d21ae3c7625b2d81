// The Playbook language for points scorecards ported from other rules
// engines: base points without personas, configurable fit and engagement
// bounds, what a disqualified or opted-out lead scores, a condition on the
// MQL threshold, inclusive and exclusive ranges, contains_any, the e-mail
// domain, hand-raisers without a lookback and the common event kinds. Each
// default keeps the behaviour the other suites check.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checks/golden_cases.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/compiled_playbook.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/scorer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::LeadFromYaml;
using ::smarketing::testing::MustCompileYaml;
using ::smarketing::testing::PlaybookFromYaml;
using ::smarketing::testing::ProblemLines;
using ::testing::HasSubstr;

const absl::Time kNow = At("2026-11-23T12:00:00Z");

// A scorecard without personas: base points, fit rules, negative fit
// allowed, grades over [-50, 50].
constexpr char kScorecard[] = R"(
metadata: {name: scorecard, version: "1"}
fit: {base_points: 10, min: -50, max: 50}
fit_rules:
  - {id: big, when: {field: company.employee_count, range: {min: 1000, max_inclusive: true, max: 5000}}, points: 20}
  - {id: tiny, when: {field: company.employee_count, range: {max: 10, max_inclusive: true}}, points: -40}
  - {id: free-mail, when: {field: contact.email_domain, in: [gmail.com, yahoo.com]}, points: -15}
  - {id: analyst, when: {field: job_title, contains_any: [analyst, "data scien"]}, points: 5}
grade_bands:
  - {grade: D, min_fit: -50, max_fit: 0}
  - {grade: C, min_fit: 0, max_fit: 20}
  - {grade: A, min_fit: 20, max_fit: 50}
engagement:
  min_score: -30
  max_score: 60
  rules:
    - {id: pricing, event_types: [pricing_page_view], points: 15, half_life: 30d}
    - {id: unsubscribe, event_types: [unsubscribe], points: -40, half_life: 3650d}
    - {id: careers, event_types: [careers_page_view], points: -5, half_life: 30d}
hand_raiser_rules:
  - {id: demo, event_types: [demo_request], min_fit: -50}
thresholds:
  mql: {min_total: 40, min_fit: -50, min_engagement: -30}
)";

v1::ScoreResult ScoreWith(const std::string& playbook, absl::string_view lead) {
  Scorer scorer(MustCompileYaml(playbook));
  auto result = scorer.Score(LeadFromYaml(lead), kNow);
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? *result : v1::ScoreResult();
}

TEST(ScoringLanguageTest, BasePointsWithoutPersonas) {
  const v1::ScoreResult r =
      ScoreWith(kScorecard, "{id: l, company: {employee_count: 5000}}");
  EXPECT_DOUBLE_EQ(r.fit_score(), 30);  // 10 base + 20: max 5000 is inclusive
  EXPECT_EQ(r.grade(), "A");
  EXPECT_EQ(r.persona_id(), "");
}

TEST(ScoringLanguageTest, FitBoundsAllowNegativeFit) {
  const v1::ScoreResult r =
      ScoreWith(kScorecard,
                "{id: l, contact: {email: Jo@Mail.Example@gmail.com}, company: "
                "{employee_count: 10}}");
  EXPECT_DOUBLE_EQ(r.fit_score(),
                   -45);  // 10 - 40 - 15: e-mail domain after the last @
  EXPECT_EQ(r.grade(), "D");
}

TEST(ScoringLanguageTest, RangeBoundsCanBeInclusiveOrExclusive) {
  EXPECT_DOUBLE_EQ(
      ScoreWith(kScorecard, "{id: l, company: {employee_count: 5001}}")
          .fit_score(),
      10);
  EXPECT_DOUBLE_EQ(
      ScoreWith(kScorecard, "{id: l, company: {employee_count: 11}}")
          .fit_score(),
      10);
  const std::string exclusive = R"(
metadata: {name: t, version: "1"}
fit_rules:
  - {id: above, when: {field: company.employee_count, range: {min: 100, min_exclusive: true}}, points: 5}
  - {id: exactly, when: {field: company.employee_count, range: {min: 100, max: 100, max_inclusive: true}}, points: 50}
grade_bands: [{grade: A, min_fit: 0, max_fit: 100}]
thresholds: {mql: {min_total: 90}}
)";
  EXPECT_DOUBLE_EQ(
      ScoreWith(exclusive, "{id: l, company: {employee_count: 100}}")
          .fit_score(),
      50);
  EXPECT_DOUBLE_EQ(
      ScoreWith(exclusive, "{id: l, company: {employee_count: 101}}")
          .fit_score(),
      5);
}

TEST(ScoringLanguageTest, ContainsAnyMatchesAnyOfItsTexts) {
  EXPECT_DOUBLE_EQ(
      ScoreWith(kScorecard, "{id: l, job_title: Senior Data Scientist}")
          .fit_score(),
      15);
  EXPECT_DOUBLE_EQ(
      ScoreWith(kScorecard, "{id: l, job_title: BI ANALYST}").fit_score(), 15);
  EXPECT_DOUBLE_EQ(
      ScoreWith(kScorecard, "{id: l, job_title: Engineer}").fit_score(), 10);
}

TEST(ScoringLanguageTest, EngagementMayGoNegativeDownToItsFloor) {
  const v1::ScoreResult r = ScoreWith(kScorecard, R"(
id: l
events:
  - {id: e1, type: unsubscribe, occurred_at: "2026-11-23T10:00:00Z"}
  - {id: e2, type: careers_page_view, occurred_at: "2026-11-23T10:00:00Z"}
)");
  EXPECT_DOUBLE_EQ(r.engagement_score(), -30);  // -45 floored at min_score
  EXPECT_DOUBLE_EQ(r.total_score(), -20);
  const v1::ScoreResult pricing = ScoreWith(kScorecard, R"(
id: l
events: [{id: e1, type: pricing_page_view, occurred_at: "2026-11-23T12:00:00Z"}]
)");
  EXPECT_DOUBLE_EQ(pricing.engagement_score(), 15);
}

TEST(ScoringLanguageTest, HandRaiserWithoutLookbackCountsAnyPastEvent) {
  const v1::ScoreResult r = ScoreWith(kScorecard, R"(
id: l
events: [{id: e1, type: demo_request, occurred_at: "2016-01-01T00:00:00Z"}]
)");
  EXPECT_TRUE(r.hand_raiser());
  EXPECT_EQ(r.recommended_stage(), v1::LIFECYCLE_STAGE_MQL);
}

TEST(ScoringLanguageTest, DisqualifiedLeadsCanScoreZeroWithTheLowestGrade) {
  const std::string yaml = absl::StrCat(kScorecard, R"(
disqualification_rules:
  - {id: competitor, when: {field: company.domain, equals: rival.com}, reason: competitor}
disqualified: {zero_scores: true, grade: D}
)");
  const v1::ScoreResult r = ScoreWith(
      yaml, "{id: l, company: {domain: rival.com, employee_count: 2000}}");
  EXPECT_EQ(r.recommended_stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_DOUBLE_EQ(r.fit_score(), 0);
  EXPECT_DOUBLE_EQ(r.total_score(), 0);
  EXPECT_EQ(r.grade(), "D");
  // Without the setting, the computed scores and grade are kept.
  const v1::ScoreResult kept =
      ScoreWith(absl::StrCat(kScorecard, R"(
disqualification_rules:
  - {id: competitor, when: {field: company.domain, equals: rival.com}, reason: competitor}
)"),
                "{id: l, company: {domain: rival.com, employee_count: 2000}}");
  EXPECT_DOUBLE_EQ(kept.fit_score(), 30);
  EXPECT_EQ(kept.grade(), "A");
}

TEST(ScoringLanguageTest, OptedOutLeadsCanBeNurturedButNeverMql) {
  constexpr char kHot[] = R"(
id: l
consent: {opted_out: true}
company: {employee_count: 2000}
events: [{id: e1, type: demo_request, occurred_at: "2026-11-23T10:00:00Z"}]
)";
  const v1::ScoreResult disqualified = ScoreWith(kScorecard, kHot);
  EXPECT_EQ(disqualified.recommended_stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  const v1::ScoreResult nurtured =
      ScoreWith(absl::StrCat(kScorecard, "opt_out_policy: never_mql\n"), kHot);
  EXPECT_EQ(nurtured.recommended_stage(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(nurtured.disqualification_reason(),
            v1::DISQUALIFICATION_REASON_UNSPECIFIED);
  EXPECT_DOUBLE_EQ(nurtured.fit_score(), 30);
  bool explained = false;
  for (const v1::RuleHit& hit : nurtured.explanation()) {
    if (hit.rule_id() == "consent.opted_out") {
      explained = true;
      EXPECT_THAT(hit.sentence(), HasSubstr("never MQL"));
    }
  }
  EXPECT_TRUE(explained);
}

TEST(ScoringLanguageTest, TheMqlThresholdMayTakeACondition) {
  std::string yaml = kScorecard;
  yaml.replace(yaml.find("mql: {min_total: 40"), 19,
               "mql: {when: {field: consent.do_not_email, equals: false}, "
               "min_total: 40");
  constexpr char kLead[] = R"(
id: l
company: {employee_count: 2000}
events: [{id: e1, type: pricing_page_view, occurred_at: "2026-11-23T12:00:00Z"}]
)";
  EXPECT_EQ(ScoreWith(yaml, kLead).recommended_stage(),
            v1::LIFECYCLE_STAGE_MQL);
  EXPECT_EQ(
      ScoreWith(yaml, absl::StrCat(kLead, "consent: {do_not_email: true}\n"))
          .recommended_stage(),
      v1::LIFECYCLE_STAGE_NURTURE);
}

std::string Problems(const std::string& yaml) {
  auto compiled = CompiledPlaybook::Compile(PlaybookFromYaml(yaml));
  return compiled.ok() ? "" : ProblemLines(compiled.status());
}

TEST(ScoringLanguageTest, ValidationExplainsEachNewField) {
  const std::string base = R"(
metadata: {name: t, version: "1"}
grade_bands: [{grade: A, min_fit: 0, max_fit: 100}]
thresholds: {mql: {min_total: 50}}
)";
  EXPECT_EQ(Problems(base), "");
  EXPECT_THAT(
      Problems(absl::StrCat(base, "fit: {min: 10, max: 10}\n")),
      HasSubstr("fit: needs finite bounds with min below max; found [10, 10]"));
  EXPECT_THAT(
      Problems(absl::StrCat(base, "fit: {base_points: 150}\n")),
      HasSubstr("fit.base_points: must be within [-100, 100]; found 150"));
  EXPECT_THAT(Problems(absl::StrCat(base, "fit: {max: 50}\n")),
              HasSubstr("a band needs 0 <= min_fit < max_fit <= 50"));
  EXPECT_THAT(Problems(absl::StrCat(base, "engagement: {min_score: 200}\n")),
              HasSubstr("engagement.min_score: must be a finite number below "
                        "max_score (100)"));
  EXPECT_THAT(Problems(absl::StrCat(base, "disqualified: {grade: Z}\n")),
              HasSubstr("disqualified.grade: \"Z\" is not one of grade_bands"));
  std::string sql = base;
  sql.replace(sql.find("}}"), 2,
              "}, sql: {min_total: 60, when: {field: source, equals: x}}}");
  EXPECT_THAT(
      Problems(sql),
      HasSubstr(
          "thresholds.sql.when: only the MQL threshold takes a condition"));
  const std::string rule =
      absl::StrCat(base, "fit_rules: [{id: r, points: 5, when: ");
  EXPECT_THAT(
      Problems(absl::StrCat(rule, "{field: job_title, contains_any: []}}]\n")),
      HasSubstr("fit_rules[0].when.contains_any: needs at least one text"));
  EXPECT_THAT(
      Problems(
          absl::StrCat(rule, "{field: job_title, contains_any: [a, 3]}}]\n")),
      HasSubstr("fit_rules[0].when.contains_any[1]: must be a non-empty text"));
  EXPECT_THAT(
      Problems(absl::StrCat(
          rule, "{field: company.employee_count, contains_any: [a]}}]\n")),
      HasSubstr("\"contains_any\" cannot test"));
  EXPECT_THAT(
      Problems(absl::StrCat(
          rule,
          "{field: company.employee_count, range: {min: 5, max: 5}}}]\n")),
      HasSubstr("max (5) must be above min (5)"));
  EXPECT_EQ(
      Problems(absl::StrCat(rule,
                            "{field: company.employee_count, range: {min: 5, "
                            "max: 5, max_inclusive: true}}}]\n")),
      "");
}

// examples/playbooks/scorecard.yaml sets every field above; its golden
// cases check each one end to end, as `smarketing test` runs them.
TEST(ScoringLanguageTest, ScorecardExampleCasesPass) {
  auto set = LoadGoldenCasesFile(
      absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/cases/scorecard.yaml"));
  ASSERT_TRUE(set.ok()) << set.status().message();
  auto source = LoadPlaybookFile(absl::StrCat(
      SMARKETING_SOURCE_DIR, "/examples/playbooks/scorecard.yaml"));
  ASSERT_TRUE(source.ok()) << source.status().message();
  auto engine = LeadEngine::Create(source->playbook);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  const std::vector<GoldenCaseOutcome> outcomes = RunGoldenCases(*engine, *set);
  EXPECT_EQ(outcomes.size(), 10u);
  for (const GoldenCaseOutcome& outcome : outcomes) {
    EXPECT_TRUE(outcome.passed())
        << outcome.name << ": " << outcome.failures[0].field << ": expected "
        << outcome.failures[0].expected << ", got "
        << outcome.failures[0].actual;
  }
}

}  // namespace
}  // namespace smarketing
