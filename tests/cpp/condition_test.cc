// Conditions decide every persona match, disqualification and priority, so
// each operator is pinned on each kind of field, with the documented rules:
// strings ignore ASCII case unless case_sensitive, ranges include min and
// exclude max, regexes match anywhere, and a missing value never satisfies a
// comparison (only `exists: false` and `not`).
#include "core/playbook/condition.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/yaml_message.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smarketing/v1/condition.pb.h"
#include "smarketing/v1/event.pb.h"
#include "smarketing/v1/lead.pb.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using testing::LeadFromYaml;

v1::Condition ConditionFromYaml(absl::string_view yaml) {
  v1::Condition condition;
  ProblemList problems;
  EXPECT_TRUE(ParseYamlMessage(yaml, &condition, &problems))
      << problems.ToStatus(yaml).message();
  return condition;
}

v1::Event EventFromYaml(absl::string_view yaml) {
  v1::Event event;
  ProblemList problems;
  EXPECT_TRUE(ParseYamlMessage(yaml, &event, &problems))
      << problems.ToStatus(yaml).message();
  return event;
}

// Compiles a condition the way CompiledPlaybook does and evaluates it.
class Evaluator {
 public:
  explicit Evaluator(absl::string_view yaml,
                     FieldScope scope = FieldScope::kLead) {
    ProblemList problems;
    compiled_ok_ = condition_.Compile(ConditionFromYaml(yaml), scope, "when",
                                      &problems, &attributes_, &properties_);
    EXPECT_TRUE(compiled_ok_) << yaml << "\n"
                              << problems.ToStatus("condition").message();
  }

  bool SoleSearchedField(FieldRef* field) const {
    return condition_.SoleSearchedField(field);
  }

  bool Matches(const v1::Lead& lead, const v1::Event* event = nullptr,
               const ScoreView* score = nullptr) const {
    std::vector<const google::protobuf::Value*> resolved;
    attributes_.Resolve(lead.attributes(), &resolved);
    // The event as the scorer sees it: the one event of a lead.
    v1::Lead holder;
    if (event != nullptr) *holder.add_events() = *event;
    FlatLead flat;
    flat.Assign(holder);
    PropertyCache cache(&properties_);
    if (event != nullptr) cache.Reset(&flat, &flat.events()[0]);
    EvalContext context;
    context.lead = &lead;
    context.attributes = &resolved;
    context.event = event != nullptr ? &flat.events()[0] : nullptr;
    context.properties = event != nullptr ? &cache : nullptr;
    context.score = score;
    return condition_.Matches(context);
  }

 private:
  bool compiled_ok_ = false;
  CompiledCondition condition_;
  SlotTable attributes_;
  SlotTable properties_;
};

bool LeadMatches(absl::string_view condition, absl::string_view lead_yaml) {
  return Evaluator(condition).Matches(LeadFromYaml(lead_yaml));
}

bool EventMatches(absl::string_view condition, absl::string_view event_yaml,
                  absl::string_view lead_yaml = "id: l") {
  const v1::Event event = EventFromYaml(event_yaml);
  return Evaluator(condition, FieldScope::kEvent)
      .Matches(LeadFromYaml(lead_yaml), &event);
}

bool ScoreMatches(absl::string_view condition, const ScoreView& score) {
  return Evaluator(condition, FieldScope::kScore)
      .Matches(LeadFromYaml("id: l"), nullptr, &score);
}

// The scorer decides fit conditions that search one field once per value
// of it: only those, whatever combinators surround the search.
TEST(ConditionTest, SoleSearchedFieldIsTheOneFieldASearchReads) {
  FieldRef field;
  EXPECT_TRUE(
      Evaluator("{field: job_title, regex: data}").SoleSearchedField(&field));
  EXPECT_EQ(field.id, FieldId::kJobTitle);
  EXPECT_TRUE(Evaluator("{any: [{field: attributes.stack, contains: a}, "
                        "{not: {field: attributes.stack, equals: b}}]}")
                  .SoleSearchedField(&field));
  EXPECT_EQ(field.id, FieldId::kAttribute);
  for (const char* yaml : {
           "{field: job_title, in: [a, b]}",
           "{field: job_title, prefix: a}",
           "{all: [{field: job_title, contains: a}, "
           "{field: department, equals: b}]}",
           "{any: [{field: attributes.a, contains: x}, "
           "{field: attributes.b, contains: y}]}",
       }) {
    EXPECT_FALSE(Evaluator(yaml).SoleSearchedField(&field)) << yaml;
  }
}

// ---------------------------------------------------------------------------
// equals / in on text

