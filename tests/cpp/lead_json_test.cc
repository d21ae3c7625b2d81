#include "core/leads/lead_json.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/leads/lead_blocks.h"
#include "core/leads/lead_io.h"
#include "core/scoring/lead_validation.h"
#include "core/synthetic/lead_generator.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::DeterministicBytes;
using ::smarketing::testing::ExpectFlatLeadIs;
using ::smarketing::testing::NestedStructs;
using ::testing::HasSubstr;

// The fast reader must give exactly what protobuf's parser gives: the same
// lead, byte for byte, or the same error.
void ExpectSameAsProtobuf(absl::string_view json, bool fast_path) {
  v1::Lead fast, reference;
  EXPECT_EQ(ParseLeadJsonFast(json, &fast), fast_path) << json;
  const absl::Status quick = ParseLeadJsonQuickly(json, &fast);
  const absl::Status slow = ParseLeadJson(json, &reference);
  ASSERT_EQ(quick.ok(), slow.ok()) << json << "\n" << slow.message();
  EXPECT_EQ(quick.message(), slow.message()) << json;
  if (slow.ok())
    EXPECT_EQ(DeterministicBytes(fast), DeterministicBytes(reference)) << json;
}

TEST(LeadJsonTest, GeneratedLeadsTakeTheFastPathInBothNamings) {
  LeadGeneratorOptions options;
  options.seed = 11;
  options.now = At("2026-11-23T09:00:00Z");
  const LeadGenerator generator(options);
  google::protobuf::util::JsonPrintOptions proto_names;
  proto_names.preserve_proto_field_names = true;
  google::protobuf::util::JsonPrintOptions json_names;
  v1::Lead lead;
  for (int i = 0; i < 300; ++i) {
    generator.Generate(i, &lead);
    for (const auto& print : {proto_names, json_names}) {
      std::string json;
      ASSERT_TRUE(
          google::protobuf::util::MessageToJsonString(lead, &json, print).ok());
      ExpectSameAsProtobuf(json, true);
    }
  }
}

TEST(LeadJsonTest, WhatLeadFilesWriteIsReadFast) {
  for (
      const char* json : {
          R"({"id":"a"})",
          " \t{ \"id\" : \"a\" , \"events\" : [ ] , \"consent\" : { } , "
          "\"attributes\" : { } }\r\n",
          R"({"id":"a","job_title":"Head of \"Growth\" \\ \/ \u00e9\ud83d\ude00\n\t\b\f\r"})",
          R"({"id":"Zoë 東京 🚀","jobTitle":"Direktør"})",
          R"({"id":"a","company":{"employee_count":"250","annual_revenue":1.5e3}})",
          R"({"id":"a","company":{"employeeCount":-7,"annualRevenue":-0}})",
          R"({"id":"a","company":{"employee_count":"0","annual_revenue":123456789012345}})",
          R"({"id":"a","company":{"annual_revenue":0.1}})",
          R"({"id":"a","seniority":"SENIORITY_VP","consent":{"opted_out":true,"doNotEmail":false}})",
          R"({"id":"a","createdAt":"2026-02-28T23:59:59.5Z"})",
          R"({"id":"a","created_at":"2024-02-29T00:00:00.123456789Z"})",
          R"({"id":"a","created_at":"0001-01-01T00:00:00Z"})",
          R"({"id":"a","attributes":{"n":1,"f":-2.5e-3,"b":true,"z":null,"s":"x","l":[1,"a",[],{}],"o":{"p":{"q":[null]}}}})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_CUSTOM","customType":"trial","occurredAt":"2026-11-23T09:00:00Z","properties":{"url":"/pricing","n":3}}]})",
      }) {
    ExpectSameAsProtobuf(json, true);
  }
}

