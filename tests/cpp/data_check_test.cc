#include "core/checks/data_check.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/batch/lead_table.h"
#include "core/leads/lead_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::LeadFromYaml;
using ::smarketing::testing::MinimalPlaybookYaml;
using ::smarketing::testing::MustCompileYaml;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::shared_ptr<const CompiledPlaybook> Playbook() {
  return MustCompileYaml(absl::StrCat(MinimalPlaybookYaml(), R"(
  rules:
    - id: pricing
      event_types: [page_view]
      when: {field: event.properties.url, contains: /pricing}
      points: 10
fit_rules:
  - id: older
    when: {field: attributes.age, range: {min: 30}}
    points: 5
  - id: tenure-30
    when: {field: attributes.tenure, equals: "30"}
    points: 5
  - id: subscribed
    when: {field: attributes.subscribed, equals: true}
    points: 5
  - id: rate
    when: {field: attributes.emp.var.rate, range: {min: 1}}
    points: 5
  - id: market
    when: {field: company.industry, in: [retail, software]}
    points: 5
)"));
}

std::vector<const DataProblem*> Find(const std::vector<DataProblem>& problems,
                                     DataProblemKind kind,
                                     const std::string& column = "") {
  std::vector<const DataProblem*> found;
  for (const DataProblem& p : problems) {
    if (p.kind == kind && (column.empty() || p.column == column))
      found.push_back(&p);
  }
  return found;
}

std::vector<DataProblem> CheckTwoLeads() {
  DataChecker checker(Playbook());
  checker.AddLead(LeadFromYaml(R"(
id: l1
company: {industry: Software}
attributes: {age: "42", tenure: 30, subscribed: "True", emp.var.rate: 1.1,
             colour: red, mixed: 1}
)"));
  checker.AddLead(LeadFromYaml(R"(
id: l2
attributes: {age: "25", tenure: 12, subscribed: "False", mixed: one}
)"));
  EXPECT_EQ(checker.leads(), 2);
  return checker.Finish();
}

TEST(DataCheckTest, NumbersWrittenAsTextUnderARange) {
  const auto problems = CheckTwoLeads();
  auto found =
      Find(problems, DataProblemKind::kNumberAsText, "leads.attributes.age");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0]->rule, "fit_rules[0].when.range");
  EXPECT_EQ(found[0]->rows, 2);
  EXPECT_EQ(found[0]->example, "42");
  EXPECT_THAT(found[0]->message, HasSubstr("convert the column to numbers"));
  EXPECT_TRUE(IsWarning(found[0]->kind));
}

TEST(DataCheckTest, TextLiteralAgainstNumbers) {
  const auto problems = CheckTwoLeads();
  auto found =
      Find(problems, DataProblemKind::kTypeMismatch, "leads.attributes.tenure");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0]->rule, "fit_rules[1].when.equals");
  EXPECT_THAT(found[0]->message,
              HasSubstr("write the value without quotes (30)"));
}

TEST(DataCheckTest, BooleansWrittenAsText) {
  const auto problems = CheckTwoLeads();
  auto found = Find(problems, DataProblemKind::kBoolAsText,
                    "leads.attributes.subscribed");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0]->rule, "fit_rules[2].when.equals");
  EXPECT_EQ(found[0]->rows, 2);
}

TEST(DataCheckTest, KeysWithDotsAreUnreachable) {
  const auto problems = CheckTwoLeads();
  auto found = Find(problems, DataProblemKind::kUnreachableKey,
                    "leads.attributes.emp.var.rate");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0]->rule, "fit_rules[3].when.range");
  EXPECT_THAT(found[0]->message, HasSubstr("attributes.emp_var_rate"));
  // The path the rule reads holds nothing, said once.
  EXPECT_THAT(Find(problems, DataProblemKind::kNoValues,
                   "leads.attributes.emp.var.rate"),
              SizeIs(1));
  // Not also reported as a column no rule reads.
  EXPECT_THAT(Find(problems, DataProblemKind::kUnreadColumn,
                   "leads.attributes.emp.var.rate"),
              IsEmpty());
}