TEST(ConditionTest, EqualsIgnoresCaseByDefault) {
  const char* when = "{field: company.industry, equals: software}";
  EXPECT_TRUE(LeadMatches(when, "company: {industry: software}"));
  EXPECT_TRUE(LeadMatches(when, "company: {industry: Software}"));
  EXPECT_TRUE(LeadMatches(when, "company: {industry: SOFTWARE}"));
  EXPECT_FALSE(LeadMatches(when, "company: {industry: software services}"));
  EXPECT_FALSE(LeadMatches(when, "company: {industry: soft}"));
  // The literal's own case does not matter either.
  EXPECT_TRUE(LeadMatches("{field: company.industry, equals: SoftWare}",
                          "company: {industry: software}"));
}

TEST(ConditionTest, EqualsCaseSensitive) {
  const char* when =
      "{field: company.industry, equals: Software, case_sensitive: true}";
  EXPECT_TRUE(LeadMatches(when, "company: {industry: Software}"));
  EXPECT_FALSE(LeadMatches(when, "company: {industry: software}"));
  EXPECT_FALSE(LeadMatches(when, "company: {industry: SOFTWARE}"));
}

TEST(ConditionTest, CaseFoldingIsAsciiOnly) {
  // Documented as ASCII case: "É" and "é" are different letters here.
  const char* when = "{field: company.name, equals: \"société\"}";
  EXPECT_TRUE(LeadMatches(when, "company: {name: \"SOCIété\"}"));
  EXPECT_FALSE(LeadMatches(when, "company: {name: \"SOCIÉTÉ\"}"));
}

TEST(ConditionTest, EveryTextLeadField) {
  const v1::Lead lead = LeadFromYaml(R"(
id: Lead-7
contact: {first_name: Ada, last_name: Lovelace, email: ada@acme.io, phone: "+33 1 23"}
job_title: Head of Growth
department: Marketing
company: {name: Acme, domain: acme.io, industry: software, country: FR, region: EMEA}
source: Webinar
campaign: Q4-launch
product: Analytics
)");
  const std::pair<const char*, const char*> cases[] = {
      {"id", "lead-7"},
      {"contact.first_name", "ada"},
      {"contact.last_name", "LOVELACE"},
      {"contact.email", "ADA@acme.io"},
      {"contact.phone", "+33 1 23"},
      {"job_title", "head of growth"},
      {"department", "marketing"},
      {"company.name", "acme"},
      {"company.domain", "ACME.IO"},
      {"company.industry", "Software"},
      {"company.country", "fr"},
      {"company.region", "emea"},
      {"source", "webinar"},
      {"campaign", "q4-launch"},
      {"product", "analytics"},
  };
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field);
    EXPECT_TRUE(
        Evaluator(absl::StrCat("{field: ", field, ", equals: \"", value, "\"}"))
            .Matches(lead));
    EXPECT_FALSE(Evaluator(absl::StrCat("{field: ", field, ", equals: other}"))
                     .Matches(lead));
  }
}

TEST(ConditionTest, InMatchesAnyValue) {
  const char* when = "{field: company.country, in: [FR, de, Es]}";
  EXPECT_TRUE(LeadMatches(when, "company: {country: fr}"));
  EXPECT_TRUE(LeadMatches(when, "company: {country: DE}"));
  EXPECT_TRUE(LeadMatches(when, "company: {country: ES}"));
  EXPECT_FALSE(LeadMatches(when, "company: {country: IT}"));
  EXPECT_FALSE(LeadMatches(when, "company: {country: F}"));

  const char* exact =
      "{field: company.country, in: [FR, de], case_sensitive: true}";
  EXPECT_TRUE(LeadMatches(exact, "company: {country: FR}"));
  EXPECT_FALSE(LeadMatches(exact, "company: {country: fr}"));
  EXPECT_TRUE(LeadMatches(exact, "company: {country: de}"));
  EXPECT_FALSE(LeadMatches(exact, "company: {country: DE}"));
}

// ---------------------------------------------------------------------------
// Numbers, bools, enums

TEST(ConditionTest, EqualsAndInOnNumbers) {
  EXPECT_TRUE(LeadMatches("{field: company.employee_count, equals: 250}",
                          "company: {employee_count: 250}"));
  EXPECT_FALSE(LeadMatches("{field: company.employee_count, equals: 250}",
                           "company: {employee_count: 251}"));
  EXPECT_TRUE(LeadMatches("{field: company.annual_revenue, equals: 1.5e6}",
                          "company: {annual_revenue: 1500000}"));
  EXPECT_TRUE(LeadMatches("{field: company.employee_count, in: [10, 50, 250]}",
                          "company: {employee_count: 50}"));
  EXPECT_FALSE(LeadMatches("{field: company.employee_count, in: [10, 50, 250]}",
                           "company: {employee_count: 51}"));
}

