// The weekly review: every figure computed by hand on small hand-built
// lead histories, in the Paris reporting time zone.
#include "core/review/review.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/proto_time.h"
#include "core/review/review_facts.h"
#include "core/review/review_render.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::PlaybookFromYaml;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Weekdays 09:00-17:00 in Paris; first touch in 2 business hours, a
// decision in 8.
constexpr char kPlaybook[] = R"(
metadata: {name: review, version: "1", reporting_time_zone: Europe/Paris}
sla:
  policies:
    - {priority: high, first_touch: 2h, accept_or_reject: 8h}
  default_calendar:
    time_zone: Europe/Paris
    working_hours:
      - {weekday: monday, start: "09:00", end: "17:00"}
      - {weekday: tuesday, start: "09:00", end: "17:00"}
      - {weekday: wednesday, start: "09:00", end: "17:00"}
      - {weekday: thursday, start: "09:00", end: "17:00"}
      - {weekday: friday, start: "09:00", end: "17:00"}
  recycle:
    rejection_reasons:
      - {code: no_budget, recycle: true}
      - {code: student, recycle: false}
routing:
  teams: [{id: emea}, {id: na}]
objectives:
  - {id: nov-mqls, period_start: {year: 2026, month: 11, day: 1},
     period_end: {year: 2026, month: 11, day: 30}, metric: mqls, target: 21}
  - {id: nov-meetings, period_start: {year: 2026, month: 11, day: 1},
     period_end: {year: 2026, month: 11, day: 30}, metric: meeting_rate, target: 0.5}
  - {id: nov-margin, period_start: {year: 2026, month: 11, day: 1},
     period_end: {year: 2026, month: 11, day: 30}, metric: margin, target: 1000}
  - {id: na-customers, team_id: na, period_start: {year: 2026, month: 11, day: 1},
     period_end: {year: 2026, month: 11, day: 30}, metric: customers, target: 2}
  - {id: q1-mqls, period_start: {year: 2027, month: 1, day: 1},
     period_end: {year: 2027, month: 3, day: 31}, metric: mqls, target: 300}
)";

// A stored lead as the review reads it.
struct History {
  v1::Lead lead;
  v1::LeadLifecycle lifecycle;
  v1::ScoreResult score;
  std::vector<v1::Feedback> feedback;

  History(const char* id, const char* team, const char* owner,
          const char* campaign = "c1", const char* source = "web",
          const char* persona = "p1", const char* grade = "A") {
    lead.set_id(id);
    lead.set_campaign(campaign);
    lead.set_source(source);
    score.set_persona_id(persona);
    score.set_grade(grade);
    score.set_priority(v1::PRIORITY_HIGH);
    score.mutable_routing()->set_team_id(team);
    score.mutable_routing()->set_owner_id(owner);
    lifecycle.set_stage(v1::LIFECYCLE_STAGE_NEW);
  }
  History& Move(v1::LifecycleStage to, const char* at,
                const char* reason = "") {
    v1::StageTransition* t = lifecycle.add_history();
    t->set_from(lifecycle.stage());
    t->set_to(to);
    t->set_reason_code(reason);
    TimeToProto(At(at), t->mutable_at());
    lifecycle.set_stage(to);
    if (to == v1::LIFECYCLE_STAGE_MQL) {
      TimeToProto(At(at), lifecycle.mutable_mql_at());
      lifecycle.clear_first_touched_at();
      lifecycle.clear_sales_decision_at();
    }
    return *this;
  }
  History& Mql(const char* at) { return Move(v1::LIFECYCLE_STAGE_MQL, at); }
  History& Touch(const char* at) {
    TimeToProto(At(at), lifecycle.mutable_first_touched_at());
    return *this;
  }
  v1::Feedback& Add(const char* at) {
    v1::Feedback& f = feedback.emplace_back();
    f.set_lead_id(lead.id());
    TimeToProto(At(at), f.mutable_at());
    return f;
  }
  History& Accept(const char* at) {
    Add(at).mutable_accepted();
    TimeToProto(At(at), lifecycle.mutable_sales_decision_at());
    return Move(v1::LIFECYCLE_STAGE_SAL, at);
  }
  History& Reject(const char* at, const char* reason, bool recycle = true) {
    Add(at).mutable_rejected()->set_reason_code(reason);
    TimeToProto(At(at), lifecycle.mutable_sales_decision_at());
    return Move(recycle ? v1::LIFECYCLE_STAGE_NURTURE
                        : v1::LIFECYCLE_STAGE_DISQUALIFIED,
                at, reason);
  }
  History& Meeting(const char* at) {
    Add(at).mutable_meeting_held();
    return *this;
  }
  History& Won(const char* at, double revenue, std::optional<double> margin) {
    v1::Feedback::Won* won = Add(at).mutable_won();
    won->mutable_revenue()->set_amount(revenue);
    if (margin) won->mutable_margin()->set_amount(*margin);
    return *this;
  }
};

