// LeadTable: leads built from columns, one by one (Build) or over the
// previous lead (TableLeadBuilder), the column forms data tools hand over,
// and ScoreTable's scores and routing.
#include "core/batch/lead_table.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/batch/lead_columns_writer.h"
#include "core/batch/score_table.h"
#include "core/checks/playbook_diff.h"
#include "core/journey/lead_engine.h"
#include "core/scoring/scorer.h"
#include "core/synthetic/lead_generator.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::DemoPlaybook;
using ::smarketing::testing::ExpectFlatEventsAre;
using ::smarketing::testing::MustCompile;
using ::testing::HasSubstr;

const absl::Time kNow = At("2026-11-23T09:00:00Z");

// Columns over LeadColumnsWriter tables, in the forms pandas hands over:
// categorical codes in the narrowest width, text as views, times with a
// presence mask only where some are missing.
class Columns {
 public:
  std::vector<Column> From(LeadColumnsWriter::Table& table) {
    std::vector<Column> out;
    for (auto& [name, text] : table.text) out.push_back(Text(name, text));
    for (auto& [name, v] : table.ints) {
      Column c{name, Column::Type::kInt};
      c.ints = absl::MakeConstSpan(v);
      out.push_back(c);
    }
    for (auto& [name, v] : table.doubles) {
      Column c{name, Column::Type::kDouble};
      c.doubles = absl::MakeConstSpan(v);
      out.push_back(c);
    }
    for (auto& [name, v] : table.bools) {
      Column c{name, Column::Type::kBool};
      c.bools = absl::MakeConstSpan(v);
      out.push_back(c);
    }
    for (auto& [name, v] : table.times) {
      Column c{name, Column::Type::kTime};
      c.ints = absl::MakeConstSpan(v.ticks);
      c.ticks_per_second = v.ticks_per_second;
      if (std::count(v.present.begin(), v.present.end(), 0) > 0) {
        c.present = absl::MakeConstSpan(v.present);
      }
      out.push_back(c);
    }
    for (auto& [name, v] : table.values) {
      // The generator's attributes and properties are text or numbers.
      const bool numbers =
          std::none_of(v.kinds.begin(), v.kinds.end(), [](uint8_t k) {
            return k == LeadColumnsWriter::ValueColumn::kText ||
                   k == LeadColumnsWriter::ValueColumn::kBool;
          });
      if (!numbers) {
        out.push_back(Text(name, v.text));
        continue;
      }
      Column c{name, Column::Type::kDouble};
      c.doubles = absl::MakeConstSpan(v.numbers);
      auto& present = bytes_.emplace_back();
      for (uint8_t k : v.kinds) present.push_back(k != 0);
      c.present = absl::MakeConstSpan(present);
      out.push_back(c);
    }
    return out;
  }

 private:
  Column Text(const std::string& name, LeadColumnsWriter::TextColumn& text) {
    Column c{name, Column::Type::kText};
    if (text.codes.empty()) {
      auto& views = views_.emplace_back(text.values.begin(), text.values.end());
      auto& present = bytes_.emplace_back();
      for (const std::string& s : text.values) present.push_back(!s.empty());
      c.text = absl::MakeConstSpan(views);
      if (std::count(present.begin(), present.end(), 0) > 0) {
        c.present = absl::MakeConstSpan(present);
      }
      return c;
    }
    auto& dictionary =
        views_.emplace_back(text.dictionary.begin(), text.dictionary.end());
    c.dictionary = absl::MakeConstSpan(dictionary);
    if (text.dictionary.size() < 128) {
      c.codes8 = absl::MakeConstSpan(
          codes8_.emplace_back(text.codes.begin(), text.codes.end()));
    } else if (text.dictionary.size() < 32768) {
      c.codes16 = absl::MakeConstSpan(
          codes16_.emplace_back(text.codes.begin(), text.codes.end()));
    } else {
      c.codes = absl::MakeConstSpan(text.codes);
    }
    return c;
  }

  std::deque<std::vector<absl::string_view>> views_;
  std::deque<std::vector<uint8_t>> bytes_;
  std::deque<std::vector<int8_t>> codes8_;
  std::deque<std::vector<int16_t>> codes16_;
};

