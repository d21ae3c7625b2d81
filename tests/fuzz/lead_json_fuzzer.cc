// The fast lead JSON reader against protobuf's JSON parser: wherever the
// fast path takes a line, the lead must be byte for byte protobuf's, and
// ParseLeadJsonQuickly must always give protobuf's result and error.
// Wherever the flat reader takes a line, protobuf must read a valid lead
// with the same events and properties.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/leads/lead_io.h"
#include "core/leads/lead_json.h"
#include "core/scoring/lead_validation.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

// Whether the flat members [first, first + count) hold exactly `s`.
bool SameMembers(const FlatLead& flat, uint32_t first, uint32_t count,
                 const google::protobuf::Struct& s) {
  if (count != s.fields().size()) return false;
  for (uint32_t i = first; i < first + count; ++i) {
    const FlatValue& x = flat.values()[i];
    const auto it = s.fields().find(std::string(x.key));
    if (it == s.fields().end()) return false;
    const google::protobuf::Value& y = it->second;
    bool same = false;
    switch (x.kind) {
      case FlatValue::kNull:
        same = y.has_null_value();
        break;
      case FlatValue::kString:
        same = y.has_string_value() && x.text == y.string_value();
        break;
      case FlatValue::kNumber:
        same = y.has_number_value() && x.number == y.number_value();
        break;
      case FlatValue::kBool:
        same = y.has_bool_value() && x.boolean == y.bool_value();
        break;
      case FlatValue::kStruct:
        same = y.has_struct_value() &&
               SameMembers(flat, x.first, x.count, y.struct_value());
        break;
    }
    if (!same) return false;
  }
  return true;
}

void CheckFlat(absl::string_view json, const absl::Status& slow,
               const v1::Lead& reference) {
  FlatLeadJsonReader reader;
  v1::Lead fields;
  FlatLead flat;
  if (!reader.Read(json, &fields, &flat)) return;
  Check(slow.ok(), "the flat reader took a line protobuf refuses");
  Check(ValidateLead(reference).ok(),
        "the flat reader took a lead that validation refuses");
  v1::Lead without_events = reference;
  without_events.clear_events();
  Check(Bytes(fields) == Bytes(without_events),
        "the flat reader read other lead fields than protobuf");
  Check(flat.events().size() == static_cast<size_t>(reference.events_size()),
        "the flat reader read another number of events");
  for (int i = 0; i < reference.events_size(); ++i) {
    const FlatEvent& a = flat.events()[i];
    const v1::Event& b = reference.events(i);
    Check(a.id == b.id() && a.custom_type == b.custom_type() &&
              a.type == b.type() && a.seconds == b.occurred_at().seconds() &&
              a.nanos == b.occurred_at().nanos() && a.properties == nullptr,
          "the flat reader read another event than protobuf");
    Check(SameMembers(flat, a.first_property, a.property_count, b.properties()),
          "the flat reader read other properties than protobuf");
  }
}

void TestOneInput(absl::string_view json) {
  v1::Lead reference;
  const absl::Status slow = ParseLeadJson(json, &reference);
  v1::Lead fast;
  if (ParseLeadJsonFast(json, &fast)) {
    Check(slow.ok(),
          absl::StrCat("the fast path took a line protobuf refuses: ",
                       slow.message()));
    Check(Bytes(fast) == Bytes(reference),
          "the fast path read another lead than protobuf");
  }
  CheckFlat(json, slow, reference);
  v1::Lead quick;
  const absl::Status quick_status = ParseLeadJsonQuickly(json, &quick);
  Check(quick_status.ok() == slow.ok(),
        "ParseLeadJsonQuickly disagrees on success");
  Check(quick_status.message() == slow.message(),
        "ParseLeadJsonQuickly gives another error than protobuf");
  if (slow.ok()) {
    Check(Bytes(quick) == Bytes(reference),
          "ParseLeadJsonQuickly read another lead than protobuf");
  }
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
