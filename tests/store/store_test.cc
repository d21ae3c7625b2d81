// Each operation of the Store interface on its own, against every
// implementation (parameterised), on a real database in a temporary folder.
#include "store/store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/review/review_facts.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/postgres_store.h"

namespace smarketing {
namespace {

using ::testing::ElementsAre;

// Runs `command` and returns its standard output, trimmed, and exit code.
std::pair<std::string, int> Run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe))
    out.append(buffer, n);
  const int status = pclose(pipe);
  return {std::string(absl::StripAsciiWhitespace(out)),
          WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// A PostgreSQL server of this test process (scripts/tmp-postgres.sh),
// started at its first use and stopped at exit; a database per test.
class TestPostgres {
 public:
  static TestPostgres& Get() {
    static TestPostgres* server = new TestPostgres();
    return *server;
  }
  static void Stop() {
    TestPostgres& server = Get();
    if (!server.url_.empty()) Run(server.Script("stop " + server.dir_));
    std::filesystem::remove_all(server.dir_);
  }

  // Why the server does not run; empty when it does.
  const std::string& unavailable() const { return unavailable_; }
  // The binaries are missing (as opposed to a server that fails to start).
  bool missing() const { return missing_; }

  // Stops the server, or starts it again on the same port.
  bool Pause() { return Run(Script("stop " + dir_)).second == 0; }
  bool Resume() { return Run(Script("resume " + dir_)).second == 0; }

  // The URL of a new database named `name`.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name) {
    if (!unavailable_.empty()) return absl::UnavailableError(unavailable_);
    auto [url, code] = Run(Script(absl::StrCat("createdb ", dir_, " ", name)));
    if (code != 0) return absl::InternalError("createdb failed");
    return url;
  }

 private:
  TestPostgres() {
    char pattern[] = "/tmp/smarketing-pg-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      unavailable_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    // The tests kill no database server: syncing to disk would only slow
    // them down.
    auto [url, code] = Run(
        Script(absl::StrCat("start ", dir_, " ", getpid(), " -c fsync=off")));
    if (code != 0) {
      std::filesystem::remove_all(dir_);
      missing_ = code == 3;
      unavailable_ = absl::StrCat(
          "PostgreSQL did not start (scripts/tmp-postgres.sh exit ", code, ")");
      return;
    }
    url_ = url;
    std::atexit(&TestPostgres::Stop);
  }
  static std::string Script(const std::string& args) {
    return absl::StrCat(SMARKETING_SOURCE_DIR, "/scripts/tmp-postgres.sh ",
                        args);
  }

  std::string dir_;
  std::string url_;
  std::string unavailable_;
  bool missing_ = false;
};

// A store implementation under test: how to open it on a fresh database.
struct StoreKind {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Store>>(const std::string& dir)>
      open;
  // Runs SQL statements on the database of the closed store in `dir`.
  std::function<bool(const std::string& dir, const std::string& sql)> sql;
  // Why it cannot be tested here; empty when it can.
  std::function<std::string()> unavailable = [] { return std::string(); };
};

void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

// The database of the test whose folder is `dir`, created at its first use.
absl::StatusOr<std::string> PostgresUrl(const std::string& dir) {
  const std::string marker = dir + "/postgres-url";
  if (std::ifstream in(marker); in) {
    std::string url;
    std::getline(in, url);
    return url;
  }
  // mkdtemp's suffix makes the name unique; database names are case
  // sensitive in a URL.
  auto url = TestPostgres::Get().CreateDatabase(
      absl::StrCat("t_", std::filesystem::path(dir).filename().string().substr(
                             sizeof("smarketing-store-test-") - 1)));
  if (url.ok()) std::ofstream(marker) << *url << "\n";
  return url;
}

std::vector<StoreKind> StoreKinds() {
  return {
      {"sqlite",
       [](const std::string& dir) {
         return OpenSqliteStore(dir + "/store.db");
       },
       [](const std::string& dir, const std::string& sql) {
         sqlite3* db = nullptr;
         bool ok =
             sqlite3_open((dir + "/store.db").c_str(), &db) == SQLITE_OK &&
             sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) ==
                 SQLITE_OK;
         sqlite3_close(db);
         return ok;
       }},
      {"postgres",
       [](const std::string& dir) -> absl::StatusOr<std::unique_ptr<Store>> {
         auto url = PostgresUrl(dir);
         if (!url.ok()) return url.status();
         return OpenPostgresStore(*url);
       },
       [](const std::string& dir, const std::string& sql) {
         auto url = PostgresUrl(dir);
         return url.ok() && Run(absl::StrCat("psql -q -v ON_ERROR_STOP=1 '",
                                             *url, "' -c '", sql, "'"))
                                    .second == 0;
       },
       [] { return TestPostgres::Get().unavailable(); }}};
}

// A test of an implementation that cannot run here is skipped, except in
// CI (CI=true), where a missing PostgreSQL fails the suite instead of
// hiding it.
bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    if (const std::string why = GetParam().unavailable(); !why.empty()) {
      if (InCi()) FAIL() << GetParam().name << ": " << why;
      GTEST_SKIP() << GetParam().name << ": " << why;
    }
    char pattern[] = "/tmp/smarketing-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto store = GetParam().open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  static StoredLead Lead(const std::string& id,
                         v1::LifecycleStage stage = v1::LIFECYCLE_STAGE_NEW,
                         const std::string& team = "",
                         const std::string& owner = "",
                         int64_t created_seconds = 1'790'000'000) {
    StoredLead lead;
    lead.lead.set_id(id);
    lead.lead.mutable_created_at()->set_seconds(created_seconds);
    lead.lifecycle.set_stage(stage);
    lead.score.set_lead_id(id);
    lead.score.mutable_routing()->set_team_id(team);
    lead.score.mutable_routing()->set_owner_id(owner);
    lead.revision = 1;
    lead.updated_at = absl::FromUnixSeconds(created_seconds);
    return lead;
  }
  absl::Status Put(const StoredLead& lead) {
    return store_->Write(
        [&](StoreTransaction& tx) { return tx.PutLead(lead); });
  }
  static google::protobuf::RepeatedPtrField<v1::Event> Events(
      std::vector<std::string> ids) {
    google::protobuf::RepeatedPtrField<v1::Event> events;
    for (const std::string& id : ids) {
      v1::Event* e = events.Add();
      e->set_id(id);
      e->set_type(v1::EVENT_TYPE_EMAIL_OPEN);
    }
    return events;
  }
  // A Playbook told apart from the others by its version only.
  static v1::Playbook PlaybookVersion(const std::string& version) {
    v1::Playbook p;
    p.mutable_metadata()->set_name("demo");
    p.mutable_metadata()->set_version(version);
    return p;
  }
  std::vector<std::string> ListIds(const LeadFilter& filter,
                                   absl::string_view after = "",
                                   int limit = 0) {
    auto leads = store_->ListLeads(filter, after, limit);
    EXPECT_TRUE(leads.ok()) << leads.status();
    std::vector<std::string> ids;
    if (leads.ok()) {
      for (const StoredLead& l : *leads) ids.push_back(l.lead.id());
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, PutThenGetLeadSurvivesReopening) {
  StoredLead lead = Lead("l1", v1::LIFECYCLE_STAGE_MQL, "emea", "ana");
  lead.lead.mutable_company()->set_domain("acme.example");
  lead.revision = 7;
  ASSERT_TRUE(Put(lead).ok());
  Reopen();
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    auto got = tx.GetLead("l1");
                    if (!got.ok()) return got.status();
                    EXPECT_TRUE(got->has_value());
                    EXPECT_EQ((*got)->lead.company().domain(), "acme.example");
                    EXPECT_EQ((*got)->lifecycle.stage(),
                              v1::LIFECYCLE_STAGE_MQL);
                    EXPECT_EQ((*got)->score.routing().owner_id(), "ana");
                    EXPECT_EQ((*got)->revision, 7);
                    EXPECT_EQ((*got)->updated_at, lead.updated_at);
                    auto missing = tx.GetLead("nobody");
                    EXPECT_TRUE(missing.ok() && !missing->has_value());
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(StoreTest, PutLeadReplacesTheWholeRecord) {
  ASSERT_TRUE(Put(Lead("l1", v1::LIFECYCLE_STAGE_NEW, "emea", "ana")).ok());
  ASSERT_TRUE(Put(Lead("l1", v1::LIFECYCLE_STAGE_SAL, "na", "bob")).ok());
  EXPECT_THAT(ListIds({.team_id = "emea"}), ElementsAre());
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_SAL, .team_id = "na"}),
              ElementsAre("l1"));
}

