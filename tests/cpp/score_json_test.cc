#include "core/batch/score_json.h"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/casts.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using testing::At;
using testing::DemoPlaybook;

std::string Protobuf(const v1::ScoreResult& result) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(result, &text, options).ok());
  return text;
}

std::string Ours(const v1::ScoreResult& result) {
  ScoreJsonWriter writer;
  std::string text = "prefix:";
  writer.Append(result, &text);
  EXPECT_EQ(text.substr(0, 7), "prefix:");
  return text.substr(7);
}

// The demo Playbook's engine and a scorer of it, with sample leads.
class ScoreJsonDemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = LeadEngine::Create(DemoPlaybook());
    ASSERT_TRUE(created.ok()) << created.status().message();
    engine_ = *std::move(created);
    scorer_ = std::make_unique<Scorer>(engine_->playbook());
  }

  LeadGenerator Generator(uint64_t seed) const {
    LeadGeneratorOptions options;
    options.seed = seed;
    options.now = now_;
    return LeadGenerator(options);
  }

  const absl::Time now_ = At("2026-11-23T09:00:00Z");
  std::shared_ptr<const LeadEngine> engine_;
  std::unique_ptr<Scorer> scorer_;
};

TEST_F(ScoreJsonDemoTest, PrintsTheDemoLeadsAsProtobufDoes) {
  const LeadGenerator generator = Generator(7);
  v1::RoutingState routing;
  ScoreJsonWriter writer;  // one writer for all, as a worker thread keeps it
  v1::Lead lead;
  LeadScore score;
  v1::ScoreResult result;
  int mqls = 0;
  for (int i = 0; i < 3000; ++i) {
    generator.Generate(i, &lead);
    ASSERT_TRUE(scorer_->Score(lead, now_, &score).ok());
    scorer_->ToProto(lead, score, now_, &result);
    if (result.recommended_stage() == v1::LIFECYCLE_STAGE_MQL) {
      engine_->AssignNewMql(lead, now_, &routing, &result);
      ++mqls;
    }
    std::string ours;
    writer.Append(result, &ours);
    ASSERT_EQ(ours, Protobuf(result)) << "lead " << i;
  }
  EXPECT_GT(mqls, 0);
}

// `smarketing score`'s default: the explanation printed from the score's
// contributions, not from RuleHits, must give the same bytes.
TEST_F(ScoreJsonDemoTest, PrintsContributionsAsTheirRuleHits) {
  const LeadGenerator generator = Generator(8);
  v1::RoutingState routing;
  ScoreJsonWriter writer(engine_->playbook());
  v1::Lead lead;
  LeadScore score;
  v1::ScoreResult with_hits, without;
  absl::flat_hash_set<v1::RuleKind> kinds;
  for (int i = 0; i < 2000; ++i) {
    generator.Generate(i, &lead);
    ASSERT_TRUE(scorer_->Score(lead, now_, &score).ok());
    scorer_->ToProto(lead, score, now_, &with_hits, Explanation::kRuleIds);
    scorer_->ToProto(lead, score, now_, &without, Explanation::kNone);
    if (with_hits.recommended_stage() == v1::LIFECYCLE_STAGE_MQL) {
      v1::RoutingState copy = routing;
      engine_->AssignNewMql(lead, now_, &routing, &with_hits);
      engine_->AssignNewMql(lead, now_, &copy, &without);
    }
    for (const RuleContribution& c : score.explanation) kinds.insert(c.kind);
    std::string ours;
    writer.Append(without, score.explanation, &ours);
    ASSERT_EQ(ours, Protobuf(with_hits)) << "lead " << i;
  }
  // Every kind of rule but opt-outs (which the demo leads never ask for)
  // has been printed.
  EXPECT_GE(kinds.size(), 6u);
}

// A lead id that is not UTF-8 makes the writer hand the whole result to
// protobuf's printer, as for any such text: with its explanation.
TEST(ScoreJsonTest, ContributionsOfAResultLeftToProtobufArePrinted) {
  auto compiled = CompiledPlaybook::Compile(DemoPlaybook());
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  RuleContribution fit;
  fit.kind = v1::RULE_KIND_FIT;
  fit.rule = 0;
  fit.raw_points = fit.points = 2;
  RuleContribution criterion;
  criterion.kind = v1::RULE_KIND_PERSONA_CRITERION;
  criterion.persona = 0;
  criterion.rule = 1;
  criterion.raw_points = 25;
  criterion.points = 12.5;
  v1::ScoreResult without;
  without.set_lead_id("bad \xff utf-8");
  without.set_total_score(14.5);
  v1::ScoreResult with_hits = without;
  for (const RuleContribution* c : {&criterion, &fit}) {
    DescribeRuleHit((*compiled)->playbook(), *c, with_hits.add_explanation());
  }
  ScoreJsonWriter writer(*compiled);
  std::string ours;
  writer.Append(without, {criterion, fit}, &ours);
  EXPECT_EQ(ours, Protobuf(with_hits));
  EXPECT_NE(ours.find("persona_id"), std::string::npos) << ours;
}

