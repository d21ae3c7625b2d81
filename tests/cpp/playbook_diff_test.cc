#include "core/checks/playbook_diff.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/leads/lead_blocks.h"
#include "core/playbook/playbook_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::MinimalPlaybookYaml;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The minimal Playbook with rules in every list the diff matches by key.
std::string Base() {
  return absl::StrCat(MinimalPlaybookYaml(), R"(
  rules:
    - id: click
      description: Clicked an e-mail
      event_types: [email_click]
      points: 10
    - id: open
      event_types: [email_open]
      points: 1
fit_rules:
  - id: has-phone
    when: {field: contact.phone, exists: true}
    points: 5
  - id: big
    when: {field: company.employee_count, range: {min: 1000}}
    points: 10
disqualification_rules:
  - id: competitor
    when: {field: company.domain, in: [rival.com]}
    reason: competitor
sla:
  default_calendar:
    time_zone: UTC
    working_hours: [{weekday: monday, start: "09:00", end: "17:00"}]
  policies:
    - {priority: high, first_touch: 4h, accept_or_reject: 9h}
    - {priority: medium, first_touch: 9h, accept_or_reject: 27h}
)");
}

PlaybookSource Parse(const std::string& yaml) {
  auto source = ParsePlaybook(yaml, PlaybookFormat::kYaml, "p.yaml");
  EXPECT_TRUE(source.ok()) << source.status().message();
  return source.ok() ? *std::move(source) : PlaybookSource();
}

std::vector<RuleChange> Diff(const std::string& before,
                             const std::string& after) {
  const PlaybookSource a = Parse(before);
  const PlaybookSource b = Parse(after);
  return DiffPlaybookRules(a.playbook, b.playbook, &a.positions, &b.positions);
}

// "changed fit_rules \"big\": points 10 -> 15; ..." for readable assertions.
std::vector<std::string> Lines(const std::vector<RuleChange>& changes) {
  std::vector<std::string> lines;
  for (const RuleChange& c : changes) {
    std::string line = absl::StrCat(ChangeKindName(c.kind), " ", c.section);
    if (!c.id.empty()) absl::StrAppend(&line, " \"", c.id, "\"");
    for (const FieldChange& f : c.fields) {
      absl::StrAppend(&line, "; ", f.field, ": ", f.before, " -> ", f.after);
    }
    lines.push_back(line);
  }
  return lines;
}

std::string Replace(std::string text, absl::string_view from,
                    absl::string_view to) {
  EXPECT_THAT(text, HasSubstr(from));
  return absl::StrReplaceAll(text, {{from, to}});
}

TEST(PlaybookDiffTest, IdenticalPlaybooksHaveNoChange) {
  EXPECT_THAT(Diff(Base(), Base()), IsEmpty());
}

TEST(PlaybookDiffTest, RulesAreMatchedByIdNotPosition) {
  // "big" moves before "has-phone" and gains points.
  const std::string after = Replace(Base(), R"(  - id: has-phone
    when: {field: contact.phone, exists: true}
    points: 5
  - id: big
    when: {field: company.employee_count, range: {min: 1000}}
    points: 10
)",
                                    R"(  - id: big
    when: {field: company.employee_count, range: {min: 1000}}
    points: 15
  - id: has-phone
    when: {field: contact.phone, exists: true}
    points: 5
)");
  const std::vector<RuleChange> changes = Diff(Base(), after);
  EXPECT_THAT(
      Lines(changes),
      ElementsAre("changed fit_rules; order: has-phone, big -> big, has-phone",
                  "changed fit_rules \"big\"; points: 10 -> 15"));
  EXPECT_EQ(changes[1].path, "fit_rules[0]");
  EXPECT_GT(changes[1].position.line, 0);
  EXPECT_GT(changes[1].fields[0].position.line, changes[1].position.line);
}

TEST(PlaybookDiffTest, AddedAndRemovedItemsAreLocatedInTheirPlaybook) {
  std::string after = Replace(Base(), R"(    - id: open
      event_types: [email_open]
      points: 1
)",
                              R"(    - id: webinar
      event_types: [webinar_attendance]
      points: 20
)");
  const PlaybookSource a = Parse(Base());
  const PlaybookSource b = Parse(after);
  const std::vector<RuleChange> changes =
      DiffPlaybookRules(a.playbook, b.playbook, &a.positions, &b.positions);
  EXPECT_THAT(Lines(changes), ElementsAre("added engagement.rules \"webinar\"",
                                          "removed engagement.rules \"open\""));
  EXPECT_EQ(changes[0].path, "engagement.rules[1]");
  EXPECT_EQ(changes[0].position.line,
            b.positions.at("engagement.rules[1]").line);
  EXPECT_EQ(changes[1].path, "engagement.rules[1]");
  EXPECT_EQ(changes[1].position.line,
            a.positions.at("engagement.rules[1]").line);
}

