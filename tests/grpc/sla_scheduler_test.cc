// The change feed and the SLA scheduler end to end: a real server on a
// loopback port with its SQLite store, real gRPC clients, and the
// scheduler's clock moved by the test.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "core/playbook/playbook_loader.h"
#include "grpc_server/server.h"
#include "gtest/gtest.h"
#include "tests/grpc/sla_test_playbook.h"
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

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTokenFile(dir_.path() / "tokens");
    options_.listen = "127.0.0.1:0";
    options_.store_path = (dir_.path() / "store.db").string();
    options_.token_file = (dir_.path() / "tokens").string();
    // Passes run when the test says so (and once at start).
    options_.scheduler_tick = absl::Hours(24 * 365);
    options_.clock = [this] {
      absl::MutexLock lock(&clock_mu_);
      return clock_;
    };
    clock_ = absl::Now();
    WritePlaybook(AroundTheClockPlaybook());
  }

  void WritePlaybook(const v1::Playbook& playbook) {
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(playbook, &json).ok());
    const auto path = dir_.path() / "playbook.json";
    std::ofstream(path) << json;
    options_.demo_playbook = path.string();
  }

  void StartServer() {
    auto server = test_server::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    leads_ = v1::LeadService::NewStub(channel_);
    team_ = v1::TeamService::NewStub(channel_);
  }

  // Sets `paths` of `status` as the holder of `token`.
  grpc::Status SetStatus(const std::string& token,
                         const v1::MemberStatus& status,
                         std::initializer_list<const char*> paths,
                         v1::MemberStatus* out = nullptr) {
    v1::SetMemberStatusRequest request;
    *request.mutable_status() = status;
    for (const char* path : paths)
      request.mutable_update_mask()->add_paths(path);
    v1::SetMemberStatusResponse response;
    grpc::Status st =
        team_->SetMemberStatus(As(token).get(), request, &response);
    if (out != nullptr) *out = response.status();
    return st;
  }

  static v1::MemberStatus Paused(const std::string& id, bool paused = true) {
    v1::MemberStatus status;
    status.set_member_id(id);
    status.set_paused(paused);
    return status;
  }

  void StopServer() {
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
  }

  void SetClock(absl::Time t) {
    absl::MutexLock lock(&clock_mu_);
    clock_ = t;
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return test_server::As(token, std::chrono::seconds(60));
  }

  // An urgent MQL of the EMEA mid-market team: a CMO who asked for a demo.
  v1::LeadRecord UpsertHotLead(const std::string& id) {
    v1::UpsertLeadRequest request;
    v1::Lead& lead = *request.mutable_lead();
    lead.set_id(id);
    lead.set_job_title("CMO");
    lead.set_seniority(v1::SENIORITY_C_LEVEL);
    auto* company = lead.mutable_company();
    company->set_domain(absl::StrCat(id, ".example"));
    company->set_industry("software");
    company->set_employee_count(250);
    company->set_country("FR");
    company->set_region("EMEA");
    lead.mutable_consent()->set_do_not_call(true);
    auto* event = lead.add_events();
    event->set_id(absl::StrCat(id, "-demo"));
    event->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
    TimeToProto(absl::Now() - absl::Minutes(5), event->mutable_occurred_at());
    v1::UpsertLeadResponse response;
    grpc::Status st =
        leads_->UpsertLead(As(kMarketing).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.lead();
  }

  v1::LeadRecord Get(const std::string& id) {
    v1::GetLeadRequest request;
    request.set_lead_id(id);
    v1::GetLeadResponse response;
    grpc::Status st = leads_->GetLead(As(kReader).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.lead();
  }

  // Every change of the feed about `lead_id`.
  std::vector<v1::Change> ChangesOf(const std::string& lead_id) {
    std::vector<v1::Change> out;
    v1::ListChangesRequest request;
    request.set_limit(1000);
    for (;;) {
      v1::ListChangesResponse response;
      grpc::Status st =
          leads_->ListChanges(As(kReader).get(), request, &response);
      EXPECT_TRUE(st.ok()) << st.error_message();
      for (const v1::Change& c : response.changes()) {
        if (c.lead_id() == lead_id) out.push_back(c);
      }
      if (response.changes().empty()) return out;
      request.set_after_cursor(response.next_cursor());
    }
  }

  static bool Has(const v1::Change& change, v1::ChangeKind kind) {
    for (int k : change.kinds()) {
      if (k == kind) return true;
    }
    return false;
  }

  absl::Time MqlAt(const v1::LeadRecord& lead) {
    return TimeFromProto(lead.lifecycle().mql_at());
  }

  TempDir dir_;
  ServerOptions options_;
  absl::Mutex clock_mu_;
  absl::Time clock_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::TeamService::Stub> team_;
};

TEST_F(SchedulerTest, CarriesOutEveryStepKindOnceInOrder) {
  StartServer();
  const v1::LeadRecord created = UpsertHotLead("lead-late");
  ASSERT_EQ(created.lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);
  ASSERT_EQ(created.score().priority(), v1::PRIORITY_URGENT);
  const std::string first_owner = created.routing().owner_id();
  ASSERT_FALSE(first_owner.empty());
  const absl::Time mql = MqlAt(created);

  // Half of the first-touch hour: at risk, nothing to carry out yet.
  SetClock(mql + absl::Minutes(31));
  SchedulerPass pass = server_->scheduler()->RunOnce();
  EXPECT_EQ(pass.changed, 1);
  v1::LeadRecord lead = Get("lead-late");
  EXPECT_EQ(lead.lifecycle().sla_actions_size(), 0);
  std::vector<v1::Change> changes = ChangesOf("lead-late");
  ASSERT_FALSE(changes.empty());
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_SLA_AT_RISK));
  EXPECT_EQ(changes.back().actor(), v1::ACTOR_SYSTEM);

  // Breached: the owner is reminded.
  SetClock(mql + absl::Minutes(62));
  server_->scheduler()->RunOnce();
  lead = Get("lead-late");
  ASSERT_EQ(lead.lifecycle().sla_actions_size(), 1);
  EXPECT_EQ(lead.lifecycle().sla_actions(0).action(),
            v1::ESCALATION_ACTION_REMIND_OWNER);
  EXPECT_EQ(lead.lifecycle().sla_actions(0).owner_id(), first_owner);
  EXPECT_EQ(lead.lifecycle().sla_actions(0).actor_id(), "smarketing");
  changes = ChangesOf("lead-late");
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_SLA_BREACHED));
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_SLA_ESCALATED));
  EXPECT_EQ(changes.back().escalation_action(),
            v1::ESCALATION_ACTION_REMIND_OWNER);
  EXPECT_TRUE(changes.back().consent().do_not_call());

  // A pass at the same time again does nothing.
  const int64_t revision = lead.revision();
  pass = server_->scheduler()->RunOnce();
  EXPECT_EQ(pass.changed, 0);
  EXPECT_EQ(Get("lead-late").revision(), revision);

  // 30 minutes after the breach: reassigned to another member.
  SetClock(mql + absl::Minutes(92));
  server_->scheduler()->RunOnce();
  lead = Get("lead-late");
  ASSERT_EQ(lead.lifecycle().sla_actions_size(), 2);
  const v1::SlaAction& reassign = lead.lifecycle().sla_actions(1);
  EXPECT_EQ(reassign.action(), v1::ESCALATION_ACTION_REASSIGN);
  EXPECT_EQ(reassign.owner_id(), first_owner);
  EXPECT_FALSE(reassign.new_owner_id().empty());
  EXPECT_NE(lead.routing().owner_id(), first_owner);
  EXPECT_EQ(lead.routing().owner_id(), reassign.new_owner_id());
  changes = ChangesOf("lead-late");
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_REASSIGNED));
  EXPECT_EQ(changes.back().previous_owner_id(), first_owner);

  // An hour after: the team's manager.
  SetClock(mql + absl::Minutes(122));
  server_->scheduler()->RunOnce();
  lead = Get("lead-late");
  ASSERT_EQ(lead.lifecycle().sla_actions_size(), 3);
  EXPECT_EQ(lead.lifecycle().sla_actions(2).action(),
            v1::ESCALATION_ACTION_ESCALATE_TO_MANAGER);
  EXPECT_EQ(lead.lifecycle().sla_actions(2).manager_id(),
            "usr-emea-sales-manager");
  EXPECT_EQ(ChangesOf("lead-late").back().manager_id(),
            "usr-emea-sales-manager");

  // Two hours after: recycled to nurture with the reason code, by the
  // system, in the stage history.
  SetClock(mql + absl::Minutes(182));
  server_->scheduler()->RunOnce();
  lead = Get("lead-late");
  ASSERT_EQ(lead.lifecycle().sla_actions_size(), 4);
  EXPECT_EQ(lead.lifecycle().sla_actions(3).action(),
            v1::ESCALATION_ACTION_RECYCLE);
  EXPECT_EQ(lead.lifecycle().sla_actions(3).reason_code(), "sla_breach");
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_NURTURE);
  const v1::StageTransition& last = *lead.lifecycle().history().rbegin();
  EXPECT_EQ(last.to(), v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(last.actor(), v1::ACTOR_SYSTEM);
  EXPECT_EQ(last.reason_code(), "sla_breach");
  changes = ChangesOf("lead-late");
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_STAGE_MOVED));
  EXPECT_EQ(changes.back().stage(), v1::LIFECYCLE_STAGE_NURTURE);

  // Out of the SLA: nothing more, ever.
  SetClock(mql + absl::Hours(48));
  pass = server_->scheduler()->RunOnce();
  EXPECT_EQ(pass.changed, 0);
  EXPECT_EQ(Get("lead-late").lifecycle().sla_actions_size(), 4);
}

