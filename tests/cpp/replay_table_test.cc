// ReplayTable: stored leads decided as they arrived, at each of their
// events, with the events they had then, against one score at the end.
#include "core/batch/replay_table.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/base/problems.h"
#include "core/batch/score_table.h"
#include "core/journey/lead_engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::MinimalPlaybookYaml;
using ::smarketing::testing::PlaybookFromYaml;
using ::testing::HasSubstr;

// Fit 60 in software (not senior): MQL takes 40 points of engagement (two
// visits close together) or a demo request within 7 days.
std::shared_ptr<const LeadEngine> Engine() {
  const std::string yaml = MinimalPlaybookYaml() + R"(
  rules:
    - {id: visit, event_types: [page_view], points: 25}
disqualification_rules:
  - id: gambling
    when: {field: company.industry, equals: gambling}
    reason: industry
hand_raiser_rules:
  - id: demo
    event_types: [demo_request]
    min_fit: 50
    lookback: 7d
    priority: urgent
)";
  auto engine = LeadEngine::Create(PlaybookFromYaml(yaml));
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *engine;
}

int64_t Nanos(absl::string_view rfc3339) {
  return absl::ToUnixNanos(At(rfc3339));
}

// Leads and events written row by row, as columns.
class History {
 public:
  void Lead(std::string id, std::optional<std::string> created_at,
            std::string industry = "software", int64_t employees = 50) {
    ids_.push_back(std::move(id));
    created_.push_back(created_at ? Nanos(*created_at) : 0);
    created_present_.push_back(created_at.has_value());
    industries_.push_back(std::move(industry));
    employees_.push_back(employees);
  }
  void Event(std::string lead_id, std::string type, std::string at) {
    event_leads_.push_back(std::move(lead_id));
    event_ids_.push_back("ev-" + std::to_string(event_ids_.size()));
    types_.push_back(std::move(type));
    occurred_.push_back(Nanos(at));
  }

  std::unique_ptr<LeadTable> Table() {
    views_.clear();
    std::vector<Column> leads = {Text("id", ids_),
                                 Text("industry", industries_)};
    Column created{"created_at", Column::Type::kTime};
    created.ints = absl::MakeConstSpan(created_);
    created.present = absl::MakeConstSpan(created_present_);
    Column employees{"employee_count", Column::Type::kInt};
    employees.ints = absl::MakeConstSpan(employees_);
    leads.push_back(created);
    leads.push_back(employees);
    std::vector<Column> events = {Text("lead_id", event_leads_),
                                  Text("id", event_ids_), Text("type", types_)};
    Column occurred{"occurred_at", Column::Type::kTime};
    occurred.ints = absl::MakeConstSpan(occurred_);
    events.push_back(occurred);
    auto table = LeadTable::Create(std::move(leads), std::move(events));
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() ? *std::move(table) : nullptr;
  }

 private:
  Column Text(std::string name, const std::vector<std::string>& values) {
    auto& views = views_.emplace_back(values.begin(), values.end());
    Column c{std::move(name), Column::Type::kText};
    c.text = absl::MakeConstSpan(views);
    return c;
  }

  std::vector<std::string> ids_, industries_;
  std::vector<int64_t> created_, employees_;
  std::vector<uint8_t> created_present_;
  std::vector<std::string> event_leads_, event_ids_, types_;
  std::vector<int64_t> occurred_;
  std::deque<std::vector<absl::string_view>> views_;
};

const absl::Time kEnd = At("2026-11-23T09:00:00Z");