TEST(LeadJsonTest, EverythingElseIsLeftToProtobuf) {
  for (const char* json : {
           R"({"id":"a","company":null})",
           R"({"id":"a","seniority":3})",
           R"({"id":"a","seniority":"vp"})",
           R"({"id":"a","created_at":"2026-11-23T10:00:00+01:00"})",
           R"({"id":"a","created_at":"2026-11-23T10:00:00.1234567891Z"})",
           R"({"id":"a","created_at":"2026-02-30T10:00:00Z"})",
           R"({"id":"a","created_at":"2026-11-23"})",
           R"({"id":"a","unknown":1})",
           R"({"id":"a","id":"b"})",
           R"({"id":"a","attributes":{"k":1,"k":2}})",
           R"({"id":"a","company":{"employee_count":12345678901234567890}})",
           R"({"id":"a","company":{"employee_count":"0012"}})",
           R"({"id":"a","company":{"employee_count":1.0}})",
           R"({"id":"a","company":{"annual_revenue":"12"}})",
           R"({"id":"a","company":{"annual_revenue":1e400}})",
           R"({"id":"a","attributes":{"big":1234567890123456789}})",
           R"({"id":"a","consent":{"opted_out":"true"}})",
           R"({"id":"a\u0000b"})",
           R"({"id":"a\ud800"})",
           "{\"id\":\"a\xff\"}",
           "{\"id\":\"a\tb\"}",
           R"({"id":"a"} trailing)",
           R"({"id":"a",})",
           R"(["id"])",
           R"({"id":"a")",
           "",
       }) {
    ExpectSameAsProtobuf(json, false);
  }
}

TEST(LeadJsonTest, LongTimestampFractionsAreLeftToProtobuf) {
  // Ten or more fraction digits once overflowed an int in the fast reader
  // (undefined behaviour that the ASan and UBSan suite stops at).
  ExpectSameAsProtobuf(
      R"({"id":"a","created_at":"2026-01-01T00:00:00.123456789Z"})", true);
  ExpectSameAsProtobuf(
      R"({"id":"a","created_at":"2026-01-01T00:00:00.999999999Z"})", true);
  for (
      const char* json : {
          R"({"id":"a","created_at":"2026-01-01T00:00:00.3000000000Z"})",
          R"({"id":"a","created_at":"2026-01-01T00:00:00.9999999999Z"})",
          R"({"id":"a","created_at":"2026-01-01T00:00:00.99999999999999999999Z"})",
          R"({"id":"a","events":[{"occurred_at":"2026-01-01T00:00:00.30000000001Z"}]})",
      }) {
    ExpectSameAsProtobuf(json, false);
  }
}

// A file, removed at the end of the test.
class TempFile {
 public:
  TempFile(absl::string_view name, const std::string& text)
      : path_(absl::StrCat(::testing::TempDir(), "/", name)) {
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Read {
  std::vector<std::string> ids;  // "!" + message for refused records
  std::vector<int64_t> lines;
  std::vector<int64_t> indexes;
};

// Parses record i of `block` into a lead of `reusable` (valid until its
// next use) and notes what came out in `read`.
const v1::Lead* ParseRecord(LeadBlock& block, int64_t i, ReusableLead& reusable,
                            Read* read) {
  v1::Lead* lead = reusable.Fresh();
  const absl::Status status = block.Parse(i, lead);
  read->ids.push_back(status.ok() ? lead->id()
                                  : absl::StrCat("!", status.message()));
  read->lines.push_back(block.line(i));
  read->indexes.push_back(block.index(i));
  return lead;
}

Read ReadAll(const std::string& path) {
  Read read;
  auto reader = LeadBlockReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return read;
  LeadBlock block;
  ReusableLead reusable;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&block);
    EXPECT_TRUE(more.ok()) << more.status().message();
    if (!more.ok() || !*more) break;
    for (int64_t i = 0; i < block.size(); ++i) {
      ParseRecord(block, i, reusable, &read);
    }
  }
  return read;
}

TEST(LeadBlockReaderTest, JsonLinesWithBlankLinesErrorsAndNoFinalNewline) {
  const TempFile file(
      "blocks.jsonl",
      "{\"id\":\"a\"}\n\n   \n{\"id\":\"b\"}\r\n{broken\n{\"id\":\"c\"}");
  const Read read = ReadAll(file.path());
  ASSERT_EQ(read.ids.size(), 4u);
  EXPECT_EQ(read.ids[0], "a");
  EXPECT_EQ(read.ids[1], "b");
  EXPECT_THAT(read.ids[2],
              HasSubstr(absl::StrCat("!", file.path(), ":5: not a lead: ")));
  EXPECT_EQ(read.ids[3], "c");
  EXPECT_EQ(read.lines, (std::vector<int64_t>{1, 4, 5, 6}));
  EXPECT_EQ(read.indexes, (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(LeadBlockReaderTest, ManyBlocksKeepTheirOrder) {
  // More than one 32 MiB chunk, so records straddle the chunk boundary.
  const std::string padding(2000, 'x');
  std::string text;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&text, R"({"id":"lead-)", i, R"(","jobTitle":")", padding,
                    "\"}\n");
  }
  const TempFile file("many.jsonl", text);
  const Read read = ReadAll(file.path());
  ASSERT_EQ(read.ids.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(read.ids[i], absl::StrCat("lead-", i));
    ASSERT_EQ(read.lines[i], i + 1);
  }
}