TEST(ConditionTest, EqualsOnBools) {
  const char* opted_out = "{field: consent.opted_out, equals: true}";
  EXPECT_TRUE(LeadMatches(opted_out, "consent: {opted_out: true}"));
  EXPECT_FALSE(LeadMatches(opted_out, "consent: {opted_out: false}"));
  EXPECT_FALSE(LeadMatches(opted_out, "id: l"));
  // An unset consent flag reads as false, a value: leads without consent
  // data are not contacted as if they had refused.
  EXPECT_TRUE(
      LeadMatches("{field: consent.do_not_email, equals: false}", "id: l"));
  EXPECT_TRUE(LeadMatches("{field: consent.do_not_call, equals: true}",
                          "consent: {do_not_call: true}"));
}

TEST(ConditionTest, EnumsByShortOrFullNameInAnyCase) {
  for (const char* literal : {"vp", "VP", "SENIORITY_VP", "seniority_vp"}) {
    SCOPED_TRACE(literal);
    const Evaluator when(
        absl::StrCat("{field: seniority, equals: ", literal, "}"));
    EXPECT_TRUE(when.Matches(LeadFromYaml("seniority: vp")));
    EXPECT_FALSE(when.Matches(LeadFromYaml("seniority: director")));
  }
  const Evaluator in(
      "{field: seniority, in: [director, SENIORITY_C_LEVEL, Owner]}");
  EXPECT_TRUE(in.Matches(LeadFromYaml("seniority: c_level")));
  EXPECT_TRUE(in.Matches(LeadFromYaml("seniority: owner")));
  EXPECT_FALSE(in.Matches(LeadFromYaml("seniority: manager")));
  // Unknown seniority is no seniority.
  EXPECT_FALSE(in.Matches(LeadFromYaml("id: l")));
}

TEST(ConditionTest, EnumTextOperatorsUseTheShortName) {
  EXPECT_TRUE(
      LeadMatches("{field: seniority, suffix: level}", "seniority: c_level"));
  EXPECT_TRUE(LeadMatches("{field: seniority, regex: \"^(vp|c_level)$\"}",
                          "seniority: vp"));
  EXPECT_FALSE(LeadMatches("{field: seniority, regex: \"^(vp|c_level)$\"}",
                           "seniority: director"));
}

// ---------------------------------------------------------------------------
// range

TEST(ConditionTest, RangeIncludesMinAndExcludesMax) {
  const Evaluator when(
      "{field: company.employee_count, range: {min: 50, max: 250}}");
  auto with = [](int n) {
    return LeadFromYaml(absl::StrCat("company: {employee_count: ", n, "}"));
  };
  EXPECT_FALSE(when.Matches(with(49)));
  EXPECT_TRUE(when.Matches(with(50)));
  EXPECT_TRUE(when.Matches(with(249)));
  EXPECT_FALSE(when.Matches(with(250)));
}

TEST(ConditionTest, RangeWithOneBound) {
  const Evaluator at_least(
      "{field: company.annual_revenue, range: {min: 1e6}}");
  EXPECT_TRUE(at_least.Matches(LeadFromYaml("company: {annual_revenue: 1e6}")));
  EXPECT_TRUE(
      at_least.Matches(LeadFromYaml("company: {annual_revenue: 1e12}")));
  EXPECT_FALSE(
      at_least.Matches(LeadFromYaml("company: {annual_revenue: 999999.99}")));
  const Evaluator below("{field: company.employee_count, range: {max: 10}}");
  EXPECT_TRUE(below.Matches(LeadFromYaml("company: {employee_count: 9}")));
  EXPECT_FALSE(below.Matches(LeadFromYaml("company: {employee_count: 10}")));
}

TEST(ConditionTest, RangeOnSeniorityOrdersLevels) {
  const Evaluator director_or_above("{field: seniority, range: {min: 3}}");
  EXPECT_FALSE(director_or_above.Matches(LeadFromYaml("seniority: manager")));
  EXPECT_TRUE(director_or_above.Matches(LeadFromYaml("seniority: director")));
  EXPECT_TRUE(director_or_above.Matches(LeadFromYaml("seniority: owner")));
  EXPECT_FALSE(director_or_above.Matches(LeadFromYaml("id: l")));
}

