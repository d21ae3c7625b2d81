// Rescoring end to end: a real server on a loopback port with its SQLite
// store, real gRPC clients, and the rescoring's clock set by the test. A
// newly active Playbook version is applied to every stored lead once, with
// its changes in the feed; the refresh rewrites only the leads whose
// decayed engagement crossed something.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "core/playbook/compiled_playbook.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
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

constexpr int kLeads = 60;

v1::Playbook DemoPlaybook() {
  auto source = LoadPlaybookFile(
      absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml"));
  EXPECT_TRUE(source.ok()) << source.status();
  return source->playbook;
}

// The demo Playbook with a lower MQL threshold: many leads become MQL.
v1::Playbook LowerMqlThreshold() {
  v1::Playbook playbook = DemoPlaybook();
  playbook.mutable_metadata()->set_version("2-lower-mql");
  playbook.mutable_thresholds()->mutable_mql()->set_min_total(60);
  playbook.mutable_thresholds()->mutable_mql()->set_min_fit(30);
  return playbook;
}

class RescoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTokenFile(dir_.path() / "tokens");
    options_.listen = "127.0.0.1:0";
    options_.store_path = (dir_.path() / "store.db").string();
    options_.token_file = (dir_.path() / "tokens").string();
    // Passes run at start, when a version is activated and when the test
    // says so.
    options_.scheduler_tick = absl::Hours(24 * 365);
    options_.rescore_batch = 7;
    options_.refresh_interval = absl::Hours(24);
    options_.clock = [this] {
      absl::MutexLock lock(&clock_mu_);
      return clock_;
    };
    clock_ = absl::Now();
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(DemoPlaybook(), &json)
            .ok());
    std::ofstream(dir_.path() / "playbook.json") << json;
    options_.demo_playbook = (dir_.path() / "playbook.json").string();

    auto server = Server::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials());
    leads_ = v1::LeadService::NewStub(channel);
    playbooks_ = v1::PlaybookService::NewStub(channel);
  }

  void SetClock(absl::Time t) {
    absl::MutexLock lock(&clock_mu_);
    clock_ = t;
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return test_server::As(token, std::chrono::seconds(60));
  }

  // Stores kLeads synthetic leads with their events; returns them by id.
  std::map<std::string, v1::Lead> StoreLeads() {
    LeadGeneratorOptions options;
    options.seed = 5;
    options.now = absl::Now();
    options.mean_events = 12;
    const LeadGenerator generator(options);
    std::map<std::string, v1::Lead> out;
    for (int i = 0; i < kLeads; ++i) {
      v1::UpsertLeadRequest request;
      generator.Generate(i, request.mutable_lead());
      v1::UpsertLeadResponse response;
      grpc::Status st =
          leads_->UpsertLead(As(kMarketing).get(), request, &response);
      EXPECT_TRUE(st.ok()) << st.error_message();
      out[request.lead().id()] = request.lead();
    }
    return out;
  }

  v1::LeadRecord Get(const std::string& id) {
    v1::GetLeadRequest request;
    request.set_lead_id(id);
    v1::GetLeadResponse response;
    grpc::Status st = leads_->GetLead(As(kReader).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.lead();
  }

  std::vector<v1::Change> AllChanges() {
    std::vector<v1::Change> out;
    v1::ListChangesRequest request;
    request.set_limit(1000);
    for (;;) {
      v1::ListChangesResponse response;
      grpc::Status st =
          leads_->ListChanges(As(kReader).get(), request, &response);
      EXPECT_TRUE(st.ok()) << st.error_message();
      if (response.changes().empty()) return out;
      out.insert(out.end(), response.changes().begin(),
                 response.changes().end());
      request.set_after_cursor(response.next_cursor());
    }
  }

  v1::RescoreStatus Status() {
    v1::GetRescoreStatusResponse response;
    grpc::Status st = playbooks_->GetRescoreStatus(
        As(kReader).get(), v1::GetRescoreStatusRequest(), &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.status();
  }

  int64_t Activate(const v1::Playbook& playbook) {
    v1::PublishPlaybookRequest request;
    *request.mutable_playbook()->mutable_playbook() = playbook;
    request.set_activate(true);
    v1::PublishPlaybookResponse response;
    grpc::Status st =
        playbooks_->PublishPlaybook(As(kAdmin).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.version().number();
  }

  // Runs the latest pass to its end (the server's thread may be running
  // it already: RunOnce then waits for it).
  v1::RescoreStatus RunPass() {
    auto run = server_->rescorer()->RunOnce();
    EXPECT_TRUE(run.ok()) << run.status();
    EXPECT_TRUE(run.ok() && run->has_value());
    return Status();
  }

  static bool Has(const v1::Change& change, v1::ChangeKind kind) {
    for (int k : change.kinds()) {
      if (k == kind) return true;
    }
    return false;
  }

  TempDir dir_;
  ServerOptions options_;
  absl::Mutex clock_mu_;
  absl::Time clock_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::PlaybookService::Stub> playbooks_;
};

TEST_F(RescoreTest, ActivationAppliesTheNewVersionToEveryLeadOnce) {
  // The demo version was activated at start, over no lead.
  v1::RescoreStatus first = RunPass();
  EXPECT_EQ(first.pass_number(), 1);
  EXPECT_EQ(first.playbook_number(), 1);
  EXPECT_EQ(first.state(), v1::RESCORE_STATE_DONE);
  EXPECT_EQ(first.leads_done(), 0);

  const std::map<std::string, v1::Lead> stored = StoreLeads();
  std::map<std::string, v1::LeadRecord> before;
  for (const auto& [id, lead] : stored) before[id] = Get(id);
  const size_t changes_before = AllChanges().size();

  const absl::Time at = absl::Now();
  SetClock(at);
  const v1::Playbook v2 = LowerMqlThreshold();
  ASSERT_EQ(Activate(v2), 2);
  const v1::RescoreStatus pass = RunPass();
  EXPECT_EQ(pass.pass_number(), 2);
  EXPECT_EQ(pass.reason(), v1::RESCORE_REASON_ACTIVATION);
  EXPECT_EQ(pass.state(), v1::RESCORE_STATE_DONE);
  EXPECT_EQ(pass.playbook_number(), 2);
  EXPECT_EQ(pass.leads_total(), kLeads);
  EXPECT_EQ(pass.leads_done(), kLeads);
  EXPECT_EQ(pass.leads_written(), kLeads);
  EXPECT_EQ(pass.leads_failed(), 0);
  EXPECT_TRUE(pass.has_finished_at());

  // Each lead written once by the pass, with the score the core gives with
  // the new version at the pass's time.
  auto compiled = CompiledPlaybook::Compile(v2);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  Scorer scorer(*std::move(compiled));
  int moved_to_mql = 0;
  for (const auto& [id, lead] : stored) {
    const v1::LeadRecord now = Get(id);
    EXPECT_EQ(now.revision(), before[id].revision() + 1) << id;
    auto expected = scorer.Score(lead, at);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(now.score().total_score(), expected->total_score()) << id;
    EXPECT_EQ(now.score().grade(), expected->grade()) << id;
    EXPECT_EQ(now.score().priority(), expected->priority()) << id;
    if (before[id].lifecycle().stage() != v1::LIFECYCLE_STAGE_MQL &&
        now.lifecycle().stage() == v1::LIFECYCLE_STAGE_MQL) {
      ++moved_to_mql;
      EXPECT_FALSE(now.routing().team_id().empty()) << id;
    }
  }
  EXPECT_GT(moved_to_mql, 0);

  // Every lead whose stage, grade, priority, routing or SLA changed has
  // exactly one entry of the pass in the feed, by the system.
  std::map<std::string, int> entries;
  int stage_moves = 0;
  const std::vector<v1::Change> changes = AllChanges();
  for (size_t i = changes_before; i < changes.size(); ++i) {
    const v1::Change& change = changes[i];
    // A lead's entry may be followed by its account's.
    if (Has(change, v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED)) continue;
    ASSERT_TRUE(Has(change, v1::CHANGE_KIND_RESCORED));
    EXPECT_EQ(change.kinds(0), v1::CHANGE_KIND_RESCORED);
    EXPECT_EQ(change.actor(), v1::ACTOR_SYSTEM);
    EXPECT_EQ(change.playbook_number(), 2);
    ++entries[change.lead_id()];
    if (Has(change, v1::CHANGE_KIND_STAGE_MOVED)) {
      ++stage_moves;
      EXPECT_NE(change.previous_stage(), change.stage());
      EXPECT_EQ(change.stage(), Get(change.lead_id()).lifecycle().stage());
    }
  }
  EXPECT_EQ(static_cast<int64_t>(changes.size() - changes_before),
            pass.leads_changed());
  EXPECT_GE(stage_moves, moved_to_mql);
  for (const auto& [id, n] : entries) EXPECT_EQ(n, 1) << id;

  // Nothing is due any more: running again changes nothing.
  const v1::RescoreStatus again = RunPass();
  EXPECT_EQ(again.pass_number(), 2);
  EXPECT_EQ(AllChanges().size(), changes.size());
}

TEST_F(RescoreTest, RefreshRewritesOnlyLeadsThatCrossedSomething) {
  RunPass();
  const std::map<std::string, v1::Lead> stored = StoreLeads();
  std::map<std::string, v1::LeadRecord> before;
  for (const auto& [id, lead] : stored) before[id] = Get(id);
  const size_t changes_before = AllChanges().size();

  // Not due before the interval has passed since the last pass started.
  SetClock(absl::Now() + absl::Hours(1));
  EXPECT_EQ(RunPass().pass_number(), 1);

  // Ten weeks later, engagement has decayed.
  SetClock(absl::Now() + absl::Hours(24 * 70));
  const v1::RescoreStatus pass = RunPass();
  EXPECT_EQ(pass.pass_number(), 2);
  EXPECT_EQ(pass.reason(), v1::RESCORE_REASON_REFRESH);
  EXPECT_EQ(pass.state(), v1::RESCORE_STATE_DONE);
  EXPECT_EQ(pass.playbook_number(), 1);
  EXPECT_EQ(pass.leads_done(), kLeads);
  EXPECT_GT(pass.leads_written(), 0);
  EXPECT_LT(pass.leads_written(), kLeads);
  EXPECT_EQ(pass.leads_written(), pass.leads_changed());

  // One entry per lead written, saying what it crossed.
  std::map<std::string, v1::Change> entries;
  int decayed = 0;
  const std::vector<v1::Change> changes = AllChanges();
  for (size_t i = changes_before; i < changes.size(); ++i) {
    const v1::Change& change = changes[i];
    if (Has(change, v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED)) continue;
    EXPECT_EQ(change.kinds(0), v1::CHANGE_KIND_RESCORED);
    ASSERT_GT(change.kinds_size(), 1);
    EXPECT_TRUE(entries.emplace(change.lead_id(), change).second)
        << change.lead_id();
    if (Has(change, v1::CHANGE_KIND_THRESHOLD_CROSSED) ||
        Has(change, v1::CHANGE_KIND_PRIORITY_CHANGED)) {
      ++decayed;
    }
  }
  EXPECT_GT(decayed, 0);
  EXPECT_EQ(static_cast<int64_t>(entries.size()), pass.leads_changed());
  for (const auto& [id, lead] : stored) {
    const v1::LeadRecord now = Get(id);
    auto entry = entries.find(id);
    if (entry != entries.end()) {
      EXPECT_EQ(now.revision(), before[id].revision() + 1) << id;
      EXPECT_EQ(Has(entry->second, v1::CHANGE_KIND_THRESHOLD_CROSSED),
                now.score().grade() != before[id].score().grade())
          << id;
      EXPECT_EQ(Has(entry->second, v1::CHANGE_KIND_PRIORITY_CHANGED),
                now.score().priority() != before[id].score().priority())
          << id;
    } else {
      // Left as it was: same revision, same score.
      EXPECT_EQ(now.revision(), before[id].revision()) << id;
      EXPECT_EQ(now.score().total_score(), before[id].score().total_score())
          << id;
    }
  }
}

TEST_F(RescoreTest, StatusNeedsAToken) {
  v1::GetRescoreStatusResponse response;
  grpc::Status st = playbooks_->GetRescoreStatus(
      As("").get(), v1::GetRescoreStatusRequest(), &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace smarketing
