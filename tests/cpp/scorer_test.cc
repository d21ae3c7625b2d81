#include "core/scoring/scorer.h"

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/yaml_message.h"
#include "core/batch/lead_pipeline.h"
#include "core/synthetic/lead_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::DemoPlaybook;
using ::smarketing::testing::LeadFromYaml;
using ::smarketing::testing::MinimalPlaybookYaml;
using ::smarketing::testing::MustCompile;
using ::smarketing::testing::MustCompileYaml;
using ::testing::HasSubstr;

const absl::Time kNow = At("2026-11-23T12:00:00Z");

// A software director: fit 100 with the minimal Playbook's only persona.
constexpr char kFitLead[] = R"(
id: lead-1
seniority: director
company: {industry: Software, domain: acme.com, employee_count: 250}
)";

v1::ScoreResult MustScore(const std::string& playbook_yaml,
                          const v1::Lead& lead, absl::Time now = kNow) {
  Scorer scorer(MustCompileYaml(playbook_yaml));
  auto result = scorer.Score(lead, now);
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? *result : v1::ScoreResult();
}

v1::Lead FitLeadWithEvents(absl::string_view events) {
  return LeadFromYaml(absl::StrCat(kFitLead, "events:\n", events));
}

const v1::RuleHit* FindHit(const v1::ScoreResult& result,
                           absl::string_view rule_id) {
  for (const v1::RuleHit& hit : result.explanation()) {
    if (hit.rule_id() == rule_id) return &hit;
  }
  return nullptr;
}

// One engagement rule: 10 points per e-mail click, halving every 7 days.
std::string ClickPlaybook(absl::string_view rule_extra = "",
                          absl::string_view more = "") {
  return absl::StrCat(MinimalPlaybookYaml(), R"(
  rules:
    - id: click
      description: Clicked a campaign e-mail
      event_types: [email_click]
      points: 10
)",
                      rule_extra, more);
}

TEST(ScorerFitTest, FitIsTheWeightedShareOfMatchedCriteria) {
  const v1::ScoreResult result =
      MustScore(MinimalPlaybookYaml(), LeadFromYaml(R"(
id: lead-1
seniority: manager
company: {industry: software}
)"));
  EXPECT_DOUBLE_EQ(result.fit_score(), 60);
  EXPECT_EQ(result.persona_id(), "software-buyer");
  EXPECT_EQ(result.grade(), "B");
  const v1::RuleHit* hit = FindHit(result, "in-software");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->kind(), v1::RULE_KIND_PERSONA_CRITERION);
  EXPECT_DOUBLE_EQ(hit->raw_points(), 60);
  EXPECT_DOUBLE_EQ(hit->points(), 60);
  EXPECT_EQ(hit->persona_id(), "software-buyer");
  EXPECT_EQ(hit->sentence(),
            "Works in software (persona Software buyer): +60.0 fit");
  EXPECT_EQ(FindHit(result, "senior"), nullptr);
}

TEST(ScorerFitTest, BestPersonaWinsAndTheFirstDeclaredWinsATie) {
  std::string yaml = MinimalPlaybookYaml();
  yaml.insert(yaml.find("grade_bands:"), R"(  - id: finance-buyer
    criteria:
      - id: in-finance
        when: {field: company.industry, equals: finance}
        weight: 1
  - id: tie-with-software
    criteria:
      - id: tie-industry
        when: {field: company.industry, equals: software}
        weight: 3
      - id: tie-senior
        when: {field: seniority, equals: director}
        weight: 2
)");
  Scorer scorer(MustCompileYaml(yaml));
  auto finance =
      scorer.Score(LeadFromYaml("{id: f, company: {industry: finance}}"), kNow);
  ASSERT_TRUE(finance.ok());
  EXPECT_EQ(finance->persona_id(), "finance-buyer");
  EXPECT_DOUBLE_EQ(finance->fit_score(), 100);

  // Both software personas give 100: the first declared is kept.
  auto tie = scorer.Score(LeadFromYaml(kFitLead), kNow);
  ASSERT_TRUE(tie.ok());
  EXPECT_EQ(tie->persona_id(), "software-buyer");

  auto none =
      scorer.Score(LeadFromYaml("{id: n, company: {industry: retail}}"), kNow);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->persona_id(), "");
  EXPECT_DOUBLE_EQ(none->fit_score(), 0);
  EXPECT_EQ(none->grade(), "D");
}