absl::TimeZone Paris() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Paris", &zone));
  return zone;
}

v1::Review Review(const std::vector<History>& leads, const char* week,
                  const char* now, v1::ReviewFilter filter = {}) {
  auto period = IsoWeek(week, Paris());
  EXPECT_TRUE(period.ok()) << period.status();
  ReviewRequest request{*period, filter, At(now)};
  auto builder =
      ReviewBuilder::Create(PlaybookFromYaml(kPlaybook), "review@1", request);
  EXPECT_TRUE(builder.ok()) << builder.status();
  for (const History& h : leads) {
    (*builder)->Add(h.lead, h.lifecycle, h.score, h.feedback);
  }
  return (*builder)->Build();
}

const v1::ObjectiveProgress& Objective(const v1::Review& review,
                                       const std::string& id) {
  for (const auto& o : review.objectives()) {
    if (o.objective_id() == id) return o;
  }
  ADD_FAILURE() << "no objective " << id;
  static const v1::ObjectiveProgress none;
  return none;
}

std::vector<std::string> Ids(const v1::Review& review) {
  std::vector<std::string> ids;
  for (const auto& u : review.sales().untreated()) ids.push_back(u.lead_id());
  return ids;
}

// Week 48 of 2026 in Paris: Monday 23 November 00:00 CET (22 Nov 23:00Z)
// to Monday 30 November; week 47 before it.
std::vector<History> Week48() {
  std::vector<History> leads;
  // Touched after 1 business hour, accepted on time, won.
  leads.emplace_back("a", "emea", "alice")
      .Mql("2026-11-23T08:00:00Z")
      .Touch("2026-11-23T09:00:00Z")
      .Accept("2026-11-23T11:00:00Z")
      .Meeting("2026-11-25T10:00:00Z")
      .Won("2026-11-26T10:00:00Z", 500, 200);
  // MQL at 16:00 on Monday: 1 business hour that day, 2 the next morning,
  // so touched after 3 (due after 2: late); rejected within 8 (on time).
  leads.emplace_back("b", "emea", "alice")
      .Mql("2026-11-23T15:00:00Z")
      .Touch("2026-11-24T10:00:00Z")
      .Reject("2026-11-24T11:00:00Z", "no_budget");
  // Never touched: both deadlines missed; still waiting.
  leads.emplace_back("c", "emea", "bob").Mql("2026-11-25T08:00:00Z");
  // Became MQL in week 47, rejected in week 48 as a student.
  leads.emplace_back("d", "na", "carol", "c2", "ads", "p2", "B")
      .Mql("2026-11-19T10:00:00Z")
      .Reject("2026-11-23T10:00:00Z", "student", /*recycle=*/false);
  // Became MQL in week 47 and still waits: the oldest untreated lead.
  leads.emplace_back("e", "emea", "bob").Mql("2026-11-18T08:00:00Z");
  return leads;
}

constexpr char kNow[] = "2026-12-01T12:00:00Z";