// Synthetic leads as tables, and the columns over them.
struct Sample {
  explicit Sample(int64_t count, uint64_t seed = 5) {
    LeadGeneratorOptions options;
    options.seed = seed;
    options.now = kNow;
    LeadGenerator generator(options);
    LeadColumnsWriter writer;
    v1::Lead lead;
    for (int64_t i = 0; i < count; ++i) {
      generator.Generate(i, &lead);
      writer.Add(lead);
    }
    leads = writer.TakeLeads();
    events = writer.TakeEvents();
    lead_columns = columns.From(leads);
    event_columns = columns.From(events);
  }
  std::unique_ptr<LeadTable> Table() const {
    auto table = LeadTable::Create(lead_columns, event_columns);
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() ? std::move(*table) : nullptr;
  }
  LeadColumnsWriter::Table leads, events;
  Columns columns;
  std::vector<Column> lead_columns, event_columns;
};

// A lead without the empty sub-messages a reused lead may keep.
v1::Lead Normalized(const v1::Lead& lead) {
  v1::Lead out = lead;
  if (out.contact().ByteSizeLong() == 0) out.clear_contact();
  if (out.company().ByteSizeLong() == 0) out.clear_company();
  if (out.consent().ByteSizeLong() == 0) out.clear_consent();
  if (out.attributes().fields().empty()) out.clear_attributes();
  for (v1::Event& event : *out.mutable_events()) {
    if (event.properties().fields().empty()) event.clear_properties();
  }
  return out;
}

void ExpectSameLead(const v1::Lead& expected, const v1::Lead& actual) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(Normalized(expected), Normalized(actual)))
      << diff;
}

TEST(LeadTableTest, BuilderGivesEveryLeadAsBuildDoesInAnyOrder) {
  Sample sample(400);
  auto table = sample.Table();
  ASSERT_NE(table, nullptr);
  std::vector<int64_t> rows(table->size());
  std::iota(rows.begin(), rows.end(), 0);
  std::shuffle(rows.begin(), rows.end(), std::mt19937(11));
  TableLeadBuilder builder(*table);
  v1::Lead expected;
  for (int64_t r : rows) {
    table->Build(r, &expected);
    ExpectSameLead(expected, builder.Build(r));
    v1::Lead without_events = expected;
    without_events.clear_events();
    ExpectSameLead(without_events, builder.BuildWithoutEvents(r));
  }
}

// Scoring a table reads leads laid out flat: they must be the leads Build
// makes, and score the same, in any order of rows.
TEST(LeadTableTest, BuildFlatLaysOutEveryLeadAsBuildDoes) {
  Sample sample(400);
  auto table = sample.Table();
  ASSERT_NE(table, nullptr);
  std::vector<int64_t> rows(table->size());
  std::iota(rows.begin(), rows.end(), 0);
  std::shuffle(rows.begin(), rows.end(), std::mt19937(12));
  auto playbook = MustCompile(DemoPlaybook());
  ASSERT_NE(playbook, nullptr);
  Scorer flat_scorer(playbook);
  Scorer scorer(playbook);
  TableLeadBuilder builder(*table);
  FlatLead flat;
  v1::Lead expected;
  LeadScore flat_score;
  LeadScore score;
  for (int64_t r : rows) {
    const std::string where = absl::StrCat("row ", r);
    table->Build(r, &expected);
    const v1::Lead* fields = builder.BuildFlat(r, &flat);
    ASSERT_NE(fields, nullptr) << where;
    v1::Lead without_events = expected;
    without_events.clear_events();
    ExpectSameLead(without_events, *fields);
    ExpectFlatEventsAre(flat, expected, where);
    flat_scorer.ScoreFlat(flat, kNow, &flat_score);
    ASSERT_TRUE(scorer.Score(expected, kNow, &score).ok()) << where;
    v1::ScoreResult from_flat;
    v1::ScoreResult from_lead;
    flat_scorer.ToProto(*fields, flat_score, kNow, &from_flat);
    scorer.ToProto(expected, score, kNow, &from_lead);
    EXPECT_EQ(from_flat.SerializeAsString(), from_lead.SerializeAsString())
        << where;
  }
}