TEST_F(SchedulerTest, CatchesUpAfterDowntimeWithEveryStepOnce) {
  StartServer();
  const absl::Time mql = MqlAt(UpsertHotLead("lead-a"));
  UpsertHotLead("lead-b");
  StopServer();

  // The service was down for three hours: at start it carries out the four
  // steps that fell due meanwhile, in order, each once.
  SetClock(mql + absl::Hours(3) + absl::Minutes(10));
  StartServer();
  // The first pass runs on the scheduler's thread as the server starts.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (Get("lead-b").lifecycle().stage() != v1::LIFECYCLE_STAGE_NURTURE &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  for (const std::string id : {"lead-a", "lead-b"}) {
    const v1::LeadRecord lead = Get(id);
    ASSERT_EQ(lead.lifecycle().sla_actions_size(), 4) << id;
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(lead.lifecycle().sla_actions(i).step(), i) << id;
    }
    EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_NURTURE) << id;
    int escalated = 0;
    for (const v1::Change& change : ChangesOf(id)) {
      escalated += Has(change, v1::CHANGE_KIND_SLA_ESCALATED);
    }
    EXPECT_EQ(escalated, 4) << id;
  }
  // Another restart later changes nothing.
  StopServer();
  SetClock(mql + absl::Hours(30));
  StartServer();
  EXPECT_EQ(server_->scheduler()->RunOnce().changed, 0);
  EXPECT_EQ(Get("lead-a").lifecycle().sla_actions_size(), 4);
}