TEST(ConditionTest, UnknownNumbersAreMissingNotZero) {
  // 0 employees means "not known": a small-company rule must not match it.
  const Evaluator small("{field: company.employee_count, range: {max: 10}}");
  EXPECT_FALSE(small.Matches(LeadFromYaml("company: {employee_count: 0}")));
  EXPECT_FALSE(small.Matches(LeadFromYaml("id: l")));
  EXPECT_FALSE(
      LeadMatches("{field: company.employee_count, equals: 0}", "id: l"));
  EXPECT_FALSE(LeadMatches("{field: company.annual_revenue, range: {max: 1e6}}",
                           "company: {annual_revenue: 0}"));
}

// ---------------------------------------------------------------------------
// contains / prefix / suffix

TEST(ConditionTest, ContainsPrefixSuffixIgnoreCaseByDefault) {
  const char* lead = "job_title: Head of Marketing";
  EXPECT_TRUE(LeadMatches("{field: job_title, contains: marketing}", lead));
  EXPECT_TRUE(LeadMatches("{field: job_title, contains: \"D OF M\"}", lead));
  EXPECT_FALSE(LeadMatches("{field: job_title, contains: sales}", lead));
  EXPECT_TRUE(LeadMatches("{field: job_title, prefix: head}", lead));
  EXPECT_FALSE(LeadMatches("{field: job_title, prefix: of}", lead));
  EXPECT_TRUE(LeadMatches("{field: job_title, suffix: MARKETING}", lead));
  EXPECT_FALSE(LeadMatches("{field: job_title, suffix: head}", lead));
  // The needle may be the whole value, but not longer.
  EXPECT_TRUE(
      LeadMatches("{field: job_title, contains: head of marketing}", lead));
  EXPECT_FALSE(
      LeadMatches("{field: job_title, contains: head of marketing!}", lead));
  EXPECT_FALSE(
      LeadMatches("{field: job_title, prefix: head of marketing ops}", lead));
}

TEST(ConditionTest, ContainsPrefixSuffixCaseSensitive) {
  const char* lead = "job_title: Head of Marketing";
  EXPECT_TRUE(LeadMatches(
      "{field: job_title, contains: Marketing, case_sensitive: true}", lead));
  EXPECT_FALSE(LeadMatches(
      "{field: job_title, contains: marketing, case_sensitive: true}", lead));
  EXPECT_TRUE(LeadMatches(
      "{field: job_title, prefix: Head, case_sensitive: true}", lead));
  EXPECT_FALSE(LeadMatches(
      "{field: job_title, prefix: head, case_sensitive: true}", lead));
  EXPECT_TRUE(LeadMatches(
      "{field: job_title, suffix: ing, case_sensitive: true}", lead));
  EXPECT_FALSE(LeadMatches(
      "{field: job_title, suffix: ING, case_sensitive: true}", lead));
}

TEST(ConditionTest, ContainsFindsLaterOccurrences) {
  // The first letter of the needle appears earlier without a match.
  EXPECT_TRUE(LeadMatches("{field: contact.email, contains: \"@acme\"}",
                          "contact: {email: \"a@b@ACME.io\"}"));
  EXPECT_TRUE(LeadMatches("{field: job_title, contains: mma}",
                          "job_title: \"m mm mMa\""));
}

// ---------------------------------------------------------------------------
// regex

TEST(ConditionTest, RegexMatchesAnywhereAndIgnoresCaseByDefault) {
  const char* lead = "job_title: Senior Head of Sales";
  EXPECT_TRUE(LeadMatches(
      "{field: job_title, regex: \"head of (sales|marketing)\"}", lead));
  EXPECT_TRUE(LeadMatches("{field: job_title, regex: sales}", lead));
  EXPECT_FALSE(LeadMatches("{field: job_title, regex: \"^head\"}", lead));
  EXPECT_TRUE(LeadMatches("{field: job_title, regex: \"^senior\"}", lead));
  EXPECT_TRUE(LeadMatches("{field: job_title, regex: \"SALES$\"}", lead));
  EXPECT_FALSE(LeadMatches("{field: job_title, regex: \"^sales$\"}", lead));
  EXPECT_TRUE(
      LeadMatches("{field: contact.email, regex: \"@acme\\\\.(io|com)$\"}",
                  "contact: {email: bob@ACME.io}"));
  EXPECT_FALSE(
      LeadMatches("{field: contact.email, regex: \"@acme\\\\.(io|com)$\"}",
                  "contact: {email: bob@acmexio}"));
}

TEST(ConditionTest, RegexCaseSensitive) {
  const char* lead = "job_title: Head of Sales";
  EXPECT_TRUE(LeadMatches(
      "{field: job_title, regex: \"^Head\", case_sensitive: true}", lead));
  EXPECT_FALSE(LeadMatches(
      "{field: job_title, regex: \"^head\", case_sensitive: true}", lead));
}

