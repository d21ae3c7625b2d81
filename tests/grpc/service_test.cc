// The service end to end in-process: a real server on a loopback port, real
// gRPC clients, every RPC, its error paths and the role matrix.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/lead_validation.h"
#include "core/synthetic/lead_generator.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc_server/access.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/server.h"
#include "gtest/gtest.h"
#include "tests/grpc/test_server.h"

namespace smarketing {
namespace {

using test_server::As;
using test_server::kAdmin;
using test_server::kMarketing;
using test_server::kReader;
using test_server::kSales;
using test_server::TempDir;
using test_server::WriteTokenFile;

using ::testing::HasSubstr;
using ::testing::Not;

std::string DemoPlaybookPath() {
  return absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml");
}

std::string ReadDemo() {
  auto text = ReadFileToString(DemoPlaybookPath(), 1 << 24);
  EXPECT_TRUE(text.ok());
  return *text;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTokenFile(dir_.path() / "tokens");
    options_.listen = "127.0.0.1:0";
    options_.store_path = (dir_.path() / "store.db").string();
    options_.token_file = (dir_.path() / "tokens").string();
    options_.demo_playbook = DemoPlaybookPath();
    StartServer();
  }

  void StartServer() {
    auto server = test_server::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    scoring_ = v1::ScoringService::NewStub(channel_);
    playbooks_ = v1::PlaybookService::NewStub(channel_);
    leads_ = v1::LeadService::NewStub(channel_);
    reports_ = v1::ReportService::NewStub(channel_);
    teams_ = v1::TeamService::NewStub(channel_);
    webhooks_ = v1::WebhookService::NewStub(channel_);
  }

  void RestartServer() {
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
    StartServer();
  }

  // A context carrying `token`, or none when empty.
  // A lead of the demo Playbook's best persona who asked for a demo: an MQL.
  static v1::Lead HotLead(const std::string& id) {
    v1::Lead lead;
    lead.set_id(id);
    lead.set_job_title("CMO");
    lead.set_seniority(v1::SENIORITY_C_LEVEL);
    lead.set_source("webinar");
    lead.set_campaign("cmp-autumn");
    auto* company = lead.mutable_company();
    company->set_name("Acme");
    company->set_domain(absl::StrCat(id, ".example"));
    company->set_industry("software");
    company->set_employee_count(250);
    company->set_country("FR");
    company->set_region("EMEA");
    auto* event = lead.add_events();
    event->set_id(absl::StrCat(id, "-demo"));
    event->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
    TimeToProto(absl::Now() - absl::Hours(1), event->mutable_occurred_at());
    return lead;
  }

  static v1::Event PageView(const std::string& id) {
    v1::Event event;
    event.set_id(id);
    event.set_type(v1::EVENT_TYPE_PAGE_VIEW);
    TimeToProto(absl::Now() - absl::Minutes(5), event.mutable_occurred_at());
    return event;
  }

