// The review GetReview computes from the review facts the store keeps with
// every write equals the one computed from the full stored leads and their
// feedback, on a generated history of 12 weeks.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/journey/lead_engine.h"
#include "core/playbook/playbook_loader.h"
#include "core/review/review.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc_server/history_writer.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/playbooks.h"
#include "grpc_server/review_query.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace smarketing {
namespace {

// The review of `request` computed from every stored lead in full.
v1::Review FullReview(Store& store, Playbooks& playbooks,
                      const v1::GetReviewRequest& request, absl::Time now) {
  auto version = playbooks.Get(0);
  EXPECT_TRUE(version.ok());
  const CompiledPlaybook& playbook = *version->engine->playbook();
  auto zone = ReportingTimeZone(playbook.playbook());
  auto period = IsoWeek(request.week(), *zone);
  EXPECT_TRUE(period.ok()) << period.status();
  // The store's one version, activated once (ComputeReview's choice of
  // versions is tested apart).
  auto activations = store.ListPlaybookActivations(absl::InfinitePast(),
                                                   absl::InfiniteFuture());
  EXPECT_TRUE(activations.ok() && activations->size() == 1);
  std::vector<ReviewPlaybook> versions(1);
  versions[0] = {playbook.playbook(),      version->number,
                 playbook.version_label(), activations->front().activated_at,
                 absl::InfiniteFuture(),   activations->front().activated_by};
  auto builder = ReviewBuilder::Create(std::move(versions),
                                       {*period, request.filter(), now});
  EXPECT_TRUE(builder.ok()) << builder.status();
  auto leads = store.ListLeads(LeadFilter(), "", 0);
  EXPECT_TRUE(leads.ok()) << leads.status();
  for (const StoredLead& lead : *leads) {
    auto feedback = store.ListFeedback(lead.lead.id(), /*limit=*/0);
    EXPECT_TRUE(feedback.ok());
    (*builder)->Add(lead.lead, lead.lifecycle, lead.score, *feedback);
  }
  return (*builder)->Build();
}

class ReviewFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "smarketing-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(ReviewFactsTest, TheReviewFromStoredFactsEqualsTheOneFromFullLeads) {
  auto store = OpenSqliteStore((dir_ / "store.db").string());
  ASSERT_TRUE(store.ok()) << store.status();
  Playbooks playbooks(store->get());
  auto source = LoadPlaybookFile(
      absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml"));
  ASSERT_TRUE(source.ok()) << source.status();
  auto engine =
      LeadEngine::Create(source->playbook, &source->positions, source->file);
  ASSERT_TRUE(engine.ok()) << engine.status();
  ASSERT_TRUE(playbooks.Publish(*std::move(engine), "test", true).ok());
  LeadDesk desk(store->get(), &playbooks);
  absl::Time end;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-11-27T18:00:00Z", &end,
                              nullptr));
  const DemoHistoryCounts counts = WriteDemoHistory(
      &desk, {.weeks = 12, .leads_per_day = 20, .end = end, .threads = 4});
  ASSERT_GT(counts.feedback, 100);
  // Erased leads leave both reviews.
  for (const char* id : {"demo-5", "demo-300"}) {
    ASSERT_TRUE(desk.Erase(id).ok());
  }

  std::vector<v1::GetReviewRequest> requests(6);
  requests[0].set_week("2026-W48");
  requests[1].set_week("2026-W47");
  requests[2].set_week("2026-W43");
  requests[3].set_week("2026-W40");
  requests[4].set_week("2026-W47");
  requests[4].mutable_filter()->set_source("webinar");
  requests[5].set_week("2026-W47");
  requests[5].mutable_filter()->set_team_id("emea-midmarket");
  for (const v1::GetReviewRequest& request : requests) {
    SCOPED_TRACE(request.ShortDebugString());
    auto fast =
        ComputeReview(**store, playbooks, request, end, [] { return false; });
    ASSERT_TRUE(fast.ok()) << fast.status();
    const v1::Review full = FullReview(**store, playbooks, request, end);
    std::string diff;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differencer.Compare(*fast, full)) << diff;
  }
  // Not an empty review compared with another.
  auto week =
      ComputeReview(**store, playbooks, requests[1], end, [] { return false; });
  ASSERT_TRUE(week.ok());
  EXPECT_GT(week->marketing().mqls().value(), 20);
  EXPECT_GT(week->marketing().accepted().value(), 0);
  EXPECT_GT(week->marketing().rejected().value(), 0);
  EXPECT_GT(week->sales().total().first_touch().due(), 0);
  EXPECT_FALSE(week->sales().untreated().empty());
}

}  // namespace
}  // namespace smarketing