TEST_F(SchedulerTest, NoStepForALeadThatMovedOnInTime) {
  StartServer();
  const v1::LeadRecord created = UpsertHotLead("lead-worked");
  const absl::Time mql = MqlAt(created);
  v1::RecordFirstTouchRequest touch;
  touch.set_lead_id("lead-worked");
  v1::RecordFirstTouchResponse touched;
  ASSERT_TRUE(leads_->RecordFirstTouch(As(kSales).get(), touch, &touched).ok());
  v1::RecordFeedbackRequest feedback;
  feedback.mutable_feedback()->set_lead_id("lead-worked");
  TimeToProto(absl::Now(), feedback.mutable_feedback()->mutable_at());
  feedback.mutable_feedback()->set_actor_id("usr-1001");
  feedback.mutable_feedback()->mutable_accepted();
  v1::RecordFeedbackResponse accepted;
  grpc::Status st =
      leads_->RecordFeedback(As(kSales).get(), feedback, &accepted);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(accepted.lead().lifecycle().stage(), v1::LIFECYCLE_STAGE_SAL);

  SetClock(mql + absl::Hours(6));
  server_->scheduler()->RunOnce();
  const v1::LeadRecord lead = Get("lead-worked");
  EXPECT_EQ(lead.lifecycle().sla_actions_size(), 0);
  EXPECT_EQ(lead.lifecycle().stage(), v1::LIFECYCLE_STAGE_SAL);
  EXPECT_EQ(lead.routing().owner_id(), created.routing().owner_id());
  const std::vector<v1::Change> changes = ChangesOf("lead-worked");
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_FEEDBACK_RECORDED));
  EXPECT_EQ(changes.back().actor(), v1::ACTOR_SALES);
  EXPECT_EQ(changes.back().actor_id(), "sam");
}

