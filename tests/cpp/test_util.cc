#include "tests/cpp/test_util.h"

#include "absl/strings/str_cat.h"
#include "core/base/problems.h"
#include "core/base/yaml_message.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"

namespace smarketing::testing {

absl::Time At(absl::string_view rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error))
      << rfc3339 << ": " << error;
  return t;
}

namespace {
template <typename Message>
Message FromYaml(absl::string_view yaml) {
  Message message;
  ProblemList problems;
  EXPECT_TRUE(ParseYamlMessage(yaml, &message, &problems))
      << problems.ToStatus("YAML").message();
  return message;
}
}  // namespace

v1::Playbook PlaybookFromYaml(absl::string_view yaml) {
  return FromYaml<v1::Playbook>(yaml);
}

v1::Lead LeadFromYaml(absl::string_view yaml) {
  return FromYaml<v1::Lead>(yaml);
}

std::shared_ptr<const CompiledPlaybook> MustCompile(
    const v1::Playbook& playbook) {
  auto compiled = CompiledPlaybook::Compile(playbook);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  return compiled.ok() ? *compiled : nullptr;
}

std::shared_ptr<const CompiledPlaybook> MustCompileYaml(
    absl::string_view yaml) {
  return MustCompile(PlaybookFromYaml(yaml));
}

std::string ProblemLines(const absl::Status& status) {
  auto problems = ProblemsFromStatus(status);
  if (!problems.has_value()) return std::string(status.message());
  std::string out;
  for (const auto& p : problems->problems()) {
    absl::StrAppend(&out, p.path(), ": ", p.message(), "\n");
  }
  return out;
}

std::string MinimalPlaybookYaml() {
  return R"(
metadata: {name: test, version: "1"}
personas:
  - id: software-buyer
    name: Software buyer
    criteria:
      - id: in-software
        description: Works in software
        when: {field: company.industry, equals: software}
        weight: 60
      - id: senior
        description: Director or above
        when: {field: seniority, in: [director, vp, c_level]}
        weight: 40
grade_bands:
  - {grade: D, min_fit: 0, max_fit: 40}
  - {grade: C, min_fit: 40, max_fit: 60}
  - {grade: B, min_fit: 60, max_fit: 80}
  - {grade: A, min_fit: 80, max_fit: 100}
thresholds:
  mql: {min_total: 100, min_fit: 50}
  sql: {min_total: 120, min_fit: 60}
engagement:
  half_life: 7d
  max_score: 100
)";
}

std::string DemoPlaybookPath() {
  return absl::StrCat(SMARKETING_SOURCE_DIR, "/examples/playbooks/demo.yaml");
}

v1::Playbook DemoPlaybook() {
  auto source = LoadPlaybookFile(DemoPlaybookPath());
  EXPECT_TRUE(source.ok()) << source.status().message();
  return source.ok() ? source->playbook : v1::Playbook();
}

namespace {

void ExpectSameMembers(const FlatLead& flat, uint32_t first, uint32_t count,
                       const google::protobuf::Struct& s,
                       const std::string& where) {
  ASSERT_EQ(count, s.fields().size()) << where;
  for (uint32_t i = first; i < first + count; ++i) {
    const FlatValue& x = flat.values()[i];
    const std::string at = absl::StrCat(where, ".", x.key);
    const auto it = s.fields().find(std::string(x.key));
    ASSERT_NE(it, s.fields().end()) << at;
    const google::protobuf::Value& y = it->second;
    switch (x.kind) {
      case FlatValue::kNull:
        EXPECT_TRUE(y.has_null_value()) << at;
        break;
      case FlatValue::kString:
        EXPECT_EQ(x.text, y.string_value()) << at;
        break;
      case FlatValue::kNumber:
        ASSERT_TRUE(y.has_number_value()) << at;
        EXPECT_EQ(x.number, y.number_value()) << at;
        break;
      case FlatValue::kBool:
        ASSERT_TRUE(y.has_bool_value()) << at;
        EXPECT_EQ(x.boolean, y.bool_value()) << at;
        break;
      case FlatValue::kStruct:
        ASSERT_TRUE(y.has_struct_value()) << at;
        ExpectSameMembers(flat, x.first, x.count, y.struct_value(), at);
        break;
    }
  }
}

}  // namespace

void ExpectFlatEventsAre(const FlatLead& flat, const v1::Lead& full,
                         const std::string& where) {
  ASSERT_EQ(flat.events().size(), full.events_size()) << where;
  for (int i = 0; i < full.events_size(); ++i) {
    const FlatEvent& a = flat.events()[i];
    const v1::Event& b = full.events(i);
    const std::string at = absl::StrCat(where, " events[", i, "]");
    EXPECT_EQ(a.id, b.id()) << at;
    EXPECT_EQ(a.custom_type, b.custom_type()) << at;
    EXPECT_EQ(a.type, b.type()) << at;
    EXPECT_EQ(a.seconds, b.occurred_at().seconds()) << at;
    EXPECT_EQ(a.nanos, b.occurred_at().nanos()) << at;
    EXPECT_EQ(a.properties, nullptr) << at;
    ExpectSameMembers(flat, a.first_property, a.property_count, b.properties(),
                      at);
  }
}

std::string NestedStructs(int levels) {
  std::string s = "1";
  for (int i = 0; i < levels; ++i) s = absl::StrCat("{\"k\":", s, "}");
  return s;
}

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

void ExpectFlatLeadIs(const v1::Lead& fields, const FlatLead& flat,
                      const v1::Lead& full, const std::string& where) {
  ASSERT_TRUE(ValidateLead(full).ok()) << where;
  v1::Lead without_events = full;
  without_events.clear_events();
  EXPECT_EQ(DeterministicBytes(fields), DeterministicBytes(without_events))
      << where;
  ExpectFlatEventsAre(flat, full, where);
}

}  // namespace smarketing::testing
