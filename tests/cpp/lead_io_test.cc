// Lead files come from CRM exports and scripts: the readers must take what a
// spreadsheet or a JSON-lines dump really contains (quotes, commas and
// newlines inside fields, CRLF, blank lines), refuse what they do not
// understand with file:line, and go on with the next record after a bad one.
#include "core/leads/lead_io.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "smarketing/v1/lead.pb.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Everything a reader produced: the leads, and an error per refused record.
struct ReadAll {
  std::vector<v1::Lead> leads;
  std::vector<int64_t> lines;  // where each lead started
  std::vector<std::string> errors;
};

std::string Errors(const ReadAll& all) {
  std::string out;
  for (const std::string& e : all.errors) absl::StrAppend(&out, "\n  ", e);
  return out;
}

ReadAll Read(LeadReader* reader) {
  ReadAll out;
  v1::Lead lead;
  for (int guard = 0; guard < 1000; ++guard) {
    absl::StatusOr<bool> more = reader->Next(&lead);
    if (!more.ok()) {
      EXPECT_EQ(more.status().code(), absl::StatusCode::kInvalidArgument);
      out.errors.push_back(std::string(more.status().message()));
      continue;
    }
    if (!*more) return out;
    out.leads.push_back(lead);
    out.lines.push_back(reader->line());
  }
  ADD_FAILURE() << "the reader never reached the end";
  return out;
}

ReadAll ReadText(const std::string& text, LeadFormat format) {
  std::istringstream in(text);
  auto reader = LeadReader::FromStream(&in, format, "leads");
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  return Read(reader->get());
}

ReadAll Jsonl(const std::string& text) {
  return ReadText(text, LeadFormat::kJsonLines);
}
ReadAll Csv(const std::string& text) {
  return ReadText(text, LeadFormat::kCsv);
}

// The error FromStream gives for a CSV whose header is refused.
std::string CsvHeaderError(const std::string& text) {
  std::istringstream in(text);
  auto reader = LeadReader::FromStream(&in, LeadFormat::kCsv, "leads.csv");
  EXPECT_FALSE(reader.ok()) << "header accepted: " << text;
  return reader.ok() ? "" : std::string(reader.status().message());
}

// ---------------------------------------------------------------------------
// JSON lines

TEST(JsonLinesTest, ReadsOneLeadPerLineSkippingBlankLines) {
  const ReadAll all = Jsonl(
      "{\"id\": \"a\", \"job_title\": \"CTO\"}\n"
      "\n"
      "   \t \n"
      "{\"id\": \"b\", \"company\": {\"employeeCount\": 50}}\n");
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_TRUE(all.errors.empty());
  EXPECT_EQ(all.leads[0].id(), "a");
  EXPECT_EQ(all.leads[0].job_title(), "CTO");
  EXPECT_EQ(all.leads[1].company().employee_count(), 50);
  EXPECT_EQ(all.lines[0], 1);
  EXPECT_EQ(all.lines[1], 4);
}

TEST(JsonLinesTest, LastLineWithoutNewline) {
  const ReadAll all = Jsonl("{\"id\": \"a\"}\n{\"id\": \"b\"}");
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[1].id(), "b");
}

TEST(JsonLinesTest, WindowsLineEndings) {
  const ReadAll all = Jsonl("{\"id\": \"a\"}\r\n\r\n{\"id\": \"b\"}\r\n");
  EXPECT_TRUE(all.errors.empty()) << Errors(all);
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[1].id(), "b");
}

TEST(JsonLinesTest, FullLeadInTheProtobufJsonMapping) {
  const ReadAll all = Jsonl(
      R"({"id": "a", "seniority": "SENIORITY_VP", "consent": {"doNotEmail": true},)"
      R"( "attributes": {"plan": "pro", "seats": 12},)"
      R"( "events": [{"id": "e1", "type": "EVENT_TYPE_DEMO_REQUEST",)"
      R"( "occurredAt": "2026-11-20T10:00:00Z", "properties": {"url": "/demo"}}],)"
      R"( "created_at": "2026-01-01T00:00:00Z"})"
      "\n");
  ASSERT_EQ(all.leads.size(), 1u) << Errors(all);
  const v1::Lead& lead = all.leads[0];
  EXPECT_EQ(lead.seniority(), v1::SENIORITY_VP);
  EXPECT_TRUE(lead.consent().do_not_email());
  EXPECT_EQ(lead.attributes().fields().at("seats").number_value(), 12);
  ASSERT_EQ(lead.events_size(), 1);
  EXPECT_EQ(lead.events(0).type(), v1::EVENT_TYPE_DEMO_REQUEST);
  EXPECT_EQ(lead.events(0).occurred_at().seconds(),
            absl::ToUnixSeconds(testing::At("2026-11-20T10:00:00Z")));
  EXPECT_EQ(lead.created_at().seconds(),
            absl::ToUnixSeconds(testing::At("2026-01-01T00:00:00Z")));
}

