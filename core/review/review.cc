#include "core/review/review.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/journey/lifecycle.h"
#include "core/review/review_facts.h"

namespace smarketing {
namespace {

// The stages an MQL goes through when sales takes it, in order.
constexpr std::array<v1::LifecycleStage, 5> kChain = {
    v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_SAL, v1::LIFECYCLE_STAGE_SQL,
    v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_CUSTOMER};

constexpr std::array<v1::LifecycleStage, 8> kStages = {
    v1::LIFECYCLE_STAGE_NEW,         v1::LIFECYCLE_STAGE_MQL,
    v1::LIFECYCLE_STAGE_SAL,         v1::LIFECYCLE_STAGE_SQL,
    v1::LIFECYCLE_STAGE_OPPORTUNITY, v1::LIFECYCLE_STAGE_CUSTOMER,
    v1::LIFECYCLE_STAGE_NURTURE,     v1::LIFECYCLE_STAGE_DISQUALIFIED};

constexpr int kWeeks = 12;
constexpr int kMaxUntreated = 100;
constexpr int kRejectionExamples = 3;
// Below this share of its target, a projection is off track.
constexpr double kAtRiskShare = 0.9;

int ChainIndex(v1::LifecycleStage stage) {
  for (size_t i = 0; i < kChain.size(); ++i) {
    if (kChain[i] == stage) return static_cast<int>(i);
  }
  return -1;
}

// Stages a lead leaves when sales hands it back to nurturing.
bool IsSalesStage(v1::LifecycleStage stage) { return ChainIndex(stage) >= 0; }

bool In(absl::Time t, absl::Time start, absl::Time end) {
  return t >= start && t < end;
}

// Monday = 0.
int WeekdayIndex(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    case absl::Weekday::sunday:
      return 6;
  }
  return 0;
}

absl::CivilDay MondayOf(absl::CivilDay day) { return day - WeekdayIndex(day); }

std::string IsoWeekLabel(absl::CivilDay monday) {
  // The ISO year is the year of the week's Thursday.
  const absl::CivilDay thursday = monday + 3;
  const int week = (absl::GetYearDay(thursday) - 1) / 7 + 1;
  return absl::StrFormat("%04d-W%02d", thursday.year(), week);
}

v1::Figure MakeFigure(double value, double previous, bool available = true,
                      bool previous_available = true) {
  v1::Figure f;
  f.set_available(available);
  f.set_previous_available(previous_available);
  f.set_value(available ? value : 0);
  f.set_previous(previous_available ? previous : 0);
  f.set_change(available && previous_available ? value - previous : 0);
  return f;
}

std::optional<double> Ratio(int64_t num, int64_t den) {
  if (den <= 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

v1::Figure RatioFigure(std::optional<double> value,
                       std::optional<double> previous) {
  return MakeFigure(value.value_or(0), previous.value_or(0), value.has_value(),
                    previous.has_value());
}

double Hours(absl::Duration d) { return absl::ToDoubleHours(d); }

std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Nearest rank.
double Percentile90(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

std::vector<double> ToHours(const std::vector<absl::Duration>& durations) {
  std::vector<double> hours;
  hours.reserve(durations.size());
  for (absl::Duration d : durations) hours.push_back(Hours(d));
  return hours;
}

void AddKeyCounts(const std::map<std::string, int64_t>& counts,
                  google::protobuf::RepeatedPtrField<v1::KeyCount>* out) {
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(),
                                                      counts.end());
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  for (const auto& [key, n] : sorted) {
    v1::KeyCount* k = out->Add();
    k->set_key(key);
    k->set_count(n);
  }
}

// A deadline: met when done by due; missed when done late or, not done,
// once due has passed at now; not counted before.
void CountDeadline(absl::Time due, std::optional<absl::Time> done,
                   absl::Time now, v1::OnTimeRate* rate, int64_t* breaches) {
  if (due == absl::InfiniteFuture()) return;
  if (done.has_value() && *done <= due) {
    rate->set_on_time(rate->on_time() + 1);
    rate->set_due(rate->due() + 1);
  } else if (done.has_value() || due <= now) {
    rate->set_due(rate->due() + 1);
    ++*breaches;
  }
}

void FinishRate(v1::OnTimeRate* rate) {
  rate->set_rate(rate->due() > 0 ? static_cast<double>(rate->on_time()) /
                                       static_cast<double>(rate->due())
                                 : 0);
}

}  // namespace

absl::StatusOr<absl::TimeZone> ReportingTimeZone(const v1::Playbook& playbook) {
  const std::string& name = playbook.metadata().reporting_time_zone();
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!name.empty() && !absl::LoadTimeZone(name, &zone)) {
    return FieldError("metadata.reporting_time_zone",
                      absl::StrCat("unknown IANA time zone \"", name, "\""));
  }
  return zone;
}

ReviewPeriod IsoWeekOf(absl::Time t, absl::TimeZone zone) {
  const absl::CivilDay monday = MondayOf(absl::ToCivilDay(t, zone));
  return {zone.At(absl::CivilSecond(monday)).pre,
          zone.At(absl::CivilSecond(monday + 7)).pre, IsoWeekLabel(monday)};
}

absl::StatusOr<ReviewPeriod> IsoWeek(absl::string_view week,
                                     absl::TimeZone zone,
                                     absl::string_view field) {
  int year = 0;
  int number = 0;
  char tail = 0;
  const std::string text(week);
  const bool parsed =
      text.size() >= 8 && text.size() <= 9 &&
      std::sscanf(text.c_str(), "%4d-W%2d%c", &year, &number, &tail) == 2 &&
      text[4] == '-' && text[5] == 'W';
  if (!parsed || year < 1 || number < 1 || number > 53) {
    return FieldError(field, absl::StrCat("an ISO week such as \"2026-W48\" "
                                          "is expected; found \"",
                                          week, "\""));
  }
  const absl::CivilDay monday =
      MondayOf(absl::CivilDay(year, 1, 4)) + 7 * (number - 1);
  if (IsoWeekLabel(monday) != absl::StrFormat("%04d-W%02d", year, number)) {
    return FieldError(field, absl::StrCat(year, " has no week ", number));
  }
  return IsoWeekOf(zone.At(absl::CivilSecond(monday)).pre, zone);
}

absl::StatusOr<std::unique_ptr<ReviewBuilder>> ReviewBuilder::Create(
    const v1::Playbook& playbook, absl::string_view playbook_version,
    const ReviewRequest& request) {
  std::vector<ReviewPlaybook> versions(1);
  versions[0].playbook = playbook;
  versions[0].label = std::string(playbook_version);
  return Create(std::move(versions), request);
}

absl::StatusOr<std::unique_ptr<ReviewBuilder>> ReviewBuilder::Create(
    std::vector<ReviewPlaybook> versions, const ReviewRequest& request) {
  if (request.period.end <= request.period.start) {
    return FieldError("period_end", "must be after period_start");
  }
  if (versions.empty()) {
    return absl::InvalidArgumentError("the review needs a Playbook version");
  }
  const v1::Playbook& playbook = versions.back().playbook;
  auto zone = ReportingTimeZone(playbook);
  if (!zone.ok()) return zone.status();
  std::unique_ptr<ReviewBuilder> b(new ReviewBuilder());
  b->versions_ = std::move(versions);
  b->request_ = request;
  b->zone_ = *zone;
  const ReviewPeriod& period = request.period;
  b->as_of_ = std::clamp(request.now, period.start, period.end);
  b->previous_start_ = period.start - (period.end - period.start);

  ProblemList problems;
  b->sla_.Compile(playbook.sla(), "sla", &problems);
  b->default_calendar_ = b->sla_.default_calendar();
  for (int i = 0; i < playbook.routing().teams_size(); ++i) {
    const v1::Team& team = playbook.routing().teams(i);
    std::shared_ptr<const BusinessCalendar> calendar = b->default_calendar_;
    if (team.has_calendar()) {
      auto own = std::make_shared<BusinessCalendar>();
      own->Compile(team.calendar(),
                   absl::StrCat("routing.teams[", i, "].calendar"), &problems);
      calendar = std::move(own);
    }
    b->team_calendars_[team.id()] = std::move(calendar);
  }
  if (auto st = problems.ToStatus("invalid Playbook"); !st.ok()) return st;

  const absl::CivilDay first =
      MondayOf(absl::ToCivilDay(period.start, b->zone_)) - 7 * (kWeeks - 1);
  for (int w = 0; w <= kWeeks; ++w) {
    b->weeks_.push_back(b->zone_.At(absl::CivilSecond(first + 7 * w)).pre);
    if (w < kWeeks) b->week_labels_.push_back(IsoWeekLabel(first + 7 * w));
  }
  b->week_counts_.resize(kWeeks);
  for (WindowCounts* w :
       {&b->period_, &b->previous_, &b->trailing4_, &b->trailing12_}) {
    w->reached.assign(kChain.size(), 0);
  }

  const std::string& team_filter = request.filter.team_id();
  // The latest version first: an objective id it declares hides the same
  // id in earlier versions.
  std::vector<std::pair<const v1::Objective*, const ReviewPlaybook*>> declared;
  absl::flat_hash_set<std::string> seen;
  for (auto v = b->versions_.rbegin(); v != b->versions_.rend(); ++v) {
    for (const v1::Objective& objective : v->playbook.objectives()) {
      if (seen.insert(objective.id()).second) {
        declared.emplace_back(&objective, &*v);
      }
    }
  }
  for (const auto& [declaration, version] : declared) {
    const v1::Objective& objective = *declaration;
    if (!team_filter.empty() && !objective.team_id().empty() &&
        objective.team_id() != team_filter) {
      continue;
    }
    const auto day = [](const v1::LocalDate& d) {
      return absl::CivilDay(d.year(), d.month(), d.day());
    };
    Objective o;
    o.objective = &objective;
    o.version = version;
    o.start = b->zone_.At(absl::CivilSecond(day(objective.period_start()))).pre;
    o.end = b->zone_.At(absl::CivilSecond(day(objective.period_end()) + 1)).pre;
    if (o.start >= period.end || o.end <= period.start) continue;
    o.calendar = b->CalendarOf(objective.team_id());
    b->objectives_.push_back(o);
  }
  return b;
}

const BusinessCalendar* ReviewBuilder::CalendarOf(
    absl::string_view team_id) const {
  auto it = team_calendars_.find(team_id);
  return it != team_calendars_.end() ? it->second.get()
                                     : default_calendar_.get();
}

bool ReviewBuilder::Matches(const v1::Lead& lead,
                            const v1::ScoreResult& score) const {
  const v1::ReviewFilter& f = request_.filter;
  return (f.team_id().empty() || score.routing().team_id() == f.team_id()) &&
         (f.campaign().empty() || lead.campaign() == f.campaign()) &&
         (f.source().empty() || lead.source() == f.source()) &&
         (f.persona_id().empty() || score.persona_id() == f.persona_id());
}

int ReviewBuilder::WeekOf(absl::Time t) const {
  if (t < weeks_.front() || t >= weeks_.back()) return -1;
  return static_cast<int>(std::upper_bound(weeks_.begin(), weeks_.end(), t) -
                          weeks_.begin()) -
         1;
}

absl::Time ReviewBuilder::Horizon() const {
  absl::Time horizon = std::min(weeks_.front(), previous_start_);
  for (const Objective& o : objectives_) horizon = std::min(horizon, o.start);
  return horizon;
}

void ReviewBuilder::Add(const v1::Lead& lead,
                        const v1::LeadLifecycle& lifecycle,
                        const v1::ScoreResult& score,
                        absl::Span<const v1::Feedback> feedback) {
  v1::LeadReviewFacts facts;
  SetReviewLead(lead, lifecycle, score, &facts);
  for (const v1::Feedback& f : feedback) AddReviewFeedback(f, &facts);
  Add(facts);
}

void ReviewBuilder::Add(const v1::LeadReviewFacts& facts) {
  if (!facts.has_lead()) return;
  AddToObjectives(facts);
  const v1::Lead& lead = facts.lead();
  const v1::LeadLifecycle& lifecycle = facts.lifecycle();
  const v1::ScoreResult& score = facts.score();
  if (!Matches(lead, score)) return;
  const ReviewPeriod& p = request_.period;
  const absl::Time trailing4_start = weeks_[kWeeks - 4];

  absl::InlinedVector<absl::Time, 4> mql_starts;
  bool recycled_before = false;
  absl::Time previous_at = absl::InfinitePast();
  for (const v1::StageTransition& t : lifecycle.history()) {
    const absl::Time at = TimeFromProto(t.at());
    for (auto [w, start, end] :
         {std::tuple{&period_, p.start, p.end},
          std::tuple{&previous_, previous_start_, p.start}}) {
      if (!In(at, start, end)) continue;
      ++w->entered[t.to()];
      if (previous_at != absl::InfinitePast()) {
        w->time_in_stage[t.from()].push_back(at - previous_at);
      }
    }
    previous_at = at;
    const bool recycle =
        t.to() == v1::LIFECYCLE_STAGE_NURTURE && IsSalesStage(t.from());
    if (recycle && In(at, p.start, p.end)) ++recycled_;
    if (t.to() == v1::LIFECYCLE_STAGE_MQL) {
      if (In(at, p.start, p.end)) {
        ++period_.mqls;
        ++by_persona_[score.persona_id()];
        ++by_grade_[score.grade()];
        ++by_source_[lead.source()];
        ++by_campaign_[lead.campaign()];
        if (recycled_before) ++requalified_;
      }
      if (In(at, previous_start_, p.start)) ++previous_.mqls;
      if (int w = WeekOf(at); w >= 0) ++week_counts_[w].mqls;
      mql_starts.push_back(at);
    }
    if (recycle) recycled_before = true;
  }

  // Each MQL episode runs until the next one: what sales did in it counts
  // for the week it started, and the stages it reached for its cohorts.
  for (size_t k = 0; k < mql_starts.size(); ++k) {
    const absl::Time start = mql_starts[k];
    const absl::Time end =
        k + 1 < mql_starts.size() ? mql_starts[k + 1] : absl::InfiniteFuture();
    int reached = 0;
    for (const v1::StageTransition& t : lifecycle.history()) {
      const absl::Time at = TimeFromProto(t.at());
      if (In(at, start, end) && at <= as_of_) {
        reached = std::max(reached, ChainIndex(t.to()));
      }
    }
    for (auto [w, from, to] :
         {std::tuple{&period_, p.start, p.end},
          std::tuple{&previous_, previous_start_, p.start},
          std::tuple{&trailing4_, trailing4_start, p.end},
          std::tuple{&trailing12_, weeks_.front(), p.end}}) {
      if (!In(start, from, to)) continue;
      for (int i = 0; i <= reached; ++i) ++w->reached[i];
    }
    const int week = WeekOf(start);
    if (week < 0) continue;
    std::vector<v1::Feedback> episode;
    for (const v1::Feedback& f : facts.feedback()) {
      if (In(TimeFromProto(f.at()), start, end)) episode.push_back(f);
    }
    v1::FunnelCounts one = LeadOutcomes(episode);
    one.set_leads(1);
    one.set_mqls(1);
    absl::Duration touch = absl::InfiniteDuration();
    if (lifecycle.has_mql_at() && TimeFromProto(lifecycle.mql_at()) == start &&
        lifecycle.has_first_touched_at()) {
      one.set_touched(1);
      touch = TimeFromProto(lifecycle.first_touched_at()) - start;
    }
    Week& wk = week_counts_[week];
    wk.total.Add(one, touch);
    wk.by_campaign[lead.campaign()].Add(one, touch);
    wk.by_source[lead.source()].Add(one, touch);
    wk.by_persona[score.persona_id()].Add(one, touch);
  }

  AddDecisions(facts);
  AddCompliance(lead, lifecycle, score);
}

void ReviewBuilder::AddDecisions(const v1::LeadReviewFacts& facts) {
  const ReviewPeriod& p = request_.period;
  for (const v1::Feedback& f : facts.feedback()) {
    const absl::Time at = TimeFromProto(f.at());
    const bool accepted = f.has_accepted();
    if (!accepted && !f.has_rejected()) continue;
    if (In(at, p.start, p.end)) {
      ++(accepted ? period_.accepted : period_.rejected);
      if (!accepted) {
        auto& [count, examples] =
            rejection_reasons_[f.rejected().reason_code()];
        ++count;
        if (examples.size() < kRejectionExamples) {
          examples.push_back(facts.lead().id());
        }
      }
    }
    if (In(at, previous_start_, p.start)) {
      ++(accepted ? previous_.accepted : previous_.rejected);
    }
    if (int w = WeekOf(at); w >= 0) {
      ++(accepted ? week_counts_[w].accepted : week_counts_[w].rejected);
    }
  }
}

void ReviewBuilder::AddToObjectives(const v1::LeadReviewFacts& facts) {
  const v1::LeadLifecycle& lifecycle = facts.lifecycle();
  const auto& feedback = facts.feedback();
  for (Objective& o : objectives_) {
    const std::string& team = o.objective->team_id();
    if (!team.empty() && facts.score().routing().team_id() != team) continue;
    const absl::Time end = std::min(o.end, as_of_);
    ObjectiveCounts& c = o.counts;
    for (const v1::StageTransition& t : lifecycle.history()) {
      if (t.to() == v1::LIFECYCLE_STAGE_MQL &&
          In(TimeFromProto(t.at()), o.start, end)) {
        ++c.mqls;
      }
    }
    for (const v1::Feedback& f : feedback) {
      if (!In(TimeFromProto(f.at()), o.start, end)) continue;
      switch (f.outcome_case()) {
        case v1::Feedback::kAccepted:
          ++c.accepted;
          break;
        case v1::Feedback::kMeetingHeld:
          ++c.meetings;
          break;
        case v1::Feedback::kOpportunityCreated:
          ++c.opportunities;
          break;
        case v1::Feedback::kWon:
          ++c.wins;
          c.revenue += f.won().revenue().amount();
          if (f.won().has_margin()) {
            ++c.wins_with_margin;
            c.margin += f.won().margin().amount();
          }
          break;
        default:
          break;
      }
    }
  }
}

void ReviewBuilder::AddCompliance(const v1::Lead& lead,
                                  const v1::LeadLifecycle& lifecycle,
                                  const v1::ScoreResult& score) {
  if (!lifecycle.has_mql_at()) return;
  const absl::Time mql = TimeFromProto(lifecycle.mql_at());
  const absl::Time now = request_.now;
  const std::string& team = score.routing().team_id();
  const std::string& owner = score.routing().owner_id();
  const BusinessCalendar* calendar = CalendarOf(team);
  const ReviewPeriod& p = request_.period;
  absl::InlinedVector<Compliance*, 3> groups;
  if (In(mql, p.start, p.end)) {
    groups.push_back(&total_);
    if (!team.empty()) {
      groups.push_back(&by_team_[team]);
      groups.push_back(&by_owner_[{team, owner}]);
    }
  } else if (In(mql, previous_start_, p.start)) {
    groups.push_back(&previous_total_);
  }
  const bool untreated = lifecycle.stage() == v1::LIFECYCLE_STAGE_MQL &&
                         !lifecycle.has_first_touched_at() && mql <= now;
  // Most leads of a large store count for neither: their SLA is not
  // evaluated.
  if (groups.empty() && !untreated) return;
  const SlaProgress progress = SlaProgressOf(lifecycle);
  const SlaEvaluation evaluation =
      sla_.Evaluate(score.priority(), mql, progress, now, calendar);
  const auto business = [&](absl::Time from, absl::Time to) {
    return calendar != nullptr ? calendar->BusinessTimeBetween(from, to)
                               : std::max(to - from, absl::ZeroDuration());
  };

  if (untreated) {
    v1::UntreatedLead u;
    u.set_lead_id(lead.id());
    u.set_team_id(team);
    u.set_owner_id(owner);
    *u.mutable_mql_at() = lifecycle.mql_at();
    u.set_business_hours_waiting(Hours(business(mql, now)));
    u.set_sla_state(evaluation.state);
    untreated_.push_back(std::move(u));
  }

  std::optional<absl::Time> feedback_done = progress.feedback_at;
  if (feedback_done && progress.meeting_held_at &&
      *feedback_done < *progress.meeting_held_at) {
    feedback_done.reset();
  }
  for (Compliance* g : groups) {
    v1::SlaCompliance& c = g->counts;
    c.set_mqls(c.mqls() + 1);
    int64_t breaches = c.breaches();
    if (evaluation.state != v1::SLA_STATE_UNSPECIFIED) {
      CountDeadline(evaluation.first_touch_due, progress.first_touched_at, now,
                    c.mutable_first_touch(), &breaches);
      CountDeadline(evaluation.accept_or_reject_due, progress.sales_decision_at,
                    now, c.mutable_accept_or_reject(), &breaches);
      CountDeadline(evaluation.feedback_due, feedback_done, now,
                    c.mutable_feedback_after_meeting(), &breaches);
    }
    c.set_breaches(breaches);
    if (evaluation.escalation_due != v1::ESCALATION_ACTION_UNSPECIFIED) {
      c.set_escalations(c.escalations() + 1);
    }
    if (progress.first_touched_at) {
      c.set_touched(c.touched() + 1);
      g->hours_to_first_touch.push_back(
          Hours(business(mql, *progress.first_touched_at)));
    }
  }
}

int ReviewBuilder::BusinessDays(const BusinessCalendar* calendar,
                                absl::Time from, absl::Time to) const {
  const absl::TimeZone zone =
      calendar != nullptr ? calendar->time_zone() : zone_;
  int days = 0;
  for (absl::CivilDay d = absl::ToCivilDay(from, zone);; ++d) {
    const absl::Time start = std::max(from, zone.At(absl::CivilSecond(d)).pre);
    if (start >= to) break;
    const absl::Time end = std::min(to, zone.At(absl::CivilSecond(d + 1)).pre);
    if (calendar == nullptr ||
        calendar->BusinessTimeBetween(start, end) > absl::ZeroDuration()) {
      ++days;
    }
  }
  return days;
}

v1::ObjectiveProgress ReviewBuilder::Progress(const Objective& o) const {
  const v1::Objective& objective = *o.objective;
  v1::ObjectiveProgress out;
  out.set_objective_id(objective.id());
  out.set_description(objective.description());
  out.set_team_id(objective.team_id());
  out.set_metric(objective.metric());
  *out.mutable_period_start() = objective.period_start();
  *out.mutable_period_end() = objective.period_end();
  out.set_target(objective.target());
  out.set_playbook_version(o.version->label);
  out.set_playbook_number(o.version->number);
  const int total = BusinessDays(o.calendar, o.start, o.end);
  const int elapsed = BusinessDays(o.calendar, o.start,
                                   std::max(o.start, std::min(o.end, as_of_)));
  out.set_business_days_total(total);
  out.set_business_days_elapsed(elapsed);

  const ObjectiveCounts& c = o.counts;
  std::optional<double> actual;
  bool rate = false;
  std::string missing;
  switch (objective.metric()) {
    case v1::OBJECTIVE_METRIC_MQLS:
      actual = c.mqls;
      break;
    case v1::OBJECTIVE_METRIC_NEW_OPPORTUNITIES:
      actual = c.opportunities;
      break;
    case v1::OBJECTIVE_METRIC_CUSTOMERS:
      actual = c.wins;
      break;
    case v1::OBJECTIVE_METRIC_REVENUE:
      actual = c.revenue;
      break;
    case v1::OBJECTIVE_METRIC_MARGIN:
      if (c.wins > 0 && c.wins_with_margin == 0) {
        missing = "no won deal of the period recorded its margin";
      } else {
        actual = c.margin;
      }
      break;
    case v1::OBJECTIVE_METRIC_MEETING_RATE:
      rate = true;
      actual = Ratio(c.meetings, c.accepted);
      if (!actual) missing = "no lead accepted by sales in the period yet";
      break;
    case v1::OBJECTIVE_METRIC_SIGNING_RATE:
      rate = true;
      actual = Ratio(c.wins, c.opportunities);
      if (!actual) missing = "no opportunity created in the period yet";
      break;
    default:
      missing = "unknown metric";
      break;
  }
  if (actual && !rate && elapsed == 0) {
    actual.reset();
    missing = "the objective's period has no business day elapsed yet";
  }
  if (!actual) {
    out.set_available(false);
    out.set_unavailable_reason(missing);
    out.set_status(v1::OBJECTIVE_STATUS_NO_DATA);
    out.set_expected_by_now(rate        ? objective.target()
                            : total > 0 ? objective.target() * elapsed / total
                                        : 0);
    return out;
  }
  const double target = objective.target();
  out.set_available(true);
  out.set_actual(*actual);
  out.set_share_done(target > 0 ? *actual / target : 1);
  if (rate) {
    out.set_expected_by_now(target);
    out.set_projection(*actual);
  } else {
    out.set_expected_by_now(total > 0 ? target * elapsed / total : target);
    out.set_projection(*actual * total / elapsed);
  }
  const double projection = out.projection();
  out.set_status(projection >= target ? v1::OBJECTIVE_STATUS_ON_TRACK
                 : projection >= kAtRiskShare * target
                     ? v1::OBJECTIVE_STATUS_AT_RISK
                     : v1::OBJECTIVE_STATUS_OFF_TRACK);
  return out;
}

v1::Review ReviewBuilder::Build() const {
  v1::Review review;
  const ReviewPeriod& p = request_.period;
  TimeToProto(p.start, review.mutable_period_start());
  TimeToProto(p.end, review.mutable_period_end());
  review.set_period_label(p.label);
  review.set_time_zone(zone_.name());
  *review.mutable_filter() = request_.filter;
  review.set_playbook_version(versions_.back().label);
  for (const ReviewPlaybook& v : versions_) {
    v1::ReviewPlaybookVersion* out = review.add_playbook_versions();
    out->set_number(v.number);
    out->set_label(v.label);
    if (v.active_from != absl::InfinitePast()) {
      TimeToProto(v.active_from, out->mutable_active_from());
    }
    if (v.active_until != absl::InfiniteFuture()) {
      TimeToProto(v.active_until, out->mutable_active_until());
    }
    out->set_activated_by(v.activated_by);
  }
  TimeToProto(as_of_, review.mutable_as_of());

  for (const Objective& o : objectives_) *review.add_objectives() = Progress(o);

  BuildMarketing(review.mutable_marketing());
  BuildSales(review.mutable_sales());
  BuildFunnel(review.mutable_funnel());
  BuildWeeks(&review);
  return review;
}

// Marketing's side of the SLA: MQLs against the objective, how sales
// received them, why it rejected some, where they came from.
void ReviewBuilder::BuildMarketing(v1::MarketingScorecard* scorecard) const {
  const ReviewPeriod& p = request_.period;
  v1::MarketingScorecard& m = *scorecard;
  *m.mutable_mqls() = MakeFigure(period_.mqls, previous_.mqls);
  for (const Objective& o : objectives_) {
    if (o.objective->metric() != v1::OBJECTIVE_METRIC_MQLS) continue;
    const int total = BusinessDays(o.calendar, o.start, o.end);
    const auto pro_rata = [&](absl::Time from, absl::Time to) {
      from = std::max(from, o.start);
      to = std::min(to, o.end);
      return to > from && total > 0
                 ? o.objective->target() * BusinessDays(o.calendar, from, to) /
                       total
                 : 0.0;
    };
    *m.mutable_mql_target() =
        MakeFigure(pro_rata(p.start, p.end), pro_rata(previous_start_, p.start),
                   true, previous_start_ < o.end && p.start > o.start);
    break;
  }
  *m.mutable_accepted() = MakeFigure(period_.accepted, previous_.accepted);
  *m.mutable_rejected() = MakeFigure(period_.rejected, previous_.rejected);
  *m.mutable_acceptance_rate() = RatioFigure(
      Ratio(period_.accepted, period_.accepted + period_.rejected),
      Ratio(previous_.accepted, previous_.accepted + previous_.rejected));
  std::vector<const std::pair<const std::string,
                              std::pair<int64_t, std::vector<std::string>>>*>
      reasons;
  for (const auto& r : rejection_reasons_) reasons.push_back(&r);
  std::stable_sort(reasons.begin(), reasons.end(), [](auto* a, auto* b) {
    return a->second.first > b->second.first;
  });
  for (const auto* r : reasons) {
    v1::RejectionReasonCount* out = m.add_rejection_reasons();
    out->set_reason_code(r->first);
    out->set_count(r->second.first);
    for (const std::string& id : r->second.second)
      out->add_example_lead_ids(id);
  }
  AddKeyCounts(by_persona_, m.mutable_mqls_by_persona());
  AddKeyCounts(by_grade_, m.mutable_mqls_by_grade());
  AddKeyCounts(by_source_, m.mutable_mqls_by_source());
  AddKeyCounts(by_campaign_, m.mutable_mqls_by_campaign());
  m.set_recycled(recycled_);
  m.set_requalified(requalified_);
}

// Sales' side of the SLA: on-time rates and time to first touch overall,
// per team and per owner, and the MQLs nobody has touched yet.
void ReviewBuilder::BuildSales(v1::SalesScorecard* scorecard) const {
  v1::SalesScorecard& s = *scorecard;
  const auto finish = [](const Compliance& g, const std::string& team,
                         const std::string& owner, v1::SlaCompliance* out) {
    *out = g.counts;
    out->set_team_id(team);
    out->set_owner_id(owner);
    FinishRate(out->mutable_first_touch());
    FinishRate(out->mutable_accept_or_reject());
    FinishRate(out->mutable_feedback_after_meeting());
    if (!g.hours_to_first_touch.empty()) {
      out->set_median_hours_to_first_touch(*Median(g.hours_to_first_touch));
      out->set_p90_hours_to_first_touch(Percentile90(g.hours_to_first_touch));
    }
  };
  finish(total_, "", "", s.mutable_total());
  for (const auto& [team, g] : by_team_) finish(g, team, "", s.add_by_team());
  for (const auto& [key, g] : by_owner_) {
    finish(g, key.first, key.second, s.add_by_owner());
  }
  std::vector<v1::UntreatedLead> untreated = untreated_;
  const auto older = [](const v1::UntreatedLead& a,
                        const v1::UntreatedLead& b) {
    return std::make_tuple(a.mql_at().seconds(), a.mql_at().nanos(),
                           a.lead_id()) < std::make_tuple(b.mql_at().seconds(),
                                                          b.mql_at().nanos(),
                                                          b.lead_id());
  };
  const size_t kept = std::min<size_t>(untreated.size(), kMaxUntreated);
  std::partial_sort(untreated.begin(), untreated.begin() + kept,
                    untreated.end(), older);
  for (size_t i = 0; i < kept; ++i) *s.add_untreated() = untreated[i];
  const v1::OnTimeRate& touch = total_.counts.first_touch();
  const v1::OnTimeRate& previous_touch = previous_total_.counts.first_touch();
  *s.mutable_first_touch_rate() =
      RatioFigure(Ratio(touch.on_time(), touch.due()),
                  Ratio(previous_touch.on_time(), previous_touch.due()));
  const auto median = Median(total_.hours_to_first_touch);
  const auto previous_median = Median(previous_total_.hours_to_first_touch);
  *s.mutable_median_hours_to_first_touch() =
      RatioFigure(median, previous_median);
}

// The funnel: leads entering each stage, conversions along the chain, time
// spent in each stage.
void ReviewBuilder::BuildFunnel(v1::FunnelReview* funnel) const {
  v1::FunnelReview& f = *funnel;
  for (v1::LifecycleStage stage : kStages) {
    v1::StageCount* c = f.add_entered();
    c->set_stage(stage);
    const auto count = [stage](const WindowCounts& w) {
      auto it = w.entered.find(stage);
      return it == w.entered.end() ? int64_t{0} : it->second;
    };
    *c->mutable_entered() = MakeFigure(count(period_), count(previous_));
  }
  for (size_t i = 0; i + 1 < kChain.size(); ++i) {
    v1::StageConversion* c = f.add_conversions();
    c->set_from(kChain[i]);
    c->set_to(kChain[i + 1]);
    const auto rate = [i](const WindowCounts& w) {
      return Ratio(w.reached[i + 1], w.reached[i]);
    };
    *c->mutable_period() = RatioFigure(rate(period_), rate(previous_));
    c->set_trailing_4_weeks(rate(trailing4_).value_or(0));
    c->set_trailing_12_weeks(rate(trailing12_).value_or(0));
  }
  for (v1::LifecycleStage stage : kStages) {
    const auto median_of = [stage](const WindowCounts& w) {
      auto it = w.time_in_stage.find(stage);
      return it == w.time_in_stage.end() ? std::nullopt
                                         : Median(ToHours(it->second));
    };
    const auto now = median_of(period_);
    const auto before = median_of(previous_);
    if (!now && !before) continue;
    v1::StageTime* t = f.add_time_in_stage();
    t->set_stage(stage);
    *t->mutable_median_hours() = RatioFigure(now, before);
  }
}

// The closed loop and the trend, week by week.
void ReviewBuilder::BuildWeeks(v1::Review* review) const {
  for (int w = 0; w < kWeeks; ++w) {
    const Week& wk = week_counts_[w];
    v1::ClosedLoopWeek* c = review->add_closed_loop();
    c->set_week(week_labels_[w]);
    TimeToProto(weeks_[w], c->mutable_week_start());
    wk.total.Finish(c->mutable_total());
    for (const auto& [map, out] :
         {std::pair{&wk.by_campaign, c->mutable_by_campaign()},
          std::pair{&wk.by_source, c->mutable_by_source()},
          std::pair{&wk.by_persona, c->mutable_by_persona()}}) {
      for (const auto& [key, tally] : *map) {
        v1::FunnelSegment* segment = out->Add();
        segment->set_key(key);
        tally.Finish(segment->mutable_counts());
      }
    }
    v1::WeeklyPoint* point = review->add_weekly();
    point->set_week(week_labels_[w]);
    TimeToProto(weeks_[w], point->mutable_week_start());
    point->set_mqls(wk.mqls);
    point->set_accepted(wk.accepted);
    point->set_rejected(wk.rejected);
    point->set_acceptance_rate(
        Ratio(wk.accepted, wk.accepted + wk.rejected).value_or(0));
  }
}

}  // namespace smarketing