// What the flat form does not hold as Build does (a list or object
// property, a time property, written as text by Build) and what validation
// refuses is left to Build and the scorer's checks, lead by lead.
TEST(LeadTableTest, BuildFlatLeavesTheRestToBuild) {
  std::vector<absl::string_view> ids = {"plain", "json",   "time",
                                        "nan",   "custom", "long-id"};
  std::vector<Column> leads(1);
  leads[0] = {"id", Column::Type::kText};
  leads[0].text = absl::MakeConstSpan(ids);
  std::vector<int8_t> lead_of = {0, 1, 2, 3, 4, 5};
  std::vector<absl::string_view> types = {"page_view", "page_view",
                                          "page_view", "page_view",
                                          "custom",    "page_view"};
  std::vector<int64_t> seconds = {100, 200, 300, 400, 500, 600};
  const std::string long_id(300, 'e');
  std::vector<absl::string_view> event_ids = {"e0", "e1", "e2",
                                              "e3", "e4", long_id};
  std::vector<uint8_t> kinds = {Column::kText,    Column::kJson,
                                Column::kMissing, Column::kNumber,
                                Column::kBool,    Column::kMissing};
  std::vector<absl::string_view> value_text = {"/pricing", "[1, 2]", "",
                                               "",         "",       ""};
  std::vector<double> value_numbers = {0, 0, 0, std::nan(""), 0, 0};
  std::vector<uint8_t> value_bools = {0, 0, 0, 0, 1, 0};
  std::vector<uint8_t> value_present = {1, 1, 0, 1, 1, 0};
  std::vector<int64_t> when = {0, 0, 1700000000, 0, 0, 0};
  std::vector<uint8_t> when_present = {0, 0, 1, 0, 0, 0};
  std::vector<Column> events(6);
  events[0] = {"lead_id", Column::Type::kText};
  events[0].codes8 = absl::MakeConstSpan(lead_of);
  events[0].dictionary = absl::MakeConstSpan(ids);
  events[1] = {"type", Column::Type::kText};
  events[1].text = absl::MakeConstSpan(types);
  events[2] = {"occurred_at", Column::Type::kTime};
  events[2].ints = absl::MakeConstSpan(seconds);
  events[2].ticks_per_second = 1;
  events[3] = {"id", Column::Type::kText};
  events[3].text = absl::MakeConstSpan(event_ids);
  events[4] = {"properties.v", Column::Type::kValue};
  events[4].kinds = absl::MakeConstSpan(kinds);
  events[4].text = absl::MakeConstSpan(value_text);
  events[4].doubles = absl::MakeConstSpan(value_numbers);
  events[4].bools = absl::MakeConstSpan(value_bools);
  events[4].present = absl::MakeConstSpan(value_present);
  events[5] = {"properties.when", Column::Type::kTime};
  events[5].ints = absl::MakeConstSpan(when);
  events[5].ticks_per_second = 1;
  events[5].present = absl::MakeConstSpan(when_present);
  auto table = LeadTable::Create(leads, events);
  ASSERT_TRUE(table.ok()) << table.status();

  TableLeadBuilder builder(**table);
  FlatLead flat;
  v1::Lead expected;
  // Only "plain" is laid out flat. The others: a list, a time property, a
  // number that is not finite, a custom event without its custom type and
  // an event id too long (the last three refused by validation).
  const bool flat_path[] = {true, false, false, false, false, false};
  for (int64_t r = 0; r < (*table)->size(); ++r) {
    const std::string where = absl::StrCat("row ", r, " (", ids[r], ")");
    const v1::Lead* fields = builder.BuildFlat(r, &flat);
    ASSERT_EQ(fields != nullptr, flat_path[r]) << where;
    if (fields == nullptr) continue;
    (*table)->Build(r, &expected);
    ExpectFlatEventsAre(flat, expected, where);
  }
}

