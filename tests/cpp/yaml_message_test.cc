// The YAML mapping is how people write Playbooks by hand: these tests pin the
// conveniences it promises (names, enums, durations), the typing of free-form
// values, and above all that every mistake comes back as a problem with a
// path, line and column instead of a crash or a silently wrong message.
#include "core/base/yaml_message.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/base/problems.h"
#include "core/playbook/playbook_loader.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "smarketing/v1/condition.pb.h"
#include "smarketing/v1/event.pb.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/playbook.pb.h"
#include "smarketing/v1/routing_state.pb.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MinimalPlaybookYaml;
using ::testing::SizeIs;

// The outcome of one parse: whether it succeeded and what it reported.
struct Parsed {
  bool ok = false;
  std::vector<v1::ValidationProblem> problems;
  SourceMap positions;
};

template <typename Message>
Parsed Parse(absl::string_view yaml, Message* message) {
  Parsed out;
  ProblemList problems;
  out.ok = ParseYamlMessage(yaml, message, &problems, &out.positions);
  for (const auto& p : problems.problems().problems())
    out.problems.push_back(p);
  return out;
}

// Parses a message that must be free of problems.
template <typename Message>
Message MustParse(absl::string_view yaml) {
  Message message;
  Parsed parsed = Parse(yaml, &message);
  EXPECT_TRUE(parsed.ok);
  for (const auto& p : parsed.problems) ADD_FAILURE() << FormatProblem(p);
  return message;
}

// Parses a message that must fail with exactly one problem, and returns it.
template <typename Message>
v1::ValidationProblem OnlyProblem(absl::string_view yaml) {
  Message message;
  Parsed parsed = Parse(yaml, &message);
  EXPECT_FALSE(parsed.ok) << "accepted:\n" << yaml;
  std::string all;
  for (const auto& p : parsed.problems)
    absl::StrAppend(&all, FormatProblem(p), "\n");
  EXPECT_THAT(parsed.problems, SizeIs(1)) << all;
  return parsed.problems.empty() ? v1::ValidationProblem() : parsed.problems[0];
}

// ---------------------------------------------------------------------------
// Field names

TEST(YamlMessageTest, AcceptsSnakeCaseAndLowerCamelCaseNames) {
  const auto snake = MustParse<v1::Lead>(R"(
id: l1
job_title: CTO
company: {employee_count: 120, annual_revenue: 2.5e6}
consent: {do_not_email: true}
)");
  const auto camel = MustParse<v1::Lead>(R"(
id: l1
jobTitle: CTO
company: {employeeCount: 120, annualRevenue: 2.5e6}
consent: {doNotEmail: true}
)");
  EXPECT_EQ(snake.job_title(), "CTO");
  EXPECT_EQ(snake.company().employee_count(), 120);
  EXPECT_EQ(snake.company().annual_revenue(), 2.5e6);
  EXPECT_TRUE(snake.consent().do_not_email());
  EXPECT_TRUE(MessageDifferencer::Equals(snake, camel));
}

TEST(YamlMessageTest, PathsUseSnakeCaseWhateverTheSpelling) {
  // Problems must name a field the same way however it was written, so that
  // validation paths match the documentation.
  const auto problem =
      OnlyProblem<v1::Lead>("company: {employeeCount: lots}\n");
  EXPECT_EQ(problem.path(), "company.employee_count");
}

TEST(YamlMessageTest, RefusesBothSpellingsOfOneField) {
  const auto problem =
      OnlyProblem<v1::Lead>("id: a\njob_title: CTO\njobTitle: CEO\n");
  EXPECT_EQ(problem.path(), "jobTitle");
  EXPECT_THAT(problem.message(), HasSubstr("given more than once"));
  EXPECT_EQ(problem.line(), 3);
  EXPECT_EQ(problem.column(), 1);
}

TEST(YamlMessageTest, RefusesAFieldGivenTwice) {
  const auto problem = OnlyProblem<v1::Playbook>(
      "metadata:\n  name: a\n  version: '1'\n  name: b\n");
  EXPECT_EQ(problem.path(), "metadata.name");
  EXPECT_THAT(problem.message(), HasSubstr("given more than once"));
  EXPECT_EQ(problem.line(), 4);
  EXPECT_EQ(problem.column(), 3);
}

TEST(YamlMessageTest, UnknownFieldHasExactPathLineColumnAndKnownFields) {
  const auto problem = OnlyProblem<v1::Playbook>(R"(metadata:
  name: acme
  versoin: "1"
)");
  EXPECT_EQ(problem.path(), "metadata.versoin");
  EXPECT_EQ(problem.line(), 3);
  EXPECT_EQ(problem.column(), 3);
  EXPECT_THAT(problem.message(),
              HasSubstr("unknown field \"versoin\" in PlaybookMetadata"));
  EXPECT_THAT(problem.message(),
              HasSubstr("known fields: name, version, description"));
}

TEST(YamlMessageTest, UnknownFieldDeepInAListHasItsIndex) {
  const auto problem = OnlyProblem<v1::Playbook>(R"(personas:
  - id: a
    criteria:
      - id: c1
        weight: 10
      - id: c2
        wieght: 10
)");
  EXPECT_EQ(problem.path(), "personas[0].criteria[1].wieght");
  EXPECT_EQ(problem.line(), 7);
  EXPECT_EQ(problem.column(), 9);
}

TEST(YamlMessageTest, ReportsEveryMistakeNotJustTheFirst) {
  Parsed parsed;
  v1::Playbook playbook;
  parsed = Parse(R"(metadata: {name: a, bogus: 1}
personas: {id: x}
grade_bands:
  - {grade: A, min_fit: abc}
engagement: {half_life: soon}
)",
                 &playbook);
  EXPECT_FALSE(parsed.ok);
  std::vector<std::string> paths;
  for (const auto& p : parsed.problems) paths.push_back(p.path());
  EXPECT_THAT(
      paths, ElementsAre("metadata.bogus", "personas", "grade_bands[0].min_fit",
                         "engagement.half_life"));
}

// ---------------------------------------------------------------------------
// Enums