ReplayColumns MustReplay(const LeadEngine& engine, const LeadTable& table,
                         int threads = 0) {
  ReplayOptions options;
  options.end = kEnd;
  options.threads = threads;
  ReplayColumns out;
  const absl::Status status = ReplayTable(engine, table, options, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

TEST(ReplayTableTest, DecidesEachLeadWhenItArrivedAndAtEachEvent) {
  auto engine = Engine();
  History h;
  // 0: two visits an hour apart on arrival day, long decayed by the end.
  h.Lead("decayed", "2026-10-01T10:00:00Z");
  h.Event("decayed", "page_view", "2026-10-01T10:00:00Z");
  h.Event("decayed", "page_view", "2026-10-01T11:00:00Z");
  // 1: quiet on arrival, MQL only at its second visit, ten days later.
  h.Lead("later", "2026-10-01T10:00:00Z");
  h.Event("later", "page_view", "2026-10-11T11:00:00Z");
  h.Event("later", "page_view", "2026-10-11T10:00:00Z");
  // 2: one visit: never enough.
  h.Lead("never", "2026-10-01T10:00:00Z");
  h.Event("never", "page_view", "2026-10-02T10:00:00Z");
  // 3: a demo request a month before the end, outside the lookback by then.
  h.Lead("demo", "2026-10-01T10:00:00Z");
  h.Event("demo", "demo_request", "2026-10-20T15:00:00Z");
  // 4: out of target from its arrival: its later visits change nothing.
  h.Lead("gambler", "2026-10-01T10:00:00Z", "gambling");
  h.Event("gambler", "page_view", "2026-10-05T10:00:00Z");
  h.Event("gambler", "page_view", "2026-10-05T10:30:00Z");
  // 5: no created_at: it arrives with its first event; the second visit
  // comes after the end of the history.
  h.Lead("undated", std::nullopt);
  h.Event("undated", "page_view", "2026-11-20T08:00:00Z");
  h.Event("undated", "page_view", "2026-11-23T09:30:00Z");
  // 6: arrives after the end.
  h.Lead("future", "2026-11-24T10:00:00Z");
  auto table = h.Table();
  ASSERT_NE(table, nullptr);

  const ReplayColumns r = MustReplay(*engine, *table);
  const std::vector<int32_t> stages = {
      v1::LIFECYCLE_STAGE_MQL,          v1::LIFECYCLE_STAGE_MQL,
      v1::LIFECYCLE_STAGE_NURTURE,      v1::LIFECYCLE_STAGE_MQL,
      v1::LIFECYCLE_STAGE_DISQUALIFIED, v1::LIFECYCLE_STAGE_NURTURE,
      v1::LIFECYCLE_STAGE_UNSPECIFIED};
  EXPECT_EQ(r.stage, stages);
  EXPECT_EQ(r.decided_at[0], Nanos("2026-10-01T11:00:00Z"));
  EXPECT_EQ(r.decided_at[1], Nanos("2026-10-11T11:00:00Z"));
  EXPECT_EQ(r.decided_at[2], Nanos("2026-10-02T10:00:00Z"));
  EXPECT_EQ(r.decided_at[3], Nanos("2026-10-20T15:00:00Z"));
  EXPECT_EQ(r.decided_at[4], Nanos("2026-10-01T10:00:00Z"));
  EXPECT_EQ(r.decided_at[5], Nanos("2026-11-20T08:00:00Z"));
  EXPECT_EQ(r.decided_at[6], ReplayColumns::kNotReplayed);
  EXPECT_EQ(r.arrived_at[5], Nanos("2026-11-20T08:00:00Z"));
  EXPECT_EQ(r.arrived_at[6], Nanos("2026-11-24T10:00:00Z"));
  EXPECT_EQ(r.decisions, (std::vector<int32_t>{2, 3, 2, 2, 1, 1, 0}));
  // The scores of the moment of the decision: two fresh visits.
  EXPECT_NEAR(r.engagement[0], 25 + 25 * std::exp2(-1.0 / (7 * 24)), 1e-9);
  EXPECT_DOUBLE_EQ(r.fit[0], 60);
  EXPECT_TRUE(r.hand_raiser[3]);
  EXPECT_EQ(r.priority[3], v1::PRIORITY_URGENT);
  EXPECT_EQ(r.disqualification_reason[4], v1::DISQUALIFICATION_REASON_INDUSTRY);

  // Scored once at the end, the decayed lead and the demo request are not
  // MQLs: what the replay is for.
  ScoreTableOptions at_end;
  at_end.now = kEnd;
  ScoreColumns end;
  ASSERT_TRUE(ScoreTable(engine->playbook(), *table, at_end, &end).ok());
  EXPECT_EQ(end.stage[0], v1::LIFECYCLE_STAGE_NURTURE);
  EXPECT_EQ(end.stage[3], v1::LIFECYCLE_STAGE_NURTURE);
}

TEST(ReplayTableTest, EventsBeforeTheArrivalCountFromIt) {
  auto engine = Engine();
  History h;
  // Imported with its past: both visits are scored at the arrival, decayed
  // by the day between.
  h.Lead("imported", "2026-11-02T10:00:00Z");
  h.Event("imported", "page_view", "2026-11-01T10:00:00Z");
  h.Event("imported", "page_view", "2026-11-01T10:00:00Z");
  auto table = h.Table();
  ASSERT_NE(table, nullptr);
  const ReplayColumns r = MustReplay(*engine, *table);
  EXPECT_EQ(r.decisions[0], 1);
  EXPECT_EQ(r.decided_at[0], Nanos("2026-11-02T10:00:00Z"));
  EXPECT_NEAR(r.engagement[0], 50 * std::exp2(-1.0 / 7), 1e-9);
  EXPECT_EQ(r.stage[0], v1::LIFECYCLE_STAGE_MQL);
}

TEST(ReplayTableTest, ResultsDoNotDependOnTheThreadCount) {
  auto engine = Engine();
  History h;
  for (int i = 0; i < 500; ++i) {
    const std::string id = "lead-" + std::to_string(i);
    h.Lead(id, "2026-10-01T10:00:00Z", i % 7 == 0 ? "gambling" : "software");
    for (int e = 0; e < i % 5; ++e) {
      h.Event(id, e % 3 == 2 ? "demo_request" : "page_view",
              absl::FormatTime(absl::RFC3339_full,
                               At("2026-10-02T10:00:00Z") +
                                   absl::Hours(3 * (i % 11) + 20 * e),
                               absl::UTCTimeZone()));
    }
  }
  auto table = h.Table();
  ASSERT_NE(table, nullptr);
  const ReplayColumns one = MustReplay(*engine, *table, 1);
  const ReplayColumns three = MustReplay(*engine, *table, 3);
  for (v1::LifecycleStage stage :
       {v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE,
        v1::LIFECYCLE_STAGE_DISQUALIFIED}) {
    EXPECT_GT(std::count(one.stage.begin(), one.stage.end(), stage), 10)
        << stage;
  }
  EXPECT_EQ(one.stage, three.stage);
  EXPECT_EQ(one.decided_at, three.decided_at);
  EXPECT_EQ(one.total, three.total);
  EXPECT_EQ(one.decisions, three.decisions);
}

TEST(ReplayTableTest, RefusesABadLeadNamingItsRowIdAndField) {
  auto engine = Engine();
  History h;
  h.Lead("fine", "2026-10-01T10:00:00Z");
  h.Lead("negative", "2026-10-01T10:00:00Z", "software", -3);
  h.Lead("also-negative", "2026-10-01T10:00:00Z", "software", -4);
  auto table = h.Table();
  ASSERT_NE(table, nullptr);
  for (int threads : {1, 2}) {
    ReplayOptions options;
    options.end = kEnd;
    options.threads = threads;
    ReplayColumns out;
    const absl::Status status = ReplayTable(*engine, *table, options, &out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("lead \"negative\""));
    EXPECT_THAT(status.message(), HasSubstr("must not be negative"));
    auto problems = ProblemsFromStatus(status);
    ASSERT_TRUE(problems && problems->problems_size() == 1);
    EXPECT_EQ(problems->problems(0).path(), "leads[1].company.employee_count");
  }
}

}  // namespace
}  // namespace smarketing
