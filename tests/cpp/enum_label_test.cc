// Enum labels: one rule, the one protobuf's style guide sets for value names,
// for every enum of the schema.
#include "core/base/enum_label.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "smarketing/v1/golden_case.pb.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"
#include "smarketing/v1/playbook.pb.h"
#include "smarketing/v1/routing_state.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::FileDescriptor;

// Every enum reachable from the schema's top-level messages.
std::vector<const EnumDescriptor*> SchemaEnums() {
  std::vector<const FileDescriptor*> files = {
      v1::Playbook::descriptor()->file(), v1::ScoreResult::descriptor()->file(),
      v1::LeadLifecycle::descriptor()->file(),
      v1::GoldenCaseFile::descriptor()->file(),
      v1::RoutingState::descriptor()->file()};
  absl::flat_hash_set<const FileDescriptor*> seen(files.begin(), files.end());
  std::vector<const EnumDescriptor*> enums;
  for (size_t i = 0; i < files.size(); ++i) {
    const FileDescriptor* file = files[i];
    for (int d = 0; d < file->dependency_count(); ++d) {
      if (seen.insert(file->dependency(d)).second)
        files.push_back(file->dependency(d));
    }
    if (file->package() != "smarketing.v1") continue;
    for (int e = 0; e < file->enum_type_count(); ++e)
      enums.push_back(file->enum_type(e));
  }
  return enums;
}

TEST(EnumLabelTest, EveryValueOfTheSchemaCarriesItsTypePrefix) {
  const std::vector<const EnumDescriptor*> enums = SchemaEnums();
  ASSERT_GE(enums.size(), 10u);
  for (const EnumDescriptor* type : enums) {
    const std::string prefix = EnumValuePrefix(type);
    for (int i = 0; i < type->value_count(); ++i) {
      const auto* value = type->value(i);
      EXPECT_EQ(value->name().rfind(prefix, 0), 0u) << value->full_name();
      EXPECT_EQ(FindEnumValue(type, EnumLabel(value)), value)
          << value->full_name();
    }
    EXPECT_EQ(type->value(0)->name(), prefix + "UNSPECIFIED")
        << type->full_name();
  }
}

TEST(EnumLabelTest, LabelsAndTheFormsPeopleWrite) {
  EXPECT_EQ(EnumLabel(v1::LIFECYCLE_STAGE_MQL), "mql");
  EXPECT_EQ(EnumLabel(v1::LifecycleStage_descriptor(), 99), "99");
  EXPECT_EQ(EnumValuePrefix(v1::LifecycleStage_descriptor()),
            "LIFECYCLE_STAGE_");
  const EnumDescriptor* stage = v1::LifecycleStage_descriptor();
  EXPECT_EQ(FindEnumValue(stage, "MQL")->number(), v1::LIFECYCLE_STAGE_MQL);
  EXPECT_EQ(FindEnumValue(stage, "lifecycle_stage_mql")->number(),
            v1::LIFECYCLE_STAGE_MQL);
  EXPECT_EQ(FindEnumValue(stage, "2"), stage->FindValueByNumber(2));
  EXPECT_EQ(FindEnumValue(stage, "marketing qualified"), nullptr);
  EXPECT_EQ(EnumLabelList(stage).rfind("new, mql, ", 0), 0u)
      << EnumLabelList(stage);
  EXPECT_EQ(EnumLabelList(stage).find("unspecified"), std::string::npos);
}

}  // namespace
}  // namespace smarketing
