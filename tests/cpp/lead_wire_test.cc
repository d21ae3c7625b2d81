#include "core/leads/lead_wire.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/leads/lead_io.h"
#include "core/scoring/lead_validation.h"
#include "core/synthetic/lead_generator.h"
#include "gtest/gtest.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using ::smarketing::testing::At;
using ::smarketing::testing::DeterministicBytes;
using ::smarketing::testing::ExpectFlatLeadIs;
using ::smarketing::testing::NestedStructs;

// Encoding by hand, for what no message serializes: fields given twice,
// other wire types, malformed bytes.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(int number, int type) { return Varint(number << 3 | type); }
std::string Len(int number, absl::string_view bytes) {
  return absl::StrCat(Tag(number, 2), Varint(bytes.size()), bytes);
}
std::string VarintField(int number, uint64_t v) {
  return absl::StrCat(Tag(number, 0), Varint(v));
}
std::string DoubleField(int number, double d) {
  char bytes[8];
  std::memcpy(bytes, &d, 8);
  return absl::StrCat(Tag(number, 1), absl::string_view(bytes, 8));
}

v1::Lead FromJson(absl::string_view json) {
  v1::Lead lead;
  const absl::Status st = ParseLeadJson(json, &lead);
  EXPECT_TRUE(st.ok()) << json << "\n" << st.message();
  return lead;
}

// When the wire reader takes a lead, protobuf reads the same valid lead
// from the same bytes; when it does not, the slow path decides.
void ExpectWireAsSlow(absl::string_view bytes, bool flat_path,
                      const std::string& where) {
  FlatLeadWireReader reader;
  v1::Lead fields;
  FlatLead flat;
  ASSERT_EQ(reader.Read(bytes, &fields, &flat), flat_path) << where;
  if (!flat_path) return;
  v1::Lead full;
  ASSERT_TRUE(full.ParseFromString(std::string(bytes))) << where;
  ExpectFlatLeadIs(fields, flat, full, where);
}

// A lead with one page view whose properties are `properties` (encoded
// Struct entries), and `extra` appended to the event.
std::string LeadWithEvent(absl::string_view properties,
                          absl::string_view extra = "") {
  const std::string time = VarintField(1, 1795424400);  // 2026-11-23T09:00Z
  const std::string event =
      absl::StrCat(Len(1, "e1"), VarintField(2, v1::EVENT_TYPE_PAGE_VIEW),
                   Len(3, time), Len(4, properties), extra);
  return absl::StrCat(Len(1, "lead-1"), Len(12, event));
}
std::string Entry(absl::string_view key, absl::string_view value) {
  return Len(1, absl::StrCat(Len(1, key), Len(2, value)));
}

TEST(FlatLeadWireReaderTest, GeneratedLeadsTakeTheFlatPath) {
  LeadGeneratorOptions options;
  options.seed = 12;
  options.now = At("2026-11-23T09:00:00Z");
  const LeadGenerator generator(options);
  v1::Lead lead;
  FlatLeadWireReader reader;  // one reader for all, as each thread has
  v1::Lead fields;
  FlatLead flat;
  for (int i = 0; i < 300; ++i) {
    generator.Generate(i, &lead);
    const std::string bytes = lead.SerializeAsString();
    ASSERT_TRUE(reader.Read(bytes, &fields, &flat)) << i;
    ExpectFlatLeadIs(fields, flat, lead, absl::StrCat("lead ", i));
  }
}

