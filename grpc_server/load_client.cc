// smarketing-load: drives a running smarketing-server over loopback to
// measure what ghz cannot: bulk scoring through the ScoreLeads stream
// (leads per second) and durable event ingest through StreamEvents (events
// per second, each acknowledged only once committed to the store).
#include <grpcpp/create_channel.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "core/synthetic/lead_generator.h"
#include "smarketing/v1/lead_service.grpc.pb.h"
#include "smarketing/v1/scoring_service.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "server address; several, comma-separated (replicas on one "
          "database): ingest stream i goes to address i modulo their number");
ABSL_FLAG(std::string, token, "",
          "bearer token (reader for score, "
          "marketing for ingest)");
ABSL_FLAG(std::string, mode, "score", "score or ingest");
ABSL_FLAG(int, streams, 2, "concurrent streams");
ABSL_FLAG(int, batch, 500, "leads (score) or events (ingest) per request");
ABSL_FLAG(int, requests, 400, "requests per stream");
ABSL_FLAG(int, leads, 500, "ingest: leads the events go to");
ABSL_FLAG(double, mean_events, 20, "score: average events per lead");
ABSL_FLAG(std::string, explanation, "none",
          "score: none, rules or sentences (ScoreLeadsRequest.explanation)");

namespace smarketing {
namespace {

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization",
                       absl::StrCat("Bearer ", absl::GetFlag(FLAGS_token)));
  return context;
}

// Runs `streams` threads of `fn(stream_index)`, returns items/s.
template <typename Fn>
double Run(int streams, int64_t items, Fn fn) {
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) threads.emplace_back(fn, s);
  for (auto& t : threads) t.join();
  return items / absl::ToDoubleSeconds(absl::Now() - start);
}

int Score(const std::shared_ptr<grpc::Channel>& channel) {
  const int streams = absl::GetFlag(FLAGS_streams);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int requests = absl::GetFlag(FLAGS_requests);
  const std::string explanation = absl::GetFlag(FLAGS_explanation);
  v1::ExplanationDetail detail;
  if (!v1::ExplanationDetail_Parse(
          absl::StrCat("EXPLANATION_DETAIL_",
                       absl::AsciiStrToUpper(explanation)),
          &detail) ||
      detail == v1::EXPLANATION_DETAIL_UNSPECIFIED) {
    std::fprintf(stderr, "--explanation: none, rules or sentences\n");
    return 2;
  }
  const absl::Time now = absl::Now();
  LeadGenerator generator(
      {.seed = 7, .now = now, .mean_events = absl::GetFlag(FLAGS_mean_events)});
  // Requests are built before the clock starts: the server is measured.
  v1::ScoreLeadsRequest request;
  for (int i = 0; i < batch; ++i) generator.Generate(i, request.add_leads());
  TimeToProto(now, request.mutable_now());
  request.set_explanation(detail);
  // Serialized once: writing the typed message would serialize it again for
  // every request, and the client, sharing the machine, would take CPU
  // from the server it measures.
  grpc::ByteBuffer serialized;
  bool own_buffer = false;
  if (!grpc::SerializationTraits<v1::ScoreLeadsRequest>::Serialize(
           request, &serialized, &own_buffer)
           .ok()) {
    std::fprintf(stderr, "cannot serialize the request\n");
    return 1;
  }
  // The method's name must outlive it.
  const std::string method_name =
      absl::StrCat("/", v1::ScoringService::service_full_name(), "/ScoreLeads");
  const grpc::internal::RpcMethod method(
      method_name.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING);
  std::atomic<int64_t> scored{0};
  std::atomic<bool> failed{false};
  const double rate =
      Run(streams, int64_t{streams} * requests * batch, [&](int) {
        auto context = Context();
        std::unique_ptr<
            grpc::ClientReaderWriter<grpc::ByteBuffer, v1::ScoreLeadsResponse>>
            stream(grpc::internal::ClientReaderWriterFactory<
                   grpc::ByteBuffer,
                   v1::ScoreLeadsResponse>::Create(channel.get(), method,
                                                   context.get()));
        v1::ScoreLeadsResponse response;
        // Keep a few requests in flight so that neither side waits.
        constexpr int kWindow = 4;
        int sent = 0;
        int received = 0;
        while (received < requests) {
          while (sent < requests && sent - received < kWindow) {
            if (!stream->Write(serialized)) break;
            ++sent;
          }
          if (!stream->Read(&response)) break;
          scored += response.results_size();
          ++received;
        }
        stream->WritesDone();
        grpc::Status st = stream->Finish();
        if (!st.ok()) {
          std::fprintf(stderr, "stream failed: %s\n",
                       st.error_message().c_str());
          failed = true;
        }
      });
  if (failed) return 1;
  std::printf(
      "score_stream leads_per_second=%.0f leads=%lld streams=%d "
      "batch=%d mean_events=%.0f explanation=%s\n",
      rate, static_cast<long long>(scored.load()), streams, batch,
      absl::GetFlag(FLAGS_mean_events), explanation.c_str());
  return 0;
}