TEST(ConditionTest, RegexCannotMatchAMissingValue) {
  // "^$" would match an empty string: an absent title is not an empty one.
  EXPECT_FALSE(LeadMatches("{field: job_title, regex: \"^$\"}", "id: l"));
  EXPECT_FALSE(LeadMatches("{field: job_title, regex: \".*\"}", "id: l"));
}

// ---------------------------------------------------------------------------
// exists

TEST(ConditionTest, ExistsOnLeadFields) {
  EXPECT_TRUE(
      LeadMatches("{field: job_title, exists: true}", "job_title: CTO"));
  EXPECT_FALSE(
      LeadMatches("{field: job_title, exists: true}", "job_title: \"\""));
  EXPECT_TRUE(
      LeadMatches("{field: job_title, exists: false}", "job_title: \"\""));
  EXPECT_FALSE(
      LeadMatches("{field: job_title, exists: false}", "job_title: CTO"));
  EXPECT_FALSE(LeadMatches("{field: company.employee_count, exists: true}",
                           "company: {employee_count: 0}"));
  EXPECT_TRUE(LeadMatches("{field: company.employee_count, exists: false}",
                          "company: {employee_count: 0}"));
  EXPECT_TRUE(LeadMatches("{field: company.employee_count, exists: true}",
                          "company: {employee_count: 1}"));
  EXPECT_FALSE(LeadMatches("{field: seniority, exists: true}", "id: l"));
  EXPECT_TRUE(
      LeadMatches("{field: seniority, exists: true}", "seniority: manager"));
}

TEST(ConditionTest, ExistsOnAttributes) {
  const char* lead = R"(
attributes:
  plan: pro
  seats: 0
  trial: false
  nothing: ~
  tags: [a]
)";
  EXPECT_TRUE(LeadMatches("{field: attributes.plan, exists: true}", lead));
  // A present 0 or false is a value, unlike a lead's unknown 0.
  EXPECT_TRUE(LeadMatches("{field: attributes.seats, exists: true}", lead));
  EXPECT_TRUE(LeadMatches("{field: attributes.trial, exists: true}", lead));
  EXPECT_FALSE(LeadMatches("{field: attributes.absent, exists: true}", lead));
  EXPECT_TRUE(LeadMatches("{field: attributes.absent, exists: false}", lead));
  EXPECT_FALSE(LeadMatches("{field: attributes.nothing, exists: true}", lead));
  EXPECT_TRUE(LeadMatches("{field: attributes.nothing, exists: false}", lead));
  // Lists cannot be compared, so they read as missing (field.h).
  EXPECT_FALSE(LeadMatches("{field: attributes.tags, exists: true}", lead));
}

TEST(ConditionTest, EmptyTextAttributeDoesNotExist) {
  // condition.proto: "exists: true: the field has a non-empty value". An
  // empty text attribute must read like an empty text field.
  EXPECT_FALSE(LeadMatches("{field: attributes.plan, exists: true}",
                           "attributes: {plan: \"\"}"));
  EXPECT_TRUE(LeadMatches("{field: attributes.plan, exists: false}",
                          "attributes: {plan: \"\"}"));
}

// ---------------------------------------------------------------------------
// Attributes

TEST(ConditionTest, AttributesByTypeAndNestedKeys) {
  const v1::Lead lead = LeadFromYaml(R"(
attributes:
  plan: Enterprise
  seats: 40
  trial: true
  zip: "01234"
  tech: {crm: {vendor: Salesforce, seats: 12}}
)");
  EXPECT_TRUE(
      Evaluator("{field: attributes.plan, equals: enterprise}").Matches(lead));
  EXPECT_TRUE(Evaluator("{field: attributes.seats, equals: 40}").Matches(lead));
  EXPECT_TRUE(Evaluator("{field: attributes.seats, range: {min: 10, max: 50}}")
                  .Matches(lead));
  EXPECT_TRUE(
      Evaluator("{field: attributes.trial, equals: true}").Matches(lead));
  EXPECT_FALSE(
      Evaluator("{field: attributes.trial, equals: false}").Matches(lead));
  EXPECT_TRUE(
      Evaluator("{field: attributes.tech.crm.vendor, equals: salesforce}")
          .Matches(lead));
  EXPECT_TRUE(Evaluator("{field: attributes.tech.crm.seats, range: {min: 12}}")
                  .Matches(lead));
  EXPECT_TRUE(
      Evaluator("{field: attributes.plan, prefix: enter}").Matches(lead));
  // Types never convert: text "01234" is not the number 1234, nor 40 the text
  // "40".
  EXPECT_FALSE(
      Evaluator("{field: attributes.zip, equals: 1234}").Matches(lead));
  EXPECT_TRUE(
      Evaluator("{field: attributes.zip, equals: \"01234\"}").Matches(lead));
  EXPECT_FALSE(
      Evaluator("{field: attributes.seats, equals: \"40\"}").Matches(lead));
  EXPECT_FALSE(
      Evaluator("{field: attributes.zip, range: {min: 0}}").Matches(lead));
  EXPECT_FALSE(
      Evaluator("{field: attributes.seats, contains: \"4\"}").Matches(lead));
  EXPECT_FALSE(
      Evaluator("{field: attributes.trial, equals: \"true\"}").Matches(lead));
}

