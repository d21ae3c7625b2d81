// Reads leads from files as a stream: JSON lines in the protobuf JSON mapping,
// or CSV with the columns below. Large files are never loaded whole.
//
// CSV: a header row, then one lead per row. Columns (any order, all optional
// but id): id, first_name, last_name, email, phone, job_title, department,
// seniority, company_name, company_domain, industry, employee_count,
// annual_revenue, country, region, source, campaign, product, opted_out,
// do_not_email, do_not_call, created_at (RFC 3339), events (a JSON array of
// events in the protobuf JSON mapping), and attributes.<key> for each
// attribute (numbers, true/false in any case and text are told apart by
// their form). Booleans are true/false in any case (pandas writes True and
// False), 1/0 or yes/no.
#ifndef SMARKETING_CORE_LEADS_LEAD_IO_H_
#define SMARKETING_CORE_LEADS_LEAD_IO_H_

#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/base/flat_lead.h"
#include "core/base/lead_fields.h"
#include "core/leads/lead_json.h"
#include "google/protobuf/message.h"
#include "smarketing/v1/lead.pb.h"

namespace smarketing {

enum class LeadFormat { kJsonLines, kCsv };

// Records longer than this are refused: a line of hundreds of megabytes is a
// broken file, not a lead.
inline constexpr size_t kMaxRecordBytes = 64 << 20;

// A column of a CSV header and what it sets, resolved once from its name
// rather than for every record.
struct CsvColumn {
  enum class Kind {
    kField,      // a lead field's column: `field`
    kEvents,     // the events, a JSON array
    kAttribute,  // "attributes.<key>": `attribute` is the key
    kUnknown,    // skipped (refused unless asked)
  };
  std::string name;  // trimmed
  Kind kind = Kind::kUnknown;
  const LeadField* field = nullptr;
  std::string attribute;
};

class LeadReader {
 public:
  // `path` "-" reads standard input; the format comes from the extension
  // (.csv, otherwise JSON lines) unless given. Unknown CSV columns are
  // refused, all named at once, unless `skip_unknown_columns`: they are then
  // left out and listed by unknown_columns() (for checking data).
  static absl::StatusOr<std::unique_ptr<LeadReader>> Open(
      const std::string& path, std::optional<LeadFormat> format = std::nullopt,
      bool skip_unknown_columns = false);
  // Reads from a stream the caller keeps alive.
  static absl::StatusOr<std::unique_ptr<LeadReader>> FromStream(
      std::istream* in, LeadFormat format, std::string name = "<stream>",
      bool skip_unknown_columns = false);

  // The CSV columns left out by skip_unknown_columns, in header order.
  const std::vector<std::string>& unknown_columns() const {
    return unknown_columns_;
  }

  ~LeadReader();

  // The next lead into `lead`: true, or false at the end. A malformed record
  // is INVALID_ARGUMENT naming the file, line and field; reading may go on
  // with the next record.
  absl::StatusOr<bool> Next(v1::Lead* lead);

  // Line where the last record started, 1-based.
  int64_t line() const { return record_line_; }

 private:
  LeadReader() = default;
  absl::StatusOr<bool> NextJson(v1::Lead* lead);
  absl::StatusOr<bool> NextCsv(v1::Lead* lead);
  // One CSV record (which may span lines inside quotes); false at the end.
  absl::StatusOr<bool> ReadCsvRecord(std::vector<std::string>* fields);

  std::unique_ptr<std::istream> owned_;
  std::istream* in_ = nullptr;
  LeadFormat format_ = LeadFormat::kJsonLines;
  std::string name_;
  int64_t next_line_ = 1;
  int64_t record_line_ = 0;
  std::vector<CsvColumn> columns_;
  std::vector<std::string> unknown_columns_;
  std::vector<std::string> fields_;
  std::string buffer_;
};

// `message` as one line of JSON in the protobuf JSON mapping with proto field
// names. Map entries (attributes, event properties) come out sorted: the
// protobuf printer's map order changes from one process to the next, and
// the same lead must always give the same bytes.
std::string ToStableJson(const google::protobuf::Message& message);

// A lead parsed from one JSON object in the protobuf JSON mapping. The error
// is protobuf's message; when it names a field ("(events[0].type): invalid
// value..."), that field is attached as a problem (ProblemsFromStatus), so
// that every front names the same field.
absl::Status ParseLeadJson(absl::string_view json, v1::Lead* lead);

// `cause`, an error in the record at `line` of `name`, as the readers report
// it: "name:line: <prefix><cause's message>", its problems kept with the file
// and line set.
absl::Status RecordError(absl::string_view name, int64_t line,
                         absl::string_view prefix, const absl::Status& cause);

// CSV records in memory, for LeadBlockReader (lead_blocks.h), which finds
// records on its reading thread and parses them on others. Messages do not
// say where: the caller adds the file and line.
//
// The length of the record at the start of `data` (not empty), its newline
// included, and the newlines it holds in *lines. 0 when the record may go
// on past `data` and `at_end` is false. INVALID_ARGUMENT "unterminated
// quote" when `data` ends inside quotes and `at_end`. With `cuts`, appends
// the offsets in the record of the commas that end its cells and of its
// newline, when finding the end told them (most records); FlatLeadCsvReader
// then need not look for them again.
absl::StatusOr<size_t> ScanCsvRecord(absl::string_view data, bool at_end,
                                     int64_t* lines,
                                     std::vector<uint32_t>* cuts = nullptr);
// The fields of a record ScanCsvRecord delimited.
void SplitCsvRecord(absl::string_view record, std::vector<std::string>* fields);
// Whether the record is a blank line, which is skipped.
bool IsBlankCsvRecord(absl::string_view record);
// Checks the header row and resolves its columns, names trimmed. Unknown
// columns are refused, all named at once; with `skip_unknown`, they are
// kept as kUnknown, which readers skip.
absl::StatusOr<std::vector<CsvColumn>> CheckCsvHeader(
    std::vector<std::string> header, bool skip_unknown = false);
// The lead of a record's fields under `columns`.
absl::Status CsvFieldsToLead(const std::vector<CsvColumn>& columns,
                             const std::vector<std::string>& fields,
                             v1::Lead* lead);

// Reads CSV records for scoring, as FlatLeadJsonReader reads JSON lines: the
// lead's own fields into a v1::Lead, the events cell into a FlatLead where
// it lies, its doubled quotes and all, with no unquoted copy and no
// protobuf Struct. One per thread.
class FlatLeadCsvReader {
 public:
  // A field of the record: its bytes, within the quotes when `quoted` (a ""
  // then stands for each quote).
  struct Cell {
    absl::string_view bytes;
    bool quoted = false;
  };

  // true when `record` (a record ScanCsvRecord delimited, in a file with
  // `columns`, with the `cuts` it told or none) was read and the lead
  // passes every check of ValidateLead: `flat` (over `fields`) is then
  // ready for Scorer::ScoreFlat, its strings pointing into `record` and
  // into this reader until the next call. false otherwise: the caller
  // reads the record with SplitCsvRecord and CsvFieldsToLead, which name
  // what is wrong.
  bool Read(const std::vector<CsvColumn>& columns, absl::string_view record,
            absl::Span<const uint32_t> cuts, v1::Lead* fields, FlatLead* flat);

 private:
  // The record's cells into cells_, where CsvBlocks alone can tell them.
  bool Split(absl::string_view record);
  // A cell's text, its "" made single in text_ when it has any.
  absl::string_view Text(const Cell& cell);

  FlatLeadJsonReader events_;
  std::vector<Cell> cells_;
  std::string text_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_LEADS_LEAD_IO_H_