  v1::LeadRecord Upsert(const v1::Lead& lead) {
    v1::UpsertLeadRequest request;
    *request.mutable_lead() = lead;
    v1::UpsertLeadResponse response;
    grpc::Status st =
        leads_->UpsertLead(As(kMarketing).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.lead();
  }

  v1::LeadRecord Get(const std::string& id, grpc::Status* status = nullptr) {
    v1::GetLeadRequest request;
    request.set_lead_id(id);
    v1::GetLeadResponse response;
    grpc::Status st = leads_->GetLead(As(kReader).get(), request, &response);
    if (status != nullptr) {
      *status = st;
    } else {
      EXPECT_TRUE(st.ok()) << st.error_message();
    }
    return response.lead();
  }

  grpc::Status Feedback(const std::string& id,
                        const std::function<void(v1::Feedback*)>& fill,
                        v1::LeadRecord* lead = nullptr,
                        int64_t expected_revision = 0) {
    v1::RecordFeedbackRequest request;
    request.mutable_feedback()->set_lead_id(id);
    request.mutable_feedback()->set_actor_id("usr-1001");
    TimeToProto(absl::Now(), request.mutable_feedback()->mutable_at());
    fill(request.mutable_feedback());
    request.set_expected_revision(expected_revision);
    v1::RecordFeedbackResponse response;
    grpc::Status st =
        leads_->RecordFeedback(As(kSales).get(), request, &response);
    if (lead != nullptr) *lead = response.lead();
    return st;
  }

  TempDir dir_;
  ServerOptions options_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ScoringService::Stub> scoring_;
  std::unique_ptr<v1::PlaybookService::Stub> playbooks_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::ReportService::Stub> reports_;
  std::unique_ptr<v1::TeamService::Stub> teams_;
  std::unique_ptr<v1::WebhookService::Stub> webhooks_;
};

// The google.rpc.BadRequest field paths of a failed call.
std::vector<std::string> FieldViolations(const grpc::Status& status) {
  std::vector<std::string> fields;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return fields;
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (any.UnpackTo(&bad_request)) {
      for (const auto& v : bad_request.field_violations()) {
        fields.push_back(v.field());
      }
    }
  }
  return fields;
}

TEST_F(ServiceTest, ScoresALeadWithTheActiveDemoPlaybook) {
  v1::ScoreLeadRequest request;
  *request.mutable_lead() = HotLead("score-1");
  v1::ScoreLeadResponse response;
  grpc::Status st = scoring_->ScoreLead(As(kReader).get(), request, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(response.result().lead_id(), "score-1");
  EXPECT_EQ(response.result().recommended_stage(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_TRUE(response.result().hand_raiser());
  EXPECT_FALSE(response.result().explanation().empty());
  EXPECT_THAT(response.result().playbook_version(), HasSubstr("@"));
}

TEST_F(ServiceTest, RefusesAMalformedLeadWithFieldViolations) {
  v1::ScoreLeadRequest request;
  *request.mutable_lead() = HotLead("bad");
  request.mutable_lead()->mutable_events(0)->clear_type();
  request.mutable_lead()->mutable_company()->set_employee_count(-3);
  v1::ScoreLeadResponse response;
  grpc::Status st = scoring_->ScoreLead(As(kReader).get(), request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(FieldViolations(st).empty());
}

TEST_F(ServiceTest, UnknownPlaybookVersionIsNotFound) {
  v1::ScoreLeadRequest request;
  *request.mutable_lead() = HotLead("x");
  request.set_playbook_number(42);
  v1::ScoreLeadResponse response;
  EXPECT_EQ(
      scoring_->ScoreLead(As(kReader).get(), request, &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, ScoreLeadsStreamsBatchesAndReportsBadLeadsInPlace) {
  auto context = As(kReader);
  auto stream = scoring_->ScoreLeads(context.get());
  v1::ScoreLeadsRequest request;
  *request.add_leads() = HotLead("s-1");
  *request.add_leads() = HotLead("s-2");
  request.mutable_leads(1)->mutable_events(0)->clear_occurred_at();
  *request.add_leads() = HotLead("s-3");
  request.set_omit_explanation(true);
  v1::ScoreLeadsResponse response;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.results_size(), 2);
    EXPECT_EQ(response.results(0).lead_id(), "s-1");
    EXPECT_EQ(response.results(1).lead_id(), "s-3");
    EXPECT_TRUE(response.results(0).explanation().empty());
    ASSERT_EQ(response.errors_size(), 1);
    EXPECT_EQ(response.errors(0).index(), 1);
    EXPECT_EQ(response.errors(0).lead_id(), "s-2");
    EXPECT_EQ(response.errors(0).problems(0).path(), "events[0].occurred_at");
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// Bulk clients keep requests in flight: each is answered once, in order,
// while the next ones wait.
TEST_F(ServiceTest, ScoreLeadsAnswersRequestsSentAheadInOrder) {
  auto context = As(kReader);
  auto stream = scoring_->ScoreLeads(context.get());
  constexpr int kRequests = 6;
  for (int r = 0; r < kRequests; ++r) {
    v1::ScoreLeadsRequest request;
    for (int i = 0; i <= r; ++i) {
      *request.add_leads() = HotLead(absl::StrCat("r", r, "-", i));
    }
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  v1::ScoreLeadsResponse response;
  for (int r = 0; r < kRequests; ++r) {
    ASSERT_TRUE(stream->Read(&response)) << r;
    ASSERT_EQ(response.results_size(), r + 1);
    EXPECT_EQ(response.results(r).lead_id(), absl::StrCat("r", r, "-", r));
  }
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
}

// A client that gives up while a large request is scored ends its call,
// and the server goes on serving others.
TEST_F(ServiceTest, ScoreLeadsCancelledWhileScoringEndsThatCallOnly) {
  LeadGenerator generator({.seed = 9, .now = absl::Now()});
  v1::ScoreLeadsRequest request;
  for (int i = 0; i < 5000; ++i) generator.Generate(i, request.add_leads());
  for (const bool by_deadline : {false, true}) {
    auto context = As(kReader);
    if (by_deadline) {
      context->set_deadline(std::chrono::system_clock::now() +
                            std::chrono::milliseconds(20));
    }
    auto stream = scoring_->ScoreLeads(context.get());
    // The deadline may pass before the request is all sent.
    const bool sent = stream->Write(request);
    EXPECT_TRUE(sent || by_deadline);
    if (!by_deadline) context->TryCancel();
    v1::ScoreLeadsResponse response;
    while (stream->Read(&response)) {
    }
    const grpc::Status st = stream->Finish();
    EXPECT_EQ(st.error_code(), by_deadline ? grpc::StatusCode::DEADLINE_EXCEEDED
                                           : grpc::StatusCode::CANCELLED);
  }
  auto context = As(kReader);
  auto stream = scoring_->ScoreLeads(context.get());
  v1::ScoreLeadsRequest one;
  *one.add_leads() = HotLead("after");
  ASSERT_TRUE(stream->Write(one));
  v1::ScoreLeadsResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.results(0).lead_id(), "after");
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServiceTest, ResultsExplainThemselvesAsMuchAsTheCallerAsks) {
  v1::ScoreLeadRequest one;
  *one.mutable_lead() = HotLead("explained");
  TimeToProto(absl::Now(), one.mutable_now());
  auto score_one = [&](v1::ExplanationDetail detail, v1::ScoreResult* result) {
    one.set_explanation(detail);
    v1::ScoreLeadResponse response;
    grpc::Status st = scoring_->ScoreLead(As(kReader).get(), one, &response);
    *result = response.result();
    return st;
  };
  // Scores one batch of the same lead on a new stream; the stream's status.
  auto score_batch = [&](v1::ExplanationDetail detail, bool omit,
                         v1::ScoreResult* result) {
    v1::ScoreLeadsRequest request;
    *request.add_leads() = one.lead();
    *request.mutable_now() = one.now();
    request.set_explanation(detail);
    request.set_omit_explanation(omit);
    auto context = As(kReader);
    auto stream = scoring_->ScoreLeads(context.get());
    v1::ScoreLeadsResponse response;
    if (stream->Write(request) && stream->Read(&response) &&
        response.results_size() == 1) {
      *result = response.results(0);
    }
    stream->WritesDone();
    return stream->Finish();
  };
  auto sentences = [](const v1::ScoreResult& result) {
    int n = 0;
    for (const v1::RuleHit& hit : result.explanation()) {
      n += !hit.sentence().empty();
    }
    return n;
  };
  auto without_sentences = [](v1::ScoreResult result) {
    for (v1::RuleHit& hit : *result.mutable_explanation()) hit.clear_sentence();
    return result;
  };
  using google::protobuf::util::MessageDifferencer;

  // ScoreLead, for one lead and often for people: sentences unless told.
  v1::ScoreResult told_nothing, rules, none;
  ASSERT_TRUE(
      score_one(v1::EXPLANATION_DETAIL_UNSPECIFIED, &told_nothing).ok());
  ASSERT_GT(told_nothing.explanation_size(), 2);
  EXPECT_EQ(sentences(told_nothing), told_nothing.explanation_size());
  ASSERT_TRUE(score_one(v1::EXPLANATION_DETAIL_RULES, &rules).ok());
  EXPECT_EQ(sentences(rules), 0);
  EXPECT_TRUE(
      MessageDifferencer::Equals(rules, without_sentences(told_nothing)));
  ASSERT_TRUE(score_one(v1::EXPLANATION_DETAIL_NONE, &none).ok());
  EXPECT_TRUE(none.explanation().empty());
  EXPECT_EQ(none.total_score(), told_nothing.total_score());

  // ScoreLeads, for bulk work: rule ids and points unless told.
  v1::ScoreResult batch;
  ASSERT_TRUE(
      score_batch(v1::EXPLANATION_DETAIL_UNSPECIFIED, false, &batch).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(batch, rules));
  ASSERT_TRUE(
      score_batch(v1::EXPLANATION_DETAIL_SENTENCES, false, &batch).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(batch, told_nothing));
  ASSERT_TRUE(score_batch(v1::EXPLANATION_DETAIL_NONE, false, &batch).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(batch, none));
  ASSERT_TRUE(
      score_batch(v1::EXPLANATION_DETAIL_UNSPECIFIED, true, &batch).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(batch, none));

  // What cannot be followed is refused, naming the field.
  const auto unknown = static_cast<v1::ExplanationDetail>(99);
  grpc::Status st = score_one(unknown, &batch);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldViolations(st), ::testing::ElementsAre("explanation"));
  st = score_batch(unknown, false, &batch);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldViolations(st), ::testing::ElementsAre("explanation"));
  st = score_batch(v1::EXPLANATION_DETAIL_SENTENCES, true, &batch);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldViolations(st), ::testing::ElementsAre("explanation"));
}

TEST_F(ServiceTest, ALargeScoreLeadsRequestAgreesWithScoreLeadLeadByLead) {
  // Big enough to be scored on several threads: results must still come
  // back in the request's order, each as ScoreLead gives it, with every
  // seventh lead refused in place.
  LeadGenerator generator({.seed = 3, .now = absl::Now()});
  v1::ScoreLeadsRequest request;
  TimeToProto(absl::Now(), request.mutable_now());
  // With sentences, as ScoreLead gives them by default.
  request.set_explanation(v1::EXPLANATION_DETAIL_SENTENCES);
  // Explanations included, 1,000 leads stay under the client's default
  // 4 MiB receive limit.
  for (int i = 0; i < 1000; ++i) {
    v1::Lead* lead = request.add_leads();
    generator.Generate(i, lead);
    if (i % 7 == 3) lead->clear_id();
  }
  auto context = As(kReader);
  auto stream = scoring_->ScoreLeads(context.get());
  ASSERT_TRUE(stream->Write(request));
  v1::ScoreLeadsResponse response;
  const bool read = stream->Read(&response);
  stream->WritesDone();
  grpc::Status finished = stream->Finish();
  ASSERT_TRUE(read && finished.ok()) << finished.error_message();

  int result = 0;
  int error = 0;
  for (int i = 0; i < request.leads_size(); ++i) {
    if (i % 7 == 3) {
      ASSERT_LT(error, response.errors_size());
      EXPECT_EQ(response.errors(error).index(), i);
      EXPECT_EQ(response.errors(error).problems(0).path(), "id");
      ++error;
      continue;
    }
    v1::ScoreLeadRequest one;
    *one.mutable_lead() = request.leads(i);
    *one.mutable_now() = request.now();
    v1::ScoreLeadResponse expected;
    ASSERT_TRUE(scoring_->ScoreLead(As(kReader).get(), one, &expected).ok());
    ASSERT_LT(result, response.results_size());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        response.results(result), expected.result()))
        << "lead " << i;
    ++result;
  }
  EXPECT_EQ(result, response.results_size());
  EXPECT_EQ(error, response.errors_size());
}

TEST_F(ServiceTest, ValidateListsEveryProblemWithItsLine) {
  v1::ValidatePlaybookRequest request;
  request.mutable_playbook()->set_document(
      "metadata:\n  name: broken\npersonas: []\n");
  v1::ValidatePlaybookResponse response;
  grpc::Status st =
      playbooks_->ValidatePlaybook(As(kMarketing).get(), request, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_GT(response.problems().problems_size(), 1);
  bool has_line = false;
  for (const auto& p : response.problems().problems()) {
    EXPECT_FALSE(p.path().empty());
    has_line |= p.line() > 0;
  }
  EXPECT_TRUE(has_line);

  request.mutable_playbook()->set_document(ReadDemo());
  response.Clear();
  ASSERT_TRUE(
      playbooks_->ValidatePlaybook(As(kMarketing).get(), request, &response)
          .ok());
  EXPECT_EQ(response.problems().problems_size(), 0);
}

TEST_F(ServiceTest, ConcurrentValidationsAreBounded) {
  // Each of these documents takes a while to read; past a few at once,
  // calls are refused instead of each taking its share of memory.
  std::string document = "metadata: {name: big, version: '1'}\nfiller: [1";
  while (document.size() + 4 < kMaxPlaybookBytes / 8) document += ",1";
  document += "]\n";
  v1::ValidatePlaybookRequest request;
  request.mutable_playbook()->set_document(document);
  constexpr int kCalls = 16;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::ValidatePlaybookResponse> responses(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = playbooks_->ValidatePlaybook(As(kMarketing).get(), request,
                                                 &responses[i]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  int answered = 0, refused = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (statuses[i].ok()) {
      ++answered;
      ASSERT_EQ(responses[i].problems().problems_size(), 1);
      EXPECT_EQ(responses[i].problems().problems(0).path(), "filler");
    } else {
      ++refused;
      EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << statuses[i].error_message();
      EXPECT_THAT(statuses[i].error_message(), HasSubstr("retry shortly"));
    }
  }
  EXPECT_GE(answered, 1);
  EXPECT_GE(refused, 1);
  // Once they are done, the places are free again.
  v1::ValidatePlaybookResponse response;
  request.mutable_playbook()->set_document(ReadDemo());
  EXPECT_TRUE(
      playbooks_->ValidatePlaybook(As(kMarketing).get(), request, &response)
          .ok());
}

TEST_F(ServiceTest, PublishesActivatesAndRollsBackVersions) {
  // A refused Playbook publishes nothing.
  v1::PublishPlaybookRequest bad;
  bad.mutable_playbook()->set_document("metadata: {name: x}\n");
  v1::PublishPlaybookResponse published;
  grpc::Status st =
      playbooks_->PublishPlaybook(As(kMarketing).get(), bad, &published);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(FieldViolations(st).empty());

  v1::PublishPlaybookRequest good;
  good.mutable_playbook()->set_document(ReadDemo());
  ASSERT_TRUE(
      playbooks_->PublishPlaybook(As(kMarketing).get(), good, &published).ok());
  EXPECT_EQ(published.version().number(), 2);
  EXPECT_FALSE(published.version().active());
  EXPECT_EQ(published.version().published_by(), "mia");

  v1::ListPlaybookVersionsRequest list;
  list.set_page_size(1);
  v1::ListPlaybookVersionsResponse versions;
  ASSERT_TRUE(
      playbooks_->ListPlaybookVersions(As(kReader).get(), list, &versions)
          .ok());
  ASSERT_EQ(versions.versions_size(), 1);
  EXPECT_EQ(versions.versions(0).number(), 2);
  ASSERT_FALSE(versions.next_page_token().empty());
  list.set_page_token(versions.next_page_token());
  ASSERT_TRUE(
      playbooks_->ListPlaybookVersions(As(kReader).get(), list, &versions)
          .ok());
  ASSERT_EQ(versions.versions_size(), 1);
  EXPECT_EQ(versions.versions(0).number(), 1);
  EXPECT_TRUE(versions.versions(0).active());
  EXPECT_EQ(versions.versions(0).published_by(), "smarketing-server");
  EXPECT_TRUE(versions.next_page_token().empty());
  list.set_page_size(1001);
  grpc::Status too_big =
      playbooks_->ListPlaybookVersions(As(kReader).get(), list, &versions);
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(too_big), std::vector<std::string>{"page_size"});

  v1::ActivatePlaybookRequest activate;
  activate.set_number(2);
  activate.set_expected_active_number(2);  // stale: 1 is active
  v1::ActivatePlaybookResponse activated;
  EXPECT_EQ(playbooks_->ActivatePlaybook(As(kAdmin).get(), activate, &activated)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  activate.set_expected_active_number(1);
  ASSERT_TRUE(
      playbooks_->ActivatePlaybook(As(kAdmin).get(), activate, &activated)
          .ok());
  EXPECT_TRUE(activated.version().active());
  activate.set_number(7);
  activate.clear_expected_active_number();
  EXPECT_EQ(playbooks_->ActivatePlaybook(As(kAdmin).get(), activate, &activated)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::GetPlaybookRequest get;
  v1::GetPlaybookResponse got;
  ASSERT_TRUE(playbooks_->GetPlaybook(As(kReader).get(), get, &got).ok());
  EXPECT_EQ(got.version().number(), 2);
  EXPECT_FALSE(got.playbook().personas().empty());

  // Roll back, and the choice survives a restart.
  activate.set_number(1);
  ASSERT_TRUE(
      playbooks_->ActivatePlaybook(As(kAdmin).get(), activate, &activated)
          .ok());
  RestartServer();
  ASSERT_TRUE(playbooks_->GetPlaybook(As(kReader).get(), get, &got).ok());
  EXPECT_EQ(got.version().number(), 1);
  get.set_number(9);
  EXPECT_EQ(playbooks_->GetPlaybook(As(kReader).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, AQualifiedLeadIsRoutedWithSlaDeadlinesAndWorkedToAWin) {
  v1::LeadRecord lead = Upsert(HotLead("journey"));
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_FALSE(lead.routing().team_id().empty());
  EXPECT_FALSE(lead.routing().explanation().empty());
  EXPECT_TRUE(lead.sla().has_first_touch_due());
  EXPECT_TRUE(lead.sla().has_accept_or_reject_due());
  EXPECT_EQ(lead.event_count(), 1);
  const int64_t revision = lead.revision();

  // The same events again are counted once.
  v1::RecordEventsRequest events;
  events.set_lead_id("journey");
  *events.add_events() = PageView("pv-1");
  *events.add_events() = PageView("pv-1");
  *events.add_events() = PageView("pv-2");
  v1::RecordEventsResponse recorded;
  ASSERT_TRUE(
      leads_->RecordEvents(As(kMarketing).get(), events, &recorded).ok());
  EXPECT_EQ(recorded.recorded(), 2);
  EXPECT_EQ(recorded.duplicates(), 1);
  const int64_t after_events = recorded.revision();
  ASSERT_TRUE(
      leads_->RecordEvents(As(kMarketing).get(), events, &recorded).ok());
  EXPECT_EQ(recorded.recorded(), 0);
  EXPECT_EQ(recorded.duplicates(), 3);
  // A retried delivery changes nothing, not even the revision.
  EXPECT_EQ(recorded.revision(), after_events);
  EXPECT_EQ(Get("journey").event_count(), 3);

  // The events moved the lead on: its first revision is stale, refused,
  // and the refusal changes nothing.
  EXPECT_EQ(Feedback(
                "journey", [](v1::Feedback* f) { f->mutable_accepted(); },
                nullptr, revision)
                .error_code(),
            grpc::StatusCode::ABORTED);
  EXPECT_EQ(Get("journey").lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);

  v1::RecordFirstTouchRequest touch;
  touch.set_lead_id("journey");
  v1::RecordFirstTouchResponse touched;
  ASSERT_TRUE(leads_->RecordFirstTouch(As(kSales).get(), touch, &touched).ok());
  EXPECT_TRUE(touched.lead().lifecycle().has_first_touched_at());

  ASSERT_TRUE(
      Feedback(
          "journey", [](v1::Feedback* f) { f->mutable_accepted(); }, &lead)
          .ok());
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_SAL);
  ASSERT_TRUE(
      Feedback(
          "journey", [](v1::Feedback* f) { f->mutable_meeting_held(); }, &lead)
          .ok());
  ASSERT_TRUE(
      Feedback(
          "journey",
          [](v1::Feedback* f) {
            f->mutable_opportunity_created()->mutable_amount()->set_amount(
                50000);
          },
          &lead)
          .ok());
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_OPPORTUNITY);
  ASSERT_TRUE(Feedback(
                  "journey",
                  [](v1::Feedback* f) {
                    f->mutable_won()->mutable_revenue()->set_amount(48000);
                    f->mutable_won()->mutable_margin()->set_amount(30000);
                  },
                  &lead)
                  .ok());
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_CUSTOMER);
  EXPECT_GE(lead.lifecycle().history_size(), 6);

  // A customer cannot be accepted again: FAILED_PRECONDITION, nothing changes.
  EXPECT_EQ(Feedback("journey", [](v1::Feedback* f) { f->mutable_accepted(); })
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Get("journey").revision(), lead.revision());

  v1::GetClosedLoopReportRequest report;
  TimeToProto(absl::Now() - absl::Hours(24), report.mutable_period_start());
  TimeToProto(absl::Now() + absl::Hours(24), report.mutable_period_end());
  v1::GetClosedLoopReportResponse closed_loop;
  ASSERT_TRUE(
      reports_->GetClosedLoopReport(As(kReader).get(), report, &closed_loop)
          .ok());
  const v1::FunnelCounts& total = closed_loop.report().total();
  EXPECT_EQ(total.leads(), 1);
  EXPECT_EQ(total.mqls(), 1);
  EXPECT_EQ(total.accepted(), 1);
  EXPECT_EQ(total.meetings(), 1);
  EXPECT_EQ(total.opportunities(), 1);
  EXPECT_EQ(total.wins(), 1);
  EXPECT_EQ(total.revenue(), 48000);
  EXPECT_EQ(total.touched(), 1);
  EXPECT_TRUE(total.has_median_time_to_first_touch());
  ASSERT_EQ(closed_loop.report().by_campaign_size(), 1);
  EXPECT_EQ(closed_loop.report().by_campaign(0).key(), "cmp-autumn");
}

// A demo request stamped by a client whose clock runs a little ahead of the
// server's (or by one on the same machine: the server's absl::Now() can
// trail the kernel's clock) is stored, acknowledged and counted at once, so
// the lead is urgent now rather than at the next refresh; the stored event
// keeps the time it was reported with. Further ahead than clocks drift, an
// event is stored but counts only once its time has come.
TEST_F(ServiceTest, AnEventStampedSlightlyAheadOfTheServersClockCountsNow) {
  v1::Lead ahead = HotLead("ahead");
  auto* demo = ahead.mutable_events(0)->mutable_occurred_at();
  TimeToProto(absl::Now() + absl::Seconds(30), demo);
  const v1::LeadRecord written = Upsert(ahead);
  EXPECT_EQ(written.event_count(), 1);
  EXPECT_EQ(written.score().events_counted(), 1);
  EXPECT_GT(written.score().engagement_score(), 0);
  EXPECT_TRUE(written.score().hand_raiser());
  EXPECT_EQ(written.score().priority(), v1::PRIORITY_URGENT);
  v1::GetLeadRequest request;
  request.set_lead_id("ahead");
  request.set_include_events(true);
  v1::GetLeadResponse stored;
  ASSERT_TRUE(leads_->GetLead(As(kReader).get(), request, &stored).ok());
  EXPECT_EQ(stored.lead().score().priority(), v1::PRIORITY_URGENT);
  ASSERT_EQ(stored.lead().lead().events_size(), 1);
  EXPECT_EQ(stored.lead().lead().events(0).occurred_at().seconds(),
            demo->seconds());

  v1::Lead later = HotLead("later");
  TimeToProto(absl::Now() + kMaxClockSkew + absl::Minutes(1),
              later.mutable_events(0)->mutable_occurred_at());
  const v1::LeadRecord kept = Upsert(later);
  EXPECT_EQ(kept.event_count(), 1);
  EXPECT_EQ(kept.score().events_counted(), 0);
  EXPECT_FALSE(kept.score().hand_raiser());
}

TEST_F(ServiceTest, ARejectedLeadIsRecycledToNurtureWithItsReason) {
  Upsert(HotLead("rejected"));
  // An unknown reason is refused and changes nothing.
  v1::LeadRecord lead;
  grpc::Status st = Feedback("rejected", [](v1::Feedback* f) {
    f->mutable_rejected()->set_reason_code("nope");
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << st.error_message();
  EXPECT_EQ(Get("rejected").lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);

  ASSERT_TRUE(Feedback(
                  "rejected",
                  [](v1::Feedback* f) {
                    f->mutable_rejected()->set_reason_code("no_budget");
                  },
                  &lead)
                  .ok());
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(lead.lifecycle().history().rbegin()->reason_code(), "no_budget");
  EXPECT_TRUE(lead.lifecycle().has_nurture_until());

  v1::ListLeadsRequest list;
  list.set_stage(v1::LIFECYCLE_STAGE_NURTURE);
  v1::ListLeadsResponse listed;
  ASSERT_TRUE(leads_->ListLeads(As(kReader).get(), list, &listed).ok());
  ASSERT_EQ(listed.leads_size(), 1);
  EXPECT_EQ(listed.leads(0).lead().id(), "rejected");
}

TEST_F(ServiceTest, ListsLeadsAPageAtATimeAndTheSlaLeads) {
  for (int i = 0; i < 5; ++i) Upsert(HotLead(absl::StrCat("page-", i)));
  v1::ListLeadsRequest list;
  list.set_page_size(2);
  std::vector<std::string> ids;
  for (int page = 0; page < 5; ++page) {
    v1::ListLeadsResponse listed;
    ASSERT_TRUE(leads_->ListLeads(As(kReader).get(), list, &listed).ok());
    for (const auto& l : listed.leads()) ids.push_back(l.lead().id());
    if (listed.next_page_token().empty()) break;
    list.set_page_token(listed.next_page_token());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"page-0", "page-1", "page-2",
                                           "page-3", "page-4"}));
  list.set_page_size(-1);
  v1::ListLeadsResponse refused;
  grpc::Status negative = leads_->ListLeads(As(kReader).get(), list, &refused);
  EXPECT_EQ(negative.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(negative), std::vector<std::string>{"page_size"});

  // Far in the future every open MQL is in breach.
  v1::ListSlaLeadsRequest sla;
  TimeToProto(absl::Now() + absl::Hours(24 * 60), sla.mutable_now());
  sla.set_breached_only(true);
  v1::ListSlaLeadsResponse breached;
  ASSERT_TRUE(reports_->ListSlaLeads(As(kReader).get(), sla, &breached).ok());
  EXPECT_EQ(breached.leads_size(), 5);
  for (const auto& l : breached.leads()) {
    EXPECT_EQ(l.sla().state(), v1::SLA_STATE_BREACHED);
    EXPECT_FALSE(l.team_id().empty());
  }
}

TEST_F(ServiceTest, ExplainsAStoredLeadAndErasesIt) {
  Upsert(HotLead("erase-me"));
  v1::ExplainLeadRequest explain;
  explain.set_lead_id("erase-me");
  v1::ExplainLeadResponse explained;
  ASSERT_TRUE(
      scoring_->ExplainLead(As(kReader).get(), explain, &explained).ok());
  EXPECT_EQ(explained.result().events_counted(), 1);
  EXPECT_FALSE(explained.result().explanation().empty());

  v1::EraseLeadRequest erase;
  erase.set_lead_id("erase-me");
  v1::EraseLeadResponse erased;
  ASSERT_TRUE(leads_->EraseLead(As(kAdmin).get(), erase, &erased).ok());
  EXPECT_EQ(erased.events_erased(), 1);
  grpc::Status st;
  Get("erase-me", &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(leads_->EraseLead(As(kAdmin).get(), erase, &erased).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(scoring_->ExplainLead(As(kReader).get(), explain, &explained)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, UnknownLeadsAreNotFound) {
  v1::RecordEventsRequest events;
  events.set_lead_id("ghost");
  *events.add_events() = PageView("e");
  v1::RecordEventsResponse recorded;
  EXPECT_EQ(leads_->RecordEvents(As(kMarketing).get(), events, &recorded)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::TransitionLeadRequest move;
  move.set_lead_id("ghost");
  move.set_to(v1::LIFECYCLE_STAGE_SAL);
  move.set_actor(v1::ACTOR_SALES);
  v1::TransitionLeadResponse moved;
  EXPECT_EQ(leads_->TransitionLead(As(kSales).get(), move, &moved).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Concurrent writes share commits (the store's group commit); a refused
// write in a group is rolled back alone.
TEST_F(ServiceTest, ConcurrentWritersKeepEveryEventOnceAndRefusalsAlone) {
  constexpr int kLeads = 4;
  constexpr int kThreads = 8;
  constexpr int kWrites = 25;
  for (int i = 0; i < kLeads; ++i) Upsert(HotLead(absl::StrCat("busy-", i)));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int w = 0; w < kWrites; ++w) {
        v1::RecordEventsRequest request;
        // Every fifth write goes to a lead that does not exist.
        request.set_lead_id(
            w % 5 == 4 ? "ghost" : absl::StrCat("busy-", (t + w) % kLeads));
        *request.add_events() = PageView(absl::StrCat("t", t, "-w", w));
        v1::RecordEventsResponse response;
        if (!leads_->RecordEvents(As(kMarketing).get(), request, &response)
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, kThreads * kWrites / 5);
  int events = 0;
  for (int i = 0; i < kLeads; ++i) {
    events += Get(absl::StrCat("busy-", i)).event_count() - 1;  // - demo
  }
  EXPECT_EQ(events, kThreads * kWrites * 4 / 5);
}

TEST_F(ServiceTest, TransitionsGoThroughTheLifecycleRules) {
  Upsert(HotLead("moved"));
  v1::TransitionLeadRequest move;
  move.set_lead_id("moved");
  move.set_to(v1::LIFECYCLE_STAGE_CUSTOMER);  // not from MQL
  move.set_actor(v1::ACTOR_SALES);
  move.set_actor_id("usr-1001");
  v1::TransitionLeadResponse moved;
  EXPECT_EQ(leads_->TransitionLead(As(kSales).get(), move, &moved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  move.set_to(v1::LIFECYCLE_STAGE_SAL);
  ASSERT_TRUE(leads_->TransitionLead(As(kSales).get(), move, &moved).ok());
  EXPECT_EQ(moved.lead().lifecycle().stage(), v1::LIFECYCLE_STAGE_SAL);
}

// Every RPC against its rule in the access table: without a token or with
// a wrong one, UNAUTHENTICATED; with a role below the rule's,
// PERMISSION_DENIED; with its role and above, anything but those two. Every
// rule must have a call here, and its elevated part a call of its own.
TEST_F(ServiceTest, RoleMatrix) {
  using Call = std::function<grpc::Status(grpc::ClientContext*)>;
  // (method, elevated) -> a call of it.
  const std::map<std::pair<std::string, bool>, Call> calls = {
      {{"ScoringService.ScoreLead", false},
       [&](grpc::ClientContext* c) {
         v1::ScoreLeadResponse r;
         return scoring_->ScoreLead(c, {}, &r);
       }},
      {{"ScoringService.ScoreLeads", false},
       [&](grpc::ClientContext* c) {
         auto s = scoring_->ScoreLeads(c);
         s->WritesDone();
         return s->Finish();
       }},
      {{"ScoringService.ExplainLead", false},
       [&](grpc::ClientContext* c) {
         v1::ExplainLeadResponse r;
         return scoring_->ExplainLead(c, {}, &r);
       }},
      {{"PlaybookService.ValidatePlaybook", false},
       [&](grpc::ClientContext* c) {
         v1::ValidatePlaybookResponse r;
         return playbooks_->ValidatePlaybook(c, {}, &r);
       }},
      {{"PlaybookService.PublishPlaybook", false},
       [&](grpc::ClientContext* c) {
         v1::PublishPlaybookResponse r;
         return playbooks_->PublishPlaybook(c, {}, &r);
       }},
      {{"PlaybookService.PublishPlaybook", true},
       [&](grpc::ClientContext* c) {
         v1::PublishPlaybookRequest q;
         q.set_activate(true);
         v1::PublishPlaybookResponse r;
         return playbooks_->PublishPlaybook(c, q, &r);
       }},
      {{"PlaybookService.ActivatePlaybook", false},
       [&](grpc::ClientContext* c) {
         v1::ActivatePlaybookResponse r;
         return playbooks_->ActivatePlaybook(c, {}, &r);
       }},
      {{"PlaybookService.GetPlaybook", false},
       [&](grpc::ClientContext* c) {
         v1::GetPlaybookResponse r;
         return playbooks_->GetPlaybook(c, {}, &r);
       }},
      {{"PlaybookService.ListPlaybookVersions", false},
       [&](grpc::ClientContext* c) {
         v1::ListPlaybookVersionsResponse r;
         return playbooks_->ListPlaybookVersions(c, {}, &r);
       }},
      {{"LeadService.UpsertLead", false},
       [&](grpc::ClientContext* c) {
         v1::UpsertLeadResponse r;
         return leads_->UpsertLead(c, {}, &r);
       }},
      {{"LeadService.RecordEvents", false},
       [&](grpc::ClientContext* c) {
         v1::RecordEventsResponse r;
         return leads_->RecordEvents(c, {}, &r);
       }},
      {{"LeadService.StreamEvents", false},
       [&](grpc::ClientContext* c) {
         auto s = leads_->StreamEvents(c);
         s->WritesDone();
         return s->Finish();
       }},
      {{"LeadService.GetLead", false},
       [&](grpc::ClientContext* c) {
         v1::GetLeadResponse r;
         return leads_->GetLead(c, {}, &r);
       }},
      {{"LeadService.ListLeads", false},
       [&](grpc::ClientContext* c) {
         v1::ListLeadsResponse r;
         return leads_->ListLeads(c, {}, &r);
       }},
      {{"LeadService.RecordFeedback", false},
       [&](grpc::ClientContext* c) {
         v1::RecordFeedbackResponse r;
         return leads_->RecordFeedback(c, {}, &r);
       }},
      {{"LeadService.TransitionLead", false},
       [&](grpc::ClientContext* c) {
         v1::TransitionLeadResponse r;
         return leads_->TransitionLead(c, {}, &r);
       }},
      {{"LeadService.RecordFirstTouch", false},
       [&](grpc::ClientContext* c) {
         v1::RecordFirstTouchResponse r;
         return leads_->RecordFirstTouch(c, {}, &r);
       }},
      {{"LeadService.EraseLead", false},
       [&](grpc::ClientContext* c) {
         v1::EraseLeadResponse r;
         return leads_->EraseLead(c, {}, &r);
       }},
      {{"ReportService.ListSlaLeads", false},
       [&](grpc::ClientContext* c) {
         v1::ListSlaLeadsResponse r;
         return reports_->ListSlaLeads(c, {}, &r);
       }},
      {{"ReportService.GetClosedLoopReport", false},
       [&](grpc::ClientContext* c) {
         v1::GetClosedLoopReportResponse r;
         return reports_->GetClosedLoopReport(c, {}, &r);
       }},
      {{"LeadService.ListChanges", false},
       [&](grpc::ClientContext* c) {
         v1::ListChangesResponse r;
         return leads_->ListChanges(c, {}, &r);
       }},
      {{"LeadService.WatchChanges", false},
       [&](grpc::ClientContext* c) {
         c->set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(300));
         auto s = leads_->WatchChanges(c, {});
         v1::Change change;
         while (s->Read(&change)) {
         }
         return s->Finish();
       }},
      {{"LeadService.ImportLeads", false},
       [&](grpc::ClientContext* c) {
         v1::ImportLeadsResponse r;
         auto s = leads_->ImportLeads(c, &r);
         s->WritesDone();
         return s->Finish();
       }},
      {{"ReportService.GetReview", false},
       [&](grpc::ClientContext* c) {
         v1::GetReviewResponse r;
         return reports_->GetReview(c, {}, &r);
       }},
      {{"TeamService.SetMemberStatus", false},
       [&](grpc::ClientContext* c) {
         v1::SetMemberStatusResponse r;
         return teams_->SetMemberStatus(c, {}, &r);
       }},
      {{"TeamService.SetMemberStatus", true},
       [&](grpc::ClientContext* c) {
         v1::SetMemberStatusRequest q;
         q.mutable_update_mask()->add_paths("teams");
         v1::SetMemberStatusResponse r;
         return teams_->SetMemberStatus(c, q, &r);
       }},
      {{"LeadService.GetAccount", false},
       [&](grpc::ClientContext* c) {
         v1::GetAccountResponse r;
         return leads_->GetAccount(c, {}, &r);
       }},
      {{"LeadService.ListAccounts", false},
       [&](grpc::ClientContext* c) {
         v1::ListAccountsResponse r;
         return leads_->ListAccounts(c, {}, &r);
       }},
      {{"PlaybookService.GetRescoreStatus", false},
       [&](grpc::ClientContext* c) {
         v1::GetRescoreStatusResponse r;
         return playbooks_->GetRescoreStatus(c, {}, &r);
       }},
      {{"TeamService.SetAccountOwners", false},
       [&](grpc::ClientContext* c) {
         v1::SetAccountOwnersResponse r;
         return teams_->SetAccountOwners(c, {}, &r);
       }},
      {{"WebhookService.CreateWebhook", false},
       [&](grpc::ClientContext* c) {
         v1::CreateWebhookResponse r;
         return webhooks_->CreateWebhook(c, {}, &r);
       }},
      {{"WebhookService.ListWebhooks", false},
       [&](grpc::ClientContext* c) {
         v1::ListWebhooksResponse r;
         return webhooks_->ListWebhooks(c, {}, &r);
       }},
      {{"WebhookService.DeleteWebhook", false},
       [&](grpc::ClientContext* c) {
         v1::DeleteWebhookResponse r;
         return webhooks_->DeleteWebhook(c, {}, &r);
       }},
      {{"WebhookService.ListDeadLetters", false},
       [&](grpc::ClientContext* c) {
         v1::ListDeadLettersResponse r;
         return webhooks_->ListDeadLetters(c, {}, &r);
       }},
      {{"WebhookService.ReplayDeadLetter", false},
       [&](grpc::ClientContext* c) {
         v1::ReplayDeadLetterResponse r;
         return webhooks_->ReplayDeadLetter(c, {}, &r);
       }},
      {{"TeamService.GetMemberStatus", false},
       [&](grpc::ClientContext* c) {
         v1::GetMemberStatusResponse r;
         return teams_->GetMemberStatus(c, {}, &r);
       }},
  };
  const std::vector<std::pair<Role, const char*>> tokens = {
      {Role::kReader, kReader},
      {Role::kSales, kSales},
      {Role::kMarketing, kMarketing},
      {Role::kAdmin, kAdmin}};
  size_t checked = 0;
  for (const MethodAccess& rule : MethodAccessTable()) {
    for (const bool elevated : {false, true}) {
      if (elevated && rule.elevated_part.empty()) continue;
      SCOPED_TRACE(absl::StrCat(rule.method, elevated ? " (elevated)" : ""));
      auto call = calls.find({std::string(rule.method), elevated});
      ASSERT_NE(call, calls.end()) << "no call of this method in the test";
      ++checked;
      const Role needed = elevated ? rule.elevated_role : rule.role;
      EXPECT_EQ(call->second(As("").get()).error_code(),
                grpc::StatusCode::UNAUTHENTICATED);
      EXPECT_EQ(
          call->second(As("not-a-token-of-this-server").get()).error_code(),
          grpc::StatusCode::UNAUTHENTICATED);
      for (const auto& [role, token] : tokens) {
        SCOPED_TRACE(RoleName(role));
        const grpc::StatusCode code =
            call->second(As(token).get()).error_code();
        if (role < needed) {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED);
        } else {
          EXPECT_NE(code, grpc::StatusCode::PERMISSION_DENIED);
          EXPECT_NE(code, grpc::StatusCode::UNAUTHENTICATED);
        }
      }
    }
  }
  EXPECT_EQ(checked, calls.size()) << "a call here has no rule in the table";
}

TEST(TokenTableTest, RefusesShortDuplicateAndUnknownEntries) {
  EXPECT_FALSE(TokenTable::Parse("short reader x\n").ok());
  EXPECT_FALSE(TokenTable::Parse("aaaaaaaaaaaaaaaaaaaa boss x\n").ok());
  EXPECT_FALSE(TokenTable::Parse("aaaaaaaaaaaaaaaaaaaa reader x\n"
                                 "aaaaaaaaaaaaaaaaaaaa admin y\n")
                   .ok());
  auto table = TokenTable::Parse(
      "# comment\n\naaaaaaaaaaaaaaaaaaaa reader x  # trailing\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Find("aaaaaaaaaaaaaaaaaaaa")->name, "x");
  EXPECT_FALSE(table->Find("aaaaaaaaaaaaaaaaaaab").ok());
  // Messages never echo a token.
  auto bad = TokenTable::Parse("secret-secret-secret boss x\n");
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("secret")));
}

TEST(ServerStartTest, RequiresATokenFile) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  TempDir dir;
  options.store_path = (dir.path() / "s.db").string();
  auto server = Server::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

// TLS with a throwaway CA: a client trusting the CA gets through, a
// plaintext one does not; with a client CA, a client without a
// certificate is refused.
class TlsTest : public ServiceTest {
 protected:
  void SetUp() override {}

  bool MakeCertificates() {
    const std::string d = dir_.path().string();
    const std::string cmd = absl::StrCat(
        "(cd ", d,
        " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "
        "/CN=test-ca"
        " -keyout ca.key -out ca.pem"
        " && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost"
        " -keyout server.key -out server.csr"
        " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.ext"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key"
        " -CAcreateserial -days 1 -extfile san.ext -out server.pem"
        " && openssl req -newkey rsa:2048 -nodes -subj /CN=client"
        " -keyout client.key -out client.csr"
        " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key"
        " -CAcreateserial -days 1 -out client.pem) >/dev/null 2>&1");
    return std::system(cmd.c_str()) == 0;
  }

  std::string Read(const std::string& name) {
    return *ReadFileToString((dir_.path() / name).string(), 1 << 20);
  }

  grpc::StatusCode Score(std::shared_ptr<grpc::ChannelCredentials> creds) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()), creds, args);
    auto stub = v1::ScoringService::NewStub(channel);
    v1::ScoreLeadRequest request;
    *request.mutable_lead() = HotLead("tls");
    v1::ScoreLeadResponse response;
    auto context = As(kReader);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(5));
    return stub->ScoreLead(context.get(), request, &response).error_code();
  }
};

TEST_F(TlsTest, ServesTlsAndMutualTls) {
  ASSERT_TRUE(MakeCertificates());
  WriteFile(dir_.path() / "tokens", absl::StrCat(kReader, " reader ann\n"));
  options_.listen = "127.0.0.1:0";
  options_.store_path = (dir_.path() / "store.db").string();
  options_.token_file = (dir_.path() / "tokens").string();
  options_.demo_playbook = DemoPlaybookPath();
  options_.tls_cert = (dir_.path() / "server.pem").string();
  options_.tls_key = (dir_.path() / "server.key").string();
  StartServer();
  grpc::SslCredentialsOptions trusting;
  trusting.pem_root_certs = Read("ca.pem");
  EXPECT_EQ(Score(grpc::SslCredentials(trusting)), grpc::StatusCode::OK);
  EXPECT_EQ(Score(grpc::InsecureChannelCredentials()),
            grpc::StatusCode::UNAVAILABLE);

  server_->Shutdown(absl::Seconds(1));
  options_.tls_client_ca = (dir_.path() / "ca.pem").string();
  StartServer();
  EXPECT_NE(Score(grpc::SslCredentials(trusting)), grpc::StatusCode::OK);
  grpc::SslCredentialsOptions with_cert = trusting;
  with_cert.pem_private_key = Read("client.key");
  with_cert.pem_cert_chain = Read("client.pem");
  EXPECT_EQ(Score(grpc::SslCredentials(with_cert)), grpc::StatusCode::OK);
}

// Issue 12's service probe, each finding kept fixed.
class HardeningTest : public ServiceTest {
 protected:
  int64_t Revision(const std::string& id) { return Get(id).revision(); }

  grpc::Status TryUpsert(const v1::Lead& lead) {
    v1::UpsertLeadRequest request;
    *request.mutable_lead() = lead;
    v1::UpsertLeadResponse response;
    return leads_->UpsertLead(As(kMarketing).get(), request, &response);
  }

  // Every lead ListLeads returns for `request`, page after page.
  std::vector<std::string> ListAll(v1::ListLeadsRequest request) {
    std::vector<std::string> ids;
    for (int page = 0; page < 100; ++page) {
      v1::ListLeadsResponse listed;
      grpc::Status st = leads_->ListLeads(As(kReader).get(), request, &listed);
      EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
      for (const auto& l : listed.leads()) ids.push_back(l.lead().id());
      if (!st.ok() || listed.next_page_token().empty()) break;
      request.set_page_token(listed.next_page_token());
    }
    return ids;
  }

  // A lead that takes about `bytes` once stored.
  static v1::Lead BigLead(const std::string& id, size_t bytes) {
    v1::Lead lead = HotLead(id);
    const size_t chunk = kMaxTextBytes - 16;
    for (size_t i = 0; i * chunk < bytes; ++i) {
      (*lead.mutable_attributes()->mutable_fields())[absl::StrCat("a", i)]
          .set_string_value(std::string(chunk, 'x'));
    }
    return lead;
  }
};

TEST_F(HardeningTest, ASecondServerOnAUsedPortRefusesToStart) {
  ServerOptions second = options_;
  second.listen = absl::StrCat("127.0.0.1:", server_->port());
  second.store_path = (dir_.path() / "second.db").string();
  auto server = Server::Start(second);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), HasSubstr("in use"));
}

TEST_F(HardeningTest, ALongFeedbackNoteIsRefusedAndChangesNothing) {
  Upsert(HotLead("noted"));
  const int64_t revision = Revision("noted");
  grpc::Status st = Feedback("noted", [](v1::Feedback* f) {
    f->mutable_accepted();
    f->set_note(std::string(kMaxNoteBytes + 1, 'n'));
  });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"feedback.note"});
  EXPECT_EQ(Revision("noted"), revision);
}

TEST_F(HardeningTest, ALeadTooLargeToReadBackIsRefusedAndNotStored) {
  grpc::Status st = TryUpsert(BigLead("huge", 2 * kMaxLeadRecordBytes));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"lead"});
  Get("huge", &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(HardeningTest, UnknownFieldsOfALeadAreNotStored) {
  std::string wire = HotLead("unknown").SerializeAsString();
  // Field 9999, length-delimited, holding "smuggled".
  wire += std::string("\xfa\xf0\x04\x08", 4) + "smuggled";
  v1::Lead lead;
  ASSERT_TRUE(lead.ParseFromString(wire));
  ASSERT_FALSE(lead.GetReflection()->GetUnknownFields(lead).empty());
  Upsert(lead);
  v1::Lead stored = Get("unknown").lead();
  EXPECT_TRUE(stored.GetReflection()->GetUnknownFields(stored).empty());
  EXPECT_THAT(stored.SerializeAsString(), Not(HasSubstr("smuggled")));
}

TEST_F(HardeningTest, ListLeadsPagesFitInAResponseHoweverLargeTheLeads) {
  // Twenty leads of 900 kB: over the 16 MiB message limit together.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(TryUpsert(BigLead(absl::StrCat("big-", i), 900 << 10)).ok());
  }
  EXPECT_EQ(ListAll(v1::ListLeadsRequest()).size(), 20u);
}

TEST_F(HardeningTest, ListLeadsBySlaStateListsEveryLeadInIt) {
  // A cold lead, outside the SLA, among hot ones that are in it: with
  // pages of 3, the last store page is short and used to end the listing
  // before its last lead.
  for (const char* id : {"a-hot", "c-hot", "d-hot", "e-hot"})
    Upsert(HotLead(id));
  v1::Lead cold;
  cold.set_id("b-cold");
  Upsert(cold);
  const v1::SlaState state = Get("a-hot").sla().state();
  ASSERT_NE(state, v1::SLA_STATE_UNSPECIFIED);
  ASSERT_EQ(Get("b-cold").sla().state(), v1::SLA_STATE_UNSPECIFIED);
  v1::ListLeadsRequest request;
  request.set_sla_state(state);
  request.set_page_size(3);
  EXPECT_EQ(ListAll(request),
            (std::vector<std::string>{"a-hot", "c-hot", "d-hot", "e-hot"}));
}

TEST_F(HardeningTest, ListLeadsShowsEventCountsAndRefusesBadTokensAndFilters) {
  Upsert(HotLead("counted"));
  v1::RecordEventsRequest events;
  events.set_lead_id("counted");
  *events.add_events() = PageView("counted-view");
  v1::RecordEventsResponse recorded;
  ASSERT_TRUE(
      leads_->RecordEvents(As(kMarketing).get(), events, &recorded).ok());
  v1::ListLeadsRequest request;
  v1::ListLeadsResponse listed;
  ASSERT_TRUE(leads_->ListLeads(As(kReader).get(), request, &listed).ok());
  ASSERT_EQ(listed.leads_size(), 1);
  EXPECT_EQ(listed.leads(0).event_count(), 2);

  for (auto fill : std::vector<std::function<void(v1::ListLeadsRequest*)>>{
           [](v1::ListLeadsRequest* r) { r->set_page_token("counted"); },
           [](v1::ListLeadsRequest* r) {
             r->set_sla_state(static_cast<v1::SlaState>(99));
           },
           [](v1::ListLeadsRequest* r) {
             r->set_stage(static_cast<v1::LifecycleStage>(99));
           }}) {
    v1::ListLeadsRequest bad;
    fill(&bad);
    grpc::Status st = leads_->ListLeads(As(kReader).get(), bad, &listed);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << bad.ShortDebugString();
  }
}

TEST_F(HardeningTest, TimesFarAheadOfTheServersClockAreRefused) {
  Upsert(HotLead("future"));
  const int64_t revision = Revision("future");
  v1::TransitionLeadRequest move;
  move.set_lead_id("future");
  move.set_to(v1::LIFECYCLE_STAGE_SAL);
  move.set_actor(v1::ACTOR_SALES);
  move.set_actor_id("usr-1001");
  move.mutable_at()->set_seconds(253402300000);  // in the year 9999
  v1::TransitionLeadResponse moved;
  grpc::Status st = leads_->TransitionLead(As(kSales).get(), move, &moved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"at"});
  st = Feedback("future", [](v1::Feedback* f) {
    f->mutable_accepted();
    TimeToProto(absl::Now() + absl::Hours(24), f->mutable_at());
  });
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"feedback.at"});
  EXPECT_EQ(Revision("future"), revision);
  // Within the tolerance for clocks that drift.
  TimeToProto(absl::Now() + absl::Minutes(1), move.mutable_at());
  EXPECT_TRUE(leads_->TransitionLead(As(kSales).get(), move, &moved).ok());
}