TEST(PlaybookDiffTest, SectionsAndConditionsChangeFieldByField) {
  std::string after = Replace(Base(), "mql: {min_total: 100, min_fit: 50}",
                              "mql: {min_total: 90, min_fit: 50}");
  after = Replace(after, "in: [rival.com]", "in: [rival.com, other-rival.com]");
  after = Replace(after, "  half_life: 7d", "  half_life: 14d");
  EXPECT_THAT(
      Lines(Diff(Base(), after)),
      ElementsAre("changed engagement; half_life: 7d -> 14d",
                  "changed disqualification_rules \"competitor\"; when.in: "
                  "[\"rival.com\"] -> [\"rival.com\",\"other-rival.com\"]",
                  "changed thresholds; mql.min_total: 100 -> 90"));
}

TEST(PlaybookDiffTest, SettingsOfTheRicherLanguageAreListed) {
  // Sections and fields added to the language since the diff was written
  // are compared like the others, with nothing to keep in step.
  std::string after =
      Replace(Base(), "when: {field: company.domain, in: [rival.com]}",
              "when: {field: company.domain, contains_any: [rival, foe]}");
  after = Replace(after, "range: {min: 1000}",
                  "range: {min: 1000, min_exclusive: true}");
  after += R"(
fit: {base_points: 5}
disqualified: {zero_scores: true, grade: D}
opt_out_policy: never_mql
)";
  EXPECT_THAT(
      Lines(Diff(Base(), after)),
      ElementsAre("changed fit_rules \"big\"; when.range.min_exclusive: "
                  "(unset) -> true",
                  "changed disqualification_rules \"competitor\"; when.in: "
                  "[\"rival.com\"] -> (unset)"
                  "; when.contains_any: (unset) -> [\"rival\",\"foe\"]",
                  "changed fit; base_points: (unset) -> 5",
                  "changed disqualified; zero_scores: (unset) -> true; grade: "
                  "(unset) -> \"D\"",
                  "changed playbook; opt_out_policy: (unset) -> never_mql"));
}

TEST(PlaybookDiffTest, GradeBandsSlaPoliciesAndTeamsHaveTheirKeys) {
  std::string after = Replace(Base(), "{grade: A, min_fit: 80, max_fit: 100}",
                              "{grade: A, min_fit: 85, max_fit: 100}");
  after = Replace(after, "{grade: B, min_fit: 60, max_fit: 80}",
                  "{grade: B, min_fit: 60, max_fit: 85}");
  after = Replace(after, "{priority: high, first_touch: 4h,",
                  "{priority: high, first_touch: 2h,");
  after = absl::StrCat(after, R"(routing:
  teams:
    - id: emea
      strategy: round_robin
      members:
        - {id: u1, role: sales, available: true}
)");
  EXPECT_THAT(
      Lines(Diff(Base(), after)),
      ElementsAre("changed grade_bands \"B\"; max_fit: 80 -> 85",
                  "changed grade_bands \"A\"; min_fit: 80 -> 85",
                  "added routing.teams \"emea\"",
                  "changed sla.policies \"high\"; first_touch: 4h -> 2h"));
}

TEST(PlaybookDiffTest, NestedListsBecomeTheirOwnItems) {
  const std::string team = R"(routing:
  teams:
    - id: emea
      strategy: round_robin
      members:
        - {id: u1, role: sales, available: true}
        - {id: u2, role: sales, available: true}
)";
  const std::string before = absl::StrCat(Base(), team);
  const std::string after =
      Replace(Replace(before, "{id: u1, role: sales, available: true}",
                      "{id: u1, role: sales, available: false}"),
              "strategy: round_robin", "strategy: weighted");
  EXPECT_THAT(
      Lines(Diff(before, after)),
      ElementsAre(
          "changed routing.teams \"emea\"; strategy: round_robin -> weighted",
          "changed routing.teams[emea].members \"u1\"; available: true -> "
          "(unset)"));
}