TEST(JsonLinesTest, MalformedLineIsAnErrorWithFileAndLineThenReadingGoesOn) {
  const ReadAll all = Jsonl(
      "{\"id\": \"a\"}\n"
      "{\"id\": \"b\",\n"
      "{\"id\": \"c\"}\n");
  ASSERT_EQ(all.errors.size(), 1u);
  EXPECT_THAT(all.errors[0], StartsWith("leads:2: not a lead: "));
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[1].id(), "c");
  EXPECT_EQ(all.lines[1], 3);
}

TEST(JsonLinesTest, UnknownFieldIsRefused) {
  // A misspelt field silently ignored would score the lead without it.
  const ReadAll all = Jsonl("{\"id\": \"a\", \"job_titel\": \"CTO\"}\n");
  EXPECT_TRUE(all.leads.empty());
  ASSERT_EQ(all.errors.size(), 1u);
  EXPECT_THAT(all.errors[0], StartsWith("leads:1: not a lead"));
  EXPECT_THAT(all.errors[0], HasSubstr("job_titel"));
}

TEST(JsonLinesTest, WrongTypesAreRefused) {
  for (const char* line : {
           R"({"id": "a", "company": {"employeeCount": "many"}})",
           R"({"id": "a", "seniority": "EMPEROR"})",
           R"(["not", "an", "object"])",
       }) {
    SCOPED_TRACE(line);
    const ReadAll all = Jsonl(absl::StrCat(line, "\n"));
    EXPECT_TRUE(all.leads.empty());
    EXPECT_EQ(all.errors.size(), 1u);
  }
}

TEST(JsonLinesTest, ReaderClearsTheLeadBetweenRecords) {
  const ReadAll all =
      Jsonl("{\"id\": \"a\", \"job_title\": \"CTO\"}\n{\"id\": \"b\"}\n");
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[1].job_title(), "");
}

