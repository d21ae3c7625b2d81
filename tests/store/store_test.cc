// Each operation of the Store interface on its own, against every
// implementation (parameterised), on a real database in a temporary folder.
#include "store/store.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

using ::testing::ElementsAre;

// A store implementation under test: how to open it on a fresh database.
struct StoreKind {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Store>>(const std::string& dir)> open;
};

void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

std::vector<StoreKind> StoreKinds() {
  return {{"sqlite", [](const std::string& dir) {
             return OpenSqliteStore(dir + "/store.db");
           }}};
}

class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/smarketing-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto store = GetParam().open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  static StoredLead Lead(const std::string& id, v1::LifecycleStage stage = v1::LIFECYCLE_STAGE_NEW,
                         const std::string& team = "", const std::string& owner = "",
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
    return store_->Write([&](StoreTransaction& tx) { return tx.PutLead(lead); });
  }
  static google::protobuf::RepeatedPtrField<v1::Event> Events(std::vector<std::string> ids) {
    google::protobuf::RepeatedPtrField<v1::Event> events;
    for (const std::string& id : ids) {
      v1::Event* e = events.Add();
      e->set_id(id);
      e->set_type(v1::EVENT_TYPE_EMAIL_OPEN);
    }
    return events;
  }
  std::vector<std::string> ListIds(const LeadFilter& filter, absl::string_view after = "",
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
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) -> absl::Status {
    auto got = tx.GetLead("l1");
    if (!got.ok()) return got.status();
    EXPECT_TRUE(got->has_value());
    EXPECT_EQ((*got)->lead.company().domain(), "acme.example");
    EXPECT_EQ((*got)->lifecycle.stage(), v1::LIFECYCLE_STAGE_MQL);
    EXPECT_EQ((*got)->score.routing().owner_id(), "ana");
    EXPECT_EQ((*got)->revision, 7);
    EXPECT_EQ((*got)->updated_at, lead.updated_at);
    auto missing = tx.GetLead("nobody");
    EXPECT_TRUE(missing.ok() && !missing->has_value());
    return absl::OkStatus();
  }).ok());
}

TEST_P(StoreTest, PutLeadReplacesTheWholeRecord) {
  ASSERT_TRUE(Put(Lead("l1", v1::LIFECYCLE_STAGE_NEW, "emea", "ana")).ok());
  ASSERT_TRUE(Put(Lead("l1", v1::LIFECYCLE_STAGE_SAL, "na", "bob")).ok());
  EXPECT_THAT(ListIds({.team_id = "emea"}), ElementsAre());
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_SAL, .team_id = "na"}), ElementsAre("l1"));
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
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) {
    EXPECT_EQ(*tx.CountEvents("l1"), 0);
    return absl::OkStatus();
  }).ok());
}

TEST_P(StoreTest, ReadRefusesWrites) {
  const absl::Status st = store_->Read([&](StoreTransaction& tx) { return tx.PutLead(Lead("l1")); });
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(ListIds({}), ElementsAre());
}

TEST_P(StoreTest, EventsAreStoredOncePerIdInArrivalOrder) {
  ASSERT_TRUE(Put(Lead("l1")).ok());
  std::vector<bool> stored;
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    return tx.AddEvents("l1", Events({"b", "a", "b"}), &stored);
  }).ok());
  EXPECT_THAT(stored, ElementsAre(true, true, false));
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    return tx.AddEvents("l1", Events({"a", "c"}), &stored);
  }).ok());
  EXPECT_THAT(stored, ElementsAre(false, true));
  // The same event id on another lead is another event.
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    return tx.AddEvents("l2", Events({"a"}), &stored);
  }).ok());
  EXPECT_THAT(stored, ElementsAre(true));
  Reopen();
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) {
    google::protobuf::RepeatedPtrField<v1::Event> events;
    EXPECT_TRUE(tx.GetEvents("l1", &events).ok());
    std::vector<std::string> ids;
    for (const v1::Event& e : events) ids.push_back(e.id());
    EXPECT_THAT(ids, ElementsAre("b", "a", "c"));
    EXPECT_EQ(*tx.CountEvents("l1"), 3);
    EXPECT_EQ(*tx.CountEvents("l2"), 1);
    EXPECT_EQ(*tx.CountEvents("nobody"), 0);
    return absl::OkStatus();
  }).ok());
}

