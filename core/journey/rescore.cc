#include "core/journey/rescore.h"

#include "core/base/proto_time.h"
#include "core/journey/lead_change.h"
#include "google/protobuf/util/message_differencer.h"

namespace smarketing {

std::optional<v1::RescoreStatus> NextRescorePass(
    const v1::RescoreStatus* latest, int64_t active_playbook, absl::Time now,
    absl::Duration refresh_interval) {
  v1::RescoreReason reason = v1::RESCORE_REASON_ACTIVATION;
  if (latest != nullptr && latest->playbook_number() == active_playbook) {
    if (latest->state() == v1::RESCORE_STATE_RUNNING) return std::nullopt;
    if (refresh_interval <= absl::ZeroDuration() ||
        now < TimeFromProto(latest->started_at()) + refresh_interval) {
      return std::nullopt;
    }
    reason = v1::RESCORE_REASON_REFRESH;
  }
  v1::RescoreStatus next;
  next.set_pass_number(latest != nullptr ? latest->pass_number() + 1 : 1);
  next.set_reason(reason);
  next.set_state(v1::RESCORE_STATE_RUNNING);
  next.set_playbook_number(active_playbook);
  TimeToProto(now, next.mutable_started_at());
  return next;
}

bool RescoreKeeps(v1::RescoreReason reason, const v1::Lead& lead,
                  const LeadState& before, const LeadState& after) {
  if (reason == v1::RESCORE_REASON_ACTIVATION) {
    using google::protobuf::util::MessageDifferencer;
    return !MessageDifferencer::Equals(before.lifecycle, after.lifecycle) ||
           !MessageDifferencer::Equals(before.score, after.score);
  }
  v1::Change change;
  DescribeLeadChange(lead, &before, after, /*rescored=*/false,
                     /*feedback=*/false, &change);
  return !change.kinds().empty();
}

}  // namespace smarketing