TEST(YamlMessageTest, EnumByFullNameShortNameAnyCaseOrNumber) {
  for (const char* text :
       {"SENIORITY_C_LEVEL", "c_level", "C_LEVEL", "C_Level", "5"}) {
    SCOPED_TRACE(text);
    const auto lead = MustParse<v1::Lead>(absl::StrCat("seniority: ", text));
    EXPECT_EQ(lead.seniority(), v1::SENIORITY_C_LEVEL);
  }
}

TEST(YamlMessageTest, RepeatedEnumsByShortName) {
  const auto playbook = MustParse<v1::Playbook>(
      "engagement: {rules: [{id: r, event_types: [demo_request, "
      "EVENT_TYPE_PAGE_VIEW, Webinar_Attendance]}]}");
  ASSERT_EQ(playbook.engagement().rules_size(), 1);
  EXPECT_THAT(playbook.engagement().rules(0).event_types(),
              ElementsAre(v1::EVENT_TYPE_DEMO_REQUEST, v1::EVENT_TYPE_PAGE_VIEW,
                          v1::EVENT_TYPE_WEBINAR_ATTENDANCE));
}

TEST(YamlMessageTest, RefusesUnknownEnumValueAndListsTheChoices) {
  const auto problem = OnlyProblem<v1::Lead>("id: a\nseniority: emperor\n");
  EXPECT_EQ(problem.path(), "seniority");
  EXPECT_EQ(problem.line(), 2);
  EXPECT_EQ(problem.column(), 12);
  EXPECT_THAT(problem.message(),
              HasSubstr("unknown value \"emperor\" for Seniority"));
  // The choices are the short names people write, without UNSPECIFIED.
  EXPECT_THAT(problem.message(),
              HasSubstr("expected one of: individual_contributor, manager, "
                        "director, vp, c_level, owner"));
  EXPECT_THAT(problem.message(), ::testing::Not(HasSubstr("unspecified")));
}

TEST(YamlMessageTest, RefusesEnumNumberThatIsNoValue) {
  const auto problem = OnlyProblem<v1::Lead>("seniority: 99\n");
  EXPECT_EQ(problem.path(), "seniority");
  EXPECT_THAT(problem.message(), HasSubstr("unknown value \"99\""));
}

TEST(YamlMessageTest, RefusesEnumWithAnotherEnumsPrefix) {
  // "EVENT_TYPE_VP" must not sneak through as VP.
  const auto problem = OnlyProblem<v1::Lead>("seniority: EVENT_TYPE_VP\n");
  EXPECT_EQ(problem.path(), "seniority");
}

// ---------------------------------------------------------------------------
// Durations

int64_t HalfLifeSeconds(absl::string_view text, int32_t* nanos = nullptr) {
  const auto playbook = MustParse<v1::Playbook>(
      absl::StrCat("engagement: {half_life: \"", text, "\"}"));
  if (nanos != nullptr) *nanos = playbook.engagement().half_life().nanos();
  return playbook.engagement().half_life().seconds();
}

TEST(YamlMessageTest, DurationsAsWrittenByHand) {
  EXPECT_EQ(HalfLifeSeconds("90s"), 90);
  EXPECT_EQ(HalfLifeSeconds("45m"), 45 * 60);
  EXPECT_EQ(HalfLifeSeconds("2h30m"), 2 * 3600 + 30 * 60);
  EXPECT_EQ(HalfLifeSeconds("1.5h"), 5400);
  EXPECT_EQ(HalfLifeSeconds("7d"), 7 * 86400);
  EXPECT_EQ(HalfLifeSeconds("0.5d"), 43200);
  EXPECT_EQ(HalfLifeSeconds(" 7d "), 7 * 86400);
  int32_t nanos = 0;
  EXPECT_EQ(HalfLifeSeconds("1.25s", &nanos), 1);
  EXPECT_EQ(nanos, 250000000);
}

TEST(YamlMessageTest, NegativeDurationsKeepProtobufSignRules) {
  // seconds and nanos must share a sign for the Duration to be valid.
  int32_t nanos = 0;
  EXPECT_EQ(HalfLifeSeconds("-1.5s", &nanos), -1);
  EXPECT_EQ(nanos, -500000000);
}

TEST(YamlMessageTest, RefusesBadDurations) {
  for (const char* text :
       {"7 days", "soon", "90", "d", "1e7d", "infd", "inf", "1w", "2h30"}) {
    SCOPED_TRACE(text);
    const auto problem = OnlyProblem<v1::Playbook>(
        absl::StrCat("engagement:\n  half_life: \"", text, "\"\n"));
    EXPECT_EQ(problem.path(), "engagement.half_life");
    EXPECT_EQ(problem.line(), 2);
    EXPECT_EQ(problem.column(), 14);
    EXPECT_THAT(problem.message(), HasSubstr("expected a duration such as"));
  }
}

TEST(YamlMessageTest, RefusesADurationGivenAsAMapping) {
  const auto problem =
      OnlyProblem<v1::Playbook>("engagement: {half_life: {seconds: 5}}");
  EXPECT_EQ(problem.path(), "engagement.half_life");
  EXPECT_THAT(problem.message(), HasSubstr("found a mapping"));
}

TEST(ParseHumanDurationTest, ReadsFlagValues) {
  absl::Duration d;
  ASSERT_TRUE(ParseHumanDuration("3d", &d));
  EXPECT_EQ(d, absl::Hours(72));
  ASSERT_TRUE(ParseHumanDuration("2h30m", &d));
  EXPECT_EQ(d, absl::Minutes(150));
  ASSERT_TRUE(ParseHumanDuration("0s", &d));
  EXPECT_EQ(d, absl::ZeroDuration());
  EXPECT_FALSE(ParseHumanDuration("", &d));
  EXPECT_FALSE(ParseHumanDuration("forever", &d));
  EXPECT_FALSE(ParseHumanDuration("2000000d", &d));
  EXPECT_FALSE(ParseHumanDuration("nand", &d));
}

// ---------------------------------------------------------------------------
// Timestamps