TEST(ParseLeadJsonTest, ParsesOneObject) {
  v1::Lead lead;
  ASSERT_TRUE(ParseLeadJson(R"({"id": "x", "jobTitle": "CEO"})", &lead).ok());
  EXPECT_EQ(lead.job_title(), "CEO");
  EXPECT_FALSE(ParseLeadJson("{", &lead).ok());
  EXPECT_EQ(ParseLeadJson("{\"nope\": 1}", &lead).code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// CSV

TEST(CsvTest, HeaderNamesTheColumnsInAnyOrder) {
  const ReadAll all =
      Csv("email,id, job_title "
          ",seniority,company_name,employee_count,annual_revenue,"
          "country,opted_out\n"
          "ada@acme.io,l1,CTO,c_level,Acme,120,5e6,FR,false\n"
          "bob@beta.io,l2,Head of IT,DIRECTOR,Beta,,,DE,yes\n");
  EXPECT_TRUE(all.errors.empty()) << Errors(all);
  ASSERT_EQ(all.leads.size(), 2u);
  const v1::Lead& a = all.leads[0];
  EXPECT_EQ(a.id(), "l1");
  EXPECT_EQ(a.contact().email(), "ada@acme.io");
  EXPECT_EQ(a.job_title(), "CTO");
  EXPECT_EQ(a.seniority(), v1::SENIORITY_C_LEVEL);
  EXPECT_EQ(a.company().name(), "Acme");
  EXPECT_EQ(a.company().employee_count(), 120);
  EXPECT_EQ(a.company().annual_revenue(), 5e6);
  EXPECT_EQ(a.company().country(), "FR");
  EXPECT_FALSE(a.consent().opted_out());
  const v1::Lead& b = all.leads[1];
  EXPECT_EQ(b.seniority(), v1::SENIORITY_DIRECTOR);
  EXPECT_EQ(b.company().employee_count(), 0);  // empty: unknown
  EXPECT_TRUE(b.consent().opted_out());
  EXPECT_EQ(all.lines[0], 2);
  EXPECT_EQ(all.lines[1], 3);
}

TEST(CsvTest, EveryColumn) {
  const ReadAll all =
      Csv("id,first_name,last_name,email,phone,job_title,department,seniority,"
          "company_name,company_domain,industry,employee_count,annual_revenue,"
          "country,"
          "region,source,campaign,product,opted_out,do_not_email,do_not_call,"
          "created_at\n"
          "l1,Ada,Lovelace,ada@acme.io,+33 "
          "1,CTO,IT,vp,Acme,acme.io,software,10,1.5,FR,"
          "EMEA,webinar,q4,analytics,0,1,true,2026-01-02T03:04:05Z\n");
  ASSERT_EQ(all.leads.size(), 1u) << Errors(all);
  const v1::Lead& l = all.leads[0];
  EXPECT_EQ(l.contact().first_name(), "Ada");
  EXPECT_EQ(l.contact().last_name(), "Lovelace");
  EXPECT_EQ(l.contact().phone(), "+33 1");
  EXPECT_EQ(l.department(), "IT");
  EXPECT_EQ(l.company().domain(), "acme.io");
  EXPECT_EQ(l.company().industry(), "software");
  EXPECT_EQ(l.company().region(), "EMEA");
  EXPECT_EQ(l.source(), "webinar");
  EXPECT_EQ(l.campaign(), "q4");
  EXPECT_EQ(l.product(), "analytics");
  EXPECT_FALSE(l.consent().opted_out());
  EXPECT_TRUE(l.consent().do_not_email());
  EXPECT_TRUE(l.consent().do_not_call());
  EXPECT_EQ(l.created_at().seconds(),
            absl::ToUnixSeconds(testing::At("2026-01-02T03:04:05Z")));
}

TEST(CsvTest, QuotedFieldsWithCommasQuotesAndNewlines) {
  const ReadAll all =
      Csv("id,company_name,job_title\n"
          "l1,\"Acme, Inc.\",\"The \"\"Boss\"\"\"\n"
          "l2,\"Two\nLines\",\"\"\n"
          "l3,Plain,x\n");
  EXPECT_TRUE(all.errors.empty()) << Errors(all);
  ASSERT_EQ(all.leads.size(), 3u);
  EXPECT_EQ(all.leads[0].company().name(), "Acme, Inc.");
  EXPECT_EQ(all.leads[0].job_title(), "The \"Boss\"");
  EXPECT_EQ(all.leads[1].company().name(), "Two\nLines");
  EXPECT_EQ(all.leads[1].job_title(), "");
  // The record after a multi-line field starts on the right line.
  EXPECT_EQ(all.lines[1], 3);
  EXPECT_EQ(all.lines[2], 5);
}

TEST(CsvTest, WindowsLineEndingsAndBlankLines) {
  const ReadAll all = Csv("id,job_title\r\nl1,CTO\r\n\r\nl2,\"CEO\"\r\n");
  EXPECT_TRUE(all.errors.empty()) << Errors(all);
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[0].job_title(), "CTO");
  EXPECT_EQ(all.leads[1].job_title(), "CEO");
  EXPECT_EQ(all.lines[1], 4);
}

TEST(CsvTest, LastRecordWithoutNewline) {
  const ReadAll all = Csv("id,job_title\nl1,CTO");
  ASSERT_EQ(all.leads.size(), 1u);
  EXPECT_EQ(all.leads[0].job_title(), "CTO");
}

TEST(CsvTest, HeaderOnlyHasNoLeads) {
  const ReadAll all = Csv("id,job_title\n");
  EXPECT_TRUE(all.leads.empty());
  EXPECT_TRUE(all.errors.empty());
}

TEST(CsvTest, EmptyFileIsRefused) {
  EXPECT_THAT(CsvHeaderError(""), HasSubstr("a header row is required"));
}

TEST(CsvTest, IdColumnIsRequired) {
  EXPECT_EQ(CsvHeaderError("email,job_title\na@b.c,CTO\n"),
            "leads.csv:1: the id column is required");
}

TEST(CsvTest, UnknownColumnIsRefusedAtTheHeader) {
  // A misspelt column must stop the import before any lead is scored
  // without it, even when the column is empty in every row.
  EXPECT_EQ(CsvHeaderError("id,job_titel\nl1,\n"),
            "leads.csv:1: unknown column \"job_titel\"");
  EXPECT_EQ(CsvHeaderError("id,company.name\nl1,Acme\n"),
            "leads.csv:1: unknown column \"company.name\"");
  // An attribute needs a key.
  EXPECT_EQ(CsvHeaderError("id,attributes.\nl1,x\n"),
            "leads.csv:1: unknown column \"attributes.\"");
}

TEST(CsvTest, WrongColumnCountIsAnErrorThenReadingGoesOn) {
  const ReadAll all =
      Csv("id,job_title,country\nl1,CTO\nl2,CEO,FR,extra\nl3,VP,DE\n");
  ASSERT_EQ(all.errors.size(), 2u);
  EXPECT_EQ(all.errors[0], "leads:2: expected 3 columns, found 2");
  EXPECT_EQ(all.errors[1], "leads:3: expected 3 columns, found 4");
  ASSERT_EQ(all.leads.size(), 1u);
  EXPECT_EQ(all.leads[0].id(), "l3");
}

TEST(CsvTest, BadValuesNameTheColumnAndLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"employee_count\nl1,12.5",
       "column employee_count: expected a whole number"},
      {"employee_count\nl1,many",
       "column employee_count: expected a whole number"},
      {"employee_count\nl1,99999999999999999999", "expected a whole number"},
      {"annual_revenue\nl1,lots",
       "column annual_revenue: expected a finite number"},
      {"annual_revenue\nl1,nan",
       "column annual_revenue: expected a finite number"},
      {"annual_revenue\nl1,inf",
       "column annual_revenue: expected a finite number"},
      {"opted_out\nl1,maybe", "column opted_out: expected true or false"},
      {"do_not_email\nl1,TRUEISH",
       "column do_not_email: expected true or false"},
      {"seniority\nl1,emperor",
       "column seniority: unknown seniority \"emperor\""},
      {"created_at\nl1,2026-01-01",
       "column created_at: expected an RFC 3339 time"},
      // Found by the CSV fuzzer: RFC 3339 parsing takes years a Timestamp
      // cannot hold, and the lead could then not be printed or stored.
      {"created_at\nl1,-026-11-01T10:00:00Z",
       "column created_at: is not a valid time (years 1 to 9999)"},
      {"created_at\nl1,0000-11-01T10:00:00Z",
       "column created_at: is not a valid time (years 1 to 9999)"},
      {"events\nl1,not json", "column events: not a JSON array of events"},
  };
  for (const auto& [body, message] : cases) {
    SCOPED_TRACE(body);
    const ReadAll all = Csv(absl::StrCat("id,", body, "\n"));
    EXPECT_TRUE(all.leads.empty());
    ASSERT_EQ(all.errors.size(), 1u);
    EXPECT_THAT(all.errors[0], StartsWith("leads:2: "));
    EXPECT_THAT(all.errors[0], HasSubstr(message));
  }
}