TEST(PlaybookDiffTest, OrderOfPriorityRulesIsAChange) {
  const std::string rules = R"(priority:
  default_priority: low
  rules:
    - id: first
      when: {field: score.grade, equals: A}
      priority: high
    - id: second
      when: {field: score.total, range: {min: 100}}
      priority: medium
)";
  const std::string swapped = R"(priority:
  default_priority: low
  rules:
    - id: second
      when: {field: score.total, range: {min: 100}}
      priority: medium
    - id: first
      when: {field: score.grade, equals: A}
      priority: high
)";
  EXPECT_THAT(
      Lines(Diff(absl::StrCat(Base(), rules), absl::StrCat(Base(), swapped))),
      ElementsAre(
          "changed priority; rules order: first, second -> second, first"));
}

// A JSON-lines file of leads, removed at the end of the test.
class LeadFile {
 public:
  explicit LeadFile(const std::string& text)
      : path_(absl::StrCat(
            ::testing::TempDir(), "/leads-",
            ::testing::UnitTest::GetInstance()->current_test_info()->name(),
            ".jsonl")) {
    std::ofstream(path_) << text;
  }
  ~LeadFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// n software directors whose clicks put them around the MQL threshold:
// lead i has i % 5 clicks an hour ago, so totals step by about 10.
std::string Leads(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(
        &out, R"({"id":"lead-)", i,
        R"(","seniority":"SENIORITY_DIRECTOR","company":{"industry":"software"},"events":[)");
    for (int e = 0; e < i % 5; ++e) {
      absl::StrAppend(
          &out, e ? "," : "", R"({"id":"e)", e,
          R"(","type":"EVENT_TYPE_EMAIL_CLICK","occurredAt":"2026-11-23T11:00:00Z"})");
    }
    out += "]}\n";
  }
  return out;
}

std::shared_ptr<const LeadEngine> MustEngine(const std::string& yaml) {
  auto engine =
      LeadEngine::Create(::smarketing::testing::PlaybookFromYaml(yaml));
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  return engine.ok() ? *engine : nullptr;
}

LeadImpact Measure(const std::string& before, const std::string& after,
                   const std::string& path, int threads, int top = 3) {
  auto reader = LeadBlockReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  LeadImpactOptions options;
  options.now = At("2026-11-23T12:00:00Z");
  options.threads = threads;
  options.top = top;
  auto impact = MeasureLeadImpact(MustEngine(before), MustEngine(after),
                                  reader->get(), options);
  EXPECT_TRUE(impact.ok()) << impact.status().message();
  return impact.ok() ? *std::move(impact) : LeadImpact();
}

TEST(LeadImpactTest, CountsTransitionsAndKeepsTheLargestChanges) {
  // Every lead has fit 100, and about 10 points per click: all are MQL at
  // 100. Raised to 115 with 12 points per click, leads with fewer than two
  // clicks fall back to nurture, and every click moves the score.
  const std::string after =
      Replace(Replace(Base(), "mql: {min_total: 100, min_fit: 50}",
                      "mql: {min_total: 115, min_fit: 50}"),
              "      points: 10\n", "      points: 12\n");
  const LeadFile file(Leads(1000));
  const LeadImpact impact = Measure(Base(), after, file.path(), 4);
  EXPECT_EQ(impact.leads, 1000);
  EXPECT_EQ(impact.refused, 0);
  EXPECT_FALSE(impact.routed);
  ASSERT_THAT(impact.stages.labels, ElementsAre("mql", "nurture"));
  EXPECT_EQ(impact.stages.counts[0][1], 400);  // 0 and 1 click
  EXPECT_EQ(impact.stages.counts[0][0], 600);
  EXPECT_EQ(impact.stages.changed(), 400);
  EXPECT_EQ(impact.grades.changed(), 0);
  EXPECT_EQ(impact.changed_leads, 400);
  EXPECT_EQ(impact.score_changes, 800);  // every lead with a click
  ASSERT_EQ(impact.largest.size(), 3u);
  // 4 clicks move most; ties in file order.
  EXPECT_EQ(impact.largest[0].lead_id, "lead-4");
  EXPECT_EQ(impact.largest[0].line, 5);
  EXPECT_EQ(impact.largest[1].lead_id, "lead-9");
  EXPECT_EQ(impact.largest[2].lead_id, "lead-14");
  EXPECT_GT(impact.largest[0].delta(), 7);
}

