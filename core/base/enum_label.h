// Enum values as people write them in Playbooks, golden cases, reports and
// DataFrames: the value's name without its type's prefix, in lower case
// ("mql" for LIFECYCLE_STAGE_MQL). One rule for every front: the prefix is
// the type's name in UPPER_SNAKE_CASE followed by '_', as the protobuf style
// guide (and buf lint) requires of every value.
#ifndef SMARKETING_CORE_BASE_ENUM_LABEL_H_
#define SMARKETING_CORE_BASE_ENUM_LABEL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace smarketing {

// "LIFECYCLE_STAGE_" for LifecycleStage.
std::string EnumValuePrefix(const google::protobuf::EnumDescriptor* type);

// "mql" for LIFECYCLE_STAGE_MQL.
std::string EnumLabel(const google::protobuf::EnumValueDescriptor* value);

// The label of `number`, or the number itself for a value the type does not
// know.
std::string EnumLabel(const google::protobuf::EnumDescriptor* type, int number);

template <typename Enum>
std::string EnumLabel(Enum value) {
  return EnumLabel(google::protobuf::GetEnumDescriptor<Enum>(),
                   static_cast<int>(value));
}

// The value written as its label ("mql"), its full name in any case
// ("LIFECYCLE_STAGE_MQL") or its number ("2"); nullptr for anything else.
const google::protobuf::EnumValueDescriptor* FindEnumValue(
    const google::protobuf::EnumDescriptor* type, absl::string_view text);

// "new, mql, sal, ...": the labels a person may write, _UNSPECIFIED left out.
std::string EnumLabelList(const google::protobuf::EnumDescriptor* type);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_ENUM_LABEL_H_
