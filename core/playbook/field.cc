#include "core/playbook/field.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/enum_label.h"

namespace smarketing {
namespace {

struct NamedField {
  absl::string_view name;
  FieldId id;
  FieldType type;
};

constexpr NamedField kEventFields[] = {
    {"event.type", FieldId::kEventType, FieldType::kEnum},
    {"event.custom_type", FieldId::kEventCustomType, FieldType::kString},
};

constexpr NamedField kScoreFields[] = {
    {"score.fit", FieldId::kScoreFit, FieldType::kNumber},
    {"score.grade", FieldId::kScoreGrade, FieldType::kString},
    {"score.persona", FieldId::kScorePersona, FieldType::kString},
    {"score.engagement", FieldId::kScoreEngagement, FieldType::kNumber},
    {"score.total", FieldId::kScoreTotal, FieldType::kNumber},
    {"score.hand_raiser", FieldId::kScoreHandRaiser, FieldType::kBool},
};

FieldType TypeOf(const LeadField& field) {
  switch (field.type) {
    case LeadFieldType::kText:
      return FieldType::kString;
    case LeadFieldType::kWholeNumber:
    case LeadFieldType::kNumber:
      return FieldType::kNumber;
    case LeadFieldType::kBool:
      return FieldType::kBool;
    case LeadFieldType::kSeniority:
      return FieldType::kEnum;
    case LeadFieldType::kTime:
      break;
  }
  return FieldType::kDynamic;
}

const google::protobuf::EnumDescriptor* EnumOf(FieldId id) {
  switch (id) {
    case FieldId::kSeniority:
      return v1::Seniority_descriptor();
    case FieldId::kEventType:
      return v1::EventType_descriptor();
    default:
      return nullptr;
  }
}

// Dotted keys after a prefix such as "attributes."; empty keys are refused.
absl::StatusOr<std::vector<std::string>> SplitKeys(absl::string_view path,
                                                   absl::string_view rest) {
  std::vector<std::string> keys = absl::StrSplit(rest, '.');
  for (const std::string& key : keys) {
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field \"", path, "\" has an empty key"));
    }
  }
  return keys;
}

}  // namespace

int SlotTable::Intern(std::vector<std::string> keys) {
  for (int i = 0; i < size(); ++i) {
    if (paths_[i] == keys) return i;
  }
  paths_.push_back(std::move(keys));
  return size() - 1;
}

namespace {

// The entry of `key` in a Struct's map. Events and leads hold a few keys:
// comparing each is cheaper than hashing `key`, and stops at the last entry
// rather than scanning the map's empty buckets.
const google::protobuf::Value* Find(
    const google::protobuf::Map<std::string, google::protobuf::Value>& fields,
    const std::string& key) {
  constexpr size_t kScanned = 4;
  size_t remaining = fields.size();
  if (remaining > kScanned) {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  }
  if (remaining == 0) return nullptr;
  for (auto it = fields.begin();; ++it) {
    if (it->first == key) return &it->second;
    if (--remaining == 0) return nullptr;
  }
}

}  // namespace

const google::protobuf::Value* SlotTable::Resolve(
    const google::protobuf::Struct& root, int slot) const {
  const google::protobuf::Struct* current = &root;
  const google::protobuf::Value* value = nullptr;
  for (const std::string& key : paths_[slot]) {
    if (current == nullptr) return nullptr;
    value = Find(current->fields(), key);
    if (value == nullptr) return nullptr;
    current = value->has_struct_value() ? &value->struct_value() : nullptr;
  }
  return value;
}

void SlotTable::Resolve(
    const google::protobuf::Struct& root,
    std::vector<const google::protobuf::Value*>* out) const {
  out->resize(paths_.size());
  for (int i = 0; i < size(); ++i) (*out)[i] = Resolve(root, i);
}