TEST(LeadImpactTest, TeamsOfQualifiedLeads) {
  const std::string routing = R"(routing:
  teams:
    - id: emea
      strategy: round_robin
      members: [{id: u1, role: sales, available: true}]
    - id: global
      strategy: round_robin
      members: [{id: u9, role: sales, available: true}]
  rules:
    - id: emea-rule
      when: {field: company.region, equals: EMEA}
      team_id: emea
  fallback_team_id: global
)";
  const std::string before = absl::StrCat(MinimalPlaybookYaml(), routing);
  const std::string after =
      Replace(before, "when: {field: company.region, equals: EMEA}",
              "when: {field: company.region, in: [EMEA, APAC]}");
  // Fit 100 is MQL in the minimal Playbook; a retail lead is nurtured.
  std::string leads;
  for (const char* region : {"EMEA", "APAC", "NA", "APAC"}) {
    absl::StrAppend(
        &leads, R"({"id":")", region,
        R"(","seniority":"SENIORITY_VP","company":{"industry":"software","region":")",
        region, "\"}}\n");
  }
  leads +=
      R"({"id":"nurtured","company":{"industry":"retail","region":"APAC"}})"
      "\n";
  const LeadFile file(leads);
  const LeadImpact impact = Measure(before, after, file.path(), 2);
  ASSERT_TRUE(impact.routed);
  ASSERT_THAT(impact.teams.labels, ElementsAre("emea", "global", "-"));
  EXPECT_EQ(impact.teams.counts, (std::vector<std::vector<int64_t>>{
                                     {1, 0, 0}, {2, 1, 0}, {0, 0, 1}}));
  EXPECT_EQ(impact.teams.changed(), 2);
  EXPECT_EQ(impact.changed_leads, 2);
  EXPECT_EQ(impact.score_changes, 0);
  // Leads that changed team are listed even though their score did not move.
  ASSERT_EQ(impact.largest.size(), 2u);
  EXPECT_EQ(impact.largest[0].lead_id, "APAC");
  EXPECT_EQ(impact.largest[0].team_before, "global");
  EXPECT_EQ(impact.largest[0].team_after, "emea");
}

TEST(LeadImpactTest, SameResultWhateverTheThreadCount) {
  const std::string after =
      Replace(Base(), "      points: 10\n", "      points: 11\n");
  const LeadFile file(Leads(5000));
  const LeadImpact one = Measure(Base(), after, file.path(), 1, 50);
  const LeadImpact four = Measure(Base(), after, file.path(), 4, 50);
  EXPECT_EQ(one.stages.counts, four.stages.counts);
  EXPECT_EQ(one.grades.counts, four.grades.counts);
  ASSERT_EQ(one.largest.size(), four.largest.size());
  for (size_t i = 0; i < one.largest.size(); ++i) {
    EXPECT_EQ(one.largest[i].lead_id, four.largest[i].lead_id);
    EXPECT_EQ(one.largest[i].total_after, four.largest[i].total_after);
  }
}

TEST(LeadImpactTest, MalformedLeadsAreCountedAndNamed) {
  const LeadFile file(absl::StrCat(
      Leads(3), "{not json}\n",
      R"({"id":"bad-event","events":[{"type":"EVENT_TYPE_EMAIL_CLICK"}]})",
      "\n"));
  const LeadImpact impact = Measure(Base(), Base(), file.path(), 2);
  EXPECT_EQ(impact.leads, 3);
  EXPECT_EQ(impact.refused, 2);
  EXPECT_THAT(
      impact.errors,
      ElementsAre(HasSubstr(absl::StrCat(file.path(), ":4: not a lead")),
                  HasSubstr("line 5: lead \"bad-event\": events[0].id")));
}

TEST(ChangeLimitTest, ShareOrCount) {
  auto share = ParseChangeLimit("5%");
  ASSERT_TRUE(share.ok());
  EXPECT_TRUE(share->percent);
  EXPECT_FALSE(ExceedsLimit(*share, 50, 1000));
  EXPECT_TRUE(ExceedsLimit(*share, 51, 1000));
  EXPECT_FALSE(ExceedsLimit(*share, 0, 0));
  EXPECT_EQ(FormatLimit(*share), "5%");
  auto count = ParseChangeLimit("120");
  ASSERT_TRUE(count.ok());
  EXPECT_FALSE(count->percent);
  EXPECT_FALSE(ExceedsLimit(*count, 120, 100000));
  EXPECT_TRUE(ExceedsLimit(*count, 121, 100000));
  EXPECT_EQ(FormatLimit(*count), "120 leads");
  for (const char* bad : {"", "%", "-1", "101%", "1.5", "five", "5%%"}) {
    EXPECT_FALSE(ParseChangeLimit(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace smarketing
