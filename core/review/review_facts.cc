#include "core/review/review_facts.h"

#include <algorithm>

#include "core/base/proto_time.h"

namespace smarketing {

void SetReviewLead(const v1::Lead& lead, const v1::LeadLifecycle& lifecycle,
                   const v1::ScoreResult& score, v1::LeadReviewFacts* facts) {
  v1::Lead& l = *facts->mutable_lead();
  l.Clear();
  l.set_id(lead.id());
  l.set_source(lead.source());
  l.set_campaign(lead.campaign());

  v1::LeadLifecycle& c = *facts->mutable_lifecycle();
  c.Clear();
  c.set_stage(lifecycle.stage());
  for (const v1::StageTransition& t : lifecycle.history()) {
    v1::StageTransition* kept = c.add_history();
    kept->set_from(t.from());
    kept->set_to(t.to());
    kept->set_actor(t.actor());
    *kept->mutable_at() = t.at();
  }
  if (lifecycle.has_mql_at()) *c.mutable_mql_at() = lifecycle.mql_at();
  if (lifecycle.has_first_touched_at()) {
    *c.mutable_first_touched_at() = lifecycle.first_touched_at();
  }
  if (lifecycle.has_sales_decision_at()) {
    *c.mutable_sales_decision_at() = lifecycle.sales_decision_at();
  }
  if (lifecycle.has_meeting_held_at()) {
    *c.mutable_meeting_held_at() = lifecycle.meeting_held_at();
  }
  if (lifecycle.has_feedback_at()) {
    *c.mutable_feedback_at() = lifecycle.feedback_at();
  }

  v1::ScoreResult& s = *facts->mutable_score();
  s.Clear();
  s.set_persona_id(score.persona_id());
  s.set_grade(score.grade());
  s.set_priority(score.priority());
  if (score.has_routing()) {
    s.mutable_routing()->set_team_id(score.routing().team_id());
    s.mutable_routing()->set_owner_id(score.routing().owner_id());
  }
}

void AddReviewFeedback(const v1::Feedback& feedback,
                       v1::LeadReviewFacts* facts) {
  v1::Feedback* kept = facts->add_feedback();
  *kept = feedback;
  kept->clear_lead_id();
  kept->clear_actor_id();
  kept->clear_note();
}

absl::Time ReviewNeededUntil(const v1::LeadReviewFacts& facts) {
  if (!facts.has_lead()) return absl::InfinitePast();
  const v1::LeadLifecycle& lifecycle = facts.lifecycle();
  if (lifecycle.stage() == v1::LIFECYCLE_STAGE_MQL &&
      !lifecycle.has_first_touched_at()) {
    return absl::InfiniteFuture();
  }
  absl::Time until = absl::InfinitePast();
  for (const v1::StageTransition& t : lifecycle.history()) {
    until = std::max(until, TimeFromProto(t.at()));
  }
  for (const v1::Feedback& f : facts.feedback()) {
    until = std::max(until, TimeFromProto(f.at()));
  }
  return until;
}

}  // namespace smarketing