TEST_F(SchedulerTest, AssignsQueuedLeadsWhenAnOwnerComesBack) {
  // Every sales member of every team is away for the next hour: a new MQL
  // waits in a team's queue.
  v1::Playbook playbook = AroundTheClockPlaybook();
  const absl::Time back = absl::Now() + absl::Hours(1);
  for (v1::Team& team : *playbook.mutable_routing()->mutable_teams()) {
    for (v1::TeamMember& member : *team.mutable_members()) {
      v1::TimeInterval* away = member.add_out_of_office();
      TimeToProto(absl::Now() - absl::Hours(24), away->mutable_start());
      TimeToProto(back, away->mutable_end());
    }
  }
  WritePlaybook(playbook);
  StartServer();
  const v1::LeadRecord created = UpsertHotLead("lead-queued");
  ASSERT_EQ(created.lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);
  ASSERT_FALSE(created.routing().team_id().empty());
  ASSERT_TRUE(created.routing().owner_id().empty());

  SetClock(back - absl::Minutes(10));
  SchedulerPass pass = server_->scheduler()->RunOnce();
  EXPECT_EQ(pass.assigned, 0);
  EXPECT_TRUE(Get("lead-queued").routing().owner_id().empty());

  SetClock(back + absl::Minutes(1));
  pass = server_->scheduler()->RunOnce();
  EXPECT_EQ(pass.assigned, 1);
  const v1::LeadRecord lead = Get("lead-queued");
  EXPECT_FALSE(lead.routing().owner_id().empty());
  // The SLA still counts from when the lead became MQL.
  EXPECT_EQ(MqlAt(lead), MqlAt(created));
  const std::vector<v1::Change> changes = ChangesOf("lead-queued");
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_ROUTED));
  EXPECT_EQ(changes.back().owner_id(), lead.routing().owner_id());
}

TEST_F(SchedulerTest, OffMeansNoScheduler) {
  options_.scheduler = false;
  StartServer();
  EXPECT_EQ(server_->scheduler(), nullptr);
}

// 10,000 changes written by concurrent clients while a consumer follows
// the feed, dropping its stream at random points and resuming from the last
// cursor it received (through WatchChanges or ListChanges pages): it sees
// every change exactly once, in order.
TEST_F(SchedulerTest, FeedResumesWithoutGapOrDuplicate) {
  options_.scheduler = false;
  StartServer();
  constexpr int kWriters = 8;
  constexpr int kChanges = 10000;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kChanges; i += kWriters) {
        v1::UpsertLeadRequest request;
        request.mutable_lead()->set_id(absl::StrCat("feed-", i));
        request.mutable_lead()->mutable_company()->set_employee_count(10);
        v1::UpsertLeadResponse response;
        if (!leads_->UpsertLead(As(kMarketing).get(), request, &response)
                 .ok()) {
          ++failures;
        }
      }
    });
  }

  std::mt19937 random(7);
  std::vector<int64_t> cursors;
  absl::flat_hash_map<std::string, int> seen;
  int64_t cursor = 0;
  int resumes = 0;
  const absl::Time give_up = absl::Now() + absl::Minutes(5);
  while (static_cast<int>(cursors.size()) < kChanges && absl::Now() < give_up) {
    ++resumes;
    auto record = [&](const v1::Change& change) {
      cursors.push_back(change.cursor());
      ++seen[change.lead_id()];
      cursor = change.cursor();
    };
    if (resumes % 3 == 0) {
      v1::ListChangesRequest request;
      request.set_after_cursor(cursor);
      request.set_limit(1 + random() % 1000);
      v1::ListChangesResponse response;
      ASSERT_TRUE(
          leads_->ListChanges(As(kReader).get(), request, &response).ok());
      for (const v1::Change& change : response.changes()) record(change);
      EXPECT_EQ(response.next_cursor(), cursor);
      continue;
    }
    // A consumer that disconnects after a random number of changes.
    const int take = 1 + random() % 1500;
    auto context = As(kReader);
    v1::WatchChangesRequest request;
    request.set_after_cursor(cursor);
    auto stream = leads_->WatchChanges(context.get(), request);
    v1::Change change;
    for (int n = 0; n < take && static_cast<int>(cursors.size()) < kChanges &&
                    stream->Read(&change);
         ++n) {
      record(change);
    }
    context->TryCancel();
    while (stream->Read(&change)) {
    }
    stream->Finish().IgnoreError();
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(static_cast<int>(cursors.size()), kChanges);
  EXPECT_GT(resumes, 10);
  for (size_t i = 1; i < cursors.size(); ++i) {
    ASSERT_LT(cursors[i - 1], cursors[i]) << "at " << i;
  }
  EXPECT_EQ(static_cast<int>(seen.size()), kChanges);
  for (const auto& [id, n] : seen) ASSERT_EQ(n, 1) << id;
  // Nothing is left after the last cursor.
  v1::ListChangesRequest rest;
  rest.set_after_cursor(cursor);
  v1::ListChangesResponse response;
  ASSERT_TRUE(leads_->ListChanges(As(kReader).get(), rest, &response).ok());
  EXPECT_EQ(response.changes_size(), 0);
}

