#include "core/base/enum_label.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace smarketing {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

std::string EnumValuePrefix(const EnumDescriptor* type) {
  std::string prefix;
  for (char c : type->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  prefix += '_';
  return prefix;
}

std::string EnumLabel(const EnumValueDescriptor* value) {
  absl::string_view name = value->name();
  const std::string prefix = EnumValuePrefix(value->type());
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(name);
}

std::string EnumLabel(const EnumDescriptor* type, int number) {
  const EnumValueDescriptor* value = type->FindValueByNumber(number);
  return value == nullptr ? absl::StrCat(number) : EnumLabel(value);
}

const EnumValueDescriptor* FindEnumValue(const EnumDescriptor* type,
                                         absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  if (const auto* value = type->FindValueByName(upper)) return value;
  if (const auto* value =
          type->FindValueByName(EnumValuePrefix(type) + upper)) {
    return value;
  }
  int number = 0;
  if (absl::SimpleAtoi(text, &number)) return type->FindValueByNumber(number);
  return nullptr;
}

std::string EnumLabelList(const EnumDescriptor* type) {
  std::string out;
  for (int i = 0; i < type->value_count(); ++i) {
    if (absl::EndsWith(type->value(i)->name(), "_UNSPECIFIED")) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", EnumLabel(type->value(i)));
  }
  return out;
}

}  // namespace smarketing
