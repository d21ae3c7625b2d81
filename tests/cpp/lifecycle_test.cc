// The lifecycle state machine: the whole transition table allowed and
// refused for every actor, reasons, the nurture cooldown, opt-outs, sales
// feedback, the scorer's recommendations and the SLA's view of a lead.
#include "core/journey/lifecycle.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/base/proto_time.h"
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

const absl::Time kMonday = T("2026-03-02T09:00:00Z");

RecyclePolicy Policy() {
  v1::RecyclePolicy proto;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        rejection_reasons { code: "bad_timing" recycle: true }
        rejection_reasons { code: "student" recycle: false }
        loss_reasons { code: "lost_to_competitor" recycle: true }
        loss_reasons { code: "fake_project" recycle: false }
        nurture_cooldown { seconds: 2592000 }
      )pb",
      &proto));
  RecyclePolicy policy;
  ProblemList problems;
  EXPECT_TRUE(policy.Compile(proto, "sla.recycle", &problems));
  return policy;
}

class LifecycleTest : public ::testing::Test {
 protected:
  v1::StageTransition Move(v1::LifecycleStage to, v1::Actor actor,
                           absl::Time at, const std::string& reason = "") {
    v1::StageTransition move;
    move.set_to(to);
    move.set_actor(actor);
    move.set_actor_id(absl::StrCat("user-", actor));
    TimeToProto(at, move.mutable_at());
    move.set_reason_code(reason);
    return move;
  }
  // A lead standing at `stage`, as if it got there before kMonday.
  v1::LeadLifecycle At(v1::LifecycleStage stage) {
    v1::LeadLifecycle lifecycle;
    lifecycle.set_stage(stage);
    TimeToProto(kMonday - absl::Hours(1), lifecycle.mutable_stage_entered_at());
    return lifecycle;
  }
  v1::Feedback Feedback(const std::string& outcome, absl::Time at) {
    v1::Feedback feedback;
    EXPECT_TRUE(
        google::protobuf::TextFormat::ParseFromString(outcome, &feedback));
    feedback.set_lead_id("lead-1");
    feedback.set_actor_id("sam");
    TimeToProto(at, feedback.mutable_at());
    return feedback;
  }

  const RecyclePolicy policy_ = Policy();
  const Lifecycle lifecycle_{&policy_};
};

const v1::LifecycleStage kStages[] = {
    v1::LIFECYCLE_STAGE_UNSPECIFIED, v1::LIFECYCLE_STAGE_NEW,
    v1::LIFECYCLE_STAGE_MQL,         v1::LIFECYCLE_STAGE_SAL,
    v1::LIFECYCLE_STAGE_SQL,         v1::LIFECYCLE_STAGE_OPPORTUNITY,
    v1::LIFECYCLE_STAGE_CUSTOMER,    v1::LIFECYCLE_STAGE_NURTURE,
    v1::LIFECYCLE_STAGE_DISQUALIFIED};

std::string Short(v1::LifecycleStage stage) {
  const std::string name = v1::LifecycleStage_Name(stage);
  return name.substr(std::string("LIFECYCLE_STAGE_").size());
}

