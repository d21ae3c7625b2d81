#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/journey/sla_listing.h"
#include "core/review/closed_loop.h"
#include "grpc_server/access.h"
#include "grpc_server/review_query.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Leads read from the store at a time, for reports over many leads.
constexpr int kScanPage = 1000;

// Calls fn on every lead matching `filter`, a store page at a time, until
// the call is cancelled or its deadline passes.
template <typename Fn>
absl::Status ForEachLead(const grpc::ServerContext& context, Store& store,
                         const LeadFilter& filter, Fn fn) {
  std::string after;
  for (;;) {
    if (auto st = CheckNotCancelled(context); !st.ok()) return st;
    auto leads = store.ListLeads(filter, after, kScanPage);
    if (!leads.ok()) return leads.status();
    for (const StoredLead& lead : *leads) {
      if (auto st = fn(lead); !st.ok()) return st;
    }
    if (static_cast<int>(leads->size()) < kScanPage) return absl::OkStatus();
    after = leads->back().lead.id();
  }
}

}  // namespace

grpc::Status ReportServiceImpl::ListSlaLeads(
    grpc::ServerContext* context, const v1::ListSlaLeadsRequest* request,
    v1::ListSlaLeadsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "ReportService.ListSlaLeads");
    if (!caller.ok()) return caller.status();
    auto now = RequestTime(request->has_now(), request->now(), "now");
    if (!now.ok()) return now.status();
    auto version = deps_.playbooks->Get(0);
    if (!version.ok()) return version.status();
    LeadFilter filter;
    filter.team_id = request->team_id();
    filter.owner_id = request->owner_id();
    filter.routed_only = true;
    filter.sla_at = *now;
    filter.sla_playbook = version->number;
    std::vector<std::pair<SlaListingKey, v1::SlaLead>> leads;
    // One pass per listed state, in which the store skips the leads known
    // to be in another; the states it keeps say nothing of the past.
    const bool past = *now < absl::Now();
    for (v1::SlaState state : {v1::SLA_STATE_BREACHED, v1::SLA_STATE_AT_RISK}) {
      if (!IsListedSlaState(state, request->breached_only())) continue;
      if (!past) filter.sla_state = state;
      absl::Status st = ForEachLead(
          *context, *deps_.store, filter, [&](const StoredLead& lead) {
            v1::SlaStatus sla = version->engine->SlaStatusAt(
                {lead.lifecycle, lead.score}, *now);
            if (sla.state() != state) return absl::OkStatus();
            const v1::RoutingDecision& routing = lead.score.routing();
            auto& [key, out] = leads.emplace_back();
            key = SlaListingKeyOf(lead.lead.id(), routing.team_id(),
                                  routing.owner_id(), sla);
            out.set_lead_id(lead.lead.id());
            out.set_team_id(routing.team_id());
            out.set_owner_id(routing.owner_id());
            out.set_stage(lead.lifecycle.stage());
            *out.mutable_sla() = std::move(sla);
            return absl::OkStatus();
          });
      if (!st.ok()) return st;
    }
    std::sort(leads.begin(), leads.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, lead] : leads) *response->add_leads() = std::move(lead);
    return absl::OkStatus();
  }());
}

grpc::Status ReportServiceImpl::GetClosedLoopReport(
    grpc::ServerContext* context, const v1::GetClosedLoopReportRequest* request,
    v1::GetClosedLoopReportResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "ReportService.GetClosedLoopReport");
    if (!caller.ok()) return caller.status();
    if (!request->has_period_start() ||
        !IsValidTimestamp(request->period_start())) {
      return FieldError("period_start", "required, a valid timestamp");
    }
    if (!request->has_period_end() ||
        !IsValidTimestamp(request->period_end())) {
      return FieldError("period_end", "required, a valid timestamp");
    }
    const absl::Time start = TimeFromProto(request->period_start());
    const absl::Time end = TimeFromProto(request->period_end());
    if (end <= start)
      return FieldError("period_end", "must be after period_start");
    LeadFilter filter;
    filter.created_from = start;
    filter.created_to = end;
    ClosedLoopReportBuilder builder(start, end);
    absl::Status st = ForEachLead(
        *context, *deps_.store, filter, [&](const StoredLead& lead) {
          auto feedback =
              deps_.store->ListFeedback(lead.lead.id(), /*limit=*/0);
          if (!feedback.ok()) return feedback.status();
          builder.Add(lead.lead, lead.lifecycle, lead.score.persona_id(),
                      *feedback);
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    *response->mutable_report() = builder.Build();
    return absl::OkStatus();
  }());
}

grpc::Status ReportServiceImpl::GetReview(grpc::ServerContext* context,
                                          const v1::GetReviewRequest* request,
                                          v1::GetReviewResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller = Authorize(*deps_.tokens, *context, "ReportService.GetReview");
    if (!caller.ok()) return caller.status();
    auto review =
        ComputeReview(*deps_.store, *deps_.playbooks, *request, absl::Now(),
                      [context] { return context->IsCancelled(); });
    if (!review.ok()) return review.status();
    *response->mutable_review() = *std::move(review);
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