TEST_P(StoreTest, FeedbackIsListedOldestFirst) {
  ASSERT_TRUE(Put(Lead("l1")).ok());
  for (const char* note : {"first", "second"}) {
    v1::Feedback feedback;
    feedback.set_lead_id("l1");
    feedback.set_note(note);
    ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) { return tx.AddFeedback(feedback); }).ok());
  }
  auto feedback = store_->ListFeedback("l1");
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  ASSERT_EQ(feedback->size(), 2u);
  EXPECT_EQ((*feedback)[0].note(), "first");
  EXPECT_EQ((*feedback)[1].note(), "second");
  EXPECT_TRUE(store_->ListFeedback("nobody")->empty());
}

TEST_P(StoreTest, RoutingStateIsEmptyThenWhatWasPut) {
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) {
    auto state = tx.GetRoutingState();
    EXPECT_TRUE(state.ok());
    EXPECT_EQ(state->ByteSizeLong(), 0u);
    return absl::OkStatus();
  }).ok());
  v1::RoutingState state;
  (*state.mutable_account_owners())["acme.example"].set_owner_id("ana");
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) { return tx.PutRoutingState(state); }).ok());
  Reopen();
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) {
    EXPECT_EQ(tx.GetRoutingState()->account_owners().at("acme.example").owner_id(), "ana");
    return absl::OkStatus();
  }).ok());
}

