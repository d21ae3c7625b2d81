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
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

void CheckFlat(absl::string_view json, const absl::Status& slow,
               const v1::Lead& reference) {
  FlatLeadJsonReader reader;
  v1::Lead fields;
  FlatLead flat;
  if (!reader.Read(json, &fields, &flat)) return;
  Check(slow.ok(), "the flat reader took a line protobuf refuses");
  CheckSameLead(fields, flat, reference, "the flat reader");
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
