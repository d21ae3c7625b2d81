// SLA deadlines, states and escalation steps against hand-computed business
// times on a Paris office calendar (09:00-12:00, 13:00-18:00 on weekdays),
// the recycle policy, and every validation problem with its path.
#include "core/journey/sla.h"

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

absl::Time T(const std::string& text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error))
      << text << ": " << error;
  return t;
}

constexpr char kParisOffice[] = R"pb(
  time_zone: "Europe/Paris"
  working_hours { weekday: WEEKDAY_MONDAY start: "09:00" end: "12:00" }
  working_hours { weekday: WEEKDAY_MONDAY start: "13:00" end: "18:00" }
  working_hours { weekday: WEEKDAY_TUESDAY start: "09:00" end: "12:00" }
  working_hours { weekday: WEEKDAY_TUESDAY start: "13:00" end: "18:00" }
  working_hours { weekday: WEEKDAY_WEDNESDAY start: "09:00" end: "12:00" }
  working_hours { weekday: WEEKDAY_WEDNESDAY start: "13:00" end: "18:00" }
  working_hours { weekday: WEEKDAY_THURSDAY start: "09:00" end: "12:00" }
  working_hours { weekday: WEEKDAY_THURSDAY start: "13:00" end: "18:00" }
  working_hours { weekday: WEEKDAY_FRIDAY start: "09:00" end: "12:00" }
  working_hours { weekday: WEEKDAY_FRIDAY start: "13:00" end: "18:00" }
)pb";

// HIGH: touch within 2 business hours, accept or reject within a business
// day, feedback within two business days of a meeting; escalations at
// breach, +2h, +8h and +16h of business time.
std::string SlaText() {
  return std::string(R"pb(
           policies {
             priority: PRIORITY_HIGH
             first_touch { seconds: 7200 }
             accept_or_reject { seconds: 28800 }
             feedback_after_meeting { seconds: 57600 }
             escalations { action: ESCALATION_ACTION_REMIND_OWNER }
             escalations {
               after_breach { seconds: 7200 }
               action: ESCALATION_ACTION_REASSIGN
             }
             escalations {
               after_breach { seconds: 28800 }
               action: ESCALATION_ACTION_ESCALATE_TO_MANAGER
             }
             escalations {
               after_breach { seconds: 57600 }
               action: ESCALATION_ACTION_RECYCLE
             }
           }
           policies {
             priority: PRIORITY_URGENT
             first_touch { seconds: 1800 }
             accept_or_reject { seconds: 14400 }
             at_risk_ratio: 0.5
           }
           policies {
             priority: PRIORITY_LOW
             first_touch { seconds: 86400 }
             accept_or_reject { seconds: 57600 }
           }
           recycle {
             rejection_reasons { code: "bad_timing" recycle: true }
             rejection_reasons { code: "no_budget" recycle: true }
             rejection_reasons { code: "student" recycle: false }
             loss_reasons { code: "lost_to_competitor" recycle: true }
             loss_reasons { code: "fake_project" recycle: false }
             nurture_cooldown { seconds: 2592000 }
           }
           default_calendar {)pb") +
         kParisOffice + "}";
}

v1::Sla Proto(const std::string& text) {
  v1::Sla sla;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &sla))
      << text;
  return sla;
}

Sla Compiled() {
  Sla sla;
  ProblemList problems;
  EXPECT_TRUE(sla.Compile(Proto(SlaText()), "sla", &problems))
      << problems.problems().DebugString();
  return sla;
}

// A HIGH lead that became MQL on Friday 6 March 2026 at 16:30 (Paris):
//   first touch due   Monday 9 March 09:30 (1h30 on Friday, 0h30 Monday)
//   at risk from      Monday 09:06 (80% of 2h = 1h36)
//   accept/reject due Monday 16:30 (1h30 Friday, 3h + 3h30 Monday)
//   at risk from      Monday 14:54 (80% of 8h = 6h24)
class HighLeadTest : public ::testing::Test {
 protected:
  SlaEvaluation At(const std::string& now, const SlaProgress& progress = {}) {
    return sla_.Evaluate(v1::PRIORITY_HIGH, entered_, progress, T(now));
  }
  const Sla sla_ = Compiled();
  const absl::Time entered_ = T("2026-03-06T16:30:00+01:00");
};

