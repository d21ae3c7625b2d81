// The CSV lead reader on any bytes: every record is a lead or an error
// naming the line, reading always reaches the end, and a lead read is one
// protobuf's JSON printer writes without loss (all its text is UTF-8).
// Wherever the flat CSV reader takes a record, the fields reader takes it
// too, with the same lead.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/leads/lead_io.h"
#include "tests/fuzz/fuzz_util.h"

namespace smarketing::fuzz {

// Records as LeadBlockReader delimits them, each read flat and whole.
void CheckFlat(absl::string_view csv) {
  int64_t lines = 0;
  absl::StatusOr<size_t> n = ScanCsvRecord(csv, /*at_end=*/true, &lines);
  if (!n.ok() || *n == 0) return;
  std::vector<std::string> fields;
  SplitCsvRecord(csv.substr(0, *n), &fields);
  auto columns = CheckCsvHeader(fields);
  if (!columns.ok()) return;
  FlatLeadCsvReader reader;
  std::vector<uint32_t> cuts;
  for (absl::string_view rest = csv.substr(*n); !rest.empty();
       rest.remove_prefix(*n)) {
    cuts.clear();
    n = ScanCsvRecord(rest, /*at_end=*/true, &lines, &cuts);
    if (!n.ok() || *n == 0) return;
    const absl::string_view record = rest.substr(0, *n);
    // With the cells' ends ScanCsvRecord told, as LeadBlockReader reads,
    // and without, as when it could not tell them.
    for (const absl::Span<const uint32_t> told :
         {absl::MakeConstSpan(cuts), absl::Span<const uint32_t>()}) {
      v1::Lead lead_fields;
      FlatLead flat;
      if (!reader.Read(*columns, record, told, &lead_fields, &flat)) continue;
      SplitCsvRecord(record, &fields);
      v1::Lead reference;
      const absl::Status status = CsvFieldsToLead(*columns, fields, &reference);
      Check(status.ok(), absl::StrCat("the flat CSV reader took a record the "
                                      "fields reader refuses: ",
                                      status.message()));
      CheckSameLead(lead_fields, flat, reference, "the flat CSV reader");
    }
  }
}

void TestOneInput(absl::string_view csv) {
  CheckFlat(csv);
  std::istringstream in{std::string(csv)};
  auto reader = LeadReader::FromStream(&in, LeadFormat::kCsv, "fuzz.csv");
  if (!reader.ok()) return;
  v1::Lead lead;
  // Each record consumes at least one byte: more reads than bytes is a loop.
  for (size_t reads = 0; reads <= csv.size() + 1; ++reads) {
    absl::StatusOr<bool> more = (*reader)->Next(&lead);
    if (!more.ok()) {
      Check(more.status().code() == absl::StatusCode::kInvalidArgument,
            more.status().ToString());
      continue;
    }
    if (!*more) return;
    v1::Lead again;
    const absl::Status status = ParseLeadJson(ToStableJson(lead), &again);
    Check(status.ok(), absl::StrCat("a lead read does not print as JSON: ",
                                    status.message()));
    Check(Bytes(again) == Bytes(lead),
          "printing a lead read as JSON changed it");
  }
  Fail("the reader never reached the end");
}

}  // namespace smarketing::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smarketing::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