// Every (from, to, actor) tried, with a fitting reason: exactly these pass.
TEST_F(LifecycleTest, WholeTransitionTable) {
  const std::set<std::string> allowed = {
      "UNSPECIFIED>NEW:marketing",
      "UNSPECIFIED>NEW:system",
      "NEW>MQL:marketing",
      "NEW>MQL:system",
      "NEW>NURTURE:marketing",
      "NEW>NURTURE:system",
      "NEW>DISQUALIFIED:marketing",
      "NEW>DISQUALIFIED:system",
      "MQL>SAL:sales",
      "MQL>NURTURE:sales",
      "MQL>NURTURE:system",
      "MQL>DISQUALIFIED:marketing",
      "MQL>DISQUALIFIED:sales",
      "MQL>DISQUALIFIED:system",
      "SAL>SQL:sales",
      "SAL>NURTURE:sales",
      "SAL>NURTURE:system",
      "SAL>DISQUALIFIED:sales",
      "SAL>DISQUALIFIED:system",
      "SQL>OPPORTUNITY:sales",
      "SQL>NURTURE:sales",
      "SQL>NURTURE:system",
      "SQL>DISQUALIFIED:sales",
      "SQL>DISQUALIFIED:system",
      "OPPORTUNITY>CUSTOMER:sales",
      "OPPORTUNITY>NURTURE:sales",
      "OPPORTUNITY>DISQUALIFIED:sales",
      "OPPORTUNITY>DISQUALIFIED:system",
      "NURTURE>MQL:marketing",
      "NURTURE>MQL:system",
      "NURTURE>DISQUALIFIED:marketing",
      "NURTURE>DISQUALIFIED:system",
  };
  const std::pair<v1::Actor, const char*> actors[] = {
      {v1::ACTOR_MARKETING, "marketing"},
      {v1::ACTOR_SALES, "sales"},
      {v1::ACTOR_SYSTEM, "system"}};
  int passed = 0;
  for (v1::LifecycleStage from : kStages) {
    for (v1::LifecycleStage to : kStages) {
      for (const auto& [actor, actor_name] : actors) {
        const std::string key =
            absl::StrCat(Short(from), ">", Short(to), ":", actor_name);
        SCOPED_TRACE(key);
        std::string reason;
        if (to == v1::LIFECYCLE_STAGE_DISQUALIFIED) {
          reason = "company_size";
        } else if (to == v1::LIFECYCLE_STAGE_NURTURE &&
                   from == v1::LIFECYCLE_STAGE_OPPORTUNITY) {
          reason = "lost_to_competitor";
        } else if (to == v1::LIFECYCLE_STAGE_NURTURE &&
                   from != v1::LIFECYCLE_STAGE_NEW) {
          reason = actor == v1::ACTOR_SYSTEM ? "sla_breach" : "bad_timing";
        }
        v1::LeadLifecycle lead = At(from);
        const absl::Status status =
            lifecycle_.Transition(Move(to, actor, kMonday, reason), &lead);
        const bool expected = allowed.contains(key);
        ASSERT_EQ(status.ok(), expected) << status;
        ASSERT_EQ(FindTransition(from, to) != nullptr &&
                      (FindTransition(from, to)->actors & (1 << actor)),
                  expected);
        if (expected) {
          ++passed;
          EXPECT_EQ(lead.stage(), to);
          ASSERT_EQ(lead.history_size(), 1);
          EXPECT_EQ(lead.history(0).from(), from);
          EXPECT_EQ(lead.history(0).to(), to);
          EXPECT_EQ(lead.history(0).actor(), actor);
          EXPECT_EQ(lead.history(0).reason_code(), reason);
          EXPECT_EQ(TimeFromProto(lead.stage_entered_at()), kMonday);
        } else {
          EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
          EXPECT_EQ(lead.stage(), from);
          EXPECT_EQ(lead.history_size(), 0);
        }
      }
    }
  }
  EXPECT_EQ(passed, static_cast<int>(allowed.size()));
  EXPECT_EQ(TransitionTable().size(), 18u);
}