TEST_F(HighLeadTest, Deadlines) {
  const SlaEvaluation e = At("2026-03-06T16:30:00+01:00");
  EXPECT_EQ(e.priority, v1::PRIORITY_HIGH);
  EXPECT_EQ(e.entered_at, entered_);
  EXPECT_EQ(e.first_touch_due, T("2026-03-09T09:30:00+01:00"));
  EXPECT_EQ(e.accept_or_reject_due, T("2026-03-09T16:30:00+01:00"));
  EXPECT_EQ(e.feedback_due, absl::InfiniteFuture());
  EXPECT_EQ(e.breached_at, absl::InfiniteFuture());
}

TEST_F(HighLeadTest, OnTrackThenAtRiskThenBreached) {
  SlaEvaluation e = At("2026-03-06T17:00:00+01:00");
  EXPECT_EQ(e.state, v1::SLA_STATE_ON_TRACK);
  EXPECT_EQ(e.next_change, T("2026-03-09T09:06:00+01:00"));
  EXPECT_EQ(e.escalation_due, v1::ESCALATION_ACTION_UNSPECIFIED);

  e = At("2026-03-09T09:05:59+01:00");
  EXPECT_EQ(e.state, v1::SLA_STATE_ON_TRACK);
  e = At("2026-03-09T09:06:00+01:00");
  EXPECT_EQ(e.state, v1::SLA_STATE_AT_RISK);
  EXPECT_EQ(e.next_change, T("2026-03-09T09:30:00+01:00"));
  // Due "by 09:30": still at risk at 09:30 itself.
  e = At("2026-03-09T09:30:00+01:00");
  EXPECT_EQ(e.state, v1::SLA_STATE_AT_RISK);
  e = At("2026-03-09T09:30:01+01:00");
  EXPECT_EQ(e.state, v1::SLA_STATE_BREACHED);
  EXPECT_EQ(e.breached_at, T("2026-03-09T09:30:00+01:00"));
}

TEST_F(HighLeadTest, EveryEscalationStep) {
  struct Step {
    const char* now;
    int step;
    v1::EscalationAction action;
    const char* next_change;
  };
  // Steps count business time from the first-touch breach at Monday 09:30:
  // +0 at once, +2h at 11:30, +8h on Tuesday 09:30 (2h30 + 5h Monday, then
  // 0h30), +16h on Wednesday 09:30.
  const Step steps[] = {
      {"2026-03-09T09:30:01+01:00", 0, v1::ESCALATION_ACTION_REMIND_OWNER,
       "2026-03-09T11:30:00+01:00"},
      {"2026-03-09T11:29:59+01:00", 0, v1::ESCALATION_ACTION_REMIND_OWNER,
       "2026-03-09T11:30:00+01:00"},
      // Lunch and the evening do not count.
      {"2026-03-09T11:30:00+01:00", 1, v1::ESCALATION_ACTION_REASSIGN,
       "2026-03-10T09:30:00+01:00"},
      {"2026-03-09T23:00:00+01:00", 1, v1::ESCALATION_ACTION_REASSIGN,
       "2026-03-10T09:30:00+01:00"},
      {"2026-03-10T09:30:00+01:00", 2,
       v1::ESCALATION_ACTION_ESCALATE_TO_MANAGER, "2026-03-11T09:30:00+01:00"},
      {"2026-03-11T09:30:00+01:00", 3, v1::ESCALATION_ACTION_RECYCLE, nullptr},
      {"2026-04-30T12:00:00+02:00", 3, v1::ESCALATION_ACTION_RECYCLE, nullptr},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.now);
    const SlaEvaluation e = At(step.now);
    EXPECT_EQ(e.state, v1::SLA_STATE_BREACHED);
    EXPECT_EQ(e.escalation_step, step.step);
    EXPECT_EQ(e.escalation_due, step.action);
    EXPECT_EQ(e.next_change, step.next_change == nullptr
                                 ? absl::InfiniteFuture()
                                 : T(step.next_change));
  }
}