// Times in UTC's usual form are read a word at a time, the others by
// abseil's RFC 3339 parser: either way a time means what abseil says, a
// time abseil refuses is refused, and so is one a Timestamp cannot hold.
TEST(CsvTest, CreatedAtIsReadAsAbseilReadsRfc3339) {
  for (const char* time : {
           "2026-01-02T03:04:05Z",
           "2026-01-02T03:04:05.5Z",
           "2026-01-02T03:04:05.123Z",
           "2026-01-02T03:04:05.123456789Z",
           "2026-01-02T03:04:05.1234567891Z",
           "2026-01-02T03:04:05.Z",
           "2026-01-02T03:04:05+02:00",
           "2026-01-02T03:04:05.25-00:30",
           "2026-01-02t03:04:05z",
           "2026-01-02T03:04:05",
           "2026-01-02T03:04:05Z ",
           "2026-01-02 03:04:05Z",
           "2026-12-31T23:59:60Z",
           "2024-02-29T00:00:00Z",
           "2026-02-29T00:00:00Z",
           "2000-02-29T12:00:00Z",
           "1900-02-29T12:00:00Z",
           "2026-04-31T00:00:00Z",
           "2026-13-01T00:00:00Z",
           "2026-00-10T00:00:00Z",
           "2026-01-00T00:00:00Z",
           "2026-01-01T24:00:00Z",
           "2026-01-01T23:60:00Z",
           "0001-01-01T00:00:00Z",
           "9999-12-31T23:59:59.999999999Z",
           "1969-12-31T23:59:59.9Z",
           "1677-09-21T00:12:43Z",
           "2262-04-12T00:00:00Z",
           "0000-01-01T00:00:00Z",
           "10000-01-01T00:00:00Z",
           "0001-01-01T00:00:00+00:01",
           "9999-12-31T23:59:59-00:01",
       }) {
    SCOPED_TRACE(time);
    const ReadAll all = Csv(absl::StrCat("id,created_at\nl1,", time, "\n"));
    absl::Time expected;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, time, &expected, &error)) {
      EXPECT_TRUE(all.leads.empty());
      ASSERT_EQ(all.errors.size(), 1u);
      EXPECT_THAT(all.errors[0], HasSubstr("expected an RFC 3339 time"));
      continue;
    }
    if (expected <
            absl::FromCivil(absl::CivilSecond(1, 1, 1), absl::UTCTimeZone()) ||
        expected >= absl::FromCivil(absl::CivilSecond(10000, 1, 1),
                                    absl::UTCTimeZone())) {
      ASSERT_EQ(all.errors.size(), 1u);
      EXPECT_THAT(all.errors[0], HasSubstr("is not a valid time"));
      continue;
    }
    ASSERT_EQ(all.leads.size(), 1u) << Errors(all);
    const google::protobuf::Timestamp& t = all.leads[0].created_at();
    EXPECT_EQ(absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
              expected);
  }
}