TEST(LeadBlockReaderTest, LinesTooLongAreSkippedAndReadingGoesOn) {
  // Longer than a chunk and its carry together: the reading thread stops
  // holding such a line and skips to its end over the next chunks, whole
  // chunks without a newline included; the last line ends the file.
  const std::string long_line = absl::StrCat(
      R"({"id":"b","jobTitle":")", std::string(100 << 20, 'x'), "\"}");
  const std::string last_line = absl::StrCat(R"({"id":"d","jobTitle":")",
                                             std::string(70 << 20, 'x'), "\"}");
  const TempFile file("long.jsonl",
                      absl::StrCat(R"({"id":"a"})", "\n", long_line, "\n",
                                   R"({"id":"c"})", "\n", last_line));
  const Read read = ReadAll(file.path());
  ASSERT_EQ(read.ids.size(), 4u);
  EXPECT_EQ(read.ids[0], "a");
  EXPECT_EQ(read.ids[1],
            absl::StrCat("!", file.path(), ":2: a line of ", long_line.size(),
                         " bytes; at most ", kMaxRecordBytes));
  EXPECT_EQ(read.ids[2], "c");
  EXPECT_EQ(read.ids[3],
            absl::StrCat("!", file.path(), ":4: a line of ", last_line.size(),
                         " bytes; at most ", kMaxRecordBytes));
  EXPECT_EQ(read.lines, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(read.indexes, (std::vector<int64_t>{0, 1, 2, 3}));
}

// CSV over several chunks, read into two blocks in turn as the pipeline
// does (a block is parsed after the next one was read): records cut by a
// chunk's end, newlines in quotes, line numbers and the cells' ends found
// on the reading thread all come through.
TEST(LeadBlockReaderTest, CsvOverManyChunksInTwoBlocks) {
  constexpr int kRecords = 20000;
  const std::string padding(2000, 'x');
  std::string csv = "id,job_title,events\n";
  std::vector<int64_t> lines;
  int64_t line = 2;
  for (int i = 0; i < kRecords; ++i) {
    const bool two_lines = i % 7 == 0;
    absl::StrAppend(&csv, "c", i, ",\"VP", two_lines ? "\nEMEA " : " ", padding,
                    "\",\"[{\"\"id\"\":\"\"e", i,
                    "\"\",\"\"type\"\":\"\"EVENT_TYPE_PAGE_VIEW\"\","
                    "\"\"occurred_at\"\":\"\"2026-11-20T10:00:00Z\"\"}]\"\n");
    lines.push_back(line);
    line += two_lines ? 2 : 1;
  }
  ASSERT_GT(csv.size(), size_t{40} << 20);
  const TempFile file("many.csv", csv);
  auto reader = LeadBlockReader::Open(file.path());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  LeadBlock blocks[2];
  ReusableLead reusable;
  FlatLeadReaders readers;
  v1::Lead fields;
  FlatLead flat;
  Read read;
  int64_t flat_reads = 0;
  auto parse = [&](LeadBlock& block) {
    for (int64_t i = 0; i < block.size(); ++i) {
      const v1::Lead* lead = ParseRecord(block, i, reusable, &read);
      if (block.ParseFlat(i, &readers, &fields, &flat)) {
        ++flat_reads;
        EXPECT_EQ(fields.id(), lead->id());
        ASSERT_EQ(flat.events().size(), 1u);
        EXPECT_EQ(flat.events()[0].id, absl::StrCat("e", i + block.index(0)));
      }
    }
  };
  int blocks_read = 0;
  for (;; ++blocks_read) {
    absl::StatusOr<bool> more = (*reader)->Next(&blocks[blocks_read % 2]);
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (blocks_read > 0) parse(blocks[(blocks_read - 1) % 2]);
    if (!*more) break;
  }
  EXPECT_GE(blocks_read, 2);
  ASSERT_EQ(read.ids.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(read.ids[i], absl::StrCat("c", i));
    ASSERT_EQ(read.lines[i], lines[i]) << i;
    ASSERT_EQ(read.indexes[i], i);
  }
  EXPECT_EQ(flat_reads, kRecords);
}

