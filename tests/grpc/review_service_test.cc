// ReportService.GetReview end to end: a real server on a loopback port with
// the demo Playbook, leads worked through the service's own RPCs.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc_server/prometheus_text.h"
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

using ::testing::ElementsAre;

class ReviewServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDir();
    Start(ServerOptions());
  }

  void MakeDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "smarketing-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    WriteTokenFile(dir_ / "tokens");
  }

  void Start(ServerOptions options) {
    options.listen = "127.0.0.1:0";
    options.store_path = (dir_ / "store.db").string();
    options.token_file = (dir_ / "tokens").string();
    options.demo_playbook =
        absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml");
    options.http_listen = "127.0.0.1:0";
    auto server = test_server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    if (!options.tls_cert.empty()) return;
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials());
    leads_ = v1::LeadService::NewStub(channel);
    reports_ = v1::ReportService::NewStub(channel);
    playbooks_ = v1::PlaybookService::NewStub(channel);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    std::filesystem::remove_all(dir_);
  }

  // A demo request from a CMO of a software company: an MQL at once.
  void UpsertMql(const std::string& id, const std::string& campaign) {
    v1::UpsertLeadRequest request;
    v1::Lead& lead = *request.mutable_lead();
    lead.set_id(id);
    lead.set_job_title("CMO");
    lead.set_seniority(v1::SENIORITY_C_LEVEL);
    lead.set_source("webinar");
    lead.set_campaign(campaign);
    lead.mutable_company()->set_domain(absl::StrCat(id, ".example"));
    lead.mutable_company()->set_industry("software");
    lead.mutable_company()->set_employee_count(250);
    lead.mutable_company()->set_country("FR");
    lead.mutable_company()->set_region("EMEA");
    v1::Event* event = lead.add_events();
    event->set_id(absl::StrCat(id, "-demo"));
    event->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
    TimeToProto(absl::Now() - absl::Hours(1), event->mutable_occurred_at());
    v1::UpsertLeadResponse response;
    grpc::Status st =
        leads_->UpsertLead(As(kMarketing).get(), request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(response.lead().lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);
  }

  void Feedback(const std::string& id, const char* rejection = nullptr) {
    v1::RecordFeedbackRequest request;
    request.mutable_feedback()->set_lead_id(id);
    request.mutable_feedback()->set_actor_id("usr-1001");
    TimeToProto(absl::Now(), request.mutable_feedback()->mutable_at());
    if (rejection != nullptr) {
      request.mutable_feedback()->mutable_rejected()->set_reason_code(
          rejection);
    } else {
      request.mutable_feedback()->mutable_accepted();
    }
    v1::RecordFeedbackResponse response;
    grpc::Status st =
        leads_->RecordFeedback(As(kSales).get(), request, &response);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  grpc::Status GetReview(const v1::GetReviewRequest& request,
                         v1::GetReviewResponse* response,
                         const std::string& token = kReader) {
    return reports_->GetReview(As(token).get(), request, response);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::ReportService::Stub> reports_;
  std::unique_ptr<v1::PlaybookService::Stub> playbooks_;
};

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

TEST_F(ReviewServiceTest, ReviewsTheCurrentWeekOfStoredLeadsWithoutErasedOnes) {
  UpsertMql("accepted", "cmp-a");
  UpsertMql("rejected", "cmp-a");
  UpsertMql("waiting", "cmp-b");
  UpsertMql("erased", "cmp-b");
  Feedback("accepted");
  Feedback("rejected", "no_budget");
  v1::RecordFirstTouchRequest touch;
  touch.set_lead_id("accepted");
  v1::RecordFirstTouchResponse touched;
  ASSERT_TRUE(leads_->RecordFirstTouch(As(kSales).get(), touch, &touched).ok());
  v1::EraseLeadRequest erase;
  erase.set_lead_id("erased");
  v1::EraseLeadResponse erased;
  ASSERT_TRUE(leads_->EraseLead(As(kAdmin).get(), erase, &erased).ok());

  v1::GetReviewResponse response;
  grpc::Status st = GetReview({}, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const v1::Review& review = response.review();
  EXPECT_EQ(review.time_zone(), "Europe/Paris");
  EXPECT_THAT(review.period_label(), ::testing::StartsWith("20"));
  EXPECT_EQ(review.playbook_version(), "acme-analytics-b2b@2026.11.1");
  EXPECT_EQ(review.marketing().mqls().value(), 3);
  EXPECT_EQ(review.marketing().accepted().value(), 1);
  EXPECT_EQ(review.marketing().rejected().value(), 1);
  ASSERT_EQ(review.marketing().rejection_reasons_size(), 1);
  EXPECT_THAT(review.marketing().rejection_reasons(0).example_lead_ids(),
              ElementsAre("rejected"));
  EXPECT_EQ(review.sales().total().mqls(), 3);
  EXPECT_EQ(review.sales().total().touched(), 1);
  ASSERT_EQ(review.sales().untreated_size(), 1);
  EXPECT_EQ(review.sales().untreated(0).lead_id(), "waiting");
  EXPECT_EQ(review.weekly(11).mqls(), 3);
  EXPECT_EQ(review.closed_loop(11).total().mqls(), 3);
  EXPECT_FALSE(review.objectives().empty());

  // The same week named, filtered on a campaign.
  v1::GetReviewRequest request;
  request.set_week(review.period_label());
  request.mutable_filter()->set_campaign("cmp-b");
  v1::GetReviewResponse filtered;
  ASSERT_TRUE(GetReview(request, &filtered).ok());
  EXPECT_EQ(filtered.review().marketing().mqls().value(), 1);
  EXPECT_EQ(filtered.review().period_start().seconds(),
            review.period_start().seconds());
}

TEST_F(ReviewServiceTest, ReviewsTheObjectivesOfEveryVersionActiveInTheWeek) {
  v1::GetPlaybookResponse active;
  ASSERT_TRUE(playbooks_->GetPlaybook(As(kReader).get(), {}, &active).ok());
  // Version 2 drops the Q4 MQL objective and declares one for the week.
  v1::Playbook next = active.playbook();
  next.mutable_metadata()->set_version("2026.11.2");
  auto* objectives = next.mutable_objectives();
  for (int i = objectives->size() - 1; i >= 0; --i) {
    if (objectives->Get(i).id() == "q4-2026-mqls") {
      objectives->DeleteSubrange(i, 1);
    }
  }
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  v1::Objective* week = next.add_objectives();
  week->set_id("week-mqls");
  week->set_metric(v1::OBJECTIVE_METRIC_MQLS);
  week->set_target(10);
  for (auto [date, day] : {std::pair(week->mutable_period_start(), today - 7),
                           std::pair(week->mutable_period_end(), today + 7)}) {
    date->set_year(static_cast<int32_t>(day.year()));
    date->set_month(day.month());
    date->set_day(day.day());
  }
  v1::PublishPlaybookRequest publish;
  *publish.mutable_playbook()->mutable_playbook() = next;
  v1::PublishPlaybookResponse published;
  grpc::Status st =
      playbooks_->PublishPlaybook(As(kMarketing).get(), publish, &published);
  ASSERT_TRUE(st.ok()) << st.error_message();
  v1::ActivatePlaybookRequest activate;
  activate.set_number(published.version().number());
  activate.set_expected_active_number(active.version().number());
  v1::ActivatePlaybookResponse activated;
  st = playbooks_->ActivatePlaybook(As(kAdmin).get(), activate, &activated);
  ASSERT_TRUE(st.ok()) << st.error_message();

  v1::GetReviewResponse response;
  st = GetReview({}, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const v1::Review& review = response.review();
  EXPECT_EQ(review.playbook_version(), "acme-analytics-b2b@2026.11.2");
  ASSERT_EQ(review.playbook_versions_size(), 2);
  const v1::ReviewPlaybookVersion& first = review.playbook_versions(0);
  const v1::ReviewPlaybookVersion& second = review.playbook_versions(1);
  EXPECT_EQ(first.number(), active.version().number());
  EXPECT_EQ(first.label(), "acme-analytics-b2b@2026.11.1");
  EXPECT_EQ(first.activated_by(), "smarketing-server");
  EXPECT_EQ(second.number(), published.version().number());
  EXPECT_EQ(second.label(), "acme-analytics-b2b@2026.11.2");
  EXPECT_EQ(second.activated_by(), "ada");
  EXPECT_EQ(TimeFromProto(first.active_until()),
            TimeFromProto(second.active_from()));
  EXPECT_LE(TimeFromProto(first.active_from()),
            TimeFromProto(second.active_from()));
  EXPECT_FALSE(second.has_active_until());

  std::map<std::string, std::string> declared;
  for (const auto& o : review.objectives()) {
    declared[o.objective_id()] = o.playbook_version();
  }
  EXPECT_EQ(declared["q4-2026-mqls"], "acme-analytics-b2b@2026.11.1")
      << "in force until version 2 replaced version 1";
  EXPECT_EQ(declared["week-mqls"], "acme-analytics-b2b@2026.11.2");
  EXPECT_EQ(declared["q4-2026-emea-opportunities"],
            "acme-analytics-b2b@2026.11.2");
}

TEST_F(ReviewServiceTest, BadPeriodsAreRefusedNamingTheField) {
  v1::GetReviewResponse response;
  v1::GetReviewRequest request;
  request.set_week("2026-48");
  grpc::Status st = GetReview(request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(FieldViolations(st), ElementsAre("week"));

  request.set_week("2026-W48");
  TimeToProto(absl::Now(), request.mutable_period_start());
  st = GetReview(request, &response);
  EXPECT_THAT(FieldViolations(st), ElementsAre("week"));

  request.clear_week();
  st = GetReview(request, &response);
  EXPECT_THAT(FieldViolations(st), ElementsAre("period_end"));
  TimeToProto(absl::Now() + absl::Hours(24 * 400),
              request.mutable_period_end());
  st = GetReview(request, &response);
  EXPECT_THAT(FieldViolations(st), ElementsAre("period_end"));
  TimeToProto(absl::Now() - absl::Hours(1), request.mutable_period_end());
  st = GetReview(request, &response);
  EXPECT_THAT(FieldViolations(st), ElementsAre("period_end"));

  // A period of any length up to a year.
  TimeToProto(absl::Now() + absl::Hours(24 * 30), request.mutable_period_end());
  ASSERT_TRUE(GetReview(request, &response).ok());
  EXPECT_EQ(response.review().period_label(), "");
}

TEST_F(ReviewServiceTest, NeedsAReaderToken) {
  v1::GetReviewResponse response;
  EXPECT_EQ(GetReview({}, &response, "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      GetReview({}, &response, "not-a-token-at-all-xxxxxxxxx").error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  for (const char* token : {kReader, kSales, kMarketing, kAdmin}) {
    EXPECT_TRUE(GetReview({}, &response, token).ok()) << token;
  }
}

TEST_F(ReviewServiceTest, HttpServesThePageAndMetricsToReadersOnly) {
  UpsertMql("http-lead", "cmp-a");
  httplib::Client http("127.0.0.1", server_->http_port());
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  for (const char* path : {"/review", "/metrics"}) {
    SCOPED_TRACE(path);
    auto missing = http.Get(path);
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 401);
    EXPECT_THAT(missing->get_header_value("WWW-Authenticate"),
                ::testing::HasSubstr("Basic"));
    EXPECT_THAT(missing->body,
                ::testing::Not(::testing::HasSubstr("http-lead")));
    auto wrong =
        http.Get(path, {{"Authorization", "Bearer not-a-valid-token-xxxx"}});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    httplib::Client basic("127.0.0.1", server_->http_port());
    basic.set_basic_auth("ann", kReader);
    auto ok = basic.Get(path);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  }

  auto page = http.Get("/review?week=nonsense",
                       {{"Authorization", absl::StrCat("Bearer ", kReader)}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 400);
  EXPECT_THAT(page->body, ::testing::HasSubstr("week"));

  page = http.Get("/review?campaign=cmp-a",
                  {{"Authorization", absl::StrCat("Bearer ", kReader)}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page->body, ::testing::HasSubstr("data-figure=\"mqls\">1<"));
  EXPECT_THAT(page->body, ::testing::HasSubstr("http-lead"));

  auto metrics = http.Get(
      "/metrics", {{"Authorization", absl::StrCat("Bearer ", kReader)}});
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body,
              ::testing::HasSubstr("smarketing_rpc_calls_total{method=\"/"
                                   "smarketing.v1.LeadService/UpsertLead\","
                                   "code=\"OK\"} 1\n"));
  EXPECT_THAT(metrics->body,
              ::testing::HasSubstr("smarketing_leads{stage=\"mql\"} 1\n"));
  EXPECT_THAT(metrics->body,
              ::testing::HasSubstr("smarketing_events_ingested_total 1\n"));
}

// HTTPS with the gRPC listener's certificate, and client certificates
// required when --tls_client_ca is given.
class ReviewHttpsTest : public ReviewServiceTest {
 protected:
  void SetUp() override {
    MakeDir();
    const std::string cmd = absl::StrCat(
        "(cd ", dir_.string(),
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
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
    ServerOptions options;
    options.tls_cert = (dir_ / "server.pem").string();
    options.tls_key = (dir_ / "server.key").string();
    options.tls_client_ca = (dir_ / "ca.pem").string();
    Start(options);
  }
};

TEST_F(ReviewHttpsTest, ServesThePageOverTlsToClientsWithACertificate) {
  const std::string ca = (dir_ / "ca.pem").string();
  httplib::SSLClient with_cert("127.0.0.1", server_->http_port(),
                               (dir_ / "client.pem").string(),
                               (dir_ / "client.key").string());
  with_cert.set_ca_cert_path(ca.c_str());
  with_cert.enable_server_certificate_verification(true);
  with_cert.set_bearer_token_auth(kReader);
  auto page = with_cert.Get("/review");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, ::testing::HasSubstr("<svg"));

  httplib::SSLClient without_cert("127.0.0.1", server_->http_port());
  without_cert.set_ca_cert_path(ca.c_str());
  without_cert.enable_server_certificate_verification(true);
  without_cert.set_bearer_token_auth(kReader);
  EXPECT_FALSE(without_cert.Get("/review"));
  // Plain HTTP to the TLS port gets no page.
  httplib::Client plain("127.0.0.1", server_->http_port());
  auto refused = plain.Get(
      "/review", {{"Authorization", absl::StrCat("Bearer ", kReader)}});
  EXPECT_TRUE(!refused || refused->status != 200);
}

TEST(PrometheusTextTest, WritesFamiliesEscapedLabelsAndCumulativeBuckets) {
  PrometheusText out;
  out.Family("calls_total", "Calls\\handled.\nPer method.", "counter");
  out.Sample("calls_total", {{"method", "a\"b\\c\nd"}}, 3);
  Histogram h({0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);
  h.Observe(0.5);
  h.Observe(7);
  out.Family("latency_seconds", "Latency.", "histogram");
  out.Observations("latency_seconds", {{"m", "x"}}, h);
  EXPECT_EQ(out.text(),
            "# HELP calls_total Calls\\\\handled.\\nPer method.\n"
            "# TYPE calls_total counter\n"
            "calls_total{method=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{m=\"x\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{m=\"x\",le=\"1\"} 3\n"
            "latency_seconds_bucket{m=\"x\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{m=\"x\"} 7.65\n"
            "latency_seconds_count{m=\"x\"} 4\n");
}

}  // namespace
}  // namespace smarketing