TEST(DataCheckTest, TypesChangingBetweenRows) {
  const auto problems = CheckTwoLeads();
  auto found =
      Find(problems, DataProblemKind::kMixedTypes, "leads.attributes.mixed");
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0]->rows, 1);
  EXPECT_THAT(found[0]->message, HasSubstr("numbers in 1 lead"));
  EXPECT_THAT(found[0]->message, HasSubstr("text in 1 lead"));
}

TEST(DataCheckTest, RulesThatNeverFireAndValuesNeverSeen) {
  const auto problems = CheckTwoLeads();
  std::vector<std::string> never;
  for (const DataProblem* p :
       Find(problems, DataProblemKind::kRuleNeverFires)) {
    never.push_back(p->rule);
  }
  EXPECT_THAT(never,
              ::testing::ElementsAre("personas[0].criteria[1]", "fit_rules[0]",
                                     "fit_rules[1]", "fit_rules[2]",
                                     "fit_rules[3]", "engagement.rules[0]"));
  // "software" matches "Software" (case ignored); "retail" never occurs.
  auto unseen = Find(problems, DataProblemKind::kUnseenValue, "leads.industry");
  ASSERT_THAT(unseen, SizeIs(1));
  EXPECT_EQ(unseen[0]->rule, "fit_rules[4].when.in");
  EXPECT_THAT(unseen[0]->message, HasSubstr("\"retail\" is never found"));
  EXPECT_FALSE(IsWarning(unseen[0]->kind));
}