TEST(LeadBlockReaderTest, ACsvRecordTooLongEndsReading) {
  const TempFile file("long.csv",
                      absl::StrCat("id,job_title\nc1,a\nc2,\"",
                                   std::string(70 << 20, 'x'), "\"\nc3,b\n"));
  auto reader = LeadBlockReader::Open(file.path());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  LeadBlock block;
  absl::StatusOr<bool> more = (*reader)->Next(&block);
  ASSERT_TRUE(more.ok() && *more) << more.status();
  ASSERT_EQ(block.size(), 1);
  EXPECT_EQ(block.line(0), 2);
  more = (*reader)->Next(&block);
  EXPECT_EQ(more.status(), absl::InvalidArgumentError(absl::StrCat(
                               file.path(), ":3: record too long")));
  more = (*reader)->Next(&block);
  EXPECT_TRUE(more.ok() && !*more);
}

TEST(LeadBlockReaderTest, CsvIsReadLikeLeadReader) {
  const TempFile file(
      "blocks.csv",
      "id,seniority,employee_count\nc1,director,250\nc2,nobody,10\nc3,,\n");
  const Read read = ReadAll(file.path());
  ASSERT_EQ(read.ids.size(), 3u);
  EXPECT_EQ(read.ids[0], "c1");
  EXPECT_THAT(read.ids[1], HasSubstr("unknown seniority"));
  EXPECT_EQ(read.ids[2], "c3");
  EXPECT_EQ(read.lines, (std::vector<int64_t>{2, 3, 4}));
}

// Records are found on the reading thread and parsed on others: quotes,
// newlines in quotes, CRLF, blank lines and errors must come out as
// LeadReader, which reads record after record, gives them.
TEST(LeadBlockReaderTest, TrickyCsvIsReadLikeLeadReader) {
  const std::string csv =
      "id,job_title,events\r\n"
      "c1,\"VP, \"\"Sales\"\"\nEMEA\",\r\n"
      "\r\n"
      "\"\"\n"
      "c2,ab\"c,\"[{\"\"id\"\":\"\"e1\"\",\"\"type\"\":\"\"EVENT_TYPE_PAGE_"
      "VIEW\"\",\"\"occurred_at\"\":"
      "\"\"2026-11-20T10:00:00Z\"\"}]\"\n"
      "c3,\"\"\"\"\n"
      "c4,\"x\r\"\n"
      "too,many,columns,here\n"
      "c5,\"\"x\"\"y,\"[{\"\"kind\"\":1}]\"\n"
      "c6,\"open\nquote\n";
  const TempFile file("tricky.csv", csv);
  const Read blocks = ReadAll(file.path());
  std::istringstream in(csv);
  auto reader = LeadReader::FromStream(&in, LeadFormat::kCsv, file.path());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  Read one_by_one;
  v1::Lead lead;
  for (;;) {
    absl::StatusOr<bool> more = (*reader)->Next(&lead);
    if (more.ok() && !*more) break;
    one_by_one.ids.push_back(
        more.ok() ? lead.id() : absl::StrCat("!", more.status().message()));
    one_by_one.lines.push_back((*reader)->line());
    if (!more.ok() &&
        absl::StrContains(more.status().message(), "unterminated"))
      break;
  }
  EXPECT_EQ(blocks.ids, one_by_one.ids);
  EXPECT_EQ(blocks.lines, one_by_one.lines);
  EXPECT_EQ(blocks.ids.size(),
            7u);  // c1 to c6 and the line of too many columns
}

TEST(LeadBlockReaderTest, AMissingFileIsNotFound) {
  EXPECT_EQ(LeadBlockReader::Open("/no/such/leads.jsonl").status().code(),
            absl::StatusCode::kNotFound);
}

// The members of a struct of FlatLead values hold the keys and values of
// the Struct the slow path reads, whatever their order.
// `fields` and `flat`, which a flat reader read, are `full`, which the slow
// path read, and a lead validation accepts.

// When the flat reader takes a lead, it must be the lead the slow path
// reads, valid; when it does not, the slow path decides.
void ExpectFlatAsSlow(absl::string_view json, bool flat_path) {
  FlatLeadJsonReader reader;
  v1::Lead fields;
  FlatLead flat;
  ASSERT_EQ(reader.Read(json, &fields, &flat), flat_path) << json;
  if (!flat_path) return;
  v1::Lead full;
  ASSERT_TRUE(ParseLeadJsonQuickly(json, &full).ok()) << json;
  ExpectFlatLeadIs(fields, flat, full, std::string(json));
}

