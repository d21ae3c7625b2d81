#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/byte_buffer.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/problems.h"
#include "core/batch/lead_pipeline.h"
#include "core/batch/score_wire.h"
#include "core/leads/lead_wire.h"
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
// `smarketing score` does: read flat from their encoding and scored in
// parallel, each result encoded on the worker that scored it, into
// `response` (an encoded ScoreLeadsResponse) in the request's order; a
// refused lead reported by its index and the fields at fault. Bytes that
// are not a lead refuse the whole request.
absl::Status ScoreRequest(
    absl::Span<const absl::string_view> leads,
    const std::shared_ptr<const CompiledPlaybook>& playbook, absl::Time now,
    Explanation explanation, std::string* response) {
  const int n = static_cast<int>(leads.size());
  std::vector<std::string> results(n);
  std::vector<absl::Status> refusals(n);
  std::vector<bool> unread(n);
  std::vector<std::string> ids(n);
  LeadPipeline pipeline({playbook}, now, /*threads=*/0);
  std::vector<ScoreWireWriter> writers(pipeline.threads(),
                                       ScoreWireWriter(*playbook));
  // Sentences, for people rather than programs, keep to messages.
  std::vector<v1::ScoreResult> messages(pipeline.threads());
  std::unique_ptr<LeadSource> source = EncodedLeadSource(leads);
  absl::Status run = pipeline.Run(
      *source, {},
      [&](const ScoredLead& scored) {
        const int64_t i = source->index(scored.slot, scored.i);
        if (!scored.status.ok()) {
          refusals[i] = scored.status;
          unread[i] = scored.lead == nullptr;
          if (!unread[i]) ids[i] = scored.lead->id();
          return;
        }
        if (explanation == Explanation::kSentences) {
          v1::ScoreResult& message = messages[scored.thread];
          pipeline.scorer(scored.thread, 0)
              .ToProto(*scored.lead, scored.scores[0], now, &message,
                       explanation);
          message.SerializeToString(&results[i]);
          return;
        }
        writers[scored.thread].Append(*scored.lead, scored.scores[0], now,
                                      explanation, &results[i]);
      },
      [](int, int64_t) { return absl::OkStatus(); });
  if (!run.ok()) return run;
  response->clear();
  v1::ScoreLeadsResponse errors;
  {
    google::protobuf::io::StringOutputStream stream(response);
    google::protobuf::io::CodedOutputStream coded(&stream);
    for (int i = 0; i < n; ++i) {
      if (refusals[i].ok()) {
        coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
            v1::ScoreLeadsResponse::kResultsFieldNumber,
            google::protobuf::internal::WireFormatLite::
                WIRETYPE_LENGTH_DELIMITED));
        coded.WriteVarint32(static_cast<uint32_t>(results[i].size()));
        coded.WriteString(results[i]);
        continue;
      }
      if (unread[i]) {
        return FieldError(absl::StrCat("leads[", i, "]"),
                          refusals[i].message());
      }
      v1::LeadError* error = errors.add_errors();
      error->set_index(i);
      error->set_lead_id(std::move(ids[i]));
      if (auto problems = ProblemsFromStatus(refusals[i])) {
        *error->mutable_problems() = problems->problems();
      } else {
        error->add_problems()->set_message(std::string(refusals[i].message()));
      }
    }
  }
  // After every result, where protobuf puts field 2.
  errors.AppendToString(response);
  return absl::OkStatus();
}