TEST(CsvTest, TextThatIsNotUtf8IsRefusedWithColumnAndLine) {
  // protobuf's JSON printer drops invalid bytes: "l\xff1" came out as the
  // id of another lead, "l1", and "\xff" as an empty id.
  const ReadAll all =
      Csv("id,company_name,attributes.plan\n"
          "l\xff"
          "1,Acme,pro\n"
          "\xff,Acme,pro\n"
          "l2,Ac\xc3,pro\n"
          "l3,Acme,\xed\xa0\x80\n"
          "l4,Caf\xc3\xa9,pro\n"
          // Long enough for the checker to skip ASCII a word at a time.
          "l5,Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale des Eaux \xff,pro\n"
          "l6,Caf\xc3\xa9 de la Gare du Nord \xe2\x82\xac,pro\n");
  ASSERT_EQ(all.errors.size(), 5u) << Errors(all);
  EXPECT_EQ(all.errors[0],
            "leads:2: column id: not valid UTF-8 (byte 0xff at offset 1)");
  EXPECT_EQ(all.errors[1],
            "leads:3: column id: not valid UTF-8 (byte 0xff at offset 0)");
  EXPECT_EQ(
      all.errors[2],
      "leads:4: column company_name: not valid UTF-8 (byte 0xc3 at offset 2)");
  EXPECT_EQ(all.errors[3],
            "leads:5: column attributes.plan: not valid UTF-8 (byte 0xed at "
            "offset 0)");
  EXPECT_EQ(
      all.errors[4],
      "leads:7: column company_name: not valid UTF-8 (byte 0xff at offset 30)");
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[0].company().name(), "Caf\xc3\xa9");
  EXPECT_EQ(all.leads[1].company().name(),
            "Caf\xc3\xa9 de la Gare du Nord \xe2\x82\xac");
  EXPECT_THAT(CsvHeaderError("id,na\xffme\n"),
              HasSubstr("leads.csv:1: header column 2: not valid UTF-8 (byte "
                        "0xff at offset 2)"));
}

TEST(CsvTest, BoolSpellings) {
  const ReadAll all =
      Csv("id,opted_out,do_not_email,do_not_call\n"
          "l1,true,1,yes\n"
          "l2,false,0,no\n"
          "l3,,,\n");
  ASSERT_EQ(all.leads.size(), 3u) << Errors(all);
  EXPECT_TRUE(all.leads[0].consent().opted_out());
  EXPECT_TRUE(all.leads[0].consent().do_not_email());
  EXPECT_TRUE(all.leads[0].consent().do_not_call());
  for (int i : {1, 2}) {
    EXPECT_FALSE(all.leads[i].consent().opted_out());
    EXPECT_FALSE(all.leads[i].consent().do_not_email());
    EXPECT_FALSE(all.leads[i].consent().do_not_call());
  }
}

TEST(CsvTest, SenioritySpellings) {
  const ReadAll all =
      Csv("id,seniority\nl1,vp\nl2,VP\nl3,SENIORITY_VP\nl4,c_level\nl5,"
          "Individual_Contributor\n");
  ASSERT_EQ(all.leads.size(), 5u) << Errors(all);
  EXPECT_EQ(all.leads[0].seniority(), v1::SENIORITY_VP);
  EXPECT_EQ(all.leads[1].seniority(), v1::SENIORITY_VP);
  EXPECT_EQ(all.leads[2].seniority(), v1::SENIORITY_VP);
  EXPECT_EQ(all.leads[3].seniority(), v1::SENIORITY_C_LEVEL);
  EXPECT_EQ(all.leads[4].seniority(), v1::SENIORITY_INDIVIDUAL_CONTRIBUTOR);
}

TEST(CsvTest, EventsColumnIsAJsonArray) {
  const ReadAll all =
      Csv("id,events\n"
          "l1,\"[{\"\"id\"\":\"\"e1\"\",\"\"type\"\":\"\"EVENT_TYPE_DEMO_"
          "REQUEST\"\","
          "\"\"occurredAt\"\":\"\"2026-11-20T10:00:00Z\"\"},"
          "{\"\"id\"\":\"\"e2\"\",\"\"type\"\":\"\"EVENT_TYPE_PAGE_VIEW\"\","
          "\"\"occurred_at\"\":\"\"2026-11-21T10:00:00Z\"\",\"\"properties\"\":"
          "{\"\"url\"\":\"\"/pricing\"\"}}]\"\n"
          "l2,[]\n"
          "l3,\n");
  ASSERT_EQ(all.leads.size(), 3u) << Errors(all);
  const v1::Lead& l = all.leads[0];
  ASSERT_EQ(l.events_size(), 2);
  EXPECT_EQ(l.events(0).id(), "e1");
  EXPECT_EQ(l.events(0).type(), v1::EVENT_TYPE_DEMO_REQUEST);
  EXPECT_EQ(l.events(1).properties().fields().at("url").string_value(),
            "/pricing");
  EXPECT_EQ(all.leads[1].events_size(), 0);
  EXPECT_EQ(all.leads[2].events_size(), 0);
}