TEST(YamlMessageTest, Rfc3339Timestamps) {
  const auto utc = MustParse<v1::Event>("occurred_at: 2026-11-23T09:30:00Z");
  EXPECT_EQ(utc.occurred_at().seconds(),
            absl::ToUnixSeconds(testing::At("2026-11-23T09:30:00Z")));
  EXPECT_EQ(utc.occurred_at().nanos(), 0);

  // An offset is converted, not dropped.
  const auto offset =
      MustParse<v1::Event>("occurred_at: \"2026-11-23T10:30:00+01:00\"");
  EXPECT_EQ(offset.occurred_at().seconds(), utc.occurred_at().seconds());

  const auto fraction =
      MustParse<v1::Event>("occurred_at: 2026-11-23T09:30:00.25Z");
  EXPECT_EQ(fraction.occurred_at().seconds(), utc.occurred_at().seconds());
  EXPECT_EQ(fraction.occurred_at().nanos(), 250000000);

  const auto before_epoch =
      MustParse<v1::Event>("occurred_at: 1969-12-31T23:59:59.5Z");
  EXPECT_EQ(before_epoch.occurred_at().seconds(), -1);
  EXPECT_EQ(before_epoch.occurred_at().nanos(), 500000000);
}

TEST(YamlMessageTest, RefusesBadTimestamps) {
  for (const char* text : {"2026-11-23", "yesterday", "2026-13-01T00:00:00Z",
                           "2026-11-23 09:30:00", "1700000000"}) {
    SCOPED_TRACE(text);
    const auto problem =
        OnlyProblem<v1::Event>(absl::StrCat("occurred_at: \"", text, "\""));
    EXPECT_EQ(problem.path(), "occurred_at");
    EXPECT_EQ(problem.line(), 1);
    EXPECT_EQ(problem.column(), 14);
    EXPECT_THAT(problem.message(), HasSubstr("expected an RFC 3339 time"));
  }
}

// ---------------------------------------------------------------------------
// google.protobuf.Value, Struct and ListValue

