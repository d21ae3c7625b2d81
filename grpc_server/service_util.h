// Small pieces every service uses: request times, page sizes and the
// LeadRecord view of a stored lead.
#ifndef SMARKETING_GRPC_SERVER_SERVICE_UTIL_H_
#define SMARKETING_GRPC_SERVER_SERVICE_UTIL_H_

#include <grpcpp/server_context.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/journey/lead_engine.h"
#include "google/protobuf/timestamp.pb.h"
#include "smarketing/v1/lead_service.pb.h"
#include "store/store.h"

namespace smarketing {

// The time a request names in `field`, or the server's clock when it is
// unset; INVALID_ARGUMENT naming `path` when it is out of range.
absl::StatusOr<absl::Time> RequestTime(bool has_field,
                                       const google::protobuf::Timestamp& field,
                                       absl::string_view path);

// The page size a list request asks for, `default_size` when unset;
// INVALID_ARGUMENT on `page_size` outside [0, 1000].
absl::StatusOr<int> PageSize(int32_t requested, int default_size);

// DEADLINE_EXCEEDED or CANCELLED once the client's deadline has passed or
// the call was cancelled (by the client, or by a shutdown past its grace),
// for handlers that loop to stop early.
absl::Status CheckNotCancelled(const grpc::ServerContext& context);

// `lead` as a response shows it, with its SLA status as of `now` under
// `engine`.
void ToLeadRecord(const StoredLead& lead, int event_count,
                  const LeadEngine& engine, absl::Time now,
                  v1::LeadRecord* out);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_SERVICE_UTIL_H_