TEST(CsvTest, EventsWithUnknownFieldsAreRefused) {
  const ReadAll all =
      Csv("id,events\nl1,\"[{\"\"id\"\":\"\"e1\"\",\"\"kind\"\":1}]\"\n");
  EXPECT_TRUE(all.leads.empty());
  ASSERT_EQ(all.errors.size(), 1u);
  EXPECT_THAT(all.errors[0], HasSubstr("column events"));
}

// The cell is read inside a wrapper object; what follows the array must
// not pass for more members of it.
TEST(CsvTest, EventsCellWithMoreThanAnArrayIsRefused) {
  const ReadAll all =
      Csv("id,events\n"
          "l1,\"[], \"\"jobTitle\"\":\"\"CEO\"\"\"\n"
          "l2,\"[], \"\"events\"\":[]\"\n"
          "l3,\"[]}, {\"\"a\"\":1\"\n"
          "l4,[]\n");
  ASSERT_EQ(all.leads.size(), 1u) << Errors(all);
  EXPECT_EQ(all.leads[0].id(), "l4");
  ASSERT_EQ(all.errors.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(all.errors[i],
                HasSubstr(absl::StrCat(
                    "leads:", i + 2,
                    ": column events: not a JSON array of events: text "
                    "follows its closing bracket")));
  }
}

TEST(CsvTest, AttributeColumnsAreTypedByTheirForm) {
  const ReadAll all = Csv(
      "id,attributes.plan,attributes.seats,attributes.trial,attributes.ratio\n"
      "l1,pro,40,true,0.25\n"
      "l2,,,false,-3\n");
  ASSERT_EQ(all.leads.size(), 2u) << Errors(all);
  const auto& a = all.leads[0].attributes().fields();
  EXPECT_EQ(a.at("plan").string_value(), "pro");
  EXPECT_EQ(a.at("seats").kind_case(), google::protobuf::Value::kNumberValue);
  EXPECT_EQ(a.at("seats").number_value(), 40);
  EXPECT_EQ(a.at("trial").kind_case(), google::protobuf::Value::kBoolValue);
  EXPECT_TRUE(a.at("trial").bool_value());
  EXPECT_EQ(a.at("ratio").number_value(), 0.25);
  const auto& b = all.leads[1].attributes().fields();
  // An empty cell is an absent attribute, not an empty string.
  EXPECT_EQ(b.count("plan"), 0u);
  EXPECT_EQ(b.count("seats"), 0u);
  EXPECT_FALSE(b.at("trial").bool_value());
  EXPECT_EQ(b.at("ratio").number_value(), -3);
}

TEST(CsvTest, NonFiniteAttributeStaysText) {
  // A NaN attribute would be refused by lead validation; as text it is kept.
  const ReadAll all = Csv("id,attributes.code\nl1,nan\nl2,inf\n");
  ASSERT_EQ(all.leads.size(), 2u);
  EXPECT_EQ(all.leads[0].attributes().fields().at("code").string_value(),
            "nan");
  EXPECT_EQ(all.leads[1].attributes().fields().at("code").string_value(),
            "inf");
}

TEST(CsvTest, UnterminatedQuoteIsAnError) {
  const ReadAll all = Csv("id,job_title\nl1,\"CTO\n");
  EXPECT_TRUE(all.leads.empty());
  ASSERT_EQ(all.errors.size(), 1u);
  EXPECT_EQ(all.errors[0], "leads:2: unterminated quote");
}

// The block reader finds records in chunks of a file: a record cut anywhere,
// inside quotes or between the two quotes of "", is left for the next
// chunk, and once whole it is found and split as one.
TEST(CsvTest, RecordsCutAnywhereAreFoundWhole) {
  const std::string record =
      "l1,\"VP, \"\"Sales\"\"\nEMEA\",\"[{\"\"id\"\":\"\"e1\"\"}]\"\r\n";
  const std::string data = record + "l2,x,\"\"\n";
  for (size_t cut = 1; cut < record.size(); ++cut) {
    int64_t lines = 0;
    auto n = ScanCsvRecord(absl::string_view(data).substr(0, cut),
                           /*at_end=*/false, &lines);
    ASSERT_TRUE(n.ok()) << cut;
    EXPECT_EQ(*n, 0u) << "cut at " << cut;
  }
  int64_t lines = 0;
  auto n = ScanCsvRecord(data, /*at_end=*/false, &lines);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, record.size());
  EXPECT_EQ(lines, 2);
  std::vector<std::string> fields;
  SplitCsvRecord(record, &fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"l1", "VP, \"Sales\"\nEMEA",
                                              "[{\"id\":\"e1\"}]"}));
  // The fields of a longer record before do not linger.
  SplitCsvRecord("l2,x,\"\"\n", &fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"l2", "x", ""}));
  SplitCsvRecord("l3\n", &fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"l3"}));
}

