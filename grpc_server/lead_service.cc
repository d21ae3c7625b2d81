#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Events per RecordEvents request: bounds one transaction.
constexpr int kMaxEventsPerRequest = 10000;

// request_id is echoed back: an identifier, not a payload.
constexpr size_t kMaxRequestIdBytes = 256;

// What RecordEvents and StreamEvents check before writing.
absl::Status CheckEventsRequest(const v1::RecordEventsRequest& request) {
  if (request.events_size() > kMaxEventsPerRequest) {
    return FieldError("events", absl::StrCat("at most ", kMaxEventsPerRequest,
                                             " events per request"));
  }
  if (request.request_id().size() > kMaxRequestIdBytes) {
    return FieldError("request_id",
                      absl::StrCat("at most ", kMaxRequestIdBytes, " bytes"));
  }
  return absl::OkStatus();
}

// A ListLeads page's leads, serialized: a page always fits in a response
// that clients with gRPC's default limit (4 MiB) accept, however large the
// stored leads (kMaxLeadRecordBytes).
constexpr size_t kListBytes = 3 << 20;

// ListLeads' page token: the last lead id examined, marked so that a
// token the service did not return is refused rather than read as a lead
// id.
constexpr absl::string_view kLeadPagePrefix = "l1.";

std::string LeadPageToken(absl::string_view after) {
  return absl::StrCat(kLeadPagePrefix, absl::WebSafeBase64Escape(after));
}

absl::StatusOr<std::string> LeadPagePosition(absl::string_view token) {
  std::string after;
  if (token.empty()) return after;
  if (!absl::ConsumePrefix(&token, kLeadPagePrefix) ||
      !absl::WebSafeBase64Unescape(token, &after)) {
    return FieldError("page_token", "not a token this service returned");
  }
  return after;
}

void ToResponse(const LeadWrite& write, const v1::RecordEventsRequest& request,
                v1::RecordEventsResponse* response) {
  response->set_lead_id(request.lead_id());
  response->set_request_id(request.request_id());
  response->set_recorded(write.recorded);
  response->set_duplicates(write.duplicates);
  response->set_stage(write.lead.lifecycle.stage());
  response->set_revision(write.lead.revision);
}

void LogWrite(absl::string_view event, const LeadWrite& write,
              const Caller& caller) {
  Log("info", event,
      {{"lead_id", write.lead.lead.id()},
       {"revision", absl::StrCat(write.lead.revision)},
       {"stage", v1::LifecycleStage_Name(write.lead.lifecycle.stage())},
       {"by", caller.name}});
}

// Who the change feed says made a write: sales for the sales role, else
// marketing (admins act for marketing).
WriteActor ActorOf(const Caller& caller) {
  WriteActor actor;
  actor.kind =
      caller.role == Role::kSales ? v1::ACTOR_SALES : v1::ACTOR_MARKETING;
  actor.id = caller.name;
  return actor;
}

// What every RPC that writes one lead and answers with its record does:
// authorizes the caller for `method`, calls `write(now, actor)`, logs `event`
// and shows the written lead in `out` as of `now`.
template <typename WriteFn>
absl::StatusOr<LeadWrite> WriteLead(const TokenTable& tokens,
                                    const grpc::ServerContext& context,
                                    absl::string_view method,
                                    absl::string_view event, WriteFn write,
                                    v1::LeadRecord* out) {
  auto caller = Authorize(tokens, context, method);
  if (!caller.ok()) return caller.status();
  const absl::Time now = absl::Now();
  absl::StatusOr<LeadWrite> written = write(now, ActorOf(*caller));
  if (!written.ok()) return written.status();
  LogWrite(event, *written, *caller);
  ToLeadRecord(written->lead, written->event_count, *written->engine, now, out);
  return written;
}

}  // namespace

grpc::Status LeadServiceImpl::UpsertLead(grpc::ServerContext* context,
                                         const v1::UpsertLeadRequest* request,
                                         v1::UpsertLeadResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto write = WriteLead(
        *deps_.tokens, *context, "LeadService.UpsertLead", "lead_upserted",
        [&](absl::Time now,
            const WriteActor& actor) -> absl::StatusOr<LeadWrite> {
          // As many events as RecordEvents takes: bounds one transaction.
          if (request->lead().events_size() > kMaxEventsPerRequest) {
            return FieldError("lead.events",
                              absl::StrCat("at most ", kMaxEventsPerRequest,
                                           " events per request"));
          }
          return deps_.leads->Upsert(request->lead(),
                                     request->expected_revision(), now, actor);
        },
        response->mutable_lead());
    if (!write.ok()) return write.status();
    response->set_created(write->created);
    return absl::OkStatus();
  }());
}

