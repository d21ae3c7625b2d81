// An account's score comes from its contacts as the Playbook's
// account_scoring says: the best (or average) fit, the contacts' engagement
// decayed to the time it is scored, capped per contact and in sum, weighted,
// and graded; no section, no score. A wrong section is refused with the
// field at fault.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/journey/account.h"
#include "core/playbook/compiled_playbook.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using testing::At;
using ::testing::HasSubstr;
using testing::MinimalPlaybookYaml;
using testing::PlaybookFromYaml;
using testing::ProblemLines;

// The minimal Playbook (engagement half-life 7 days) with `section` as its
// account_scoring.
v1::Playbook WithAccountScoring(const std::string& section) {
  return PlaybookFromYaml(
      absl::StrCat(MinimalPlaybookYaml(), "account_scoring:\n", section));
}

constexpr char kScoring[] = R"(
  max_engagement: 150
  max_contact_engagement: 80
  fit_weight: 1
  engagement_weight: 0.5
  grade_bands:
    - {grade: C, min_score: 0, max_score: 80}
    - {grade: B, min_score: 80, max_score: 120}
    - {grade: A, min_score: 120, max_score: 175}
)";

AccountScoreInput Contact(double fit, double engagement, absl::Time scored_at,
                          bool disqualified = false) {
  AccountScoreInput in;
  in.fit = fit;
  in.engagement = engagement;
  in.scored_at = scored_at;
  in.disqualified = disqualified;
  return in;
}

TEST(AccountScoreTest, BestFitAndCappedSumOfDecayedEngagement) {
  const v1::Playbook playbook = WithAccountScoring(kScoring);
  testing::MustCompile(playbook);
  const absl::Time now = At("2026-11-23T09:00:00Z");
  const std::vector<AccountScoreInput> contacts = {
      // Scored a half-life ago: 60 counts 30.
      Contact(55, 60, now - absl::Hours(7 * 24)),
      // Scored now, capped at 80 per contact.
      Contact(85, 95, now),
      Contact(40, 10, now),
  };
  const auto score = ScoreAccount(playbook, contacts, now);
  ASSERT_TRUE(score.has_value());
  EXPECT_EQ(score->contacts_counted(), 3);
  EXPECT_DOUBLE_EQ(score->fit(), 85);
  EXPECT_DOUBLE_EQ(score->engagement(), 30 + 80 + 10);
  EXPECT_DOUBLE_EQ(score->score(), 85 + 0.5 * 120);
  EXPECT_EQ(score->grade(), "A");

  // The same contacts a half-life later: engagement halves, fit stays.
  const auto later =
      ScoreAccount(playbook, contacts, now + absl::Hours(7 * 24));
  ASSERT_TRUE(later.has_value());
  EXPECT_DOUBLE_EQ(later->engagement(), 15 + 47.5 + 5);
  EXPECT_DOUBLE_EQ(later->score(), 85 + 0.5 * 67.5);
  EXPECT_EQ(later->grade(), "B");
}

TEST(AccountScoreTest, TheSumIsCappedAndNeverNegative) {
  const v1::Playbook playbook = WithAccountScoring(kScoring);
  const absl::Time now = At("2026-11-23T09:00:00Z");
  std::vector<AccountScoreInput> many(5, Contact(50, 70, now));
  EXPECT_DOUBLE_EQ(ScoreAccount(playbook, many, now)->engagement(), 150);
  const std::vector<AccountScoreInput> unsubscribed = {Contact(50, -20, now),
                                                       Contact(30, 5, now)};
  const auto score = ScoreAccount(playbook, unsubscribed, now);
  EXPECT_DOUBLE_EQ(score->engagement(), 0);
  EXPECT_DOUBLE_EQ(score->score(), 50);
  EXPECT_EQ(score->grade(), "C");
}

TEST(AccountScoreTest, AverageFitAndItsOwnHalfLife) {
  const v1::Playbook playbook = WithAccountScoring(R"(
  fit_aggregation: average
  max_engagement: 100
  half_life: 1d
)");
  testing::MustCompile(playbook);
  const absl::Time now = At("2026-11-23T09:00:00Z");
  const std::vector<AccountScoreInput> contacts = {
      Contact(80, 40, now - absl::Hours(24)), Contact(40, 0, now)};
  const auto score = ScoreAccount(playbook, contacts, now);
  ASSERT_TRUE(score.has_value());
  EXPECT_DOUBLE_EQ(score->fit(), 60);
  EXPECT_DOUBLE_EQ(score->engagement(), 20);
  EXPECT_DOUBLE_EQ(score->score(), 80);
  EXPECT_EQ(score->grade(), "");
}

TEST(AccountScoreTest, DisqualifiedContactsAreLeftOutUnlessIncluded) {
  const absl::Time now = At("2026-11-23T09:00:00Z");
  const std::vector<AccountScoreInput> contacts = {
      Contact(90, 50, now, /*disqualified=*/true), Contact(40, 10, now)};
  const auto left_out =
      ScoreAccount(WithAccountScoring(kScoring), contacts, now);
  EXPECT_EQ(left_out->contacts_counted(), 1);
  EXPECT_DOUBLE_EQ(left_out->fit(), 40);
  EXPECT_DOUBLE_EQ(left_out->engagement(), 10);
  const auto included =
      ScoreAccount(WithAccountScoring(absl::StrCat(
                       kScoring, "  include_disqualified: true\n")),
                   contacts, now);
  EXPECT_EQ(included->contacts_counted(), 2);
  EXPECT_DOUBLE_EQ(included->fit(), 90);
}