TEST_F(LifecycleTest, RefusalsNameTheAllowedMoves) {
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_MQL);
  absl::Status status = lifecycle_.Transition(
      Move(v1::LIFECYCLE_STAGE_CUSTOMER, v1::ACTOR_SALES, kMonday), &lead);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "MQL -> CUSTOMER is not allowed; from MQL the lead may move to "
            "SAL (sales), NURTURE (sales or system, with a recycle reason), "
            "DISQUALIFIED (marketing, sales or system, with a "
            "disqualification reason)");

  status = lifecycle_.Transition(
      Move(v1::LIFECYCLE_STAGE_SAL, v1::ACTOR_MARKETING, kMonday), &lead);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "MQL -> SAL is made by sales, not marketing; from MQL the lead may "
            "move to SAL (sales), NURTURE (sales or system, with a recycle "
            "reason), DISQUALIFIED (marketing, sales or system, with a "
            "disqualification reason)");

  lead = At(v1::LIFECYCLE_STAGE_CUSTOMER);
  status = lifecycle_.Transition(
      Move(v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SALES, kMonday, "bad_timing"),
      &lead);
  EXPECT_EQ(status.message(),
            "CUSTOMER -> NURTURE is not allowed; CUSTOMER is final");

  lead = At(v1::LIFECYCLE_STAGE_OPPORTUNITY);
  status = lifecycle_.Transition(
      Move(v1::LIFECYCLE_STAGE_MQL, v1::ACTOR_SYSTEM, kMonday), &lead);
  EXPECT_EQ(status.message(),
            "OPPORTUNITY -> MQL is not allowed; from OPPORTUNITY the lead may "
            "move to CUSTOMER (sales), NURTURE (sales, with a loss reason), "
            "DISQUALIFIED (sales or system, with a disqualification reason)");
}

TEST_F(LifecycleTest, BadInput) {
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_MQL);
  v1::StageTransition move =
      Move(v1::LIFECYCLE_STAGE_SAL, v1::ACTOR_SALES, kMonday);
  move.clear_actor();
  EXPECT_EQ(lifecycle_.Transition(move, &lead).message(),
            "actor is required: marketing, sales or system");
  move = Move(v1::LIFECYCLE_STAGE_SAL, v1::ACTOR_SALES, kMonday);
  move.clear_at();
  EXPECT_EQ(lifecycle_.Transition(move, &lead).message(), "at is required");
  move.mutable_at()->set_nanos(-1);
  EXPECT_EQ(lifecycle_.Transition(move, &lead).message(),
            "at is not a valid timestamp");
  // Before the last move.
  const absl::Status early = lifecycle_.Transition(
      Move(v1::LIFECYCLE_STAGE_SAL, v1::ACTOR_SALES, kMonday - absl::Hours(2)),
      &lead);
  EXPECT_EQ(early.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(early.message(),
            "at (2026-03-02T07:00:00+00:00) is before the lead's last move "
            "(2026-03-02T08:00:00+00:00)");
  // `from` states where the caller believes the lead is.
  move = Move(v1::LIFECYCLE_STAGE_SQL, v1::ACTOR_SALES, kMonday);
  move.set_from(v1::LIFECYCLE_STAGE_SAL);
  const absl::Status stale = lifecycle_.Transition(move, &lead);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stale.message().substr(0, 30), "the lead is at MQL, not SAL; f");
  EXPECT_EQ(lead.history_size(), 0);
}