TEST(FlatLeadWireReaderTest, EventsTheScorerAcceptsAreReadFlat) {
  const std::string deep = NestedStructs(15);
  for (
      const std::string& json : std::vector<std::string>{
          R"({"id":"a","events":[]})",
          R"({"id":"a","events":[{"id":"e\"1\u00e9","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00.5Z","properties":{"url":"/a\\b\n🚀","n":-2.5e3,"b":false,"t":true,"z":null,"e":"","":1,"o":{"p":{"q":"r"},"s":1}}}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_CUSTOM","customType":"trial","occurredAt":"0001-01-01T00:00:00Z","properties":{}}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{"a":1,"o":{"x":1,"p":{"q":"r","e":{}},"s":1},"t":"u","v":{"w":true}}},{"id":"f","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{"o":{"p":1},"a":2}}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_EMAIL_OPEN","occurred_at":"9999-12-31T23:59:59.999999999Z"},{"id":"e","type":"EVENT_TYPE_EMAIL_OPEN","occurred_at":"1969-12-31T23:59:59.5Z"}]})",
          absl::StrCat(
              R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{"d":)",
              deep, "}}]}"),
          absl::StrCat(
              R"({"id":"a","events":[{"id":")", std::string(256, 'i'),
              R"(","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z","properties":{")",
              std::string(256, 'k'), R"(":")", std::string(64 << 10, 't'),
              R"("}}]})"),
          // The lead's own fields around its events, attributes included.
          R"({"id":"a","contact":{"email":"x@example.com"},"seniority":"SENIORITY_VP","company":{"employee_count":250,"annual_revenue":3e7},"attributes":{"plan":"pro","l":[1,{"k":2}]},"events":[{"id":"e","type":"EVENT_TYPE_DEMO_REQUEST","occurred_at":"2026-11-23T09:00:00Z"}],"created_at":"2026-01-01T00:00:00Z"})",
      }) {
    ExpectWireAsSlow(DeterministicBytes(FromJson(json)), true, json);
  }
}

TEST(FlatLeadWireReaderTest,
     UnknownFieldsAndEventsOutOfPlaceAreReadAsProtobuf) {
  const std::string group = absl::StrCat(Tag(90, 3), VarintField(1, 5),
                                         Tag(91, 3), Tag(91, 4), Tag(90, 4));
  const std::string unknown =
      absl::StrCat(VarintField(77, 3), DoubleField(78, 1.5), Len(79, "x"),
                   Tag(80, 5), "abcd", group);
  const std::string time = VarintField(1, 1795424400);
  const std::string event = absl::StrCat(
      Len(1, "e"), VarintField(2, v1::EVENT_TYPE_PAGE_VIEW), Len(3, time));
  for (const std::string& bytes : {
           // Unknown fields in the lead and in an event are kept or skipped
           // as protobuf does.
           absl::StrCat(Len(1, "a"), unknown, Len(12, event)),
           absl::StrCat(Len(1, "a"), Len(12, absl::StrCat(event, unknown))),
           // Events before, between and after the lead's own fields.
           absl::StrCat(Len(12, event), Len(1, "a"), Len(12, event),
                        Len(3, "CTO"), Len(12, event)),
           // An enum as its number.
           absl::StrCat(Len(1, "a"), VarintField(5, 3), Len(12, event)),
       }) {
    ExpectWireAsSlow(bytes, true, absl::CEscape(bytes));
  }
  // A negative enum number takes ten bytes; validation refuses it.
  ExpectWireAsSlow(
      absl::StrCat(
          Len(1, "a"),
          Len(12, absl::StrCat(Len(1, "e"), VarintField(2, -1), Len(3, time)))),
      false, "negative event type");
}

TEST(FlatLeadWireReaderTest, WhatValidationRefusesIsLeftToTheSlowPath) {
  const std::string too_deep = NestedStructs(16);
  const std::string event =
      R"("type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-23T09:00:00Z")";
  for (
      const std::string& json : std::vector<std::string>{
          absl::StrCat(R"({"id":"a","events":[{)", event, "}]}"),
          absl::StrCat(R"({"id":"a","events":[{"id":")", std::string(257, 'i'),
                       "\",", event, "}]}"),
          R"({"id":"a","events":[{"id":"e","occurred_at":"2026-11-23T09:00:00Z"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_CUSTOM","occurred_at":"2026-11-23T09:00:00Z"}]})",
          R"({"id":"a","events":[{"id":"e","type":"EVENT_TYPE_PAGE_VIEW"}]})",
          absl::StrCat(R"({"id":"a","events":[{"id":"e",)", event,
                       R"(,"properties":{"l":[1,2]}}]})"),
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
      }) {
    ExpectWireAsSlow(DeterministicBytes(FromJson(json)), false, json);
  }
  // What JSON cannot say: an unknown event type, nanos out of range.
  const std::string time = VarintField(1, 1795424400);
  ExpectWireAsSlow(
      absl::StrCat(Len(1, "a"),
                   Len(12, absl::StrCat(Len(1, "e"), VarintField(2, 999),
                                        Len(3, time)))),
      false, "event type 999");
  ExpectWireAsSlow(
      absl::StrCat(
          Len(1, "a"),
          Len(12, absl::StrCat(
                      Len(1, "e"), VarintField(2, v1::EVENT_TYPE_PAGE_VIEW),
                      Len(3, absl::StrCat(time, VarintField(2, 1000000000)))))),
      false, "nanos of a second");
}

