// A Playbook is a contract reviewed like code: a mistake must be refused with
// the exact path of the offending field and a message that says what is
// wrong, every mistake at once, and with a line and column when the Playbook
// came from a file. Each test changes one thing in a valid Playbook so that
// the problem it expects is the only one.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/yaml_message.h"
#include "core/playbook/compiled_playbook.h"
#include "core/playbook/playbook_loader.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
using testing::MinimalPlaybookYaml;
using testing::PlaybookFromYaml;
using testing::ProblemLines;

// Any message from YAML, failing the test if it does not parse.
template <typename Message>
Message Yaml(absl::string_view yaml) {
  Message message;
  ProblemList problems;
  EXPECT_TRUE(ParseYamlMessage(yaml, &message, &problems))
      << problems.ToStatus(yaml).message();
  return message;
}

v1::Playbook Minimal() { return PlaybookFromYaml(MinimalPlaybookYaml()); }

std::vector<v1::ValidationProblem> ProblemsOf(
    const v1::Playbook& playbook, const SourceMap* positions = nullptr,
    absl::string_view file = "") {
  auto compiled = CompiledPlaybook::Compile(playbook, positions, file);
  if (compiled.ok()) return {};
  auto problems = ProblemsFromStatus(compiled.status());
  EXPECT_TRUE(problems.has_value()) << compiled.status();
  if (!problems.has_value()) return {};
  return {problems->problems().begin(), problems->problems().end()};
}

std::string Listing(const std::vector<v1::ValidationProblem>& problems) {
  if (problems.empty()) return "(no problem)";
  std::string out;
  for (const auto& p : problems)
    absl::StrAppend(&out, "\n  ", FormatProblem(p));
  return out;
}

// The Playbook is refused with exactly one problem, at `path`, whose
// message contains `phrase`.
::testing::AssertionResult OnlyProblem(const v1::Playbook& playbook,
                                       absl::string_view path,
                                       absl::string_view phrase) {
  const auto problems = ProblemsOf(playbook);
  if (problems.size() != 1 || problems[0].path() != path ||
      !absl::StrContains(problems[0].message(), phrase)) {
    return ::testing::AssertionFailure()
           << "expected only " << path << ": ..." << phrase << "...; got"
           << Listing(problems);
  }
  return ::testing::AssertionSuccess();
}

