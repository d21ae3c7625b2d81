// Accounts: a company across its stored contacts (LeadService.GetAccount
// and ListAccounts); the summary is the core's (core/journey/account).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/problems.h"
#include "core/journey/account.h"
#include "core/journey/routing.h"
#include "grpc_server/access.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

constexpr int kMaxAccountsPerPage = 100;

// The account `key` as its first kMaxAccountContacts contacts stand, into
// `out`; NOT_FOUND when it has none.
absl::Status LoadAccount(Store& store, const v1::Playbook& playbook,
                         const v1::RoutingState& routing,
                         const std::string& key, v1::Account* out) {
  auto leads = store.ListAccountLeads(key, "", kMaxAccountContacts + 1);
  if (!leads.ok()) return leads.status();
  if (leads->empty()) {
    return absl::NotFoundError(absl::StrCat("no lead of account ", key));
  }
  const bool truncated = static_cast<int>(leads->size()) > kMaxAccountContacts;
  if (truncated) leads->resize(kMaxAccountContacts);
  std::vector<LeadState> states;
  states.reserve(leads->size());
  std::vector<AccountLead> contacts;
  contacts.reserve(leads->size());
  for (StoredLead& lead : *leads) {
    states.push_back({std::move(lead.lifecycle), std::move(lead.score)});
    contacts.push_back({&lead.lead, &states.back()});
  }
  *out = SummarizeAccount(key, contacts, truncated, playbook, routing,
                          absl::Now());
  return absl::OkStatus();
}

absl::StatusOr<v1::RoutingState> RoutingState(Store& store) {
  v1::RoutingState routing;
  absl::Status st = store.Read([&](StoreTransaction& txn) -> absl::Status {
    auto state = txn.GetRoutingState();
    if (!state.ok()) return state.status();
    routing = *std::move(state);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return routing;
}

}  // namespace

grpc::Status LeadServiceImpl::GetAccount(grpc::ServerContext* context,
                                         const v1::GetAccountRequest* request,
                                         v1::GetAccountResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "LeadService.GetAccount");
    if (!caller.ok()) return caller.status();
    const std::string key = AccountKey(request->domain());
    if (key.empty()) return FieldError("domain", "required");
    auto version = deps_.playbooks->Get(0);
    if (!version.ok()) return version.status();
    auto routing = RoutingState(*deps_.store);
    if (!routing.ok()) return routing.status();
    return LoadAccount(*deps_.store, version->engine->playbook()->playbook(),
                       *routing, key, response->mutable_account());
  }());
}

grpc::Status LeadServiceImpl::ListAccounts(
    grpc::ServerContext* context, const v1::ListAccountsRequest* request,
    v1::ListAccountsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "LeadService.ListAccounts");
    if (!caller.ok()) return caller.status();
    absl::StatusOr<int> page = PageSize(request->page_size(), 20);
    if (!page.ok()) return page.status();
    if (*page > kMaxAccountsPerPage) {
      return FieldError("page_size",
                        absl::StrCat("at most ", kMaxAccountsPerPage));
    }
    auto version = deps_.playbooks->Get(0);
    if (!version.ok()) return version.status();
    auto routing = RoutingState(*deps_.store);
    if (!routing.ok()) return routing.status();
    // The token is the last domain listed.
    auto keys = deps_.store->ListAccounts(request->page_token(), *page + 1);
    if (!keys.ok()) return keys.status();
    for (int i = 0; i < static_cast<int>(keys->size()) && i < *page; ++i) {
      if (auto st = CheckNotCancelled(*context); !st.ok()) return st;
      if (auto st =
              LoadAccount(*deps_.store, version->engine->playbook()->playbook(),
                          *routing, (*keys)[i], response->add_accounts());
          !st.ok() && !absl::IsNotFound(st)) {
        return st;
      }
    }
    if (static_cast<int>(keys->size()) > *page) {
      response->set_next_page_token((*keys)[*page - 1]);
    }
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