TEST_F(LifecycleTest, Reasons) {
  struct Case {
    v1::LifecycleStage from;
    v1::LifecycleStage to;
    v1::Actor actor;
    const char* reason;
    const char* error;  // nullptr: accepted
  };
  const Case cases[] = {
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SALES,
       "", "MQL -> NURTURE needs a recycle reason"},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SALES,
       "price",
       "unknown rejection reason \"price\"; the Playbook agrees on: "
       "bad_timing, student"},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SALES,
       "student",
       "rejection reason \"student\" disqualifies the lead: move it to "
       "DISQUALIFIED"},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SALES,
       "sla_breach",
       "the system recycles a lead with \"sla_breach\" only, and only the "
       "system does"},
      {v1::LIFECYCLE_STAGE_SAL, v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SYSTEM,
       "bad_timing",
       "the system recycles a lead with \"sla_breach\" only, and only the "
       "system does"},
      {v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_NURTURE,
       v1::ACTOR_SALES, "bad_timing",
       "unknown loss reason \"bad_timing\"; the Playbook agrees on: "
       "lost_to_competitor, fake_project"},
      {v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_NURTURE,
       v1::ACTOR_SALES, "fake_project",
       "loss reason \"fake_project\" disqualifies the lead: move it to "
       "DISQUALIFIED"},
      {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::ACTOR_SYSTEM, "",
       "NEW -> DISQUALIFIED needs a disqualification "
       "reason"},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::ACTOR_SALES, "bad_timing",
       "reason \"bad_timing\" recycles the lead: move it to NURTURE"},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::ACTOR_SALES, "nope",
       "unknown disqualification reason \"nope\"; expected company_size, "
       "industry, geography, competitor, bad_data, opted_out, other, or a "
       "rejection or loss reason that does not recycle"},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::ACTOR_SALES, "student", nullptr},
      {v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::ACTOR_SALES, "fake_project", nullptr},
      {v1::LIFECYCLE_STAGE_NURTURE, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::ACTOR_MARKETING, "competitor", nullptr},
      // A reason on a move that needs none is recorded as given.
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_SAL, v1::ACTOR_SALES, "hot",
       nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(Short(c.from), ">", Short(c.to), " ", c.reason));
    v1::LeadLifecycle lead = At(c.from);
    const absl::Status status =
        lifecycle_.Transition(Move(c.to, c.actor, kMonday, c.reason), &lead);
    if (c.error == nullptr) {
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_EQ(lead.history(0).reason_code(), c.reason);
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message(), c.error);
      EXPECT_EQ(lead.stage(), c.from);
    }
  }
}

TEST_F(LifecycleTest, HistoryKeepsEveryMoveAndRecycledLeadsComeBack) {
  absl::StatusOr<v1::LeadLifecycle> started =
      lifecycle_.Start(kMonday, v1::ACTOR_SYSTEM, "web-form");
  ASSERT_TRUE(started.ok()) << started.status();
  v1::LeadLifecycle lead = *started;
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_NEW);
  EXPECT_EQ(lifecycle_.Start(kMonday, v1::ACTOR_SALES, "sam").status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto step = [&](v1::LifecycleStage to, v1::Actor actor, absl::Time at,
                  const std::string& reason = "") {
    const absl::Status status =
        lifecycle_.Transition(Move(to, actor, at, reason), &lead);
    ASSERT_TRUE(status.ok()) << status;
  };
  step(v1::LIFECYCLE_STAGE_MQL, v1::ACTOR_SYSTEM, kMonday + absl::Hours(1));
  step(v1::LIFECYCLE_STAGE_SAL, v1::ACTOR_SALES, kMonday + absl::Hours(2));
  step(v1::LIFECYCLE_STAGE_SQL, v1::ACTOR_SALES, kMonday + absl::Hours(3));
  step(v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::ACTOR_SALES,
       kMonday + absl::Hours(4));
  const absl::Time lost = kMonday + absl::Hours(24 * 10);
  step(v1::LIFECYCLE_STAGE_NURTURE, v1::ACTOR_SALES, lost,
       "lost_to_competitor");
  EXPECT_EQ(TimeFromProto(lead.nurture_until()), lost + absl::Hours(24 * 30));

  // Engagement rises again: before the cooldown the system may not make it
  // an MQL, nor may marketing.
  const absl::Status early =
      lifecycle_.Transition(Move(v1::LIFECYCLE_STAGE_MQL, v1::ACTOR_MARKETING,
                                 lost + absl::Hours(24 * 29)),
                            &lead);
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.message(),
            "the lead was recycled and may become MQL again from "
            "2026-04-11T09:00:00+00:00");
  absl::StatusOr<bool> moved = lifecycle_.ApplyRecommendation(
      v1::LIFECYCLE_STAGE_MQL, v1::DISQUALIFICATION_REASON_UNSPECIFIED,
      lost + absl::Hours(24 * 29), &lead);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  moved = lifecycle_.ApplyRecommendation(
      v1::LIFECYCLE_STAGE_MQL, v1::DISQUALIFICATION_REASON_UNSPECIFIED,
      lost + absl::Hours(24 * 30), &lead);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(*moved);
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_MQL);

  const std::vector<std::string> expected = {
      "UNSPECIFIED>NEW system web-form",
      "NEW>MQL system user-3",
      "MQL>SAL sales user-2",
      "SAL>SQL sales user-2",
      "SQL>OPPORTUNITY sales user-2",
      "OPPORTUNITY>NURTURE sales user-2 lost_to_competitor",
      "NURTURE>MQL system smarketing",
  };
  ASSERT_EQ(lead.history_size(), static_cast<int>(expected.size()));
  for (int i = 0; i < lead.history_size(); ++i) {
    const v1::StageTransition& t = lead.history(i);
    std::string line = absl::StrCat(
        Short(t.from()), ">", Short(t.to()), " ",
        t.actor() == v1::ACTOR_SALES ? "sales" : "",
        t.actor() == v1::ACTOR_SYSTEM ? "system" : "", " ", t.actor_id());
    if (!t.reason_code().empty()) absl::StrAppend(&line, " ", t.reason_code());
    EXPECT_EQ(line, expected[i]);
  }
  // The new MQL episode restarts the SLA.
  EXPECT_EQ(SlaStart(lead), lost + absl::Hours(24 * 30));
  EXPECT_FALSE(SlaProgressOf(lead).sales_decision_at.has_value());
}

