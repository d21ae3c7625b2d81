// Printing a fuzzed ScoreResult (its doubles from the input's bytes, any bit
// pattern, and a text from the rest): ScoreJsonWriter must give the bytes
// protobuf's MessageToJsonString gives, which `smarketing score` promises.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/batch/score_json.h"
#include "google/protobuf/util/json_util.h"
#include "smarketing/v1/score_result.pb.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

void TestOneInput(absl::string_view data) {
  double values[5] = {0, 0, 0, 0, 0};
  for (double& value : values) {
    if (data.size() < sizeof(value)) break;
    std::memcpy(&value, data.data(), sizeof(value));
    data.remove_prefix(sizeof(value));
  }
  v1::ScoreResult result;
  result.set_fit_score(values[0]);
  result.set_engagement_score(values[1]);
  result.set_total_score(values[2]);
  v1::RuleHit* hit = result.add_explanation();
  hit->set_raw_points(values[3]);
  hit->set_points(values[4]);
  hit->set_rule_id(std::string(data));

  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string expected;
  // Even where protobuf's printer fails (text that is not UTF-8), the
  // writer hands the result to it and gives what it gave.
  (void)google::protobuf::util::MessageToJsonString(result, &expected, options);
  ScoreJsonWriter writer;
  std::string printed;
  writer.Append(result, &printed);
  Check(printed == expected,
        absl::StrCat("printed ", printed, "\nprotobuf ", expected));
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