TEST(AccountScoreTest, NoSectionNoScore) {
  const v1::Playbook playbook = PlaybookFromYaml(MinimalPlaybookYaml());
  const absl::Time now = At("2026-11-23T09:00:00Z");
  EXPECT_FALSE(ScoreAccount(playbook, {Contact(90, 50, now)}, now).has_value());

  // Nor in the account summary, which has one with the section.
  v1::ScoreResult result;
  result.set_fit_score(70);
  result.set_engagement_score(30);
  v1::LeadLifecycle lifecycle;
  lifecycle.set_stage(v1::LIFECYCLE_STAGE_MQL);
  LeadState state{lifecycle, result};
  v1::Lead lead;
  lead.set_id("l1");
  const std::vector<AccountLead> contacts = {{&lead, &state}};
  EXPECT_FALSE(
      SummarizeAccount("acme.example", contacts, false, playbook, {}, now)
          .has_score());
  const v1::Account scored = SummarizeAccount(
      "acme.example", contacts, false, WithAccountScoring(kScoring), {}, now);
  ASSERT_TRUE(scored.has_score());
  EXPECT_DOUBLE_EQ(scored.score().score(), 70 + 0.5 * 30);
  EXPECT_EQ(scored.score().grade(), "B");
}

TEST(AccountScoreTest, AnErasedContactNoLongerCounts) {
  // The store forgets an erased lead: the account is scored from the
  // contacts left, and a change of score is what the feed reports.
  const v1::Playbook playbook = WithAccountScoring(kScoring);
  const absl::Time now = At("2026-11-23T09:00:00Z");
  const std::vector<AccountScoreInput> both = {Contact(85, 60, now),
                                               Contact(50, 20, now)};
  const auto before = ScoreAccount(playbook, both, now);
  const auto after = ScoreAccount(playbook, {both[1]}, now);
  EXPECT_DOUBLE_EQ(after->fit(), 50);
  EXPECT_DOUBLE_EQ(after->engagement(), 20);
  EXPECT_TRUE(AccountScoreChanged(before, after));
  EXPECT_TRUE(AccountScoreChanged(after, std::nullopt));
  EXPECT_FALSE(AccountScoreChanged(after, after));
  EXPECT_FALSE(AccountScoreChanged(std::nullopt, std::nullopt));
}

TEST(AccountScoreTest, AWrongSectionNamesItsFields) {
  struct Case {
    const char* section;
    const char* expected;
  };
  const Case cases[] = {
      {"  max_engagement: 0\n",
       "account_scoring.max_engagement: must be within (0, 1e9]"},
      {"  max_engagement: 100\n  fit_weight: -1\n",
       "account_scoring.fit_weight: must be within [0, 10]"},
      {"  max_engagement: 100\n  engagement_weight: 11\n",
       "account_scoring.engagement_weight: must be within [0, 10]"},
      {"  max_engagement: 100\n  max_contact_engagement: 0\n",
       "account_scoring.max_contact_engagement: must be a finite number > 0"},
      {"  max_engagement: 100\n  half_life: 0s\n",
       "account_scoring.half_life: must be greater than zero"},
      {"  max_engagement: 100\n  grade_bands:\n"
       "    - {grade: B, min_score: 0, max_score: 100}\n"
       "    - {grade: A, min_score: 120, max_score: 200}\n",
       "account_scoring.grade_bands[1].min_score: gap: no grade covers "
       "account scores from 100 to 120"},
      {"  max_engagement: 100\n  grade_bands:\n"
       "    - {grade: B, min_score: 0, max_score: 150}\n",
       "account_scoring.grade_bands: gap: no grade covers account scores "
       "from 150 to 200"},
      {"  max_engagement: 100\n  grade_bands:\n"
       "    - {grade: B, min_score: 0, max_score: 250}\n",
       "account_scoring.grade_bands[0]: a band needs 0 <= min_score < "
       "max_score <= 200"},
      {"  max_engagement: 100\n  grade_bands:\n"
       "    - {grade: B, min_score: 0, max_score: 100}\n"
       "    - {grade: B, min_score: 100, max_score: 200}\n",
       "account_scoring.grade_bands[1].grade: duplicate grade \"B\""},
  };
  for (const Case& c : cases) {
    auto compiled = CompiledPlaybook::Compile(WithAccountScoring(c.section));
    ASSERT_FALSE(compiled.ok()) << c.section;
    EXPECT_THAT(ProblemLines(compiled.status()), HasSubstr(c.expected))
        << c.section;
  }

  // Without a half-life of its own, the engagement model's is needed.
  v1::Playbook playbook = WithAccountScoring("  max_engagement: 100\n");
  playbook.mutable_engagement()->clear_half_life();
  playbook.mutable_engagement()->add_rules();
  v1::EngagementRule& rule = *playbook.mutable_engagement()->mutable_rules(0);
  rule.set_id("opens");
  rule.add_event_types(v1::EVENT_TYPE_EMAIL_OPEN);
  rule.set_points(1);
  rule.mutable_half_life()->set_seconds(86400);
  auto compiled = CompiledPlaybook::Compile(playbook);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(
      ProblemLines(compiled.status()),
      HasSubstr("account_scoring.half_life: required: engagement.half_life "
                "is not set"));
}

TEST(AccountScoreTest, TheDemoPlaybookScoresAccounts) {
  const v1::Playbook demo = testing::DemoPlaybook();
  ASSERT_TRUE(demo.has_account_scoring());
  testing::MustCompile(demo);
}

}  // namespace
}  // namespace smarketing