TEST_F(HardeningTest, MoneyMustBeFinite) {
  Upsert(HotLead("rich"));
  for (double amount : {std::nan(""), HUGE_VAL, -1.0}) {
    grpc::Status st = Feedback("rich", [&](v1::Feedback* f) {
      f->mutable_won()->mutable_revenue()->set_amount(amount);
    });
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << amount;
    EXPECT_EQ(FieldViolations(st),
              std::vector<std::string>{"feedback.won.revenue.amount"});
  }
}

TEST_F(HardeningTest, AnErasedContactLeavesNothingOnDisk) {
  v1::Lead lead = HotLead("forget-me");
  lead.mutable_contact()->set_email("forget.me.please@example.com");
  Upsert(lead);
  auto on_disk = [&] {
    std::string bytes;
    for (const char* suffix : {"", "-wal"}) {
      auto file = ReadFileToString(options_.store_path + suffix, 1 << 30);
      if (file.ok()) bytes += *file;
    }
    return bytes;
  };
  ASSERT_THAT(on_disk(), HasSubstr("forget.me.please@example.com"));
  v1::EraseLeadRequest erase;
  erase.set_lead_id("forget-me");
  v1::EraseLeadResponse erased;
  ASSERT_TRUE(leads_->EraseLead(As(kAdmin).get(), erase, &erased).ok());
  EXPECT_THAT(on_disk(), Not(HasSubstr("forget.me.please")));
}