TEST_F(SchedulerTest, FeedRefusesBadRequests) {
  options_.scheduler = false;
  StartServer();
  v1::ListChangesRequest request;
  request.set_after_cursor(-1);
  v1::ListChangesResponse response;
  grpc::Status st = leads_->ListChanges(As(kReader).get(), request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("after_cursor"), std::string::npos);
  request.set_after_cursor(0);
  request.set_limit(1001);
  st = leads_->ListChanges(As(kReader).get(), request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("limit"), std::string::npos);
  grpc::ClientContext anonymous;
  st = leads_->ListChanges(&anonymous, {}, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Erasure is in the feed, with no data of the lead but its id.
  UpsertHotLead("lead-gone");
  v1::EraseLeadRequest erase;
  erase.set_lead_id("lead-gone");
  v1::EraseLeadResponse erased;
  ASSERT_TRUE(leads_->EraseLead(As(kAdmin).get(), erase, &erased).ok());
  // The lead's own entries: an erasure may change its account's score too.
  std::vector<v1::Change> changes;
  for (const v1::Change& change : ChangesOf("lead-gone")) {
    if (!Has(change, v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED)) {
      changes.push_back(change);
    }
  }
  ASSERT_FALSE(changes.empty());
  EXPECT_TRUE(Has(changes.front(), v1::CHANGE_KIND_LEAD_CREATED));
  EXPECT_TRUE(Has(changes.back(), v1::CHANGE_KIND_LEAD_ERASED));
  EXPECT_EQ(changes.back().actor_id(), "ada");
}

// People change, the Playbook does not: routing honours a pause, an
// absence, a capacity and a team change from the next decision on.
TEST_F(SchedulerTest, RoutingHonoursPeopleChangesAtOnce) {
  options_.scheduler = false;
  StartServer();
  // usr-1001 is away from now on: round-robin skips them.
  v1::MemberStatus away;
  away.set_member_id("usr-1001");
  v1::TimeInterval* interval = away.add_out_of_office();
  TimeToProto(absl::Now() - absl::Minutes(1), interval->mutable_start());
  TimeToProto(absl::Now() + absl::Hours(24), interval->mutable_end());
  v1::MemberStatus stored;
  grpc::Status st = SetStatus(kMarketing, away, {"out_of_office"}, &stored);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(stored.updated_by(), "mia");
  for (int i = 0; i < 4; ++i) {
    const v1::LeadRecord lead = UpsertHotLead(absl::StrCat("rr-", i));
    EXPECT_EQ(lead.routing().team_id(), "emea-midmarket");
    EXPECT_NE(lead.routing().owner_id(), "usr-1001");
    EXPECT_FALSE(lead.routing().owner_id().empty());
  }

  // The other two pause as well: the team cannot take the lead, and it
  // goes to the fallback team.
  ASSERT_TRUE(SetStatus(kMarketing, Paused("usr-1002"), {"paused"}).ok());
  ASSERT_TRUE(SetStatus(kMarketing, Paused("usr-1003"), {"paused"}).ok());
  v1::LeadRecord lead = UpsertHotLead("fallback");
  EXPECT_EQ(lead.routing().team_id(), "global-inside-sales");
  EXPECT_NE(lead.routing().explanation().find("paused"), std::string::npos)
      << lead.routing().explanation();

  // A newcomer joins the team (admins only): they take the next lead.
  v1::MemberStatus newcomer;
  newcomer.set_member_id("usr-1999");
  newcomer.mutable_teams()->add_team_ids("emea-midmarket");
  st = SetStatus(kMarketing, newcomer, {"teams"});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  st = SetStatus(kAdmin, newcomer, {"teams"});
  ASSERT_TRUE(st.ok()) << st.error_message();
  lead = UpsertHotLead("newcomer");
  EXPECT_EQ(lead.routing().team_id(), "emea-midmarket");
  EXPECT_EQ(lead.routing().owner_id(), "usr-1999");

  // The audit log: who changed what, newest first.
  v1::GetMemberStatusRequest get;
  get.set_member_id("usr-1002");
  ASSERT_TRUE(SetStatus(kAdmin, Paused("usr-1002", false), {"paused"}).ok());
  v1::GetMemberStatusResponse got;
  ASSERT_TRUE(team_->GetMemberStatus(As(kReader).get(), get, &got).ok());
  EXPECT_FALSE(got.status().paused());
  ASSERT_EQ(got.changes_size(), 2);
  EXPECT_EQ(got.changes(0).status().updated_by(), "ada");
  EXPECT_FALSE(got.changes(0).status().paused());
  EXPECT_EQ(got.changes(1).status().updated_by(), "mia");
  EXPECT_TRUE(got.changes(1).status().paused());
  EXPECT_EQ(got.changes(1).fields(0), "paused");
}

TEST_F(SchedulerTest, PeopleChangesRefuseBadInputAndChangeNothing) {
  options_.scheduler = false;
  StartServer();
  auto refused = [&](const v1::MemberStatus& status,
                     std::initializer_list<const char*> paths,
                     const std::string& field) {
    grpc::Status st = SetStatus(kAdmin, status, paths);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_NE(st.error_message().find(field), std::string::npos)
        << st.error_message();
  };
  refused(Paused(""), {"paused"}, "status.member_id");
  refused(Paused("usr-nobody"), {"paused"}, "status.member_id");
  refused(Paused("usr-1001"), {}, "update_mask");
  refused(Paused("usr-1001"), {"holidays"}, "update_mask");
  v1::MemberStatus backwards;
  backwards.set_member_id("usr-1001");
  v1::TimeInterval* interval = backwards.add_out_of_office();
  TimeToProto(absl::Now(), interval->mutable_start());
  TimeToProto(absl::Now() - absl::Hours(1), interval->mutable_end());
  refused(backwards, {"out_of_office"}, "status.out_of_office[0].end");
  v1::MemberStatus capacity;
  capacity.set_member_id("usr-1201");
  capacity.set_max_open_leads(-1);
  refused(capacity, {"max_open_leads"}, "status.max_open_leads");
  v1::MemberStatus team;
  team.set_member_id("usr-1001");
  team.mutable_teams()->add_team_ids("no-such-team");
  refused(team, {"teams"}, "status.teams.team_ids[0]");
  grpc::ClientContext anonymous;
  v1::SetMemberStatusResponse response;
  EXPECT_EQ(team_->SetMemberStatus(&anonymous, {}, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(SetStatus(kSales, Paused("usr-1001"), {"paused"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::GetMemberStatusRequest get;
  get.set_member_id("usr-1001");
  v1::GetMemberStatusResponse got;
  ASSERT_TRUE(team_->GetMemberStatus(As(kReader).get(), get, &got).ok());
  EXPECT_FALSE(got.status().paused());
  EXPECT_EQ(got.changes_size(), 0);
  // Routing is as the Playbook says.
  EXPECT_FALSE(UpsertHotLead("as-before").routing().owner_id().empty());
}

// Everyone is paused: a new MQL waits in the queue until someone is
// unpaused, and the scheduler gives it to them at its next pass.
TEST_F(SchedulerTest, SchedulerAssignsQueuedLeadWhenAMemberIsUnpaused) {
  StartServer();
  for (const char* id : {"usr-1001", "usr-1002", "usr-1003", "usr-1101",
                         "usr-1102", "usr-1103", "usr-1201", "usr-1202"}) {
    ASSERT_TRUE(SetStatus(kMarketing, Paused(id), {"paused"}).ok()) << id;
  }
  const v1::LeadRecord created = UpsertHotLead("waiting");
  ASSERT_TRUE(created.routing().owner_id().empty());
  SetClock(absl::Now());
  EXPECT_EQ(server_->scheduler()->RunOnce().assigned, 0);
  ASSERT_TRUE(
      SetStatus(kMarketing, Paused("usr-1202", false), {"paused"}).ok());
  EXPECT_EQ(server_->scheduler()->RunOnce().assigned, 1);
  EXPECT_EQ(Get("waiting").routing().owner_id(), "usr-1202");
}

}  // namespace
}  // namespace smarketing