TEST_F(LifecycleTest, SlaBreachRecyclesThroughTheSystem) {
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_MQL);
  const RecycleOutcome outcome = policy_.OnBreach(kMonday);
  ASSERT_TRUE(lifecycle_
                  .Transition(Move(outcome.stage, v1::ACTOR_SYSTEM, kMonday,
                                   outcome.reason_code),
                              &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(lead.history(0).reason_code(), "sla_breach");
  EXPECT_EQ(TimeFromProto(lead.nurture_until()), outcome.nurture_until);
  // No sales decision was made.
  EXPECT_FALSE(lead.has_sales_decision_at());
}

TEST_F(LifecycleTest, OptedOutLeadsAreNeverSolicitedAgain) {
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_SQL);
  ASSERT_TRUE(lifecycle_.RecordOptOut(kMonday, &lead).ok());
  EXPECT_TRUE(lead.opted_out());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_EQ(lead.history(0).reason_code(), "opted_out");
  EXPECT_EQ(lead.history(0).actor(), v1::ACTOR_SYSTEM);

  // A customer who opts out stays a customer, flagged.
  v1::LeadLifecycle customer = At(v1::LIFECYCLE_STAGE_CUSTOMER);
  ASSERT_TRUE(lifecycle_.RecordOptOut(kMonday, &customer).ok());
  EXPECT_EQ(customer.stage(), v1::LIFECYCLE_STAGE_CUSTOMER);
  EXPECT_TRUE(customer.opted_out());
  EXPECT_EQ(customer.history_size(), 0);

  // A nurtured lead flagged as opted out may only be disqualified.
  v1::LeadLifecycle nurtured = At(v1::LIFECYCLE_STAGE_NURTURE);
  nurtured.set_opted_out(true);
  const absl::Status status = lifecycle_.Transition(
      Move(v1::LIFECYCLE_STAGE_MQL, v1::ACTOR_MARKETING, kMonday), &nurtured);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "the lead opted out: it is never solicited again and may only be "
            "disqualified");
  absl::StatusOr<bool> moved = lifecycle_.ApplyRecommendation(
      v1::LIFECYCLE_STAGE_MQL, v1::DISQUALIFICATION_REASON_UNSPECIFIED, kMonday,
      &nurtured);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);

  // The scorer's opt-out disqualifies from any stage.
  v1::LeadLifecycle opportunity = At(v1::LIFECYCLE_STAGE_OPPORTUNITY);
  moved = lifecycle_.ApplyRecommendation(v1::LIFECYCLE_STAGE_DISQUALIFIED,
                                         v1::DISQUALIFICATION_REASON_OPTED_OUT,
                                         kMonday, &opportunity);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(*moved);
  EXPECT_EQ(opportunity.stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_TRUE(opportunity.opted_out());
}