// A lead read and written back in one transaction, as every write of the
// service does: what changed is stored and found through every listing,
// whichever of its indexed columns changed.
TEST_P(StoreTest, ALeadReadThenWrittenBackIsStoredWhole) {
  StoredLead first = Lead("l1", v1::LIFECYCLE_STAGE_NEW, "emea", "ana");
  first.account = "a.example";
  first.sla_state = v1::SLA_STATE_ON_TRACK;
  first.sla_valid_until = absl::InfiniteFuture();
  first.sla_playbook = 1;
  ASSERT_TRUE(Put(first).ok());
  auto rewrite = [&](auto change) {
    return store_->Write([&](StoreTransaction& tx) -> absl::Status {
      auto got = tx.GetLead("l1");
      if (!got.ok()) return got.status();
      StoredLead lead = **got;
      change(lead);
      return tx.PutLead(lead);
    });
  };
  // Nothing indexed changes.
  ASSERT_TRUE(rewrite([](StoredLead& l) {
                l.revision = 2;
                l.score.set_total_score(40);
                l.event_count = 3;
              }).ok());
  // Every index changes.
  ASSERT_TRUE(rewrite([](StoredLead& l) {
                l.revision = 3;
                l.lifecycle.set_stage(v1::LIFECYCLE_STAGE_SAL);
                l.score.mutable_routing()->set_owner_id("bob");
                l.lead.mutable_created_at()->set_seconds(1'790'000'500);
                l.sla_state = v1::SLA_STATE_BREACHED;
                l.sla_playbook = 2;
                l.account = "b.example";
              }).ok());
  // One index changes: the lead's SLA validity.
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_TRUE(rewrite([&](StoredLead& l) {
                l.revision = 4;
                l.sla_valid_until = t - absl::Hours(1);
              }).ok());
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_NEW}), ElementsAre());
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_SAL,
                       .team_id = "emea",
                       .owner_id = "bob"}),
              ElementsAre("l1"));
  EXPECT_THAT(ListIds({.owner_id = "ana"}), ElementsAre());
  EXPECT_THAT(ListIds({.created_from = absl::FromUnixSeconds(1'790'000'400)}),
              ElementsAre("l1"));
  EXPECT_THAT(ListIds({.created_to = absl::FromUnixSeconds(1'790'000'400)}),
              ElementsAre());
  // Its kept SLA state no longer holds at t: listed to be evaluated.
  EXPECT_THAT(ListIds({.sla_state = v1::SLA_STATE_ON_TRACK,
                       .sla_at = t,
                       .sla_playbook = 2}),
              ElementsAre("l1"));
  EXPECT_TRUE(store_->ListAccountLeads("a.example", "", 10)->empty());
  EXPECT_EQ(store_->ListAccountLeads("b.example", "", 10)->size(), 1u);
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    auto got = tx.GetLead("l1");
                    if (!got.ok()) return got.status();
                    EXPECT_EQ((*got)->revision, 4);
                    EXPECT_EQ((*got)->score.total_score(), 40);
                    EXPECT_EQ((*got)->event_count, 3);
                    EXPECT_EQ((*got)->sla_state, v1::SLA_STATE_BREACHED);
                    EXPECT_EQ((*got)->sla_valid_until, t - absl::Hours(1));
                    EXPECT_EQ((*got)->sla_playbook, 2);
                    return absl::OkStatus();
                  })
                  .ok());
}

// Erased after it was read, a lead written back is stored anew, whole.
TEST_P(StoreTest, ALeadErasedAfterItWasReadIsWrittenAnew) {
  ASSERT_TRUE(Put(Lead("l1", v1::LIFECYCLE_STAGE_NEW, "emea", "ana")).ok());
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) -> absl::Status {
                    auto got = tx.GetLead("l1");
                    if (!got.ok()) return got.status();
                    if (auto n = tx.EraseLead("l1"); !n.ok()) {
                      return n.status();
                    }
                    StoredLead lead = **got;
                    lead.revision = 2;
                    return tx.PutLead(lead);
                  })
                  .ok());
  EXPECT_THAT(ListIds({.team_id = "emea", .owner_id = "ana"}),
              ElementsAre("l1"));
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_NEW}), ElementsAre("l1"));
}

TEST_P(StoreTest, AFailedWriteChangesNothing) {
  const absl::Status failed = store_->Write([&](StoreTransaction& tx) {
    EXPECT_TRUE(tx.PutLead(Lead("l1")).ok());
    std::vector<bool> stored;
    EXPECT_TRUE(tx.AddEvents("l1", Events({"e1"}), &stored).ok());
    return absl::AbortedError("the caller changed its mind");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(ListIds({}), ElementsAre());
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    EXPECT_EQ(*tx.CountEvents("l1"), 0);
                    return absl::OkStatus();
                  })
                  .ok());
}

// Concurrent writes are committed in groups: a refused one is rolled back
// alone, the others of its group are kept.
TEST_P(StoreTest, ConcurrentWritesKeepOnlyThoseThatSucceeded) {
  constexpr int kThreads = 8, kWrites = 20;
  std::vector<std::thread> threads;
  std::atomic<int> unexpected = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const bool refuse = (t + i) % 2 == 1;
        const absl::Status st =
            store_->Write([&](StoreTransaction& tx) -> absl::Status {
              if (auto put = tx.PutLead(Lead(absl::StrCat("t", t, "-", i)));
                  !put.ok())
                return put;
              return refuse ? absl::FailedPreconditionError("refused")
                            : absl::OkStatus();
            });
        if (st.ok() == refuse) ++unexpected;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected, 0);
  const std::vector<std::string> ids = ListIds({});
  EXPECT_EQ(ids.size(), size_t{kThreads * kWrites / 2});
  for (const std::string& id : ids) {
    const size_t dash = id.find('-');
    EXPECT_EQ(
        (std::stoi(id.substr(1, dash - 1)) + std::stoi(id.substr(dash + 1))) %
            2,
        0)
        << id;
  }
}

TEST_P(StoreTest, ReadRefusesWrites) {
  const absl::Status st = store_->Read(
      [&](StoreTransaction& tx) { return tx.PutLead(Lead("l1")); });
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(ListIds({}), ElementsAre());
}