// The rule of a CSV record, one byte at a time, as the stream reader and the
// comment on CsvRecord state it: what the block reader, which looks at
// eight or 64 bytes at a time, must agree with. `end`: the bytes of the
// first record, its newline included; 0 when the data ends first.
std::vector<std::string> SplitOneByteAtATime(const std::string& data,
                                             int64_t* lines, size_t* end) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    std::string& field = fields.back();
    if (c == '\n') ++*lines;
    if (quoted) {
      if (c != '"') {
        field += c;
      } else if (i + 1 < data.size() && data[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      *end = i + 1;
      return fields;
    } else {
      field += c;
    }
  }
  *end = 0;
  return fields;
}

// Random records, long quoted JSON-like cells among them, found and split by
// the block reader as byte by byte, wherever a chunk cuts them, and at the
// end of a file without their newline. One record in three also has quotes
// where no quoted part can start (a"b, "a"b"), which the reader's search 64
// bytes at a time must hand to the byte-by-byte rule.
TEST(CsvTest, RecordsAreSplitAsOneByteAtATimeWouldSplitThem) {
  std::mt19937 rng(20261206);
  const std::string pieces[] = {
      "a",        "bc",       "\"\"", "\"\"id\"\":",       ",", "\n", "\r",
      "\xc3\xa9", "12345678", " ",    std::string(1, '\0')};
  int irregular = 0;
  for (int round = 0; round < 3000; ++round) {
    const bool stray_quotes = round % 3 == 2;
    std::string record;
    const int fields = 1 + rng() % 6;
    for (int f = 0; f < fields; ++f) {
      if (f > 0) record += ',';
      const bool quoted = rng() % 2 == 0;
      const int length = rng() % (round % 10 == 0 ? 200 : 12);
      if (quoted) record += '"';
      for (int k = 0; k < length; ++k) {
        const std::string& piece = pieces[rng() % std::size(pieces)];
        // Outside quotes, a comma or newline would end the field early and
        // a quote could open a quoted part: the record keeps its shape
        // unless stray quotes are wanted.
        if (!quoted && (piece == "," || piece == "\n" ||
                        (piece[0] == '"' && !stray_quotes))) {
          continue;
        }
        record += piece;
      }
      if (quoted) record += '"';
      if (stray_quotes && rng() % 2 == 0) record += "x\"";
    }
    if (rng() % 2 == 0) record += '\r';
    record += '\n';
    const std::string data = record + "next,\"\"\"x\"\n" + std::string(70, 'z');
    int64_t expected_lines = 0;
    size_t end = 0;
    const std::vector<std::string> expected =
        SplitOneByteAtATime(data, &expected_lines, &end);
    size_t quotes = 0;
    size_t even_quotes_end = 0;
    for (size_t i = 0; i < data.size() && even_quotes_end == 0; ++i) {
      quotes += data[i] == '"';
      if (data[i] == '\n' && quotes % 2 == 0) even_quotes_end = i + 1;
    }
    if (even_quotes_end != end) ++irregular;

    int64_t lines = 0;
    auto n = ScanCsvRecord(data, /*at_end=*/false, &lines);
    ASSERT_TRUE(n.ok()) << record;
    ASSERT_EQ(*n, end) << record;
    if (end == 0) continue;  // a quote left open: the data ends first
    EXPECT_EQ(lines, expected_lines) << record;
    std::vector<std::string> split;
    SplitCsvRecord(data.substr(0, end), &split);
    EXPECT_EQ(split, expected) << record;
    const size_t cut = rng() % end;
    lines = 0;
    n = ScanCsvRecord(absl::string_view(data).substr(0, cut),
                      /*at_end=*/false, &lines);
    ASSERT_TRUE(n.ok()) << record;
    EXPECT_EQ(*n, 0u) << "cut at " << cut << ": " << record;

    // The last record of a file, without its newline.
    const std::string last = data.substr(0, end - 1);
    int64_t last_lines = 0;
    size_t last_end = 0;
    const std::vector<std::string> last_expected =
        SplitOneByteAtATime(last, &last_lines, &last_end);
    if (last_end != 0) continue;  // a newline in an unquoted field ends it
    lines = 0;
    n = ScanCsvRecord(last, /*at_end=*/true, &lines);
    if (!n.ok()) {  // a quote left open
      EXPECT_EQ(n.status().message(), "unterminated quote") << record;
      continue;
    }
    EXPECT_EQ(*n, last.size()) << record;
    EXPECT_EQ(lines, last_lines) << record;
    SplitCsvRecord(last, &split);
    EXPECT_EQ(split, last_expected) << record;
  }
  // Many records end elsewhere than after an even number of quotes.
  EXPECT_GT(irregular, 100);
}