// One of the problems is at `path` and its message contains `phrase`.
::testing::AssertionResult HasProblem(const v1::Playbook& playbook,
                                      absl::string_view path,
                                      absl::string_view phrase) {
  const auto problems = ProblemsOf(playbook);
  for (const auto& p : problems) {
    if (p.path() == path && absl::StrContains(p.message(), phrase)) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "expected " << path << ": ..." << phrase << "...; got"
         << Listing(problems);
}

::testing::AssertionResult Valid(const v1::Playbook& playbook) {
  const auto problems = ProblemsOf(playbook);
  if (problems.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "refused:" << Listing(problems);
}

// Rules that are valid on their own; tests break one field at a time.
constexpr char kEngagementRule[] =
    "{id: pricing, event_types: [page_view], points: 5}";
constexpr char kHandRaiser[] =
    "{id: demo, event_types: [demo_request], min_fit: 50, lookback: 30d, "
    "priority: urgent}";
constexpr char kPriorityRule[] =
    "{id: hot, when: {field: score.total, range: {min: 150}}, priority: high}";
constexpr char kDisqualification[] =
    "{id: embargo, when: {field: company.country, in: [KP]}, reason: "
    "geography}";
constexpr char kObjective[] =
    "{id: q1, period_start: {year: 2026, month: 1, day: 1}, period_end: "
    "{year: 2026, month: 3, day: 31}, metric: mqls, target: 300}";
constexpr char kFitRule[] =
    "{id: corporate, when: {field: contact.email, exists: true}, points: 5}";

v1::Playbook WithEngagementRule(absl::string_view yaml = kEngagementRule) {
  v1::Playbook p = Minimal();
  *p.mutable_engagement()->add_rules() = Yaml<v1::EngagementRule>(yaml);
  return p;
}
v1::Playbook WithHandRaiser(absl::string_view yaml = kHandRaiser) {
  v1::Playbook p = Minimal();
  *p.add_hand_raiser_rules() = Yaml<v1::HandRaiserRule>(yaml);
  return p;
}
v1::Playbook WithPriorityRule(absl::string_view yaml = kPriorityRule) {
  v1::Playbook p = Minimal();
  *p.mutable_priority()->add_rules() = Yaml<v1::PriorityRule>(yaml);
  return p;
}
v1::Playbook WithDisqualification(absl::string_view yaml = kDisqualification) {
  v1::Playbook p = Minimal();
  *p.add_disqualification_rules() = Yaml<v1::DisqualificationRule>(yaml);
  return p;
}
v1::Playbook WithObjective(absl::string_view yaml = kObjective) {
  v1::Playbook p = Minimal();
  *p.add_objectives() = Yaml<v1::Objective>(yaml);
  return p;
}
v1::Playbook WithFitRule(absl::string_view yaml = kFitRule) {
  v1::Playbook p = Minimal();
  *p.add_fit_rules() = Yaml<v1::FitRule>(yaml);
  return p;
}
// The first criterion of the first persona tests `condition`; its path is
// personas[0].criteria[0].when.
v1::Playbook WithCriterionWhen(absl::string_view condition) {
  v1::Playbook p = Minimal();
  *p.mutable_personas(0)->mutable_criteria(0)->mutable_when() =
      Yaml<v1::Condition>(condition);
  return p;
}

constexpr char kWhen[] = "personas[0].criteria[0].when";

// ---------------------------------------------------------------------------
// The baselines

TEST(PlaybookValidationTest, MinimalPlaybookAndEachBaselineRuleAreValid) {
  EXPECT_TRUE(Valid(Minimal()));
  EXPECT_TRUE(Valid(WithEngagementRule()));
  EXPECT_TRUE(Valid(WithHandRaiser()));
  EXPECT_TRUE(Valid(WithPriorityRule()));
  EXPECT_TRUE(Valid(WithDisqualification()));
  EXPECT_TRUE(Valid(WithObjective()));
  EXPECT_TRUE(Valid(WithFitRule()));
}

TEST(PlaybookValidationTest, CompiledPlaybookCarriesItsVersionLabel) {
  auto compiled = testing::MustCompile(Minimal());
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(compiled->version_label(), "test@1");
}

TEST(PlaybookValidationTest, DemoPlaybookIsValid) {
  if (!std::filesystem::exists(testing::DemoPlaybookPath())) {
    GTEST_SKIP() << testing::DemoPlaybookPath() << " does not exist yet";
  }
  auto source = LoadPlaybookFile(testing::DemoPlaybookPath());
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(Valid(source->playbook));
  EXPECT_EQ(ValidatePlaybook(source->playbook, &source->positions, source->file)
                .problems_size(),
            0);
}

// ---------------------------------------------------------------------------
// Metadata and personas

TEST(PlaybookValidationTest, MetadataNameAndVersionAreRequired) {
  v1::Playbook p = Minimal();
  p.mutable_metadata()->clear_name();
  EXPECT_TRUE(OnlyProblem(p, "metadata.name", "a name is required"));
  p = Minimal();
  p.mutable_metadata()->clear_version();
  EXPECT_TRUE(OnlyProblem(p, "metadata.version", "a version is required"));
  p = Minimal();
  p.clear_metadata();
  const auto problems = ProblemsOf(p);
  EXPECT_EQ(problems.size(), 2u) << Listing(problems);
}

TEST(PlaybookValidationTest, PersonasAreOptional) {
  // A plain points scorecard needs no placeholder persona.
  v1::Playbook p = Minimal();
  p.clear_personas();
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, AtLeastOneCriterion) {
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->clear_criteria();
  EXPECT_TRUE(OnlyProblem(p, "personas[0].criteria",
                          "at least one criterion is required"));
}

TEST(PlaybookValidationTest, IdsAreRequired) {
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->clear_id();
  EXPECT_TRUE(OnlyProblem(p, "personas[0].id", "an id is required"));
  p = Minimal();
  p.mutable_personas(0)->mutable_criteria(1)->clear_id();
  EXPECT_TRUE(
      OnlyProblem(p, "personas[0].criteria[1].id", "an id is required"));
  p = WithEngagementRule("{event_types: [page_view], points: 5}");
  EXPECT_TRUE(OnlyProblem(p, "engagement.rules[0].id", "an id is required"));
  p = WithPriorityRule(
      "{when: {field: score.total, range: {min: 150}}, priority: high}");
  EXPECT_TRUE(OnlyProblem(p, "priority.rules[0].id", "an id is required"));
}

TEST(PlaybookValidationTest, IdsHaveALengthLimit) {
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->set_id(std::string(128, 'p'));
  EXPECT_TRUE(Valid(p));
  p.mutable_personas(0)->set_id(std::string(129, 'p'));
  EXPECT_TRUE(OnlyProblem(p, "personas[0].id", "at most 128 bytes"));
}

TEST(PlaybookValidationTest, DuplicateIdWithinOneKind) {
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->mutable_criteria(1)->set_id("in-software");
  EXPECT_TRUE(OnlyProblem(p, "personas[0].criteria[1].id",
                          "duplicate id \"in-software\", already used at "
                          "personas[0].criteria[0].id"));
}

TEST(PlaybookValidationTest, DuplicateIdsAcrossKindsShareOneRegistry) {
  // An explanation names a rule by id alone, so a persona, a criterion and
  // every kind of rule share one namespace.
  const struct {
    v1::Playbook playbook;
    const char* path;
  } cases[] = {
      {WithFitRule("{id: software-buyer, when: {field: contact.email, exists: "
                   "true}, points: 5}"),
       "fit_rules[0].id"},
      {WithEngagementRule("{id: senior, event_types: [page_view], points: 5}"),
       "engagement.rules[0].id"},
      {WithDisqualification("{id: in-software, when: {field: company.country, "
                            "in: [KP]}, reason: geography}"),
       "disqualification_rules[0].id"},
      {WithHandRaiser("{id: software-buyer, event_types: [demo_request], "
                      "lookback: 30d}"),
       "hand_raiser_rules[0].id"},
      {WithPriorityRule("{id: senior, when: {field: score.total, range: {min: "
                        "150}}, priority: high}"),
       "priority.rules[0].id"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    EXPECT_TRUE(OnlyProblem(c.playbook, c.path, "duplicate id"));
  }
  // A criterion may not reuse its own persona's id either.
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->mutable_criteria(0)->set_id("software-buyer");
  EXPECT_TRUE(OnlyProblem(p, "personas[0].criteria[0].id",
                          "already used at personas[0].id"));
}

TEST(PlaybookValidationTest, CriterionWeightMustBeWithinZeroAndHundred) {
  for (double weight : {0.0, -5.0, 100.5, 1e9}) {
    SCOPED_TRACE(weight);
    v1::Playbook p = Minimal();
    p.mutable_personas(0)->mutable_criteria(1)->set_weight(weight);
    EXPECT_TRUE(OnlyProblem(p, "personas[0].criteria[1].weight",
                            "weight must be in (0, 100]"));
  }
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->mutable_criteria(1)->set_weight(
      std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(
      OnlyProblem(p, "personas[0].criteria[1].weight", "weight must be"));
  p.mutable_personas(0)->mutable_criteria(1)->set_weight(100);
  EXPECT_TRUE(Valid(p));
  p.mutable_personas(0)->mutable_criteria(1)->set_weight(0.01);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, ConditionRequiredWhereTheRuleHasNoOtherTest) {
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->mutable_criteria(0)->clear_when();
  EXPECT_TRUE(OnlyProblem(p, kWhen, "a condition is required"));
  p = WithFitRule("{id: f, points: 5}");
  EXPECT_TRUE(OnlyProblem(p, "fit_rules[0].when", "a condition is required"));
  p = WithDisqualification("{id: d, reason: geography}");
  EXPECT_TRUE(OnlyProblem(p, "disqualification_rules[0].when",
                          "a condition is required"));
  p = WithPriorityRule("{id: pr, priority: high}");
  EXPECT_TRUE(
      OnlyProblem(p, "priority.rules[0].when", "a condition is required"));
  // Engagement and hand-raiser rules are selected by event type already.
  EXPECT_TRUE(Valid(
      WithEngagementRule("{id: e, event_types: [page_view], points: 1}")));
  EXPECT_TRUE(Valid(
      WithHandRaiser("{id: h, event_types: [demo_request], lookback: 1d}")));
}

// ---------------------------------------------------------------------------
// Fit rules and grades

TEST(PlaybookValidationTest, FitRulePointsNonZeroWithinHundred) {
  for (double points : {0.0, 100.5, -101.0}) {
    SCOPED_TRACE(points);
    v1::Playbook p = WithFitRule();
    p.mutable_fit_rules(0)->set_points(points);
    EXPECT_TRUE(OnlyProblem(p, "fit_rules[0].points",
                            "points must be non-zero and within [-100, 100]"));
  }
  for (double points : {100.0, -100.0, 0.5}) {
    SCOPED_TRACE(points);
    v1::Playbook p = WithFitRule();
    p.mutable_fit_rules(0)->set_points(points);
    EXPECT_TRUE(Valid(p));
  }
}

v1::Playbook WithBands(absl::string_view bands_yaml) {
  v1::Playbook p = Minimal();
  p.clear_grade_bands();
  v1::Playbook bands =
      Yaml<v1::Playbook>(absl::StrCat("grade_bands: ", bands_yaml));
  *p.mutable_grade_bands() = bands.grade_bands();
  return p;
}

TEST(PlaybookValidationTest, GradeBandsInAnyOrderThatTileZeroToHundred) {
  EXPECT_TRUE(Valid(WithBands(
      "[{grade: A, min_fit: 70, max_fit: 100}, {grade: C, min_fit: 0, max_fit: "
      "30}, {grade: B, min_fit: 30, max_fit: 70}]")));
  EXPECT_TRUE(Valid(WithBands("[{grade: only, min_fit: 0, max_fit: 100}]")));
}

TEST(PlaybookValidationTest, GradeBandGap) {
  EXPECT_TRUE(OnlyProblem(
      WithBands("[{grade: B, min_fit: 0, max_fit: 40}, {grade: A, min_fit: 45, "
                "max_fit: 100}]"),
      "grade_bands[1].min_fit",
      "gap: no grade covers fit scores from 40 to 45"));
  EXPECT_TRUE(OnlyProblem(WithBands("[{grade: A, min_fit: 10, max_fit: 100}]"),
                          "grade_bands[0].min_fit",
                          "gap: no grade covers fit scores from 0 to 10"));
}

TEST(PlaybookValidationTest, GradeBandOverlap) {
  EXPECT_TRUE(OnlyProblem(
      WithBands("[{grade: B, min_fit: 0, max_fit: 50}, {grade: A, min_fit: 40, "
                "max_fit: 100}]"),
      "grade_bands[1].min_fit", "overlap: fit scores from 40 to 50"));
}

TEST(PlaybookValidationTest, GradeBandsMustReachHundred) {
  EXPECT_TRUE(OnlyProblem(
      WithBands("[{grade: B, min_fit: 0, max_fit: 50}, {grade: A, min_fit: 50, "
                "max_fit: 90}]"),
      "grade_bands", "gap: no grade covers fit scores from 90 to 100"));
}

TEST(PlaybookValidationTest, GradeBandBounds) {
  for (const char* band : {"{grade: A, min_fit: 60, max_fit: 40}",
                           "{grade: A, min_fit: 40, max_fit: 40}",
                           "{grade: A, min_fit: -1, max_fit: 40}",
                           "{grade: A, min_fit: 40, max_fit: 101}"}) {
    SCOPED_TRACE(band);
    // A broken band makes coverage meaningless, so only the band is reported.
    EXPECT_TRUE(OnlyProblem(
        WithBands(absl::StrCat("[{grade: D, min_fit: 0, max_fit: 40}, ", band,
                               ", {grade: B, min_fit: 40, max_fit: 100}]")),
        "grade_bands[1]", "a band needs 0 <= min_fit < max_fit <= 100"));
  }
}

TEST(PlaybookValidationTest, GradeLabelsRequiredAndUnique) {
  EXPECT_TRUE(OnlyProblem(
      WithBands("[{grade: A, min_fit: 0, max_fit: 50}, {grade: A, min_fit: 50, "
                "max_fit: 100}]"),
      "grade_bands[1].grade", "duplicate grade \"A\""));
  EXPECT_TRUE(OnlyProblem(
      WithBands("[{grade: B, min_fit: 0, max_fit: 50}, {min_fit: 50, max_fit: "
                "100}]"),
      "grade_bands[1].grade", "a grade label is required"));
}

TEST(PlaybookValidationTest, AtLeastOneGradeBand) {
  v1::Playbook p = Minimal();
  p.clear_grade_bands();
  EXPECT_TRUE(
      OnlyProblem(p, "grade_bands", "at least one grade band is required"));
}

// ---------------------------------------------------------------------------
// Engagement

TEST(PlaybookValidationTest, HalfLifeIsRequiredByRulesWithoutTheirOwn) {
  v1::Playbook p = Minimal();
  p.mutable_engagement()->clear_half_life();
  EXPECT_TRUE(Valid(p));  // no engagement rule: nothing decays
  v1::Playbook own = WithEngagementRule();
  own.mutable_engagement()->clear_half_life();
  EXPECT_TRUE(OnlyProblem(own, "engagement.half_life",
                          "a half-life greater than zero is required"));
  own.mutable_engagement()->mutable_rules(0)->mutable_half_life()->set_seconds(
      3600);
  EXPECT_TRUE(Valid(own));
}

TEST(PlaybookValidationTest, HalfLifeIsPositive) {
  v1::Playbook p = Minimal();
  p.mutable_engagement()->mutable_half_life()->set_seconds(0);
  EXPECT_TRUE(OnlyProblem(p, "engagement.half_life", "greater than zero"));
  p.mutable_engagement()->mutable_half_life()->set_seconds(-3600);
  EXPECT_TRUE(OnlyProblem(p, "engagement.half_life", "greater than zero"));
  // A malformed Duration (nanos out of range) is no half-life either.
  p.mutable_engagement()->mutable_half_life()->set_seconds(1);
  p.mutable_engagement()->mutable_half_life()->set_nanos(-5);
  EXPECT_TRUE(OnlyProblem(p, "engagement.half_life", "greater than zero"));
  p.mutable_engagement()->mutable_half_life()->set_seconds(0);
  p.mutable_engagement()->mutable_half_life()->set_nanos(1);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, RuleHalfLifeMustBePositiveWhenSet) {
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, "
                         "half_life: 0s}"),
      "engagement.rules[0].half_life", "must be greater than zero"));
  EXPECT_TRUE(Valid(WithEngagementRule(
      "{id: e, event_types: [page_view], points: 5, half_life: 1d}")));
}

TEST(PlaybookValidationTest, EngagementMaxScoreMustBePositive) {
  v1::Playbook p = Minimal();
  p.mutable_engagement()->set_max_score(-10);
  EXPECT_TRUE(
      HasProblem(p, "engagement.max_score", "must be a finite number > 0"));
}

TEST(PlaybookValidationTest, EngagementRulePoints) {
  for (double points : {0.0, 1000.5, -1001.0}) {
    SCOPED_TRACE(points);
    v1::Playbook p = WithEngagementRule();
    p.mutable_engagement()->mutable_rules(0)->set_points(points);
    EXPECT_TRUE(
        OnlyProblem(p, "engagement.rules[0].points", "within [-1000, 1000]"));
  }
  v1::Playbook p = WithEngagementRule();
  p.mutable_engagement()->mutable_rules(0)->set_points(-1000);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, NegativeMaxPoints) {
  v1::Playbook p = WithEngagementRule();
  p.mutable_engagement()->mutable_rules(0)->set_max_points(-1);
  EXPECT_TRUE(OnlyProblem(p, "engagement.rules[0].max_points", "must be >= 0"));
  p.mutable_engagement()->mutable_rules(0)->set_max_points(0);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, WindowCap) {
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, "
                         "window_cap: {window: 0s, max_events: 3}}"),
      "engagement.rules[0].window_cap.window",
      "must be a whole number of seconds, at least 1s"));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, "
                         "window_cap: {max_events: 3}}"),
      "engagement.rules[0].window_cap.window", "at least 1s"));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, "
                         "window_cap: {window: 1.5s, max_events: 3}}"),
      "engagement.rules[0].window_cap.window", "whole number of seconds"));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, "
                         "window_cap: {window: 1d, max_events: 0}}"),
      "engagement.rules[0].window_cap.max_events", "must be at least 1"));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, "
                         "window_cap: {window: 1d, max_events: -2}}"),
      "engagement.rules[0].window_cap.max_events", "must be at least 1"));
  EXPECT_TRUE(Valid(WithEngagementRule(
      "{id: e, event_types: [page_view], points: 5, window_cap: {window: 1d, "
      "max_events: 1}}")));
}