TEST(FlatLeadWireReaderTest, FormsOnlyProtobufReadsAreLeftToIt) {
  const std::string time = VarintField(1, 1795424400);
  const std::string nan = DoubleField(2, std::nan(""));
  for (const auto& [name, bytes] :
       std::vector<std::pair<std::string, std::string>>{
           {"a key twice",
            LeadWithEvent(absl::StrCat(Entry("k", VarintField(4, 1)),
                                       Entry("k", VarintField(4, 0))))},
           {"a nested key twice",
            LeadWithEvent(Entry(
                "o", Len(5, absl::StrCat(Entry("k", VarintField(4, 1)),
                                         Entry("k", VarintField(4, 0))))))},
           {"an entry without a value", LeadWithEvent(Len(1, Len(1, "k")))},
           {"an entry's key twice",
            LeadWithEvent(Len(1, absl::StrCat(Len(1, "k"), Len(1, "j"),
                                              Len(2, VarintField(4, 1)))))},
           {"an empty value", LeadWithEvent(Entry("k", ""))},
           {"a value of two kinds",
            LeadWithEvent(Entry(
                "k", absl::StrCat(VarintField(4, 1), DoubleField(2, 1))))},
           {"a value's unknown field",
            LeadWithEvent(Entry("k", VarintField(9, 1)))},
           {"null's other number",
            LeadWithEvent(Entry("k", VarintField(1, 1)))},
           {"not a number", LeadWithEvent(Entry("k", nan))},
           {"infinity",
            LeadWithEvent(Entry(
                "k", DoubleField(2, std::numeric_limits<double>::infinity())))},
           {"a number as a varint",
            LeadWithEvent(Entry("k", VarintField(2, 1)))},
           {"a list", LeadWithEvent(Entry("k", Len(6, "")))},
           {"a struct's unknown field", LeadWithEvent(VarintField(2, 1))},
           {"properties twice",
            LeadWithEvent("", Len(4, Entry("k", VarintField(4, 1))))},
           {"an id twice", LeadWithEvent("", Len(1, "e2"))},
           {"a type twice",
            LeadWithEvent("", VarintField(2, v1::EVENT_TYPE_EMAIL_OPEN))},
           {"a time twice", LeadWithEvent("", Len(3, time))},
           {"a time's unknown field",
            LeadWithEvent("", Len(3, VarintField(3, 1)))},
           {"an id as a varint", LeadWithEvent("", VarintField(1, 1))},
           {"invalid UTF-8 in a key", LeadWithEvent(Entry("\xff", ""))},
           {"invalid UTF-8 in a value",
            LeadWithEvent(Entry("k", Len(3, "\xc3")))},
           {"invalid UTF-8 in the custom type",
            LeadWithEvent("", Len(5, "\xed\xa0\x80"))},
           {"truncated", LeadWithEvent("").substr(0, 20)},
           {"a length past the end",
            absl::StrCat(Len(1, "a"), Tag(12, 2), Varint(100), "xx")},
           {"field number 0", absl::StrCat(Len(1, "a"), VarintField(0, 1))},
           {"an unclosed group", absl::StrCat(Len(1, "a"), Tag(90, 3))},
           {"a group closed by another",
            absl::StrCat(Len(1, "a"), Tag(90, 3), Tag(91, 4))},
           {"wire type 7", absl::StrCat(Len(1, "a"), Tag(90, 7))},
       }) {
    ExpectWireAsSlow(bytes, false, name);
  }
}

// protobuf nests at most 100 messages and groups; an event is one of them.
TEST(FlatLeadWireReaderTest, UnknownGroupsNestAsDeepAsProtobufLetsThem) {
  for (const int levels : {99, 100}) {
    std::string groups;
    for (int i = 0; i < levels; ++i) groups += Tag(90, 3);
    for (int i = 0; i < levels; ++i) groups += Tag(90, 4);
    const std::string bytes = LeadWithEvent("", groups);
    v1::Lead lead;
    EXPECT_EQ(lead.ParseFromString(bytes), levels == 99) << levels;
    ExpectWireAsSlow(bytes, levels == 99, absl::StrCat(levels, " groups"));
  }
}