// The fast readers test a time's 14 digits and 5 separators together: a
// byte just outside '0'..'9' in any digit, or a wrong separator, in
// created_at or in an event, must still be left to protobuf, which refuses
// it.
TEST(LeadJsonTest, TimesWithANonDigitAreLeftToProtobuf) {
  const std::string time = "2026-01-01T00:00:00Z";
  for (size_t i = 0; i < 19; ++i) {
    const bool digit = time[i] >= '0' && time[i] <= '9';
    // A separator replaced by a digit, by its neighbour in ASCII, or by
    // another separator.
    const std::vector<char> wrongs =
        digit ? std::vector<char>{'/', ':', 'a'}
              : std::vector<char>{'0', static_cast<char>(time[i] + 1),
                                  time[i] == '-' ? ':' : '-'};
    for (const char wrong : wrongs) {
      std::string bad = time;
      bad[i] = wrong;
      ExpectSameAsProtobuf(
          absl::StrCat(R"({"id":"a","created_at":")", bad, R"("})"), false);
      const std::string in_event = absl::StrCat(
          R"({"id":"a","events":[{"id":"e","type":)",
          R"("EVENT_TYPE_PAGE_VIEW","occurred_at":")", bad, R"("}]})");
      ExpectSameAsProtobuf(in_event, false);
      ExpectFlatAsSlow(in_event, false);
    }
  }
}

// The readers try the field that usually comes next by its bytes; keys in
// any other order, with space before their colon, or too near the end for
// that comparison are read all the same, and a key that only starts or
// ends like a field's is not taken for it.
TEST(LeadJsonTest, KeysInAnyOrderAndFormAreReadAsProtobufReadsThem) {
  for (
      const char* json : {
          R"({"created_at":"2026-11-23T09:00:00Z","events":[{"properties":{"url":"/"},"occurred_at":"2026-11-23T08:00:00Z","type":"EVENT_TYPE_PAGE_VIEW","id":"e"}],"company":{"region":"EMEA","annual_revenue":5,"employee_count":"3","name":"n"},"id":"a"})",
          R"({"id" :"a","company":{"employee_count"  :"2","annual_revenue" :1.5},"events":[{"id" :"e","type"	:"EVENT_TYPE_PAGE_VIEW","occurred_at"
:"2026-11-23T08:00:00Z"}]})",
          R"({"id":"a","company":{"name":"n","annual_revenue":1,"domain":"d"}})",
          R"({"id":"a","consent":{}})",
          R"({"consent":{"do_not_call":true},"id":"a"})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_CUSTOM","occurredAt":"2026-11-23T08:00:00Z","custom_type":"t"}]})",
      }) {
    ExpectSameAsProtobuf(json, true);
    ExpectFlatAsSlow(json, true);
  }
  for (const char* json : {
           R"({"id":"a","ids":"b"})",
           R"({"id":"a","i":"b"})",
           R"({"id":"a","company":{"annual_revenuee":1}})",
           R"({"id":"a","company":{"annual_revenu":1}})",
           R"({"id":"a","company":{"annual_revenue":1,"annual_revenue":2}})",
           R"({"id":"a","events":[{"id":"e","id":"f"}]})",
           R"({"id":"a","consent":)",
       }) {
    ExpectSameAsProtobuf(json, false);
    ExpectFlatAsSlow(json, false);
  }
}

TEST(FlatLeadJsonReaderTest, GeneratedLeadsTakeTheFlatPath) {
  LeadGeneratorOptions options;
  options.seed = 12;
  options.now = At("2026-11-23T09:00:00Z");
  const LeadGenerator generator(options);
  google::protobuf::util::JsonPrintOptions json_names;
  v1::Lead lead;
  for (int i = 0; i < 300; ++i) {
    generator.Generate(i, &lead);
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(lead, &json, json_names)
            .ok());
    ExpectFlatAsSlow(json, true);
  }
}