absl::StatusOr<FieldRef> ResolveField(absl::string_view path, FieldScope scope,
                                      SlotTable* attributes,
                                      SlotTable* properties) {
  if (path.empty()) {
    return absl::InvalidArgumentError("a field path is required");
  }
  auto from = [](const NamedField& f) {
    return FieldRef{f.id, f.type, -1, EnumOf(f.id)};
  };
  for (const LeadField& f : kLeadFields) {
    if (!f.path.empty() && f.path == path) {
      return FieldRef{f.id, TypeOf(f), -1, EnumOf(f.id)};
    }
  }
  if (absl::StartsWith(path, "attributes.")) {
    auto keys = SplitKeys(path, path.substr(sizeof("attributes.") - 1));
    if (!keys.ok()) return keys.status();
    return FieldRef{FieldId::kAttribute, FieldType::kDynamic,
                    attributes->Intern(*std::move(keys)), nullptr};
  }
  if (absl::StartsWith(path, "event.")) {
    if (scope != FieldScope::kEvent) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path,
          "\" reads an event, which only engagement and hand-raiser rules "
          "have"));
    }
    for (const NamedField& f : kEventFields) {
      if (f.name == path) return from(f);
    }
    if (absl::StartsWith(path, "event.properties.")) {
      auto keys = SplitKeys(path, path.substr(sizeof("event.properties.") - 1));
      if (!keys.ok()) return keys.status();
      return FieldRef{FieldId::kEventProperty, FieldType::kDynamic,
                      properties->Intern(*std::move(keys)), nullptr};
    }
  }
  if (absl::StartsWith(path, "score.")) {
    if (scope != FieldScope::kScore) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path, "\" reads the score, which only priority rules have"));
    }
    for (const NamedField& f : kScoreFields) {
      if (f.name == path) return from(f);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown field \"", path, "\"; known fields: ", KnownFieldNames(scope)));
}

std::string KnownFieldNames(FieldScope scope) {
  std::vector<absl::string_view> names;
  for (const LeadField& f : kLeadFields) {
    if (!f.path.empty()) names.push_back(f.path);
  }
  names.push_back("attributes.<key>");
  if (scope == FieldScope::kEvent) {
    for (const NamedField& f : kEventFields) names.push_back(f.name);
    names.push_back("event.properties.<key>");
  }
  if (scope == FieldScope::kScore) {
    for (const NamedField& f : kScoreFields) names.push_back(f.name);
  }
  return absl::StrJoin(names, ", ");
}

absl::string_view ShortEnumName(const google::protobuf::EnumDescriptor* type,
                                int number) {
  // Indexed by number: conditions read enum names for every lead and event.
  struct Names {
    const google::protobuf::EnumDescriptor* type;
    std::vector<std::string> by_number;  // "" where no value has the number
    absl::flat_hash_map<int, std::string> others;  // negative or sparse
  };
  static const auto* const tables = [] {
    auto* out = new std::vector<Names>;
    for (const auto* e :
         {v1::Seniority_descriptor(), v1::EventType_descriptor()}) {
      Names& names = out->emplace_back();
      names.type = e;
      for (int i = 0; i < e->value_count(); ++i) {
        const int number = e->value(i)->number();
        std::string name = EnumLabel(e->value(i));
        if (number >= 0 && number < 256) {
          if (number >= static_cast<int>(names.by_number.size())) {
            names.by_number.resize(number + 1);
          }
          names.by_number[number] = std::move(name);
        } else {
          names.others[number] = std::move(name);
        }
      }
    }
    return out;
  }();
  for (const Names& names : *tables) {
    if (names.type != type) continue;
    if (number >= 0 && number < static_cast<int>(names.by_number.size())) {
      return names.by_number[number];
    }
    auto it = names.others.find(number);
    return it == names.others.end() ? "" : absl::string_view(it->second);
  }
  return "";
}

FieldValue FromProtoValue(const google::protobuf::Value* value) {
  FieldValue out;
  if (value == nullptr) return out;
  switch (value->kind_case()) {
    case google::protobuf::Value::kStringValue:
      // Empty text is no value, as for the lead's own text fields.
      if (value->string_value().empty()) break;
      out.kind = FieldValue::kString;
      out.text = value->string_value();
      break;
    case google::protobuf::Value::kNumberValue:
      out.kind = FieldValue::kNumber;
      out.number = value->number_value();
      break;
    case google::protobuf::Value::kBoolValue:
      out.kind = FieldValue::kBool;
      out.boolean = value->bool_value();
      break;
    default:
      break;
  }
  return out;
}

FieldValue FromFlatValue(const FlatValue* value) {
  FieldValue out;
  if (value == nullptr) return out;
  switch (value->kind) {
    case FlatValue::kString:
      if (value->text.empty()) break;
      out.kind = FieldValue::kString;
      out.text = value->text;
      break;
    case FlatValue::kNumber:
      out.kind = FieldValue::kNumber;
      out.number = value->number;
      break;
    case FlatValue::kBool:
      out.kind = FieldValue::kBool;
      out.boolean = value->boolean;
      break;
    default:
      break;
  }
  return out;
}

}  // namespace smarketing