TEST(PlaybookValidationTest, EngagementRuleEventTypes) {
  EXPECT_TRUE(OnlyProblem(WithEngagementRule("{id: e, points: 5}"),
                          "engagement.rules[0].event_types",
                          "at least one event type is required"));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view, unspecified], "
                         "points: 5}"),
      "engagement.rules[0].event_types[1]", "unknown event type"));
  v1::Playbook p = WithEngagementRule();
  p.mutable_engagement()->mutable_rules(0)->add_event_types(
      static_cast<v1::EventType>(99));
  EXPECT_TRUE(OnlyProblem(p, "engagement.rules[0].event_types[1]",
                          "unknown event type"));
}

// ---------------------------------------------------------------------------
// Disqualification and hand-raisers

TEST(PlaybookValidationTest, DisqualificationNeedsAReason) {
  EXPECT_TRUE(OnlyProblem(
      WithDisqualification("{id: d, when: {field: company.country, in: [KP]}}"),
      "disqualification_rules[0].reason", "a known reason is required"));
  v1::Playbook p = WithDisqualification();
  p.mutable_disqualification_rules(0)->set_reason(
      static_cast<v1::DisqualificationReason>(42));
  EXPECT_TRUE(OnlyProblem(p, "disqualification_rules[0].reason",
                          "a known reason is required"));
}

TEST(PlaybookValidationTest, HandRaiserLookback) {
  // Optional: without one, any past event raises a hand.
  EXPECT_TRUE(Valid(
      WithHandRaiser("{id: h, event_types: [demo_request], min_fit: 50}")));
  EXPECT_TRUE(OnlyProblem(
      WithHandRaiser("{id: h, event_types: [demo_request], lookback: 0s}"),
      "hand_raiser_rules[0].lookback", "greater than zero"));
  EXPECT_TRUE(OnlyProblem(
      WithHandRaiser("{id: h, event_types: [demo_request], lookback: -1d}"),
      "hand_raiser_rules[0].lookback", "greater than zero"));
}