TEST(ScorerFitTest, FitRulesAddPointsAndFitStaysWithin0And100) {
  const std::string yaml = absl::StrCat(MinimalPlaybookYaml(), R"(
fit_rules:
  - id: business-domain
    description: Has a company domain
    when: {field: company.domain, exists: true}
    points: 15
  - id: no-phone
    description: No phone number
    when: {field: contact.phone, exists: false}
    points: -25
)");
  // 100 + 15 - 25 = 90.
  v1::ScoreResult result = MustScore(yaml, LeadFromYaml(kFitLead));
  EXPECT_DOUBLE_EQ(result.fit_score(), 90);
  ASSERT_NE(FindHit(result, "no-phone"), nullptr);
  EXPECT_EQ(FindHit(result, "no-phone")->sentence(),
            "No phone number: -25.0 fit");

  // 100 + 15 with a phone: clamped to 100.
  v1::Lead with_phone = LeadFromYaml(kFitLead);
  with_phone.mutable_contact()->set_phone("+33 1 23 45 67 89");
  EXPECT_DOUBLE_EQ(MustScore(yaml, with_phone).fit_score(), 100);

  // 0 - 25 without domain or persona: clamped to 0.
  EXPECT_DOUBLE_EQ(MustScore(yaml, LeadFromYaml("{id: x}")).fit_score(), 0);
}

TEST(ScorerFitTest, GradeBandsIncludeTheirMinimumAndTopIncludes100) {
  // Weights 40/60 give fits of exactly 0, 40, 60 and 100.
  const std::string yaml = R"(
metadata: {name: t, version: "1"}
personas:
  - id: p
    criteria:
      - {id: a, when: {field: source, equals: a}, weight: 40}
      - {id: b, when: {field: campaign, equals: b}, weight: 60}
grade_bands:
  - {grade: D, min_fit: 0, max_fit: 40}
  - {grade: C, min_fit: 40, max_fit: 60}
  - {grade: B, min_fit: 60, max_fit: 80}
  - {grade: A, min_fit: 80, max_fit: 100}
engagement: {half_life: 7d}
thresholds: {mql: {min_total: 50}}
)";
  EXPECT_EQ(MustScore(yaml, LeadFromYaml("{id: x}")).grade(), "D");
  EXPECT_EQ(MustScore(yaml, LeadFromYaml("{id: x, source: a}")).grade(), "C");
  EXPECT_EQ(MustScore(yaml, LeadFromYaml("{id: x, campaign: b}")).grade(), "B");
  EXPECT_EQ(
      MustScore(yaml, LeadFromYaml("{id: x, source: a, campaign: b}")).grade(),
      "A");
}