TEST_P(StoreTest, EraseLeadRemovesItsEventsAndFeedback) {
  ASSERT_TRUE(Put(Lead("l1")).ok());
  ASSERT_TRUE(Put(Lead("l2")).ok());
  std::vector<bool> stored;
  v1::Feedback feedback;
  feedback.set_lead_id("l1");
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    if (auto st = tx.AddEvents("l1", Events({"a", "b"}), &stored); !st.ok()) return st;
    if (auto st = tx.AddEvents("l2", Events({"a"}), &stored); !st.ok()) return st;
    return tx.AddFeedback(feedback);
  }).ok());
  absl::StatusOr<int> erased = 0;
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    erased = tx.EraseLead("l1");
    return erased.status();
  }).ok());
  EXPECT_EQ(*erased, 2);
  EXPECT_THAT(ListIds({}), ElementsAre("l2"));
  EXPECT_TRUE(store_->ListFeedback("l1")->empty());
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) {
    EXPECT_EQ(*tx.CountEvents("l1"), 0);
    EXPECT_EQ(*tx.CountEvents("l2"), 1);
    return absl::OkStatus();
  }).ok());
  const absl::Status again =
      store_->Write([&](StoreTransaction& tx) { return tx.EraseLead("l1").status(); });
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreTest, ListLeadsFiltersAndPagesById) {
  ASSERT_TRUE(Put(Lead("c", v1::LIFECYCLE_STAGE_MQL, "emea", "ana", 1'790'000'300)).ok());
  ASSERT_TRUE(Put(Lead("a", v1::LIFECYCLE_STAGE_MQL, "emea", "bob", 1'790'000'100)).ok());
  ASSERT_TRUE(Put(Lead("b", v1::LIFECYCLE_STAGE_NURTURE, "", "", 1'790'000'200)).ok());
  ASSERT_TRUE(Put(Lead("d", v1::LIFECYCLE_STAGE_SAL, "na", "ana", 1'790'000'400)).ok());
  EXPECT_THAT(ListIds({}), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(ListIds({.stage = v1::LIFECYCLE_STAGE_MQL}), ElementsAre("a", "c"));
  EXPECT_THAT(ListIds({.team_id = "emea", .owner_id = "ana"}), ElementsAre("c"));
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
  auto playbook = [](const std::string& version) {
    v1::Playbook p;
    p.mutable_metadata()->set_name("demo");
    p.mutable_metadata()->set_version(version);
    return p;
  };
  const absl::Time t = absl::FromUnixSeconds(1'790'000'000);
  auto first = store_->PublishPlaybook(playbook("1"), "marketing-ops", t, false);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->number, 1);
  EXPECT_TRUE(first->active) << "the first version is active";
  auto second = store_->PublishPlaybook(playbook("2"), "marketing-ops", t, false);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->number, 2);
  EXPECT_FALSE(second->active);
  EXPECT_EQ(store_->GetPlaybook(0)->number, 1);

  EXPECT_EQ(store_->ActivatePlaybook(2, /*expected_active=*/2).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ActivatePlaybook(9, 0).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->ActivatePlaybook(2, /*expected_active=*/1).ok());
  Reopen();
  auto active = store_->GetPlaybook(0);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->number, 2);
  EXPECT_EQ(active->playbook.metadata().version(), "2");
  EXPECT_EQ(active->published_by, "marketing-ops");
  EXPECT_EQ(active->published_at, t);
  EXPECT_FALSE(store_->GetPlaybook(1)->active);
  EXPECT_EQ(store_->GetPlaybook(3).status().code(), absl::StatusCode::kNotFound);

  auto third = store_->PublishPlaybook(playbook("3"), "admin", t, /*activate=*/true);
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

TEST_P(StoreTest, RescorePassesKeepTheLatestAndListLeadIdsPages) {
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) -> absl::Status {
    auto latest = tx.GetLatestRescore();
    EXPECT_TRUE(latest.ok() && !latest->has_value());
    EXPECT_EQ(*tx.CountLeads(), 0);
    return absl::OkStatus();
  }).ok());
  for (const char* id : {"c", "a", "b"}) ASSERT_TRUE(Put(Lead(id)).ok());
  v1::RescoreStatus pass;
  pass.set_pass_number(1);
  pass.set_state(v1::RESCORE_STATE_RUNNING);
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    return tx.PutRescore(pass);
  }).ok());
  pass.set_resume_after_lead_id("a");
  pass.set_leads_done(1);
  v1::RescoreStatus second;
  second.set_pass_number(2);
  second.set_playbook_number(7);
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) -> absl::Status {
    if (auto st = tx.PutRescore(pass); !st.ok()) return st;
    return tx.PutRescore(second);
  }).ok());
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) -> absl::Status {
    auto latest = tx.GetLatestRescore();
    EXPECT_TRUE(latest.ok() && latest->has_value());
    EXPECT_EQ((*latest)->pass_number(), 2);
    EXPECT_EQ((*latest)->playbook_number(), 7);
    EXPECT_EQ(*tx.CountLeads(), 3);
    return absl::OkStatus();
  }).ok());
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
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) -> absl::Status {
    EXPECT_EQ(*tx.LatestChangeCursor(), 0);
    v1::Change change;
    change.set_lead_id("l1");
    if (auto st = tx.AppendChange(&change); !st.ok()) return st;
    EXPECT_EQ(*tx.LatestChangeCursor(), change.cursor());
    if (auto st = tx.PutWebhook(webhook); !st.ok()) return st;
    if (auto st = tx.AddDeadLetter(later); !st.ok()) return st;
    return tx.AddDeadLetter(letter);
  }).ok());
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) -> absl::Status {
    EXPECT_EQ(tx.ListWebhooks()->size(), 1u);
    EXPECT_EQ((*tx.GetWebhook("wh-1"))->delivered_cursor(), 3);
    EXPECT_FALSE(tx.GetWebhook("wh-2")->has_value());
    auto letters = tx.ListDeadLetters("wh-1", 0, 10);
    EXPECT_EQ(letters->size(), 2u);
    EXPECT_EQ((*letters)[0].delivery().delivery_id(), "wh-1-7");
    EXPECT_EQ(tx.ListDeadLetters("wh-1", 7, 10)->size(), 1u);
    EXPECT_TRUE(tx.GetDeadLetter("wh-1-9")->has_value());
    return absl::OkStatus();
  }).ok());
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    return tx.DeleteDeadLetter("wh-1-9");
  }).ok());
  ASSERT_TRUE(store_->Write([&](StoreTransaction& tx) {
    return tx.DeleteWebhook("wh-1");
  }).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->Write([&](StoreTransaction& tx) {
    return tx.DeleteWebhook("wh-1");
  })));
  ASSERT_TRUE(store_->Read([&](StoreTransaction& tx) -> absl::Status {
    EXPECT_TRUE(tx.ListWebhooks()->empty());
    // The subscription's dead letters went with it.
    EXPECT_FALSE(tx.GetDeadLetter("wh-1-7")->has_value());
    return absl::OkStatus();
  }).ok());
}

TEST_P(StoreTest, LeadsAreListedByAccount) {
  for (const auto& [id, account] :
       {std::pair<const char*, const char*>{"l3", "b.example"},
        {"l1", "a.example"}, {"l2", "a.example"}, {"l4", ""}}) {
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

INSTANTIATE_TEST_SUITE_P(AllStores, StoreTest, ::testing::ValuesIn(StoreKinds()),
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

}  // namespace
}  // namespace smarketing