TEST(PlaybookValidationTest, HandRaiserMinFit) {
  for (double min_fit : {100.5, -1.0}) {
    SCOPED_TRACE(min_fit);
    v1::Playbook p = WithHandRaiser();
    p.mutable_hand_raiser_rules(0)->set_min_fit(min_fit);
    EXPECT_TRUE(OnlyProblem(p, "hand_raiser_rules[0].min_fit",
                            "must be within [0, 100]"));
  }
  v1::Playbook p = WithHandRaiser();
  p.mutable_hand_raiser_rules(0)->set_min_fit(100);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, HandRaiserEventTypesAndPriority) {
  EXPECT_TRUE(OnlyProblem(WithHandRaiser("{id: h, lookback: 1d}"),
                          "hand_raiser_rules[0].event_types",
                          "at least one event type is required"));
  EXPECT_TRUE(OnlyProblem(
      WithHandRaiser("{id: h, event_types: [unspecified], lookback: 1d}"),
      "hand_raiser_rules[0].event_types[0]", "unknown event type"));
  v1::Playbook p = WithHandRaiser();
  p.mutable_hand_raiser_rules(0)->set_priority(static_cast<v1::Priority>(17));
  EXPECT_TRUE(
      OnlyProblem(p, "hand_raiser_rules[0].priority", "unknown priority"));
}

// ---------------------------------------------------------------------------
// Thresholds and priority

TEST(PlaybookValidationTest, MqlThresholdIsRequired) {
  v1::Playbook p = Minimal();
  p.clear_thresholds();
  EXPECT_TRUE(
      OnlyProblem(p, "thresholds.mql", "the MQL threshold is required"));
  p = Minimal();
  p.mutable_thresholds()->clear_mql();
  EXPECT_TRUE(
      OnlyProblem(p, "thresholds.mql", "the MQL threshold is required"));
}

TEST(PlaybookValidationTest, SqlBelowMqlIsOutOfOrder) {
  v1::Playbook p = Minimal();
  p.mutable_thresholds()->mutable_sql()->set_min_total(90);
  EXPECT_TRUE(
      OnlyProblem(p, "thresholds.sql.min_total",
                  "thresholds out of order: SQL (90) is below MQL (100)"));
  p = Minimal();
  p.mutable_thresholds()->mutable_sql()->set_min_fit(40);
  EXPECT_TRUE(
      OnlyProblem(p, "thresholds.sql.min_fit", "thresholds out of order"));
  // Equal thresholds are allowed: SQL is "at least" MQL.
  p = Minimal();
  p.mutable_thresholds()->mutable_sql()->set_min_total(100);
  p.mutable_thresholds()->mutable_sql()->set_min_fit(50);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, UnreachableMinTotal) {
  // Fit tops at 100 and engagement at max_score (100): 200 at most.
  v1::Playbook p = Minimal();
  p.mutable_thresholds()->mutable_sql()->set_min_total(200.5);
  EXPECT_TRUE(OnlyProblem(p, "thresholds.sql.min_total",
                          "no lead can reach it: the highest total is 200"));
  p.mutable_thresholds()->mutable_sql()->set_min_total(200);
  EXPECT_TRUE(Valid(p));
  // The ceiling follows engagement.max_score.
  p.mutable_engagement()->set_max_score(50);
  p.mutable_thresholds()->mutable_sql()->set_min_total(151);
  EXPECT_TRUE(
      OnlyProblem(p, "thresholds.sql.min_total", "the highest total is 150"));
}

TEST(PlaybookValidationTest, ThresholdBounds) {
  v1::Playbook p = Minimal();
  p.mutable_thresholds()->mutable_mql()->set_min_total(-1);
  EXPECT_TRUE(OnlyProblem(p, "thresholds.mql.min_total",
                          "must be a finite number >= 0"));
  p = Minimal();
  p.mutable_thresholds()->mutable_sql()->set_min_fit(101);
  EXPECT_TRUE(
      OnlyProblem(p, "thresholds.sql.min_fit", "must be within [0, 100]"));
  p = Minimal();
  p.mutable_thresholds()->mutable_mql()->set_min_engagement(101);
  EXPECT_TRUE(HasProblem(p, "thresholds.mql.min_engagement",
                         "must be within [0, 100] (engagement.max_score)"));
}

TEST(PlaybookValidationTest, PriorityRuleNeedsAPriority) {
  EXPECT_TRUE(OnlyProblem(
      WithPriorityRule(
          "{id: pr, when: {field: score.total, range: {min: 150}}}"),
      "priority.rules[0].priority", "a known priority is required"));
  v1::Playbook p = WithPriorityRule();
  p.mutable_priority()->mutable_rules(0)->set_priority(
      static_cast<v1::Priority>(9));
  EXPECT_TRUE(OnlyProblem(p, "priority.rules[0].priority",
                          "a known priority is required"));
}

TEST(PlaybookValidationTest, DefaultPriorityMustBeKnown) {
  v1::Playbook p = Minimal();
  p.mutable_priority()->set_default_priority(static_cast<v1::Priority>(9));
  EXPECT_TRUE(OnlyProblem(p, "priority.default_priority", "unknown priority"));
}

// ---------------------------------------------------------------------------
// Objectives

TEST(PlaybookValidationTest, ObjectiveIds) {
  v1::Playbook p = WithObjective();
  *p.add_objectives() = p.objectives(0);
  EXPECT_TRUE(OnlyProblem(p, "objectives[1].id", "duplicate id \"q1\""));
  p = WithObjective();
  p.mutable_objectives(0)->clear_id();
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].id", "an id is required"));
}

TEST(PlaybookValidationTest, ObjectiveUnknownTeam) {
  v1::Playbook p = WithObjective();
  p.mutable_objectives(0)->set_team_id("ghost");
  EXPECT_TRUE(
      OnlyProblem(p, "objectives[0].team_id", "unknown team \"ghost\""));
}

TEST(PlaybookValidationTest, ObjectiveKnownTeamIsAccepted) {
  v1::Playbook p = WithObjective();
  p.mutable_objectives(0)->set_team_id("emea");
  p.mutable_routing()->add_teams()->set_id("emea");
  // Whatever routing requires of a team is checked elsewhere; the objective
  // itself must not be blamed.
  for (const auto& problem : ProblemsOf(p)) {
    EXPECT_FALSE(absl::StartsWith(problem.path(), "objectives"))
        << FormatProblem(problem);
  }
}

TEST(PlaybookValidationTest, ObjectiveInvalidDates) {
  v1::Playbook p = WithObjective();
  p.mutable_objectives(0)->mutable_period_end()->set_month(2);
  p.mutable_objectives(0)->mutable_period_end()->set_day(30);
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].period_end",
                          "not a valid date: 2026-2-30"));
  p = WithObjective();
  p.mutable_objectives(0)->mutable_period_start()->set_month(13);
  EXPECT_TRUE(HasProblem(p, "objectives[0].period_start", "not a valid date"));
  p = WithObjective();
  p.mutable_objectives(0)->clear_period_start();
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].period_start", "not a valid date"));
  // Leap days are real dates.
  p = WithObjective();
  p.mutable_objectives(0)->mutable_period_start()->set_year(2028);
  p.mutable_objectives(0)->mutable_period_start()->set_month(2);
  p.mutable_objectives(0)->mutable_period_start()->set_day(29);
  p.mutable_objectives(0)->mutable_period_end()->set_year(2028);
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, ObjectiveEndsBeforeItStarts) {
  v1::Playbook p = WithObjective();
  p.mutable_objectives(0)->mutable_period_end()->set_year(2025);
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].period_end",
                          "the period ends before it starts"));
  // A one-day period is fine: both ends are inclusive.
  p = WithObjective();
  *p.mutable_objectives(0)->mutable_period_end() =
      p.objectives(0).period_start();
  EXPECT_TRUE(Valid(p));
}