TEST_F(LifecycleTest, OutOfTargetLeadsAreNeverRecycled) {
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_NEW);
  absl::StatusOr<bool> moved = lifecycle_.ApplyRecommendation(
      v1::LIFECYCLE_STAGE_DISQUALIFIED, v1::DISQUALIFICATION_REASON_INDUSTRY,
      kMonday, &lead);
  ASSERT_TRUE(moved.ok() && *moved);
  EXPECT_EQ(lead.history(0).reason_code(), "industry");
  moved = lifecycle_.ApplyRecommendation(
      v1::LIFECYCLE_STAGE_MQL, v1::DISQUALIFICATION_REASON_UNSPECIFIED,
      kMonday + absl::Hours(24 * 400), &lead);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  EXPECT_EQ(lifecycle_
                .Transition(Move(v1::LIFECYCLE_STAGE_NURTURE,
                                 v1::ACTOR_MARKETING, kMonday),
                            &lead)
                .message(),
            "DISQUALIFIED -> NURTURE is not allowed; DISQUALIFIED is final");
}

TEST_F(LifecycleTest, Recommendations) {
  struct Case {
    v1::LifecycleStage stage;
    v1::LifecycleStage recommended;
    v1::LifecycleStage after;
  };
  const Case cases[] = {
      {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_MQL,
       v1::LIFECYCLE_STAGE_MQL},
      {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_NURTURE,
       v1::LIFECYCLE_STAGE_NURTURE},
      {v1::LIFECYCLE_STAGE_NEW, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::LIFECYCLE_STAGE_DISQUALIFIED},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE,
       v1::LIFECYCLE_STAGE_MQL},
      {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::LIFECYCLE_STAGE_DISQUALIFIED},
      {v1::LIFECYCLE_STAGE_NURTURE, v1::LIFECYCLE_STAGE_MQL,
       v1::LIFECYCLE_STAGE_MQL},
      {v1::LIFECYCLE_STAGE_NURTURE, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::LIFECYCLE_STAGE_DISQUALIFIED},
      // Sales owns these stages: the scores do not move them.
      {v1::LIFECYCLE_STAGE_SAL, v1::LIFECYCLE_STAGE_NURTURE,
       v1::LIFECYCLE_STAGE_SAL},
      {v1::LIFECYCLE_STAGE_SQL, v1::LIFECYCLE_STAGE_DISQUALIFIED,
       v1::LIFECYCLE_STAGE_SQL},
      {v1::LIFECYCLE_STAGE_CUSTOMER, v1::LIFECYCLE_STAGE_MQL,
       v1::LIFECYCLE_STAGE_CUSTOMER},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(Short(c.stage), " + ", Short(c.recommended)));
    v1::LeadLifecycle lead = At(c.stage);
    absl::StatusOr<bool> moved = lifecycle_.ApplyRecommendation(
        c.recommended, v1::DISQUALIFICATION_REASON_COMPANY_SIZE, kMonday,
        &lead);
    ASSERT_TRUE(moved.ok()) << moved.status();
    EXPECT_EQ(*moved, c.stage != c.after);
    EXPECT_EQ(lead.stage(), c.after);
    if (*moved) EXPECT_EQ(lead.history(0).actor(), v1::ACTOR_SYSTEM);
  }
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_NEW);
  EXPECT_EQ(lifecycle_
                .ApplyRecommendation(v1::LIFECYCLE_STAGE_SAL,
                                     v1::DISQUALIFICATION_REASON_UNSPECIFIED,
                                     kMonday, &lead)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  v1::LeadLifecycle blank;
  EXPECT_EQ(lifecycle_
                .ApplyRecommendation(v1::LIFECYCLE_STAGE_MQL,
                                     v1::DISQUALIFICATION_REASON_UNSPECIFIED,
                                     kMonday, &blank)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // An unset disqualification reason is recorded as "other".
  lead = At(v1::LIFECYCLE_STAGE_NEW);
  ASSERT_TRUE(lifecycle_
                  .ApplyRecommendation(v1::LIFECYCLE_STAGE_DISQUALIFIED,
                                       v1::DISQUALIFICATION_REASON_UNSPECIFIED,
                                       kMonday, &lead)
                  .ok());
  EXPECT_EQ(lead.history(0).reason_code(), "other");
}

TEST_F(LifecycleTest, Feedback) {
  // accepted
  v1::LeadLifecycle lead = At(v1::LIFECYCLE_STAGE_MQL);
  ASSERT_TRUE(
      lifecycle_.ApplyFeedback(Feedback("accepted {}", kMonday), &lead).ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_SAL);
  EXPECT_EQ(lead.history(0).actor(), v1::ACTOR_SALES);
  EXPECT_EQ(lead.history(0).actor_id(), "sam");
  EXPECT_EQ(TimeFromProto(lead.sales_decision_at()), kMonday);

  // rejected, recycled or disqualified by the reason
  lead = At(v1::LIFECYCLE_STAGE_MQL);
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(Feedback("rejected { reason_code: "
                                          "\"bad_timing\" } note: \"Q3\"",
                                          kMonday),
                                 &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(lead.history(0).reason_code(), "bad_timing");
  EXPECT_EQ(lead.history(0).note(), "Q3");
  EXPECT_EQ(TimeFromProto(lead.nurture_until()),
            kMonday + absl::Hours(24 * 30));
  lead = At(v1::LIFECYCLE_STAGE_SAL);
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(Feedback("rejected { reason_code: "
                                          "\"student\" }",
                                          kMonday),
                                 &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  lead = At(v1::LIFECYCLE_STAGE_MQL);
  absl::Status status =
      lifecycle_.ApplyFeedback(Feedback("rejected { }", kMonday), &lead);
  EXPECT_EQ(status.message(),
            "unknown rejection reason \"\"; the Playbook agrees on: "
            "bad_timing, student");

  // meeting held: SAL -> SQL, recorded for the SLA
  lead = At(v1::LIFECYCLE_STAGE_SAL);
  ASSERT_TRUE(
      lifecycle_.ApplyFeedback(Feedback("meeting_held {}", kMonday), &lead)
          .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_SQL);
  EXPECT_EQ(TimeFromProto(lead.meeting_held_at()), kMonday);
  EXPECT_FALSE(lead.has_feedback_at());
  // the next feedback answers the meeting
  const absl::Time later = kMonday + absl::Hours(30);
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(Feedback("opportunity_created { amount { "
                                          "amount: 12000 } }",
                                          later),
                                 &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_OPPORTUNITY);
  EXPECT_EQ(TimeFromProto(lead.feedback_at()), later);
  // a meeting before acceptance is refused
  lead = At(v1::LIFECYCLE_STAGE_MQL);
  status =
      lifecycle_.ApplyFeedback(Feedback("meeting_held {}", kMonday), &lead);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "a meeting is recorded once sales accepted the lead (SAL, SQL or "
            "OPPORTUNITY); the lead is at MQL");
  EXPECT_FALSE(lead.has_meeting_held_at());

  // opportunity created from SAL goes through SQL
  lead = At(v1::LIFECYCLE_STAGE_SAL);
  ASSERT_TRUE(
      lifecycle_
          .ApplyFeedback(Feedback("opportunity_created {}", kMonday), &lead)
          .ok());
  ASSERT_EQ(lead.history_size(), 2);
  EXPECT_EQ(lead.history(0).to(), v1::LIFECYCLE_STAGE_SQL);
  EXPECT_EQ(lead.history(1).to(), v1::LIFECYCLE_STAGE_OPPORTUNITY);
  // ...and from MQL is refused as a whole
  lead = At(v1::LIFECYCLE_STAGE_MQL);
  status = lifecycle_.ApplyFeedback(Feedback("opportunity_created {}", kMonday),
                                    &lead);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(lead.history_size(), 0);

  // won and lost
  lead = At(v1::LIFECYCLE_STAGE_OPPORTUNITY);
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(
                      Feedback("won { revenue { amount: 5 } }", kMonday), &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_CUSTOMER);
  lead = At(v1::LIFECYCLE_STAGE_OPPORTUNITY);
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(Feedback("lost { reason_code: "
                                          "\"lost_to_competitor\" }",
                                          kMonday),
                                 &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_NURTURE);
  lead = At(v1::LIFECYCLE_STAGE_OPPORTUNITY);
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(Feedback("lost { reason_code: "
                                          "\"fake_project\" }",
                                          kMonday),
                                 &lead)
                  .ok());
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_DISQUALIFIED);
  EXPECT_EQ(lead.history(0).reason_code(), "fake_project");

  // malformed feedback
  lead = At(v1::LIFECYCLE_STAGE_MQL);
  EXPECT_EQ(lifecycle_.ApplyFeedback(Feedback("", kMonday), &lead).message(),
            "feedback needs an outcome: accepted, rejected, meeting_held, "
            "opportunity_created, won or lost");
  v1::Feedback undated = Feedback("accepted {}", kMonday);
  undated.clear_at();
  EXPECT_EQ(lifecycle_.ApplyFeedback(undated, &lead).message(),
            "feedback at is required");
  EXPECT_EQ(lead.stage(), v1::LIFECYCLE_STAGE_MQL);
}

