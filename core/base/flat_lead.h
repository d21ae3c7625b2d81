// A lead laid out for scoring: its own fields stay in a v1::Lead (they are
// read once per lead, and routing needs them), its events go into a flat
// array. A reader fills it straight from its input (FlatLeadJsonReader in
// core/leads/lead_json.h), properties included, with no protobuf Struct or
// Map; Assign lays out a v1::Lead's events, whose properties then stay in
// their Structs. Strings are views: into that v1::Lead, or into the input
// and the reader, which must outlive this.
#ifndef SMARKETING_CORE_BASE_FLAT_LEAD_H_
#define SMARKETING_CORE_BASE_FLAT_LEAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/struct.pb.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

// A property value. Members of a struct are contiguous in the lead's value
// array, each with its key, in any order. There is no list: readers leave
// properties holding one to the slow path, as no condition reads into
// them.
struct FlatValue {
  enum Kind : uint8_t { kNull, kString, kNumber, kBool, kStruct };
  Kind kind = kNull;
  bool boolean = false;
  double number = 0;
  absl::string_view text;
  absl::string_view key;  // in a struct: this member's key
  // kStruct: members at [first, first + count) of FlatLead::values().
  uint32_t first = 0;
  uint32_t count = 0;
};

// The most members a reader lays out in one struct: bigger ones go to the
// slow path rather than to a quadratic check for repeated keys.
inline constexpr size_t kMaxFlatMembers = 64;

// An event. Its properties are members of a struct, as in FlatValue, or,
// for an event laid out from a v1::Event, still in their Struct.
struct FlatEvent {
  absl::string_view id;
  absl::string_view custom_type;
  v1::EventType type = v1::EVENT_TYPE_UNSPECIFIED;
  int32_t nanos = 0;
  int64_t seconds = 0;
  uint32_t first_property = 0;
  uint32_t property_count = 0;
  const google::protobuf::Struct* properties = nullptr;
};

// Whether a struct read so far as `members` may take one more under `key`,
// as every flat reader decides: below kMaxFlatMembers, and a key not yet
// given (protobuf's map keeps the last of a repeated key; the slow path
// decides).
inline bool MayAddMember(absl::Span<const FlatValue> members,
                         absl::string_view key) {
  if (members.size() >= kMaxFlatMembers) return false;
  for (const FlatValue& member : members) {
    if (member.key == key) return false;
  }
  return true;
}

class FlatLead {
 public:
  // Lays out `lead`'s events, replacing what was there; `lead` must outlive
  // this, unchanged. Their properties stay in their Structs: copying them
  // out would cost more than the lookups it saves. Storage is kept, so
  // refilling allocates nothing once it has grown to the largest lead.
  void Assign(const v1::Lead& lead);

  // For readers that fill the flat form themselves: empties it, over the
  // lead's own `fields` (events are not read from it).
  void Reset(const v1::Lead* fields) {
    fields_ = fields;
    events_.clear();
    values_.clear();
  }
  std::vector<FlatEvent>& mutable_events() { return events_; }
  std::vector<FlatValue>& mutable_values() { return values_; }

  const v1::Lead& fields() const { return *fields_; }
  absl::Span<const FlatEvent> events() const { return events_; }
  absl::Span<const FlatValue> values() const { return values_; }

  // The value at `path` (keys into nested structs) in the properties of
  // `event`, one laid out flat (not from a Struct), or nullptr when absent.
  const FlatValue* Find(const FlatEvent& event,
                        const std::vector<std::string>& path) const;

 private:
  const v1::Lead* fields_ = nullptr;
  std::vector<FlatEvent> events_;
  std::vector<FlatValue> values_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_FLAT_LEAD_H_
