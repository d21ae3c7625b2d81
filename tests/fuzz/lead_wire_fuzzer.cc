// The wire reader against protobuf's parser: wherever FlatLeadWireReader
// takes bytes, protobuf must read a valid lead from them with the same own
// fields, events and properties; and SplitWireField must refuse only bytes
// protobuf refuses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/leads/lead_wire.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

void TestOneInput(absl::string_view bytes) {
  v1::Lead reference;
  const bool parsed = reference.ParseFromString(std::string(bytes));
  std::vector<absl::string_view> events;
  std::string rest;
  if (!SplitWireField(bytes, v1::Lead::kEventsFieldNumber, &events, &rest)
           .ok()) {
    Check(!parsed, "SplitWireField refused a lead protobuf reads");
  }
  FlatLeadWireReader reader;
  v1::Lead fields;
  FlatLead flat;
  if (!reader.Read(bytes, &fields, &flat)) return;
  Check(parsed, "the wire reader took bytes protobuf refuses");
  CheckSameLead(fields, flat, reference, "the wire reader");
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