int Ingest(const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  const int streams = absl::GetFlag(FLAGS_streams);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int requests = absl::GetFlag(FLAGS_requests);
  const int leads = absl::GetFlag(FLAGS_leads);
  auto stub = v1::LeadService::NewStub(channels[0]);
  const std::string run = absl::StrCat(absl::ToUnixMicros(absl::Now()));
  for (int i = 0; i < leads; ++i) {
    v1::UpsertLeadRequest request;
    request.mutable_lead()->set_id(absl::StrCat("load-", i));
    request.mutable_lead()->mutable_company()->set_employee_count(100);
    v1::UpsertLeadResponse response;
    grpc::Status st = stub->UpsertLead(Context().get(), request, &response);
    if (!st.ok()) {
      std::fprintf(stderr, "upsert failed: %s\n", st.error_message().c_str());
      return 1;
    }
  }
  const absl::Time now = absl::Now();
  std::atomic<int64_t> recorded{0};
  std::atomic<bool> failed{false};
  const double rate =
      Run(streams, int64_t{streams} * requests * batch, [&](int s) {
        auto context = Context();
        auto stream = v1::LeadService::NewStub(channels[s % channels.size()])
                          ->StreamEvents(context.get());
        v1::RecordEventsRequest request;
        v1::RecordEventsResponse response;
        for (int r = 0; r < requests; ++r) {
          request.Clear();
          request.set_lead_id(
              absl::StrCat("load-", (s * requests + r) % leads));
          for (int e = 0; e < batch; ++e) {
            v1::Event* event = request.add_events();
            event->set_id(absl::StrCat(run, "-", s, "-", r, "-", e));
            event->set_type(v1::EVENT_TYPE_EMAIL_OPEN);
            TimeToProto(now - absl::Minutes(e), event->mutable_occurred_at());
          }
          // One request in flight: each acknowledgement is a durable commit.
          if (!stream->Write(request) || !stream->Read(&response)) break;
          recorded += response.recorded();
        }
        stream->WritesDone();
        grpc::Status st = stream->Finish();
        if (!st.ok()) {
          std::fprintf(stderr, "stream failed: %s\n",
                       st.error_message().c_str());
          failed = true;
        }
      });
  if (failed) return 1;
  std::printf(
      "event_ingest events_per_second=%.0f events=%lld streams=%d "
      "batch=%d\n",
      rate, static_cast<long long>(recorded.load()), streams, batch);
  return 0;
}

}  // namespace
}  // namespace smarketing

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "measures bulk scoring and durable event ingest of a smarketing-server");
  absl::ParseCommandLine(argc, argv);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (absl::string_view target :
       absl::StrSplit(absl::GetFlag(FLAGS_target), ',', absl::SkipEmpty())) {
    channels.push_back(grpc::CreateCustomChannel(
        std::string(target), grpc::InsecureChannelCredentials(), args));
  }
  if (channels.empty()) {
    std::fprintf(stderr, "--target is empty\n");
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "score") return smarketing::Score(channels[0]);
  if (mode == "ingest") return smarketing::Ingest(channels);
  std::fprintf(stderr, "--mode must be score or ingest\n");
  return 2;
}
