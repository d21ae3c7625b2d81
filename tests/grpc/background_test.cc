// The service's background work driven for real, concurrently, without
// gRPC: the SLA scheduler ticking, a rescoring pass, change feed followers
// and webhook delivery to a loopback HTTP receiver, each while writers
// write leads into a real SQLite store, and their starts and stops. The
// suite's ThreadSanitizer stage runs this binary (scripts/test.sh): it
// links no gRPC, whose uninstrumented library TSan cannot check.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
#include "core/delivery/webhook_policy.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "grpc_server/change_feed.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/playbooks.h"
#include "grpc_server/rescorer.h"
#include "grpc_server/scheduler.h"
#include "grpc_server/webhooks.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "tests/grpc/sla_test_playbook.h"

namespace smarketing {
namespace {

// An urgent MQL: a CMO of a mid-market software company in EMEA who asked
// for a demo five minutes before `now`.
v1::Lead HotLead(const std::string& id, absl::Time now) {
  v1::Lead lead;
  lead.set_id(id);
  lead.set_job_title("CMO");
  lead.set_seniority(v1::SENIORITY_C_LEVEL);
  v1::Company* company = lead.mutable_company();
  company->set_domain(absl::StrCat(id, ".example"));
  company->set_industry("software");
  company->set_employee_count(250);
  company->set_country("FR");
  company->set_region("EMEA");
  v1::Event* event = lead.add_events();
  event->set_id(absl::StrCat(id, "-demo"));
  event->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
  TimeToProto(now - absl::Minutes(5), event->mutable_occurred_at());
  return lead;
}

// A page visit of `lead_id`, `n`-th of its kind.
google::protobuf::RepeatedPtrField<v1::Event> Visit(const std::string& lead_id,
                                                    int n, absl::Time now) {
  google::protobuf::RepeatedPtrField<v1::Event> events;
  v1::Event* event = events.Add();
  event->set_id(absl::StrCat(lead_id, "-visit-", n));
  event->set_type(v1::EVENT_TYPE_PAGE_VIEW);
  TimeToProto(now - absl::Minutes(1), event->mutable_occurred_at());
  return events;
}

// Runs `body(i)` on `n` threads at once and waits for them.
template <typename F>
void OnThreads(int n, F body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(body, i);
  for (std::thread& t : threads) t.join();
}

// Waits up to `limit` for `done`; false when it never held.
template <typename F>
bool WaitFor(F done, absl::Duration limit = absl::Seconds(120)) {
  const absl::Time deadline = absl::Now() + limit;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// A clock the test moves while the components read it from their threads.
class TestClock {
 public:
  explicit TestClock(absl::Time start) : now_(start) {}
  absl::Time Now() {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }
  std::function<absl::Time()> Function() {
    return [this] { return Now(); };
  }

 private:
  std::mutex mu_;
  absl::Time now_;
};

class BackgroundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "smarketing-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    auto store = OpenSqliteStore((dir_ / "store.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    playbooks_ = std::make_unique<Playbooks>(store_.get());
    feed_ = std::make_unique<ChangeFeed>(store_.get());
    desk_ =
        std::make_unique<LeadDesk>(store_.get(), playbooks_.get(), feed_.get());
    Publish(AroundTheClockPlaybook());
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  int64_t Publish(const v1::Playbook& playbook) {
    auto engine = LeadEngine::Create(playbook);
    EXPECT_TRUE(engine.ok()) << engine.status();
    auto record = playbooks_->Publish(*std::move(engine), "test", true);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.ok() ? record->number : 0;
  }

  StoredLead Lead(const std::string& id) {
    std::optional<StoredLead> lead;
    absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
      auto found = txn.GetLead(id);
      if (!found.ok()) return found.status();
      lead = *std::move(found);
      return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(lead.has_value()) << id;
    return lead.value_or(StoredLead());
  }

  int64_t LatestCursor() {
    int64_t latest = 0;
    absl::Status st = store_->Read([&](StoreTransaction& txn) -> absl::Status {
      auto cursor = txn.LatestChangeCursor();
      if (!cursor.ok()) return cursor.status();
      latest = *cursor;
      return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    return latest;
  }

  // Every change's cursor after `after`, oldest first.
  std::vector<int64_t> CursorsAfter(int64_t after) {
    std::vector<int64_t> out;
    for (;;) {
      auto page = store_->ListChanges(after, 500);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok() || page->empty()) return out;
      for (const v1::Change& change : *page) out.push_back(change.cursor());
      after = page->back().cursor();
    }
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Playbooks> playbooks_;
  std::unique_ptr<ChangeFeed> feed_;
  std::unique_ptr<LeadDesk> desk_;
};

// The scheduler's thread ticks, and a caller runs passes too, while
// writers create urgent MQLs and record events on them and the clock
// moves past every escalation: each lead gets each step once, in order.
TEST_F(BackgroundTest, SchedulerTicksWhileWritersWrite) {
  TestClock clock(absl::FromUnixSeconds(1'790'000'000));
  Scheduler scheduler(store_.get(), desk_.get(), clock.Function());
  scheduler.Start(absl::Milliseconds(2));
  constexpr int kWriters = 3;
  constexpr int kLeadsEach = 12;
  std::atomic<int> writing{kWriters};
  std::atomic<int64_t> failed{0};
  std::thread passes([&] {
    while (writing.load() > 0) failed += scheduler.RunOnce().failed;
  });
  std::thread ticks([&] {
    while (writing.load() > 0) {
      clock.Advance(absl::Minutes(1));
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  OnThreads(kWriters, [&](int w) {
    for (int i = 0; i < kLeadsEach; ++i) {
      const std::string id = absl::StrCat("lead-", w, "-", i);
      auto created = desk_->Upsert(HotLead(id, clock.Now()), 0, clock.Now());
      ASSERT_TRUE(created.ok()) << created.status();
      auto visited =
          desk_->RecordEvents(id, Visit(id, 1, clock.Now()), clock.Now());
      ASSERT_TRUE(visited.ok()) << visited.status();
    }
    --writing;
  });
  passes.join();
  ticks.join();
  // Past every lead's last step; the thread or this last pass catches up.
  clock.Advance(absl::Hours(4));
  const SchedulerPass last = scheduler.RunOnce();
  scheduler.Stop();
  EXPECT_EQ(failed.load() + last.failed, 0);

  const std::vector<v1::EscalationAction> steps = {
      v1::ESCALATION_ACTION_REMIND_OWNER, v1::ESCALATION_ACTION_REASSIGN,
      v1::ESCALATION_ACTION_ESCALATE_TO_MANAGER, v1::ESCALATION_ACTION_RECYCLE};
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kLeadsEach; ++i) {
      const std::string id = absl::StrCat("lead-", w, "-", i);
      const StoredLead lead = Lead(id);
      std::vector<v1::EscalationAction> done;
      for (const v1::SlaAction& action : lead.lifecycle.sla_actions()) {
        done.push_back(action.action());
      }
      EXPECT_EQ(done, steps) << id;
      EXPECT_EQ(lead.lifecycle.stage(), v1::LIFECYCLE_STAGE_NURTURE) << id;
    }
  }
  auto due = store_->ListSlaDue(clock.Now(), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_TRUE(due->empty());
}

// A rescoring pass, in small batches, while writers write, readers read, a
// caller runs the rescorer too, and another version is activated during
// the pass: the latest version's pass ends with every lead scored by it.
TEST_F(BackgroundTest, RescoringPassWhileWritersWriteAndReadersRead) {
  const absl::Time now = absl::Now();
  constexpr int kLeads = 120;
  for (int i = 0; i < kLeads; ++i) {
    ASSERT_TRUE(
        desk_->Upsert(HotLead(absl::StrCat("old-", i), now), 0, now).ok());
  }
  TestClock clock(now);
  Rescorer rescorer(store_.get(), playbooks_.get(), desk_.get(),
                    clock.Function(),
                    {.batch = 7, .tick = absl::Milliseconds(2)});
  rescorer.Start();
  v1::Playbook second = AroundTheClockPlaybook();
  second.mutable_metadata()->set_version("second");
  Publish(second);
  rescorer.Wake();

  std::atomic<bool> done{false};
  std::thread caller([&] {
    while (!done.load()) {
      auto run = rescorer.RunOnce();
      EXPECT_TRUE(run.ok() || absl::IsAborted(run.status())) << run.status();
    }
  });
  std::thread readers([&] {
    while (!done.load()) {
      auto leads = store_->ListLeads(LeadFilter(), "", 50);
      EXPECT_TRUE(leads.ok()) << leads.status();
      EXPECT_TRUE(playbooks_->Get(0).ok());
    }
  });
  OnThreads(2, [&](int w) {
    for (int i = 0; i < 20; ++i) {
      const std::string id = absl::StrCat("new-", w, "-", i);
      ASSERT_TRUE(desk_->Upsert(HotLead(id, now), 0, now).ok());
      const std::string old = absl::StrCat("old-", (w * 20 + i) % kLeads);
      ASSERT_TRUE(desk_->RecordEvents(old, Visit(old, i, now), now).ok());
    }
  });
  v1::Playbook third = second;
  third.mutable_metadata()->set_version("third");
  const int64_t last = Publish(third);
  rescorer.Wake();
  auto latest_pass = [&]() -> std::optional<v1::RescoreStatus> {
    std::optional<v1::RescoreStatus> latest;
    EXPECT_TRUE(store_
                    ->Read([&](StoreTransaction& txn) -> absl::Status {
                      auto stored = txn.GetLatestRescore();
                      if (!stored.ok()) return stored.status();
                      latest = *std::move(stored);
                      return absl::OkStatus();
                    })
                    .ok());
    return latest;
  };
  EXPECT_TRUE(WaitFor([&] {
    auto pass = latest_pass();
    return pass && pass->playbook_number() == last &&
           pass->state() == v1::RESCORE_STATE_DONE;
  }));
  done = true;
  caller.join();
  readers.join();
  rescorer.Stop();

  const std::optional<v1::RescoreStatus> pass = latest_pass();
  ASSERT_TRUE(pass.has_value());
  EXPECT_EQ(pass->leads_failed(), 0);
  EXPECT_GE(pass->leads_done(), kLeads + 40);
  auto leads = store_->ListLeads(LeadFilter(), "", 0);
  ASSERT_TRUE(leads.ok());
  ASSERT_EQ(leads->size(), kLeads + 40);
  for (const StoredLead& lead : *leads) {
    EXPECT_EQ(lead.score.playbook_version(), "acme-analytics-b2b@third")
        << lead.lead.id();
  }
}

// A HotLead with no company domain: it belongs to no account, so each
// write appends exactly one change, whatever an account's score does.
v1::Lead LeadWithoutAccount(const std::string& id, absl::Time now) {
  v1::Lead lead = HotLead(id, now);
  lead.mutable_company()->clear_domain();
  return lead;
}

// Followers of the change feed, waiting for commits with a poll longer
// than the test takes, while writers append: every follower gets every
// change once, in order, woken by each commit; one that refuses a change
// stops there.
TEST_F(BackgroundTest, FeedFollowersSeeEveryChangeOnceInOrder) {
  const absl::Time now = absl::Now();
  const int64_t start = LatestCursor();
  constexpr int kFollowers = 4;
  constexpr int kRefuseAfter = 25;
  std::atomic<bool> cancelled{false};
  std::vector<std::vector<int64_t>> seen(kFollowers + 1);
  // The last cursor each follower got, read while it follows.
  std::vector<std::atomic<int64_t>> last(kFollowers + 1);
  std::vector<absl::StatusOr<ChangeFeed::Followed>> ended(
      kFollowers + 1, absl::UnknownError("not ended"));
  std::vector<std::thread> followers;
  for (int f = 0; f <= kFollowers; ++f) {
    followers.emplace_back([&, f] {
      // The last one refuses the change after kRefuseAfter.
      const bool refuses = f == kFollowers;
      ended[f] = feed_->Follow(
          start, /*batch=*/8, absl::Seconds(60),
          [&] { return cancelled.load(); },
          [&](const v1::Change& change) {
            if (refuses && seen[f].size() == kRefuseAfter) return false;
            seen[f].push_back(change.cursor());
            last[f] = change.cursor();
            return true;
          });
    });
  }
  OnThreads(3, [&](int w) {
    for (int i = 0; i < 15; ++i) {
      const std::string id = absl::StrCat("lead-", w, "-", i);
      ASSERT_TRUE(desk_->Upsert(LeadWithoutAccount(id, now), 0, now).ok());
      ASSERT_TRUE(desk_->RecordEvents(id, Visit(id, i, now), now).ok());
    }
  });
  const std::vector<int64_t> all = CursorsAfter(start);
  ASSERT_EQ(all.size(), 90u);
  // Each follower reaches the last change well before its poll: a commit
  // wakes every one of them, not only one.
  EXPECT_TRUE(WaitFor(
      [&] {
        for (int f = 0; f < kFollowers; ++f) {
          if (last[f].load() != all.back()) return false;
        }
        return true;
      },
      absl::Seconds(20)));
  cancelled = true;
  // The followers waiting for a commit wake at the next one.
  ASSERT_TRUE(
      desk_->RecordEvents("lead-0-0", Visit("lead-0-0", 99, now), now).ok());
  for (std::thread& t : followers) t.join();
  for (int f = 0; f < kFollowers; ++f) {
    ASSERT_TRUE(ended[f].ok()) << ended[f].status();
    EXPECT_FALSE(ended[f]->refused);
    ASSERT_GE(seen[f].size(), all.size()) << "follower " << f;
    EXPECT_EQ(
        std::vector<int64_t>(seen[f].begin(), seen[f].begin() + all.size()),
        all)
        << "follower " << f;
    EXPECT_EQ(ended[f]->sent, static_cast<int64_t>(seen[f].size()));
  }
  ASSERT_TRUE(ended[kFollowers].ok());
  EXPECT_TRUE(ended[kFollowers]->refused);
  EXPECT_EQ(ended[kFollowers]->sent, kRefuseAfter);
  EXPECT_EQ(seen[kFollowers],
            std::vector<int64_t>(all.begin(), all.begin() + kRefuseAfter));
}

// What a loopback receiver got: per subscription, the cursors of the
// deliveries it acknowledged, in the order it acknowledged them.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& request,
                                 httplib::Response& response) {
      response.status = Handle(request);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Stop before the loop runs would not stop it.
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  std::string url() const {
    return absl::StrCat("http://127.0.0.1:", port_, "/hook");
  }
  void AddSecret(const std::string& id, const std::string& secret) {
    std::lock_guard<std::mutex> lock(mu_);
    secrets_[id] = secret;
  }
  std::vector<int64_t> Acknowledged(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_[id];
  }
  int refused() {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }
  int bad_signatures() {
    std::lock_guard<std::mutex> lock(mu_);
    return bad_signatures_;
  }

 private:
  // Refuses the first attempt at every fifth change, to make the deliverer
  // retry; checks every signature.
  int Handle(const httplib::Request& request) {
    const std::string delivery =
        request.get_header_value("X-Smarketing-Delivery");
    const size_t dash = delivery.rfind('-');
    int64_t cursor = 0;
    int64_t timestamp = 0;
    if (dash == std::string::npos ||
        !absl::SimpleAtoi(delivery.substr(dash + 1), &cursor) ||
        !absl::SimpleAtoi(request.get_header_value("X-Smarketing-Timestamp"),
                          &timestamp)) {
      return 400;
    }
    const std::string id = delivery.substr(0, dash);
    std::lock_guard<std::mutex> lock(mu_);
    if (request.get_header_value("X-Smarketing-Signature") !=
        WebhookSignature(secrets_[id], timestamp, request.body)) {
      ++bad_signatures_;
      return 401;
    }
    if (cursor % 5 == 0 && attempted_.insert(delivery).second) {
      ++refused_;
      return 503;
    }
    acknowledged_[id].push_back(cursor);
    return 204;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::string> secrets_;
  std::set<std::string> attempted_;
  std::map<std::string, std::vector<int64_t>> acknowledged_;
  int refused_ = 0;
  int bad_signatures_ = 0;
};

// Delivery on its thread and from a caller, to a receiver that refuses
// some first attempts, while writers append changes and a subscription is
// deleted: each remaining subscription gets every change once, in order.
TEST_F(BackgroundTest, WebhooksDeliverWhileChangesAreAppended) {
  const absl::Time now = absl::Now();
  Receiver receiver;
  WebhookDeliverer deliverer(store_.get(), [] { return absl::Now(); },
                             {.timeout = absl::Seconds(30),
                              .retry_base = absl::Milliseconds(1),
                              .max_attempts = 8,
                              .tick = absl::Milliseconds(2)});
  const int64_t start = LatestCursor();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::WebhookSubscription requested;
    requested.set_url(receiver.url());
    auto created = deliverer.Create(requested, "test");
    ASSERT_TRUE(created.ok()) << created.status();
    receiver.AddSecret(created->id(), created->secret());
    ids.push_back(created->id());
  }
  deliverer.Start();
  std::atomic<bool> done{false};
  std::thread caller([&] {
    while (!done.load()) {
      deliverer.RunOnce();
      EXPECT_TRUE(deliverer.List().ok());
    }
  });
  OnThreads(3, [&](int w) {
    for (int i = 0; i < 10; ++i) {
      const std::string id = absl::StrCat("lead-", w, "-", i);
      ASSERT_TRUE(desk_->Upsert(LeadWithoutAccount(id, now), 0, now).ok());
      ASSERT_TRUE(desk_->RecordEvents(id, Visit(id, i, now), now).ok());
      if (w == 0 && i == 5) ASSERT_TRUE(deliverer.Delete(ids[2]).ok());
    }
  });
  const std::vector<int64_t> all = CursorsAfter(start);
  ASSERT_EQ(all.size(), 60u);
  EXPECT_TRUE(WaitFor([&] {
    auto webhooks = deliverer.List();
    if (!webhooks.ok() || webhooks->size() != 2) return false;
    for (const v1::WebhookSubscription& webhook : *webhooks) {
      if (webhook.delivered_cursor() != all.back()) return false;
    }
    return true;
  }));
  done = true;
  caller.join();
  deliverer.Stop();

  EXPECT_EQ(receiver.bad_signatures(), 0);
  EXPECT_GT(receiver.refused(), 0);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(receiver.Acknowledged(ids[i]), all) << ids[i];
  }
  // The deleted one got a prefix of the changes, in order.
  const std::vector<int64_t> deleted = receiver.Acknowledged(ids[2]);
  ASSERT_LE(deleted.size(), all.size());
  EXPECT_EQ(deleted,
            std::vector<int64_t>(all.begin(), all.begin() + deleted.size()));
  auto letters = deliverer.ListDeadLetters(ids[0], 0, 10);
  ASSERT_TRUE(letters.ok());
  EXPECT_TRUE(letters->empty());
}

// Starts and stops in every order, with passes in progress and callers
// waking the rescorer: Stop returns at once rather than after the tick (a
// minute here), and nothing outlives it.
TEST_F(BackgroundTest, StartAndStopRaceWithPassesAndWakes) {
  const absl::Time now = absl::Now();
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(
        desk_->Upsert(HotLead(absl::StrCat("lead-", i), now), 0, now).ok());
  }
  TestClock clock(now + absl::Hours(2));
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(round);
    auto scheduler = std::make_unique<Scheduler>(store_.get(), desk_.get(),
                                                 clock.Function());
    auto rescorer = std::make_unique<Rescorer>(
        store_.get(), playbooks_.get(), desk_.get(), clock.Function(),
        RescorerOptions{.batch = 3,
                        .refresh_interval = absl::Minutes(1),
                        .tick = absl::Seconds(60)});
    auto deliverer = std::make_unique<WebhookDeliverer>(
        store_.get(), clock.Function(),
        WebhookOptions{.tick = absl::Seconds(60)});
    scheduler->Start(absl::Seconds(60));
    rescorer->Start();
    deliverer->Start();
    clock.Advance(absl::Minutes(2));
    std::thread wakes([&] {
      for (int i = 0; i < 20; ++i) rescorer->Wake();
    });
    std::thread pass([&] { scheduler->RunOnce(); });
    if (round % 2 == 0) absl::SleepFor(absl::Milliseconds(round));
    const absl::Time stopping = absl::Now();
    std::thread stop_rescorer([&] { rescorer->Stop(); });
    scheduler->Stop();
    deliverer->Stop();
    stop_rescorer.join();
    wakes.join();
    pass.join();
    EXPECT_LT(absl::Now() - stopping, absl::Seconds(30));
    // A second Stop, and destruction after it, are harmless.
    scheduler->Stop();
    rescorer->Stop();
    scheduler.reset();
    rescorer.reset();
    deliverer.reset();
  }
  // Components never started stop and go as well.
  Scheduler idle(store_.get(), desk_.get(), clock.Function());
  idle.Stop();
}

}  // namespace
}  // namespace smarketing
