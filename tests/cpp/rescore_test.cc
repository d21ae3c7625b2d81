// When a pass re-evaluating the stored leads is due.
#include "core/journey/rescore.h"

#include "core/base/proto_time.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

v1::RescoreStatus Pass(int64_t number, int64_t playbook,
                       v1::RescoreState state) {
  v1::RescoreStatus pass;
  pass.set_pass_number(number);
  pass.set_playbook_number(playbook);
  pass.set_state(state);
  TimeToProto(kStart, pass.mutable_started_at());
  return pass;
}

TEST(NextRescorePass, TheFirstPassEvaluatesWithTheActiveVersion) {
  auto next = NextRescorePass(nullptr, 3, kStart, absl::ZeroDuration());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->pass_number(), 1);
  EXPECT_EQ(next->playbook_number(), 3);
  EXPECT_EQ(next->reason(), v1::RESCORE_REASON_ACTIVATION);
  EXPECT_EQ(next->state(), v1::RESCORE_STATE_RUNNING);
  EXPECT_EQ(TimeFromProto(next->started_at()), kStart);
}

TEST(NextRescorePass, ARunningPassGoesOnUntilAnotherVersionIsActivated) {
  const v1::RescoreStatus running = Pass(4, 2, v1::RESCORE_STATE_RUNNING);
  EXPECT_FALSE(
      NextRescorePass(&running, 2, kStart + absl::Hours(100), absl::Hours(1))
          .has_value());
  auto next = NextRescorePass(&running, 3, kStart, absl::Hours(1));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->pass_number(), 5);
  EXPECT_EQ(next->playbook_number(), 3);
  EXPECT_EQ(next->reason(), v1::RESCORE_REASON_ACTIVATION);
}

TEST(NextRescorePass, ARolledBackVersionIsAppliedAgain) {
  const v1::RescoreStatus done = Pass(4, 3, v1::RESCORE_STATE_DONE);
  auto next = NextRescorePass(&done, 2, kStart, absl::ZeroDuration());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->playbook_number(), 2);
  EXPECT_EQ(next->reason(), v1::RESCORE_REASON_ACTIVATION);
}

TEST(NextRescorePass, TheRefreshIsDueAnIntervalAfterTheLastPassStarted) {
  const v1::RescoreStatus done = Pass(4, 2, v1::RESCORE_STATE_DONE);
  EXPECT_FALSE(
      NextRescorePass(&done, 2, kStart + absl::Hours(23), absl::Hours(24))
          .has_value());
  auto next =
      NextRescorePass(&done, 2, kStart + absl::Hours(24), absl::Hours(24));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->pass_number(), 5);
  EXPECT_EQ(next->reason(), v1::RESCORE_REASON_REFRESH);
  // Off: never.
  EXPECT_FALSE(NextRescorePass(&done, 2, kStart + absl::Hours(24 * 365),
                               absl::ZeroDuration())
                   .has_value());
}

}  // namespace
}  // namespace smarketing
