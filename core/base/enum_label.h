// Enum values as people write them in Playbooks and golden cases: without
// the type's prefix, in lower case ("mql" for LIFECYCLE_STAGE_MQL), which
// the YAML mapping reads back.
#ifndef SMARKETING_CORE_BASE_ENUM_LABEL_H_
#define SMARKETING_CORE_BASE_ENUM_LABEL_H_

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace smarketing {

// The number itself for a value the type does not know.
inline std::string EnumLabel(const google::protobuf::EnumDescriptor* type,
                             int number) {
  const google::protobuf::EnumValueDescriptor* value =
      type->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  // The prefix is the type name in UPPER_SNAKE_CASE: "LIFECYCLE_STAGE_".
  std::string prefix;
  for (char c : type->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  prefix += '_';
  absl::string_view name = value->name();
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(name);
}

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_ENUM_LABEL_H_