TEST(LeadTableTest, NothingLeaksFromOneLeadToTheNext) {
  std::vector<absl::string_view> ids = {"a", "b", "c"};
  std::vector<absl::string_view> industries = {"saas", "", "retail"};
  std::vector<uint8_t> industry_present = {1, 0, 1};
  std::vector<double> plan = {3, 0, 0};
  std::vector<uint8_t> plan_present = {1, 0, 0};
  std::vector<Column> leads(3);
  leads[0] = {"id", Column::Type::kText};
  leads[0].text = absl::MakeConstSpan(ids);
  leads[1] = {"industry", Column::Type::kText};
  leads[1].text = absl::MakeConstSpan(industries);
  leads[1].present = absl::MakeConstSpan(industry_present);
  leads[2] = {"attributes.plan", Column::Type::kDouble};
  leads[2].doubles = absl::MakeConstSpan(plan);
  leads[2].present = absl::MakeConstSpan(plan_present);

  // Lead a: two page views with a url; b: a page view with a topic only and
  // a custom event; c: one page view with no property at all.
  std::vector<absl::string_view> dictionary = {"a", "b", "c"};
  std::vector<int8_t> lead_of = {0, 0, 1, 1, 2};
  std::vector<absl::string_view> types = {"page_view", "page_view", "page_view",
                                          "custom", "page_view"};
  std::vector<int64_t> seconds = {100, 200, 300, 400, 500};
  std::vector<absl::string_view> custom = {"", "", "", "trial", ""};
  std::vector<uint8_t> custom_present = {0, 0, 0, 1, 0};
  std::vector<absl::string_view> url_dictionary = {"/pricing", "/docs"};
  std::vector<int16_t> urls = {0, 1, -1, -1, -1};
  std::vector<absl::string_view> topics = {"", "", "blog", "", ""};
  std::vector<uint8_t> topic_present = {0, 0, 1, 0, 0};
  std::vector<Column> events(6);
  events[0] = {"lead_id", Column::Type::kText};
  events[0].codes8 = absl::MakeConstSpan(lead_of);
  events[0].dictionary = absl::MakeConstSpan(dictionary);
  events[1] = {"type", Column::Type::kText};
  events[1].text = absl::MakeConstSpan(types);
  events[2] = {"occurred_at", Column::Type::kTime};
  events[2].ints = absl::MakeConstSpan(seconds);
  events[2].ticks_per_second = 1;
  events[3] = {"custom_type", Column::Type::kText};
  events[3].text = absl::MakeConstSpan(custom);
  events[3].present = absl::MakeConstSpan(custom_present);
  events[4] = {"properties.url", Column::Type::kText};
  events[4].codes16 = absl::MakeConstSpan(urls);
  events[4].dictionary = absl::MakeConstSpan(url_dictionary);
  events[5] = {"properties.topic", Column::Type::kText};
  events[5].text = absl::MakeConstSpan(topics);
  events[5].present = absl::MakeConstSpan(topic_present);
  auto table = LeadTable::Create(leads, events);
  ASSERT_TRUE(table.ok()) << table.status();

  TableLeadBuilder builder(**table);
  v1::Lead expected;
  for (int64_t r : {0, 1, 2, 0, 2, 1}) {
    (*table)->Build(r, &expected);
    ExpectSameLead(expected, builder.Build(r));
  }
  const v1::Lead& b = builder.Build(1);
  EXPECT_EQ(b.company().industry(), "");
  EXPECT_FALSE(b.has_attributes() && b.attributes().fields().contains("plan"));
  ASSERT_EQ(b.events_size(), 2);
  EXPECT_EQ(b.events(0).id(), "2");  // the events table row
  EXPECT_EQ(b.events(0).occurred_at().seconds(), 300);
  EXPECT_EQ(b.events(0).custom_type(), "");
  ASSERT_EQ(b.events(0).properties().fields().size(), 1);
  EXPECT_EQ(b.events(0).properties().fields().at("topic").string_value(),
            "blog");
  EXPECT_EQ(b.events(1).type(), v1::EVENT_TYPE_CUSTOM);
  EXPECT_EQ(b.events(1).custom_type(), "trial");
  const v1::Lead& c = builder.Build(2);
  ASSERT_EQ(c.events_size(), 1);
  EXPECT_TRUE(c.events(0).properties().fields().empty());
  const v1::Lead& a = builder.Build(0);
  EXPECT_EQ(a.attributes().fields().at("plan").number_value(), 3);
  ASSERT_EQ(a.events_size(), 2);
  EXPECT_EQ(a.events(1).properties().fields().at("url").string_value(),
            "/docs");
}

