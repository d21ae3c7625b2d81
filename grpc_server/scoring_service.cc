#include <google/protobuf/arena.h>

#include <memory>
#include <vector>

#include "core/base/problems.h"
#include "core/batch/lead_pipeline.h"
#include "core/scoring/lead_validation.h"
#include "core/scoring/scorer.h"
#include "grpc_server/access.h"
#include "grpc_server/log.h"
#include "grpc_server/service_util.h"
#include "grpc_server/services.h"
#include "grpc_server/status.h"

namespace smarketing {
namespace {

// Leads per ScoreLeads request: bounds the memory of one response.
constexpr int kMaxLeadsPerRequest = 10000;

class ArenaMessageHolder final
    : public grpc::MessageHolder<v1::ScoreLeadRequest, v1::ScoreLeadResponse> {
 public:
  ArenaMessageHolder() : arena_(initial_block_, sizeof(initial_block_)) {
    set_request(
        google::protobuf::Arena::CreateMessage<v1::ScoreLeadRequest>(&arena_));
    set_response(
        google::protobuf::Arena::CreateMessage<v1::ScoreLeadResponse>(&arena_));
  }
  void Release() override { delete this; }

 private:
  // A typical lead with its events and its scored explanation fit here;
  // the arena allocates more blocks for bigger ones.
  alignas(16) char initial_block_[8 << 10];
  google::protobuf::Arena arena_;
};

// The explanation a request asks for, `unspecified` when it does not say.
absl::StatusOr<Explanation> RequestedExplanation(v1::ExplanationDetail detail,
                                                 Explanation unspecified) {
  switch (detail) {
    case v1::EXPLANATION_DETAIL_UNSPECIFIED:
      return unspecified;
    case v1::EXPLANATION_DETAIL_NONE:
      return Explanation::kNone;
    case v1::EXPLANATION_DETAIL_RULES:
      return Explanation::kRuleIds;
    case v1::EXPLANATION_DETAIL_SENTENCES:
      return Explanation::kSentences;
    default:
      return FieldError("explanation",
                        absl::StrCat("unknown explanation detail ", detail));
  }
}

// A ScoreLeads request's explanation: rule ids unless it asks otherwise.
absl::StatusOr<Explanation> RequestedExplanation(
    const v1::ScoreLeadsRequest& request) {
  if (request.omit_explanation()) {
    if (request.explanation() != v1::EXPLANATION_DETAIL_UNSPECIFIED &&
        request.explanation() != v1::EXPLANATION_DETAIL_NONE) {
      return FieldError("explanation",
                        "contradicts omit_explanation; set only one of them");
    }
    return Explanation::kNone;
  }
  return RequestedExplanation(request.explanation(), Explanation::kRuleIds);
}

// Scores the leads of one ScoreLeads request on the lead pipeline, as
// `smarketing score` does: in parallel, results in the request's order, a
// refused lead reported by its index and the fields at fault.
absl::Status ScoreRequest(
    const v1::ScoreLeadsRequest& request,
    const std::shared_ptr<const CompiledPlaybook>& playbook, absl::Time now,
    Explanation explanation, v1::ScoreLeadsResponse* response) {
  const int n = request.leads_size();
  response->Clear();
  std::vector<const v1::Lead*> leads(request.leads().pointer_begin(),
                                     request.leads().pointer_end());
  // Each lead is printed into its own result, so workers never share one;
  // the results of refused leads are dropped afterwards.
  std::vector<absl::Status> refusals(n);
  for (int i = 0; i < n; ++i) response->add_results();
  LeadPipeline pipeline({playbook}, now, /*threads=*/0);
  std::unique_ptr<LeadSource> source = LeadListSource(leads);
  absl::Status run = pipeline.Run(
      *source, {},
      [&](const ScoredLead& scored) {
        const int64_t i = source->index(scored.slot, scored.i);
        if (!scored.status.ok()) {
          refusals[i] = scored.status;
          return;
        }
        pipeline.scorer(scored.thread, 0)
            .ToProto(*scored.lead, scored.scores[0], now,
                     response->mutable_results(i), explanation);
      },
      [](int, int64_t) { return absl::OkStatus(); });
  if (!run.ok()) return run;
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    if (refusals[i].ok()) {
      if (kept != i) response->mutable_results()->SwapElements(kept, i);
      ++kept;
      continue;
    }
    v1::LeadError* error = response->add_errors();
    error->set_index(i);
    error->set_lead_id(leads[i]->id());
    if (auto problems = ProblemsFromStatus(refusals[i])) {
      *error->mutable_problems() = problems->problems();
    } else {
      error->add_problems()->set_message(std::string(refusals[i].message()));
    }
  }
  response->mutable_results()->DeleteSubrange(kept, n - kept);
  return absl::OkStatus();
}

}  // namespace

