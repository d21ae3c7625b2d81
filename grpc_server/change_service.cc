// LeadService's change feed: ListChanges pages through the log, and
// WatchChanges streams it, waking on each commit of this process and
// reading the store again at least every second (for changes committed by
// another replica sharing it).
#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;
// Changes a stream reads from the store at a time.
constexpr int kWatchBatch = 256;
// How long a stream waits for a commit before reading the store again and
// checking that the client is still there.
constexpr absl::Duration kWatchPoll = absl::Seconds(1);

absl::Status CheckCursor(int64_t cursor) {
  if (cursor < 0) {
    return FieldError("after_cursor",
                      absl::StrCat("must be 0 or a cursor; found ", cursor));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status LeadServiceImpl::ListChanges(grpc::ServerContext* context,
                                          const v1::ListChangesRequest* request,
                                          v1::ListChangesResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "LeadService.ListChanges");
    if (!caller.ok()) return caller.status();
    if (auto st = CheckCursor(request->after_cursor()); !st.ok()) return st;
    if (request->limit() < 0 || request->limit() > kMaxLimit) {
      return FieldError("limit", absl::StrCat("must be in [0, ", kMaxLimit,
                                              "]; found ", request->limit()));
    }
    const int limit = request->limit() == 0 ? kDefaultLimit : request->limit();
    auto changes = deps_.feed->Read(request->after_cursor(), limit);
    if (!changes.ok()) return changes.status();
    response->set_next_cursor(request->after_cursor());
    for (v1::Change& change : *changes) {
      response->set_next_cursor(change.cursor());
      *response->add_changes() = std::move(change);
    }
    return absl::OkStatus();
  }());
}

grpc::Status LeadServiceImpl::WatchChanges(
    grpc::ServerContext* context, const v1::WatchChangesRequest* request,
    grpc::ServerWriter<v1::Change>* writer) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "LeadService.WatchChanges");
    if (!caller.ok()) return caller.status();
    if (auto st = CheckCursor(request->after_cursor()); !st.ok()) return st;
    auto followed = deps_.feed->Follow(
        request->after_cursor(), kWatchBatch, kWatchPoll,
        [context] { return context->IsCancelled(); },
        [writer](const v1::Change& change) { return writer->Write(change); });
    if (!followed.ok()) return followed.status();
    // A write that fails means the client went away: it resumes from the
    // last cursor it received.
    if (followed->refused) return absl::OkStatus();
    Log("info", "change_watch_done",
        {{"sent", absl::StrCat(followed->sent)}, {"by", caller->name}});
    return absl::CancelledError("the client cancelled the stream");
  }());
}

}  // namespace smarketing