TEST(ScorerEngagementTest, PointsHalveEveryHalfLife) {
  // 10 now + 10 seven days ago (5) + 10 fourteen days ago (2.5) = 17.5.
  const v1::ScoreResult result =
      MustScore(ClickPlaybook(), FitLeadWithEvents(R"(
  - {id: e1, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: e2, type: email_click, occurred_at: "2026-11-16T12:00:00Z"}
  - {id: e3, type: email_click, occurred_at: "2026-11-09T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(result.engagement_score(), 17.5);
  EXPECT_DOUBLE_EQ(result.total_score(), 117.5);
  const v1::RuleHit* hit = FindHit(result, "click");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->kind(), v1::RULE_KIND_ENGAGEMENT);
  EXPECT_DOUBLE_EQ(hit->raw_points(), 30);
  EXPECT_DOUBLE_EQ(hit->points(), 17.5);
  EXPECT_EQ(hit->event_count(), 3);
  EXPECT_EQ(hit->sentence(),
            "Clicked a campaign e-mail: 3 events, +30.0 points, +17.5 "
            "engagement after time decay and caps");
}

TEST(ScorerEngagementTest, RuleHalfLifeOverridesTheModel) {
  const v1::ScoreResult result =
      MustScore(ClickPlaybook("      half_life: 1h\n"), FitLeadWithEvents(R"(
  - {id: e1, type: email_click, occurred_at: "2026-11-23T10:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(result.engagement_score(), 2.5);
}

TEST(ScorerEngagementTest, MaxPointsCapsTheRuleTotalAfterDecay) {
  const v1::ScoreResult result =
      MustScore(ClickPlaybook("      max_points: 12\n"), FitLeadWithEvents(R"(
  - {id: e1, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: e2, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(result.engagement_score(), 12);
  EXPECT_DOUBLE_EQ(FindHit(result, "click")->raw_points(), 20);
  EXPECT_DOUBLE_EQ(FindHit(result, "click")->points(), 12);
}

TEST(ScorerEngagementTest, WindowCapCountsTheEarliestEventsOfEachWindow) {
  // Half-life 1h; window of a day, 2 events: on 2026-11-23 the 09:00 (age 3h:
  // 1.25) and 10:00 (2h: 2.5) events count, 11:00 does not; the previous
  // day's event is in its own window (age 24h: 10 / 2^24).
  const v1::ScoreResult result =
      MustScore(ClickPlaybook("      half_life: 1h\n      window_cap: {window: "
                              "1d, max_events: 2}\n"),
                FitLeadWithEvents(R"(
  - {id: e3, type: email_click, occurred_at: "2026-11-23T11:00:00Z"}
  - {id: e1, type: email_click, occurred_at: "2026-11-23T09:00:00Z"}
  - {id: e2, type: email_click, occurred_at: "2026-11-23T10:00:00Z"}
  - {id: e0, type: email_click, occurred_at: "2026-11-22T12:00:00Z"}
)"));
  const v1::RuleHit* hit = FindHit(result, "click");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->event_count(), 3);
  EXPECT_DOUBLE_EQ(hit->raw_points(), 30);
  EXPECT_DOUBLE_EQ(hit->points(), 1.25 + 2.5 + 10.0 / (1 << 24));
}

TEST(ScorerEngagementTest, NegativePointsLowerTheScoreWhichStaysAtLeastZero) {
  const std::string yaml = ClickPlaybook("", R"(    - id: unsubscribed
      event_types: [unsubscribe]
      points: -4
)");
  const v1::ScoreResult some = MustScore(yaml, FitLeadWithEvents(R"(
  - {id: e1, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: e2, type: unsubscribe, occurred_at: "2026-11-23T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(some.engagement_score(), 6);
  EXPECT_DOUBLE_EQ(FindHit(some, "unsubscribed")->points(), -4);

  const v1::ScoreResult none = MustScore(yaml, FitLeadWithEvents(R"(
  - {id: e2, type: unsubscribe, occurred_at: "2026-11-23T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(none.engagement_score(), 0);
}

TEST(ScorerEngagementTest, EngagementIsCappedByTheModelMaximum) {
  std::string events;
  for (int i = 0; i < 30; ++i) {
    absl::StrAppend(
        &events, "  - {id: e", i,
        ", type: email_click, occurred_at: \"2026-11-23T12:00:00Z\"}\n");
  }
  EXPECT_DOUBLE_EQ(
      MustScore(ClickPlaybook(), FitLeadWithEvents(events)).engagement_score(),
      100);
}

TEST(ScorerEngagementTest, ARetriedEventIsCountedOnce) {
  const v1::ScoreResult result =
      MustScore(ClickPlaybook(), FitLeadWithEvents(R"(
  - {id: same, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: other, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: same, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: same, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(result.engagement_score(), 20);
  EXPECT_EQ(result.events_counted(), 2);
  EXPECT_EQ(result.duplicate_events(), 2);
}

TEST(ScorerEngagementTest, EventsAfterNowAreIgnored) {
  const v1::ScoreResult result =
      MustScore(ClickPlaybook(), FitLeadWithEvents(R"(
  - {id: past, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: future, type: email_click, occurred_at: "2026-11-23T12:00:00.000001Z"}
)"));
  EXPECT_DOUBLE_EQ(result.engagement_score(), 10);
  EXPECT_EQ(result.events_counted(), 1);
}

TEST(ScorerEngagementTest, RuleConditionsReadEventProperties) {
  const std::string yaml = absl::StrCat(MinimalPlaybookYaml(), R"(
  rules:
    - id: pricing
      event_types: [page_view]
      when: {field: event.properties.url, prefix: /pricing}
      points: 20
)");
  const v1::ScoreResult result = MustScore(yaml, FitLeadWithEvents(R"(
  - {id: e1, type: page_view, occurred_at: "2026-11-23T12:00:00Z", properties: {url: /pricing/enterprise}}
  - {id: e2, type: page_view, occurred_at: "2026-11-23T12:00:00Z", properties: {url: /blog}}
  - {id: e3, type: page_view, occurred_at: "2026-11-23T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(result.engagement_score(), 20);
  EXPECT_EQ(FindHit(result, "pricing")->event_count(), 1);
}

// Rules that read one event property are decided once per distinct value
// and remembered; the same rules made to read one more field are decided
// for every event. Both must score every lead the same, whatever the
// values: repeated or not, of every JSON type, too long to remember, and
// more than the scorer remembers at once.
TEST(ScorerEngagementTest, RulesDecidedPerValueScoreAsRulesDecidedPerEvent) {
  const std::vector<std::pair<std::string, std::string>> rules = {
      {"pricing", "[page_view, content_download]"},
      {"product", "[page_view]"},
      {"one", "[page_view]"},
      {"yes", "[page_view]"},
      {"pdf", "[content_download]"},
  };
  const std::vector<std::string> whens = {
      "{field: event.properties.url, prefix: /pricing}",
      "{field: event.properties.url, regex: '^/(product|docs)(/|$)'}",
      "{field: event.properties.url, equals: 1}",
      "{field: event.properties.url, equals: true}",
      "{all: [{field: event.type, equals: content_download}, "
      "{field: event.properties.url, suffix: .pdf}]}",
  };
  auto playbook_yaml = [&](bool per_event) {
    std::string yaml = absl::StrCat(MinimalPlaybookYaml(), "  rules:\n");
    for (size_t r = 0; r < rules.size(); ++r) {
      const std::string when =
          per_event ? absl::StrCat("{all: [", whens[r],
                                   ", {not: {field: event.custom_type, "
                                   "equals: never}}]}")
                    : whens[r];
      absl::StrAppend(&yaml, "    - id: ", rules[r].first,
                      "\n      event_types: ", rules[r].second,
                      "\n      when: ", when, "\n      points: ", 2 * r + 1,
                      "\n");
    }
    absl::StrAppend(&yaml,
                    "    - id: any-download\n"
                    "      event_types: [content_download]\n"
                    "      points: 17\n");
    return yaml;
  };
  auto by_value = MustCompileYaml(playbook_yaml(false));
  auto by_event = MustCompileYaml(playbook_yaml(true));
  ASSERT_GE(by_value->engagement_deciding_slot(v1::EVENT_TYPE_PAGE_VIEW), 0);
  ASSERT_GE(by_value->engagement_deciding_slot(v1::EVENT_TYPE_CONTENT_DOWNLOAD),
            0);
  ASSERT_EQ(by_event->engagement_deciding_slot(v1::EVENT_TYPE_PAGE_VIEW), -1);

  std::mt19937 random(2026);
  const std::vector<std::string> common = {
      "/pricing",
      "/PRICING/Team",
      "/product",
      "/product/x",
      "/docs",
      "/docsx",
      "/pricing.pdf",
      "a.PDF",
      "1",
      "true",
      std::string(300, 'p').insert(0, "/pricing")};
  Scorer scorer_by_value(by_value);
  Scorer scorer_by_event(by_event);
  int distinct = 0;
  for (int l = 0; l < 800; ++l) {
    v1::Lead lead = LeadFromYaml(kFitLead);
    for (int e = 0; e < 60; ++e) {
      v1::Event* event = lead.add_events();
      event->set_id(absl::StrCat("e", e));
      event->set_type(random() % 2 ? v1::EVENT_TYPE_PAGE_VIEW
                                   : v1::EVENT_TYPE_CONTENT_DOWNLOAD);
      event->mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(kNow) -
                                                random() % 1000000);
      google::protobuf::Value& url =
          (*event->mutable_properties()->mutable_fields())["url"];
      switch (random() % 8) {
        case 0:
          url.set_number_value(random() % 3);
          break;
        case 1:
          url.set_bool_value(random() % 2);
          break;
        case 2:
          event->clear_properties();
          break;
        case 3:
        case 4:
          url.set_string_value(common[random() % common.size()]);
          break;
        default:
          url.set_string_value(
              absl::StrCat(random() % 2 ? "/pricing/" : "/product/", ++distinct,
                           random() % 2 ? ".pdf" : ""));
      }
    }
    auto by_value_result = scorer_by_value.Score(lead, kNow);
    auto by_event_result = scorer_by_event.Score(lead, kNow);
    ASSERT_TRUE(by_value_result.ok() && by_event_result.ok());
    ASSERT_EQ(by_value_result->SerializeAsString(),
              by_event_result->SerializeAsString())
        << "lead " << l << "\n"
        << by_value_result->DebugString() << "\n"
        << by_event_result->DebugString();
  }
  // More distinct values than the scorer remembers at once.
  EXPECT_GT(distinct, 1 << 14);
}

// Fit conditions that search one field are decided once per distinct value
// of it and remembered, or each time for a field whose values rarely repeat
// (the demo's email regex); the same conditions made to read one more field
// are decided for every lead. Both must score every lead the same: values
// repeated, unique, and too long to remember.
TEST(ScorerFitTest, SearchedConditionsDecidedPerValueScoreAsPerLead) {
  v1::Playbook demo = DemoPlaybook();
  // Searches of an enum and of a number, whose decisions are keyed by the
  // number (the latter decided by its range, which a search of a number's
  // text does not change).
  for (const char* yaml : {
           "id: search-seniority\npoints: 1\nwhen: {any: [{field: "
           "seniority, contains: v}, {field: seniority, equals: c_level}]}",
           "id: search-seats\npoints: 1\nwhen: {any: [{field: "
           "attributes.seats, contains: '9'}, {field: attributes.seats, "
           "range: {min: 50}}]}",
       }) {
    v1::FitRule rule;
    ProblemList problems;
    ASSERT_TRUE(ParseYamlMessage(yaml, &rule, &problems)) << yaml;
    *demo.add_fit_rules() = rule;
  }
  v1::Playbook per_lead = demo;
  auto read_id_too = [](v1::Condition* when) {
    const v1::Condition original = *when;
    when->Clear();
    *when->add_all() = original;
    v1::Condition* id = when->add_all();
    id->set_field("id");
    id->set_exists(true);
  };
  for (v1::Persona& persona : *per_lead.mutable_personas()) {
    for (v1::PersonaCriterion& criterion : *persona.mutable_criteria()) {
      if (criterion.has_when()) read_id_too(criterion.mutable_when());
    }
  }
  for (v1::FitRule& rule : *per_lead.mutable_fit_rules()) {
    if (rule.has_when()) read_id_too(rule.mutable_when());
  }
  auto by_value = MustCompile(demo);
  auto by_lead = MustCompile(per_lead);
  ASSERT_NE(by_value, nullptr);
  ASSERT_NE(by_lead, nullptr);
  // Job title, tech stack, email, seniority and seats.
  ASSERT_EQ(by_value->fit_groups().size(), 5u);
  ASSERT_TRUE(by_lead->fit_groups().empty());

  LeadGeneratorOptions options;
  options.seed = 31;
  options.now = kNow;
  const LeadGenerator generator(options);
  Scorer scorer_by_value(by_value);
  Scorer scorer_by_lead(by_lead);
  v1::Lead lead;
  for (int i = 0; i < 4000; ++i) {
    generator.Generate(i, &lead);
    if (i % 7 == 0) {
      lead.set_job_title(absl::StrCat("Head of Data ", i));
    } else if (i % 11 == 0) {
      lead.set_job_title(absl::StrCat(std::string(300, 'x'), " analytics"));
    } else if (i % 13 == 0) {
      (*lead.mutable_attributes()->mutable_fields())["tech_stack"]
          .set_number_value(i % 3);
    }
    auto by_value_result = scorer_by_value.Score(lead, kNow);
    auto by_lead_result = scorer_by_lead.Score(lead, kNow);
    ASSERT_TRUE(by_value_result.ok() && by_lead_result.ok());
    ASSERT_EQ(by_value_result->SerializeAsString(),
              by_lead_result->SerializeAsString())
        << "lead " << i << "\n"
        << by_value_result->DebugString() << "\n"
        << by_lead_result->DebugString();
  }
}

TEST(ScorerStageTest, ThresholdsAreInclusive) {
  // Fit 100; MQL at total >= 100 and fit >= 50.
  const v1::ScoreResult at = MustScore(ClickPlaybook(), LeadFromYaml(kFitLead));
  EXPECT_DOUBLE_EQ(at.total_score(), 100);
  EXPECT_EQ(at.recommended_stage(), v1::LIFECYCLE_STAGE_MQL);

  // Fit 60, engagement 20: total 80 < 100.
  const v1::ScoreResult below = MustScore(ClickPlaybook(), LeadFromYaml(R"(
id: lead-2
company: {industry: software}
events:
  - {id: e1, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: e2, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
)"));
  EXPECT_DOUBLE_EQ(below.total_score(), 80);
  EXPECT_EQ(below.recommended_stage(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(below.priority(), v1::PRIORITY_MEDIUM);
}

constexpr char kPrecedenceRules[] = R"(
  rules:
    - {id: click, event_types: [email_click], points: 10}
disqualification_rules:
  - id: competitor
    description: Works for a competitor
    when: {field: company.domain, in: [acme.com, rival.io]}
    reason: competitor
  - id: too-small
    when: {field: company.employee_count, range: {max: 5}}
    reason: company_size
hand_raiser_rules:
  - id: demo
    description: Asked for a demo
    event_types: [demo_request, contact_sales]
    min_fit: 70
    lookback: 30d
    priority: urgent
priority:
  default_priority: low
  rules:
    - id: hot
      description: Very engaged
      when: {field: score.total, range: {min: 130}}
      priority: high
    - id: a-grade
      when: {field: score.grade, equals: A}
      priority: medium
)";

TEST(ScorerStageTest, OptOutTakesPrecedenceOverAnyScore) {
  v1::Lead lead = FitLeadWithEvents(R"(
  - {id: d, type: demo_request, occurred_at: "2026-11-23T12:00:00Z"}
)");
  lead.mutable_company()->set_domain("customer.com");
  lead.mutable_consent()->set_opted_out(true);
  const v1::ScoreResult result =
      MustScore(absl::StrCat(MinimalPlaybookYaml(), kPrecedenceRules), lead);
  EXPECT_EQ(result.recommended_stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_EQ(result.disqualification_reason(),
            v1::DISQUALIFICATION_REASON_OPTED_OUT);
  EXPECT_EQ(result.priority(), v1::PRIORITY_UNSPECIFIED);
  EXPECT_FALSE(result.hand_raiser());
  ASSERT_NE(FindHit(result, "consent.opted_out"), nullptr);
  EXPECT_EQ(FindHit(result, "consent.opted_out")->kind(),
            v1::RULE_KIND_OPT_OUT);
  // The scores are still computed, for reporting.
  EXPECT_DOUBLE_EQ(result.fit_score(), 100);
}

TEST(ScorerStageTest, DisqualificationTakesPrecedenceAndListsEveryRule) {
  v1::Lead lead = FitLeadWithEvents(R"(
  - {id: d, type: demo_request, occurred_at: "2026-11-23T12:00:00Z"}
)");
  lead.mutable_company()->set_employee_count(3);
  const v1::ScoreResult result =
      MustScore(absl::StrCat(MinimalPlaybookYaml(), kPrecedenceRules), lead);
  EXPECT_EQ(result.recommended_stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  // The first rule that matched gives the reason.
  EXPECT_EQ(result.disqualification_reason(),
            v1::DISQUALIFICATION_REASON_COMPETITOR);
  ASSERT_NE(FindHit(result, "competitor"), nullptr);
  ASSERT_NE(FindHit(result, "too-small"), nullptr);
  EXPECT_EQ(FindHit(result, "competitor")->sentence(),
            "Disqualified (competitor): Works for a competitor; never routed, "
            "never nurtured");
}

TEST(ScorerStageTest, HandRaiserFastTracksALeadWithEnoughFit) {
  const std::string yaml =
      absl::StrCat(MinimalPlaybookYaml(), kPrecedenceRules);
  // Fit 100 (>= 70) and a demo request 29 days ago: MQL whatever the total.
  v1::Lead lead = FitLeadWithEvents(R"(
  - {id: d, type: demo_request, occurred_at: "2026-10-25T12:00:00Z"}
)");
  lead.mutable_company()->set_domain("customer.com");
  v1::ScoreResult result = MustScore(yaml, lead);
  EXPECT_TRUE(result.hand_raiser());
  EXPECT_EQ(result.recommended_stage(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_EQ(result.priority(), v1::PRIORITY_URGENT);
  EXPECT_THAT(FindHit(result, "demo")->sentence(),
              HasSubstr("fast-tracked to MQL (fit 100.0 >= 70.0)"));

  // Outside the 30-day lookback: no fast track.
  lead.mutable_events(0)->mutable_occurred_at()->set_seconds(
      absl::ToUnixSeconds(At("2026-10-23T11:59:59Z")));
  result = MustScore(yaml, lead);
  EXPECT_FALSE(result.hand_raiser());

  // Not enough fit (60 < 70): no fast track.
  v1::Lead weak = LeadFromYaml(R"(
id: weak
company: {industry: software, domain: customer.com}
events:
  - {id: d, type: contact_sales, occurred_at: "2026-11-23T12:00:00Z"}
)");
  result = MustScore(yaml, weak);
  EXPECT_FALSE(result.hand_raiser());
  EXPECT_EQ(result.recommended_stage(), v1::LIFECYCLE_STAGE_NURTURE);
}

TEST(ScorerStageTest, FirstMatchingPriorityRuleWinsElseTheDefault) {
  const std::string yaml =
      absl::StrCat(MinimalPlaybookYaml(), kPrecedenceRules);
  std::string events;
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(
        &events, "  - {id: e", i,
        ", type: email_click, occurred_at: \"2026-11-23T12:00:00Z\"}\n");
  }
  v1::Lead hot = FitLeadWithEvents(events);
  hot.mutable_company()->set_domain("customer.com");
  v1::ScoreResult result = MustScore(yaml, hot);  // total 140, grade A
  EXPECT_EQ(result.priority(), v1::PRIORITY_HIGH);
  EXPECT_NE(FindHit(result, "hot"), nullptr);
  EXPECT_EQ(FindHit(result, "a-grade"), nullptr);
  EXPECT_EQ(FindHit(result, "hot")->sentence(), "Very engaged: priority high");

  v1::Lead a_grade = LeadFromYaml(kFitLead);
  a_grade.mutable_company()->set_domain("customer.com");
  EXPECT_EQ(MustScore(yaml, a_grade).priority(), v1::PRIORITY_MEDIUM);

  EXPECT_EQ(
      MustScore(yaml, LeadFromYaml("{id: cold, company: {domain: x.org}}"))
          .priority(),
      v1::PRIORITY_LOW);
}

TEST(ScorerInputTest, AMalformedLeadIsRefusedWithTheFieldPath) {
  Scorer scorer(MustCompileYaml(ClickPlaybook()));
  v1::Lead lead = FitLeadWithEvents(R"(
  - {id: e1, type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
  - {id: "", type: email_click, occurred_at: "2026-11-23T12:00:00Z"}
)");
  auto result = scorer.Score(lead, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("events[1].id"));
  auto problems = ProblemsFromStatus(result.status());
  ASSERT_TRUE(problems.has_value());
  EXPECT_EQ(problems->problems(0).path(), "events[1].id");
}

TEST(ScorerInputTest, TenMegabyteStringsAreRefusedClearly) {
  Scorer scorer(MustCompileYaml(ClickPlaybook()));
  v1::Lead lead = LeadFromYaml(kFitLead);
  lead.set_job_title(std::string(10 << 20, 'x'));
  auto result = scorer.Score(lead, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("job_title"));
  EXPECT_THAT(result.status().message(), HasSubstr("10485760 bytes"));

  lead = LeadFromYaml(kFitLead);
  (*lead.mutable_attributes()->mutable_fields())["notes"].set_string_value(
      std::string(10 << 20, 'y'));
  result = scorer.Score(lead, kNow);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("attributes.notes"));
}

TEST(ScorerInputTest, OneHundredThousandEventsOnOneLeadAreScoredExactly) {
  Scorer scorer(MustCompileYaml(ClickPlaybook("      max_points: 1000000\n")));
  v1::Lead lead = LeadFromYaml(kFitLead);
  const int64_t now = absl::ToUnixSeconds(kNow);
  for (int i = 0; i < 100000; ++i) {
    v1::Event* event = lead.add_events();
    event->set_id(absl::StrCat("e", i % 50000));  // every event sent twice
    event->set_type(v1::EVENT_TYPE_EMAIL_CLICK);
    event->mutable_occurred_at()->set_seconds(now);
  }
  auto result = scorer.Score(lead, kNow);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->events_counted(), 50000);
  EXPECT_EQ(result->duplicate_events(), 50000);
  EXPECT_DOUBLE_EQ(FindHit(*result, "click")->points(), 500000);
  EXPECT_DOUBLE_EQ(result->engagement_score(), 100);
}

TEST(ScorerBatchTest, ResultsAreBitForBitTheSameWhateverTheThreadCount) {
  auto playbook = MustCompile(DemoPlaybook());
  ASSERT_NE(playbook, nullptr);
  LeadGeneratorOptions options;
  options.seed = 42;
  options.now = kNow;
  LeadGenerator generator(options);
  std::vector<v1::Lead> leads(3000);
  std::vector<const v1::Lead*> pointers;
  for (int i = 0; i < static_cast<int>(leads.size()); ++i) {
    generator.Generate(i, &leads[i]);
    pointers.push_back(&leads[i]);
  }
  std::vector<std::string> encoded;
  for (const v1::Lead& lead : leads)
    encoded.push_back(lead.SerializeAsString());
  const std::vector<absl::string_view> views(encoded.begin(), encoded.end());
  auto serialize = [&](int threads, bool from_bytes = false) {
    LeadPipeline pipeline({playbook}, kNow, threads);
    std::unique_ptr<LeadSource> source =
        from_bytes ? EncodedLeadSource(views) : LeadListSource(pointers);
    std::vector<std::string> serialized(leads.size());
    absl::Status run = pipeline.Run(
        *source, nullptr,
        [&](const ScoredLead& s) {
          EXPECT_TRUE(s.status.ok()) << s.status.message();
          if (!s.status.ok()) return;
          v1::ScoreResult result;
          pipeline.scorer(s.thread, 0)
              .ToProto(*s.lead, s.scores[0], kNow, &result);
          serialized[source->index(s.slot, s.i)] = result.SerializeAsString();
        },
        [](int, int64_t) { return absl::OkStatus(); });
    EXPECT_TRUE(run.ok()) << run.message();
    std::string out;
    for (const std::string& s : serialized) out += s;
    return out;
  };
  const std::string one = serialize(1);
  EXPECT_EQ(one, serialize(2));
  EXPECT_EQ(one, serialize(4));
  // Read from their encoding, as the ScoreLeads stream reads them.
  EXPECT_EQ(one, serialize(1, true));
  EXPECT_EQ(one, serialize(2, true));
}

// Encoded leads the flat reader leaves to protobuf are scored all the
// same, refused with the field at fault, or, not being a Lead's bytes,
// refused as such; none stops the others.
TEST(ScorerBatchTest, EncodedLeadsOffTheFlatPathAreParsedWhole) {
  auto playbook = MustCompile(DemoPlaybook());
  ASSERT_NE(playbook, nullptr);
  v1::Lead lead = LeadFromYaml(R"(
id: lead-1
job_title: VP Marketing
events:
  - id: e1
    type: EVENT_TYPE_PAGE_VIEW
    occurred_at: "2026-11-20T09:00:00Z"
    properties: {url: /pricing}
  - id: e2
    type: EVENT_TYPE_DEMO_REQUEST
    occurred_at: "2026-11-21T09:00:00Z"
    properties: {tags: [a, b]}
)");
  v1::Lead refused = lead;
  refused.mutable_events(1)->clear_occurred_at();
  const std::vector<std::string> encoded = {lead.SerializeAsString(),
                                            refused.SerializeAsString(),
                                            std::string("\x0a\x05"
                                                        "ab",
                                                        4),
                                            lead.SerializeAsString()};
  const std::vector<absl::string_view> views(encoded.begin(), encoded.end());
  v1::ScoreResult expected;
  {
    Scorer scorer(playbook);
    auto result = scorer.Score(lead, kNow);
    ASSERT_TRUE(result.ok()) << result.status().message();
    expected = *result;
  }
  LeadPipeline pipeline({playbook}, kNow, 2);
  std::unique_ptr<LeadSource> source = EncodedLeadSource(views);
  std::vector<std::string> outcome(views.size());
  absl::Status run = pipeline.Run(
      *source, nullptr,
      [&](const ScoredLead& s) {
        const int64_t i = source->index(s.slot, s.i);
        if (!s.status.ok()) {
          outcome[i] = absl::StrCat(
              s.lead == nullptr ? "unread: " : "refused: ", s.status.message());
          return;
        }
        v1::ScoreResult result;
        pipeline.scorer(s.thread, 0)
            .ToProto(*s.lead, s.scores[0], kNow, &result);
        outcome[i] = result.SerializeAsString();
      },
      [](int, int64_t) { return absl::OkStatus(); });
  ASSERT_TRUE(run.ok()) << run.message();
  EXPECT_EQ(outcome[0], expected.SerializeAsString());
  EXPECT_EQ(outcome[1], "refused: events[1].occurred_at: is required");
  EXPECT_EQ(outcome[2], "unread: not a valid encoding of a smarketing.v1.Lead");
  EXPECT_EQ(outcome[3], expected.SerializeAsString());
}

TEST(ScorerBatchTest, TheDemoPlaybookSortsSyntheticLeadsIntoEveryStage) {
  auto playbook = MustCompile(DemoPlaybook());
  ASSERT_NE(playbook, nullptr);
  LeadGeneratorOptions options;
  options.seed = 7;
  options.now = kNow;
  LeadGenerator generator(options);
  Scorer scorer(playbook);
  int by_stage[v1::LifecycleStage_ARRAYSIZE] = {};
  v1::Lead lead;
  LeadScore score;
  constexpr int kLeads = 5000;
  for (int i = 0; i < kLeads; ++i) {
    generator.Generate(i, &lead);
    ASSERT_TRUE(scorer.Score(lead, kNow, &score).ok());
    ++by_stage[score.stage];
  }
  // A demo worth showing: some of each, and mostly nurture.
  EXPECT_GT(by_stage[v1::LIFECYCLE_STAGE_MQL], kLeads / 50);
  EXPECT_GT(by_stage[v1::LIFECYCLE_STAGE_DISQUALIFIED], kLeads / 50);
  EXPECT_GT(by_stage[v1::LIFECYCLE_STAGE_NURTURE], kLeads / 3);
}

}  // namespace
}  // namespace smarketing
