// The weekly review computed from stored lead histories and the Playbook:
// objectives against their pace, marketing's and sales' sides of the SLA,
// the funnel and its velocity, and the closed loop by MQL week. Leads are
// added one at a time so that a store can stream them.
#ifndef SMARKETING_CORE_REVIEW_REVIEW_H_
#define SMARKETING_CORE_REVIEW_REVIEW_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/journey/business_calendar.h"
#include "core/journey/sla.h"
#include "core/review/closed_loop.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"
#include "smarketing/v1/playbook.pb.h"
#include "smarketing/v1/review.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

// The Playbook's reporting time zone (UTC when it declares none).
// INVALID_ARGUMENT naming metadata.reporting_time_zone when unknown.
absl::StatusOr<absl::TimeZone> ReportingTimeZone(const v1::Playbook& playbook);

// A period of the review: [start, end), with its ISO week label when it is
// one.
struct ReviewPeriod {
  absl::Time start;
  absl::Time end;
  std::string label;
};

// The ISO week "YYYY-Www" (e.g. "2026-W48") from Monday 00:00 to the next
// Monday 00:00 in `zone`. INVALID_ARGUMENT naming `field` when malformed or
// when the year has no such week.
absl::StatusOr<ReviewPeriod> IsoWeek(absl::string_view week,
                                     absl::TimeZone zone,
                                     absl::string_view field = "week");

// The ISO week holding `t` in `zone`.
ReviewPeriod IsoWeekOf(absl::Time t, absl::TimeZone zone);

// What to review.
struct ReviewRequest {
  ReviewPeriod period;
  v1::ReviewFilter filter;
  // The present: figures that depend on "now" (SLA deadlines fallen due,
  // untreated leads, objectives to date) are taken at min(now, period end)
  // or, for the SLA and untreated leads, at now.
  absl::Time now = absl::UnixEpoch();
};

// A Playbook version in force during (part of) a review's period.
struct ReviewPlaybook {
  v1::Playbook playbook;
  // Its number in the store; 0 outside a store.
  int64_t number = 0;
  // "name@version".
  std::string label;
  // When it became active, and until another version replaced it.
  absl::Time active_from = absl::InfinitePast();
  absl::Time active_until = absl::InfiniteFuture();
  std::string activated_by;
};

class ReviewBuilder {
 public:
  // The review under the Playbook versions in force during the period, by
  // activation, oldest first (at least one; valid Playbooks). The last one
  // (the version active at the period's end) gives the reporting time zone,
  // the calendars and the SLA for the whole period: a week is cut and its
  // deadlines timed one way only. The objectives are those overlapping the
  // period of every version; for an id several versions declare, the
  // declaration of the version activated last wins (even when its period no
  // longer overlaps: it replaced the earlier one). INVALID_ARGUMENT when
  // the period is empty, there is no version, or the last one's reporting
  // time zone or calendars are invalid.
  static absl::StatusOr<std::unique_ptr<ReviewBuilder>> Create(
      std::vector<ReviewPlaybook> versions, const ReviewRequest& request);
  // The review under `playbook` alone, as if in force the whole period.
  static absl::StatusOr<std::unique_ptr<ReviewBuilder>> Create(
      const v1::Playbook& playbook, absl::string_view playbook_version,
      const ReviewRequest& request);

  // Counts one stored lead from its review facts (see review_facts.h).
  void Add(const v1::LeadReviewFacts& facts);
  // Counts one lead from its record, latest score (team, owner, persona,
  // grade, priority), lifecycle history and feedback, oldest first: the
  // same as Add of its review facts.
  void Add(const v1::Lead& lead, const v1::LeadLifecycle& lifecycle,
           const v1::ScoreResult& score,
           absl::Span<const v1::Feedback> feedback);

  // The earliest time any figure of the review counts from: only the leads
  // whose ReviewNeededUntil is at or after it change the review.
  absl::Time Horizon() const;

  v1::Review Build() const;