TEST_F(HardeningTest, ControlCharactersInALeadIdAreEscapedInTheLog) {
  ::testing::internal::CaptureStderr();
  // The id holds a NUL: the literal's length, not strlen's, makes it.
  static constexpr char kEvil[] = "evil\r level=error event=forged\0x";
  Upsert(HotLead(std::string(kEvil, sizeof(kEvil) - 1)));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("lead_upserted"));
  EXPECT_EQ(log.find('\r'), std::string::npos);
  EXPECT_EQ(log.find('\0'), std::string::npos);
  EXPECT_THAT(log, HasSubstr("evil\\r level=error event=forged\\x00x"));
}

TEST_F(HardeningTest, LifecycleRefusalsNameTheFieldInABadRequest) {
  Upsert(HotLead("named"));
  v1::TransitionLeadRequest move;
  move.set_lead_id("named");
  move.set_to(v1::LIFECYCLE_STAGE_SAL);
  v1::TransitionLeadResponse moved;
  grpc::Status st = leads_->TransitionLead(As(kSales).get(), move, &moved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"actor"});
  move.set_actor(v1::ACTOR_SALES);
  move.set_to(static_cast<v1::LifecycleStage>(42));
  st = leads_->TransitionLead(As(kSales).get(), move, &moved);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"to"});
  move.set_to(v1::LIFECYCLE_STAGE_SAL);
  TimeToProto(absl::Now() - absl::Hours(24 * 365), move.mutable_at());
  st = leads_->TransitionLead(As(kSales).get(), move, &moved);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"at"});
  st = Feedback("named", [](v1::Feedback*) {});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"feedback.outcome"});
  st = Feedback("named", [](v1::Feedback* f) {
    f->mutable_accepted();
    f->clear_at();
  });
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"feedback.at"});
}

