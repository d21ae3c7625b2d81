// What became of a lead, read from its stage history as the service
// records sales' decisions: the outcomes training data and back-tests use.
#include "core/journey/lead_outcome.h"

#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using testing::At;

v1::LeadLifecycle History(const std::string& text) {
  v1::LeadLifecycle lifecycle;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &lifecycle));
  return lifecycle;
}

TEST(LeadOutcomeTest, ANewLeadHasNoOutcome) {
  const LeadOutcome o = OutcomeOf(History(""));
  EXPECT_FALSE(o.mql);
  EXPECT_FALSE(o.mql_at.has_value());
  EXPECT_FALSE(o.accepted || o.rejected || o.sql || o.converted || o.won ||
               o.lost);
}

TEST(LeadOutcomeTest, AWonLeadReachedEveryStageOnTheWay) {
  const LeadOutcome o = OutcomeOf(History(R"pb(
    history {
      to: LIFECYCLE_STAGE_MQL
      actor: ACTOR_SYSTEM
      at { seconds: 100 }
    }
    history {
      from: LIFECYCLE_STAGE_MQL
      to: LIFECYCLE_STAGE_SAL
      actor: ACTOR_SALES
      at { seconds: 200 }
    }
    history {
      from: LIFECYCLE_STAGE_SAL
      to: LIFECYCLE_STAGE_CUSTOMER
      actor: ACTOR_SALES
      at { seconds: 300 }
    }
  )pb"));
  EXPECT_TRUE(o.mql);
  EXPECT_EQ(*o.mql_at, At("1970-01-01T00:01:40Z"));
  EXPECT_TRUE(o.accepted);
  EXPECT_TRUE(o.sql);
  EXPECT_TRUE(o.converted);
  EXPECT_TRUE(o.won);
  EXPECT_FALSE(o.rejected || o.lost);
}

TEST(LeadOutcomeTest, ARejectedLeadThatCameBackKeepsBothAndItsFirstMql) {
  const LeadOutcome o = OutcomeOf(History(R"pb(
    history {
      to: LIFECYCLE_STAGE_MQL
      actor: ACTOR_SYSTEM
      at { seconds: 100 }
    }
    history {
      from: LIFECYCLE_STAGE_MQL
      to: LIFECYCLE_STAGE_NURTURE
      actor: ACTOR_SALES
      reason_code: "bad_timing"
      at { seconds: 200 }
    }
    history {
      from: LIFECYCLE_STAGE_NURTURE
      to: LIFECYCLE_STAGE_MQL
      actor: ACTOR_SYSTEM
      at { seconds: 300 }
    }
    history {
      from: LIFECYCLE_STAGE_MQL
      to: LIFECYCLE_STAGE_SAL
      actor: ACTOR_SALES
      at { seconds: 400 }
    }
    history {
      from: LIFECYCLE_STAGE_SAL
      to: LIFECYCLE_STAGE_DISQUALIFIED
      actor: ACTOR_SALES
      reason_code: "fake_project"
      at { seconds: 500 }
    }
  )pb"));
  EXPECT_EQ(*o.mql_at, At("1970-01-01T00:01:40Z"));
  EXPECT_TRUE(o.rejected);
  EXPECT_EQ(o.rejection_reason, "bad_timing");
  EXPECT_TRUE(o.accepted);
  EXPECT_FALSE(o.sql);
  EXPECT_TRUE(o.lost);
  EXPECT_EQ(o.loss_reason, "fake_project");
}

TEST(LeadOutcomeTest, OnlySalesDecidesARejection) {
  // The SLA recycling a late MQL is not sales' verdict on the lead.
  const LeadOutcome o = OutcomeOf(History(R"pb(
    history {
      to: LIFECYCLE_STAGE_MQL
      actor: ACTOR_SYSTEM
      at { seconds: 100 }
    }
    history {
      from: LIFECYCLE_STAGE_MQL
      to: LIFECYCLE_STAGE_NURTURE
      actor: ACTOR_SYSTEM
      reason_code: "sla_breach"
      at { seconds: 200 }
    }
  )pb"));
  EXPECT_TRUE(o.mql);
  EXPECT_FALSE(o.rejected);
  EXPECT_EQ(o.rejection_reason, "");
}

}  // namespace
}  // namespace smarketing
