#include "core/review/closed_loop.h"

#include <algorithm>

#include "core/base/proto_time.h"

namespace smarketing {

v1::FunnelCounts LeadOutcomes(absl::Span<const v1::Feedback> feedback) {
  v1::FunnelCounts one;
  for (const v1::Feedback& f : feedback) {
    switch (f.outcome_case()) {
      case v1::Feedback::kAccepted:
        one.set_accepted(1);
        break;
      case v1::Feedback::kRejected:
        one.set_rejected(1);
        ++(*one.mutable_rejection_reasons())[f.rejected().reason_code()];
        break;
      case v1::Feedback::kMeetingHeld:
        one.set_meetings(1);
        break;
      case v1::Feedback::kOpportunityCreated:
        one.set_opportunities(1);
        break;
      case v1::Feedback::kWon:
        one.set_wins(1);
        one.set_revenue(one.revenue() + f.won().revenue().amount());
        one.set_margin(one.margin() + f.won().margin().amount());
        break;
      case v1::Feedback::kLost:
        one.set_losses(1);
        break;
      case v1::Feedback::OUTCOME_NOT_SET:
        break;
    }
  }
  return one;
}

void FunnelTally::Add(const v1::FunnelCounts& lead,
                      absl::Duration time_to_first_touch) {
  v1::FunnelCounts& c = counts_;
  c.set_leads(c.leads() + lead.leads());
  c.set_mqls(c.mqls() + lead.mqls());
  c.set_accepted(c.accepted() + lead.accepted());
  c.set_rejected(c.rejected() + lead.rejected());
  for (const auto& [reason, n] : lead.rejection_reasons()) {
    (*c.mutable_rejection_reasons())[reason] += n;
  }
  c.set_meetings(c.meetings() + lead.meetings());
  c.set_opportunities(c.opportunities() + lead.opportunities());
  c.set_wins(c.wins() + lead.wins());
  c.set_losses(c.losses() + lead.losses());
  c.set_revenue(c.revenue() + lead.revenue());
  c.set_margin(c.margin() + lead.margin());
  c.set_touched(c.touched() + lead.touched());
  if (lead.touched() > 0) times_to_first_touch_.push_back(time_to_first_touch);
}

void FunnelTally::Finish(v1::FunnelCounts* out) const {
  *out = counts_;
  std::vector<absl::Duration> times = times_to_first_touch_;
  if (times.empty()) return;
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  // The mean of the two middle values for an even count.
  const absl::Duration median =
      n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  const int64_t nanos = absl::ToInt64Nanoseconds(median);
  out->mutable_median_time_to_first_touch()->set_seconds(nanos / 1000000000);
  out->mutable_median_time_to_first_touch()->set_nanos(
      static_cast<int32_t>(nanos % 1000000000));
}

ClosedLoopReportBuilder::ClosedLoopReportBuilder(absl::Time start,
                                                 absl::Time end)
    : start_(start), end_(end) {}

void ClosedLoopReportBuilder::Add(const v1::Lead& lead,
                                  const v1::LeadLifecycle& lifecycle,
                                  absl::string_view persona_id,
                                  absl::Span<const v1::Feedback> feedback) {
  if (!lead.has_created_at()) return;
  const absl::Time created = TimeFromProto(lead.created_at());
  if (created < start_ || created >= end_) return;

  // This lead's contribution, added to each of its segments.
  v1::FunnelCounts one = LeadOutcomes(feedback);
  one.set_leads(1);
  for (const v1::StageTransition& t : lifecycle.history()) {
    if (t.to() == v1::LIFECYCLE_STAGE_MQL) one.set_mqls(1);
  }
  absl::Duration touch = absl::InfiniteDuration();
  if (lifecycle.has_mql_at() && lifecycle.has_first_touched_at()) {
    touch = TimeFromProto(lifecycle.first_touched_at()) -
            TimeFromProto(lifecycle.mql_at());
    one.set_touched(1);
  }
  total_.Add(one, touch);
  by_campaign_[lead.campaign()].Add(one, touch);
  by_source_[lead.source()].Add(one, touch);
  by_persona_[std::string(persona_id)].Add(one, touch);
}

v1::ClosedLoopReport ClosedLoopReportBuilder::Build() const {
  v1::ClosedLoopReport report;
  TimeToProto(start_, report.mutable_period_start());
  TimeToProto(end_, report.mutable_period_end());
  total_.Finish(report.mutable_total());
  for (const auto& [map, out] :
       {std::pair{&by_campaign_, report.mutable_by_campaign()},
        std::pair{&by_source_, report.mutable_by_source()},
        std::pair{&by_persona_, report.mutable_by_persona()}}) {
    for (const auto& [key, tally] : *map) {
      v1::FunnelSegment* segment = out->Add();
      segment->set_key(key);
      tally.Finish(segment->mutable_counts());
    }
  }
  return report;
}

}  // namespace smarketing