TEST(YamlMessageTest, ValueTypesFollowTheYamlForm) {
  const auto lead = MustParse<v1::Lead>(R"(
attributes:
  quoted_number: "123"
  single_quoted: '45'
  number: 123
  negative: -2.5
  yes_bool: true
  no_bool: False
  quoted_bool: "true"
  text: hello world
  nothing: ~
  empty_value:
  not_a_bool: yes
)");
  const auto& f = lead.attributes().fields();
  EXPECT_EQ(f.at("quoted_number").string_value(), "123");
  EXPECT_EQ(f.at("single_quoted").string_value(), "45");
  EXPECT_EQ(f.at("number").number_value(), 123);
  EXPECT_EQ(f.at("negative").number_value(), -2.5);
  EXPECT_EQ(f.at("yes_bool").kind_case(), google::protobuf::Value::kBoolValue);
  EXPECT_TRUE(f.at("yes_bool").bool_value());
  EXPECT_EQ(f.at("no_bool").kind_case(), google::protobuf::Value::kBoolValue);
  EXPECT_FALSE(f.at("no_bool").bool_value());
  EXPECT_EQ(f.at("quoted_bool").string_value(), "true");
  EXPECT_EQ(f.at("text").string_value(), "hello world");
  EXPECT_EQ(f.at("nothing").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(f.at("empty_value").kind_case(),
            google::protobuf::Value::kNullValue);
  // Only true and false are booleans: YAML 1.1's yes/no would turn a country
  // code like NO (Norway) into false.
  EXPECT_EQ(f.at("not_a_bool").string_value(), "yes");
}

TEST(YamlMessageTest, NonFiniteValuesStayText) {
  // A Value number must be finite to survive JSON; "nan" is kept as text.
  const auto lead =
      MustParse<v1::Lead>("attributes: {a: nan, b: inf, c: .inf}");
  const auto& f = lead.attributes().fields();
  EXPECT_EQ(f.at("a").kind_case(), google::protobuf::Value::kStringValue);
  EXPECT_EQ(f.at("b").kind_case(), google::protobuf::Value::kStringValue);
  EXPECT_EQ(f.at("c").kind_case(), google::protobuf::Value::kStringValue);
}

TEST(YamlMessageTest, NestedStructsAndLists) {
  const auto lead = MustParse<v1::Lead>(R"(
attributes:
  tech:
    crm: salesforce
    seats: 40
  tags: [b2b, 2026, true, {kind: partner}, [1, 2]]
  empty_list: []
  empty_map: {}
)");
  const auto& f = lead.attributes().fields();
  const auto& tech = f.at("tech").struct_value().fields();
  EXPECT_EQ(tech.at("crm").string_value(), "salesforce");
  EXPECT_EQ(tech.at("seats").number_value(), 40);
  const auto& tags = f.at("tags").list_value();
  ASSERT_EQ(tags.values_size(), 5);
  EXPECT_EQ(tags.values(0).string_value(), "b2b");
  EXPECT_EQ(tags.values(1).number_value(), 2026);
  EXPECT_TRUE(tags.values(2).bool_value());
  EXPECT_EQ(tags.values(3).struct_value().fields().at("kind").string_value(),
            "partner");
  EXPECT_EQ(tags.values(4).list_value().values_size(), 2);
  EXPECT_EQ(f.at("empty_list").kind_case(),
            google::protobuf::Value::kListValue);
  EXPECT_EQ(f.at("empty_list").list_value().values_size(), 0);
  EXPECT_EQ(f.at("empty_map").kind_case(),
            google::protobuf::Value::kStructValue);
}

TEST(YamlMessageTest, ConditionLiteralsAreValues) {
  const auto c = MustParse<v1::Condition>(
      "{field: attributes.zip, in: [\"01234\", 75001, true]}");
  ASSERT_EQ(c.in().values_size(), 3);
  EXPECT_EQ(c.in().values(0).string_value(), "01234");
  EXPECT_EQ(c.in().values(1).number_value(), 75001);
  EXPECT_TRUE(c.in().values(2).bool_value());
  const auto e = MustParse<v1::Condition>("{field: x, equals: '42'}");
  EXPECT_EQ(e.equals().string_value(), "42");
}

TEST(YamlMessageTest, StructRefusesDuplicateKeys) {
  const auto problem =
      OnlyProblem<v1::Lead>("attributes:\n  plan: pro\n  plan: free\n");
  EXPECT_EQ(problem.path(), "attributes.plan");
  EXPECT_THAT(problem.message(), HasSubstr("given more than once"));
  EXPECT_EQ(problem.line(), 3);
}

TEST(YamlMessageTest, StructAndListShapesAreChecked) {
  auto problem = OnlyProblem<v1::Lead>("attributes: [a, b]");
  EXPECT_EQ(problem.path(), "attributes");
  EXPECT_THAT(problem.message(), HasSubstr("expected a mapping, found a list"));

  problem = OnlyProblem<v1::Condition>("{field: x, in: pro}");
  EXPECT_EQ(problem.path(), "in");
  EXPECT_THAT(problem.message(), HasSubstr("expected a list, found \"pro\""));
}

// ---------------------------------------------------------------------------
// Maps

TEST(YamlMessageTest, MapFields) {
  const auto state = MustParse<v1::RoutingState>(R"(
open_leads: {alice: 3, bob: 0}
teams:
  emea: {assignments: 7, members: {alice: {assigned: 2}}}
)");
  EXPECT_EQ(state.open_leads().at("alice"), 3);
  EXPECT_EQ(state.open_leads().at("bob"), 0);
  EXPECT_EQ(state.teams().at("emea").assignments(), 7);
  EXPECT_EQ(state.teams().at("emea").members().at("alice").assigned(), 2);
}

TEST(YamlMessageTest, MapValueProblemsNameTheKey) {
  const auto problem =
      OnlyProblem<v1::RoutingState>("open_leads: {alice: 3, bob: many}");
  EXPECT_EQ(problem.path(), "open_leads[\"bob\"]");
  EXPECT_THAT(problem.message(), HasSubstr("expected a whole number"));
}

// ---------------------------------------------------------------------------
// Wrong shapes and scalar types

TEST(YamlMessageTest, ListWhereMappingExpected) {
  const auto problem = OnlyProblem<v1::Playbook>("metadata:\n  - a\n  - b\n");
  EXPECT_EQ(problem.path(), "metadata");
  EXPECT_THAT(problem.message(),
              HasSubstr("expected a mapping (PlaybookMetadata), found a list"));
  EXPECT_EQ(problem.line(), 2);
  EXPECT_EQ(problem.column(), 3);
}

TEST(YamlMessageTest, MappingWhereListExpected) {
  const auto problem = OnlyProblem<v1::Playbook>("personas: {id: x}");
  EXPECT_EQ(problem.path(), "personas");
  EXPECT_THAT(problem.message(), HasSubstr("expected a list, found a mapping"));
}

TEST(YamlMessageTest, ScalarWhereListExpected) {
  const auto problem = OnlyProblem<v1::Playbook>("personas: buyer");
  EXPECT_EQ(problem.path(), "personas");
  EXPECT_THAT(problem.message(), HasSubstr("expected a list, found \"buyer\""));
}

TEST(YamlMessageTest, ListWhereSingleValueExpected) {
  const auto problem =
      OnlyProblem<v1::Playbook>("metadata: {name: [a, b], version: '1'}");
  EXPECT_EQ(problem.path(), "metadata.name");
  EXPECT_THAT(problem.message(),
              HasSubstr("expected a single value, found a list"));
}

TEST(YamlMessageTest, MappingWhereSingleValueExpected) {
  const auto problem = OnlyProblem<v1::Lead>("job_title: {en: CTO}");
  EXPECT_EQ(problem.path(), "job_title");
  EXPECT_THAT(problem.message(),
              HasSubstr("expected a single value, found a mapping"));
}

TEST(YamlMessageTest, ScalarWhereMessageExpected) {
  const auto problem = OnlyProblem<v1::Lead>("company: Acme");
  EXPECT_EQ(problem.path(), "company");
  EXPECT_THAT(problem.message(),
              HasSubstr("expected a mapping (Company), found \"Acme\""));
}

TEST(YamlMessageTest, LongScalarsAreShortenedInMessages) {
  const std::string long_name(500, 'x');
  const auto problem =
      OnlyProblem<v1::Lead>(absl::StrCat("company: ", long_name));
  EXPECT_THAT(problem.message(),
              HasSubstr(absl::StrCat(std::string(40, 'x'), "...")));
  EXPECT_LT(problem.message().size(), 200u);
}

TEST(YamlMessageTest, KeysMustBeScalars) {
  const auto problem = OnlyProblem<v1::Lead>("{[a, b]: 1}");
  EXPECT_THAT(problem.message(), HasSubstr("keys must be plain names"));
}

TEST(YamlMessageTest, BoolFields) {
  EXPECT_TRUE(
      MustParse<v1::Condition>("case_sensitive: TRUE").case_sensitive());
  EXPECT_FALSE(
      MustParse<v1::Condition>("case_sensitive: false").case_sensitive());
  const auto problem = OnlyProblem<v1::Condition>("case_sensitive: yes");
  EXPECT_EQ(problem.path(), "case_sensitive");
  EXPECT_THAT(problem.message(),
              HasSubstr("expected true or false, found \"yes\""));
}

TEST(YamlMessageTest, NullLeavesAFieldUnset) {
  const auto playbook =
      MustParse<v1::Playbook>("metadata:\npersonas: ~\nthresholds: null\n");
  EXPECT_FALSE(playbook.has_metadata());
  EXPECT_EQ(playbook.personas_size(), 0);
  EXPECT_FALSE(playbook.has_thresholds());
}

TEST(YamlMessageTest, RefusesNonFiniteNumbers) {
  for (const char* text :
       {".nan", "nan", ".inf", "-.inf", "inf", "1e999", "-1e999", "ten"}) {
    SCOPED_TRACE(text);
    const auto problem = OnlyProblem<v1::Playbook>(
        absl::StrCat("grade_bands:\n  - {grade: A, min_fit: ", text, "}\n"));
    EXPECT_EQ(problem.path(), "grade_bands[0].min_fit");
    EXPECT_EQ(problem.line(), 2);
    EXPECT_EQ(problem.column(), 25);
    EXPECT_THAT(problem.message(), HasSubstr("expected a finite number"));
  }
}

TEST(YamlMessageTest, AcceptsNumberForms) {
  const auto playbook = MustParse<v1::Playbook>(
      "grade_bands: [{min_fit: 1e1, max_fit: '12.5'}, {min_fit: -0.5, max_fit: "
      "+7}]");
  EXPECT_EQ(playbook.grade_bands(0).min_fit(), 10);
  EXPECT_EQ(playbook.grade_bands(0).max_fit(), 12.5);
  EXPECT_EQ(playbook.grade_bands(1).min_fit(), -0.5);
  EXPECT_EQ(playbook.grade_bands(1).max_fit(), 7);
}

TEST(YamlMessageTest, IntegersMustBeWholeAndInRange) {
  // int64 limits are accepted exactly, not through a double.
  auto lead =
      MustParse<v1::Lead>("company: {employee_count: 9223372036854775807}");
  EXPECT_EQ(lead.company().employee_count(), INT64_MAX);
  lead = MustParse<v1::Lead>("company: {employee_count: -9223372036854775808}");
  EXPECT_EQ(lead.company().employee_count(), INT64_MIN);

  for (const char* text :
       {"9223372036854775808", "1.5", "1e3", "twelve", "12abc"}) {
    SCOPED_TRACE(text);
    const auto problem = OnlyProblem<v1::Lead>(
        absl::StrCat("company:\n  employee_count: ", text, "\n"));
    EXPECT_EQ(problem.path(), "company.employee_count");
    EXPECT_EQ(problem.line(), 2);
    EXPECT_EQ(problem.column(), 19);
    EXPECT_THAT(problem.message(),
                HasSubstr("expected a whole number in range"));
  }
}

TEST(YamlMessageTest, Int32RangeIsChecked) {
  const auto playbook = MustParse<v1::Playbook>(
      "engagement: {rules: [{id: r, window_cap: {max_events: 2147483647}}]}");
  EXPECT_EQ(playbook.engagement().rules(0).window_cap().max_events(),
            INT32_MAX);
  const auto problem = OnlyProblem<v1::Playbook>(
      "engagement: {rules: [{id: r, window_cap: {max_events: 2147483648}}]}");
  EXPECT_EQ(problem.path(), "engagement.rules[0].window_cap.max_events");
  EXPECT_THAT(problem.message(), HasSubstr("expected a whole number in range"));
}

// ---------------------------------------------------------------------------
// Syntax errors, empty and hostile documents

TEST(YamlMessageTest, MalformedYamlReportsLineAndColumn) {
  const auto problem = OnlyProblem<v1::Playbook>(
      "metadata:\n  name: acme\n  version: [1, 2\npersonas: []\n");
  EXPECT_EQ(problem.path(), "");
  EXPECT_THAT(problem.message(), HasSubstr("not valid YAML"));
  EXPECT_EQ(problem.line(), 4);
  EXPECT_GT(problem.column(), 0);
}

TEST(YamlMessageTest, BadIndentationReportsItsLine) {
  const auto problem =
      OnlyProblem<v1::Playbook>("metadata:\n  name: acme\n version: '1'\n");
  EXPECT_THAT(problem.message(), HasSubstr("not valid YAML"));
  EXPECT_EQ(problem.line(), 3);
}

TEST(YamlMessageTest, EmptyDocumentIsAProblem) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "~", "---\n"}) {
    SCOPED_TRACE(text);
    const auto problem = OnlyProblem<v1::Playbook>(text);
    EXPECT_THAT(problem.message(), HasSubstr("the document is empty"));
    EXPECT_EQ(problem.line(), 1);
    EXPECT_EQ(problem.column(), 1);
  }
}