// Any bytes: what the wire reader takes, protobuf reads as the same valid
// lead.
TEST(FlatLeadWireReaderTest, MutatedBytesAreReadAsProtobufReadsThem) {
  LeadGeneratorOptions options;
  options.seed = 5;
  options.now = At("2026-11-23T09:00:00Z");
  const LeadGenerator generator(options);
  std::mt19937 random(17);
  FlatLeadWireReader reader;
  v1::Lead lead, fields, full;
  FlatLead flat;
  int taken = 0;
  for (int i = 0; i < 40; ++i) {
    generator.Generate(i, &lead);
    const std::string original = DeterministicBytes(lead);
    for (int m = 0; m < 500; ++m) {
      std::string bytes = original;
      const size_t at = random() % bytes.size();
      switch (m % 4) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes[at] ^= static_cast<char>(1 << (random() % 8));
          break;
        case 2:
          bytes.resize(at);
          break;
        default:
          bytes.insert(at, 1, static_cast<char>(random()));
      }
      if (!reader.Read(bytes, &fields, &flat)) continue;
      ++taken;
      const std::string where = absl::StrCat("lead ", i, " mutation ", m);
      ASSERT_TRUE(full.ParseFromString(bytes)) << where;
      ExpectFlatLeadIs(fields, flat, full, where);
      if (::testing::Test::HasFailure()) return;
    }
  }
  // Many mutations land in text and leave a valid lead.
  EXPECT_GT(taken, 2000);
}

TEST(SplitWireFieldTest, TheRestParsesAsTheMessageWithoutTheField) {
  v1::Lead lead = FromJson(
      R"({"id":"a","job_title":"CTO","company":{"employee_count":250},"events":[{"id":"e0"},{"id":"e1"}],"created_at":"2026-01-01T00:00:00Z"})");
  // One more event after an unknown group.
  const std::string bytes = absl::StrCat(
      DeterministicBytes(lead), Tag(90, 3), Tag(90, 4),
      Len(12, DeterministicBytes(
                  FromJson(R"({"id":"x","events":[{"id":"e2"}]})").events(0))));
  std::vector<absl::string_view> events;
  std::string rest;
  ASSERT_TRUE(SplitWireField(bytes, 12, &events, &rest).ok());
  ASSERT_EQ(events.size(), 3);
  for (int i = 0; i < 3; ++i) {
    v1::Event event;
    ASSERT_TRUE(event.ParseFromString(std::string(events[i])));
    EXPECT_EQ(event.id(), absl::StrCat("e", i));
  }
  v1::Lead without;
  ASSERT_TRUE(without.ParseFromString(rest));
  lead.clear_events();
  EXPECT_EQ(DeterministicBytes(without),
            absl::StrCat(DeterministicBytes(lead), Tag(90, 3), Tag(90, 4)));
}

// protobuf reads a tag's five bytes and drops the bits past 32: a tag for
// field 1 with high bits set is field 1 (here an unknown varint, as the
// id is a string).
TEST(SplitWireFieldTest, TagsAreReadAsProtobufReadsThem) {
  const std::string bytes =
      absl::StrCat(Len(1, "a"), std::string("\x88\x80\x80\x80\x70\x05", 6));
  std::vector<absl::string_view> values;
  std::string rest;
  ASSERT_TRUE(SplitWireField(bytes, 12, &values, &rest).ok());
  v1::Lead lead;
  ASSERT_TRUE(lead.ParseFromString(bytes));
  EXPECT_EQ(lead.id(), "a");
  ExpectWireAsSlow(bytes, true, "a tag with high bits");
}

TEST(SplitWireFieldTest, MalformedBytesAreRefused) {
  std::vector<absl::string_view> values;
  std::string rest;
  for (const std::string& bytes : {
           absl::StrCat(Tag(1, 2), Varint(5), "abc"),
           absl::StrCat(VarintField(2, 1), Tag(3, 0)),
           std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),
           Tag(90, 3),
           Tag(90, 6),
           // A length in six bytes, and one of 2^31 in five.
           std::string("\x0a\x81\x80\x80\x80\x80\x00"
                       "a",
                       8),
           std::string("\x0a\x80\x80\x80\x80\x08", 6),
           // A tag in six bytes.
           std::string("\x88\x80\x80\x80\x80\x00\x01", 7),
       }) {
    EXPECT_FALSE(SplitWireField(bytes, 1, &values, &rest).ok())
        << absl::CEscape(bytes);
    v1::Lead lead;
    EXPECT_FALSE(lead.ParseFromString(bytes)) << absl::CEscape(bytes);
  }
}

}  // namespace
}  // namespace smarketing
