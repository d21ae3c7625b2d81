#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/review/closed_loop.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "grpc_server/review_query.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Leads read from the store at a time, for reports over many leads.
constexpr int kScanPage = 1000;

// Calls fn on every lead matching `filter`, a store page at a time.
template <typename Fn>
absl::Status ForEachLead(Store& store, const LeadFilter& filter, Fn fn) {
  std::string after;
  for (;;) {
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
    if (auto st = deps_.tokens->Authorize(*context, Role::kReader).status();
        !st.ok()) {
      return st;
    }
    auto now = RequestTime(request->has_now(), request->now(), "now");
    if (!now.ok()) return now.status();
    auto version = deps_.playbooks->Get(0);
    if (!version.ok()) return version.status();
    LeadFilter filter;
    filter.team_id = request->team_id();
    filter.owner_id = request->owner_id();
    filter.routed_only = true;
    std::vector<v1::SlaLead> leads;
    absl::Status st = ForEachLead(*deps_.store, filter, [&](const StoredLead& lead) {
      v1::SlaStatus sla =
          version->engine->SlaStatusAt({lead.lifecycle, lead.score}, *now);
      const bool listed =
          sla.state() == v1::SLA_STATE_BREACHED ||
          (!request->breached_only() && sla.state() == v1::SLA_STATE_AT_RISK);
      if (!listed) return absl::OkStatus();
      v1::SlaLead& out = leads.emplace_back();
      out.set_lead_id(lead.lead.id());
      out.set_team_id(lead.score.routing().team_id());
      out.set_owner_id(lead.score.routing().owner_id());
      out.set_stage(lead.lifecycle.stage());
      *out.mutable_sla() = std::move(sla);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    // The earliest deadline first within each owner; deadlines that do not
    // apply are unset and sort last.
    auto due = [](const v1::SlaLead& l) {
      auto key = [](bool set, const google::protobuf::Timestamp& t) {
        return set ? std::make_pair(t.seconds(), t.nanos())
                   : std::make_pair(INT64_MAX, 0);
      };
      const auto& s = l.sla();
      return std::min({key(s.has_first_touch_due(), s.first_touch_due()),
                       key(s.has_accept_or_reject_due(), s.accept_or_reject_due()),
                       key(s.has_feedback_due(), s.feedback_due())});
    };
    std::sort(leads.begin(), leads.end(),
              [&](const v1::SlaLead& a, const v1::SlaLead& b) {
                return std::forward_as_tuple(a.team_id(), a.owner_id(), due(a),
                                             a.lead_id()) <
                       std::forward_as_tuple(b.team_id(), b.owner_id(), due(b),
                                             b.lead_id());
              });
    for (v1::SlaLead& lead : leads) *response->add_leads() = std::move(lead);
    return absl::OkStatus();
  }());
}

grpc::Status ReportServiceImpl::GetClosedLoopReport(
    grpc::ServerContext* context, const v1::GetClosedLoopReportRequest* request,
    v1::GetClosedLoopReportResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    if (auto st = deps_.tokens->Authorize(*context, Role::kReader).status();
        !st.ok()) {
      return st;
    }
    if (!request->has_period_start() ||
        !IsValidTimestamp(request->period_start())) {
      return FieldError("period_start", "required, a valid timestamp");
    }
    if (!request->has_period_end() || !IsValidTimestamp(request->period_end())) {
      return FieldError("period_end", "required, a valid timestamp");
    }
    const absl::Time start = TimeFromProto(request->period_start());
    const absl::Time end = TimeFromProto(request->period_end());
    if (end <= start) return FieldError("period_end", "must be after period_start");
    LeadFilter filter;
    filter.created_from = start;
    filter.created_to = end;
    ClosedLoopReportBuilder builder(start, end);
    absl::Status st = ForEachLead(*deps_.store, filter, [&](const StoredLead& lead) {
      auto feedback = deps_.store->ListFeedback(lead.lead.id());
      if (!feedback.ok()) return feedback.status();
      builder.Add(lead.lead, lead.lifecycle, lead.score.persona_id(), *feedback);
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
    if (auto st = deps_.tokens->Authorize(*context, Role::kReader).status();
        !st.ok()) {
      return st;
    }
    auto review = ComputeReview(*deps_.store, *deps_.playbooks, *request,
                                absl::Now(),
                                [context] { return context->IsCancelled(); });
    if (!review.ok()) return review.status();
    *response->mutable_review() = *std::move(review);
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