// A reader keeps the attributes' entries from lead to lead: each lead must
// still get exactly its own attributes, whatever the lead before had.
TEST(FlatLeadJsonReaderTest, AttributesAreEachLeadsOwnWhateverCameBefore) {
  const std::vector<std::pair<std::string, bool>> leads = {
      {R"({"id":"a","attributes":{"crm":"hubspot","seats":5,"plan":"pro"}})",
       true},
      {R"({"id":"b","attributes":{"crm":"salesforce","seats":7,"plan":"x"}})",
       true},
      {R"({"id":"c","attributes":{"plan":"team","crm":"pipedrive"}})", true},
      {R"({"id":"d"})", true},
      {R"({"id":"e","attributes":{"seats":"many","crm":{"name":"hs","v":2}}})",
       true},
      {R"({"id":"f","attributes":{"crm":{"v":3},"seats":[1,"two",{"k":1}]}})",
       true},
      {R"({"id":"f2","attributes":{"seats":[2],"crm":{"w":1}}})", true},
      {R"({"id":"g","attributes":{"crm":null,"seats":true,"new":false}})",
       true},
      {R"({"id":"h","attributes":{}})", true},
      {R"({"id":"i","attributes":{"crm":"hubspot","crm":"twice"}})", false},
      {R"({"id":"j","attributes":{"crm":"hubspot","seats":3}})", true},
      {R"({"id":"k","attributes":{"crm":"hubspot","seats":3,)", false},
      {R"({"id":"l","attributes":{"seats":4,"tech_stack":"a,b","crm":"c"}})",
       true},
  };
  FlatLeadJsonReader reader;
  v1::Lead fields;
  FlatLead flat;
  for (const auto& [json, flat_path] : leads) {
    ASSERT_EQ(reader.Read(json, &fields, &flat), flat_path) << json;
    if (!flat_path) continue;
    v1::Lead full;
    ASSERT_TRUE(ParseLeadJsonQuickly(json, &full).ok()) << json;
    ExpectFlatLeadIs(fields, flat, full, json);
    EXPECT_EQ(fields.has_attributes(), full.has_attributes()) << json;
  }
}

// `levels` structs nested around a number: {"k":{"k":1}} for 2.
TEST(FlatLeadJsonReaderTest, EventsTheScorerAcceptsAreReadFlat) {
  // Properties are depth 1: 15 more structs reach the deepest accepted.
  const std::string deep = NestedStructs(15);
  for (
      const std::string& json : std::vector<std::string>{
          R"({"id":"a","events":[]})",
          R"({"id":"a","events":[{"id":"e\"1\u00e9","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00.5Z","properties":{"url":"/a\\b\n🚀","n":-2.5e3,"b":false,"z":null,"e":"","o":{"p":{"q":"r"},"s":1}}}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_CUSTOM","customType":"trial","occurredAt":"0001-01-01T00:00:00Z","properties":{}}]})",
          // Structs before, between and after scalars, at every depth;
          // an empty one; two events, so that the second's lie after the
          // first's.
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{"a":1,"o":{"x":1,"p":{"q":"r","e":{}},"s":1},"t":"u","v":{"w":true}}},{"id":"f","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{"o":{"p":1},"a":2}}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_EMAIL_OPEN","occurred_at":"9999-12-31T23:59:59.999999999Z"},{"id":"e","type":"EVENT_TYPE_EMAIL_OPEN","occurred_at":"2026-01-01T00:00:00Z"}]})",
          absl::StrCat(
              R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{"d":)",
              deep, "}}]}"),
          absl::StrCat(
              R"({"id":"a","events":[{"id":")", std::string(256, 'i'),
              R"(","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{")",
              std::string(256, 'k'), R"(":")", std::string(64 << 10, 't'),
              R"("}}]})"),
      }) {
    ExpectFlatAsSlow(json, true);
  }
}

TEST(FlatLeadJsonReaderTest, WhatValidationRefusesIsLeftToTheSlowPath) {
  const std::string event =
      R"("type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z")";
  const std::string too_deep = NestedStructs(16);
  for (
      const std::string& json : std::vector<std::string>{
          absl::StrCat(R"({"id":"a","events":[{)", event, "}]}"),
          absl::StrCat(R"({"id":"a","events":[{"id":"",)", event, "}]}"),
          absl::StrCat(R"({"id":"a","events":[{"id":")", std::string(257, 'i'),
                       "\",", event, "}]}"),
          R"({"id":"a","events":[{"id":"e","occurred_at":"2026-11-23T09:00:00Z"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_UNSPECIFIED","occurred_at":"2026-11-23T09:00:00Z"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_NOPE","occurred_at":"2026-11-23T09:00:00Z"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_CUSTOM","occurred_at":"2026-11-23T09:00:00Z"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW"}]})",
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"k":1,"k":2}}]})"),
          // A key repeated after a struct, which moves the members read
          // before it aside, and inside that struct.
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"k":1,"o":{},"k":2}}]})"),
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"o":{"k":1,"p":{},"k":2}}}]})"),
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"l":[1,2]}}]})"),
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"k\u0041":1}}]})"),
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{")", std::string(257, 'k'),
                       R"(":1}}]})"),
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"t":")",
                       std::string((64 << 10) + 1, 't'), R"("}}]})"),
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"d":)", too_deep, "}}]}"),
          R"({"id":"a","company":{"employee_count":-7}})",
          R"({"id":"","events":[]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T10:00:00+01:00"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","extra":1}]})",
          R"({"id":"a","events":{}})",
      }) {
    ExpectFlatAsSlow(json, false);
  }
}