TEST(ConditionTest, AttributePathThroughANonMappingIsMissing) {
  const v1::Lead lead = LeadFromYaml("attributes: {plan: pro, tech: {crm: x}}");
  EXPECT_FALSE(
      Evaluator("{field: attributes.plan.name, exists: true}").Matches(lead));
  EXPECT_FALSE(Evaluator("{field: attributes.tech.crm.vendor, exists: true}")
                   .Matches(lead));
  EXPECT_FALSE(
      Evaluator("{field: attributes.tech.erp, exists: true}").Matches(lead));
  // A mapping is not a comparable value.
  EXPECT_FALSE(
      Evaluator("{field: attributes.tech, exists: true}").Matches(lead));
}

TEST(ConditionTest, SameAttributeInSeveralConditionsSharesOneSlot) {
  SlotTable attributes, properties;
  ProblemList problems;
  CompiledCondition a, b;
  ASSERT_TRUE(
      a.Compile(ConditionFromYaml("{field: attributes.plan, exists: true}"),
                FieldScope::kLead, "a", &problems, &attributes, &properties));
  ASSERT_TRUE(
      b.Compile(ConditionFromYaml("{field: attributes.plan, equals: pro}"),
                FieldScope::kLead, "b", &problems, &attributes, &properties));
  EXPECT_EQ(attributes.size(), 1);
  EXPECT_EQ(properties.size(), 0);
}

// ---------------------------------------------------------------------------
// Events

TEST(ConditionTest, EventTypeAndCustomType) {
  EXPECT_TRUE(EventMatches("{field: event.type, equals: demo_request}",
                           "{id: e, type: demo_request}"));
  EXPECT_TRUE(
      EventMatches("{field: event.type, equals: EVENT_TYPE_DEMO_REQUEST}",
                   "{id: e, type: demo_request}"));
  EXPECT_FALSE(EventMatches("{field: event.type, equals: demo_request}",
                            "{id: e, type: page_view}"));
  EXPECT_TRUE(EventMatches("{field: event.type, in: [email_open, email_click]}",
                           "{id: e, type: email_click}"));
  EXPECT_TRUE(EventMatches("{field: event.custom_type, equals: Trial_Invite}",
                           "{id: e, type: custom, custom_type: trial_invite}"));
  EXPECT_FALSE(EventMatches("{field: event.custom_type, exists: true}",
                            "{id: e, type: page_view}"));
}

TEST(ConditionTest, EventProperties) {
  const char* event = R"(
id: e
type: page_view
properties:
  url: https://acme.io/Pricing?plan=pro
  seconds: 95
  returning: true
  empty: ~
  utm: {source: LinkedIn, medium: paid}
)";
  EXPECT_TRUE(
      EventMatches("{field: event.properties.url, contains: /pricing}", event));
  EXPECT_FALSE(EventMatches(
      "{field: event.properties.url, contains: /pricing, case_sensitive: true}",
      event));
  EXPECT_TRUE(EventMatches(
      "{field: event.properties.url, regex: \"/pricing(\\\\?|$)\"}", event));
  EXPECT_TRUE(EventMatches(
      "{field: event.properties.seconds, range: {min: 60}}", event));
  EXPECT_FALSE(EventMatches(
      "{field: event.properties.seconds, range: {min: 120}}", event));
  EXPECT_TRUE(
      EventMatches("{field: event.properties.returning, equals: true}", event));
  EXPECT_TRUE(EventMatches(
      "{field: event.properties.utm.source, equals: linkedin}", event));
  EXPECT_TRUE(EventMatches(
      "{field: event.properties.utm.campaign, exists: false}", event));
  EXPECT_FALSE(
      EventMatches("{field: event.properties.empty, exists: true}", event));
  EXPECT_FALSE(
      EventMatches("{field: event.properties.referrer, contains: x}", event));
}

TEST(ConditionTest, EventRulesMayAlsoReadTheLead) {
  const char* when =
      "{all: [{field: event.type, equals: webinar_attendance}, {field: "
      "attributes.plan, equals: pro}, {field: company.country, equals: FR}]}";
  EXPECT_TRUE(
      EventMatches(when, "{id: e, type: webinar_attendance}",
                   "{company: {country: FR}, attributes: {plan: pro}}"));
  EXPECT_FALSE(
      EventMatches(when, "{id: e, type: webinar_attendance}",
                   "{company: {country: DE}, attributes: {plan: pro}}"));
}