// One ScoreLeads stream. Requests arrive as bytes, so that their leads are
// read flat (EncodedLeadSource) rather than parsed into messages. Each is
// scored on a thread of its own, not in a reaction, which must not block
// gRPC's callback threads (ScoreLead's too) for the tens of milliseconds a
// large request takes; the next is read once it is answered.
class ScoreLeadsReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ScoreLeadsReactor(const ServiceDeps& deps,
                    grpc::CallbackServerContext* context)
      : deps_(deps), context_(context) {
    auto caller =
        Authorize(*deps_.tokens, *context_, "ScoringService.ScoreLeads");
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client is done sending, or the call ended.
      Log("info", "score_stream_done", {{"leads", absl::StrCat(leads_)}});
      Finish(context_->IsCancelled()
                 ? grpc::Status(grpc::StatusCode::CANCELLED,
                                "the client cancelled the stream")
                 : grpc::Status::OK);
      return;
    }
    // The new thread may answer, and gRPC start the next reaction, before
    // the assignment below: the next one waits for it here.
    std::lock_guard<std::mutex> lock(worker_mu_);
    ReleaseWorker();
    worker_ = std::thread([this] {
      // Finish or StartWrite last: either may lead to OnDone.
      if (absl::Status st = Answer(); !st.ok()) {
        Finish(ToGrpcStatus(st));
        return;
      }
      StartWrite(&reply_);
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "the response could not be written"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(worker_mu_);
      ReleaseWorker();
    }
    delete this;
  }

 private:
  // The previous request's thread, which ends with the StartWrite or Finish
  // that led here and takes no lock. OnDone may run on it, when gRPC's
  // executor has no thread free; it cannot join itself.
  void ReleaseWorker() {
    if (!worker_.joinable()) return;
    if (worker_.get_id() == std::this_thread::get_id()) {
      worker_.detach();
    } else {
      worker_.join();
    }
  }

  // The response to request_, into reply_.
  absl::Status Answer() {
    if (context_->IsCancelled()) {
      return absl::CancelledError("the client cancelled the stream");
    }
    bytes_.clear();
    std::vector<grpc::Slice> slices;
    if (!request_.Dump(&slices).ok()) {
      return absl::InvalidArgumentError("the request could not be read");
    }
    for (const grpc::Slice& slice : slices) {
      bytes_.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    if (absl::Status st =
            SplitWireField(bytes_, v1::ScoreLeadsRequest::kLeadsFieldNumber,
                           &leads_in_, &rest_);
        !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not a smarketing.v1.ScoreLeadsRequest: ", st.message()));
    }
    if (leads_in_.size() > static_cast<size_t>(kMaxLeadsPerRequest)) {
      return FieldError("leads", absl::StrCat("at most ", kMaxLeadsPerRequest,
                                              " leads per request"));
    }
    v1::ScoreLeadsRequest request;  // all but its leads
    if (!request.ParseFromString(rest_)) {
      return absl::InvalidArgumentError(
          "not a smarketing.v1.ScoreLeadsRequest");
    }
    auto now = RequestTime(request.has_now(), request.now(), "now");
    if (!now.ok()) return now.status();
    auto explanation = RequestedExplanation(request);
    if (!explanation.ok()) return explanation.status();
    auto version = deps_.playbooks->Get(request.playbook_number());
    if (!version.ok()) return version.status();
    if (absl::Status st = ScoreRequest(leads_in_, version->engine->playbook(),
                                       *now, *explanation, &response_);
        !st.ok()) {
      return st;
    }
    leads_ += static_cast<int64_t>(leads_in_.size());
    // reply_ was written: StartWrite's OnWriteDone came before this.
    grpc::Slice slice(response_);
    reply_ = grpc::ByteBuffer(&slice, 1);
    return absl::OkStatus();
  }

  const ServiceDeps& deps_;
  grpc::CallbackServerContext* const context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
  // The request's bytes, its leads' (views into them) and its other
  // fields', kept from request to request for their storage.
  std::string bytes_;
  std::vector<absl::string_view> leads_in_;
  std::string rest_;
  std::string response_;  // the encoded ScoreLeadsResponse
  int64_t leads_ = 0;
  // Answers the request just read. std::mutex rather than abseil's, which
  // ThreadSanitizer cannot see (grpc_server/scheduler.h).
  std::mutex worker_mu_;
  std::thread worker_;  // guarded by worker_mu_
};

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

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
ScoringServiceImpl::ScoreLeads(grpc::CallbackServerContext* context) {
  return new ScoreLeadsReactor(deps_, context);
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