TEST(YamlMessageTest, ScalarDocumentIsAProblem) {
  const auto problem = OnlyProblem<v1::Playbook>("just some text");
  EXPECT_EQ(problem.path(), "");
  EXPECT_THAT(problem.message(), HasSubstr("expected a mapping (Playbook)"));
}

TEST(YamlMessageTest, ParsingClearsTheMessageFirst) {
  v1::Lead lead;
  lead.set_job_title("stale");
  ProblemList problems;
  ASSERT_TRUE(ParseYamlMessage("id: fresh", &lead, &problems));
  EXPECT_EQ(lead.id(), "fresh");
  EXPECT_EQ(lead.job_title(), "");
}

TEST(YamlMessageTest, ProblemsAreAppendedToAnExistingList) {
  // The loader collects problems of several documents in one list; the
  // result must reflect only this document's problems.
  ProblemList problems;
  problems.Add("earlier", "from another document");
  v1::Lead lead;
  EXPECT_TRUE(ParseYamlMessage("id: a", &lead, &problems));
  EXPECT_FALSE(ParseYamlMessage("id: [a]", &lead, &problems));
  EXPECT_EQ(problems.size(), 2);
}

std::string NestedNots(int depth) {
  std::string yaml = "{field: company.industry, exists: true}";
  for (int i = 0; i < depth; ++i) yaml = absl::StrCat("{not: ", yaml, "}");
  return yaml;
}

TEST(YamlMessageTest, DeeplyNestedConditionsAreRefusedNotCrashed) {
  const std::string yaml = absl::StrCat(
      "personas:\n  - id: p\n    criteria:\n      - id: c\n        when: ",
      NestedNots(200), "\n");
  v1::Playbook playbook;
  const Parsed parsed = Parse(yaml, &playbook);
  EXPECT_FALSE(parsed.ok);
  ASSERT_THAT(parsed.problems, SizeIs(1));
  EXPECT_THAT(parsed.problems[0].message(),
              HasSubstr("nested more than 64 levels"));
  EXPECT_THAT(parsed.problems[0].path(),
              ::testing::StartsWith("personas[0].criteria[0].when.not.not."));
  EXPECT_EQ(parsed.problems[0].line(), 5);
}