TEST_P(StoreTest, EventsAreStoredOncePerIdInArrivalOrder) {
  ASSERT_TRUE(Put(Lead("l1")).ok());
  std::vector<bool> stored;
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.AddEvents("l1", Events({"b", "a", "b"}), &stored);
                  })
                  .ok());
  EXPECT_THAT(stored, ElementsAre(true, true, false));
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.AddEvents("l1", Events({"a", "c"}), &stored);
                  })
                  .ok());
  EXPECT_THAT(stored, ElementsAre(false, true));
  // The same event id on another lead is another event.
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.AddEvents("l2", Events({"a"}), &stored);
                  })
                  .ok());
  EXPECT_THAT(stored, ElementsAre(true));
  Reopen();
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    google::protobuf::RepeatedPtrField<v1::Event> events;
                    EXPECT_TRUE(tx.GetEvents("l1", &events).ok());
                    std::vector<std::string> ids;
                    for (const v1::Event& e : events) ids.push_back(e.id());
                    EXPECT_THAT(ids, ElementsAre("b", "a", "c"));
                    EXPECT_EQ(*tx.CountEvents("l1"), 3);
                    EXPECT_EQ(*tx.CountEvents("l2"), 1);
                    EXPECT_EQ(*tx.CountEvents("nobody"), 0);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(StoreTest, EventIdsAndBodiesAreStoredAsGiven) {
  const std::vector<std::string> ids = {"a\"b", "c\\d",          "{e,f}", " g ",
                                        "NULL", "\u00e9t\u00e9", ""};
  google::protobuf::RepeatedPtrField<v1::Event> events = Events(ids);
  (*events[0].mutable_properties()->mutable_fields())["url"].set_string_value(
      "/x?\"y\"\\z");
  std::vector<bool> stored;
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.AddEvents("l1", events, &stored);
                  })
                  .ok());
  EXPECT_THAT(stored, ::testing::Each(true));
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.AddEvents("l1", events, &stored);
                  })
                  .ok());
  EXPECT_THAT(stored, ::testing::Each(false));
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    google::protobuf::RepeatedPtrField<v1::Event> got;
                    EXPECT_TRUE(tx.GetEvents("l1", &got).ok());
                    EXPECT_EQ(got.size(), events.size());
                    for (int i = 0; i < got.size() && i < events.size(); ++i) {
                      EXPECT_EQ(got[i].SerializeAsString(),
                                events[i].SerializeAsString())
                          << i;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(StoreTest, FeedbackIsListedOldestFirst) {
  ASSERT_TRUE(Put(Lead("l1")).ok());
  for (const char* note : {"first", "second", "third"}) {
    v1::Feedback feedback;
    feedback.set_lead_id("l1");
    feedback.set_note(note);
    ASSERT_TRUE(store_
                    ->Write([&](StoreTransaction& tx) {
                      return tx.AddFeedback(feedback);
                    })
                    .ok());
  }
  auto feedback = store_->ListFeedback("l1", 0);
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  ASSERT_EQ(feedback->size(), 3u);
  EXPECT_EQ((*feedback)[0].note(), "first");
  EXPECT_EQ((*feedback)[2].note(), "third");
  // A limit keeps the latest entries, still oldest first.
  auto latest = store_->ListFeedback("l1", 2);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].note(), "second");
  EXPECT_EQ((*latest)[1].note(), "third");
  EXPECT_TRUE(store_->ListFeedback("nobody", 0)->empty());
}

TEST_P(StoreTest, RoutingStateIsEmptyThenWhatWasPut) {
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    auto state = tx.GetRoutingState();
                    EXPECT_TRUE(state.ok());
                    EXPECT_EQ(state->ByteSizeLong(), 0u);
                    return absl::OkStatus();
                  })
                  .ok());
  v1::RoutingState state;
  (*state.mutable_account_owners())["acme.example"].set_owner_id("ana");
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.PutRoutingState(state);
                  })
                  .ok());
  Reopen();
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    EXPECT_EQ(tx.GetRoutingState()
                                  ->account_owners()
                                  .at("acme.example")
                                  .owner_id(),
                              "ana");
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(StoreTest, EraseLeadRemovesItsEventsAndFeedback) {
  ASSERT_TRUE(Put(Lead("l1")).ok());
  ASSERT_TRUE(Put(Lead("l2")).ok());
  std::vector<bool> stored;
  v1::Feedback feedback;
  feedback.set_lead_id("l1");
  ASSERT_TRUE(
      store_
          ->Write([&](StoreTransaction& tx) {
            if (auto st = tx.AddEvents("l1", Events({"a", "b"}), &stored);
                !st.ok())
              return st;
            if (auto st = tx.AddEvents("l2", Events({"a"}), &stored); !st.ok())
              return st;
            return tx.AddFeedback(feedback);
          })
          .ok());
  absl::StatusOr<int> erased = 0;
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    erased = tx.EraseLead("l1");
                    return erased.status();
                  })
                  .ok());
  EXPECT_EQ(*erased, 2);
  EXPECT_THAT(ListIds({}), ElementsAre("l2"));
  EXPECT_TRUE(store_->ListFeedback("l1", 0)->empty());
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    EXPECT_EQ(*tx.CountEvents("l1"), 0);
                    EXPECT_EQ(*tx.CountEvents("l2"), 1);
                    return absl::OkStatus();
                  })
                  .ok());
  const absl::Status again = store_->Write(
      [&](StoreTransaction& tx) { return tx.EraseLead("l1").status(); });
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, ListLeadsFiltersAndPagesById) {
  ASSERT_TRUE(
      Put(Lead("c", v1::LIFECYCLE_STAGE_MQL, "emea", "ana", 1'790'000'300))
          .ok());
  ASSERT_TRUE(
      Put(Lead("a", v1::LIFECYCLE_STAGE_MQL, "emea", "bob", 1'790'000'100))
          .ok());
  ASSERT_TRUE(
      Put(Lead("b", v1::LIFECYCLE_STAGE_NURTURE, "", "", 1'790'000'200)).ok());
  ASSERT_TRUE(
      Put(Lead("d", v1::LIFECYCLE_STAGE_SAL, "na", "ana", 1'790'000'400)).ok());
  EXPECT_THAT(ListIds({}), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_MQL}),
              ElementsAre("a", "c"));
  EXPECT_THAT(ListIds({.team_id = "emea", .owner_id = "ana"}),
              ElementsAre("c"));
  EXPECT_THAT(ListIds({.owner_id = "ana"}), ElementsAre("c", "d"));
  EXPECT_THAT(ListIds({.routed_only = true}), ElementsAre("a", "c", "d"));
  EXPECT_THAT(ListIds({.created_from = absl::FromUnixSeconds(1'790'000'200),
                       .created_to = absl::FromUnixSeconds(1'790'000'400)}),
              ElementsAre("b", "c"));
  EXPECT_THAT(ListIds({}, "", 2), ElementsAre("a", "b"));
  EXPECT_THAT(ListIds({}, "b", 2), ElementsAre("c", "d"));
  EXPECT_THAT(ListIds({}, "d", 2), ElementsAre());
}

TEST_P(StoreTest, PlaybookVersionsAreNumberedAndOneIsActive) {
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  auto first =
      store_->PublishPlaybook(PlaybookVersion("1"), "marketing-ops", t, false);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->number, 1);
  EXPECT_TRUE(first->active) << "the first version is active";
  auto second =
      store_->PublishPlaybook(PlaybookVersion("2"), "marketing-ops", t, false);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->number, 2);
  EXPECT_FALSE(second->active);
  EXPECT_EQ(store_->GetPlaybook(0)->number, 1);

  EXPECT_EQ(store_->ActivatePlaybook(2, /*expected_active=*/2, "admin", t)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ActivatePlaybook(9, 0, "admin", t).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(
      store_->ActivatePlaybook(2, /*expected_active=*/1, "admin", t).ok());
  Reopen();
  auto active = store_->GetPlaybook(0);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->number, 2);
  EXPECT_EQ(active->playbook.metadata().version(), "2");
  EXPECT_EQ(active->published_by, "marketing-ops");
  EXPECT_EQ(active->published_at, t);
  EXPECT_FALSE(store_->GetPlaybook(1)->active);
  EXPECT_EQ(store_->GetPlaybook(3).status().code(),
            absl::StatusCode::kNotFound);

  auto third = store_->PublishPlaybook(PlaybookVersion("3"), "admin", t,
                                       /*activate=*/true);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->active);
  EXPECT_EQ(store_->GetPlaybook(0)->number, 3);
  auto listed = store_->ListPlaybooks(/*before=*/0, /*limit=*/2);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].number, 3);
  EXPECT_EQ((*listed)[1].number, 2);
  auto older = store_->ListPlaybooks(/*before=*/2, /*limit=*/10);
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].number, 1);
}

TEST_P(StoreTest, EachActivationIsRecordedWithItsTimeAndWhoMadeIt) {
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  const absl::Duration day = absl::Hours(24);
  ASSERT_TRUE(
      store_->PublishPlaybook(PlaybookVersion("1"), "ops", t, false).ok());
  ASSERT_TRUE(
      store_->PublishPlaybook(PlaybookVersion("2"), "ops", t + day, false)
          .ok());
  ASSERT_TRUE(store_->ActivatePlaybook(2, 1, "admin", t + 3 * day).ok());
  ASSERT_TRUE(store_
                  ->PublishPlaybook(PlaybookVersion("3"), "marketing",
                                    t + 5 * day, true)
                  .ok());
  // A refused activation records nothing.
  ASSERT_FALSE(store_->ActivatePlaybook(1, 2, "admin", t + 6 * day).ok());
  Reopen();
  auto numbers = [&](absl::Time from, absl::Time to) {
    std::vector<std::string> out;
    auto listed = store_->ListPlaybookActivations(from, to);
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return out;
    for (const PlaybookActivation& a : *listed) {
      out.push_back(absl::StrCat(a.number, "@", (a.activated_at - t) / day,
                                 " by ", a.activated_by));
    }
    return out;
  };
  EXPECT_THAT(numbers(t + 4 * day, t + 11 * day),
              ElementsAre("2@3 by admin", "3@5 by marketing"));
  EXPECT_THAT(numbers(t + 3 * day, t + 5 * day), ElementsAre("2@3 by admin"))
      << "an activation at the period's start is the one in force";
  EXPECT_THAT(numbers(t - day, t), ElementsAre()) << "before any activation";
  EXPECT_THAT(numbers(t - day, t + 4 * day),
              ElementsAre("1@0 by ops", "2@3 by admin"));
  EXPECT_THAT(numbers(t + 9 * day, absl::InfiniteFuture()),
              ElementsAre("3@5 by marketing"));
}

TEST_P(StoreTest,
       TheVersionActiveBeforeActivationsWereKeptIsDatedAtItsPublication) {
  v1::Playbook playbook;
  playbook.mutable_metadata()->set_name("demo");
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_TRUE(store_->PublishPlaybook(playbook, "ops", t, false).ok());
  ASSERT_TRUE(
      store_->PublishPlaybook(playbook, "marketing", t + absl::Hours(1), true)
          .ok());
  // The store as the version before the activations left it.
  store_.reset();
  ASSERT_TRUE(GetParam().sql(dir_,
                             "DROP TABLE playbook_activations; "
                             "UPDATE schema_version SET version = 8;"));
  Reopen();
  auto listed = store_->ListPlaybookActivations(absl::InfinitePast(),
                                                absl::InfiniteFuture());
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].number, 2);
  EXPECT_EQ((*listed)[0].activated_at, t + absl::Hours(1));
  EXPECT_EQ((*listed)[0].activated_by, "marketing");
}

// Writers on many threads at once (the service's handlers): the group
// commit keeps every write whole, counts each event once whoever stores it
// first, and gives the change log one cursor per change, in commit order.
// Also run under ThreadSanitizer by scripts/test.sh.
TEST_P(StoreTest, ConcurrentWritersLoseNothingAndCountEventsOnce) {
  constexpr int kThreads = 8;
  constexpr int kLeadsPerThread = 25;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kLeadsPerThread; ++i) {
        const std::string id = absl::StrCat("l", t, "-", i);
        absl::Status st =
            store_->Write([&](StoreTransaction& tx) -> absl::Status {
              if (absl::Status put = tx.PutLead(Lead(id)); !put.ok())
                return put;
              // Every thread also delivers the same shared event to lead "hub":
              // it must be stored once.
              std::vector<bool> stored;
              if (absl::Status added =
                      tx.AddEvents("hub", Events({"shared", id}), &stored);
                  !added.ok()) {
                return added;
              }
              v1::Change change;
              change.set_lead_id(id);
              return tx.AppendChange(&change);
            });
        if (!st.ok()) ++failures;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    writers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!store_->ListLeads({}, "", 50).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : writers) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ListIds({}).size(), size_t{kThreads * kLeadsPerThread});
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    EXPECT_EQ(*tx.CountEvents("hub"),
                              kThreads * kLeadsPerThread + 1);
                    return absl::OkStatus();
                  })
                  .ok());
  auto changes = store_->ListChanges(0, kThreads * kLeadsPerThread + 10);
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), size_t{kThreads * kLeadsPerThread});
  for (size_t i = 1; i < changes->size(); ++i) {
    EXPECT_LT((*changes)[i - 1].cursor(), (*changes)[i].cursor());
  }
}