TEST(LeadTableTest, EventsInAnyOrderOfLeadsKeepTheirOrderWithinALead) {
  std::vector<absl::string_view> ids = {"a", "b"};
  std::vector<Column> leads(1);
  leads[0] = {"id", Column::Type::kText};
  leads[0].text = absl::MakeConstSpan(ids);
  std::vector<absl::string_view> lead_of = {"b", "a", "b", "a"};
  std::vector<absl::string_view> types = {"page_view", "email_open",
                                          "demo_request", "email_click"};
  // Milliseconds, one of them before 1970.
  std::vector<int64_t> millis = {1500, -2500, 3000, 4000};
  std::vector<Column> events(3);
  events[0] = {"lead_id", Column::Type::kText};
  events[0].text = absl::MakeConstSpan(lead_of);
  events[1] = {"type", Column::Type::kText};
  events[1].text = absl::MakeConstSpan(types);
  events[2] = {"occurred_at", Column::Type::kTime};
  events[2].ints = absl::MakeConstSpan(millis);
  events[2].ticks_per_second = 1000;
  auto table = LeadTable::Create(leads, events);
  ASSERT_TRUE(table.ok()) << table.status();
  TableLeadBuilder builder(**table);
  const v1::Lead& a = builder.Build(0);
  ASSERT_EQ(a.events_size(), 2);
  EXPECT_EQ(a.events(0).type(), v1::EVENT_TYPE_EMAIL_OPEN);
  EXPECT_EQ(a.events(0).occurred_at().seconds(), -3);
  EXPECT_EQ(a.events(0).occurred_at().nanos(), 500000000);
  EXPECT_EQ(a.events(1).type(), v1::EVENT_TYPE_EMAIL_CLICK);
  EXPECT_EQ((*table)->EventRow(0, 1), 3);
  const v1::Lead& b = builder.Build(1);
  ASSERT_EQ(b.events_size(), 2);
  EXPECT_EQ(b.events(0).id(), "0");
  EXPECT_EQ(b.events(0).occurred_at().seconds(), 1);
  EXPECT_EQ(b.events(0).occurred_at().nanos(), 500000000);
  EXPECT_EQ(b.events(1).id(), "2");
  EXPECT_EQ((*table)->EventRow(1, 1), 2);
}

TEST(LeadTableTest, RefusesCodesOutsideTheCategoriesAndUnknownTimeUnits) {
  std::vector<absl::string_view> dictionary = {"a", "b"};
  std::vector<int16_t> codes = {0, 1, 2};
  std::vector<Column> leads(1);
  leads[0] = {"id", Column::Type::kText};
  leads[0].codes16 = absl::MakeConstSpan(codes);
  leads[0].dictionary = absl::MakeConstSpan(dictionary);
  auto table = LeadTable::Create(leads, {});
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr("row 2: category code 2"));

  std::vector<int16_t> good = {0, 1, -1};
  leads[0].codes16 = absl::MakeConstSpan(good);
  table = LeadTable::Create(leads, {});
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr("row 2: is missing"));

  std::vector<int16_t> two = {0, 1};
  std::vector<int64_t> times = {1, 2};
  leads[0].codes16 = absl::MakeConstSpan(two);
  leads.push_back({"created_at", Column::Type::kTime});
  leads[1].ints = absl::MakeConstSpan(times);
  leads[1].ticks_per_second = 60;
  table = LeadTable::Create(leads, {});
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(), HasSubstr("60 ticks per second"));
}