TEST(YamlMessageTest, DeepFlowSequenceIsAProblemNotACrash) {
  constexpr int kDepth = 100000;
  const std::string yaml =
      absl::StrCat("attributes:\n  deep: ", std::string(kDepth, '['),
                   std::string(kDepth, ']'), "\n");
  v1::Lead lead;
  const Parsed parsed = Parse(yaml, &lead);
  EXPECT_FALSE(parsed.ok);
  ASSERT_THAT(parsed.problems, SizeIs(1));
  EXPECT_THAT(parsed.problems[0].message(), HasSubstr("not valid YAML"));
  EXPECT_EQ(parsed.problems[0].line(), 2);
}

TEST(YamlMessageTest, DeepFlowMappingIsAProblemNotACrash) {
  constexpr int kDepth = 100000;
  std::string yaml = "attributes: ";
  for (int i = 0; i < kDepth; ++i) yaml += "{a: ";
  yaml += "1";
  yaml += std::string(kDepth, '}');
  v1::Lead lead;
  const Parsed parsed = Parse(yaml, &lead);
  EXPECT_FALSE(parsed.ok);
  ASSERT_THAT(parsed.problems, SizeIs(1));
  EXPECT_THAT(parsed.problems[0].message(), HasSubstr("not valid YAML"));
}

TEST(YamlMessageTest, ModeratelyNestedValuesAreRefusedPastTheLimit) {
  // Below what the YAML parser allows but past the reader's own limit.
  const std::string yaml =
      absl::StrCat("attributes:\n  deep: ", std::string(100, '['), "1",
                   std::string(100, ']'), "\n");
  v1::Lead lead;
  const Parsed parsed = Parse(yaml, &lead);
  EXPECT_FALSE(parsed.ok);
  ASSERT_THAT(parsed.problems, SizeIs(1));
  EXPECT_THAT(parsed.problems[0].message(),
              HasSubstr("nested more than 64 levels"));
  EXPECT_THAT(parsed.problems[0].path(),
              ::testing::StartsWith("attributes.deep[0][0]"));
}

TEST(YamlMessageTest, AnchorsAndAliasesAreRead) {
  // Aliases let authors reuse a condition; they must read like a copy.
  const auto playbook = MustParse<v1::Playbook>(R"(
personas:
  - id: p
    criteria:
      - {id: a, weight: 50, when: &software {field: company.industry, equals: software}}
      - {id: b, weight: 50, when: *software}
)");
  EXPECT_TRUE(
      MessageDifferencer::Equals(playbook.personas(0).criteria(0).when(),
                                 playbook.personas(0).criteria(1).when()));
}

// ---------------------------------------------------------------------------
// Source positions

TEST(YamlMessageTest, RecordsWhereEachFieldWasWritten) {
  v1::Playbook playbook;
  const Parsed parsed = Parse(R"(metadata:
  name: acme
personas:
  - id: p
    criteria:
      - id: c
        weight: 10
)",
                              &playbook);
  ASSERT_TRUE(parsed.ok);
  auto at = [&](const std::string& path) {
    auto it = parsed.positions.find(path);
    EXPECT_NE(it, parsed.positions.end()) << path;
    return it == parsed.positions.end() ? SourcePosition{} : it->second;
  };
  EXPECT_EQ(at("metadata.name").line, 2);
  EXPECT_EQ(at("metadata.name").column, 9);
  EXPECT_EQ(at("personas[0]").line, 4);
  EXPECT_EQ(at("personas[0]").column, 5);
  EXPECT_EQ(at("personas[0].criteria[0].weight").line, 7);
  EXPECT_EQ(at("personas[0].criteria[0].weight").column, 17);
}

// ---------------------------------------------------------------------------
// JSON through the same path

TEST(YamlMessageTest, JsonGetsLineAndColumnToo) {
  const std::string json = R"({
  "metadata": {"name": "acme", "version": "1"},
  "gradeBands": [
    {"grade": "A", "minFit": 0, "maxFit": 100, "colour": "green"}
  ]
})";
  auto source = ParsePlaybook(json, PlaybookFormat::kJson, "pb.json");
  ASSERT_FALSE(source.ok());
  auto problems = ProblemsFromStatus(source.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 1);
  const auto& p = problems->problems(0);
  EXPECT_EQ(p.path(), "grade_bands[0].colour");
  EXPECT_EQ(p.line(), 4);
  EXPECT_EQ(p.column(), 48);
  EXPECT_EQ(p.file(), "pb.json");
  EXPECT_EQ(FormatProblem(p),
            absl::StrCat("pb.json:4:48: grade_bands[0].colour: ", p.message()));
}

TEST(YamlMessageTest, JsonIndentedWithTabsIsRead) {
  // Many editors indent JSON with tabs; reading JSON as YAML must not refuse
  // a file that every JSON parser accepts.
  const std::string json =
      "{\n\t\"metadata\": {\n\t\t\"name\": \"acme\",\n\t\t\"version\": "
      "\"1\"\n\t}\n}\n";
  auto source = ParsePlaybook(json, PlaybookFormat::kJson);
  ASSERT_TRUE(source.ok()) << source.status().message();
  EXPECT_EQ(source->playbook.metadata().name(), "acme");
}

TEST(YamlMessageTest, JsonSyntaxErrorReportsItsLine) {
  const std::string json =
      "{\n  \"metadata\": {\"name\": \"acme\",\n  \"version\" \"1\"}\n}";
  auto source = ParsePlaybook(json, PlaybookFormat::kJson);
  ASSERT_FALSE(source.ok());
  auto problems = ProblemsFromStatus(source.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 1);
  EXPECT_EQ(problems->problems(0).line(), 3);
  EXPECT_THAT(problems->problems(0).message(), HasSubstr("not valid YAML"));
}

TEST(YamlMessageTest, JsonEmptyEntryIsAProblemOnItsLine) {
  const std::string json = "{\n  \"metadata\": {\"name\": \"acme\",,}\n}";
  auto source = ParsePlaybook(json, PlaybookFormat::kJson);
  ASSERT_FALSE(source.ok());
  auto problems = ProblemsFromStatus(source.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 1);
  EXPECT_EQ(problems->problems(0).line(), 2);
}