TEST(ConditionTest, PropertyCacheIsResetForEachEvent) {
  // The scorer reuses one cache across a lead's events; a value read for one
  // event must never leak into the next.
  SlotTable attributes, properties;
  ProblemList problems;
  CompiledCondition condition;
  ASSERT_TRUE(condition.Compile(
      ConditionFromYaml("{field: event.properties.url, contains: pricing}"),
      FieldScope::kEvent, "when", &problems, &attributes, &properties));
  v1::Lead lead = LeadFromYaml("id: l");
  *lead.add_events() =
      EventFromYaml("{id: a, type: page_view, properties: {url: /pricing}}");
  *lead.add_events() =
      EventFromYaml("{id: b, type: page_view, properties: {url: /blog}}");
  *lead.add_events() = EventFromYaml("{id: c, type: page_view}");
  FlatLead flat;
  flat.Assign(lead);
  const FlatEvent& pricing = flat.events()[0];
  const FlatEvent& blog = flat.events()[1];
  const FlatEvent& none = flat.events()[2];
  std::vector<const google::protobuf::Value*> resolved;
  attributes.Resolve(lead.attributes(), &resolved);
  PropertyCache cache(&properties);
  EvalContext context;
  context.lead = &lead;
  context.attributes = &resolved;
  context.properties = &cache;
  const std::pair<const FlatEvent*, bool> sequence[] = {
      {&pricing, true}, {&blog, false}, {&pricing, true}, {&none, false}};
  for (const auto& [event, expected] : sequence) {
    cache.Reset(&flat, event);
    context.event = event;
    EXPECT_EQ(condition.Matches(context), expected) << event->id;
  }
}

// ---------------------------------------------------------------------------
// Score

TEST(ConditionTest, ScoreFields) {
  ScoreView score;
  score.fit = 85;
  score.engagement = 40;
  score.total = 125;
  score.hand_raiser = true;
  score.grade = "A";
  score.persona = "software-buyer";
  EXPECT_TRUE(ScoreMatches("{field: score.fit, range: {min: 80}}", score));
  EXPECT_FALSE(
      ScoreMatches("{field: score.fit, range: {min: 80, max: 85}}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.engagement, equals: 40}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.total, range: {min: 125}}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.hand_raiser, equals: true}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.grade, in: [a, b]}", score));
  EXPECT_FALSE(ScoreMatches(
      "{field: score.grade, equals: a, case_sensitive: true}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.persona, prefix: software}", score));
}

TEST(ConditionTest, ZeroScoresAreValues) {
  // Unlike a lead's unknown 0, a score of 0 is a result.
  ScoreView score;
  EXPECT_TRUE(ScoreMatches("{field: score.fit, equals: 0}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.total, range: {max: 50}}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.engagement, exists: true}", score));
  EXPECT_TRUE(ScoreMatches("{field: score.hand_raiser, equals: false}", score));
  // No persona matched: no persona, not an empty one.
  EXPECT_TRUE(ScoreMatches("{field: score.persona, exists: false}", score));
}

// ---------------------------------------------------------------------------
// all / any / not

TEST(ConditionTest, AllAnyNot) {
  const char* when = R"({all: [
    {field: company.industry, equals: software},
    {any: [{field: seniority, in: [vp, c_level]}, {field: job_title, contains: head}]},
    {not: {field: company.country, in: [KP, IR]}}]})";
  EXPECT_TRUE(LeadMatches(
      when, "{company: {industry: software, country: FR}, seniority: vp}"));
  EXPECT_TRUE(LeadMatches(
      when, "{company: {industry: software}, job_title: Head of IT}"));
  EXPECT_FALSE(LeadMatches(
      when, "{company: {industry: software, country: KP}, seniority: vp}"));
  EXPECT_FALSE(
      LeadMatches(when, "{company: {industry: retail}, seniority: vp}"));
  EXPECT_FALSE(
      LeadMatches(when, "{company: {industry: software}, seniority: manager}"));
}

TEST(ConditionTest, NotOfNot) {
  EXPECT_TRUE(LeadMatches("{not: {not: {field: job_title, exists: true}}}",
                          "job_title: CTO"));
  EXPECT_FALSE(
      LeadMatches("{not: {not: {field: job_title, exists: true}}}", "id: l"));
}

