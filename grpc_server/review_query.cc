#include "grpc_server/review_query.h"

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
  auto version = playbooks.Get(0);
  if (!version.ok()) return version.status();
  const CompiledPlaybook& playbook = *version->engine->playbook();
  auto zone = ReportingTimeZone(playbook.playbook());
  if (!zone.ok()) return zone.status();
  auto period = RequestedPeriod(request, *zone, now);
  if (!period.ok()) return period.status();
  auto builder =
      ReviewBuilder::Create(playbook.playbook(), playbook.version_label(),
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
