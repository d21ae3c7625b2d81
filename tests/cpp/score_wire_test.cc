#include "core/batch/score_wire.h"

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
#include "gtest/gtest.h"
#include "smarketing/v1/score_result.pb.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using testing::At;
using testing::DemoPlaybook;
using testing::MustCompile;

// 2026-11-23T09:00:00Z.
constexpr absl::Time kNow = absl::FromUnixSeconds(1795424400);

// Sample leads as of kNow.
LeadGenerator Generator(uint64_t seed) {
  LeadGeneratorOptions options;
  options.seed = seed;
  options.now = kNow;
  return LeadGenerator(options);
}

// What the stream sent before the writer: ToProto, then protobuf's bytes.
std::string Protobuf(const Scorer& scorer, const v1::Lead& lead,
                     const LeadScore& score, absl::Time now,
                     Explanation explanation) {
  v1::ScoreResult result;
  scorer.ToProto(lead, score, now, &result, explanation);
  return result.SerializeAsString();
}

TEST(ScoreWireTest, EncodesTheDemoLeadsAsProtobufDoes) {
  const std::shared_ptr<const CompiledPlaybook> playbook =
      MustCompile(DemoPlaybook());
  Scorer scorer(playbook);
  // One writer for all, as a worker thread keeps it, and two times, as a
  // stream's requests may give.
  ScoreWireWriter writer(*playbook);
  const LeadGenerator generator = Generator(11);
  const absl::Time times[] = {kNow, At("2026-11-23T09:00:00.250000001Z")};
  v1::Lead lead;
  LeadScore score;
  absl::flat_hash_set<v1::RuleKind> kinds;
  int with_persona = 0;
  for (int i = 0; i < 3000; ++i) {
    generator.Generate(i, &lead);
    const absl::Time now = times[i % 2];
    ASSERT_TRUE(scorer.Score(lead, now, &score).ok());
    for (const RuleContribution& c : score.explanation) kinds.insert(c.kind);
    with_persona += score.persona >= 0;
    for (const Explanation explanation :
         {Explanation::kNone, Explanation::kRuleIds}) {
      std::string ours = "prefix";
      writer.Append(lead, score, now, explanation, &ours);
      ASSERT_EQ(ours.substr(0, 6), "prefix");
      ASSERT_EQ(ours.substr(6), Protobuf(scorer, lead, score, now, explanation))
          << "lead " << i;
    }
  }
  EXPECT_GE(kinds.size(), 6u);
  EXPECT_GT(with_persona, 0);
}

// Values the demo leads do not give: every field set, sizes past one byte
// of length, negative numbers, -0.0 (which protobuf writes), the epoch.
TEST(ScoreWireTest, EncodesEdgeValuesAsProtobufDoes) {
  const std::shared_ptr<const CompiledPlaybook> playbook =
      MustCompile(DemoPlaybook());
  Scorer scorer(playbook);
  ScoreWireWriter writer(*playbook);
  v1::Lead lead;
  lead.set_id(std::string(300, 'x'));
  LeadScore score;
  score.fit = -0.0;
  score.engagement = std::numeric_limits<double>::denorm_min();
  score.total = -1e300;
  score.persona = 0;
  score.grade = playbook->playbook().grade_bands_size() - 1;
  score.stage = v1::LIFECYCLE_STAGE_SQL;
  score.priority = v1::PRIORITY_URGENT;
  score.hand_raiser = true;
  score.disqualification_reason = v1::DISQUALIFICATION_REASON_COMPETITOR;
  score.events_counted = -3;
  score.duplicate_events = 1 << 20;
  RuleContribution criterion;
  criterion.kind = v1::RULE_KIND_PERSONA_CRITERION;
  criterion.persona = 0;
  criterion.rule = 0;
  criterion.raw_points = -0.0;
  criterion.points = 0;
  criterion.event_count = -1;
  RuleContribution opt_out;
  opt_out.kind = v1::RULE_KIND_OPT_OUT;
  RuleContribution fit;
  fit.kind = v1::RULE_KIND_FIT;
  fit.rule = 0;
  fit.raw_points = fit.points = 1.5;
  fit.event_count = 1000;
  score.explanation = {criterion, opt_out, fit, fit};
  // The infinite past twice: the first must not pass for a time cached.
  for (const absl::Time now :
       {absl::InfinitePast(), absl::InfinitePast(), absl::UnixEpoch(),
        At("1969-12-31T23:59:59.5Z"), At("2026-11-23T09:00:00.000000001Z")}) {
    for (const Explanation explanation :
         {Explanation::kNone, Explanation::kRuleIds}) {
      std::string ours;
      writer.Append(lead, score, now, explanation, &ours);
      ASSERT_EQ(ours, Protobuf(scorer, lead, score, now, explanation))
          << absl::FormatTime(now);
    }
  }
  // And every field left at its default.
  lead.Clear();
  std::string ours;
  writer.Append(lead, LeadScore(), absl::UnixEpoch(), Explanation::kRuleIds,
                &ours);
  EXPECT_EQ(ours, Protobuf(scorer, lead, LeadScore(), absl::UnixEpoch(),
                           Explanation::kRuleIds));
}

// Ids, grades and a version long enough that their fields' lengths, and
// the RuleHits holding them, take more than one byte.
TEST(ScoreWireTest, EncodesLongFieldsAsProtobufDoes) {
  v1::Playbook long_ids = DemoPlaybook();
  int renamed = 0;
  auto rename = [&](std::string* id) {
    *id = absl::StrCat(std::string(120, 'r'), 1000000 + renamed++);
  };
  for (v1::Persona& persona : *long_ids.mutable_personas()) {
    rename(persona.mutable_id());
    for (auto& criterion : *persona.mutable_criteria()) {
      rename(criterion.mutable_id());
    }
  }
  for (auto& rule : *long_ids.mutable_fit_rules()) rename(rule.mutable_id());
  for (auto& rule : *long_ids.mutable_engagement()->mutable_rules()) {
    rename(rule.mutable_id());
  }
  for (auto& band : *long_ids.mutable_grade_bands()) {
    band.set_grade(std::string(300, 'g') + band.grade());
  }
  long_ids.mutable_metadata()->set_name(std::string(20000, 'n'));
  const std::shared_ptr<const CompiledPlaybook> playbook =
      MustCompile(long_ids);
  Scorer scorer(playbook);
  ScoreWireWriter writer(*playbook);
  const LeadGenerator generator = Generator(5);
  v1::Lead lead;
  LeadScore score;
  int long_hits = 0;
  for (int i = 0; i < 500; ++i) {
    generator.Generate(i, &lead);
    ASSERT_TRUE(scorer.Score(lead, kNow, &score).ok());
    std::string ours;
    writer.Append(lead, score, kNow, Explanation::kRuleIds, &ours);
    const std::string expected =
        Protobuf(scorer, lead, score, kNow, Explanation::kRuleIds);
    ASSERT_EQ(ours, expected) << "lead " << i;
    v1::ScoreResult parsed;
    ASSERT_TRUE(parsed.ParseFromString(expected));
    for (const v1::RuleHit& hit : parsed.explanation()) {
      long_hits += hit.ByteSizeLong() >= 128;
    }
  }
  EXPECT_GT(long_hits, 0);
}

}  // namespace
}  // namespace smarketing