// The same for a CSV record under `header`: when the flat CSV reader takes
// it, SplitCsvRecord and CsvFieldsToLead read the same valid lead. The
// reader splits the record itself, and takes the cuts ScanCsvRecord tells
// when the record is followed by more of the file; `cuts_told` says whether
// it did.
void ExpectCsvFlatAsSlow(absl::string_view header, absl::string_view record,
                         bool flat_path, bool* cuts_told = nullptr) {
  std::vector<std::string> cells;
  SplitCsvRecord(header, &cells);
  const absl::StatusOr<std::vector<CsvColumn>> columns = CheckCsvHeader(cells);
  ASSERT_TRUE(columns.ok()) << columns.status().message();
  const std::string file = absl::StrCat(record, std::string(64, '\n'));
  int64_t lines = 0;
  std::vector<uint32_t> cuts;
  const absl::StatusOr<size_t> n =
      ScanCsvRecord(file, /*at_end=*/true, &lines, &cuts);
  if (!n.ok() || *n != record.size()) cuts.clear();
  if (cuts_told != nullptr) *cuts_told = !cuts.empty();
  for (const absl::Span<const uint32_t> told :
       {absl::Span<const uint32_t>(), absl::MakeConstSpan(cuts)}) {
    FlatLeadCsvReader reader;
    v1::Lead fields;
    FlatLead flat;
    ASSERT_EQ(reader.Read(*columns, record, told, &fields, &flat), flat_path)
        << record << "\ncuts told: " << told.size();
    if (!flat_path) continue;
    SplitCsvRecord(record, &cells);
    v1::Lead full;
    ASSERT_TRUE(CsvFieldsToLead(*columns, cells, &full).ok()) << record;
    ExpectFlatLeadIs(fields, flat, full, std::string(record));
  }
}

// A CSV field as spreadsheets write it: in quotes, each quote doubled.
std::string CsvQuoted(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  out.push_back('"');
  return out;
}

constexpr absl::string_view kCsvHeader =
    "id,job_title,seniority,company_name,employee_count,annual_revenue,"
    "country,opted_out,created_at,attributes.plan,events\n";

TEST(FlatLeadCsvReaderTest, GeneratedLeadsTakeTheFlatPath) {
  LeadGeneratorOptions options;
  options.seed = 13;
  options.now = At("2026-11-23T09:00:00Z");
  const LeadGenerator generator(options);
  v1::Lead lead;
  int told = 0;
  for (int i = 0; i < 300; ++i) {
    generator.Generate(i, &lead);
    v1::Lead events_only;
    *events_only.mutable_events() = lead.events();
    std::string events;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(events_only, &events).ok());
    // {"events":[...]} without its wrapper; a lead without events is {}.
    events = events == "{}" ? "" : events.substr(10, events.size() - 11);
    const std::string created =
        absl::FormatTime(absl::RFC3339_full,
                         absl::FromUnixSeconds(lead.created_at().seconds()) +
                             absl::Nanoseconds(lead.created_at().nanos()),
                         absl::UTCTimeZone());
    // Quoted and unquoted cells, \n and \r\n endings, and the last record
    // of a file without its newline.
    const std::string record = absl::StrCat(
        i % 2 == 0 ? CsvQuoted(lead.id()) : lead.id(), ",",
        CsvQuoted(lead.job_title()), ",", v1::Seniority_Name(lead.seniority()),
        ",", CsvQuoted(absl::StrCat(lead.company().name(), " \"Inc\", ltd")),
        ",", lead.company().employee_count(), ",",
        lead.company().annual_revenue(), ",", lead.company().country(), ",",
        i % 5 == 0 ? "TRUE" : "", ",", created, ",", i % 3 == 0 ? "pro" : "",
        ",", CsvQuoted(events),
        i % 4 == 0   ? "\r\n"
        : i % 4 == 1 ? "\n"
                     : "");
    bool cuts_told = false;
    ExpectCsvFlatAsSlow(kCsvHeader, record, true, &cuts_told);
    told += cuts_told;
  }
  // ScanCsvRecord tells the cells of every record that ends in a newline:
  // half of them.
  EXPECT_EQ(told, 150);
}