TEST(PlaybookValidationTest, ObjectiveMetricAndTarget) {
  v1::Playbook p = WithObjective();
  p.mutable_objectives(0)->clear_metric();
  EXPECT_TRUE(
      OnlyProblem(p, "objectives[0].metric", "a known metric is required"));

  p = WithObjective();
  p.mutable_objectives(0)->set_metric(v1::OBJECTIVE_METRIC_MEETING_RATE);
  p.mutable_objectives(0)->set_target(1.2);
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].target",
                          "a rate target must be within [0, 1]"));
  p.mutable_objectives(0)->set_metric(v1::OBJECTIVE_METRIC_SIGNING_RATE);
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].target", "rate target"));
  p.mutable_objectives(0)->set_target(1);
  EXPECT_TRUE(Valid(p));

  p = WithObjective();
  p.mutable_objectives(0)->set_metric(v1::OBJECTIVE_METRIC_REVENUE);
  p.mutable_objectives(0)->set_target(-5);
  EXPECT_TRUE(OnlyProblem(p, "objectives[0].target",
                          "the target must be a finite number >= 0"));
  // Counts and amounts are not rates.
  p.mutable_objectives(0)->set_target(2e6);
  EXPECT_TRUE(Valid(p));
}

// ---------------------------------------------------------------------------
// Conditions

TEST(PlaybookValidationTest, ConditionUnknownFieldListsKnownFields) {
  const auto problems =
      ProblemsOf(WithCriterionWhen("{field: company.size, range: {min: 50}}"));
  ASSERT_EQ(problems.size(), 1u) << Listing(problems);
  EXPECT_EQ(problems[0].path(), "personas[0].criteria[0].when.field");
  EXPECT_THAT(problems[0].message(),
              HasSubstr("unknown field \"company.size\""));
  EXPECT_THAT(problems[0].message(), HasSubstr("company.employee_count"));
  EXPECT_THAT(problems[0].message(), HasSubstr("attributes.<key>"));
  // Only what this rule may read is suggested.
  EXPECT_THAT(problems[0].message(), ::testing::Not(HasSubstr("event.type")));
  EXPECT_THAT(problems[0].message(), ::testing::Not(HasSubstr("score.fit")));
}

TEST(PlaybookValidationTest, ConditionFieldIsRequired) {
  EXPECT_TRUE(OnlyProblem(WithCriterionWhen("{equals: software}"),
                          "personas[0].criteria[0].when.field",
                          "a field path is required"));
}

TEST(PlaybookValidationTest, ConditionEmptyAttributeKey) {
  EXPECT_TRUE(
      OnlyProblem(WithCriterionWhen("{field: attributes..plan, exists: true}"),
                  "personas[0].criteria[0].when.field", "has an empty key"));
  EXPECT_TRUE(
      OnlyProblem(WithCriterionWhen("{field: \"attributes.\", exists: true}"),
                  "personas[0].criteria[0].when.field", "has an empty key"));
}

TEST(PlaybookValidationTest, EventFieldsOnlyInEngagementAndHandRaiserRules) {
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: event.type, equals: demo_request}"),
      "personas[0].criteria[0].when.field",
      "reads an event, which only engagement and hand-raiser rules have"));
  EXPECT_TRUE(OnlyProblem(
      WithPriorityRule("{id: pr, when: {field: event.properties.url, exists: "
                       "true}, priority: high}"),
      "priority.rules[0].when.field", "reads an event"));
  EXPECT_TRUE(Valid(WithEngagementRule(
      "{id: e, event_types: [page_view], points: 5, when: {field: "
      "event.properties.url, contains: pricing}}")));
  EXPECT_TRUE(Valid(WithHandRaiser(
      "{id: h, event_types: [custom], lookback: 1d, when: {field: "
      "event.custom_type, equals: contact_form}}")));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, when: "
                         "{field: event.url, exists: true}}"),
      "engagement.rules[0].when.field", "unknown field \"event.url\""));
}

TEST(PlaybookValidationTest, ScoreFieldsOnlyInPriorityRules) {
  EXPECT_TRUE(
      OnlyProblem(WithCriterionWhen("{field: score.fit, range: {min: 50}}"),
                  "personas[0].criteria[0].when.field",
                  "reads the score, which only priority rules have"));
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, when: "
                         "{field: score.total, range: {min: 5}}}"),
      "engagement.rules[0].when.field", "reads the score"));
  EXPECT_TRUE(Valid(WithPriorityRule(
      "{id: pr, when: {all: [{field: score.grade, in: [A]}, {field: "
      "score.hand_raiser, equals: true}]}, priority: urgent}")));
}

TEST(PlaybookValidationTest, ConditionOperators) {
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen(
          "{field: company.industry, equals: software, contains: soft}"),
      kWhen, "a condition has exactly one operator; found equals, contains"));
  EXPECT_TRUE(OnlyProblem(WithCriterionWhen("{field: company.industry}"), kWhen,
                          "a condition needs exactly one operator"));
  // An empty `all` would hold for every lead: it is no operator at all.
  EXPECT_TRUE(OnlyProblem(WithCriterionWhen("{all: []}"), kWhen,
                          "needs exactly one operator"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen(
          "{field: company.industry, all: [{field: company.industry, "
          "equals: software}]}"),
      "personas[0].criteria[0].when.field", "takes no field"));
}

TEST(PlaybookValidationTest, ConditionEmptyIn) {
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.industry, in: []}"),
      "personas[0].criteria[0].when.in", "needs at least one value"));
}

TEST(PlaybookValidationTest, ConditionRange) {
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.employee_count, range: {}}"),
      "personas[0].criteria[0].when.range", "needs min, max or both"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen(
          "{field: company.employee_count, range: {min: 10, max: 10}}"),
      "personas[0].criteria[0].when.range.max",
      "max (10) must be above min (10)"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen(
          "{field: company.employee_count, range: {min: 50, max: 10}}"),
      "personas[0].criteria[0].when.range.max", "must be above min"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.industry, range: {min: 1}}"),
      "personas[0].criteria[0].when.range",
      "\"range\" cannot test \"company.industry\", which holds text"));
  v1::Playbook p =
      WithCriterionWhen("{field: company.employee_count, range: {min: 1}}");
  p.mutable_personas(0)
      ->mutable_criteria(0)
      ->mutable_when()
      ->mutable_range()
      ->set_min(-std::numeric_limits<double>::infinity());
  EXPECT_TRUE(OnlyProblem(p, "personas[0].criteria[0].when.range",
                          "bounds must be finite"));
  // Seniority is ordered, so a range of levels is meaningful.
  EXPECT_TRUE(Valid(WithCriterionWhen("{field: seniority, range: {min: 3}}")));
}

TEST(PlaybookValidationTest, ConditionRegexMustCompile) {
  const auto problems = ProblemsOf(
      WithCriterionWhen("{field: job_title, regex: \"(vp|head of\"}"));
  ASSERT_EQ(problems.size(), 1u) << Listing(problems);
  EXPECT_EQ(problems[0].path(), "personas[0].criteria[0].when.regex");
  EXPECT_THAT(problems[0].message(), HasSubstr("does not compile: missing )"));
  // RE2 refuses backreferences, which could make matching exponential.
  EXPECT_TRUE(
      OnlyProblem(WithCriterionWhen("{field: job_title, regex: \"(a)\\\\1\"}"),
                  "personas[0].criteria[0].when.regex", "does not compile"));
}

