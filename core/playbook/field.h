// Field paths of rule conditions ("company.industry", "attributes.plan",
// "event.properties.url", "score.total"), resolved once when a Playbook is
// compiled so that evaluation is a switch, not a string lookup.
#ifndef SMARKETING_CORE_PLAYBOOK_FIELD_H_
#define SMARKETING_CORE_PLAYBOOK_FIELD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/flat_lead.h"
#include "core/base/lead_fields.h"
#include "google/protobuf/struct.pb.h"
#include "smarketing/v1/event.pb.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// What a condition may read, by where it is used in the Playbook.
enum class FieldScope {
  kLead,   // persona criteria, fit, disqualification and routing rules
  kEvent,  // engagement and hand-raiser rules: also event.*
  kScore,  // priority rules: also score.*
};

// The static type of a field, for checking operators at compile time.
// Attributes and properties are kDynamic: their type is known per lead.
enum class FieldType : uint8_t { kString, kNumber, kBool, kEnum, kDynamic };

struct FieldRef {
  FieldId id = FieldId::kLeadId;
  FieldType type = FieldType::kString;
  // Slot of an attribute or event property path in its table.
  int slot = -1;
  // The enum a kEnum field holds.
  const google::protobuf::EnumDescriptor* enum_type = nullptr;
};

// A value read from a lead, event or score, without copying.
struct FieldValue {
  enum Kind : uint8_t { kMissing, kString, kNumber, kBool, kEnum };
  Kind kind = kMissing;
  bool boolean = false;
  // Numbers, and the number of an enum value.
  double number = 0;
  // Strings, and the short lower-case name of an enum value ("vp").
  absl::string_view text;
};

// Key paths of attributes or event properties referenced by a Playbook,
// numbered so that a lead's values are looked up once per lead.
class SlotTable {
 public:
  int Intern(std::vector<std::string> keys);
  int size() const { return static_cast<int>(paths_.size()); }
  const std::vector<std::string>& path(int slot) const { return paths_[slot]; }

  // The value at each path in `root` (nullptr when absent), into `out`.
  void Resolve(const google::protobuf::Struct& root,
               std::vector<const google::protobuf::Value*>* out) const;
  const google::protobuf::Value* Resolve(const google::protobuf::Struct& root,
                                         int slot) const;

 private:
  std::vector<std::vector<std::string>> paths_;
};

// Resolves `path` for use in `scope`, interning attribute and property keys.
absl::StatusOr<FieldRef> ResolveField(absl::string_view path, FieldScope scope,
                                      SlotTable* attributes,
                                      SlotTable* properties);

// The short lower-case name of an enum value ("demo_request"), or "" when
// the number is not a value of the enum. Points into static storage.
absl::string_view ShortEnumName(const google::protobuf::EnumDescriptor* type,
                                int number);

// The lead-level field names a condition may use, for error messages.
std::string KnownFieldNames(FieldScope scope);

// A protobuf Value as a FieldValue (kMissing for null, empty text, lists
// and structs).
FieldValue FromProtoValue(const google::protobuf::Value* value);
// The same for an event property of a FlatLead.
FieldValue FromFlatValue(const FlatValue* value);

}  // namespace smarketing

#endif  // SMARKETING_CORE_PLAYBOOK_FIELD_H_
