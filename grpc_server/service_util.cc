#include "grpc_server/service_util.h"

#include <chrono>

#include "core/base/problems.h"
#include "core/base/proto_time.h"

namespace smarketing {

absl::StatusOr<absl::Time> RequestTime(bool has_field,
                                       const google::protobuf::Timestamp& field,
                                       absl::string_view path) {
  if (!has_field) return absl::Now();
  if (!IsValidTimestamp(field)) {
    return FieldError(path, "must be a valid timestamp (years 1 to 9999)");
  }
  return TimeFromProto(field);
}

absl::StatusOr<int> PageSize(int32_t requested, int default_size) {
  if (requested < 0 || requested > 1000) {
    return FieldError("page_size", "must be in [0, 1000]");
  }
  return requested == 0 ? default_size : requested;
}

absl::Status CheckNotCancelled(const grpc::ServerContext& context) {
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError("the call's deadline passed");
  }
  if (context.IsCancelled()) {
    return absl::CancelledError("the call was cancelled");
  }
  return absl::OkStatus();
}

void ToLeadRecord(const StoredLead& lead, int event_count,
                  const LeadEngine& engine, absl::Time now,
                  v1::LeadRecord* out) {
  *out->mutable_lead() = lead.lead;
  *out->mutable_score() = lead.score;
  *out->mutable_lifecycle() = lead.lifecycle;
  *out->mutable_routing() = lead.score.routing();
  *out->mutable_sla() = engine.SlaStatusAt({lead.lifecycle, lead.score}, now);
  out->set_revision(lead.revision);
  out->set_event_count(event_count);
  TimeToProto(lead.updated_at, out->mutable_updated_at());
}

}  // namespace smarketing