TEST(PlaybookValidationTest, TextOperatorsOnlyOnText) {
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.employee_count, contains: \"5\"}"),
      "personas[0].criteria[0].when.contains",
      "\"contains\" cannot test \"company.employee_count\", which holds a "
      "number"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: consent.opted_out, prefix: t}"),
      "personas[0].criteria[0].when.prefix", "which holds true or false"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.annual_revenue, regex: \"^1\"}"),
      "personas[0].criteria[0].when.regex", "holds a number"));
  EXPECT_TRUE(OnlyProblem(WithCriterionWhen("{field: job_title, suffix: \"\"}"),
                          "personas[0].criteria[0].when.suffix",
                          "must not be empty"));
  // Attributes are typed per lead, so any operator is accepted on them.
  EXPECT_TRUE(
      Valid(WithCriterionWhen("{field: attributes.plan, contains: pro}")));
  EXPECT_TRUE(
      Valid(WithCriterionWhen("{field: attributes.seats, range: {min: 5}}")));
}

TEST(PlaybookValidationTest, LiteralTypeMustMatchTheField) {
  EXPECT_TRUE(
      OnlyProblem(WithCriterionWhen("{field: company.industry, equals: 5}"),
                  "personas[0].criteria[0].when.equals",
                  "the field holds text; this value can never equal it"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.employee_count, equals: \"50\"}"),
      "personas[0].criteria[0].when.equals", "the field holds a number"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: consent.opted_out, equals: 1}"),
      "personas[0].criteria[0].when.equals", "holds true or false"));
  EXPECT_TRUE(OnlyProblem(
      WithCriterionWhen("{field: company.country, in: [FR, 33, DE]}"),
      "personas[0].criteria[0].when.in[1]", "can never equal it"));
  EXPECT_TRUE(
      OnlyProblem(WithCriterionWhen("{field: company.country, in: [FR, [DE]]}"),
                  "personas[0].criteria[0].when.in[1]",
                  "expected text, a number or true/false"));
}

TEST(PlaybookValidationTest, UnknownSeniorityValue) {
  const auto problems =
      ProblemsOf(WithCriterionWhen("{field: seniority, in: [vp, emperor]}"));
  ASSERT_EQ(problems.size(), 1u) << Listing(problems);
  EXPECT_EQ(problems[0].path(), "personas[0].criteria[0].when.in[1]");
  EXPECT_THAT(problems[0].message(),
              HasSubstr("\"emperor\" is not a Seniority; expected one of: "
                        "individual_contributor, manager, director, vp, "
                        "c_level, owner"));
  EXPECT_TRUE(OnlyProblem(WithCriterionWhen("{field: seniority, equals: 3}"),
                          "personas[0].criteria[0].when.equals",
                          "can never equal it"));
  EXPECT_TRUE(
      Valid(WithCriterionWhen("{field: seniority, equals: SENIORITY_VP}")));
}

TEST(PlaybookValidationTest, UnknownEventTypeValue) {
  EXPECT_TRUE(OnlyProblem(
      WithEngagementRule("{id: e, event_types: [page_view], points: 5, when: "
                         "{field: event.type, equals: page_visit}}"),
      "engagement.rules[0].when.equals", "\"page_visit\" is not a EventType"));
}

TEST(PlaybookValidationTest, ProblemsInsideCombinatorsHaveIndexedPaths) {
  const auto problems = ProblemsOf(WithCriterionWhen(
      "{any: [{field: company.industry, equals: software}, {not: {all: "
      "[{field: "
      "job_title, exists: true}, {field: nope, exists: true}]}}]}"));
  ASSERT_EQ(problems.size(), 1u) << Listing(problems);
  EXPECT_EQ(problems[0].path(),
            "personas[0].criteria[0].when.any[1].not.all[1].field");
}

v1::Condition NestedNots(int depth) {
  v1::Condition root;
  v1::Condition* c = &root;
  for (int i = 0; i < depth; ++i) c = c->mutable_not_();
  c->set_field("company.industry");
  c->set_exists(true);
  return root;
}

TEST(PlaybookValidationTest, ConditionsNestedUpToThirtyTwoLevels) {
  v1::Playbook p = Minimal();
  *p.mutable_personas(0)->mutable_criteria(0)->mutable_when() = NestedNots(32);
  EXPECT_TRUE(Valid(p));
  *p.mutable_personas(0)->mutable_criteria(0)->mutable_when() = NestedNots(33);
  std::string path = kWhen;
  for (int i = 0; i < 33; ++i) path += ".not";
  EXPECT_TRUE(
      OnlyProblem(p, path, "conditions are nested more than 32 levels deep"));
}

TEST(PlaybookValidationTest, VeryDeepConditionBuiltInCodeIsRefusedOnce) {
  // Protobuf callers (gRPC, Python) bypass the YAML depth limit.
  v1::Playbook p = Minimal();
  *p.mutable_personas(0)->mutable_criteria(0)->mutable_when() =
      NestedNots(2000);
  const auto problems = ProblemsOf(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].message(), HasSubstr("nested more than 32 levels"));
}

// ---------------------------------------------------------------------------
// Every problem at once, with positions

// Line numbers matter below: the document starts on line 1.
constexpr char kBrokenPlaybook[] = R"(metadata: {name: acme}
personas:
  - id: buyer
    criteria:
      - id: in-software
        when: {field: company.industry, equals: software}
        weight: 0
      - id: buyer
        when: {field: company.size, range: {min: 50}}
        weight: 50
grade_bands:
  - {grade: A, min_fit: 0, max_fit: 90}
engagement:
  half_life: 7d
thresholds:
  mql: {min_total: 100, min_fit: 50}
  sql: {min_total: 80, min_fit: 60}
objectives:
  - id: q1
    period_start: {year: 2026, month: 2, day: 30}
    period_end: {year: 2026, month: 3, day: 31}
    metric: mqls
    target: 300
)";

TEST(PlaybookValidationTest, ListsEveryProblemAtOnceWithPositions) {
  auto source =
      ParsePlaybook(kBrokenPlaybook, PlaybookFormat::kYaml, "acme.yaml");
  ASSERT_TRUE(source.ok()) << source.status();
  auto compiled = CompiledPlaybook::Compile(source->playbook,
                                            &source->positions, source->file);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(compiled.status().message()),
              HasSubstr("the Playbook acme.yaml is not valid: 7 problems"));
  auto problems = ProblemsFromStatus(compiled.status());
  ASSERT_TRUE(problems.has_value());

  struct Expected {
    const char* path;
    int line;
    int column;
    const char* phrase;
  };
  const Expected expected[] = {
      // No version: the closest recorded position is the metadata mapping.
      {"metadata.version", 1, 11, "a version is required"},
      {"personas[0].criteria[0].weight", 7, 17, "weight must be in (0, 100]"},
      {"personas[0].criteria[1].id", 8, 13, "duplicate id \"buyer\""},
      {"personas[0].criteria[1].when.field", 9, 23,
       "unknown field \"company.size\""},
      {"grade_bands", 12, 3, "from 90 to 100"},
      {"thresholds.sql.min_total", 17, 20, "thresholds out of order"},
      {"objectives[0].period_start", 20, 19, "not a valid date: 2026-2-30"},
  };
  ASSERT_EQ(problems->problems_size(), std::size(expected))
      << ProblemLines(compiled.status());
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.path);
    const v1::ValidationProblem* found = nullptr;
    for (const auto& p : problems->problems()) {
      if (p.path() == e.path) found = &p;
    }
    ASSERT_NE(found, nullptr) << ProblemLines(compiled.status());
    EXPECT_THAT(found->message(), HasSubstr(e.phrase));
    EXPECT_EQ(found->line(), e.line);
    EXPECT_EQ(found->column(), e.column);
    EXPECT_EQ(found->file(), "acme.yaml");
  }
}

