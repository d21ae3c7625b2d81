// Accounts end to end: a real server on a loopback port, leads upserted
// through the API, and the account read back across its contacts.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/proto_time.h"
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

class AccountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "smarketing-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    WriteTokenFile(dir_ / "tokens");
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.store_path = (dir_ / "store.db").string();
    options.token_file = (dir_ / "tokens").string();
    options.demo_playbook =
        absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml");
    options.scheduler = false;
    auto server = test_server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials());
    leads_ = v1::LeadService::NewStub(channel);
    team_ = v1::TeamService::NewStub(channel);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::LeadRecord Upsert(const std::string& id, const std::string& domain,
                        v1::Seniority seniority, const std::string& title,
                        bool demo) {
    v1::UpsertLeadRequest request;
    v1::Lead& lead = *request.mutable_lead();
    lead.set_id(id);
    lead.set_job_title(title);
    lead.set_seniority(seniority);
    lead.mutable_company()->set_domain(domain);
    lead.mutable_company()->set_industry("software");
    lead.mutable_company()->set_employee_count(250);
    lead.mutable_company()->set_country("FR");
    lead.mutable_company()->set_region("EMEA");
    if (demo) {
      v1::Event* event = lead.add_events();
      event->set_id(absl::StrCat(id, "-demo"));
      event->set_type(v1::EVENT_TYPE_DEMO_REQUEST);
      TimeToProto(absl::Now() - absl::Minutes(5), event->mutable_occurred_at());
    }
    v1::UpsertLeadResponse response;
    grpc::Status st =
        leads_->UpsertLead(As(kMarketing).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.lead();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::LeadService::Stub> leads_;
  std::unique_ptr<v1::TeamService::Stub> team_;

  v1::Account Account(const std::string& domain) {
    v1::GetAccountRequest request;
    request.set_domain(domain);
    v1::GetAccountResponse response;
    grpc::Status st = leads_->GetAccount(As(kReader).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return response.account();
  }

  // The changes after `after`, oldest first.
  std::vector<v1::Change> ChangesAfter(int64_t after) {
    v1::ListChangesRequest request;
    request.set_after_cursor(after);
    request.set_limit(1000);
    v1::ListChangesResponse response;
    grpc::Status st =
        leads_->ListChanges(As(kReader).get(), request, &response);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return {response.changes().begin(), response.changes().end()};
  }
  int64_t LatestCursor() {
    const std::vector<v1::Change> all = ChangesAfter(0);
    return all.empty() ? 0 : all.back().cursor();
  }
  static std::vector<v1::Change> AccountChanges(
      const std::vector<v1::Change>& changes) {
    std::vector<v1::Change> out;
    for (const v1::Change& change : changes) {
      for (int kind : change.kinds()) {
        if (kind == v1::CHANGE_KIND_ACCOUNT_SCORE_CHANGED) {
          out.push_back(change);
          break;
        }
      }
    }
    return out;
  }

  grpc::Status SetOwners(
      const std::string& token,
      std::initializer_list<std::array<const char*, 3>> owners,
      int* changed = nullptr) {
    v1::SetAccountOwnersRequest request;
    for (const auto& [domain, team, owner] : owners) {
      v1::AccountOwnerAssignment* entry = request.add_owners();
      entry->set_domain(domain);
      entry->set_team_id(team);
      entry->set_owner_id(owner);
    }
    v1::SetAccountOwnersResponse response;
    grpc::Status st =
        team_->SetAccountOwners(As(token).get(), request, &response);
    if (changed != nullptr) *changed = response.changed();
    return st;
  }
};

TEST_F(AccountTest, AnAccountGathersItsContacts) {
  const v1::LeadRecord cmo =
      Upsert("acme-cmo", "acme.example", v1::SENIORITY_C_LEVEL, "CMO", true);
  const v1::LeadRecord manager =
      Upsert("acme-mgr", "www.ACME.example", v1::SENIORITY_MANAGER,
             "Marketing Manager", false);
  ASSERT_EQ(cmo.lifecycle().stage(), v1::LIFECYCLE_STAGE_MQL);
  // Routed to a team; to an owner in the team's working hours, else it
  // waits in the team's queue (the scheduler is off here).
  ASSERT_FALSE(cmo.routing().team_id().empty());
  Upsert("other-1", "other.example", v1::SENIORITY_VP, "VP Sales", false);
  Upsert("nowhere", "", v1::SENIORITY_VP, "VP Sales", false);

  v1::GetAccountRequest request;
  request.set_domain("WWW.Acme.Example");
  v1::GetAccountResponse response;
  grpc::Status st = leads_->GetAccount(As(kReader).get(), request, &response);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const v1::Account& account = response.account();
  EXPECT_EQ(account.domain(), "acme.example");
  ASSERT_EQ(account.contacts_size(), 2);
  EXPECT_FALSE(account.contacts_truncated());
  EXPECT_EQ(account.contacts(0).lead_id(), "acme-cmo");
  EXPECT_EQ(account.contacts(0).stage(), cmo.lifecycle().stage());
  EXPECT_EQ(account.contacts(0).owner_id(), cmo.routing().owner_id());
  EXPECT_EQ(account.contacts(1).lead_id(), "acme-mgr");
  EXPECT_EQ(account.contacts(1).grade(), manager.score().grade());
  EXPECT_EQ(account.best_fit_score(),
            std::max(cmo.score().fit_score(), manager.score().fit_score()));
  EXPECT_DOUBLE_EQ(
      account.total_engagement_score(),
      cmo.score().engagement_score() + manager.score().engagement_score());
  EXPECT_EQ(account.open_contacts(),
            (cmo.lifecycle().stage() == v1::LIFECYCLE_STAGE_MQL) +
                (manager.lifecycle().stage() == v1::LIFECYCLE_STAGE_MQL));
  // Every persona of the Playbook has a seat; the contacts fill theirs.
  ASSERT_GT(account.committee_size(), 1);
  int seated = 0;
  for (const v1::CommitteeSeat& seat : account.committee()) {
    for (const std::string& id : seat.lead_ids()) {
      ++seated;
      EXPECT_EQ(seat.persona_id(), id == "acme-cmo"
                                       ? cmo.score().persona_id()
                                       : manager.score().persona_id());
    }
  }
  EXPECT_EQ(seated, (!cmo.score().persona_id().empty()) +
                        (!manager.score().persona_id().empty()));
  EXPECT_EQ(account.owner().owner_id(), cmo.routing().owner_id());

  request.set_domain("unknown.example");
  st = leads_->GetAccount(As(kReader).get(), request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  request.set_domain("  ");
  st = leads_->GetAccount(As(kReader).get(), request, &response);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("domain"), std::string::npos);
}

TEST_F(AccountTest, AccountsArePagedByDomain) {
  Upsert("b-1", "b.example", v1::SENIORITY_VP, "VP Sales", false);
  Upsert("a-1", "a.example", v1::SENIORITY_VP, "VP Sales", false);
  Upsert("a-2", "a.example", v1::SENIORITY_VP, "VP Marketing", false);
  Upsert("none", "", v1::SENIORITY_VP, "VP Sales", false);

  v1::ListAccountsRequest request;
  request.set_page_size(1);
  v1::ListAccountsResponse first;
  ASSERT_TRUE(leads_->ListAccounts(As(kReader).get(), request, &first).ok());
  ASSERT_EQ(first.accounts_size(), 1);
  EXPECT_EQ(first.accounts(0).domain(), "a.example");
  EXPECT_EQ(first.accounts(0).contacts_size(), 2);
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  v1::ListAccountsResponse second;
  ASSERT_TRUE(leads_->ListAccounts(As(kReader).get(), request, &second).ok());
  ASSERT_EQ(second.accounts_size(), 1);
  EXPECT_EQ(second.accounts(0).domain(), "b.example");
  EXPECT_TRUE(second.next_page_token().empty());

  request.set_page_size(101);
  grpc::Status st = leads_->ListAccounts(As(kReader).get(), request, &second);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(AccountTest, AccountOwnersAreImportedAllOrNothing) {
  Upsert("c-1", "c.example", v1::SENIORITY_VP, "VP Sales", false);
  int changed = 0;
  ASSERT_TRUE(SetOwners(kAdmin,
                        {{"WWW.C.example", "emea-midmarket", "usr-1002"},
                         {"d.example", "na-enterprise", "usr-1101"}},
                        &changed)
                  .ok());
  EXPECT_EQ(changed, 2);
  EXPECT_EQ(Account("c.example").owner().owner_id(), "usr-1002");
  EXPECT_EQ(Account("c.example").owner().team_id(), "emea-midmarket");
  // The same again changes nothing.
  ASSERT_TRUE(
      SetOwners(kAdmin, {{"c.example", "emea-midmarket", "usr-1002"}}, &changed)
          .ok());
  EXPECT_EQ(changed, 0);

  // An unknown team, a marketing member, a missing domain: all named, and
  // nothing changes, not even the valid entry.
  grpc::Status st =
      SetOwners(kAdmin, {{"c.example", "emea-midmarket", "usr-1001"},
                         {"e.example", "no-such-team", "usr-1001"},
                         {"f.example", "emea-midmarket", "usr-2001"},
                         {"", "emea-midmarket", "usr-1001"}});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("owners[1].team_id"), std::string::npos);
  EXPECT_NE(st.error_message().find("owners[2].owner_id"), std::string::npos);
  EXPECT_NE(st.error_message().find("owners[3].domain"), std::string::npos);
  EXPECT_EQ(Account("c.example").owner().owner_id(), "usr-1002");

  EXPECT_EQ(SetOwners(kMarketing, {{"c.example", "", ""}}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // An empty team and owner removes the account's owner.
  ASSERT_TRUE(SetOwners(kAdmin, {{"c.example", "", ""}}, &changed).ok());
  EXPECT_EQ(changed, 1);
  EXPECT_FALSE(Account("c.example").has_owner());
}

TEST_F(AccountTest, TheAccountScoreFollowsItsContactsInTheFeed) {
  // The demo Playbook scores accounts: best fit + 0.5 x engagement summed,
  // at most 60 a contact and 150 in all (examples/playbooks/demo.yaml).
  const v1::LeadRecord manager =
      Upsert("s-mgr", "score.example", v1::SENIORITY_MANAGER,
             "Marketing Manager", true);
  v1::Account account = Account("score.example");
  ASSERT_TRUE(account.has_score());
  EXPECT_EQ(account.score().contacts_counted(), 1);
  EXPECT_NEAR(account.score().fit(), manager.score().fit_score(), 0.01);
  EXPECT_NEAR(account.score().engagement(),
              std::min(60.0, manager.score().engagement_score()), 0.01);
  EXPECT_NEAR(account.score().score(),
              account.score().fit() + 0.5 * account.score().engagement(), 0.01);
  EXPECT_FALSE(account.score().grade().empty());
  const v1::AccountScore alone = account.score();

  // A better fit joins: one entry for the account after the lead's own,
  // with the score before and after.
  int64_t cursor = LatestCursor();
  const v1::LeadRecord cmo =
      Upsert("s-cmo", "score.example", v1::SENIORITY_C_LEVEL, "CMO", false);
  ASSERT_GT(cmo.score().fit_score(), manager.score().fit_score());
  std::vector<v1::Change> changes = ChangesAfter(cursor);
  std::vector<v1::Change> accounts = AccountChanges(changes);
  ASSERT_EQ(accounts.size(), 1u);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].lead_id(), "s-cmo");
  EXPECT_EQ(changes[1].cursor(), accounts[0].cursor());
  EXPECT_EQ(accounts[0].kinds_size(), 1);
  EXPECT_EQ(accounts[0].lead_id(), "s-cmo");
  EXPECT_EQ(accounts[0].account(), "score.example");
  EXPECT_EQ(accounts[0].actor_id(), "mia");
  EXPECT_GT(accounts[0].playbook_number(), 0);
  EXPECT_NEAR(accounts[0].previous_account_score().score(), alone.score(),
              0.01);
  EXPECT_NEAR(accounts[0].account_score().fit(), cmo.score().fit_score(), 0.01);
  account = Account("score.example");
  EXPECT_EQ(account.score().contacts_counted(), 2);
  EXPECT_NEAR(account.score().score(), accounts[0].account_score().score(),
              0.01);

  // The same lead sent again (scored again, no event) leaves the score as
  // it was: no account entry.
  cursor = LatestCursor();
  Upsert("s-cmo", "score.example", v1::SENIORITY_C_LEVEL, "CMO", false);
  EXPECT_TRUE(AccountChanges(ChangesAfter(cursor)).empty());

  // Erasing the better fit brings the score back down; erasing the last
  // contact leaves no score.
  cursor = LatestCursor();
  v1::EraseLeadRequest erase;
  erase.set_lead_id("s-cmo");
  v1::EraseLeadResponse erased;
  ASSERT_TRUE(leads_->EraseLead(As(kAdmin).get(), erase, &erased).ok());
  accounts = AccountChanges(ChangesAfter(cursor));
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_NEAR(accounts[0].account_score().fit(), manager.score().fit_score(),
              0.01);
  EXPECT_NEAR(Account("score.example").score().score(),
              accounts[0].account_score().score(), 0.01);
  cursor = LatestCursor();
  erase.set_lead_id("s-mgr");
  ASSERT_TRUE(leads_->EraseLead(As(kAdmin).get(), erase, &erased).ok());
  accounts = AccountChanges(ChangesAfter(cursor));
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_TRUE(accounts[0].has_previous_account_score());
  EXPECT_FALSE(accounts[0].has_account_score());

  // A lead without a company domain belongs to no account.
  cursor = LatestCursor();
  Upsert("s-none", "", v1::SENIORITY_C_LEVEL, "CMO", true);
  EXPECT_TRUE(AccountChanges(ChangesAfter(cursor)).empty());
}

}  // namespace
}  // namespace smarketing
