#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {

grpc::Status WebhookServiceImpl::CreateWebhook(
    grpc::ServerContext* context, const v1::CreateWebhookRequest* request,
    v1::CreateWebhookResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "WebhookService.CreateWebhook");
    if (!caller.ok()) return caller.status();
    v1::WebhookSubscription requested;
    requested.set_url(request->url());
    *requested.mutable_kinds() = request->kinds();
    requested.set_secret(request->secret());
    auto webhook = deps_.webhooks->Create(std::move(requested), caller->name);
    if (!webhook.ok()) return webhook.status();
    Log("info", "webhook_created",
        {{"webhook", webhook->id()}, {"by", caller->name}});
    *response->mutable_webhook() = *std::move(webhook);
    return absl::OkStatus();
  }());
}

grpc::Status WebhookServiceImpl::ListWebhooks(
    grpc::ServerContext* context, const v1::ListWebhooksRequest* request,
    v1::ListWebhooksResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "WebhookService.ListWebhooks");
    if (!caller.ok()) return caller.status();
    auto webhooks = deps_.webhooks->List();
    if (!webhooks.ok()) return webhooks.status();
    for (v1::WebhookSubscription& webhook : *webhooks) {
      *response->add_webhooks() = std::move(webhook);
    }
    return absl::OkStatus();
  }());
}

grpc::Status WebhookServiceImpl::DeleteWebhook(
    grpc::ServerContext* context, const v1::DeleteWebhookRequest* request,
    v1::DeleteWebhookResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "WebhookService.DeleteWebhook");
    if (!caller.ok()) return caller.status();
    if (request->id().empty()) return FieldError("id", "required");
    if (auto st = deps_.webhooks->Delete(request->id()); !st.ok()) return st;
    Log("info", "webhook_deleted",
        {{"webhook", request->id()}, {"by", caller->name}});
    return absl::OkStatus();
  }());
}

grpc::Status WebhookServiceImpl::ListDeadLetters(
    grpc::ServerContext* context, const v1::ListDeadLettersRequest* request,
    v1::ListDeadLettersResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "WebhookService.ListDeadLetters");
    if (!caller.ok()) return caller.status();
    if (request->subscription_id().empty()) {
      return FieldError("subscription_id", "required");
    }
    absl::StatusOr<int> page = PageSize(request->page_size(), 100);
    if (!page.ok()) return page.status();
    // The token is the cursor of the last change listed.
    int64_t after = 0;
    if (!request->page_token().empty() &&
        (!absl::SimpleAtoi(request->page_token(), &after) || after <= 0)) {
      return FieldError("page_token", "not a token this service returned");
    }
    auto letters = deps_.webhooks->ListDeadLetters(request->subscription_id(),
                                                   after, *page + 1);
    if (!letters.ok()) return letters.status();
    for (int i = 0; i < static_cast<int>(letters->size()) && i < *page; ++i) {
      *response->add_dead_letters() = std::move((*letters)[i]);
    }
    if (static_cast<int>(letters->size()) > *page) {
      response->set_next_page_token(absl::StrCat(
          response->dead_letters(*page - 1).delivery().change().cursor()));
    }
    return absl::OkStatus();
  }());
}

grpc::Status WebhookServiceImpl::ReplayDeadLetter(
    grpc::ServerContext* context, const v1::ReplayDeadLetterRequest* request,
    v1::ReplayDeadLetterResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "WebhookService.ReplayDeadLetter");
    if (!caller.ok()) return caller.status();
    if (request->delivery_id().empty()) {
      return FieldError("delivery_id", "required");
    }
    if (auto st = deps_.webhooks->Replay(request->delivery_id()); !st.ok()) {
      return st;
    }
    Log("info", "dead_letter_replayed",
        {{"delivery", request->delivery_id()}, {"by", caller->name}});
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