grpc::MessageHolder<v1::ScoreLeadRequest, v1::ScoreLeadResponse>*
ScoreLeadArenaAllocator::AllocateMessages() {
  return new ArenaMessageHolder();
}

grpc::ServerUnaryReactor* ScoringServiceImpl::ScoreLead(
    grpc::CallbackServerContext* context, const v1::ScoreLeadRequest* request,
    v1::ScoreLeadResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "ScoringService.ScoreLead");
    if (!caller.ok()) return caller.status();
    auto now = RequestTime(request->has_now(), request->now(), "now");
    if (!now.ok()) return now.status();
    auto explanation =
        RequestedExplanation(request->explanation(), Explanation::kSentences);
    if (!explanation.ok()) return explanation.status();
    auto version = deps_.playbooks->Get(request->playbook_number());
    if (!version.ok()) return version.status();
    // Scored in place into the response, with the thread's scratch space.
    thread_local LeadScore score;
    Scorer& scorer = ThreadScorer(version->engine->playbook());
    if (absl::Status st = scorer.Score(request->lead(), *now, &score);
        !st.ok()) {
      return st;
    }
    scorer.ToProto(request->lead(), score, *now, response->mutable_result(),
                   *explanation);
    return absl::OkStatus();
  }()));
  return reactor;
}

grpc::Status ScoringServiceImpl::ScoreLeads(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ScoreLeadsResponse, v1::ScoreLeadsRequest>*
        stream) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "ScoringService.ScoreLeads");
    if (!caller.ok()) return caller.status();
    v1::ScoreLeadsResponse response;
    int64_t leads = 0;
    // Parsing thousands of leads with their events is mostly allocation: an
    // arena per request turns it into pointer bumps and one release.
    google::protobuf::ArenaOptions arena_options;
    arena_options.start_block_size = 1 << 20;
    arena_options.max_block_size = 8 << 20;
    for (;;) {
      google::protobuf::Arena arena(arena_options);
      auto& request =
          *google::protobuf::Arena::CreateMessage<v1::ScoreLeadsRequest>(
              &arena);
      if (!stream->Read(&request)) break;
      if (context->IsCancelled()) {
        return absl::CancelledError("the client cancelled the stream");
      }
      if (request.leads_size() > kMaxLeadsPerRequest) {
        return FieldError("leads", absl::StrCat("at most ", kMaxLeadsPerRequest,
                                                " leads per request"));
      }
      auto now = RequestTime(request.has_now(), request.now(), "now");
      if (!now.ok()) return now.status();
      auto explanation = RequestedExplanation(request);
      if (!explanation.ok()) return explanation.status();
      auto version = deps_.playbooks->Get(request.playbook_number());
      if (!version.ok()) return version.status();
      if (absl::Status st = ScoreRequest(request, version->engine->playbook(),
                                         *now, *explanation, &response);
          !st.ok()) {
        return st;
      }
      leads += request.leads_size();
      if (!stream->Write(response)) break;
    }
    Log("info", "score_stream_done", {{"leads", absl::StrCat(leads)}});
    return absl::OkStatus();
  }());
}

grpc::Status ScoringServiceImpl::ExplainLead(
    grpc::ServerContext* context, const v1::ExplainLeadRequest* request,
    v1::ExplainLeadResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    auto caller =
        Authorize(*deps_.tokens, *context, "ScoringService.ExplainLead");
    if (!caller.ok()) return caller.status();
    if (request->lead_id().empty()) return FieldError("lead_id", "required");
    auto now = RequestTime(request->has_now(), request->now(), "now");
    if (!now.ok()) return now.status();
    auto version = deps_.playbooks->Get(request->playbook_number());
    if (!version.ok()) return version.status();
    v1::Lead lead;
    absl::Status st =
        deps_.store->Read([&](StoreTransaction& txn) -> absl::Status {
          auto stored = txn.GetLead(request->lead_id());
          if (!stored.ok()) return stored.status();
          if (!stored->has_value()) {
            return absl::NotFoundError(
                absl::StrCat("no lead ", request->lead_id()));
          }
          lead = std::move((*stored)->lead);
          // The events the stored score counts (see kScoredEventsPerLead).
          return txn.GetLatestEvents(lead.id(), kScoredEventsPerLead,
                                     lead.mutable_events());
        });
    if (!st.ok()) return st;
    auto result = ThreadScorer(version->engine->playbook()).Score(lead, *now);
    if (!result.ok()) return result.status();
    *response->mutable_result() = *std::move(result);
    return absl::OkStatus();
  }());
}

}  // namespace smarketing