TEST(ScoreJsonTest, PrintsEdgeValuesAsProtobufDoes) {
  std::vector<std::string> texts = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      "<script>&amp;</script>",
      "tab\tnew\nline\rcr\bbs\fff",
      std::string("nul\0byte", 8),
      "\x01\x1f\x7f",
      "é à ü ß ø 東京 Ελλάδα",
      "emoji 😀 🇫🇷 👩‍💻",
      "\xc2\x80\xc2\x9f\xc2\xa0\xc2\xad",
      "\u0600\u06dd\u070f\u17b4\u200b\u200f\u2028\u2029\u202e\u2060\u206f",
      "\ufeff\ufff9\ufffb\ufffd",
      "\U0001d173\U0001d17a\U000e0001\U000e0020\U000e007f",
      "\U0010ffff \U0001f600"};
  std::vector<double> doubles = {0.0,
                                 -0.0,
                                 0.1,
                                 1.0 / 3,
                                 42,
                                 12.5,
                                 -7.25,
                                 1e15,
                                 1e16,
                                 1e21,
                                 1e-7,
                                 0.30000000000000004,
                                 123456789012345678.0,
                                 5e-324,
                                 std::numeric_limits<double>::max(),
                                 std::numeric_limits<double>::lowest(),
                                 std::numeric_limits<double>::quiet_NaN(),
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity()};
  std::vector<std::pair<int64_t, int32_t>> times = {
      {0, 0},
      {1795424400, 0},
      {1795424400, 5000000},
      {1795424400, 123456000},
      {1795424400, 1},
      {-1, 999999999},
      {-62135596800, 0},
      {253402300799, 999999999},
      {951782400, 0} /* 2000-02-29 */,
      {-2208988800, 0} /* 1900 */};
  v1::ScoreResult result;
  for (size_t i = 0; i < std::max({texts.size(), doubles.size(), times.size()});
       ++i) {
    const std::string& text = texts[i % texts.size()];
    const double d = doubles[i % doubles.size()];
    const auto [seconds, nanos] = times[i % times.size()];
    result.Clear();
    result.set_lead_id(text);
    result.set_fit_score(d);
    result.set_grade(texts[(i + 1) % texts.size()]);
    result.set_engagement_score(-d);
    result.set_total_score(d * 3);
    result.set_recommended_stage(static_cast<v1::LifecycleStage>(i % 8));
    result.set_priority(static_cast<v1::Priority>(i % 6));
    result.set_hand_raiser(i % 2 == 1);
    result.set_events_counted(i % 3 == 0 ? std::numeric_limits<int32_t>::max()
                                         : -static_cast<int32_t>(i));
    result.set_duplicate_events(std::numeric_limits<int32_t>::min() +
                                static_cast<int32_t>(i));
    result.mutable_scored_at()->set_seconds(seconds);
    result.mutable_scored_at()->set_nanos(nanos);
    for (int h = 0; h < 3; ++h) {
      v1::RuleHit* hit = result.add_explanation();
      hit->set_rule_id(texts[(i + h) % texts.size()]);
      hit->set_kind(static_cast<v1::RuleKind>((i + h) % 9));
      hit->set_raw_points(doubles[(i + h) % doubles.size()]);
      hit->set_points(doubles[(i + h + 5) % doubles.size()]);
      hit->set_event_count(static_cast<int32_t>(h));
      hit->set_sentence(texts[(i + h + 2) % texts.size()]);
    }
    if (i % 2 == 0) result.mutable_routing()->set_owner_id(text);
    if (i % 3 == 0) {
      result.mutable_sla()->set_state(static_cast<v1::SlaState>(i % 5));
      *result.mutable_sla()->mutable_first_touch_due() = result.scored_at();
    }
    EXPECT_EQ(Ours(result), Protobuf(result)) << "case " << i;
  }
}

TEST(ScoreJsonTest, PrintsDoublesOfEveryMagnitudeAsProtobufDoes) {
  std::mt19937_64 random(11);
  v1::ScoreResult result;
  for (int i = 0; i < 20000; ++i) {
    double value;
    switch (i % 4) {
      case 0:  // any bit pattern
        value = absl::bit_cast<double>(random());
        if (!std::isfinite(value)) continue;
        break;
      case 1:  // scores: a few decimals
        value = static_cast<double>(random() % 2000000) / 100 - 10000;
        break;
      case 2:  // decayed points: many digits
        value = static_cast<double>(random() % 1000000) *
                std::exp(-static_cast<double>(random() % 100) / 7);
        break;
      default:  // powers of ten around %g's switch to exponents
        value = std::pow(10.0, static_cast<int>(random() % 44) - 22) *
                (1 + static_cast<double>(random() % 1000) / 1000);
        break;
    }
    result.set_total_score(value);
    ASSERT_EQ(Ours(result), Protobuf(result))
        << absl::StrFormat("%.17g", value);
  }
}