TEST(PlaybookValidationTest, ProblemsAreListedInDocumentOrder) {
  // validation.proto promises document order; people fix a file top-down.
  auto source =
      ParsePlaybook(kBrokenPlaybook, PlaybookFormat::kYaml, "acme.yaml");
  ASSERT_TRUE(source.ok()) << source.status();
  const v1::ValidationProblems problems =
      ValidatePlaybook(source->playbook, &source->positions, source->file);
  ASSERT_GT(problems.problems_size(), 1);
  for (int i = 1; i < problems.problems_size(); ++i) {
    const auto& a = problems.problems(i - 1);
    const auto& b = problems.problems(i);
    EXPECT_TRUE(a.line() < b.line() ||
                (a.line() == b.line() && a.column() <= b.column()))
        << FormatProblem(a) << "\n  listed before\n"
        << FormatProblem(b);
  }
}

TEST(PlaybookValidationTest, BadWeightReportsItsLineAndFormatsLikeACompiler) {
  const std::string yaml = R"(metadata:
  name: acme
  version: "2026.1"
personas:
  - id: buyer
    criteria:
      - id: in-software
        when: {field: company.industry, equals: software}
        weight: 60
      - id: senior
        when: {field: seniority, in: [director, vp]}
        weight: 140
grade_bands:
  - {grade: A, min_fit: 0, max_fit: 100}
engagement: {half_life: 7d}
thresholds:
  mql: {min_total: 100}
)";
  auto source = ParsePlaybook(yaml, PlaybookFormat::kYaml, "pb.yaml");
  ASSERT_TRUE(source.ok()) << source.status();
  auto compiled = CompiledPlaybook::Compile(source->playbook,
                                            &source->positions, source->file);
  ASSERT_FALSE(compiled.ok());
  auto problems = ProblemsFromStatus(compiled.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 1) << ProblemLines(compiled.status());
  const auto& p = problems->problems(0);
  EXPECT_EQ(p.line(), 12);
  EXPECT_EQ(p.column(), 17);
  EXPECT_EQ(FormatProblem(p),
            "pb.yaml:12:17: personas[0].criteria[1].weight: weight must be in "
            "(0, 100]; found 140");
  // The status message is readable on its own, for logs.
  EXPECT_THAT(std::string(compiled.status().message()),
              HasSubstr("pb.yaml:12:17: personas[0].criteria[1].weight"));
}

TEST(PlaybookValidationTest, WithoutPositionsProblemsHaveNoLine) {
  v1::Playbook p = Minimal();
  p.mutable_personas(0)->mutable_criteria(1)->set_weight(0);
  const auto problems = ProblemsOf(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line(), 0);
  EXPECT_EQ(problems[0].column(), 0);
  EXPECT_EQ(
      FormatProblem(problems[0]),
      "personas[0].criteria[1].weight: weight must be in (0, 100]; found 0");
}

TEST(PlaybookValidationTest, ValidatePlaybookReturnsTheSameList) {
  auto source =
      ParsePlaybook(kBrokenPlaybook, PlaybookFormat::kYaml, "acme.yaml");
  ASSERT_TRUE(source.ok());
  auto compiled = CompiledPlaybook::Compile(source->playbook,
                                            &source->positions, source->file);
  ASSERT_FALSE(compiled.ok());
  auto from_status = ProblemsFromStatus(compiled.status());
  ASSERT_TRUE(from_status.has_value());
  const v1::ValidationProblems validated =
      ValidatePlaybook(source->playbook, &source->positions, source->file);
  EXPECT_TRUE(MessageDifferencer::Equals(*from_status, validated))
      << validated.DebugString();
  EXPECT_EQ(ValidatePlaybook(Minimal()).problems_size(), 0);
}

TEST(PlaybookValidationTest, StatusMessageListsAtMostTwentyProblems) {
  // The payload keeps all of them for tools; the message stays readable.
  v1::Playbook p = Minimal();
  for (int i = 0; i < 25; ++i) {
    v1::FitRule* rule = p.add_fit_rules();
    rule->set_id(absl::StrCat("f", i));
    rule->set_points(0);
    rule->mutable_when()->set_field("job_title");
    rule->mutable_when()->set_exists(true);
  }
  auto compiled = CompiledPlaybook::Compile(p);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(std::string(compiled.status().message()),
              HasSubstr("25 problems"));
  EXPECT_THAT(std::string(compiled.status().message()),
              HasSubstr("... and 5 more"));
  EXPECT_EQ(ProblemsFromStatus(compiled.status())->problems_size(), 25);
}

// ---------------------------------------------------------------------------
// Other formats

TEST(PlaybookLoaderTest, TextFormatLoadsAndCompiles) {
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(Minimal(), &text));
  auto source = ParsePlaybook(text, PlaybookFormat::kText, "pb.textproto");
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(MessageDifferencer::Equals(source->playbook, Minimal()));
  EXPECT_TRUE(Valid(source->playbook));
}

TEST(PlaybookLoaderTest, TextFormatSyntaxErrorReportsItsLine) {
  const std::string text =
      "metadata { name: \"acme\" version: \"1\" }\n"
      "personas {\n"
      "  id: \"buyer\"\n"
      "  critera { id: \"c\" }\n"
      "}\n";
  auto source = ParsePlaybook(text, PlaybookFormat::kText, "pb.textproto");
  ASSERT_FALSE(source.ok());
  auto problems = ProblemsFromStatus(source.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_GE(problems->problems_size(), 1);
  EXPECT_EQ(problems->problems(0).line(), 4);
  EXPECT_GT(problems->problems(0).column(), 0);
  EXPECT_THAT(problems->problems(0).message(), HasSubstr("critera"));
  EXPECT_EQ(problems->problems(0).file(), "pb.textproto");
}

TEST(PlaybookLoaderTest, TextFormatUnterminatedReportsALine) {
  auto source =
      ParsePlaybook("metadata {\n  name: \"acme\n", PlaybookFormat::kText);
  ASSERT_FALSE(source.ok());
  auto problems = ProblemsFromStatus(source.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_GE(problems->problems_size(), 1);
  EXPECT_GT(problems->problems(0).line(), 0);
}

TEST(PlaybookLoaderTest, JsonLoadsAndCompiles) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(Minimal(), &json, options)
          .ok());
  auto source = ParsePlaybook(json, PlaybookFormat::kJson, "pb.json");
  ASSERT_TRUE(source.ok()) << source.status() << "\n" << json;
  EXPECT_TRUE(MessageDifferencer::Equals(source->playbook, Minimal()));
  EXPECT_TRUE(Valid(source->playbook));
}

TEST(PlaybookLoaderTest, JsonProblemsCarryPositionsIntoValidation) {
  const std::string json = R"({
  "metadata": {"name": "acme", "version": "1"},
  "personas": [{
    "id": "buyer",
    "criteria": [{"id": "c", "weight": -3,
                  "when": {"field": "job_title", "exists": true}}]
  }],
  "gradeBands": [{"grade": "A", "minFit": 0, "maxFit": 100}],
  "engagement": {"halfLife": "7d"},
  "thresholds": {"mql": {"minTotal": 100}}
})";
  auto source = ParsePlaybook(json, PlaybookFormat::kJson, "pb.json");
  ASSERT_TRUE(source.ok()) << source.status();
  const auto problems =
      ProblemsOf(source->playbook, &source->positions, source->file);
  ASSERT_EQ(problems.size(), 1u) << Listing(problems);
  EXPECT_EQ(problems[0].path(), "personas[0].criteria[0].weight");
  EXPECT_EQ(problems[0].line(), 5);
  EXPECT_EQ(problems[0].column(), 40);
}

