#include "grpc_server/review_query.h"

#include <utility>
#include <vector>

#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/review/review.h"

namespace smarketing {
namespace {

// Leads counted between two looks at whether the caller gave up.
constexpr int kCancelCheck = 1000;
// A review longer than a year is not a review; it also bounds the work of
// the calendar arithmetic.
constexpr absl::Duration kMaxPeriod = absl::Hours(24 * 366);

absl::StatusOr<ReviewPeriod> RequestedPeriod(
    const v1::GetReviewRequest& request, absl::TimeZone zone, absl::Time now) {
  const bool has_period =
      request.has_period_start() || request.has_period_end();
  if (!request.week().empty() && has_period) {
    return FieldError("week",
                      "give either week or period_start and period_end");
  }
  if (!request.week().empty()) return IsoWeek(request.week(), zone, "week");
  if (!has_period) return IsoWeekOf(now, zone);
  if (!request.has_period_start() ||
      !IsValidTimestamp(request.period_start())) {
    return FieldError("period_start",
                      "required with period_end, a valid timestamp");
  }
  if (!request.has_period_end() || !IsValidTimestamp(request.period_end())) {
    return FieldError("period_end",
                      "required with period_start, a valid timestamp");
  }
  ReviewPeriod period{TimeFromProto(request.period_start()),
                      TimeFromProto(request.period_end()), ""};
  if (period.end <= period.start) {
    return FieldError("period_end", "must be after period_start");
  }
  if (period.end - period.start > kMaxPeriod) {
    return FieldError("period_end", "at most 366 days after period_start");
  }
  return period;
}

// The Playbook versions in force during `period`, oldest first, each with
// when it became active and until when. A period before every activation
// (a store's history written before its Playbook was) is reviewed with the
// first version activated, reported with its real activation time.
absl::StatusOr<std::vector<ReviewPlaybook>> VersionsInForce(
    Store& store, Playbooks& playbooks, const ReviewPeriod& period) {
  // Activations are the admins' rare acts: the list to the end of time is
  // short, and its first one after the period ends the last one's term.
  auto activations =
      store.ListPlaybookActivations(period.start, absl::InfiniteFuture());
  if (!activations.ok()) return activations.status();
  std::vector<ReviewPlaybook> versions;
  for (size_t i = 0; i < activations->size(); ++i) {
    const PlaybookActivation& a = (*activations)[i];
    if (a.activated_at >= period.end && !versions.empty()) break;
    auto engine = playbooks.Get(a.number);
    if (!engine.ok()) return engine.status();
    const CompiledPlaybook& compiled = *engine->engine->playbook();
    ReviewPlaybook& v = versions.emplace_back();
    v.playbook = compiled.playbook();
    v.number = a.number;
    v.label = compiled.version_label();
    v.active_from = a.activated_at;
    if (i + 1 < activations->size()) {
      v.active_until = (*activations)[i + 1].activated_at;
    }
    v.activated_by = a.activated_by;
  }
  if (versions.empty()) {
    // A store without activations: its active version stands in.
    auto active = playbooks.Get(0);
    if (!active.ok()) return active.status();
    const CompiledPlaybook& compiled = *active->engine->playbook();
    ReviewPlaybook& v = versions.emplace_back();
    v.playbook = compiled.playbook();
    v.number = active->number;
    v.label = compiled.version_label();
  }
  return versions;
}

}  // namespace

absl::StatusOr<v1::Review> ComputeReview(Store& store, Playbooks& playbooks,
                                         const v1::GetReviewRequest& request,
                                         absl::Time now,
                                         absl::FunctionRef<bool()> cancelled) {
  if (request.has_now()) {
    if (!IsValidTimestamp(request.now())) {
      return FieldError("now", "a valid timestamp");
    }
    now = TimeFromProto(request.now());
  }
  // The period is cut in the reporting time zone of the version active at
  // its end; that version is known once the period is: cut it with the
  // active version's zone, then again if the version then in force has
  // another zone (a week or the current one only: explicit bounds are
  // instants).
  auto active = playbooks.Get(0);
  if (!active.ok()) return active.status();
  auto zone = ReportingTimeZone(active->engine->playbook()->playbook());
  if (!zone.ok()) return zone.status();
  auto period = RequestedPeriod(request, *zone, now);
  if (!period.ok()) return period.status();
  auto versions = VersionsInForce(store, playbooks, *period);
  if (!versions.ok()) return versions.status();
  auto end_zone = ReportingTimeZone(versions->back().playbook);
  if (!end_zone.ok()) return end_zone.status();
  if (*end_zone != *zone && !request.has_period_start()) {
    period = RequestedPeriod(request, *end_zone, now);
    if (!period.ok()) return period.status();
    versions = VersionsInForce(store, playbooks, *period);
    if (!versions.ok()) return versions.status();
  }
  auto builder = ReviewBuilder::Create(*std::move(versions),
                                       {*period, request.filter(), now});
  if (!builder.ok()) return builder.status();

  // Leads whose facts all lie before the review's horizon count for none of
  // its figures: the store leaves them out.
  int64_t read = 0;
  absl::Status scanned = store.ScanReviewFacts(
      (*builder)->Horizon(),
      [&](const v1::LeadReviewFacts& facts) -> absl::Status {
        if (++read % kCancelCheck == 0 && cancelled()) {
          return absl::CancelledError("the review was cancelled");
        }
        (*builder)->Add(facts);
        return absl::OkStatus();
      });
  if (!scanned.ok()) return scanned;
  return (*builder)->Build();
}

}  // namespace smarketing