TEST(LeadTableTest, ScoresDoNotDependOnThreadsAndRoutingIsTheCommandLines) {
  Sample sample(3000);
  auto table = sample.Table();
  ASSERT_NE(table, nullptr);
  auto engine = LeadEngine::Create(DemoPlaybook());
  ASSERT_TRUE(engine.ok()) << engine.status();
  ScoreTableOptions options;
  options.now = kNow;
  options.engine = *engine;
  ScoreColumns one, all;
  options.threads = 1;
  ASSERT_TRUE(ScoreTable((*engine)->playbook(), *table, options, &one).ok());
  options.threads = 0;
  ASSERT_TRUE(ScoreTable((*engine)->playbook(), *table, options, &all).ok());
  EXPECT_EQ(one.total, all.total);
  EXPECT_EQ(one.stage, all.stage);
  EXPECT_EQ(one.team, all.team);
  EXPECT_EQ(one.owner, all.owner);

  // As `smarketing score` routes a file: each lead scored whole, MQLs
  // assigned in order.
  Scorer scorer((*engine)->playbook());
  v1::RoutingState routing;
  v1::Lead lead;
  int mqls = 0;
  for (int64_t r = 0; r < table->size(); ++r) {
    table->Build(r, &lead);
    auto result = scorer.Score(lead, kNow);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->total_score(), all.total[r]);
    EXPECT_EQ(result->recommended_stage(), all.stage[r]);
    (*engine)->AssignNewMql(lead, kNow, &routing, &*result);
    const std::string team = all.team[r] < 0 ? "" : all.teams[all.team[r]];
    const std::string owner = all.owner[r] < 0 ? "" : all.owners[all.owner[r]];
    EXPECT_EQ(result->routing().team_id(), team) << "row " << r;
    EXPECT_EQ(result->routing().owner_id(), owner) << "row " << r;
    mqls += result->recommended_stage() == v1::LIFECYCLE_STAGE_MQL;
  }
  EXPECT_GT(mqls, 100);
}

// Python's diff measures a table; the command line, a file of the same
// leads: the two must count alike, and list the same changed leads.
TEST(LeadTableTest, TableImpactIsTheFileImpact) {
  const Sample sample(3000);
  std::string jsonl;
  LeadGeneratorOptions generator_options;
  generator_options.seed = 5;
  generator_options.now = kNow;
  LeadGenerator generator(generator_options);
  v1::Lead lead;
  for (int64_t i = 0; i < 3000; ++i) {
    generator.Generate(i, &lead);
    std::string line;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(lead, &line).ok());
    absl::StrAppend(&jsonl, line, "\n");
  }
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/table-impact.jsonl");
  std::ofstream(path) << jsonl;

  v1::Playbook stricter = DemoPlaybook();
  stricter.mutable_thresholds()->mutable_mql()->set_min_total(125);
  auto before = LeadEngine::Create(DemoPlaybook());
  auto after = LeadEngine::Create(stricter);
  ASSERT_TRUE(before.ok() && after.ok());
  LeadImpactOptions options;
  options.now = kNow;
  options.threads = 3;
  options.list_changed = true;
  auto reader = LeadBlockReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto from_file = MeasureLeadImpact(*before, *after, reader->get(), options);
  auto from_table =
      MeasureTableImpact(*before, *after, *sample.Table(), options);
  std::remove(path.c_str());
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  ASSERT_TRUE(from_table.ok()) << from_table.status();
  EXPECT_EQ(from_table->leads, 3000);
  EXPECT_EQ(from_table->refused, 0);
  EXPECT_EQ(from_table->stages.counts, from_file->stages.counts);
  EXPECT_EQ(from_table->grades.counts, from_file->grades.counts);
  EXPECT_EQ(from_table->teams.counts, from_file->teams.counts);
  EXPECT_GT(from_table->changed_leads, 10);
  ASSERT_EQ(from_table->changed.size(),
            static_cast<size_t>(from_table->changed_leads));
  ASSERT_EQ(from_file->changed.size(), from_table->changed.size());
  for (size_t i = 0; i < from_table->changed.size(); ++i) {
    const LeadDelta& t = from_table->changed[i];
    const LeadDelta& f = from_file->changed[i];
    EXPECT_EQ(t.lead_id, f.lead_id);
    EXPECT_EQ(t.line + 1, f.line) << "rows count from 0, lines from 1";
    EXPECT_EQ(t.stage_after, f.stage_after);
    EXPECT_EQ(t.team_before, f.team_before);
    EXPECT_EQ(t.team_after, f.team_after);
    if (i > 0)
      EXPECT_LT(from_table->changed[i - 1].line, t.line) << "in input order";
  }
}

}  // namespace
}  // namespace smarketing