TEST_P(StoreTest, ChangesAreListedInCommitOrderAfterACursor) {
  std::vector<int64_t> cursors;
  for (const char* lead : {"a", "b", "c"}) {
    v1::Change change;
    change.set_lead_id(lead);
    change.add_kinds(v1::CHANGE_KIND_LEAD_CREATED);
    ASSERT_TRUE(store_
                    ->Write([&](StoreTransaction& tx) {
                      return tx.AppendChange(&change);
                    })
                    .ok());
    cursors.push_back(change.cursor());
  }
  EXPECT_LT(cursors[0], cursors[1]);
  EXPECT_LT(cursors[1], cursors[2]);
  // A rolled-back change is never listed.
  EXPECT_FALSE(store_
                   ->Write([&](StoreTransaction& tx) {
                     v1::Change change;
                     change.set_lead_id("rolled-back");
                     EXPECT_TRUE(tx.AppendChange(&change).ok());
                     return absl::AbortedError("no");
                   })
                   .ok());
  Reopen();
  auto all = store_->ListChanges(0, 0);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].lead_id(), "c");
  EXPECT_EQ((*all)[2].cursor(), cursors[2]);
  auto after = store_->ListChanges(cursors[0], 1);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].lead_id(), "b");
}

TEST_P(StoreTest, SlaDueLeadsAreListedEarliestFirstUntilCleared) {
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_TRUE(
      store_
          ->Write([&](StoreTransaction& tx) -> absl::Status {
            if (auto st = tx.SetSlaDue("late", t + absl::Hours(2)); !st.ok())
              return st;
            if (auto st = tx.SetSlaDue("early", t); !st.ok()) return st;
            if (auto st = tx.SetSlaDue("moved", t + absl::Hours(9)); !st.ok())
              return st;
            return tx.SetSlaDue("moved", t + absl::Hours(1));
          })
          .ok());
  EXPECT_THAT(*store_->ListSlaDue(t + absl::Hours(3), 0),
              ElementsAre("early", "moved", "late"));
  EXPECT_THAT(*store_->ListSlaDue(t + absl::Hours(3), 1), ElementsAre("early"));
  EXPECT_THAT(*store_->ListSlaDue(t - absl::Seconds(1), 0), ElementsAre());
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.SetSlaDue("early", absl::InfiniteFuture());
                  })
                  .ok());
  EXPECT_THAT(*store_->ListSlaDue(t + absl::Hours(3), 0),
              ElementsAre("moved", "late"));
}

TEST_P(StoreTest, QueuedLeadsAreMqlsOfATeamWithoutOwner) {
  ASSERT_TRUE(Put(Lead("q2", v1::LIFECYCLE_STAGE_MQL, "emea", "")).ok());
  ASSERT_TRUE(Put(Lead("q1", v1::LIFECYCLE_STAGE_MQL, "emea", "")).ok());
  ASSERT_TRUE(Put(Lead("owned", v1::LIFECYCLE_STAGE_MQL, "emea", "ana")).ok());
  ASSERT_TRUE(Put(Lead("unrouted", v1::LIFECYCLE_STAGE_MQL)).ok());
  ASSERT_TRUE(Put(Lead("sal", v1::LIFECYCLE_STAGE_SAL, "emea", "")).ok());
  EXPECT_THAT(*store_->ListQueuedLeads("", 0), ElementsAre("q1", "q2"));
  EXPECT_THAT(*store_->ListQueuedLeads("q1", 10), ElementsAre("q2"));
}