TEST_F(LifecycleTest, SlaView) {
  absl::StatusOr<v1::LeadLifecycle> started =
      lifecycle_.Start(kMonday, v1::ACTOR_MARKETING, "mia");
  ASSERT_TRUE(started.ok());
  v1::LeadLifecycle lead = *started;
  EXPECT_EQ(SlaStart(lead), std::nullopt);
  const absl::Time mql = kMonday + absl::Hours(1);
  ASSERT_TRUE(
      lifecycle_
          .Transition(Move(v1::LIFECYCLE_STAGE_MQL, v1::ACTOR_SYSTEM, mql),
                      &lead)
          .ok());
  EXPECT_EQ(SlaStart(lead), mql);
  // A touch before the lead became MQL does not count; the first after does.
  ASSERT_TRUE(lifecycle_.RecordFirstTouch(kMonday, &lead).ok());
  EXPECT_FALSE(lead.has_first_touched_at());
  ASSERT_TRUE(lifecycle_.RecordFirstTouch(mql + absl::Minutes(20), &lead).ok());
  ASSERT_TRUE(lifecycle_.RecordFirstTouch(mql + absl::Minutes(50), &lead).ok());
  ASSERT_TRUE(
      lifecycle_
          .ApplyFeedback(Feedback("accepted {}", mql + absl::Hours(2)), &lead)
          .ok());
  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(
                      Feedback("meeting_held {}", mql + absl::Hours(3)), &lead)
                  .ok());
  SlaProgress progress = SlaProgressOf(lead);
  EXPECT_EQ(progress.first_touched_at, mql + absl::Minutes(20));
  EXPECT_EQ(progress.sales_decision_at, mql + absl::Hours(2));
  EXPECT_EQ(progress.meeting_held_at, mql + absl::Hours(3));
  EXPECT_EQ(progress.feedback_at, std::nullopt);
  EXPECT_EQ(SlaStart(lead), mql);

  ASSERT_TRUE(lifecycle_
                  .ApplyFeedback(Feedback("rejected { reason_code: "
                                          "\"bad_timing\" }",
                                          mql + absl::Hours(5)),
                                 &lead)
                  .ok());
  EXPECT_EQ(SlaProgressOf(lead).feedback_at, mql + absl::Hours(5));
  EXPECT_EQ(SlaStart(lead), std::nullopt);  // in nurture: no SLA
}

}  // namespace
}  // namespace smarketing