TEST(PlaybookLoaderTest, BinaryLoads) {
  auto source =
      ParsePlaybook(Minimal().SerializeAsString(), PlaybookFormat::kBinary);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE(MessageDifferencer::Equals(source->playbook, Minimal()));
  EXPECT_FALSE(ParsePlaybook("\xff\xff\xff", PlaybookFormat::kBinary).ok());
}

TEST(PlaybookLoaderTest, FormatFromExtension) {
  EXPECT_EQ(*PlaybookFormatFromPath("a/b.yaml"), PlaybookFormat::kYaml);
  EXPECT_EQ(*PlaybookFormatFromPath("b.YML"), PlaybookFormat::kYaml);
  EXPECT_EQ(*PlaybookFormatFromPath("b.json"), PlaybookFormat::kJson);
  EXPECT_EQ(*PlaybookFormatFromPath("b.textproto"), PlaybookFormat::kText);
  EXPECT_EQ(*PlaybookFormatFromPath("b.txtpb"), PlaybookFormat::kText);
  EXPECT_EQ(*PlaybookFormatFromPath("b.pbtxt"), PlaybookFormat::kText);
  EXPECT_EQ(*PlaybookFormatFromPath("b.pb"), PlaybookFormat::kBinary);
  EXPECT_EQ(*PlaybookFormatFromPath("b.binpb"), PlaybookFormat::kBinary);
  auto unknown = PlaybookFormatFromPath("b.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("unknown Playbook format"));
}

class PlaybookFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("playbook_file_test_", getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(PlaybookFileTest, LoadsEachFormatByExtension) {
  std::string text, json;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(Minimal(), &text));
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(Minimal(), &json).ok());
  for (const auto& [name, content] :
       std::vector<std::pair<std::string, std::string>>{
           {"pb.yaml", MinimalPlaybookYaml()},
           {"pb.textproto", text},
           {"pb.json", json},
           {"pb.pb", Minimal().SerializeAsString()}}) {
    SCOPED_TRACE(name);
    const std::string path = Write(name, content);
    auto source = LoadPlaybookFile(path);
    ASSERT_TRUE(source.ok()) << source.status();
    EXPECT_EQ(source->file, path);
    EXPECT_TRUE(MessageDifferencer::Equals(source->playbook, Minimal()));
  }
}

TEST_F(PlaybookFileTest, ProblemsNameTheFile) {
  const std::string path = Write("broken.yaml", "metadata: {name: [x]}\n");
  auto source = LoadPlaybookFile(path);
  ASSERT_FALSE(source.ok());
  auto problems = ProblemsFromStatus(source.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 1);
  EXPECT_EQ(FormatProblem(problems->problems(0)),
            absl::StrCat(path,
                         ":1:18: metadata.name: expected a single value, "
                         "found a list"));
}

TEST_F(PlaybookFileTest, MissingFileIsNotFound) {
  auto source = LoadPlaybookFile((dir_ / "absent.yaml").string());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  // Not a Playbook problem: there is nothing to point at.
  EXPECT_FALSE(ProblemsFromStatus(source.status()).has_value());
}

TEST_F(PlaybookFileTest, OversizedFileIsRefusedBeforeReading) {
  const std::string path = Write("big.yaml", std::string(1000, '#'));
  auto text = ReadFileToString(path, 999);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("1000 bytes"));
  EXPECT_TRUE(ReadFileToString(path, 1000).ok());
}

TEST(PlaybookLoaderTest, OversizedTextIsRefused) {
  const std::string huge(kMaxPlaybookBytes + 1, ' ');
  auto source = ParsePlaybook(huge, PlaybookFormat::kYaml);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(ProblemLines(source.status()), HasSubstr("at most"));
}

TEST(PlaybookLimitsTest, ListsLongerThanTheLimitAreRefusedBeforeCompiling) {
  // 100,000 rules once took 10 s and 700 MB to validate, per call.
  v1::Playbook playbook = Minimal();
  for (int i = 0; i <= kMaxPlaybookListItems; ++i) {
    v1::FitRule* rule = playbook.add_fit_rules();
    rule->set_id(absl::StrCat("fit-", i));
    rule->mutable_when()->set_field("company.industry");
    rule->mutable_when()->mutable_equals()->set_string_value("software");
    rule->set_points(1);
  }
  auto* criterion =
      playbook.mutable_personas(0)->mutable_criteria(1)->mutable_when();
  const int seniorities = criterion->in().values_size();
  for (int i = seniorities; i <= kMaxPlaybookLiteralItems; ++i) {
    criterion->mutable_in()->add_values()->set_string_value("vp");
  }
  const auto problems = ProblemsOf(playbook);
  ASSERT_EQ(problems.size(), 2u) << Listing(problems);
  EXPECT_EQ(problems[0].path(), "personas[0].criteria[1].when.in.values");
  EXPECT_EQ(problems[0].message(),
            "at most 10000 items are accepted; found 10001");
  EXPECT_EQ(problems[1].path(), "fit_rules");
  EXPECT_EQ(problems[1].message(),
            "at most 1000 items are accepted; found 1001");
  playbook.mutable_fit_rules()->RemoveLast();
  criterion->mutable_in()->mutable_values()->RemoveLast();
  EXPECT_THAT(ProblemsOf(playbook), ::testing::IsEmpty());
}

TEST(PlaybookLimitsTest, TooLongListsInADocumentHaveTheirLine) {
  std::string yaml = absl::StrCat(MinimalPlaybookYaml(), "objectives:\n");
  for (int i = 0; i <= kMaxPlaybookListItems; ++i) {
    absl::StrAppend(&yaml, "  - {id: o", i, "}\n");
  }
  auto source = ParsePlaybook(yaml, PlaybookFormat::kYaml, "big.yaml");
  ASSERT_TRUE(source.ok()) << source.status();
  const auto problems =
      ProblemsOf(source->playbook, &source->positions, "big.yaml");
  ASSERT_EQ(problems.size(), 1u) << Listing(problems);
  EXPECT_EQ(
      FormatProblem(problems[0]),
      "big.yaml:27:3: objectives: at most 1000 items are accepted; found 1001");
}

TEST(PlaybookLimitsTest, TextThatIsNotUtf8IsRefusedInEveryFormat) {
  // protobuf's text and binary parsers only log invalid UTF-8; the problem
  // quoting it then could not be serialized, and the service answered
  // without its list of problems (found by tests/fuzz/playbook_fuzzer).
  auto source = ParsePlaybook(
      "metadata { name: \"t\" version: \"1\" owners: \"ok\" owners: \"b\xff"
      "d\" }\n"
      "fit_rules { id: \"x\" points: 2 when { field: \"\xd5"
      "company.industry\" "
      "equals { string_value: \"software\" } } }\n",
      PlaybookFormat::kText, "p.textproto");
  ASSERT_TRUE(source.ok()) << source.status();
  const auto problems = ProblemsOf(source->playbook, nullptr, "p.textproto");
  ASSERT_EQ(problems.size(), 2u) << Listing(problems);
  EXPECT_EQ(FormatProblem(problems[0]),
            "p.textproto: metadata.owners[1]: not valid UTF-8 (byte 0xff at "
            "offset 1)");
  EXPECT_EQ(FormatProblem(problems[1]),
            "p.textproto: fit_rules[0].when.field: not valid UTF-8 (byte 0xd5 "
            "at offset 0)");
}

TEST(ProblemListTest, TextThatIsNotUtf8IsEscapedSoTheProblemsSerialize) {
  ProblemList problems;
  problems.Add("a\xff", "unknown field \"\xd5x\"");
  const auto listed = ProblemsFromStatus(problems.ToStatus("bad"));
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->problems_size(), 1);
  EXPECT_EQ(listed->problems(0).path(), "a\\xff");
  EXPECT_EQ(listed->problems(0).message(), "unknown field \\\"\\xd5x\\\"");
}

}  // namespace
}  // namespace smarketing