TEST(ReviewTest, IsoWeeksAreCutInTheReportingTimeZone) {
  auto w48 = IsoWeek("2026-W48", Paris());
  ASSERT_TRUE(w48.ok());
  EXPECT_EQ(w48->start, At("2026-11-22T23:00:00Z"));
  EXPECT_EQ(w48->end, At("2026-11-29T23:00:00Z"));
  EXPECT_EQ(w48->label, "2026-W48");
  EXPECT_EQ(IsoWeekOf(At("2026-11-22T23:30:00Z"), Paris()).label, "2026-W48");
  EXPECT_EQ(IsoWeekOf(At("2026-11-22T22:30:00Z"), Paris()).label, "2026-W47");
  // 2026 starts on a Thursday: it has a week 53, 2025 has not; 1 January
  // 2027 belongs to 2026-W53.
  EXPECT_TRUE(IsoWeek("2026-W53", Paris()).ok());
  EXPECT_EQ(IsoWeekOf(At("2027-01-01T12:00:00Z"), Paris()).label, "2026-W53");
  for (const char* bad :
       {"2025-W53", "2026-48", "2026-W00", "2026-W5", "W48", "2026-W48x", ""}) {
    auto period = IsoWeek(bad, Paris(), "week");
    EXPECT_EQ(period.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(period.status().message(), HasSubstr("week")) << bad;
  }
}

TEST(ReviewTest, EmptyPeriodHasZerosAndSaysWhatItCannotCompute) {
  const v1::Review review = Review({}, "2026-W48", kNow);
  EXPECT_EQ(review.period_label(), "2026-W48");
  EXPECT_EQ(review.time_zone(), "Europe/Paris");
  EXPECT_EQ(review.marketing().mqls().value(), 0);
  EXPECT_TRUE(review.marketing().mqls().available());
  EXPECT_FALSE(review.marketing().acceptance_rate().available());
  EXPECT_FALSE(review.sales().first_touch_rate().available());
  EXPECT_EQ(review.sales().total().first_touch().due(), 0);
  EXPECT_TRUE(review.sales().untreated().empty());
  ASSERT_EQ(review.weekly_size(), 12);
  EXPECT_EQ(review.weekly(0).week(), "2026-W37");
  EXPECT_EQ(review.weekly(11).week(), "2026-W48");
  EXPECT_EQ(review.closed_loop(11).total().mqls(), 0);
  // Counts are known to be zero; a rate of nothing is not a rate.
  EXPECT_EQ(Objective(review, "nov-mqls").status(),
            v1::OBJECTIVE_STATUS_OFF_TRACK);
  EXPECT_TRUE(Objective(review, "nov-mqls").available());
  EXPECT_EQ(Objective(review, "nov-meetings").status(),
            v1::OBJECTIVE_STATUS_NO_DATA);
  EXPECT_FALSE(Objective(review, "nov-meetings").available());
  EXPECT_THAT(Objective(review, "nov-meetings").unavailable_reason(),
              HasSubstr("no lead accepted"));
}

TEST(ReviewTest, ObjectivesOverlappingThePeriodWithPaceAndProjection) {
  const v1::Review review = Review(Week48(), "2026-W48", kNow);
  std::vector<std::string> ids;
  for (const auto& o : review.objectives()) ids.push_back(o.objective_id());
  // The Q1 2027 objective does not overlap week 48.
  EXPECT_THAT(ids, ElementsAre("nov-mqls", "nov-meetings", "nov-margin",
                               "na-customers"));
  // November 2026 has 21 weekdays; 20 are over when week 48 ends.
  const auto& mqls = Objective(review, "nov-mqls");
  EXPECT_EQ(mqls.business_days_total(), 21);
  EXPECT_EQ(mqls.business_days_elapsed(), 20);
  EXPECT_EQ(mqls.actual(), 5);
  EXPECT_DOUBLE_EQ(mqls.share_done(), 5.0 / 21);
  EXPECT_DOUBLE_EQ(mqls.expected_by_now(), 20);
  EXPECT_DOUBLE_EQ(mqls.projection(), 5.0 * 21 / 20);
  EXPECT_EQ(mqls.status(), v1::OBJECTIVE_STATUS_OFF_TRACK);
  // One meeting per accepted lead: a rate, on track.
  const auto& meetings = Objective(review, "nov-meetings");
  EXPECT_DOUBLE_EQ(meetings.actual(), 1.0);
  EXPECT_DOUBLE_EQ(meetings.expected_by_now(), 0.5);
  EXPECT_EQ(meetings.status(), v1::OBJECTIVE_STATUS_ON_TRACK);
  EXPECT_DOUBLE_EQ(Objective(review, "nov-margin").actual(), 200);
  // North America's objective counts its own team's leads only.
  EXPECT_EQ(Objective(review, "na-customers").actual(), 0);
  EXPECT_TRUE(Objective(review, "na-customers").available());
  // The MQL objective pro rata of the week's 5 business days.
  EXPECT_DOUBLE_EQ(review.marketing().mql_target().value(), 21.0 * 5 / 21);
}

// The Playbook's version 2: a higher November MQL target, no margin
// objective, one for December, and reporting in UTC.
v1::Playbook Version2() {
  v1::Playbook p = PlaybookFromYaml(kPlaybook);
  p.mutable_metadata()->set_version("2");
  p.mutable_metadata()->set_reporting_time_zone("UTC");
  auto* objectives = p.mutable_objectives();
  for (int i = objectives->size() - 1; i >= 0; --i) {
    if (objectives->Get(i).id() == "nov-mqls") {
      objectives->Mutable(i)->set_target(30);
    }
    if (objectives->Get(i).id() == "nov-margin")
      objectives->DeleteSubrange(i, 1);
  }
  v1::Objective* december = p.add_objectives();
  december->set_id("dec-mqls");
  december->set_metric(v1::OBJECTIVE_METRIC_MQLS);
  december->set_target(40);
  *december->mutable_period_start() = [] {
    v1::LocalDate d;
    d.set_year(2026);
    d.set_month(11);
    d.set_day(26);
    return d;
  }();
  *december->mutable_period_end() = [] {
    v1::LocalDate d;
    d.set_year(2026);
    d.set_month(12);
    d.set_day(31);
    return d;
  }();
  return p;
}

TEST(ReviewTest, APeriodSpanningAnActivationTakesObjectivesFromBothVersions) {
  // Version 2 replaced version 1 on the Wednesday of week 48.
  std::vector<ReviewPlaybook> versions(2);
  versions[0] = {
      PlaybookFromYaml(kPlaybook), 1,    "review@1", At("2026-11-01T00:00:00Z"),
      At("2026-11-25T12:00:00Z"),  "ops"};
  versions[1] = {Version2(),
                 2,
                 "review@2",
                 At("2026-11-25T12:00:00Z"),
                 absl::InfiniteFuture(),
                 "admin"};
  auto period = IsoWeek("2026-W48", Paris());
  ASSERT_TRUE(period.ok());
  auto builder = ReviewBuilder::Create(versions, {*period, {}, At(kNow)});
  ASSERT_TRUE(builder.ok()) << builder.status();
  for (const History& h : Week48()) {
    (*builder)->Add(h.lead, h.lifecycle, h.score, h.feedback);
  }
  const v1::Review review = (*builder)->Build();

  std::vector<std::string> declared;
  for (const auto& o : review.objectives()) {
    declared.push_back(absl::StrCat(o.objective_id(), " ", o.playbook_version(),
                                    " #", o.playbook_number()));
  }
  // Version 2's objectives, then version 1's it did not redeclare: the
  // margin objective was in force until Wednesday.
  EXPECT_THAT(declared,
              ElementsAre("nov-mqls review@2 #2", "nov-meetings review@2 #2",
                          "na-customers review@2 #2", "dec-mqls review@2 #2",
                          "nov-margin review@1 #1"));
  // The latest declaration of an objective wins.
  EXPECT_EQ(Objective(review, "nov-mqls").target(), 30);
  EXPECT_DOUBLE_EQ(review.marketing().mql_target().value(), 30.0 * 5 / 21);
  EXPECT_DOUBLE_EQ(Objective(review, "nov-margin").actual(), 200);
  // The version in force at the period's end sets the zone.
  EXPECT_EQ(review.time_zone(), "UTC");
  EXPECT_EQ(review.playbook_version(), "review@2");

  ASSERT_EQ(review.playbook_versions_size(), 2);
  const v1::ReviewPlaybookVersion& first = review.playbook_versions(0);
  EXPECT_EQ(first.number(), 1);
  EXPECT_EQ(first.label(), "review@1");
  EXPECT_EQ(TimeFromProto(first.active_from()), At("2026-11-01T00:00:00Z"));
  EXPECT_EQ(TimeFromProto(first.active_until()), At("2026-11-25T12:00:00Z"));
  EXPECT_EQ(first.activated_by(), "ops");
  const v1::ReviewPlaybookVersion& second = review.playbook_versions(1);
  EXPECT_EQ(second.number(), 2);
  EXPECT_EQ(TimeFromProto(second.active_from()), At("2026-11-25T12:00:00Z"));
  EXPECT_FALSE(second.has_active_until()) << "still active";
  EXPECT_EQ(second.activated_by(), "admin");

  const std::string text = RenderReviewText(review);
  EXPECT_THAT(text, HasSubstr("2026-11-01 00:00"));
  EXPECT_THAT(text, HasSubstr("2026-11-25 12:00"));
  EXPECT_THAT(text, HasSubstr("still active"));
  EXPECT_THAT(RenderReviewMarkdown(review),
              HasSubstr("| review@1 | 1 | 2026-11-01 00:00 |"));
  EXPECT_THAT(RenderReviewHtml(review), HasSubstr("<td>review@2</td>"));
}

TEST(ReviewTest, AVersionAloneIsReportedWithoutActivationTimes) {
  const v1::Review review = Review({}, "2026-W48", kNow);
  ASSERT_EQ(review.playbook_versions_size(), 1);
  EXPECT_EQ(review.playbook_versions(0).label(), "review@1");
  EXPECT_FALSE(review.playbook_versions(0).has_active_from());
  EXPECT_FALSE(review.playbook_versions(0).has_active_until());
  EXPECT_EQ(Objective(review, "nov-mqls").playbook_version(), "review@1");
}

TEST(ReviewTest, MarginWithoutDataIsSaidUnavailable) {
  std::vector<History> leads;
  leads.emplace_back("a", "emea", "alice")
      .Mql("2026-11-23T08:00:00Z")
      .Won("2026-11-24T08:00:00Z", 100, std::nullopt);
  const v1::Review review = Review(leads, "2026-W48", kNow);
  const auto& margin = Objective(review, "nov-margin");
  EXPECT_FALSE(margin.available());
  EXPECT_EQ(margin.status(), v1::OBJECTIVE_STATUS_NO_DATA);
  EXPECT_THAT(margin.unavailable_reason(), HasSubstr("margin"));
  EXPECT_EQ(margin.actual(), 0);
}

TEST(ReviewTest, MarketingSideCountsThePeriodAgainstThePrevious) {
  const v1::Review review = Review(Week48(), "2026-W48", kNow);
  const v1::MarketingScorecard& m = review.marketing();
  EXPECT_EQ(m.mqls().value(), 3);
  EXPECT_EQ(m.mqls().previous(), 2);
  EXPECT_EQ(m.mqls().change(), 1);
  EXPECT_EQ(m.accepted().value(), 1);
  // d became MQL in week 47 but was rejected in week 48.
  EXPECT_EQ(m.rejected().value(), 2);
  EXPECT_DOUBLE_EQ(m.acceptance_rate().value(), 1.0 / 3);
  EXPECT_FALSE(m.acceptance_rate().previous_available());
  ASSERT_EQ(m.rejection_reasons_size(), 2);
  EXPECT_EQ(m.rejection_reasons(0).reason_code(), "no_budget");
  EXPECT_THAT(m.rejection_reasons(0).example_lead_ids(), ElementsAre("b"));
  EXPECT_EQ(m.rejection_reasons(1).reason_code(), "student");
  ASSERT_EQ(m.mqls_by_persona_size(), 1);
  EXPECT_EQ(m.mqls_by_persona(0).key(), "p1");
  EXPECT_EQ(m.mqls_by_persona(0).count(), 3);
  EXPECT_EQ(m.recycled(), 1);
  EXPECT_EQ(m.requalified(), 0);
}

TEST(ReviewTest, SalesSideRatesTimesAndUntreatedLeads) {
  const v1::Review review = Review(Week48(), "2026-W48", kNow);
  const v1::SlaCompliance& total = review.sales().total();
  EXPECT_EQ(total.mqls(), 3);
  // a on time, b late, c never touched and past due.
  EXPECT_EQ(total.first_touch().on_time(), 1);
  EXPECT_EQ(total.first_touch().due(), 3);
  EXPECT_DOUBLE_EQ(total.first_touch().rate(), 1.0 / 3);
  // a and b decided on time, c never.
  EXPECT_EQ(total.accept_or_reject().on_time(), 2);
  EXPECT_EQ(total.accept_or_reject().due(), 3);
  EXPECT_EQ(total.breaches(), 3);
  EXPECT_EQ(total.touched(), 2);
  // Business hours to first touch: 1 and 3.
  EXPECT_DOUBLE_EQ(total.median_hours_to_first_touch(), 2);
  EXPECT_DOUBLE_EQ(total.p90_hours_to_first_touch(), 3);
  // Week 47's MQLs (d, e) were never touched.
  EXPECT_DOUBLE_EQ(review.sales().first_touch_rate().value(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(review.sales().first_touch_rate().previous(), 0);
  EXPECT_TRUE(review.sales().first_touch_rate().previous_available());

  ASSERT_EQ(review.sales().by_team_size(), 1);
  EXPECT_EQ(review.sales().by_team(0).team_id(), "emea");
  ASSERT_EQ(review.sales().by_owner_size(), 2);
  EXPECT_EQ(review.sales().by_owner(0).owner_id(), "alice");
  EXPECT_EQ(review.sales().by_owner(0).mqls(), 2);
  EXPECT_EQ(review.sales().by_owner(0).first_touch().on_time(), 1);
  EXPECT_EQ(review.sales().by_owner(1).owner_id(), "bob");
  EXPECT_EQ(review.sales().by_owner(1).first_touch().due(), 1);

  // Oldest first; c waited Wed to Fri, Monday and Tuesday until 13:00.
  EXPECT_THAT(Ids(review), ElementsAre("e", "c"));
  EXPECT_DOUBLE_EQ(review.sales().untreated(1).business_hours_waiting(),
                   8 * 4 + 4);
  EXPECT_EQ(review.sales().untreated(1).sla_state(), v1::SLA_STATE_BREACHED);
}

TEST(ReviewTest, FunnelVelocityAndClosedLoopByMqlWeek) {
  const v1::Review review = Review(Week48(), "2026-W48", kNow);
  const v1::FunnelReview& f = review.funnel();
  auto entered = [&](v1::LifecycleStage stage) {
    for (const auto& c : f.entered()) {
      if (c.stage() == stage) return c.entered();
    }
    return v1::Figure();
  };
  EXPECT_EQ(entered(v1::LIFECYCLE_STAGE_MQL).value(), 3);
  EXPECT_EQ(entered(v1::LIFECYCLE_STAGE_MQL).previous(), 2);
  EXPECT_EQ(entered(v1::LIFECYCLE_STAGE_SAL).value(), 1);
  EXPECT_EQ(entered(v1::LIFECYCLE_STAGE_NURTURE).value(), 1);
  EXPECT_EQ(entered(v1::LIFECYCLE_STAGE_DISQUALIFIED).value(), 1);
  ASSERT_EQ(f.conversions_size(), 4);
  EXPECT_EQ(f.conversions(0).from(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_DOUBLE_EQ(f.conversions(0).period().value(), 1.0 / 3);
  // Weeks 47 and 48: a of five MQLs reached SAL.
  EXPECT_DOUBLE_EQ(f.conversions(0).trailing_4_weeks(), 1.0 / 5);
  EXPECT_DOUBLE_EQ(f.conversions(0).trailing_12_weeks(), 1.0 / 5);
  EXPECT_DOUBLE_EQ(f.conversions(1).period().value(), 0);
  // Left MQL in week 48 after 3 (a), 20 (b) and 96 (d) hours.
  ASSERT_GE(f.time_in_stage_size(), 1);
  EXPECT_EQ(f.time_in_stage(0).stage(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_DOUBLE_EQ(f.time_in_stage(0).median_hours().value(), 20);

  EXPECT_EQ(review.weekly(11).mqls(), 3);
  EXPECT_EQ(review.weekly(11).accepted(), 1);
  EXPECT_EQ(review.weekly(11).rejected(), 2);
  EXPECT_EQ(review.weekly(10).mqls(), 2);
  // d's rejection counts for week 47, when it became MQL.
  const v1::FunnelCounts& w48 = review.closed_loop(11).total();
  EXPECT_EQ(w48.mqls(), 3);
  EXPECT_EQ(w48.accepted(), 1);
  EXPECT_EQ(w48.rejected(), 1);
  EXPECT_EQ(w48.meetings(), 1);
  EXPECT_EQ(w48.wins(), 1);
  EXPECT_EQ(w48.revenue(), 500);
  EXPECT_EQ(w48.touched(), 2);
  const v1::FunnelCounts& w47 = review.closed_loop(10).total();
  EXPECT_EQ(w47.mqls(), 2);
  EXPECT_EQ(w47.rejection_reasons().at("student"), 1);
  ASSERT_EQ(review.closed_loop(10).by_campaign_size(), 2);
  EXPECT_EQ(review.closed_loop(10).by_campaign(1).key(), "c2");
}

TEST(ReviewTest, WeekWithADaylightSavingChangeHas169Hours) {
  // Paris falls back on Sunday 25 October 2026: week 43 ends at 23:00Z.
  auto w43 = IsoWeek("2026-W43", Paris());
  ASSERT_TRUE(w43.ok());
  EXPECT_EQ(w43->start, At("2026-10-18T22:00:00Z"));
  EXPECT_EQ(w43->end, At("2026-10-25T23:00:00Z"));
  std::vector<History> leads;
  leads.emplace_back("sunday-late", "emea", "alice")
      .Mql("2026-10-25T22:30:00Z");
  leads.emplace_back("monday-early", "emea", "alice")
      .Mql("2026-10-25T23:30:00Z");
  const v1::Review review = Review(leads, "2026-W43", kNow);
  EXPECT_EQ(review.marketing().mqls().value(), 1);
  const v1::Review next = Review(leads, "2026-W44", kNow);
  EXPECT_EQ(next.marketing().mqls().value(), 1);
  EXPECT_EQ(next.marketing().mqls().previous(), 1);
  EXPECT_EQ(next.weekly(10).week(), "2026-W43");
  EXPECT_EQ(TimeFromProto(next.weekly(11).week_start()),
            At("2026-10-25T23:00:00Z"));
}

TEST(ReviewTest, RecycledLeadThatRequalifiesCountsInEachEpisode) {
  std::vector<History> leads;
  leads.emplace_back("r", "emea", "alice")
      .Mql("2026-11-17T09:00:00Z")
      .Touch("2026-11-17T10:00:00Z")
      .Reject("2026-11-17T12:00:00Z", "no_budget")
      .Mql("2026-11-24T09:00:00Z")
      .Touch("2026-11-24T09:30:00Z")
      .Accept("2026-11-24T10:00:00Z");
  const v1::Review w48 = Review(leads, "2026-W48", kNow);
  EXPECT_EQ(w48.marketing().mqls().value(), 1);
  EXPECT_EQ(w48.marketing().mqls().previous(), 1);
  EXPECT_EQ(w48.marketing().requalified(), 1);
  EXPECT_EQ(w48.marketing().recycled(), 0);
  EXPECT_EQ(w48.closed_loop(10).total().rejected(), 1);
  EXPECT_EQ(w48.closed_loop(10).total().accepted(), 0);
  EXPECT_EQ(w48.closed_loop(11).total().accepted(), 1);
  EXPECT_EQ(w48.closed_loop(11).total().rejected(), 0);
  EXPECT_EQ(w48.sales().total().first_touch().on_time(), 1);
  const v1::Review w47 = Review(leads, "2026-W47", kNow);
  EXPECT_EQ(w47.marketing().recycled(), 1);
  EXPECT_EQ(w47.marketing().requalified(), 0);
  // The first episode's conversion stops at MQL; only the current
  // episode's touch is stored.
  EXPECT_DOUBLE_EQ(w47.funnel().conversions(0).period().value(), 0);
  EXPECT_EQ(w47.sales().total().touched(), 0);
}

TEST(ReviewTest, FiltersKeepOnlyMatchingLeads) {
  v1::ReviewFilter na;
  na.set_team_id("na");
  v1::Review review = Review(Week48(), "2026-W48", kNow, na);
  EXPECT_EQ(review.marketing().mqls().value(), 0);
  EXPECT_EQ(review.marketing().mqls().previous(), 1);
  EXPECT_EQ(review.marketing().rejected().value(), 1);
  EXPECT_TRUE(review.sales().untreated().empty());
  // The team's objectives and the company's, not the other teams'.
  EXPECT_EQ(review.objectives_size(), 4);
  v1::ReviewFilter emea;
  emea.set_team_id("emea");
  EXPECT_EQ(Review(Week48(), "2026-W48", kNow, emea).objectives_size(), 3);

  for (auto set : {+[](v1::ReviewFilter* f) { f->set_campaign("c2"); },
                   +[](v1::ReviewFilter* f) { f->set_source("ads"); },
                   +[](v1::ReviewFilter* f) { f->set_persona_id("p2"); }}) {
    v1::ReviewFilter filter;
    set(&filter);
    review = Review(Week48(), "2026-W48", kNow, filter);
    EXPECT_EQ(review.marketing().rejected().value(), 1) << filter.DebugString();
    EXPECT_EQ(review.marketing().accepted().value(), 0) << filter.DebugString();
    EXPECT_EQ(review.weekly(10).mqls(), 1) << filter.DebugString();
  }
  v1::ReviewFilter nobody;
  nobody.set_campaign("none");
  review = Review(Week48(), "2026-W48", kNow, nobody);
  EXPECT_EQ(review.marketing().mqls().previous(), 0);
  EXPECT_EQ(review.sales().total().mqls(), 0);
}

TEST(ReviewTest, RefusesAnEmptyPeriodAndAnUnknownTimeZone) {
  ReviewRequest request{
      {At("2026-11-23T00:00:00Z"), At("2026-11-23T00:00:00Z"), ""},
      {},
      At(kNow)};
  EXPECT_EQ(ReviewBuilder::Create(PlaybookFromYaml(kPlaybook), "", request)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  v1::Playbook playbook = PlaybookFromYaml(kPlaybook);
  playbook.mutable_metadata()->set_reporting_time_zone("Mars/Olympus");
  auto zone = ReportingTimeZone(playbook);
  EXPECT_THAT(zone.status().message(),
              HasSubstr("metadata.reporting_time_zone"));
  // Publishing such a Playbook is refused with the same path.
  v1::Playbook minimal =
      PlaybookFromYaml(::smarketing::testing::MinimalPlaybookYaml());
  minimal.mutable_metadata()->set_reporting_time_zone("Mars/Olympus");
  EXPECT_THAT(
      ::smarketing::testing::ProblemLines(
          CompiledPlaybook::Compile(minimal).status()),
      HasSubstr("metadata.reporting_time_zone: unknown IANA time zone"));
}

TEST(ReviewTest, LeadsIdleSinceBeforeTheHorizonChangeNothingButUntreatedOnes) {
  auto period = IsoWeek("2026-W48", Paris());
  ASSERT_TRUE(period.ok());
  auto builder = ReviewBuilder::Create(PlaybookFromYaml(kPlaybook), "review@1",
                                       {*period, {}, At(kNow)});
  ASSERT_TRUE(builder.ok());
  // 12 weeks of trend and the November objectives: the horizon is the
  // Monday 11 weeks before week 48.
  EXPECT_EQ((*builder)->Horizon(), At("2026-09-07T00:00:00+02:00"));

  History idle("idle", "emea", "alice");
  idle.Mql("2026-08-03T08:00:00Z")
      .Touch("2026-08-03T09:00:00Z")
      .Reject("2026-08-04T09:00:00Z", "no_budget");
  History waiting("waiting", "emea", "alice");
  waiting.Mql("2026-08-03T08:00:00Z");
  const auto facts = [](const History& h) {
    v1::LeadReviewFacts f;
    SetReviewLead(h.lead, h.lifecycle, h.score, &f);
    for (const v1::Feedback& one : h.feedback) AddReviewFeedback(one, &f);
    return f;
  };
  EXPECT_EQ(ReviewNeededUntil(facts(idle)), At("2026-08-04T09:00:00Z"));
  EXPECT_EQ(ReviewNeededUntil(facts(waiting)), absl::InfiniteFuture());
  EXPECT_EQ(ReviewNeededUntil(v1::LeadReviewFacts()), absl::InfinitePast());

  std::vector<History> leads = Week48();
  const v1::Review without = Review(leads, "2026-W48", kNow);
  leads.push_back(idle);
  EXPECT_EQ(Review(leads, "2026-W48", kNow).SerializeAsString(),
            without.SerializeAsString());
  leads.push_back(waiting);
  const v1::Review with = Review(leads, "2026-W48", kNow);
  ASSERT_FALSE(with.sales().untreated().empty());
  EXPECT_EQ(with.sales().untreated(0).lead_id(), "waiting");
}

TEST(ReviewTest, TheReviewFactsKeepNeitherNotesNorContactsNorRuleHits) {
  History h("a", "emea", "alice");
  h.Mql("2026-11-23T08:00:00Z").Reject("2026-11-23T09:00:00Z", "no_budget");
  h.lead.mutable_contact()->set_email("ana@acme.example");
  h.lifecycle.mutable_history(0)->set_note("called twice");
  h.feedback[0].set_note("call back in May");
  h.feedback[0].set_actor_id("usr-1");
  h.score.add_explanation()->set_rule_id("demo-request");
  v1::LeadReviewFacts f;
  SetReviewLead(h.lead, h.lifecycle, h.score, &f);
  AddReviewFeedback(h.feedback[0], &f);
  const std::string text = f.ShortDebugString();
  for (const char* gone : {"ana@acme.example", "called twice", "call back",
                           "usr-1", "demo-request"}) {
    EXPECT_THAT(text, Not(HasSubstr(gone))) << text;
  }
  EXPECT_EQ(f.feedback(0).rejected().reason_code(), "no_budget");
  ASSERT_EQ(f.lifecycle().history_size(), 2);
  EXPECT_EQ(f.lifecycle().history(1).reason_code(), "");
  EXPECT_EQ(f.score().routing().owner_id(), "alice");
}

TEST(ReviewRenderTest, EveryFormatShowsTheHeadlineNumbers) {
  std::vector<History> leads = Week48();
  // Ids come from whoever feeds the store: the page must not run them.
  leads.emplace_back("<script>x</script>", "emea", "bob")
      .Mql("2026-11-24T08:00:00Z")
      .Reject("2026-11-24T09:00:00Z", "no_budget");
  const v1::Review review = Review(leads, "2026-W48", kNow);
  const std::string html = RenderReviewHtml(review);
  EXPECT_THAT(html, HasSubstr("data-figure=\"mqls\">4<"));
  EXPECT_THAT(html, HasSubstr("data-figure=\"rejected\">3<"));
  EXPECT_THAT(html, HasSubstr("data-figure=\"acceptance_rate\">25.0%<"));
  EXPECT_THAT(html, HasSubstr("data-figure=\"untreated\">2<"));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;x&lt;/script&gt;"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script>")));
  // Self-contained: no asset fetched from anywhere.
  EXPECT_THAT(html, ::testing::Not(HasSubstr("src=")));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("href=")));
  EXPECT_EQ(std::count(html.begin(), html.end(), '\n'), 1);
  EXPECT_THAT(html, HasSubstr("<svg"));

  const std::string text = RenderReviewText(review);
  EXPECT_THAT(text, HasSubstr("Weekly review 2026-W48"));
  EXPECT_THAT(text, HasSubstr("MQLs: 4 (+2 vs previous)"));
  EXPECT_THAT(text, HasSubstr("Acceptance rate: 25.0%"));
  EXPECT_THAT(text, HasSubstr("nov-mqls"));
  const std::string markdown = RenderReviewMarkdown(review);
  EXPECT_THAT(markdown, HasSubstr("# Weekly review 2026-W48"));
  EXPECT_THAT(markdown, HasSubstr("| objective | metric |"));
  EXPECT_THAT(markdown, HasSubstr("- MQLs: 4 (+2 vs previous)"));
}

}  // namespace
}  // namespace smarketing