grpc::Status LeadServiceImpl::RecordEvents(
    grpc::ServerContext* context, const v1::RecordEventsRequest* request,
    v1::RecordEventsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "LeadService.RecordEvents");
    if (!caller.ok()) return caller.status();
    if (auto st = CheckEventsRequest(*request); !st.ok()) return st;
    auto write = deps_.leads->RecordEvents(
        request->lead_id(), request->events(), absl::Now(), ActorOf(*caller));
    if (!write.ok()) return write.status();
    ToResponse(*write, *request, response);
    return absl::OkStatus();
  }());
}

grpc::Status LeadServiceImpl::StreamEvents(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::RecordEventsResponse, v1::RecordEventsRequest>*
        stream) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "LeadService.StreamEvents");
    if (!caller.ok()) return caller.status();
    v1::RecordEventsRequest request;
    v1::RecordEventsResponse response;
    int64_t recorded = 0;
    while (stream->Read(&request)) {
      if (context->IsCancelled()) {
        return absl::CancelledError("the client cancelled the stream");
      }
      if (auto st = CheckEventsRequest(request); !st.ok()) return st;
      // The stream ends at the first refused request: what was
      // acknowledged before it stays recorded.
      auto write = deps_.leads->RecordEvents(
          request.lead_id(), request.events(), absl::Now(), ActorOf(*caller));
      if (!write.ok()) return write.status();
      recorded += write->recorded;
      response.Clear();
      ToResponse(*write, request, &response);
      if (!stream->Write(response)) break;
    }
    Log("info", "event_stream_done",
        {{"recorded", absl::StrCat(recorded)}, {"by", caller->name}});
    return absl::OkStatus();
  }());
}

grpc::Status LeadServiceImpl::GetLead(grpc::ServerContext* context,
                                      const v1::GetLeadRequest* request,
                                      v1::GetLeadResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "LeadService.GetLead");
    if (!caller.ok()) return caller.status();
    if (request->lead_id().empty()) return FieldError("lead_id", "required");
    auto version = deps_.playbooks->Get(0);
    if (!version.ok()) return version.status();
    StoredLead lead;
    int event_count = 0;
    absl::Status st =
        deps_.store->Read([&](StoreTransaction& txn) -> absl::Status {
          auto stored = txn.GetLead(request->lead_id());
          if (!stored.ok()) return stored.status();
          if (!stored->has_value()) {
            return absl::NotFoundError(
                absl::StrCat("no lead ", request->lead_id()));
          }
          lead = **std::move(stored);
          if (request->include_events()) {
            if (auto st =
                    txn.GetEvents(lead.lead.id(), lead.lead.mutable_events());
                !st.ok()) {
              return st;
            }
          }
          event_count = lead.event_count;
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    if (request->include_feedback()) {
      // Bounds the response whatever sales recorded.
      constexpr int kMaxFeedback = 1000;
      auto feedback = deps_.store->ListFeedback(lead.lead.id(), kMaxFeedback);
      if (!feedback.ok()) return feedback.status();
      for (v1::Feedback& f : *feedback) {
        *response->add_feedback() = std::move(f);
      }
    }
    ToLeadRecord(lead, event_count, *version->engine, absl::Now(),
                 response->mutable_lead());
    return absl::OkStatus();
  }());
}

