#include <atomic>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Reading and compiling a Playbook near the limits takes up to seconds and
// tens of megabytes (4,000 rules in 500 KB: 0.2 s and 43 MB, 2.6 s on a
// busy 2-core machine): at most this many run at once, and a call beyond
// them is answered RESOURCE_EXHAUSTED at once rather than queued past its
// deadline.
constexpr int kMaxConcurrentCompiles = 4;

// One of the kMaxConcurrentCompiles places, held while it lives, if free.
class CompileSlot {
 public:
  CompileSlot() : taken_(running_.fetch_add(1) < kMaxConcurrentCompiles) {}
  ~CompileSlot() { running_.fetch_sub(1); }
  CompileSlot(const CompileSlot&) = delete;
  CompileSlot& operator=(const CompileSlot&) = delete;
  bool taken() const { return taken_; }

 private:
  static inline std::atomic<int> running_{0};
  const bool taken_;
};

// Compiles the Playbook of a request, with line and column in the problems
// of a document.
absl::StatusOr<std::shared_ptr<const LeadEngine>> Compile(
    const v1::PlaybookSource& source) {
  const CompileSlot slot;
  if (!slot.taken()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "more than ", kMaxConcurrentCompiles,
        " Playbooks are being validated or published at once; retry shortly"));
  }
  switch (source.source_case()) {
    case v1::PlaybookSource::kPlaybook:
      return LeadEngine::Create(source.playbook());
    case v1::PlaybookSource::kDocument: {
      if (source.document().size() > kMaxPlaybookBytes) {
        return FieldError(
            "playbook.document",
            absl::StrCat("larger than ", kMaxPlaybookBytes, " bytes"));
      }
      auto parsed = ParsePlaybook(source.document(), PlaybookFormat::kYaml);
      if (!parsed.ok()) return parsed.status();
      return LeadEngine::Create(parsed->playbook, &parsed->positions);
    }
    case v1::PlaybookSource::SOURCE_NOT_SET:
      break;
  }
  return FieldError("playbook", "required: a playbook or a document");
}

void ToVersion(const PlaybookRecord& record, v1::PlaybookVersion* out) {
  out->set_number(record.number);
  out->set_label(record.label);
  out->set_published_by(record.published_by);
  TimeToProto(record.published_at, out->mutable_published_at());
  out->set_active(record.active);
  out->set_description(record.playbook.metadata().description());
}

}  // namespace

grpc::Status PlaybookServiceImpl::ValidatePlaybook(
    grpc::ServerContext* context, const v1::ValidatePlaybookRequest* request,
    v1::ValidatePlaybookResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "PlaybookService.ValidatePlaybook");
    if (!caller.ok()) return caller.status();
    auto engine = Compile(request->playbook());
    if (engine.ok()) return absl::OkStatus();
    // Problems are this call's answer, not its failure.
    auto problems = ProblemsFromStatus(engine.status());
    if (!problems.has_value()) return engine.status();
    *response->mutable_problems() = *std::move(problems);
    return absl::OkStatus();
  }());
}

grpc::Status PlaybookServiceImpl::PublishPlaybook(
    grpc::ServerContext* context, const v1::PublishPlaybookRequest* request,
    v1::PublishPlaybookResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "PlaybookService.PublishPlaybook",
                  /*elevated=*/request->activate());
    if (!caller.ok()) return caller.status();
    auto engine = Compile(request->playbook());
    if (!engine.ok()) return engine.status();
    auto record = deps_.playbooks->Publish(*std::move(engine), caller->name,
                                           request->activate());
    if (!record.ok()) return record.status();
    if (record->active && deps_.rescorer != nullptr) deps_.rescorer->Wake();
    Log("info", "playbook_published",
        {{"number", absl::StrCat(record->number)},
         {"label", record->label},
         {"active", record->active ? "true" : "false"},
         {"by", caller->name}});
    ToVersion(*record, response->mutable_version());
    return absl::OkStatus();
  }());
}

grpc::Status PlaybookServiceImpl::ActivatePlaybook(
    grpc::ServerContext* context, const v1::ActivatePlaybookRequest* request,
    v1::ActivatePlaybookResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "PlaybookService.ActivatePlaybook");
    if (!caller.ok()) return caller.status();
    if (request->number() <= 0) return FieldError("number", "required, > 0");
    auto record = deps_.playbooks->Activate(
        request->number(), request->expected_active_number(), caller->name);
    if (!record.ok()) return record.status();
    if (deps_.rescorer != nullptr) deps_.rescorer->Wake();
    Log("info", "playbook_activated",
        {{"number", absl::StrCat(record->number)}, {"by", caller->name}});
    ToVersion(*record, response->mutable_version());
    return absl::OkStatus();
  }());
}

grpc::Status PlaybookServiceImpl::GetPlaybook(
    grpc::ServerContext* context, const v1::GetPlaybookRequest* request,
    v1::GetPlaybookResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "PlaybookService.GetPlaybook");
    if (!caller.ok()) return caller.status();
    if (request->number() < 0) return FieldError("number", "must be >= 0");
    auto record = deps_.store->GetPlaybook(request->number());
    if (!record.ok()) return record.status();
    ToVersion(*record, response->mutable_version());
    *response->mutable_playbook() = std::move(record->playbook);
    return absl::OkStatus();
  }());
}

grpc::Status PlaybookServiceImpl::ListPlaybookVersions(
    grpc::ServerContext* context,
    const v1::ListPlaybookVersionsRequest* request,
    v1::ListPlaybookVersionsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context,
                            "PlaybookService.ListPlaybookVersions");
    if (!caller.ok()) return caller.status();
    absl::StatusOr<int> page = PageSize(request->page_size(), 50);
    if (!page.ok()) return page.status();
    const int page_size = *page;
    // The token is the number below which the next page starts.
    int64_t before = 0;
    if (!request->page_token().empty() &&
        (!absl::SimpleAtoi(request->page_token(), &before) || before <= 0)) {
      return FieldError("page_token", "not a token this service returned");
    }
    // One more than asked tells whether a next page exists.
    auto records = deps_.store->ListPlaybooks(before, page_size + 1);
    if (!records.ok()) return records.status();
    for (int i = 0; i < static_cast<int>(records->size()) && i < page_size;
         ++i) {
      ToVersion((*records)[i], response->add_versions());
    }
    if (static_cast<int>(records->size()) > page_size) {
      response->set_next_page_token(
          absl::StrCat((*records)[page_size - 1].number));
    }
    return absl::OkStatus();
  }());
}

grpc::Status PlaybookServiceImpl::GetRescoreStatus(
    grpc::ServerContext* context, const v1::GetRescoreStatusRequest* request,
    v1::GetRescoreStatusResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "PlaybookService.GetRescoreStatus");
    if (!caller.ok()) return caller.status();
    return deps_.store->Read([&](StoreTransaction& txn) -> absl::Status {
      auto latest = txn.GetLatestRescore();
      if (!latest.ok()) return latest.status();
      if (latest->has_value()) *response->mutable_status() = **latest;
      return absl::OkStatus();
    });
  }());
}

}  // namespace smarketing