TEST_P(StoreTest, LeadsBySlaStateIncludeThoseWhoseStateDoesNotTell) {
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  auto lead = [&](const std::string& id, v1::SlaState state, absl::Time until,
                  int64_t playbook) {
    StoredLead l = Lead(id);
    l.sla_state = state;
    l.sla_valid_until = until;
    l.sla_playbook = playbook;
    return l;
  };
  ASSERT_TRUE(
      Put(lead("breached", v1::SLA_STATE_BREACHED, absl::InfiniteFuture(), 1))
          .ok());
  ASSERT_TRUE(
      Put(lead("on-time", v1::SLA_STATE_ON_TRACK, t + absl::Hours(1), 1)).ok());
  ASSERT_TRUE(
      Put(lead("expired", v1::SLA_STATE_ON_TRACK, t - absl::Hours(1), 1)).ok());
  ASSERT_TRUE(Put(lead("other-version", v1::SLA_STATE_ON_TRACK,
                       absl::InfiniteFuture(), 2))
                  .ok());
  EXPECT_THAT(ListIds({.sla_state = v1::SLA_STATE_BREACHED,
                       .sla_at = t,
                       .sla_playbook = 1}),
              ElementsAre("breached", "expired", "other-version"));
  EXPECT_THAT(
      ListIds(
          {.sla_state = v1::SLA_STATE_ON_TRACK, .sla_at = t, .sla_playbook = 1},
          "", 2),
      ElementsAre("expired", "on-time"));
}

TEST_P(StoreTest, LatestEventsAreTheLastArrivedOldestFirst) {
  std::vector<bool> stored;
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.AddEvents("l1", Events({"e1", "e2", "e3", "e4"}),
                                        &stored);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) {
                    google::protobuf::RepeatedPtrField<v1::Event> events;
                    EXPECT_TRUE(tx.GetLatestEvents("l1", 2, &events).ok());
                    std::vector<std::string> ids;
                    for (const v1::Event& e : events) ids.push_back(e.id());
                    EXPECT_THAT(ids, ElementsAre("e3", "e4"));
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(StoreTest, MemberAuditIsListedNewestFirst) {
  for (int capacity : {5, 6, 7}) {
    v1::MemberStatusChange change;
    change.mutable_status()->set_member_id("ana");
    change.mutable_status()->set_max_open_leads(capacity);
    ASSERT_TRUE(store_
                    ->Write([&](StoreTransaction& tx) {
                      return tx.AppendMemberAudit(change);
                    })
                    .ok());
  }
  auto audit = store_->ListMemberAudit("ana", 2);
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].status().max_open_leads(), 7);
  EXPECT_EQ((*audit)[1].status().max_open_leads(), 6);
  EXPECT_TRUE(store_->ListMemberAudit("bob", 0)->empty());
}

TEST_P(StoreTest, OneProcessAloneHoldsEveryLease) {
  auto held = store_->HoldLease("sla-scheduler");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_TRUE(*held);
  EXPECT_TRUE(*store_->HoldLease("sla-scheduler"))
      << "held again by its holder";
}

TEST_P(StoreTest, RescorePassesKeepTheLatestAndListLeadIdsPages) {
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    auto latest = tx.GetLatestRescore();
                    EXPECT_TRUE(latest.ok() && !latest->has_value());
                    EXPECT_EQ(*tx.CountLeads(), 0);
                    return absl::OkStatus();
                  })
                  .ok());
  for (const char* id : {"c", "a", "b"}) ASSERT_TRUE(Put(Lead(id)).ok());
  v1::RescoreStatus pass;
  pass.set_pass_number(1);
  pass.set_state(v1::RESCORE_STATE_RUNNING);
  ASSERT_TRUE(
      store_->Write([&](StoreTransaction& tx) { return tx.PutRescore(pass); })
          .ok());
  pass.set_resume_after_lead_id("a");
  pass.set_leads_done(1);
  v1::RescoreStatus second;
  second.set_pass_number(2);
  second.set_playbook_number(7);
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) -> absl::Status {
                    if (auto st = tx.PutRescore(pass); !st.ok()) return st;
                    return tx.PutRescore(second);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    auto latest = tx.GetLatestRescore();
                    EXPECT_TRUE(latest.ok() && latest->has_value());
                    EXPECT_EQ((*latest)->pass_number(), 2);
                    EXPECT_EQ((*latest)->playbook_number(), 7);
                    EXPECT_EQ(*tx.CountLeads(), 3);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(*store_->ListLeadIds("", 2), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*store_->ListLeadIds("b", 2), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(store_->ListLeadIds("c", 2)->empty());
}

TEST_P(StoreTest, WebhooksKeepTheirCursorAndDeadLetters) {
  v1::WebhookSubscription webhook;
  webhook.set_id("wh-1");
  webhook.set_url("http://127.0.0.1:9/hook");
  webhook.set_delivered_cursor(3);
  v1::DeadLetter letter;
  letter.mutable_delivery()->set_delivery_id("wh-1-7");
  letter.mutable_delivery()->set_subscription_id("wh-1");
  letter.mutable_delivery()->mutable_change()->set_cursor(7);
  v1::DeadLetter later = letter;
  later.mutable_delivery()->set_delivery_id("wh-1-9");
  later.mutable_delivery()->mutable_change()->set_cursor(9);
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) -> absl::Status {
                    EXPECT_EQ(*tx.LatestChangeCursor(), 0);
                    v1::Change change;
                    change.set_lead_id("l1");
                    if (auto st = tx.AppendChange(&change); !st.ok()) return st;
                    EXPECT_EQ(*tx.LatestChangeCursor(), change.cursor());
                    if (auto st = tx.PutWebhook(webhook); !st.ok()) return st;
                    if (auto st = tx.AddDeadLetter(later); !st.ok()) return st;
                    return tx.AddDeadLetter(letter);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    EXPECT_EQ(tx.ListWebhooks()->size(), 1u);
                    EXPECT_EQ((*tx.GetWebhook("wh-1"))->delivered_cursor(), 3);
                    EXPECT_FALSE(tx.GetWebhook("wh-2")->has_value());
                    auto letters = tx.ListDeadLetters("wh-1", 0, 10);
                    EXPECT_EQ(letters->size(), 2u);
                    EXPECT_EQ((*letters)[0].delivery().delivery_id(), "wh-1-7");
                    EXPECT_EQ(tx.ListDeadLetters("wh-1", 7, 10)->size(), 1u);
                    EXPECT_TRUE(tx.GetDeadLetter("wh-1-9")->has_value());
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.DeleteDeadLetter("wh-1-9");
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.DeleteWebhook("wh-1");
                  })
                  .ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Write(
      [&](StoreTransaction& tx) { return tx.DeleteWebhook("wh-1"); })));
  ASSERT_TRUE(store_
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    EXPECT_TRUE(tx.ListWebhooks()->empty());
                    // The subscription's dead letters went with it.
                    EXPECT_FALSE(tx.GetDeadLetter("wh-1-7")->has_value());
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_P(StoreTest, LeadsAreListedByAccount) {
  for (const auto& [id, account] :
       {std::pair<const char*, const char*>{"l3", "b.example"},
        {"l1", "a.example"},
        {"l2", "a.example"},
        {"l4", ""}}) {
    StoredLead lead = Lead(id);
    lead.account = account;
    ASSERT_TRUE(Put(lead).ok());
  }
  auto a = store_->ListAccountLeads("a.example", "", 10);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].lead.id(), "l1");
  EXPECT_EQ((*a)[0].account, "a.example");
  EXPECT_EQ(store_->ListAccountLeads("a.example", "l1", 10)->size(), 1u);
  EXPECT_EQ(*store_->ListAccounts("", 10),
            (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(*store_->ListAccounts("a.example", 10),
            (std::vector<std::string>{"b.example"}));
}

TEST_P(StoreTest, AccountContactsAreReadWithinTheWriteThatChangesThem) {
  for (const auto& [id, account, fit] :
       {std::tuple<const char*, const char*, double>{"l3", "a.example", 70},
        {"l1", "a.example", 40},
        {"l2", "b.example", 90}}) {
    StoredLead lead = Lead(id);
    lead.account = account;
    lead.lifecycle.set_stage(v1::LIFECYCLE_STAGE_MQL);
    lead.score.set_fit_score(fit);
    ASSERT_TRUE(Put(lead).ok());
  }
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) -> absl::Status {
                    StoredLead moved = Lead("l2");
                    moved.account = "a.example";
                    moved.score.set_fit_score(90);
                    if (auto st = tx.PutLead(moved); !st.ok()) return st;
                    // The write's own change is seen, by lead id.
                    auto contacts = tx.ListAccountContacts("a.example", 2);
                    if (!contacts.ok()) return contacts.status();
                    EXPECT_EQ(contacts->size(), 2u);
                    EXPECT_EQ((*contacts)[0].lead_id, "l1");
                    EXPECT_EQ((*contacts)[0].stage, v1::LIFECYCLE_STAGE_MQL);
                    EXPECT_EQ((*contacts)[0].score.fit_score(), 40);
                    EXPECT_EQ((*contacts)[1].lead_id, "l2");
                    EXPECT_EQ((*contacts)[1].score.fit_score(), 90);
                    auto all = tx.ListAccountContacts("a.example", 0);
                    if (!all.ok()) return all.status();
                    EXPECT_EQ(all->size(), 3u);
                    auto none = tx.ListAccountContacts("b.example", 10);
                    if (!none.ok()) return none.status();
                    EXPECT_TRUE(none->empty());
                    return absl::OkStatus();
                  })
                  .ok());
}