// ---------------------------------------------------------------------------
// MessageToYaml

TEST(MessageToYamlTest, RoundTripsARichPlaybook) {
  // Built from YAML, then enriched by hand with values that YAML easily
  // mistypes (strings that look like numbers, bools or nulls; newlines).
  v1::Playbook playbook =
      testing::PlaybookFromYaml(absl::StrCat(MinimalPlaybookYaml(), R"(
fit_rules:
  - id: business-email
    description: "Business e-mail: not gmail"
    when: {not: {field: contact.email, suffix: "@gmail.com"}}
    points: 5
  - id: no-phone
    when: {field: contact.phone, exists: false}
    points: -2.5
disqualification_rules:
  - id: tiny
    when: {field: company.employee_count, range: {min: 1, max: 5}}
    reason: company_size
hand_raiser_rules:
  - id: demo
    event_types: [demo_request, contact_sales]
    min_fit: 40
    lookback: 30d
    priority: urgent
priority:
  default_priority: medium
  rules:
    - id: hot
      when: {all: [{field: score.total, range: {min: 150}}, {field: score.grade, in: [A, B]}]}
      priority: high
objectives:
  - id: q1-mqls
    team_id: emea
    period_start: {year: 2026, month: 1, day: 1}
    period_end: {year: 2026, month: 3, day: 31}
    metric: mqls
    target: 300
)"));
  v1::EngagementRule* rule = playbook.mutable_engagement()->add_rules();
  rule->set_id("pricing");
  rule->set_description(
      "Line one\nline two: with \"quotes\" and 'apostrophes' # not a comment");
  rule->add_event_types(v1::EVENT_TYPE_PAGE_VIEW);
  rule->set_points(0.1);
  rule->set_max_points(1e300);
  rule->mutable_half_life()->set_seconds(1);
  rule->mutable_half_life()->set_nanos(500000000);
  rule->mutable_window_cap()->mutable_window()->set_seconds(86400);
  rule->mutable_window_cap()->set_max_events(3);
  v1::Condition* when = rule->mutable_when();
  when->set_field("event.properties.url");
  auto* in = when->mutable_in();
  in->add_values()->set_string_value("123");
  in->add_values()->set_string_value("true");
  in->add_values()->set_string_value("~");
  in->add_values()->set_string_value("");
  in->add_values()->set_string_value("  padded  ");
  in->add_values()->set_string_value("é – ünïcode");
  in->add_values()->set_number_value(-0.000123);
  in->add_values()->set_number_value(12345678901234567.0);
  in->add_values()->set_bool_value(false);
  in->add_values()->set_null_value(google::protobuf::NULL_VALUE);
  auto* nested = in->add_values()->mutable_struct_value()->mutable_fields();
  (*nested)["key with spaces"].set_string_value("v");
  (*nested)["n"].mutable_list_value()->add_values()->set_number_value(1);
  playbook.mutable_metadata()->add_owners("");
  playbook.mutable_metadata()->add_owners("ops: marketing");
  playbook.mutable_metadata()->set_description("- looks like a list item");
  playbook.mutable_personas(0)->set_name("null");
  playbook.mutable_personas(0)->set_description("yes");

  const std::string yaml = MessageToYaml(playbook);
  v1::Playbook back;
  ProblemList problems;
  ASSERT_TRUE(ParseYamlMessage(yaml, &back, &problems))
      << problems.ToStatus("round trip").message() << "\n"
      << yaml;
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(playbook, back)) << diff << "\n" << yaml;
}

TEST(MessageToYamlTest, RoundTripsTheDemoPlaybook) {
  if (!std::filesystem::exists(testing::DemoPlaybookPath())) {
    GTEST_SKIP() << testing::DemoPlaybookPath() << " does not exist yet";
  }
  const v1::Playbook demo = testing::DemoPlaybook();
  const std::string yaml = MessageToYaml(demo);
  v1::Playbook back;
  ProblemList problems;
  ASSERT_TRUE(ParseYamlMessage(yaml, &back, &problems))
      << problems.ToStatus("round trip").message();
  EXPECT_TRUE(MessageDifferencer::Equals(demo, back)) << yaml;
}

TEST(MessageToYamlTest, RoundTripsALead) {
  const v1::Lead lead = testing::LeadFromYaml(R"(
id: "00042"
contact: {first_name: Zoë, email: zoe@example.com}
seniority: vp
company: {employee_count: 250, annual_revenue: 12.75e6, country: "NO"}
attributes: {plan: "pro", seats: 12, trial: true, zip: "01234"}
events:
  - {id: e1, type: page_view, occurred_at: "2026-11-20T10:00:00.123456789Z", properties: {url: /pricing}}
  - {id: e2, type: custom, custom_type: trial_invite, occurred_at: "1969-07-20T20:17:40Z"}
created_at: "2026-01-01T00:00:00Z"
)");
  const std::string yaml = MessageToYaml(lead);
  v1::Lead back;
  ProblemList problems;
  ASSERT_TRUE(ParseYamlMessage(yaml, &back, &problems))
      << problems.ToStatus("round trip").message() << "\n"
      << yaml;
  EXPECT_TRUE(MessageDifferencer::Equals(lead, back)) << yaml;
}

TEST(MessageToYamlTest, WritesSnakeCaseAndFullEnumNames) {
  v1::Lead lead;
  lead.set_job_title("CTO");
  lead.set_seniority(v1::SENIORITY_C_LEVEL);
  lead.mutable_company()->set_employee_count(5);
  const std::string yaml = MessageToYaml(lead);
  EXPECT_THAT(yaml, HasSubstr("job_title: \"CTO\""));
  EXPECT_THAT(yaml, HasSubstr("seniority: SENIORITY_C_LEVEL"));
  EXPECT_THAT(yaml, HasSubstr("employee_count: 5"));
  EXPECT_THAT(yaml, ::testing::Not(HasSubstr("jobTitle")));
}