 private:
  ReviewBuilder() = default;

  // Counts over one window of time.
  struct WindowCounts {
    int64_t mqls = 0;
    int64_t accepted = 0;
    int64_t rejected = 0;
    std::map<v1::LifecycleStage, int64_t> entered;
    // Index i: MQL episodes that reached kChain[i] or a later stage.
    std::vector<int64_t> reached;
    std::map<v1::LifecycleStage, std::vector<absl::Duration>> time_in_stage;
  };
  struct Compliance {
    v1::SlaCompliance counts;
    std::vector<double> hours_to_first_touch;
  };
  struct ObjectiveCounts {
    int64_t mqls = 0;
    int64_t opportunities = 0;
    int64_t meetings = 0;
    int64_t accepted = 0;
    int64_t wins = 0;
    int64_t wins_with_margin = 0;
    double revenue = 0;
    double margin = 0;
  };
  struct Objective {
    const v1::Objective* objective;
    // The version that declared it.
    const ReviewPlaybook* version;
    absl::Time start;
    absl::Time end;
    const BusinessCalendar* calendar;
    ObjectiveCounts counts;
  };
  struct Week {
    FunnelTally total;
    std::map<std::string, FunnelTally> by_campaign;
    std::map<std::string, FunnelTally> by_source;
    std::map<std::string, FunnelTally> by_persona;
    int64_t mqls = 0;
    int64_t accepted = 0;
    int64_t rejected = 0;
  };

  const BusinessCalendar* CalendarOf(absl::string_view team_id) const;
  bool Matches(const v1::Lead& lead, const v1::ScoreResult& score) const;
  // Index of the week holding t among weeks_, or -1.
  int WeekOf(absl::Time t) const;
  void AddToObjectives(const v1::LeadReviewFacts& facts);
  // Sales' acceptances and rejections, with the reasons.
  void AddDecisions(const v1::LeadReviewFacts& facts);
  void AddCompliance(const v1::Lead& lead, const v1::LeadLifecycle& lifecycle,
                     const v1::ScoreResult& score);
  // Business days of [from, to) on `calendar` (every day when nullptr).
  int BusinessDays(const BusinessCalendar* calendar, absl::Time from,
                   absl::Time to) const;
  v1::ObjectiveProgress Progress(const Objective& objective) const;
  // Build's sections, one per part of the Review.
  void BuildMarketing(v1::MarketingScorecard* scorecard) const;
  void BuildSales(v1::SalesScorecard* scorecard) const;
  void BuildFunnel(v1::FunnelReview* funnel) const;
  void BuildWeeks(v1::Review* review) const;

  // Oldest first; the last one is the version active at the period's end.
  std::vector<ReviewPlaybook> versions_;
  ReviewRequest request_;
  absl::TimeZone zone_;
  absl::Time as_of_;
  absl::Time previous_start_;
  Sla sla_;
  std::shared_ptr<const BusinessCalendar> default_calendar_;
  std::map<std::string, std::shared_ptr<const BusinessCalendar>, std::less<>>
      team_calendars_;
  // The 13 boundaries of the 12 weeks ending with the period's first week.
  std::vector<absl::Time> weeks_;
  std::vector<std::string> week_labels_;

  WindowCounts period_;
  WindowCounts previous_;
  WindowCounts trailing4_;
  WindowCounts trailing12_;
  std::map<std::string, std::pair<int64_t, std::vector<std::string>>>
      rejection_reasons_;
  std::map<std::string, int64_t> by_persona_, by_grade_, by_source_,
      by_campaign_;
  int64_t recycled_ = 0;
  int64_t requalified_ = 0;
  Compliance total_;
  Compliance previous_total_;
  std::map<std::string, Compliance> by_team_;
  std::map<std::pair<std::string, std::string>, Compliance> by_owner_;
  std::vector<v1::UntreatedLead> untreated_;
  std::vector<Objective> objectives_;
  std::vector<Week> week_counts_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_REVIEW_REVIEW_H_