// A lead with what the review reads and what it must not: attributes,
// contact details, rule hits, notes.
StoredLead ReviewedLead(const std::string& id, absl::Time mql_at,
                        bool touched) {
  StoredLead lead;
  lead.lead.set_id(id);
  lead.lead.set_source("webinar");
  lead.lead.set_campaign("q4-launch");
  lead.lead.mutable_contact()->set_email("ana@acme.example");
  lead.lead.set_job_title("CMO");
  lead.lifecycle.set_stage(touched ? v1::LIFECYCLE_STAGE_SAL
                                   : v1::LIFECYCLE_STAGE_MQL);
  v1::StageTransition* t = lead.lifecycle.add_history();
  t->set_from(v1::LIFECYCLE_STAGE_NEW);
  t->set_to(v1::LIFECYCLE_STAGE_MQL);
  t->set_actor_id("scoring");
  t->set_note("a note");
  t->mutable_at()->set_seconds(absl::ToUnixSeconds(mql_at));
  *lead.lifecycle.mutable_mql_at() = t->at();
  if (touched) {
    lead.lifecycle.mutable_first_touched_at()->set_seconds(
        absl::ToUnixSeconds(mql_at + absl::Hours(1)));
  }
  lead.score.set_lead_id(id);
  lead.score.set_persona_id("cmo");
  lead.score.set_grade("A");
  lead.score.set_priority(v1::PRIORITY_HIGH);
  lead.score.add_explanation()->set_rule_id("demo-request");
  lead.score.mutable_routing()->set_team_id("emea");
  lead.score.mutable_routing()->set_owner_id("ana");
  lead.revision = 1;
  return lead;
}

TEST_P(StoreTest, ReviewFactsFollowEveryWriteOfALeadAndItsFeedback) {
  const absl::Time t0 = absl::FromUnixSeconds(1'790'000'000);
  StoredLead lead = ReviewedLead("l1", t0, /*touched=*/true);
  v1::Feedback feedback;
  feedback.set_lead_id("l1");
  feedback.set_actor_id("ana");
  feedback.set_note("call back in May");
  feedback.mutable_at()->set_seconds(absl::ToUnixSeconds(t0 + absl::Hours(2)));
  feedback.mutable_rejected()->set_reason_code("no_budget");
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    if (auto st = tx.AddFeedback(feedback); !st.ok()) return st;
                    return tx.PutLead(lead);
                  })
                  .ok());
  ASSERT_TRUE(Put(ReviewedLead("l2", t0 - absl::Hours(24 * 30), true)).ok());
  const auto scan = [&](absl::Time since) {
    std::vector<v1::LeadReviewFacts> out;
    absl::Status st =
        store_->ScanReviewFacts(since, [&](const v1::LeadReviewFacts& f) {
          out.push_back(f);
          return absl::OkStatus();
        });
    EXPECT_TRUE(st.ok()) << st;
    return out;
  };
  // l2's last move is 30 days before: a review from t0 needs only l1.
  std::vector<v1::LeadReviewFacts> facts = scan(t0);
  ASSERT_EQ(facts.size(), 1u);
  v1::LeadReviewFacts expected;
  SetReviewLead(lead.lead, lead.lifecycle, lead.score, &expected);
  AddReviewFeedback(feedback, &expected);
  EXPECT_EQ(facts[0].SerializeAsString(), expected.SerializeAsString());
  EXPECT_EQ(facts[0].lead().contact().email(), "");
  EXPECT_EQ(facts[0].feedback(0).note(), "");
  EXPECT_EQ(facts[0].feedback(0).rejected().reason_code(), "no_budget");
  EXPECT_EQ(facts[0].score().explanation_size(), 0);
  EXPECT_EQ(facts[0].lifecycle().history(0).note(), "");
  EXPECT_EQ(scan(t0 - absl::Hours(24 * 31)).size(), 2u);

  // An MQL waiting for its first touch counts in every review.
  ASSERT_TRUE(Put(ReviewedLead("l2", t0 - absl::Hours(24 * 30), false)).ok());
  facts = scan(t0 + absl::Hours(24 * 365));
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].lead().id(), "l2");

  // A write refused halfway leaves the facts as they were.
  EXPECT_FALSE(store_
                   ->Write([&](StoreTransaction& tx) {
                     if (auto st = tx.PutLead(ReviewedLead("l2", t0, true));
                         !st.ok())
                       return st;
                     return absl::AbortedError("refused");
                   })
                   .ok());
  EXPECT_EQ(scan(t0 + absl::Hours(24 * 365)).size(), 1u);

  // The scan stops at the first error of its caller.
  int seen = 0;
  EXPECT_EQ(store_
                ->ScanReviewFacts(absl::InfinitePast(),
                                  [&](const v1::LeadReviewFacts&) {
                                    ++seen;
                                    return absl::CancelledError("enough");
                                  })
                .code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(seen, 1);

  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    return tx.EraseLead("l1").status();
                  })
                  .ok());
  facts = scan(absl::InfinitePast());
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts[0].lead().id(), "l2");
}

