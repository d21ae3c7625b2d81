// LeadEngine: what one Playbook version does to a stored lead over its life,
// on the demo Playbook at fixed times (Monday 23 November 2026, Paris
// business hours).
#include "core/journey/lead_engine.h"

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::DemoPlaybook;
using ::testing::HasSubstr;

const absl::Time kMonday10 = At("2026-11-23T10:00:00+01:00");

v1::Lead HotLead(const std::string& id) {
  v1::Lead lead;
  lead.set_id(id);
  lead.set_job_title("CMO");
  lead.set_seniority(v1::SENIORITY_C_LEVEL);
  auto* company = lead.mutable_company();
  company->set_domain(absl::StrCat(id, ".example"));
  company->set_industry("software");
  company->set_employee_count(250);
  company->set_country("FR");
  company->set_region("EMEA");
  auto* event = lead.add_events();
  event->set_id("demo");
  event->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
  TimeToProto(kMonday10 - absl::Minutes(30), event->mutable_occurred_at());
  return lead;
}

class LeadEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = LeadEngine::Create(DemoPlaybook());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *engine;
    scorer_ = std::make_unique<Scorer>(engine_->playbook());
  }

  // A lead captured and scored at `at`.
  LeadState Captured(const v1::Lead& lead, absl::Time at) {
    LeadState state;
    auto lifecycle = engine_->Start(at);
    EXPECT_TRUE(lifecycle.ok()) << lifecycle.status();
    state.lifecycle = *lifecycle;
    EXPECT_TRUE(
        engine_->Refresh(lead, at, scorer_.get(), &state, &routing_).ok());
    return state;
  }

  std::shared_ptr<const LeadEngine> engine_;
  std::unique_ptr<Scorer> scorer_;
  v1::RoutingState routing_;
};

TEST_F(LeadEngineTest, RefusesRoutingAndSlaProblemsWithTheirPaths) {
  v1::Playbook playbook = DemoPlaybook();
  playbook.mutable_routing()->mutable_rules(0)->set_team_id("nobody");
  playbook.mutable_sla()->mutable_policies(0)->clear_first_touch();
  auto engine = LeadEngine::Create(playbook);
  ASSERT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  auto problems = ProblemsFromStatus(engine.status());
  ASSERT_TRUE(problems.has_value());
  std::string paths;
  for (const auto& p : problems->problems())
    absl::StrAppend(&paths, p.path(), " ");
  EXPECT_THAT(paths, HasSubstr("routing.rules[0].team_id"));
  EXPECT_THAT(paths, HasSubstr("sla.policies[0].first_touch"));
}

TEST_F(LeadEngineTest, AQualifiedLeadIsRoutedAtOnceWithItsDeadlines) {
  const LeadState state = Captured(HotLead("a"), kMonday10);
  EXPECT_EQ(state.lifecycle.stage(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_EQ(state.score.routing().team_id(), "emea-midmarket");
  EXPECT_FALSE(state.score.routing().owner_id().empty());
  EXPECT_EQ(state.score.sla().state(), v1::SLA_STATE_ON_TRACK);
  EXPECT_TRUE(state.score.sla().has_first_touch_due());
  EXPECT_EQ(routing_.teams().at("emea-midmarket").assignments(), 1);
  EXPECT_EQ(routing_.open_leads().at(state.score.routing().owner_id()), 1);
}

TEST_F(LeadEngineTest, RescoringKeepsTheOwner) {
  const v1::Lead lead = HotLead("b");
  LeadState state = Captured(lead, kMonday10);
  const std::string owner = state.score.routing().owner_id();
  ASSERT_TRUE(engine_
                  ->Refresh(lead, kMonday10 + absl::Minutes(5), scorer_.get(),
                            &state, &routing_)
                  .ok());
  EXPECT_EQ(state.score.routing().owner_id(), owner);
  EXPECT_EQ(routing_.teams().at("emea-midmarket").assignments(), 1);
}

TEST_F(LeadEngineTest, ARejectionRecyclesTheLeadAndFreesItsOwner) {
  LeadState state = Captured(HotLead("c"), kMonday10);
  const std::string owner = state.score.routing().owner_id();
  v1::Feedback feedback;
  feedback.set_lead_id("c");
  feedback.set_actor_id(owner);
  TimeToProto(kMonday10 + absl::Minutes(20), feedback.mutable_at());
  feedback.mutable_rejected()->set_reason_code("no_budget");
  ASSERT_TRUE(engine_
                  ->ApplyFeedback(feedback, kMonday10 + absl::Minutes(20),
                                  &state, &routing_)
                  .ok());
  EXPECT_EQ(state.lifecycle.stage(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_FALSE(routing_.open_leads().contains(owner));
  // The SLA no longer counts for a nurtured lead.
  EXPECT_EQ(state.score.sla().state(), v1::SLA_STATE_UNSPECIFIED);
}

TEST_F(LeadEngineTest, AnUntouchedLeadBreachesItsSla) {
  LeadState state = Captured(HotLead("d"), kMonday10);
  EXPECT_EQ(
      engine_->SlaStatusAt(state, kMonday10 + absl::Hours(24 * 7)).state(),
      v1::SLA_STATE_BREACHED);
  ASSERT_TRUE(engine_
                  ->RecordFirstTouch(kMonday10 + absl::Minutes(10),
                                     kMonday10 + absl::Minutes(10), &state)
                  .ok());
  EXPECT_TRUE(state.lifecycle.has_first_touched_at());
}

TEST_F(LeadEngineTest, AnOptedOutLeadIsDisqualifiedAndNeverRouted) {
  v1::Lead lead = HotLead("e");
  lead.mutable_consent()->set_opted_out(true);
  const LeadState state = Captured(lead, kMonday10);
  EXPECT_EQ(state.lifecycle.stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_TRUE(state.lifecycle.opted_out());
  EXPECT_TRUE(state.score.routing().team_id().empty());
}

}  // namespace
}  // namespace smarketing
