// LeadService.ImportLeads: a client stream of lead batches, each committed
// in one transaction through LeadDesk::Import, answered once at the end
// with the counts and the records refused.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Records per request: bounds one transaction.
constexpr int kMaxRecordsPerRequest = 1000;
// Refused records listed in the response; the rest are counted.
constexpr int kMaxRejectionsListed = 1000;

// Who may import: as UpsertLead.
WriteActor ImportActor(const Caller& caller) {
  WriteActor actor;
  actor.kind = v1::ACTOR_MARKETING;
  actor.id = caller.name;
  return actor;
}

void Reject(const v1::ImportRecord& record, const absl::Status& status,
            v1::ImportLeadsResponse* response) {
  response->set_rejected(response->rejected() + 1);
  if (response->rejections_size() >= kMaxRejectionsListed) return;
  v1::ImportRejection* rejection = response->add_rejections();
  rejection->set_line(record.line());
  rejection->set_lead_id(record.lead().id());
  rejection->set_message(std::string(status.message()));
  if (auto problems = ProblemsFromStatus(status);
      problems.has_value() && problems->problems_size() > 0) {
    rejection->set_field(problems->problems(0).path());
    rejection->set_message(problems->problems(0).message());
  }
}

}  // namespace

grpc::Status LeadServiceImpl::ImportLeads(
    grpc::ServerContext* context,
    grpc::ServerReader<v1::ImportLeadsRequest>* reader,
    v1::ImportLeadsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "LeadService.ImportLeads");
    if (!caller.ok()) return caller.status();
    const WriteActor actor = ImportActor(*caller);
    v1::ImportLeadsRequest request;
    std::vector<v1::Lead> leads;
    while (reader->Read(&request)) {
      if (context->IsCancelled()) {
        return absl::CancelledError("the client cancelled the import");
      }
      if (request.records_size() > kMaxRecordsPerRequest) {
        return FieldError("records",
                          absl::StrCat("at most ", kMaxRecordsPerRequest,
                                       " records per request"));
      }
      leads.clear();
      for (v1::ImportRecord& record : *request.mutable_records()) {
        leads.push_back(std::move(*record.mutable_lead()));
      }
      std::vector<absl::StatusOr<LeadWrite>> written =
          deps_.leads->Import(&leads, absl::Now(), actor);
      response->set_received(response->received() + request.records_size());
      for (size_t i = 0; i < written.size(); ++i) {
        if (!written[i].ok()) {
          v1::ImportRecord& record = *request.mutable_records(i);
          *record.mutable_lead() = std::move(leads[i]);
          Reject(record, written[i].status(), response);
          continue;
        }
        const LeadWrite& write = *written[i];
        if (write.created) {
          response->set_created(response->created() + 1);
        } else if (write.unchanged) {
          response->set_unchanged(response->unchanged() + 1);
        } else {
          response->set_updated(response->updated() + 1);
        }
        response->set_events_recorded(response->events_recorded() +
                                      write.recorded);
        response->set_events_duplicate(response->events_duplicate() +
                                       write.duplicates);
      }
    }
    Log("info", "leads_imported",
        {{"received", absl::StrCat(response->received())},
         {"created", absl::StrCat(response->created())},
         {"updated", absl::StrCat(response->updated())},
         {"unchanged", absl::StrCat(response->unchanged())},
         {"rejected", absl::StrCat(response->rejected())},
         {"by", caller->name}});
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