TEST_P(StoreTest, ReviewFactsPageThroughManyLeads) {
  const absl::Time t0 = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    for (int i = 0; i < 4500; ++i) {
                      if (auto st = tx.PutLead(
                              ReviewedLead(absl::StrCat("l", i), t0, true));
                          !st.ok())
                        return st;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<std::string> ids;
  ASSERT_TRUE(store_
                  ->ScanReviewFacts(t0,
                                    [&](const v1::LeadReviewFacts& f) {
                                      ids.push_back(f.lead().id());
                                      return absl::OkStatus();
                                    })
                  .ok());
  ASSERT_EQ(ids.size(), 4500u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

TEST_P(StoreTest, ReviewFactsAreComputedForLeadsStoredBeforeThem) {
  const absl::Time t0 = absl::FromUnixSeconds(1'790'000'000);
  const StoredLead lead = ReviewedLead("l1", t0, true);
  v1::Feedback feedback;
  feedback.set_lead_id("l1");
  feedback.mutable_at()->set_seconds(absl::ToUnixSeconds(t0 + absl::Hours(2)));
  feedback.mutable_accepted();
  ASSERT_TRUE(store_
                  ->Write([&](StoreTransaction& tx) {
                    if (auto st = tx.PutLead(lead); !st.ok()) return st;
                    if (auto st = tx.AddFeedback(feedback); !st.ok()) return st;
                    return tx.PutLead(ReviewedLead("l2", t0, false));
                  })
                  .ok());
  // The store as the version before the review facts left it.
  store_.reset();
  ASSERT_TRUE(GetParam().sql(
      dir_,
      "DROP TABLE review_facts; DROP TABLE playbook_activations; "
      "UPDATE schema_version SET version = 7;"));
  Reopen();
  std::vector<v1::LeadReviewFacts> facts;
  ASSERT_TRUE(store_
                  ->ScanReviewFacts(absl::InfinitePast(),
                                    [&](const v1::LeadReviewFacts& f) {
                                      facts.push_back(f);
                                      return absl::OkStatus();
                                    })
                  .ok());
  ASSERT_EQ(facts.size(), 2u);
  v1::LeadReviewFacts expected;
  SetReviewLead(lead.lead, lead.lifecycle, lead.score, &expected);
  AddReviewFeedback(feedback, &expected);
  EXPECT_EQ(facts[0].SerializeAsString(), expected.SerializeAsString());
  EXPECT_EQ(facts[1].lead().id(), "l2");
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreTest,
                         ::testing::ValuesIn(StoreKinds()),
                         [](const auto& info) { return info.param.name; });

TEST(SqliteStoreTest, OpeningAFileThatIsNotADatabaseFails) {
  char pattern[] = "/tmp/smarketing-store-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string path = absl::StrCat(pattern, "/not-a-db");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("these bytes are not an SQLite database, and never were one", f);
  fclose(f);
  EXPECT_FALSE(OpenSqliteStore(path).ok());
  std::filesystem::remove_all(pattern);
}

// --- Several replicas on one PostgreSQL database ---

class PostgresReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = TestPostgres::Get().unavailable();
        !why.empty()) {
      if (InCi()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    char pattern[] = "/tmp/smarketing-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto url = PostgresUrl(dir_);
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Store> Open() {
    auto store = OpenPostgresStore(url_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::string dir_;
  std::string url_;
};

// Writes of three stores (three replicas) on one database are serialized:
// each read-modify-write of the routing state sees the previous one,
// whichever store made it, so no update is lost.
TEST_F(PostgresReplicasTest, RoutingStateUpdatesFromEveryReplicaAreAllKept) {
  constexpr int kReplicas = 3, kThreads = 4, kWrites = 50;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kReplicas; ++i) stores.push_back(Open());
  ASSERT_TRUE(stores.back() != nullptr);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < kReplicas; ++r) {
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, r] {
        for (int i = 0; i < kWrites; ++i) {
          absl::Status st =
              stores[r]->Write([&](StoreTransaction& tx) -> absl::Status {
                auto state = tx.GetRoutingState();
                if (!state.ok()) return state.status();
                (*state->mutable_open_leads())["ana"] += 1;
                return tx.PutRoutingState(*state);
              });
          if (!st.ok()) ++failures;
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  ASSERT_TRUE(stores[0]
                  ->Read([&](StoreTransaction& tx) {
                    EXPECT_EQ(tx.GetRoutingState()->open_leads().at("ana"),
                              kReplicas * kThreads * kWrites);
                    return absl::OkStatus();
                  })
                  .ok());
}

TEST_F(PostgresReplicasTest, AnActivationIsAnnouncedToTheOtherReplicas) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  v1::Playbook playbook;
  playbook.mutable_metadata()->set_name("demo");
  ASSERT_TRUE(a->PublishPlaybook(playbook, "ops", absl::Now(), true).ok());
  ASSERT_TRUE(a->PublishPlaybook(playbook, "ops", absl::Now(), false).ok());
  std::atomic<int> calls = 0;
  b->WatchPlaybooks([&] { ++calls; });
  // The first call comes when the watch listens.
  for (int i = 0; i < 100 && calls == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  const int before = calls;
  ASSERT_GT(before, 0);
  const absl::Time activated = absl::Now();
  ASSERT_TRUE(a->ActivatePlaybook(2, 1, "ops", absl::Now()).ok());
  while (calls == before && absl::Now() - activated < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(calls, before);
  EXPECT_LT(absl::Now() - activated, absl::Seconds(1));
  EXPECT_EQ(b->GetPlaybook(0)->number, 2);
  b->WatchPlaybooks(nullptr);
  const int stopped = calls;
  ASSERT_TRUE(a->ActivatePlaybook(1, 2, "ops", absl::Now()).ok());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(calls, stopped);
}

TEST_F(PostgresReplicasTest, ALeaseHasOneHolderAndPassesOnWhenItEnds) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  EXPECT_TRUE(*a->HoldLease("sla-scheduler"));
  EXPECT_FALSE(*b->HoldLease("sla-scheduler"));
  EXPECT_TRUE(*b->HoldLease("another"));
  EXPECT_TRUE(*a->HoldLease("sla-scheduler"));
  a.reset();
  bool taken = false;
  for (int i = 0; i < 100 && !taken; ++i) {
    taken = *b->HoldLease("sla-scheduler");
    if (!taken) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(taken);
}

TEST_F(PostgresReplicasTest, ATextWithANulCharacterIsRefusedNotCut) {
  auto store = Open();
  ASSERT_TRUE(store != nullptr);
  StoredLead lead;
  lead.lead.set_id(std::string("a\0b", 3));
  const absl::Status st =
      store->Write([&](StoreTransaction& tx) { return tx.PutLead(lead); });
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(store->ListLeads({}, "", 0)->empty());
}

// The server goes away and comes back: meanwhile every operation is
// UNAVAILABLE, a client can retry; afterwards the store works again
// without being reopened, the watch and the lease included.
TEST_F(PostgresReplicasTest, ALostServerIsUnavailableUntilItComesBack) {
  auto store = Open();
  // Another replica, idle during the outage: its connections are closed
  // under it.
  auto idle = Open();
  ASSERT_TRUE(store != nullptr && idle != nullptr);
  StoredLead lead;
  lead.lead.set_id("before");
  ASSERT_TRUE(
      store->Write([&](StoreTransaction& tx) { return tx.PutLead(lead); })
          .ok());
  ASSERT_TRUE(idle->ListLeads({}, "", 0).ok());
  ASSERT_TRUE(*store->HoldLease("sla-scheduler"));
  std::atomic<int> watched = 0;
  store->WatchPlaybooks([&] { ++watched; });

  ASSERT_TRUE(TestPostgres::Get().Pause());
  lead.lead.set_id("during");
  const absl::Status write =
      store->Write([&](StoreTransaction& tx) { return tx.PutLead(lead); });
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  EXPECT_THAT(std::string(write.message()),
              ::testing::Not(::testing::HasSubstr("postgresql://")));
  EXPECT_EQ(store->ListLeads({}, "", 0).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->GetPlaybook(0).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(store->HoldLease("sla-scheduler").ok());

  ASSERT_TRUE(TestPostgres::Get().Resume());
  lead.lead.set_id("after");
  EXPECT_TRUE(
      store->Write([&](StoreTransaction& tx) { return tx.PutLead(lead); })
          .ok());
  auto leads = store->ListLeads({}, "", 0);
  ASSERT_TRUE(leads.ok()) << leads.status();
  ASSERT_EQ(leads->size(), 2u);
  EXPECT_EQ((*leads)[0].lead.id(), "after");
  EXPECT_EQ((*leads)[1].lead.id(), "before");
  EXPECT_TRUE(*store->HoldLease("sla-scheduler"));
  // The idle replica's first calls find closed connections, and open new
  // ones rather than fail.
  auto seen_by_idle = idle->ListLeads({}, "", 0);
  ASSERT_TRUE(seen_by_idle.ok()) << seen_by_idle.status();
  EXPECT_EQ(seen_by_idle->size(), 2u);
  lead.lead.set_id("after-idle");
  EXPECT_TRUE(
      idle->Write([&](StoreTransaction& tx) { return tx.PutLead(lead); }).ok());
  // The watch listens again, and says so, as activations may have been
  // missed meanwhile.
  const int before = watched;
  for (int i = 0; i < 300 && watched == before; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_GT(watched, before);
  store->WatchPlaybooks(nullptr);
}

// --- Migrations ---

// `message` as a bytea literal.
std::string Bytea(const google::protobuf::MessageLite& message) {
  return absl::StrCat(
      "'\\x", absl::BytesToHexString(message.SerializeAsString()), "'::bytea");
}

// Runs psql on the database at `url` with `args`; its output and exit code.
std::pair<std::string, int> Psql(const std::string& url,
                                 const std::string& args) {
  const char* bin = std::getenv("SMARKETING_PG_BIN");
  return Run(absl::StrCat(bin != nullptr ? bin : "/usr/lib/postgresql/15/bin",
                          "/psql -X -q -v ON_ERROR_STOP=1 -d '", url, "' ",
                          args, " 2>&1"));
}

// A database of the PostgreSQL store's first schema version, the oldest it
// migrates from (tests/store/postgres_schema_v1.sql), holding a Playbook, a
// lead with its events and feedback, and the routing state: opened by the
// current store, it is migrated to the current version, every row reads
// back as it was stored, the lead's event count included, and the tables
// of later versions take writes.
TEST_F(PostgresReplicasTest, ADatabaseOfTheFirstSchemaVersionMigratesWhole) {
  v1::Playbook playbook;
  playbook.mutable_metadata()->set_name("acme");
  playbook.mutable_metadata()->set_version("1");
  StoredLead lead;
  lead.lead.set_id("l1");
  lead.lead.mutable_company()->set_domain("acme.example");
  lead.lead.mutable_created_at()->set_seconds(1'790'000'000);
  lead.lifecycle.set_stage(v1::LIFECYCLE_STAGE_MQL);
  lead.score.set_lead_id("l1");
  lead.score.set_fit_score(72);
  lead.score.mutable_routing()->set_team_id("emea");
  lead.score.mutable_routing()->set_owner_id("ana");
  google::protobuf::RepeatedPtrField<v1::Event> events;
  for (const char* id : {"e1", "e2"}) {
    v1::Event* event = events.Add();
    event->set_id(id);
    event->set_type(v1::EVENT_TYPE_EMAIL_OPEN);
  }
  v1::Feedback feedback;
  feedback.set_lead_id("l1");
  feedback.set_note("called back");
  feedback.mutable_at()->set_seconds(1'790'000'100);
  v1::RoutingState routing;
  (*routing.mutable_open_leads())["ana"] = 1;
  const std::string data = dir_ + "/data.sql";
  std::ofstream(data) << absl::StrCat(
      "INSERT INTO playbooks VALUES (1, 'acme@1', 'tester', ",
      "1790000000000000, TRUE, ", Bytea(playbook), ");\n",
      "INSERT INTO leads VALUES ('l1', 3, ",
      static_cast<int>(v1::LIFECYCLE_STAGE_MQL),
      ", 'emea', 'ana', 1790000000000000, 1790000050000000, ", Bytea(lead.lead),
      ", ", Bytea(lead.lifecycle), ", ", Bytea(lead.score), ");\n",
      "INSERT INTO events(lead_id, event_id, body) VALUES ('l1', 'e1', ",
      Bytea(events[0]), "), ('l1', 'e2', ", Bytea(events[1]), ");\n",
      "INSERT INTO feedback(lead_id, at_us, body) VALUES ('l1', ",
      "1790000100000000, ", Bytea(feedback), ");\n",
      "UPDATE routing_state SET body = ", Bytea(routing), " WHERE id = 1;\n");
  const auto [loaded, code] =
      Psql(url_, absl::StrCat("-f ", SMARKETING_SOURCE_DIR,
                              "/tests/store/postgres_schema_v1.sql -f ", data));
  ASSERT_EQ(code, 0) << loaded;

  std::unique_ptr<Store> store = Open();
  ASSERT_TRUE(store != nullptr);
  // The version a database the current store creates has.
  auto fresh = TestPostgres::Get().CreateDatabase(absl::StrCat(
      "fresh_", std::filesystem::path(dir_).filename().string().substr(
                    sizeof("smarketing-store-test-") - 1)));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_TRUE(OpenPostgresStore(*fresh).ok());
  const std::string version = "-t -A -c 'SELECT version FROM schema_version'";
  EXPECT_EQ(Psql(url_, version), Psql(*fresh, version));

  auto active = store->GetPlaybook(0);
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->number, 1);
  EXPECT_EQ(active->label, "acme@1");
  EXPECT_EQ(active->playbook.metadata().name(), "acme");
  ASSERT_TRUE(store
                  ->Read([&](StoreTransaction& tx) -> absl::Status {
                    auto got = tx.GetLead("l1");
                    if (!got.ok()) return got.status();
                    EXPECT_TRUE(got->has_value());
                    if (!got->has_value()) return absl::OkStatus();
                    const StoredLead& stored = **got;
                    EXPECT_EQ(stored.lead.company().domain(), "acme.example");
                    EXPECT_EQ(stored.lifecycle.stage(),
                              v1::LIFECYCLE_STAGE_MQL);
                    EXPECT_EQ(stored.score.fit_score(), 72);
                    EXPECT_EQ(stored.score.routing().owner_id(), "ana");
                    EXPECT_EQ(stored.revision, 3);
                    EXPECT_EQ(stored.updated_at,
                              absl::FromUnixMicros(1790000050000000));
                    EXPECT_EQ(stored.event_count, 2);
                    google::protobuf::RepeatedPtrField<v1::Event> read;
                    if (auto st = tx.GetEvents("l1", &read); !st.ok()) {
                      return st;
                    }
                    EXPECT_EQ(read.size(), 2);
                    if (read.size() == 2) {
                      EXPECT_EQ(read[0].id(), "e1");
                      EXPECT_EQ(read[1].id(), "e2");
                    }
                    auto state = tx.GetRoutingState();
                    if (!state.ok()) return state.status();
                    EXPECT_EQ(state->open_leads().at("ana"), 1);
                    return absl::OkStatus();
                  })
                  .ok());
  auto listed = store->ListLeads(
      {.stage = v1::LIFECYCLE_STAGE_MQL, .team_id = "emea"}, "", 0);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].event_count, 2);
  auto feedbacks = store->ListFeedback("l1", 0);
  ASSERT_TRUE(feedbacks.ok()) << feedbacks.status();
  ASSERT_EQ(feedbacks->size(), 1u);
  EXPECT_EQ((*feedbacks)[0].note(), "called back");

  // The tables later versions added take writes.
  ASSERT_TRUE(store
                  ->Write([&](StoreTransaction& tx) -> absl::Status {
                    v1::Change change;
                    change.set_lead_id("l1");
                    if (auto st = tx.AppendChange(&change); !st.ok()) return st;
                    if (auto st = tx.SetSlaDue("l1", absl::Now()); !st.ok()) {
                      return st;
                    }
                    v1::RescoreStatus pass;
                    pass.set_pass_number(1);
                    return tx.PutRescore(pass);
                  })
                  .ok());
  auto changes = store->ListChanges(0, 10);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_EQ(changes->size(), 1u);
}

TEST(PostgresStoreTest, AnUnreachableServerIsUnavailableWithoutTheUrl) {
  // A closed port on loopback: refused at once.
  auto store = OpenPostgresStore("postgresql://user:secret@127.0.0.1:1/db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(store.status().message()),
              ::testing::Not(::testing::HasSubstr("secret")));
}

}  // namespace
}  // namespace smarketing