TEST(DataCheckTest, ContactDetailsAreNeverQuoted) {
  DataChecker checker(MustCompileYaml(absl::StrCat(MinimalPlaybookYaml(), R"(
fit_rules:
  - id: ceo
    when: {field: contact.email, in: [ceo@example.com]}
    points: 5
)")));
  checker.AddLead(
      LeadFromYaml("{id: l1, contact: {email: jane.doe@corp.example}}"));
  const auto problems = checker.Finish();
  auto unseen = Find(problems, DataProblemKind::kUnseenValue, "leads.email");
  ASSERT_THAT(unseen, SizeIs(1));
  EXPECT_THAT(unseen[0]->message, ::testing::Not(HasSubstr("jane")));
  EXPECT_THAT(unseen[0]->message,
              HasSubstr("\"ceo@example.com\" is never found"));
}

TEST(DataCheckTest, ColumnsNoRuleReads) {
  const auto problems = CheckTwoLeads();
  auto found = Find(problems, DataProblemKind::kUnreadColumn);
  std::vector<std::string> columns;
  for (const DataProblem* p : found) columns.push_back(p->column);
  EXPECT_THAT(columns,
              ::testing::UnorderedElementsAre("leads.attributes.colour",
                                              "leads.attributes.mixed"));
}

TEST(DataCheckTest, CleanDataHasNoWarnings) {
  DataChecker checker(Playbook());
  checker.AddLead(LeadFromYaml(R"(
id: l1
seniority: vp
company: {industry: retail}
attributes: {age: 42, tenure: "30", subscribed: true, emp: {var: {rate: 2}}}
events:
  - {id: e1, type: page_view, occurred_at: "2026-11-20T10:00:00Z",
     properties: {url: /pricing}}
)"));
  checker.AddLead(LeadFromYaml(R"(
id: l2
company: {industry: software}
attributes: {age: 20, tenure: "12", subscribed: false, emp: {var: {rate: 0}}}
)"));
  for (const DataProblem& p : checker.Finish()) {
    EXPECT_FALSE(IsWarning(p.kind))
        << DataProblemKindName(p.kind) << " " << p.column << " " << p.rule
        << ": " << p.message;
  }
}

TEST(DataCheckTest, ColumnsReportEveryUnknownColumnAndSample) {
  std::vector<absl::string_view> ids = {"a", "b", "c", "d"};
  std::vector<absl::string_view> ages = {"31", "40", "50", "60"};
  std::vector<absl::string_view> junk = {"x", "y", "z", "w"};
  auto text = [](const std::string& name,
                 const std::vector<absl::string_view>& values) {
    Column column;
    column.name = name;
    column.type = Column::Type::kText;
    column.text = absl::MakeConstSpan(values);
    return column;
  };
  auto problems =
      CheckLeadColumns(Playbook(),
                       {text("id", ids), text("attributes.age", ages),
                        text("colour", junk), text("emp.var.rate", junk)},
                       {});
  ASSERT_TRUE(problems.ok()) << problems.status();
  auto unknown = Find(*problems, DataProblemKind::kUnknownColumn);
  ASSERT_THAT(unknown, SizeIs(2));
  EXPECT_EQ(unknown[0]->column, "leads.colour");
  EXPECT_THAT(unknown[0]->message, HasSubstr("name it attributes.colour"));
  EXPECT_EQ(unknown[1]->column, "leads.emp.var.rate");
  auto as_text =
      Find(*problems, DataProblemKind::kNumberAsText, "leads.attributes.age");
  ASSERT_THAT(as_text, SizeIs(1));
  EXPECT_EQ(as_text[0]->rows, 4);

  // A sample: the problems of types still found, rule counts left out.
  DataCheckOptions options;
  options.max_leads = 2;
  auto sampled = CheckLeadColumns(
      Playbook(), {text("id", ids), text("attributes.age", ages)}, {}, options);
  ASSERT_TRUE(sampled.ok());
  as_text =
      Find(*sampled, DataProblemKind::kNumberAsText, "leads.attributes.age");
  ASSERT_THAT(as_text, SizeIs(1));
  EXPECT_EQ(as_text[0]->rows, 2);
  EXPECT_THAT(Find(*sampled, DataProblemKind::kRuleNeverFires), IsEmpty());

  // Any other column error is the table's.
  auto missing_id =
      CheckLeadColumns(Playbook(), {text("attributes.age", ages)}, {});
  EXPECT_EQ(missing_id.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DataCheckTest, TableAlreadyMadeIsCheckedAsItsColumns) {
  // 60 leads, every fourth age not a number, and their events listed out
  // of lead order, so that the table groups them.
  constexpr int kLeads = 60;
  constexpr int kEvents = 180;
  std::vector<std::string> id_text, age_text, lead_text, url_text, event_ids;
  for (int r = 0; r < kLeads; ++r) {
    id_text.push_back(absl::StrCat("l", r));
    age_text.push_back(r % 4 == 0 ? "unknown" : absl::StrCat(20 + r));
  }
  std::vector<int64_t> seconds;
  for (int e = 0; e < kEvents; ++e) {
    lead_text.push_back(id_text[(e * 7) % kLeads]);
    url_text.push_back(e % 5 == 0 ? "/pricing" : absl::StrCat("/blog/", e));
    event_ids.push_back(absl::StrCat("e", e));
    seconds.push_back(1795000000 + e);
  }
  auto views = [](const std::vector<std::string>& values) {
    return std::vector<absl::string_view>(values.begin(), values.end());
  };
  const auto ids = views(id_text), ages = views(age_text),
             lead_ids = views(lead_text), urls = views(url_text),
             event_id_views = views(event_ids);
  const std::vector<absl::string_view> types(kEvents, "page_view");
  auto text = [](const std::string& name,
                 const std::vector<absl::string_view>& values) {
    Column column;
    column.name = name;
    column.text = absl::MakeConstSpan(values);
    return column;
  };
  auto columns = [&] {
    Column occurred{"occurred_at", Column::Type::kTime};
    occurred.ints = absl::MakeConstSpan(seconds);
    occurred.ticks_per_second = 1;
    return std::pair(
        std::vector<Column>{text("id", ids), text("attributes.age", ages)},
        std::vector<Column>{text("lead_id", lead_ids), text("type", types),
                            text("id", event_id_views), occurred,
                            text("properties.url", urls)});
  };
  auto [leads, events] = columns();
  auto table = LeadTable::Create(leads, events);
  ASSERT_TRUE(table.ok()) << table.status();

  for (const int64_t max_leads : {0, 7, 59, 60, 100}) {
    SCOPED_TRACE(absl::StrCat("max_leads ", max_leads));
    DataCheckOptions options;
    options.max_leads = max_leads;
    auto [lead_columns, event_columns] = columns();
    auto expected = CheckLeadColumns(Playbook(), std::move(lead_columns),
                                     std::move(event_columns), options);
    ASSERT_TRUE(expected.ok()) << expected.status();
    const std::vector<DataProblem> found =
        CheckLeadTable(Playbook(), **table, options);
    ASSERT_EQ(found.size(), expected->size());
    for (size_t i = 0; i < found.size(); ++i) {
      EXPECT_EQ(found[i].kind, (*expected)[i].kind) << i;
      EXPECT_EQ(found[i].column, (*expected)[i].column) << i;
      EXPECT_EQ(found[i].rule, (*expected)[i].rule) << i;
      EXPECT_EQ(found[i].rows, (*expected)[i].rows) << i;
      EXPECT_EQ(found[i].example, (*expected)[i].example) << i;
      EXPECT_EQ(found[i].message, (*expected)[i].message) << i;
    }
    // A sample of 7 reads rows 0, 8, 17, 25, 34, 42 and 51: two of them
    // (0 and 8) hold no number.
    auto as_text =
        Find(found, DataProblemKind::kNumberAsText, "leads.attributes.age");
    ASSERT_THAT(as_text, SizeIs(1));
    EXPECT_EQ(as_text[0]->rows, max_leads == 7 ? 5 : max_leads == 59 ? 44 : 45);
    // Rule counts need every lead.
    EXPECT_EQ(Find(found, DataProblemKind::kRuleNeverFires).empty(),
              max_leads == 7 || max_leads == 59);
  }
}

TEST(DataCheckTest, LeadTableNamesEveryUnknownColumn) {
  std::vector<absl::string_view> values = {"a"};
  auto text = [&](const std::string& name) {
    Column column;
    column.name = name;
    column.text = absl::MakeConstSpan(values);
    return column;
  };
  auto table =
      LeadTable::Create({text("id"), text("colour"), text("emp.var.rate")}, {});
  ASSERT_FALSE(table.ok());
  EXPECT_THAT(table.status().message(),
              HasSubstr("unknown columns \"colour\", \"emp.var.rate\""));
  auto problems = ProblemsFromStatus(table.status());
  ASSERT_TRUE(problems.has_value());
  ASSERT_EQ(problems->problems_size(), 2);
  EXPECT_EQ(problems->problems(0).path(), "leads.colour");
  EXPECT_EQ(problems->problems(1).path(), "leads.emp.var.rate");
}

TEST(DataCheckTest, CsvReadsPandasBooleansAndNamesEveryUnknownColumn) {
  std::istringstream csv(
      "id,opted_out,do_not_email,attributes.subscribed,attributes.flag\n"
      "l1,False,TRUE,True,false\n");
  auto reader = LeadReader::FromStream(&csv, LeadFormat::kCsv, "leads.csv");
  ASSERT_TRUE(reader.ok()) << reader.status();
  v1::Lead lead;
  ASSERT_TRUE(*(*reader)->Next(&lead));
  EXPECT_FALSE(lead.consent().opted_out());
  EXPECT_TRUE(lead.consent().do_not_email());
  EXPECT_TRUE(lead.attributes().fields().at("subscribed").bool_value());
  EXPECT_FALSE(lead.attributes().fields().at("flag").bool_value());
  EXPECT_EQ(lead.attributes().fields().at("flag").kind_case(),
            google::protobuf::Value::kBoolValue);

  std::istringstream unknown("id,colour,size\nl1,red,3\n");
  auto refused =
      LeadReader::FromStream(&unknown, LeadFormat::kCsv, "leads.csv");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("unknown columns \"colour\", \"size\""));

  std::istringstream skipped("id,colour,size\nl1,red,3\n");
  auto skipping =
      LeadReader::FromStream(&skipped, LeadFormat::kCsv, "leads.csv",
                             /*skip_unknown_columns=*/true);
  ASSERT_TRUE(skipping.ok()) << skipping.status();
  EXPECT_THAT((*skipping)->unknown_columns(),
              ::testing::ElementsAre("colour", "size"));
  ASSERT_TRUE(*(*skipping)->Next(&lead));
  EXPECT_EQ(lead.id(), "l1");
}

}  // namespace
}  // namespace smarketing
