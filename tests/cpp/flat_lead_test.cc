// The flat form must read every property path as the Struct it came from
// reads it: conditions on events see one or the other.
#include "core/base/flat_lead.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/leads/lead_json.h"
#include "core/playbook/field.h"
#include "gtest/gtest.h"
#include "smarketing/v1/lead.pb.h"
#include "tests/cpp/test_util.h"

namespace smarketing {
namespace {

using testing::LeadFromYaml;

void ExpectSameValue(const FieldValue& flat, const FieldValue& proto,
                     const std::string& path) {
  EXPECT_EQ(flat.kind, proto.kind) << path;
  EXPECT_EQ(flat.number, proto.number) << path;
  EXPECT_EQ(flat.boolean, proto.boolean) << path;
  EXPECT_EQ(flat.text, proto.text) << path;
}

TEST(FlatLeadTest, AssignKeepsTheEventsFieldsAndTheirStructs) {
  const v1::Lead lead = LeadFromYaml(R"(
id: l
events:
  - {id: e1, type: page_view, occurred_at: "2026-11-02T09:57:56.624Z"}
  - {id: e2, type: custom, custom_type: trial_started,
     occurred_at: "1969-12-31T23:59:59.5Z", properties: {plan: pro}}
)");
  FlatLead flat;
  flat.Assign(lead);
  ASSERT_EQ(flat.events().size(), 2u);
  EXPECT_EQ(&flat.fields(), &lead);
  EXPECT_EQ(flat.events()[0].id, "e1");
  EXPECT_EQ(flat.events()[0].type, v1::EVENT_TYPE_PAGE_VIEW);
  EXPECT_EQ(flat.events()[0].seconds, lead.events(0).occurred_at().seconds());
  EXPECT_EQ(flat.events()[0].nanos, 624000000);
  EXPECT_EQ(flat.events()[0].properties, nullptr);
  EXPECT_EQ(flat.events()[1].custom_type, "trial_started");
  EXPECT_EQ(flat.events()[1].type, v1::EVENT_TYPE_CUSTOM);
  EXPECT_EQ(flat.events()[1].seconds, -1);
  EXPECT_EQ(flat.events()[1].nanos, 500000000);
  EXPECT_EQ(flat.events()[1].properties, &lead.events(1).properties());
}

TEST(FlatLeadTest, PathsReadAsInTheStruct) {
  const std::string json =
      R"({"id":"l","events":[)"
      R"({"id":"e1","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-02T09:57:56Z",)"
      R"("properties":{"url":"/pricing","views":3,"returning":true,"empty":"",)"
      R"("nothing":null,"dot.key":"dotted","esc":"a\"b\u00e9",)"
      R"("nested":{"a":{"b":"deep","n":-2.5},"url":"inner"}}},)"
      R"({"id":"e2","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-02T09:57:56Z",)"
      R"("properties":{"url":"/blog","nested":"plain"}}]})";
  SlotTable slots;
  const std::vector<std::vector<std::string>> paths = {
      {"url"},
      {"views"},
      {"returning"},
      {"empty"},
      {"nothing"},
      {"dot.key"},
      {"dot", "key"},
      {"esc"},
      {"nested"},
      {"nested", "a"},
      {"nested", "a", "b"},
      {"nested", "a", "n"},
      {"nested", "a", "b", "c"},
      {"nested", "url"},
      {"url", "x"},
      {"missing"},
      {"nested", "missing"},
  };
  for (const auto& path : paths) slots.Intern(path);
  FlatLeadJsonReader reader;
  v1::Lead fields;
  FlatLead flat;
  ASSERT_TRUE(reader.Read(json, &fields, &flat));
  v1::Lead lead;
  ASSERT_TRUE(ParseLeadJsonQuickly(json, &lead).ok());
  ASSERT_EQ(flat.events().size(), 2u);
  for (int e = 0; e < lead.events_size(); ++e) {
    for (int slot = 0; slot < slots.size(); ++slot) {
      const std::string label = absl::StrCat(
          "event ", e, " path ", absl::StrJoin(slots.path(slot), "/"));
      ExpectSameValue(
          FromFlatValue(flat.Find(flat.events()[e], slots.path(slot))),
          FromProtoValue(slots.Resolve(lead.events(e).properties(), slot)),
          label);
    }
  }
  const FlatValue* deep = flat.Find(flat.events()[0], {"nested", "a", "b"});
  ASSERT_NE(deep, nullptr);
  EXPECT_EQ(deep->text, "deep");
  EXPECT_EQ(flat.Find(flat.events()[1], {"nested", "a"}), nullptr);
}

TEST(FlatLeadTest, RefillingForgetsThePreviousLead) {
  FlatLeadJsonReader reader;
  v1::Lead fields;
  FlatLead flat;
  ASSERT_TRUE(reader.Read(
      R"({"id":"big","events":[)"
      R"({"id":"e1","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-02T09:57:56Z","properties":{"url":"/a","nested":{"x":1}}},)"
      R"({"id":"e2","type":"EVENT_TYPE_PAGE_VIEW","occurred_at":"2026-11-02T09:57:56Z","properties":{"url":"/b"}}]})",
      &fields, &flat));
  EXPECT_EQ(flat.values().size(), 4u);
  ASSERT_TRUE(reader.Read(
      R"({"id":"small","events":[{"id":"e3","type":"EVENT_TYPE_EMAIL_OPEN","occurred_at":"2026-11-02T09:57:56Z"}]})",
      &fields, &flat));
  ASSERT_EQ(flat.events().size(), 1u);
  EXPECT_EQ(flat.events()[0].id, "e3");
  EXPECT_EQ(flat.values().size(), 0u);
  EXPECT_EQ(flat.Find(flat.events()[0], {"url"}), nullptr);
  flat.Assign(v1::Lead());
  EXPECT_TRUE(flat.events().empty());
}

}  // namespace
}  // namespace smarketing
