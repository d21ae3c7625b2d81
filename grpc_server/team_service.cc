// TeamService: what people change about sales members, stored in the
// routing state that every routing decision and the SLA scheduler read, in
// the same transaction as its audit record.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/journey/account.h"
#include "core/journey/member_status.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Audit records GetMemberStatus returns.
constexpr int kAuditShown = 100;

}  // namespace

grpc::Status TeamServiceImpl::SetMemberStatus(
    grpc::ServerContext* context, const v1::SetMemberStatusRequest* request,
    v1::SetMemberStatusResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    const std::vector<std::string> fields(
        request->update_mask().paths().begin(),
        request->update_mask().paths().end());
    // Moving people between teams reshapes routing: admins only.
    const bool teams =
        std::find(fields.begin(), fields.end(), "teams") != fields.end();
    auto caller = Authorize(*deps_.tokens, *context,
                            "TeamService.SetMemberStatus", /*elevated=*/teams);
    if (!caller.ok()) return caller.status();
    auto active = deps_.store->GetPlaybook(0);
    if (!active.ok()) return active.status();
    const absl::Time now = absl::Now();
    v1::MemberStatus stored;
    absl::Status st =
        deps_.store->Write([&](StoreTransaction& txn) -> absl::Status {
          auto routing = txn.GetRoutingState();
          if (!routing.ok()) return routing.status();
          v1::MemberStatus& status =
              (*routing->mutable_members())[request->status().member_id()];
          if (auto st = UpdateMemberStatus(active->playbook, request->status(),
                                           fields, &status);
              !st.ok()) {
            return st;
          }
          status.set_updated_by(caller->name);
          TimeToProto(now, status.mutable_updated_at());
          stored = status;
          if (auto st = txn.PutRoutingState(*routing); !st.ok()) return st;
          v1::MemberStatusChange change;
          *change.mutable_status() = status;
          for (const std::string& field : fields) change.add_fields(field);
          return txn.AppendMemberAudit(change);
        });
    if (!st.ok()) return st;
    Log("info", "member_status_set",
        {{"member_id", stored.member_id()},
         {"fields", absl::StrJoin(fields, ",")},
         {"by", caller->name}});
    *response->mutable_status() = std::move(stored);
    return absl::OkStatus();
  }());
}

grpc::Status TeamServiceImpl::GetMemberStatus(
    grpc::ServerContext* context, const v1::GetMemberStatusRequest* request,
    v1::GetMemberStatusResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "TeamService.GetMemberStatus");
    if (!caller.ok()) return caller.status();
    if (request->member_id().empty())
      return FieldError("member_id", "required");
    absl::Status st =
        deps_.store->Read([&](StoreTransaction& txn) -> absl::Status {
          auto routing = txn.GetRoutingState();
          if (!routing.ok()) return routing.status();
          const auto it = routing->members().find(request->member_id());
          if (it != routing->members().end()) {
            *response->mutable_status() = it->second;
          } else {
            response->mutable_status()->set_member_id(request->member_id());
          }
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    auto changes =
        deps_.store->ListMemberAudit(request->member_id(), kAuditShown);
    if (!changes.ok()) return changes.status();
    for (v1::MemberStatusChange& change : *changes) {
      *response->add_changes() = std::move(change);
    }
    return absl::OkStatus();
  }());
}

grpc::Status TeamServiceImpl::SetAccountOwners(
    grpc::ServerContext* context, const v1::SetAccountOwnersRequest* request,
    v1::SetAccountOwnersResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "TeamService.SetAccountOwners");
    if (!caller.ok()) return caller.status();
    auto active = deps_.store->GetPlaybook(0);
    if (!active.ok()) return active.status();
    int changed = 0;
    absl::Status st =
        deps_.store->Write([&](StoreTransaction& txn) -> absl::Status {
          auto routing = txn.GetRoutingState();
          if (!routing.ok()) return routing.status();
          auto set = smarketing::SetAccountOwners(active->playbook,
                                                  request->owners(), &*routing);
          if (!set.ok()) return set.status();
          changed = *set;
          if (changed == 0) return absl::OkStatus();
          return txn.PutRoutingState(*routing);
        });
    if (!st.ok()) return st;
    Log("info", "account_owners_set",
        {{"entries", absl::StrCat(request->owners_size())},
         {"changed", absl::StrCat(changed)},
         {"by", caller->name}});
    response->set_changed(changed);
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