TEST(ConditionTest, SingleChildCombinators) {
  EXPECT_TRUE(LeadMatches("{all: [{field: job_title, exists: true}]}",
                          "job_title: CTO"));
  EXPECT_FALSE(
      LeadMatches("{any: [{field: job_title, exists: true}]}", "id: l"));
}

// ---------------------------------------------------------------------------
// Missing values

TEST(ConditionTest, MissingValuesMakeEveryComparisonFalse) {
  const v1::Lead empty = LeadFromYaml("id: l");
  for (const char* when : {
           "{field: job_title, equals: \"\"}",
           "{field: job_title, in: [cto, \"\"]}",
           "{field: job_title, contains: a}",
           "{field: job_title, prefix: a}",
           "{field: job_title, suffix: a}",
           "{field: job_title, regex: a}",
           "{field: company.employee_count, range: {min: -1}}",
           "{field: company.employee_count, equals: 0}",
           "{field: seniority, equals: unspecified}",
           "{field: attributes.plan, equals: pro}",
           "{field: attributes.plan, range: {max: 100}}",
           "{field: attributes.plan, contains: p}",
       }) {
    SCOPED_TRACE(when);
    // Some literals are refused at compile time; only evaluate what compiles.
    v1::Condition condition = ConditionFromYaml(when);
    SlotTable attributes, properties;
    ProblemList problems;
    CompiledCondition compiled;
    if (!compiled.Compile(condition, FieldScope::kLead, "when", &problems,
                          &attributes, &properties)) {
      continue;
    }
    std::vector<const google::protobuf::Value*> resolved;
    attributes.Resolve(empty.attributes(), &resolved);
    EvalContext context;
    context.lead = &empty;
    context.attributes = &resolved;
    EXPECT_FALSE(compiled.Matches(context));
  }
}

TEST(ConditionTest, NotOfAMissingComparisonHolds) {
  // "not in the embargo list" must hold for a lead whose country is unknown.
  EXPECT_TRUE(
      LeadMatches("{not: {field: company.country, in: [KP]}}", "id: l"));
}

// ---------------------------------------------------------------------------
// Compilation

TEST(ConditionTest, EmptyConditionMatchesEverything) {
  // An absent `when` on an engagement rule means "every event of its types".
  CompiledCondition never_compiled;
  EXPECT_TRUE(never_compiled.empty());
  const v1::Lead lead = LeadFromYaml("id: l");
  EvalContext context;
  context.lead = &lead;
  EXPECT_TRUE(never_compiled.Matches(context));
}

TEST(ConditionTest, FailedCompilationReportsUnderTheGivenPath) {
  SlotTable attributes, properties;
  ProblemList problems;
  CompiledCondition condition;
  EXPECT_FALSE(condition.Compile(
      ConditionFromYaml(
          "{any: [{field: job_title, exists: true}, {field: nope, "
          "equals: 1}, {field: job_title, regex: \"(\"}]}"),
      FieldScope::kLead, "fit_rules[3].when", &problems, &attributes,
      &properties));
  ASSERT_EQ(problems.size(), 2);
  EXPECT_EQ(problems.problems().problems(0).path(),
            "fit_rules[3].when.any[1].field");
  EXPECT_EQ(problems.problems().problems(1).path(),
            "fit_rules[3].when.any[2].regex");
  // A condition that failed to compile is left empty rather than half-built.
  EXPECT_TRUE(condition.empty());
}

TEST(ConditionTest, RecompilingReplacesThePreviousCondition) {
  SlotTable attributes, properties;
  ProblemList problems;
  CompiledCondition condition;
  ASSERT_TRUE(condition.Compile(
      ConditionFromYaml("{field: job_title, equals: cto}"), FieldScope::kLead,
      "a", &problems, &attributes, &properties));
  ASSERT_TRUE(condition.Compile(
      ConditionFromYaml("{field: job_title, equals: ceo}"), FieldScope::kLead,
      "a", &problems, &attributes, &properties));
  const v1::Lead lead = LeadFromYaml("job_title: CEO");
  std::vector<const google::protobuf::Value*> resolved;
  EvalContext context;
  context.lead = &lead;
  context.attributes = &resolved;
  EXPECT_TRUE(condition.Matches(context));
}

TEST(ShortEnumNameTest, NamesWithoutPrefix) {
  EXPECT_EQ(ShortEnumName(v1::Seniority_descriptor(), v1::SENIORITY_C_LEVEL),
            "c_level");
  EXPECT_EQ(
      ShortEnumName(v1::EventType_descriptor(), v1::EVENT_TYPE_DEMO_REQUEST),
      "demo_request");
  EXPECT_EQ(ShortEnumName(v1::EventType_descriptor(), 99), "");
}

}  // namespace
}  // namespace smarketing