// A quoted cell and a stray quote at every offset of a 64-byte block, and
// across two: what the search carries from one block to the next.
TEST(CsvTest, QuotesAtEveryOffsetOfABlock) {
  for (size_t offset = 0; offset < 140; ++offset) {
    for (const std::string& tail :
         {std::string("\"p\"\"q\",r\n"), std::string("x\"y,\"p\"\"q\"\n"),
          std::string("\"\",\"\"\"\",\"a\nb\"\r\n")}) {
      const std::string record = std::string(offset, 'a') + "," + tail;
      const std::string data = record + std::string(70, 'z') + "\n";
      int64_t expected_lines = 0;
      size_t end = 0;
      const std::vector<std::string> expected =
          SplitOneByteAtATime(data, &expected_lines, &end);
      ASSERT_EQ(end, record.size());
      int64_t lines = 0;
      auto n = ScanCsvRecord(data, /*at_end=*/false, &lines);
      ASSERT_TRUE(n.ok());
      EXPECT_EQ(*n, end) << offset << ": " << tail;
      EXPECT_EQ(lines, expected_lines) << offset << ": " << tail;
      std::vector<std::string> split;
      SplitCsvRecord(record, &split);
      EXPECT_EQ(split, expected) << offset << ": " << tail;
    }
  }
}

// Splitting takes memory in proportion to the record, even for one the
// byte-by-byte rule must split (a stray quote) with thousands of quoted
// cells.
TEST(CsvTest, SplittingManyQuotedCellsTakesMemoryInProportion) {
  std::string record = "a\",";
  for (int i = 0; i < 5000; ++i) record += "\"\",";
  record += "\"last\"\n";
  std::vector<std::string> fields;
  SplitCsvRecord(record, &fields);
  ASSERT_EQ(fields.size(), 5002u);
  EXPECT_EQ(fields[0], "a\"");
  EXPECT_EQ(fields[5001], "last");
  size_t held = 0;
  for (const std::string& field : fields) held += field.capacity();
  EXPECT_LT(held, 64 * record.size());
}

// ---------------------------------------------------------------------------
// Files

class LeadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("lead_file_test_", getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(LeadFileTest, FormatComesFromTheExtension) {
  const std::string csv = Write("leads.CSV", "id,job_title\nl1,CTO\n");
  auto reader = LeadReader::Open(csv);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ReadAll all = Read(reader->get());
  ASSERT_EQ(all.leads.size(), 1u);
  EXPECT_EQ(all.leads[0].job_title(), "CTO");

  const std::string jsonl = Write("leads.jsonl", "{\"id\": \"j1\"}\n");
  reader = LeadReader::Open(jsonl);
  ASSERT_TRUE(reader.ok()) << reader.status();
  all = Read(reader->get());
  ASSERT_EQ(all.leads.size(), 1u);
  EXPECT_EQ(all.leads[0].id(), "j1");
}

TEST_F(LeadFileTest, FormatCanBeForced) {
  const std::string path = Write("export.txt", "id\nl1\n");
  auto reader = LeadReader::Open(path, LeadFormat::kCsv);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const ReadAll all = Read(reader->get());
  ASSERT_EQ(all.leads.size(), 1u);
  EXPECT_EQ(all.leads[0].id(), "l1");
}

TEST_F(LeadFileTest, ErrorsNameTheFile) {
  const std::string path = Write("leads.jsonl", "{\"id\": \"a\"}\n{oops}\n");
  auto reader = LeadReader::Open(path);
  ASSERT_TRUE(reader.ok());
  const ReadAll all = Read(reader->get());
  ASSERT_EQ(all.errors.size(), 1u);
  EXPECT_THAT(all.errors[0], StartsWith(absl::StrCat(path, ":2: not a lead")));
}

TEST_F(LeadFileTest, MissingFileIsNotFound) {
  auto reader = LeadReader::Open((dir_ / "absent.jsonl").string());
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LeadFileTest, BadCsvHeaderFailsOpen) {
  const std::string path = Write("leads.csv", "email\na@b.c\n");
  auto reader = LeadReader::Open(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(std::string(reader.status().message()),
            absl::StrCat(path, ":1: the id column is required"));
}

}  // namespace
}  // namespace smarketing