TEST_F(HardeningTest, SmallerFindings) {
  Upsert(HotLead("small"));
  // A first touch already recorded changes nothing, not even the revision.
  v1::RecordFirstTouchRequest touch;
  touch.set_lead_id("small");
  v1::RecordFirstTouchResponse touched;
  ASSERT_TRUE(leads_->RecordFirstTouch(As(kSales).get(), touch, &touched).ok());
  const int64_t revision = touched.lead().revision();
  ASSERT_TRUE(leads_->RecordFirstTouch(As(kSales).get(), touch, &touched).ok());
  EXPECT_EQ(touched.lead().revision(), revision);

  // request_id is an identifier, not a payload to echo.
  v1::RecordEventsRequest events;
  events.set_lead_id("small");
  *events.add_events() = PageView("small-view");
  events.set_request_id(std::string(10000, 'r'));
  v1::RecordEventsResponse recorded;
  grpc::Status st =
      leads_->RecordEvents(As(kMarketing).get(), events, &recorded);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"request_id"});

  // UpsertLead takes as many events as RecordEvents.
  v1::Lead many = HotLead("many");
  for (int i = 0; i < 10000; ++i) {
    *many.add_events() = PageView(absl::StrCat("many-", i));
  }
  st = TryUpsert(many);
  EXPECT_EQ(FieldViolations(st), std::vector<std::string>{"lead.events"});

  // Health checks may name a service.
  // (Only the health service's messages are generated.)
  const grpc::internal::RpcMethod health_check(
      "/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::health::v1::HealthCheckRequest check;
  check.set_service("smarketing.v1.LeadService");
  grpc::health::v1::HealthCheckResponse serving;
  st = grpc::internal::BlockingUnaryCall(channel_.get(), health_check,
                                         As("").get(), check, &serving);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(HardeningTest, AnUndecodableRequestIsAnInvalidArgumentSayingSo) {
  const std::string garbage = "\xff\xff\xff\xff";
  for (const char* method : {"/smarketing.v1.ScoringService/ScoreLead",
                             "/smarketing.v1.LeadService/UpsertLead",
                             "/smarketing.v1.LeadService/GetLead"}) {
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::Status st = grpc::internal::BlockingUnaryCall(
        channel_.get(),
        grpc::internal::RpcMethod(method,
                                  grpc::internal::RpcMethod::NORMAL_RPC),
        As(kAdmin).get(), request, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_THAT(st.error_message(), HasSubstr("could not be decoded"))
        << method;
  }
}

// The stream takes its requests as bytes and reads their leads itself:
// bytes that are not a ScoreLeadsRequest, or a lead that is not a Lead, end
// the stream as an invalid argument that says where, and answer nothing.
TEST_F(HardeningTest, ScoreLeadsRefusesARequestThatIsNotOne) {
  auto send = [&](const std::string& bytes, int* responses) {
    auto context = As(kReader);
    std::unique_ptr<
        grpc::ClientReaderWriter<grpc::ByteBuffer, v1::ScoreLeadsResponse>>
        stream(
            grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer,
                                                      v1::ScoreLeadsResponse>::
                Create(channel_.get(),
                       grpc::internal::RpcMethod(
                           "/smarketing.v1.ScoringService/ScoreLeads",
                           grpc::internal::RpcMethod::BIDI_STREAMING),
                       context.get()));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    stream->Write(request);
    stream->WritesDone();
    v1::ScoreLeadsResponse response;
    *responses = 0;
    while (stream->Read(&response)) ++*responses;
    return stream->Finish();
  };
  v1::ScoreLeadsRequest request;
  *request.add_leads() = HotLead("fine");
  const std::string fine = request.SerializeAsString();
  int responses;
  ASSERT_TRUE(send(fine, &responses).ok());
  EXPECT_EQ(responses, 1);

  // A lead's id runs past the lead's end.
  grpc::Status st = send(fine + std::string("\x0a\x04\x0a\x05"
                                            "ab",
                                            6),
                         &responses);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldViolations(st), ::testing::ElementsAre("leads[1]"));
  EXPECT_EQ(responses, 0);
  // A lead's job title is not UTF-8.
  st = send(fine + std::string("\x0a\x06\x0a\x01x\x1a\x01\xff", 8), &responses);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldViolations(st), ::testing::ElementsAre("leads[1]"));
  // The request itself runs past its end.
  st = send(fine + std::string("\x0a\x05"
                               "ab",
                               4),
            &responses);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(),
              HasSubstr("not a smarketing.v1.ScoreLeadsRequest"));
  EXPECT_EQ(responses, 0);
}

}  // namespace
}  // namespace smarketing