TEST_F(HighLeadTest, EscalationsCountFromTheOpenBreach) {
  // Touched in time but never accepted: the accept/reject breach at Monday
  // 16:30 starts the steps; +2h is Tuesday 09:30 (1h30 on Monday).
  SlaProgress progress;
  progress.first_touched_at = T("2026-03-09T09:00:00+01:00");
  SlaEvaluation e = At("2026-03-09T16:30:01+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_BREACHED);
  EXPECT_EQ(e.breached_at, T("2026-03-09T16:30:00+01:00"));
  EXPECT_EQ(e.escalation_due, v1::ESCALATION_ACTION_REMIND_OWNER);
  EXPECT_EQ(e.next_change, T("2026-03-10T09:30:00+01:00"));
  e = At("2026-03-10T09:30:00+01:00", progress);
  EXPECT_EQ(e.escalation_due, v1::ESCALATION_ACTION_REASSIGN);
}

TEST_F(HighLeadTest, Met) {
  SlaProgress progress;
  progress.first_touched_at = T("2026-03-09T09:00:00+01:00");
  progress.sales_decision_at = T("2026-03-09T15:00:00+01:00");
  SlaEvaluation e = At("2026-03-09T15:00:00+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_MET);
  EXPECT_EQ(e.next_change, absl::InfiniteFuture());
  // Exactly at the due time still meets it.
  progress.first_touched_at = T("2026-03-09T09:30:00+01:00");
  progress.sales_decision_at = T("2026-03-09T16:30:00+01:00");
  e = At("2026-03-20T12:00:00+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_MET);
}

TEST_F(HighLeadTest, PartlyDone) {
  // Touched in time, decision still open and past its at-risk share.
  SlaProgress progress;
  progress.first_touched_at = T("2026-03-09T09:00:00+01:00");
  SlaEvaluation e = At("2026-03-09T14:53:59+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_ON_TRACK);
  EXPECT_EQ(e.next_change, T("2026-03-09T14:54:00+01:00"));
  e = At("2026-03-09T15:00:00+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_AT_RISK);
  EXPECT_EQ(e.next_change, T("2026-03-09T16:30:00+01:00"));
}

TEST_F(HighLeadTest, MetLateIsBreachedWithoutEscalation) {
  SlaProgress progress;
  progress.first_touched_at = T("2026-03-09T10:00:00+01:00");
  progress.sales_decision_at = T("2026-03-09T11:00:00+01:00");
  const SlaEvaluation e = At("2026-03-09T12:00:00+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_BREACHED);
  EXPECT_EQ(e.breached_at, T("2026-03-09T09:30:00+01:00"));
  EXPECT_EQ(e.escalation_step, -1);
  EXPECT_EQ(e.escalation_due, v1::ESCALATION_ACTION_UNSPECIFIED);
}

TEST_F(HighLeadTest, WhatHappensLaterIsNotKnownYet) {
  SlaProgress progress;
  progress.first_touched_at = T("2026-03-09T09:00:00+01:00");
  progress.sales_decision_at = T("2026-03-09T09:00:00+01:00");
  EXPECT_EQ(At("2026-03-06T17:00:00+01:00", progress).state,
            v1::SLA_STATE_ON_TRACK);
}

TEST_F(HighLeadTest, FeedbackAfterMeeting) {
  // Meeting on Tuesday 10 March at 14:00; feedback due 16 business hours
  // later: Tuesday 4h, Wednesday 8h, Thursday 09-12 and 13-14: Thursday
  // 14:00. At risk from 12h48: Thursday 09:48.
  SlaProgress progress;
  progress.first_touched_at = T("2026-03-09T09:00:00+01:00");
  progress.sales_decision_at = T("2026-03-09T10:00:00+01:00");
  progress.meeting_held_at = T("2026-03-10T14:00:00+01:00");
  // Before the meeting, nothing is due for it.
  SlaEvaluation e = At("2026-03-10T13:00:00+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_MET);
  EXPECT_EQ(e.feedback_due, absl::InfiniteFuture());

  e = At("2026-03-11T10:00:00+01:00", progress);
  EXPECT_EQ(e.feedback_due, T("2026-03-12T14:00:00+01:00"));
  EXPECT_EQ(e.state, v1::SLA_STATE_ON_TRACK);
  EXPECT_EQ(e.next_change, T("2026-03-12T09:48:00+01:00"));
  e = At("2026-03-12T10:00:00+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_AT_RISK);
  e = At("2026-03-12T14:00:01+01:00", progress);
  EXPECT_EQ(e.state, v1::SLA_STATE_BREACHED);
  EXPECT_EQ(e.breached_at, T("2026-03-12T14:00:00+01:00"));
  EXPECT_EQ(e.escalation_due, v1::ESCALATION_ACTION_REMIND_OWNER);

  // Feedback given before the meeting does not count for it.
  progress.feedback_at = T("2026-03-10T09:00:00+01:00");
  EXPECT_EQ(At("2026-03-12T14:00:01+01:00", progress).state,
            v1::SLA_STATE_BREACHED);
  progress.feedback_at = T("2026-03-12T13:00:00+01:00");
  EXPECT_EQ(At("2026-03-12T14:00:01+01:00", progress).state, v1::SLA_STATE_MET);
}

TEST(SlaTest, OutOfHoursArrivalAndAtRiskRatio) {
  const Sla sla = Compiled();
  // URGENT lead on Saturday: the clock starts Monday 09:00. Touch due at
  // 09:30, at risk from half of it (09:15); decision due at 13:00 (09-12,
  // then 13:00 ends the fourth hour since lunch does not count).
  const absl::Time saturday = T("2026-03-07T11:00:00+01:00");
  SlaEvaluation e = sla.Evaluate(v1::PRIORITY_URGENT, saturday, {},
                                 T("2026-03-09T09:14:00+01:00"));
  EXPECT_EQ(e.first_touch_due, T("2026-03-09T09:30:00+01:00"));
  EXPECT_EQ(e.accept_or_reject_due, T("2026-03-09T14:00:00+01:00"));
  EXPECT_EQ(e.state, v1::SLA_STATE_ON_TRACK);
  EXPECT_EQ(e.next_change, T("2026-03-09T09:15:00+01:00"));
  e = sla.Evaluate(v1::PRIORITY_URGENT, saturday, {},
                   T("2026-03-09T09:15:00+01:00"));
  EXPECT_EQ(e.state, v1::SLA_STATE_AT_RISK);
  // No escalation steps in this policy.
  e = sla.Evaluate(v1::PRIORITY_URGENT, saturday, {},
                   T("2026-03-12T09:15:00+01:00"));
  EXPECT_EQ(e.state, v1::SLA_STATE_BREACHED);
  EXPECT_EQ(e.escalation_due, v1::ESCALATION_ACTION_UNSPECIFIED);
  EXPECT_EQ(e.next_change, absl::InfiniteFuture());
}

TEST(SlaTest, FirstTouchLongerThanDecision) {
  // LOW: the decision (2 days) is due before the touch (3 days), and is at
  // risk after 12h48: Tuesday 14:48.
  const Sla sla = Compiled();
  const SlaEvaluation e =
      sla.Evaluate(v1::PRIORITY_LOW, T("2026-03-02T09:00:00+01:00"), {},
                   T("2026-03-02T09:00:00+01:00"));
  EXPECT_EQ(e.accept_or_reject_due, T("2026-03-03T18:00:00+01:00"));
  EXPECT_EQ(e.first_touch_due, T("2026-03-04T18:00:00+01:00"));
  EXPECT_EQ(e.next_change, T("2026-03-03T14:48:00+01:00"));
}

TEST(SlaTest, AcrossDaylightSaving) {
  const Sla sla = Compiled();
  // Friday 27 March 17:30 winter time + 2h: 30 min on Friday, 1h30 on
  // Monday 30 March, summer time.
  const SlaEvaluation e =
      sla.Evaluate(v1::PRIORITY_HIGH, T("2026-03-27T17:30:00+01:00"), {},
                   T("2026-03-27T17:30:00+01:00"));
  EXPECT_EQ(e.first_touch_due, T("2026-03-30T10:30:00+02:00"));
  // Autumn: Friday 23 October 17:30 summer time -> Monday 26, winter time.
  const SlaEvaluation autumn =
      sla.Evaluate(v1::PRIORITY_HIGH, T("2026-10-23T17:30:00+02:00"), {},
                   T("2026-10-23T17:30:00+02:00"));
  EXPECT_EQ(autumn.first_touch_due, T("2026-10-26T10:30:00+01:00"));
}

TEST(SlaTest, TeamCalendar) {
  const Sla sla = Compiled();
  BusinessCalendar new_york;
  ProblemList problems;
  v1::BusinessCalendar proto;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(time_zone: "America/New_York"
           working_hours { weekday: WEEKDAY_MONDAY start: "09:00" end: "17:00" }
           working_hours { weekday: WEEKDAY_FRIDAY start: "09:00" end: "17:00" }
      )pb",
      &proto));
  ASSERT_TRUE(new_york.Compile(proto, "routing.teams[0].calendar", &problems));
  // Friday 16:30 New York + 2h: Friday 0h30, Monday 09:00-10:30.
  const SlaEvaluation e =
      sla.Evaluate(v1::PRIORITY_HIGH, T("2026-03-06T16:30:00-05:00"), {},
                   T("2026-03-06T16:30:00-05:00"), &new_york);
  EXPECT_EQ(e.first_touch_due, T("2026-03-09T10:30:00-04:00"));
}

TEST(SlaTest, NoPolicyForThePriority) {
  const Sla sla = Compiled();
  const SlaEvaluation e =
      sla.Evaluate(v1::PRIORITY_MEDIUM, T("2026-03-02T09:00:00+01:00"), {},
                   T("2026-03-09T09:00:00+01:00"));
  EXPECT_EQ(e.state, v1::SLA_STATE_UNSPECIFIED);
  EXPECT_EQ(e.first_touch_due, absl::InfiniteFuture());
  EXPECT_EQ(sla.policy(v1::PRIORITY_MEDIUM), nullptr);
  EXPECT_EQ(sla.policy(static_cast<v1::Priority>(99)), nullptr);

  v1::SlaStatus status;
  SlaEvaluationToProto(e, &status);
  EXPECT_EQ(status.priority(), v1::PRIORITY_MEDIUM);
  EXPECT_EQ(status.state(), v1::SLA_STATE_UNSPECIFIED);
  EXPECT_TRUE(status.has_stage_entered_at());
  EXPECT_FALSE(status.has_first_touch_due());
  EXPECT_FALSE(status.has_accept_or_reject_due());
}

TEST(SlaTest, EmptySla) {
  Sla sla;
  ProblemList problems;
  ASSERT_TRUE(sla.Compile(v1::Sla(), "sla", &problems));
  EXPECT_FALSE(sla.has_policies());
  EXPECT_EQ(sla.default_calendar(), nullptr);
  EXPECT_EQ(sla.Evaluate(v1::PRIORITY_HIGH, T("2026-03-02T09:00:00Z"), {},
                         T("2026-03-02T09:00:00Z"))
                .state,
            v1::SLA_STATE_UNSPECIFIED);
}

TEST(SlaTest, ToProto) {
  const Sla sla = Compiled();
  SlaProgress progress;
  progress.meeting_held_at = T("2026-03-10T14:00:00+01:00");
  const SlaEvaluation e =
      sla.Evaluate(v1::PRIORITY_HIGH, T("2026-03-06T16:30:00+01:00"), progress,
                   T("2026-03-10T15:00:00+01:00"));
  v1::SlaStatus status;
  SlaEvaluationToProto(e, &status);
  v1::SlaStatus expected;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(priority: PRIORITY_HIGH
           stage_entered_at { seconds: 1772811000 }
           first_touch_due { seconds: 1773045000 }
           accept_or_reject_due { seconds: 1773070200 }
           feedback_due { seconds: 1773320400 }
           state: SLA_STATE_BREACHED
           escalation_due: ESCALATION_ACTION_ESCALATE_TO_MANAGER)pb",
      &expected));
  EXPECT_EQ(status.DebugString(), expected.DebugString());
  EXPECT_EQ(absl::FromUnixSeconds(status.first_touch_due().seconds()),
            T("2026-03-09T09:30:00+01:00"));
  EXPECT_EQ(absl::FromUnixSeconds(status.feedback_due().seconds()),
            T("2026-03-12T14:00:00+01:00"));
}

TEST(RecyclePolicyTest, Rejections) {
  const Sla sla = Compiled();
  const absl::Time at = T("2026-03-09T10:00:00+01:00");
  absl::StatusOr<RecycleOutcome> outcome =
      sla.recycle().OnRejection("bad_timing", at);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stage, v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(outcome->reason_code, "bad_timing");
  EXPECT_EQ(outcome->nurture_until, at + absl::Hours(24 * 30));

  outcome = sla.recycle().OnRejection("student", at);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stage, v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_EQ(outcome->reason_code, "student");

  outcome = sla.recycle().OnRejection("fake_project", at);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outcome.status().message(),
            "unknown rejection reason \"fake_project\"; the Playbook agrees "
            "on: bad_timing, no_budget, student");
}

TEST(RecyclePolicyTest, LossesAndBreaches) {
  const Sla sla = Compiled();
  const absl::Time at = T("2026-03-09T10:00:00+01:00");
  absl::StatusOr<RecycleOutcome> outcome =
      sla.recycle().OnLoss("lost_to_competitor", at);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stage, v1::LIFECYCLE_STAGE_NURTURE);
  outcome = sla.recycle().OnLoss("fake_project", at);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stage, v1::LIFECYCLE_STAGE_DISQUALIFIED);
  outcome = sla.recycle().OnLoss("bad_timing", at);
  EXPECT_EQ(outcome.status().message(),
            "unknown loss reason \"bad_timing\"; the Playbook agrees on: "
            "lost_to_competitor, fake_project");

  const RecycleOutcome breach = sla.recycle().OnBreach(at);
  EXPECT_EQ(breach.stage, v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(breach.reason_code, "sla_breach");
  EXPECT_EQ(breach.nurture_until, at + absl::Hours(24 * 30));

  RecyclePolicy none;
  ProblemList problems;
  ASSERT_TRUE(none.Compile(v1::RecyclePolicy(), "sla.recycle", &problems));
  EXPECT_EQ(none.OnRejection("x", at).status().message(),
            "unknown rejection reason \"x\"; the Playbook agrees on: none");
  EXPECT_EQ(none.OnBreach(at).nurture_until, at);
}

std::vector<std::pair<std::string, std::string>> ProblemsOf(
    const std::string& text) {
  Sla sla;
  ProblemList problems;
  EXPECT_FALSE(sla.Compile(Proto(text), "sla", &problems));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : problems.problems().problems()) {
    out.emplace_back(p.path(), p.message());
  }
  return out;
}

using Problems = std::vector<std::pair<std::string, std::string>>;

TEST(SlaValidationTest, Policies) {
  const Problems problems =
      ProblemsOf(std::string(R"pb(
                   policies {}
                   policies {
                     priority: PRIORITY_HIGH
                     first_touch { seconds: -60 }
                     accept_or_reject { seconds: 1 nanos: -5 }
                     feedback_after_meeting {}
                     at_risk_ratio: 1
                   }
                   policies {
                     priority: PRIORITY_HIGH
                     first_touch { seconds: 40000000 }
                     accept_or_reject { seconds: 60 }
                     at_risk_ratio: -0.5
                   }
                   policies {
                     priority: 42
                     first_touch { seconds: 60 }
                     accept_or_reject { seconds: 60 }
                     at_risk_ratio: nan
                   }
                   default_calendar {)pb") +
                 kParisOffice + "}");
  const Problems expected = {
      {"sla.policies[0].priority", "required: low, medium, high or urgent"},
      {"sla.policies[0].first_touch", "required, > 0"},
      {"sla.policies[0].accept_or_reject", "required, > 0"},
      {"sla.policies[1].first_touch", "must be > 0"},
      {"sla.policies[1].accept_or_reject",
       "malformed duration: nanos out of range or of the other sign than "
       "seconds"},
      {"sla.policies[1].feedback_after_meeting", "required, > 0"},
      {"sla.policies[1].at_risk_ratio",
       "must be between 0 and 1, both excluded (unset: 0.8)"},
      {"sla.policies[2].priority",
       "priority high already has a policy: policies[1]"},
      {"sla.policies[2].first_touch", "must be at most 366 days"},
      {"sla.policies[2].at_risk_ratio",
       "must be between 0 and 1, both excluded (unset: 0.8)"},
      {"sla.policies[3].priority", "unknown priority 42"},
      {"sla.policies[3].at_risk_ratio",
       "must be between 0 and 1, both excluded (unset: 0.8)"},
  };
  EXPECT_EQ(problems, expected);
}

TEST(SlaValidationTest, Escalations) {
  const Problems problems =
      ProblemsOf(std::string(R"pb(
                   policies {
                     priority: PRIORITY_URGENT
                     first_touch { seconds: 60 }
                     accept_or_reject { seconds: 60 }
                     escalations {
                       after_breach { seconds: 3600 }
                       action: ESCALATION_ACTION_REMIND_OWNER
                     }
                     escalations {
                       after_breach { seconds: 3600 }
                       action: ESCALATION_ACTION_REASSIGN
                     }
                     escalations { after_breach { seconds: 7200 } }
                     escalations {
                       after_breach { seconds: -1 }
                       action: ESCALATION_ACTION_RECYCLE
                     }
                     escalations {
                       after_breach { seconds: 9000 }
                       action: 17
                     }
                   }
                   default_calendar {)pb") +
                 kParisOffice + "}");
  const Problems expected = {
      {"sla.policies[0].escalations[1].after_breach",
       "must be after the previous step's (1h): steps come by increasing "
       "delay"},
      {"sla.policies[0].escalations[2].action",
       "required: remind_owner, reassign, escalate_to_manager or recycle"},
      {"sla.policies[0].escalations[3].after_breach", "must not be negative"},
      {"sla.policies[0].escalations[4].action", "unknown action 17"},
  };
  EXPECT_EQ(problems, expected);
}

TEST(SlaValidationTest, CalendarAndRecycle) {
  const Problems problems = ProblemsOf(R"pb(
    policies {
      priority: PRIORITY_LOW
      first_touch { seconds: 60 }
      accept_or_reject { seconds: 60 }
    }
    recycle {
      rejection_reasons { code: "bad_timing" }
      rejection_reasons { code: "" }
      rejection_reasons { code: "bad_timing" }
      rejection_reasons { code: "sla_breach" }
      loss_reasons { code: "price" }
      loss_reasons { code: "price" }
      nurture_cooldown { seconds: -86400 }
    }
  )pb");
  const Problems expected = {
      {"sla.default_calendar",
       "required when policies exist: deadlines count business time on it "
       "for teams without a calendar"},
      {"sla.recycle.rejection_reasons[1].code", "required"},
      {"sla.recycle.rejection_reasons[2].code",
       "duplicate code \"bad_timing\", also rejection_reasons[0]"},
      {"sla.recycle.rejection_reasons[3].code",
       "\"sla_breach\" is reserved for leads the SLA recycles"},
      {"sla.recycle.loss_reasons[1].code",
       "duplicate code \"price\", also loss_reasons[0]"},
      {"sla.recycle.nurture_cooldown", "must not be negative"},
  };
  EXPECT_EQ(problems, expected);
  // The calendar's own problems carry its path.
  EXPECT_EQ(ProblemsOf("default_calendar { time_zone: \"Mars/Olympus\" "
                       "working_hours { weekday: WEEKDAY_MONDAY start: "
                       "\"09:00\" end: \"17:00\" } }"),
            (Problems{{"sla.default_calendar.time_zone",
                       "unknown IANA time zone \"Mars/Olympus\""}}));
}

}  // namespace
}  // namespace smarketing