TEST(FlatLeadCsvReaderTest, EventCellsTheScorerAcceptsAreReadFlat) {
  const std::string head = "c1,,,,,,,,,,";
  for (
      const std::string& record : std::vector<std::string>{
          head + "\n",
          head + "\"\"\n",
          head + "[]\n",
          head + " [ ] \n",
          head + "\"[]\"\r\n",
          head +
              R"("[{""id"":""e\""1\u00e9"",""type"":""EVENT_TYPE_PAGE_VIEW"",""occurred_at"":""2026-11-23T09:00:00.5Z"",""properties"":{""url"":""/a\\b\n🚀"",""q"":""\"""",""e"":"""",""n"":-2.5e3,""o"":{""p"":{""q"":null}}}}]")"
              "\n",
          head +
              R"("[{""id"":""e"",""type"":""EVENT_TYPE_CUSTOM"",""customType"":""trial"",""occurredAt"":""2026-11-23T09:00:00Z""}]")",
          head +
              R"("[{""occurred_at"" :""2026-11-23T09:00:00Z"",""properties"":{},""type"":""EVENT_TYPE_PAGE_VIEW"",""id"":""e""}]")"
              "\n",
          "\"c\"\"2\",\"VP, \"\"Sales\"\"\",vp,,,,,,,,\n",
      }) {
    ExpectCsvFlatAsSlow(kCsvHeader, record, true);
  }
}

// Forms only the fields reader reads exactly, and what it or validation
// refuses, are left to it.
TEST(FlatLeadCsvReaderTest, EverythingElseIsLeftToTheFieldsReader) {
  const std::string head = "c1,,,,,,,,,,";
  const std::string event =
      R"(""id"":""e"",""type"":""EVENT_TYPE_PAGE_VIEW"",""occurred_at"":""2026-11-23T09:00:00Z"")";
  for (const std::string& record : std::vector<std::string>{
           "c1,\"VP\"x,,,,,,,,,\n",     // text after the closing quote
           "c1,ab\"c,,,,,,,,,\n",       // a quote inside a field
           "c1,,,,,,,,,\n",             // a column short
           "c1,,,,,,,,,,,\n",           // a column too many
           ",,,,,,,,,,\n",              // no id
           "c1,,nobody,,,,,,,,\n",      // an unknown seniority
           "c1,,,,many,,,,,,\n",        // not a whole number
           "c1,,,,,,,,2026-11-23,,\n",  // not an RFC 3339 time
           "c1,\xff,,,,,,,,,\n",        // not UTF-8
           head + "\"[\"\n",            // not a JSON array
           head + "\"{}\"\n",           // an object, not an array
           head + "\"[]x\"\n",          // something after the array
           head + "\"[{" + event + "}], \"\"id\"\":1\"\n",
           head + "\"[{" + event + ",\"\"properties\"\":{\"\"l\"\":[1]}}]\"\n",
           head + "\"[{\"\"id\"\":\"\"e\"\"}]\"\n",  // no type, no time
           head + "\"[{\"id\":1}]\"\n",  // single quotes in a quoted cell
       }) {
    ExpectCsvFlatAsSlow(kCsvHeader, record, false);
  }
  // CsvRecord drops a \r that ends a record's last field, even in quotes.
  ExpectCsvFlatAsSlow("id,job_title\n", "c1,\"x\r\"\n", false);
  ExpectCsvFlatAsSlow("id,job_title,country\n", "c1,\"x\r\",FR\n", true);
}

// A file with two events columns keeps both columns' events, in order.
TEST(FlatLeadCsvReaderTest, TwoEventsColumnsAreLeftToTheFieldsReader) {
  const std::string events =
      R"("[{""id"":""e"",""type"":""EVENT_TYPE_PAGE_VIEW"",""occurred_at"":""2026-11-23T09:00:00Z""}]")";
  ExpectCsvFlatAsSlow("id,events,events\n",
                      absl::StrCat("c1,", events, ",", events, "\n"), false);
  ExpectCsvFlatAsSlow("id,events,events\n", absl::StrCat("c1,", events, ",\n"),
                      true);
}

}  // namespace
}  // namespace smarketing