TEST(MessageToYamlTest, StructKeysAreSortedForStableReviews) {
  v1::Lead lead;
  auto& fields = *lead.mutable_attributes()->mutable_fields();
  for (const char* key : {"zeta", "alpha", "mid"})
    fields[key].set_number_value(1);
  const std::string yaml = MessageToYaml(lead);
  const size_t alpha = yaml.find("alpha"), mid = yaml.find("mid"),
               zeta = yaml.find("zeta");
  ASSERT_NE(zeta, std::string::npos);
  EXPECT_LT(alpha, mid);
  EXPECT_LT(mid, zeta);
}

// ---------------------------------------------------------------------------
// Aliases and bytes that would hang the reader or change text silently

TEST(YamlMessageTest, RefusesAnAliasInsideItsOwnAnchor) {
  // Each of these 40-byte Playbooks once made validation run forever.
  v1::ValidationProblem problem =
      OnlyProblem<v1::Playbook>("fit_rules: [{when: &w {any: [*w, *w]}}]\n");
  EXPECT_THAT(problem.message(), HasSubstr("would contain itself"));
  EXPECT_EQ(problem.line(), 1);
  EXPECT_EQ(problem.column(), 30);
  problem =
      OnlyProblem<v1::Playbook>("fit_rules: [{when: {equals: &v [*v, *v]}}]\n");
  EXPECT_THAT(problem.message(), HasSubstr("would contain itself"));
  EXPECT_EQ(problem.column(), 33);
  problem = OnlyProblem<v1::Playbook>(
      "personas:\n"
      "  - &p\n"
      "    id: x\n"
      "    criteria: [{when: {field: a, equals: *p}}]\n");
  EXPECT_THAT(problem.message(), HasSubstr("would contain itself"));
  EXPECT_EQ(problem.line(), 4);
}

TEST(YamlMessageTest, BoundsWhatAliasesExpandTo) {
  // Nine levels of nine aliases: 9^9 values from under 300 bytes.
  std::string yaml = "fit_rules: [{when: {equals: [&a0 [1,1,1,1,1,1,1,1,1]";
  for (int level = 1; level < 9; ++level) {
    absl::StrAppend(&yaml, ", &a", level, " [");
    for (int i = 0; i < 9; ++i)
      absl::StrAppend(&yaml, i ? "," : "", "*a", level - 1);
    absl::StrAppend(&yaml, "]");
  }
  absl::StrAppend(&yaml, "]}}]\n");
  const v1::ValidationProblem problem = OnlyProblem<v1::Playbook>(yaml);
  EXPECT_THAT(
      problem.message(),
      HasSubstr("aliases expand the document to more than 1000000 values"));
  EXPECT_EQ(problem.line(), 1);
  EXPECT_GT(problem.column(), 1);
}

TEST(YamlMessageTest, AliasesThatRepeatAValueStillWork) {
  const auto playbook = MustParse<v1::Playbook>(
      "fit_rules:\n"
      "  - {id: a, when: &big {field: company.employee_count, range: {min: "
      "500}}, points: 1}\n"
      "  - {id: b, when: *big, points: 2}\n");
  ASSERT_EQ(playbook.fit_rules_size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(playbook.fit_rules(0).when(),
                                         playbook.fit_rules(1).when()));
}

TEST(YamlMessageTest, RefusesTextThatIsNotUtf8WithItsPosition) {
  v1::ValidationProblem problem =
      OnlyProblem<v1::Playbook>("metadata:\n  name: \"ac\xffme\"\n");
  EXPECT_THAT(problem.message(), HasSubstr("not valid UTF-8 (0xff)"));
  EXPECT_EQ(problem.line(), 2);
  EXPECT_EQ(problem.column(), 12);
  // A lone continuation byte and a truncated sequence in a comment too: the
  // whole document must be UTF-8.
  problem = OnlyProblem<v1::Playbook>("# caf\xc3\nmetadata: {name: x}\n");
  EXPECT_THAT(problem.message(), HasSubstr("not valid UTF-8 (0xc3)"));
  EXPECT_EQ(problem.line(), 1);
  EXPECT_EQ(problem.column(), 6);
}

TEST(YamlMessageTest, RefusesControlCharactersSuchAsNul) {
  // yaml-cpp read "acme\0b2b" as "acme\x08" "2b".
  const v1::ValidationProblem problem = OnlyProblem<v1::Playbook>(
      std::string("metadata:\n  name: acme\0b2b\n", 26));
  EXPECT_THAT(problem.message(), HasSubstr("control character (0x00)"));
  EXPECT_EQ(problem.line(), 2);
  EXPECT_EQ(problem.column(), 13);
}

TEST(YamlMessageTest, RefusesEscapesThatYamlCppDecodesToLatin1) {
  // yaml-cpp decodes \_ and \N to the single bytes 0xA0 and 0x85, which
  // protobuf's JSON printer then drops: "acme\_b2b" scored as "acmeb2b".
  v1::ValidationProblem problem =
      OnlyProblem<v1::Playbook>("metadata:\n  name: \"acme\\_b2b\"\n");
  EXPECT_EQ(problem.path(), "metadata.name");
  EXPECT_THAT(problem.message(),
              HasSubstr("not valid UTF-8 (byte 0xa0 at offset 4)"));
  EXPECT_EQ(problem.line(), 2);
  problem = OnlyProblem<v1::Lead>("attributes: {\"plan\\N\": pro}\n");
  EXPECT_EQ(problem.path(), "attributes");
  EXPECT_THAT(problem.message(), HasSubstr("byte 0x85"));
  problem = OnlyProblem<v1::Lead>("attributes: {plan: \"pro\\_\"}\n");
  EXPECT_EQ(problem.path(), "attributes.plan");
  problem = OnlyProblem<v1::Playbook>("\"meta\\Ndata\": {}\n");
  EXPECT_THAT(problem.message(), HasSubstr("byte 0x85"));
  // Escapes yaml-cpp encodes as UTF-8 are fine.
  const auto playbook =
      MustParse<v1::Playbook>("metadata: {name: \"caf\\xe9 \\u00e9\\L\"}\n");
  EXPECT_EQ(playbook.metadata().name(), "caf\xc3\xa9 \xc3\xa9\xe2\x80\xa8");
}

}  // namespace
}  // namespace smarketing
