// The closed-loop report: funnel counts per campaign, source and persona,
// rejection reasons, revenue, and the median time to first touch.
#include "core/review/closed_loop.h"

#include "core/base/proto_time.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;

const absl::Time kStart = At("2026-11-01T00:00:00Z");
const absl::Time kEnd = At("2026-12-01T00:00:00Z");

v1::Lead Lead(const char* campaign, const char* source, absl::Time created) {
  v1::Lead lead;
  lead.set_campaign(campaign);
  lead.set_source(source);
  TimeToProto(created, lead.mutable_created_at());
  return lead;
}

// A lifecycle that became MQL at `mql` and was first touched `touch` later.
v1::LeadLifecycle Mql(absl::Time mql, absl::Duration touch) {
  v1::LeadLifecycle lifecycle;
  v1::StageTransition* t = lifecycle.add_history();
  t->set_to(v1::LIFECYCLE_STAGE_MQL);
  TimeToProto(mql, lifecycle.mutable_mql_at());
  TimeToProto(mql + touch, lifecycle.mutable_first_touched_at());
  return lifecycle;
}

v1::Feedback Rejected(const char* reason) {
  v1::Feedback f;
  f.mutable_rejected()->set_reason_code(reason);
  return f;
}

v1::Feedback Won(double revenue, double margin) {
  v1::Feedback f;
  f.mutable_won()->mutable_revenue()->set_amount(revenue);
  f.mutable_won()->mutable_margin()->set_amount(margin);
  return f;
}

TEST(ClosedLoopTest, CountsEachLeadOncePerStageAndSumsItsWins) {
  ClosedLoopReportBuilder builder(kStart, kEnd);
  const absl::Time day = At("2026-11-10T09:00:00Z");
  v1::Feedback accepted;
  accepted.mutable_accepted();
  builder.Add(Lead("cmp-a", "webinar", day), Mql(day, absl::Hours(1)), "p1",
              {accepted, Won(1000, 400)});
  builder.Add(Lead("cmp-a", "ads", day), Mql(day, absl::Hours(3)), "p1",
              {Rejected("no_budget"), Rejected("no_budget")});
  builder.Add(Lead("cmp-b", "ads", day), Mql(day, absl::Hours(2)), "p2", {});
  // Outside the period, and without a creation time: not counted.
  builder.Add(Lead("cmp-a", "ads", kEnd), Mql(day, absl::Hours(1)), "p1", {});
  builder.Add(v1::Lead(), Mql(day, absl::Hours(1)), "p1", {});

  const v1::ClosedLoopReport report = builder.Build();
  const v1::FunnelCounts& total = report.total();
  EXPECT_EQ(total.leads(), 3);
  EXPECT_EQ(total.mqls(), 3);
  EXPECT_EQ(total.accepted(), 1);
  EXPECT_EQ(total.rejected(), 1);
  EXPECT_EQ(total.rejection_reasons().at("no_budget"), 2);
  EXPECT_EQ(total.wins(), 1);
  EXPECT_EQ(total.revenue(), 1000);
  EXPECT_EQ(total.margin(), 400);
  EXPECT_EQ(total.touched(), 3);
  EXPECT_EQ(total.median_time_to_first_touch().seconds(), 2 * 3600);

  ASSERT_EQ(report.by_campaign_size(), 2);
  EXPECT_EQ(report.by_campaign(0).key(), "cmp-a");
  EXPECT_EQ(report.by_campaign(0).counts().leads(), 2);
  // Even count: the mean of the two middle values.
  EXPECT_EQ(
      report.by_campaign(0).counts().median_time_to_first_touch().seconds(),
      2 * 3600);
  ASSERT_EQ(report.by_source_size(), 2);
  EXPECT_EQ(report.by_source(0).key(), "ads");
  EXPECT_EQ(report.by_source(0).counts().leads(), 2);
  ASSERT_EQ(report.by_persona_size(), 2);
  EXPECT_EQ(report.by_persona(1).counts().leads(), 1);
}

TEST(ClosedLoopTest, AnEmptyPeriodHasNoMedian) {
  const v1::ClosedLoopReport report =
      ClosedLoopReportBuilder(kStart, kEnd).Build();
  EXPECT_EQ(report.total().leads(), 0);
  EXPECT_FALSE(report.total().has_median_time_to_first_touch());
}

}  // namespace
}  // namespace smarketing