// Decayed points are where the writer works out %.17g's digits itself (a
// shortest form of 16 digits): as many as a million-lead file prints in a
// few thousand leads, at the magnitudes engagement takes.
TEST(ScoreJsonTest, PrintsDecayedPointsAsProtobufDoes) {
  std::mt19937_64 random(12);
  v1::ScoreResult result;
  for (int i = 0; i < 60000; ++i) {
    const double points = static_cast<double>(random() % 400) / 4 - 20;
    const double age_days = static_cast<double>(random() % 10000000) / 1e4;
    const double half_life_days = static_cast<double>(1 + random() % 90);
    double value = points * std::exp2(-age_days / half_life_days);
    // And their neighbours, a unit in the last place away.
    if (i % 3 == 1) value = std::nextafter(value, 1e300);
    if (i % 3 == 2) value = std::nextafter(value, -1e300);
    result.set_engagement_score(value);
    ASSERT_EQ(Ours(result), Protobuf(result))
        << absl::StrFormat("%.17g", value);
  }
}

// Every field set: a field added to ScoreResult and not to the writer fails
// here.
TEST(ScoreJsonTest, PrintsEveryField) {
  v1::ScoreResult result;
  result.set_lead_id("l");
  result.set_fit_score(1.5);
  result.set_grade("A");
  result.set_persona_id("p");
  result.set_engagement_score(2.5);
  result.set_total_score(4);
  result.set_recommended_stage(v1::LIFECYCLE_STAGE_MQL);
  result.set_priority(static_cast<v1::Priority>(1));
  result.set_hand_raiser(true);
  result.set_disqualification_reason(
      static_cast<v1::DisqualificationReason>(1));
  result.set_playbook_version("v3");
  result.mutable_scored_at()->set_seconds(1795424400);
  result.set_events_counted(3);
  result.set_duplicate_events(1);
  v1::RuleHit* hit = result.add_explanation();
  hit->set_rule_id("r");
  hit->set_kind(v1::RULE_KIND_ENGAGEMENT);
  hit->set_raw_points(3);
  hit->set_points(2);
  hit->set_event_count(4);
  hit->set_sentence("s");
  hit->set_persona_id("p");
  v1::RoutingDecision* routing = result.mutable_routing();
  routing->set_team_id("t");
  routing->set_owner_id("o");
  routing->set_reason(static_cast<v1::RoutingReason>(1));
  routing->set_rule_id("r");
  routing->set_strategy(static_cast<v1::AssignmentStrategy>(1));
  routing->set_explanation("e");
  v1::SlaStatus* sla = result.mutable_sla();
  sla->set_priority(static_cast<v1::Priority>(2));
  *sla->mutable_stage_entered_at() = result.scored_at();
  *sla->mutable_first_touch_due() = result.scored_at();
  *sla->mutable_accept_or_reject_due() = result.scored_at();
  *sla->mutable_feedback_due() = result.scored_at();
  sla->set_state(static_cast<v1::SlaState>(1));
  sla->set_escalation_due(static_cast<v1::EscalationAction>(1));
  for (const google::protobuf::Message* m :
       std::vector<const google::protobuf::Message*>{&result, hit, routing,
                                                     sla}) {
    std::vector<const google::protobuf::FieldDescriptor*> set;
    m->GetReflection()->ListFields(*m, &set);
    EXPECT_EQ(static_cast<int>(set.size()), m->GetDescriptor()->field_count())
        << m->GetDescriptor()->full_name() << ": set every field in this test";
  }
  EXPECT_EQ(Ours(result), Protobuf(result));
  result.mutable_routing()->Clear();  // present but empty
  EXPECT_EQ(Ours(result), Protobuf(result));
}

TEST(ScoreJsonTest, LeavesWhatProtobufAltersOrRefusesToProtobuf) {
  v1::ScoreResult result;
  result.set_lead_id("bad \xff utf-8 \xc3");
  result.set_total_score(1);
  auto theirs = [&] {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string text;
    (void)google::protobuf::util::MessageToJsonString(result, &text, options);
    return text;
  };
  EXPECT_EQ(Ours(result), theirs());
  result.set_lead_id("ok");
  result.mutable_scored_at()->set_seconds(253402300800);  // year 10000
  EXPECT_EQ(Ours(result), theirs());
}

}  // namespace
}  // namespace smarketing
