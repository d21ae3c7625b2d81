// What the fuzz targets share: stopping on a broken property with a message
// libFuzzer keeps next to the input that broke it, and comparing what the
// flat readers read with protobuf's parse.
#ifndef SMARKETING_TESTS_FUZZ_FUZZ_UTIL_H_
#define SMARKETING_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/base/flat_lead.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing::fuzz {

// Aborts, which libFuzzer reports as a crash with the input saved.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "property broken: %s\n", what.c_str());
  std::abort();
}

inline void Check(bool holds, const std::string& what) {
  if (!holds) Fail(what);
}

// Deterministic bytes, so that two equal messages compare equal.
inline std::string Bytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

// Whether the flat members [first, first + count) hold exactly `s`.
inline bool SameMembers(const FlatLead& flat, uint32_t first, uint32_t count,
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

// Whether `fields` and `flat`, which a flat reader read, are `reference`,
// which protobuf read, and a lead validation accepts.
inline void CheckSameLead(const v1::Lead& fields, const FlatLead& flat,
                          const v1::Lead& reference,
                          const std::string& reader) {
  Check(ValidateLead(reference).ok(),
        reader + " took a lead that validation refuses");
  v1::Lead without_events = reference;
  without_events.clear_events();
  Check(Bytes(fields) == Bytes(without_events),
        reader + " read other lead fields than protobuf");
  Check(flat.events().size() == static_cast<size_t>(reference.events_size()),
        reader + " read another number of events");
  for (int i = 0; i < reference.events_size(); ++i) {
    const FlatEvent& a = flat.events()[i];
    const v1::Event& b = reference.events(i);
    Check(a.id == b.id() && a.custom_type == b.custom_type() &&
              a.type == b.type() && a.seconds == b.occurred_at().seconds() &&
              a.nanos == b.occurred_at().nanos() && a.properties == nullptr,
          reader + " read another event than protobuf");
    Check(SameMembers(flat, a.first_property, a.property_count, b.properties()),
          reader + " read other properties than protobuf");
  }
}

}  // namespace smarketing::fuzz

#endif  // SMARKETING_TESTS_FUZZ_FUZZ_UTIL_H_