grpc::Status LeadServiceImpl::ListLeads(grpc::ServerContext* context,
                                        const v1::ListLeadsRequest* request,
                                        v1::ListLeadsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "LeadService.ListLeads");
    if (!caller.ok()) return caller.status();
    absl::StatusOr<int> page = PageSize(request->page_size(), 100);
    if (!page.ok()) return page.status();
    const int page_size = *page;
    if (!v1::LifecycleStage_IsValid(request->stage())) {
      return FieldError("stage",
                        absl::StrCat("unknown stage ", request->stage()));
    }
    if (!v1::SlaState_IsValid(request->sla_state())) {
      return FieldError("sla_state", absl::StrCat("unknown SLA state ",
                                                  request->sla_state()));
    }
    auto after = LeadPagePosition(request->page_token());
    if (!after.ok()) return after.status();
    auto version = deps_.playbooks->Get(0);
    if (!version.ok()) return version.status();
    const absl::Time now = absl::Now();
    LeadFilter filter;
    filter.stage = request->stage();
    filter.team_id = request->team_id();
    filter.owner_id = request->owner_id();
    filter.sla_state = request->sla_state();
    filter.sla_at = now;
    filter.sla_playbook = version->number;
    // The SLA state depends on the time: the store narrows the leads down
    // to those that may be in it, and they are evaluated here, a store page
    // at a time. The page ends at page_size leads or kListBytes, and the
    // next one starts after the last lead examined.
    size_t bytes = 0;
    for (;;) {
      if (auto st = CheckNotCancelled(*context); !st.ok()) return st;
      auto leads = deps_.store->ListLeads(filter, *after, page_size);
      if (!leads.ok()) return leads.status();
      for (const StoredLead& lead : *leads) {
        v1::LeadRecord record;
        ToLeadRecord(lead, lead.event_count, *version->engine, now, &record);
        if (request->sla_state() != v1::SLA_STATE_UNSPECIFIED &&
            record.sla().state() != request->sla_state()) {
          *after = lead.lead.id();
          continue;
        }
        const size_t size = record.ByteSizeLong();
        if (response->leads_size() == page_size ||
            (response->leads_size() > 0 && bytes + size > kListBytes)) {
          response->set_next_page_token(LeadPageToken(*after));
          return absl::OkStatus();
        }
        bytes += size;
        *after = lead.lead.id();
        *response->add_leads() = std::move(record);
      }
      if (static_cast<int>(leads->size()) < page_size) return absl::OkStatus();
    }
  }());
}

grpc::Status LeadServiceImpl::RecordFeedback(
    grpc::ServerContext* context, const v1::RecordFeedbackRequest* request,
    v1::RecordFeedbackResponse* response) {
  return ToGrpcStatus(WriteLead(
                          *deps_.tokens, *context, "LeadService.RecordFeedback",
                          "feedback_recorded",
                          [&](absl::Time now, const WriteActor& actor) {
                            return deps_.leads->ApplyFeedback(
                                request->feedback(),
                                request->expected_revision(), now, actor);
                          },
                          response->mutable_lead())
                          .status());
}

grpc::Status LeadServiceImpl::TransitionLead(
    grpc::ServerContext* context, const v1::TransitionLeadRequest* request,
    v1::TransitionLeadResponse* response) {
  return ToGrpcStatus(
      WriteLead(
          *deps_.tokens, *context, "LeadService.TransitionLead", "lead_moved",
          [&](absl::Time now,
              const WriteActor& actor) -> absl::StatusOr<LeadWrite> {
            auto at = RequestTime(request->has_at(), request->at(), "at");
            if (!at.ok()) return at.status();
            v1::StageTransition move;
            move.set_to(request->to());
            move.set_actor(request->actor());
            move.set_actor_id(request->actor_id());
            TimeToProto(*at, move.mutable_at());
            move.set_reason_code(request->reason_code());
            move.set_note(request->note());
            return deps_.leads->Transition(request->lead_id(), move,
                                           request->expected_revision(), now,
                                           actor);
          },
          response->mutable_lead())
          .status());
}

grpc::Status LeadServiceImpl::RecordFirstTouch(
    grpc::ServerContext* context, const v1::RecordFirstTouchRequest* request,
    v1::RecordFirstTouchResponse* response) {
  return ToGrpcStatus(
      WriteLead(
          *deps_.tokens, *context, "LeadService.RecordFirstTouch",
          "lead_touched",
          [&](absl::Time now,
              const WriteActor& actor) -> absl::StatusOr<LeadWrite> {
            auto at = RequestTime(request->has_at(), request->at(), "at");
            if (!at.ok()) return at.status();
            return deps_.leads->RecordFirstTouch(request->lead_id(), *at, now,
                                                 actor);
          },
          response->mutable_lead())
          .status());
}

grpc::Status LeadServiceImpl::EraseLead(grpc::ServerContext* context,
                                        const v1::EraseLeadRequest* request,
                                        v1::EraseLeadResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "LeadService.EraseLead");
    if (!caller.ok()) return caller.status();
    auto erased = deps_.leads->Erase(request->lead_id(), ActorOf(*caller));
    if (!erased.ok()) return erased.status();
    Log("info", "lead_erased",
        {{"lead_id", request->lead_id()},
         {"events", absl::StrCat(*erased)},
         {"by", caller->name}});
    response->set_events_erased(*erased);
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
