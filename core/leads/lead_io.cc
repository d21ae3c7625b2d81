#include "core/leads/lead_io.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/base/byte_search.h"
#include "core/base/lead_fields.h"
#include "core/base/problems.h"
#include "core/base/proto_time.h"
#include "core/base/utc_time.h"
#include "core/base/utf8.h"
#include "core/leads/lead_json.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace smarketing {
namespace {

absl::Status RecordError(absl::string_view name, int64_t line,
                         absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ":", line, ": ", message));
}

// Protobuf strings must be UTF-8, and its JSON printer silently drops the
// bytes that are not: "l\xff1" would come out as another lead's id "l1".
absl::Status CheckUtf8(absl::string_view what, absl::string_view text) {
  const size_t bad = FindInvalidUtf8(text);
  if (bad == absl::string_view::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, ": not valid UTF-8 (byte 0x",
      absl::Hex(static_cast<unsigned char>(text[bad]), absl::kZeroPad2),
      " at offset ", bad, ")"));
}

// Any case: pandas writes True and False, spreadsheets TRUE and FALSE.
bool ParseBool(absl::string_view text, bool* out) {
  if (absl::EqualsIgnoreCase(text, "true") || text == "1" ||
      absl::EqualsIgnoreCase(text, "yes")) {
    *out = true;
  } else if (absl::EqualsIgnoreCase(text, "false") || text == "0" ||
             absl::EqualsIgnoreCase(text, "no") || text.empty()) {
    *out = false;
  } else {
    return false;
  }
  return true;
}

// Parses `value` into the lead field `field`; empty values leave it unset.
absl::Status SetField(const LeadField& field, absl::string_view value,
                      v1::Lead* lead) {
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("column ", field.column, ": ", what));
  };
  if (field.type == LeadFieldType::kText) {
    MutableLeadText(lead, field.id)->assign(value.data(), value.size());
    return absl::OkStatus();
  }
  if (value.empty()) return absl::OkStatus();
  switch (field.type) {
    case LeadFieldType::kText:
      break;
    case LeadFieldType::kSeniority: {
      const std::string upper = absl::AsciiStrToUpper(value);
      v1::Seniority seniority;
      if (!v1::Seniority_Parse(upper, &seniority) &&
          !v1::Seniority_Parse("SENIORITY_" + upper, &seniority)) {
        return bad(absl::StrCat("unknown seniority \"", value, "\""));
      }
      SetLeadInteger(lead, field.id, seniority);
      break;
    }
    case LeadFieldType::kWholeNumber: {
      int64_t n;
      if (!absl::SimpleAtoi(value, &n)) return bad("expected a whole number");
      SetLeadInteger(lead, field.id, n);
      break;
    }
    case LeadFieldType::kNumber: {
      double d;
      if (!absl::SimpleAtod(value, &d) || !std::isfinite(d)) {
        return bad("expected a finite number");
      }
      SetLeadNumber(lead, field.id, d);
      break;
    }
    case LeadFieldType::kBool: {
      bool b;
      if (!ParseBool(value, &b)) return bad("expected true or false");
      SetLeadBool(lead, field.id, b);
      break;
    }
    case LeadFieldType::kTime: {
      int64_t seconds;
      int32_t nanos;
      // Times nearly always come in UTC's form, read quickly; abseil's
      // parser decides the others.
      if (const size_t n = ReadUtcTime(value, &seconds, &nanos);
          n == 0 || n != value.size()) {
        absl::Time t;
        std::string error;
        if (!absl::ParseTime(absl::RFC3339_full, value, &t, &error)) {
          return bad("expected an RFC 3339 time");
        }
        seconds = absl::ToUnixSeconds(t);
        nanos = static_cast<int32_t>(
            absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds)));
      }
      google::protobuf::Timestamp created;
      created.set_seconds(seconds);
      created.set_nanos(nanos);
      // What a Timestamp can hold, as the JSON-lines reader requires: a year
      // such as -26 parses, but no JSON printer or store could write it.
      if (!IsValidTimestamp(created))
        return bad("is not a valid time (years 1 to 9999)");
      *lead->mutable_created_at() = created;
      break;
    }
  }
  return absl::OkStatus();
}

// Where the JSON array that `text` starts with (after spaces) ends, or npos
// when it does not start with one or the array is not closed. Only strings
// and brackets are followed: the parser judges the rest.
size_t JsonArrayEnd(absl::string_view text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == absl::string_view::npos || text[i] != '[') {
    return absl::string_view::npos;
  }
  int depth = 0;
  bool in_string = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && --depth == 0) {
      return i + 1;
    }
  }
  return absl::string_view::npos;
}

// Appends the events of a CSV lead's `events` column: a JSON array.
absl::Status SetEvents(const std::string& value, v1::Lead* lead) {
  if (value.empty()) return absl::OkStatus();
  // The cell is parsed inside a wrapper object, where `[], "job_title": "x"`
  // would pass for more members and be dropped without a word.
  if (const size_t end = JsonArrayEnd(value);
      end != absl::string_view::npos &&
      value.find_first_not_of(" \t\r\n", end) != std::string::npos) {
    return absl::InvalidArgumentError(
        "column events: not a JSON array of events: text follows its "
        "closing bracket");
  }
  // Parse the array through a wrapper object so that every event field is
  // checked. The fast reader gives protobuf's result and messages, faster.
  // The wrapper's text is built where the last lead's was, and the wrapper
  // lives where the lead does (its arena, or the heap) so that the events
  // move into the lead rather than being copied.
  thread_local std::string wrapper;
  wrapper.assign("{\"events\":");
  wrapper.append(value);
  wrapper.push_back('}');
  v1::Lead on_heap;
  v1::Lead* holder =
      lead->GetArena() != nullptr
          ? google::protobuf::Arena::CreateMessage<v1::Lead>(lead->GetArena())
          : &on_heap;
  auto status = ParseLeadJsonQuickly(wrapper, holder);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "column events: not a JSON array of events: ", status.message()));
  }
  if (lead->events().empty()) {
    lead->mutable_events()->Swap(holder->mutable_events());
    return absl::OkStatus();
  }
  for (v1::Event& event : *holder->mutable_events()) {
    *lead->add_events() = std::move(event);
  }
  return absl::OkStatus();
}

// Reads an attribute as a number or a boolean when it reads as one.
void SetAttribute(absl::string_view key, absl::string_view value,
                  v1::Lead* lead) {
  if (value.empty()) return;
  google::protobuf::Value& attribute =
      (*lead->mutable_attributes()->mutable_fields())[std::string(key)];
  double d;
  bool b;
  if (absl::SimpleAtod(value, &d) && std::isfinite(d)) {
    attribute.set_number_value(d);
  } else if (absl::EqualsIgnoreCase(value, "true") ||
             absl::EqualsIgnoreCase(value, "false")) {
    ParseBool(value, &b);
    attribute.set_bool_value(b);
  } else {
    attribute.set_string_value(std::string(value));
  }
}

bool IsAttributeColumn(absl::string_view column) {
  return absl::StartsWith(column, "attributes.") && column.size() > 11;
}

}  // namespace

absl::StatusOr<std::vector<CsvColumn>> CheckCsvHeader(
    std::vector<std::string> header, bool skip_unknown) {
  bool has_id = false;
  std::vector<std::string> unknown;
  std::vector<CsvColumn> columns(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    if (auto st = CheckUtf8(absl::StrCat("header column ", i + 1), header[i]);
        !st.ok()) {
      return st;
    }
    CsvColumn& column = columns[i];
    column.name = std::string(absl::StripAsciiWhitespace(header[i]));
    column.field = FindLeadColumn(column.name);
    if (column.field != nullptr) {
      column.kind = CsvColumn::Kind::kField;
    } else if (column.name == "events") {
      column.kind = CsvColumn::Kind::kEvents;
    } else if (IsAttributeColumn(column.name)) {
      column.kind = CsvColumn::Kind::kAttribute;
      column.attribute = column.name.substr(11);
    } else {
      unknown.push_back(absl::StrCat("\"", column.name, "\""));
    }
    has_id |= column.name == "id";
  }
  if (!unknown.empty() && !skip_unknown) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown column", unknown.size() == 1 ? " " : "s ",
                     absl::StrJoin(unknown, ", ")));
  }
  if (!has_id) return absl::InvalidArgumentError("the id column is required");
  return columns;
}

absl::Status CsvFieldsToLead(const std::vector<CsvColumn>& columns,
                             const std::vector<std::string>& fields,
                             v1::Lead* lead) {
  if (fields.size() != columns.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected ", columns.size(), " columns, found ", fields.size()));
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const CsvColumn& column = columns[i];
    if (column.kind == CsvColumn::Kind::kUnknown) continue;
    // The column's name is spelled out only for an error: fields are many.
    if (FindInvalidUtf8(fields[i]) != absl::string_view::npos) {
      return CheckUtf8(absl::StrCat("column ", column.name), fields[i]);
    }
    absl::Status st;
    switch (column.kind) {
      case CsvColumn::Kind::kField:
        st = SetField(*column.field, fields[i], lead);
        break;
      case CsvColumn::Kind::kEvents:
        st = SetEvents(fields[i], lead);
        break;
      case CsvColumn::Kind::kAttribute:
        SetAttribute(column.attribute, fields[i], lead);
        break;
      case CsvColumn::Kind::kUnknown:
        break;
    }
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

namespace {

// Where a quoted part of a CSV field ends, from just after its opening quote.
struct QuotedPart {
  size_t end = 0;     // its closing quote, or data.size() when not closed
  size_t length = 0;  // its bytes, "" counted as one
  bool cut = false;   // the data ends on a quote: "" or the closing one
};

// Reads the quoted part from data[i] on, counting the newlines in it, and
// appends its bytes ("" as one quote) to `field` unless it is null, a run
// at a time. The bytes between quotes and newlines are skipped eight at a
// time: JSON in a cell ("events") holds a doubled quote every few bytes.
QuotedPart ReadQuoted(absl::string_view data, size_t i, int64_t* lines,
                      std::string* field) {
  const char* in = data.data();
  const size_t size = data.size();
  QuotedPart part;
  size_t run = i;  // the first byte not yet appended
  size_t pairs = 0;
  size_t j = i;
  for (;;) {
    while (j + 8 <= size) {
      const size_t k = FindEitherByteIn8(in + j, '"', '\n');
      j += k;
      if (k < 8) break;
    }
    while (j < size && in[j] != '"' && in[j] != '\n') ++j;
    if (j == size) break;
    if (in[j] == '\n') {
      ++*lines;
      ++j;
      continue;
    }
    if (j + 1 == size) {
      part.cut = true;
      break;
    }
    if (in[j + 1] != '"') break;  // the closing quote
    ++j;                          // "" is a quote: the first is kept
    if (field != nullptr) field->append(in + run, j - run);
    ++pairs;
    run = ++j;
  }
  if (field != nullptr) field->append(in + run, j - run);
  part.end = j;
  part.length = j - i - pairs;
  return part;
}

// The state machine of LeadReader::ReadCsvRecord over bytes in memory: a
// quote opens a quoted part only at the start of a field, "" in quotes is a
// quote, a record ends at a newline outside quotes (a \r before it is
// dropped). With `fields` null it only finds where the record ends. The
// strings of `fields` are filled again rather than made anew: a reader
// splits a record per lead, and allocating each field dominated.
absl::StatusOr<size_t> CsvRecord(absl::string_view data, bool at_end,
                                 int64_t* lines,
                                 std::vector<std::string>* fields) {
  size_t count = 0;  // fields ended so far
  std::string* field = nullptr;
  size_t field_size = 0;
  char last = 0;  // the field's last byte, when field_size > 0
  bool quoted = false;
  auto start_field = [&] {
    if (fields == nullptr) return;
    if (fields->size() <= count) fields->emplace_back();
    field = &(*fields)[count];
    field->clear();
  };
  auto end_field = [&] {
    ++count;
    field_size = 0;
    start_field();
  };
  start_field();
  const size_t size = data.size();
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (quoted) {
      const QuotedPart part = ReadQuoted(data, i, lines, field);
      // The data ends on a quote, "" or the closing one: the next chunk tells.
      if (part.cut && !at_end) return 0;
      if (part.length > 0) {
        field_size += part.length;
        last = data[part.end - 1];
      }
      quoted = part.end == size;  // the data ended inside quotes
      i = part.end;               // the closing quote, or the end
    } else if (c == '"' && field_size == 0) {
      quoted = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n') {
      ++*lines;
      if (field_size > 0 && last == '\r') {
        --field_size;
        if (fields != nullptr) field->pop_back();
      }
      end_field();
      if (fields != nullptr) fields->resize(count);
      return i + 1;
    } else {
      // Unquoted bytes up to the next special one, at once.
      size_t j = i + 1;
      while (j < size && data[j] != ',' && data[j] != '\n') ++j;
      if (fields != nullptr) field->append(data.data() + i, j - i);
      field_size += j - i;
      last = data[j - 1];
      i = j - 1;
    }
  }
  if (!at_end) return 0;
  if (quoted) return absl::InvalidArgumentError("unterminated quote");
  end_field();
  if (fields != nullptr) fields->resize(count);
  return size;
}

// A CSV record 64 bytes at a time, as masks (bit k: byte k of the block):
// the quick way to find and split records, since JSON in a cell has a
// doubled quote every few bytes. Quoted parts are told by counting quotes:
// a byte is in quotes after an odd number of them, "" leaving and entering
// again. That is CsvRecord's rule as long as every quote that opens a
// quoted part starts a field or is the second of a "" (it follows a comma,
// a newline or a quote, or starts the record); `stray` flags the others,
// and CsvRecord must then decide.
class CsvBlocks {
 public:
  struct Masks {
    uint64_t newlines = 0;
    uint64_t commas = 0;
    uint64_t in_quotes = 0;  // opening quotes included, closing ones not
    uint64_t stray = 0;      // opening quotes where no quoted part may start
    // Quotes that are not bytes of a field: all but the second of each "".
    uint64_t dropped = 0;
  };

  // The next 64 bytes of the record, at `p`.
  Masks Next(const char* p) {
    Masks m;
    uint64_t quotes;
    ByteMasks64(p, '"', '\n', ',', &quotes, &m.newlines, &m.commas);
    m.in_quotes = PrefixXor(quotes) ^ inside_;
    const uint64_t openings = quotes & m.in_quotes;
    const uint64_t closings = quotes & ~m.in_quotes;
    // After these bytes, or at the start of the record, a quote may open a
    // quoted part.
    const uint64_t may_open_after = quotes | m.newlines | m.commas;
    m.stray = openings & ~((may_open_after << 1) | may_open_);
    m.dropped = quotes & ~(openings & ((closings << 1) | closing_before_));
    inside_ = uint64_t{0} - (m.in_quotes >> 63);
    may_open_ = may_open_after >> 63;
    closing_before_ = closings >> 63;
    return m;
  }

 private:
  uint64_t inside_ = 0;          // all ones when a block starts in quotes
  uint64_t may_open_ = 1;        // bit 0: a quote may open the block
  uint64_t closing_before_ = 0;  // bit 0: a quote closed the last block
};

// Where the record at the start of `data` ends, its newline included, and
// with `cuts` where its cells end; 0 when CsvBlocks cannot tell (a stray
// quote, or no end in whole blocks of the data), `cuts` then unchanged.
// Records are found on one thread for all, before they are parsed in
// parallel.
size_t FindCsvRecordEndQuickly(absl::string_view data, int64_t* lines,
                               std::vector<uint32_t>* cuts) {
  const size_t mark = cuts != nullptr ? cuts->size() : 0;
  auto cannot_tell = [&] {
    if (cuts != nullptr) cuts->resize(mark);
    return 0;
  };
  CsvBlocks blocks;
  int64_t newlines = 0;
  for (size_t at = 0; at + 64 <= data.size(); at += 64) {
    const CsvBlocks::Masks m = blocks.Next(data.data() + at);
    const uint64_t ends = m.newlines & ~m.in_quotes;
    const uint64_t upto_end = ends == 0 ? ~uint64_t{0} : ends ^ (ends - 1);
    if ((m.stray & upto_end) != 0) return cannot_tell();
    if (cuts != nullptr) {
      for (uint64_t separators =
               (m.commas | m.newlines) & ~m.in_quotes & upto_end;
           separators != 0; separators &= separators - 1) {
        cuts->push_back(static_cast<uint32_t>(at) +
                        std::countr_zero(separators));
      }
    }
    if (ends != 0) {
      *lines += newlines + std::popcount(m.newlines & upto_end);
      return at + std::countr_zero(ends) + 1;
    }
    // Newlines in quotes are rare, and a popcount is a call on baseline
    // x86-64.
    if (m.newlines != 0) newlines += std::popcount(m.newlines);
  }
  return cannot_tell();
}

// The 64-byte blocks of one record for CsvBlocks, the last padded with zero
// bytes (nothing special to CSV).
class CsvRecordBlocks {
 public:
  explicit CsvRecordBlocks(absl::string_view record) : record_(record) {}

  // The masks of the block at *at, `valid` flagging the record's bytes in
  // it; false past the end of the record.
  bool Next(size_t* at, CsvBlocks::Masks* m, uint64_t* valid) {
    if (at_ >= record_.size()) return false;
    const char* block = record_.data() + at_;
    *valid = ~uint64_t{0};
    if (record_.size() - at_ < 64) {
      std::memset(tail_, 0, sizeof(tail_));
      std::memcpy(tail_, block, record_.size() - at_);
      block = tail_;
      *valid = (uint64_t{1} << (record_.size() - at_)) - 1;
    }
    *m = blocks_.Next(block);
    in_quotes_ = (m->in_quotes >> (63 - std::countl_zero(*valid))) & 1;
    *at = at_;
    at_ += 64;
    return true;
  }

  // Whether the bytes so far end inside quotes.
  bool in_quotes() const { return in_quotes_; }

 private:
  const absl::string_view record_;
  CsvBlocks blocks_;
  char tail_[64];
  size_t at_ = 0;
  bool in_quotes_ = false;
};

// SplitCsvRecord's fields of `record` (one record, its newline included or
// at the end of the file), through CsvBlocks: false when it cannot tell (a
// stray quote, or a quote left open), `fields` then unspecified. The bytes
// of the fields are gathered in `scratch` between the cuts (commas and the
// newline outside quotes, dropped quotes), copied a run at a time.
bool SplitCsvRecordQuickly(absl::string_view record, std::string* scratch,
                           std::vector<std::string>* fields) {
  // A run of up to 16 bytes is copied whole when the record goes on that
  // far: the bytes written never pass those read, so `out` needs no more
  // room than the record.
  constexpr size_t kWholeRun = 16;
  const char* in = record.data();
  const size_t size = record.size();
  scratch->resize(size);
  char* out = scratch->data();
  size_t n = 0;           // bytes written to out
  size_t field_from = 0;  // where the current field starts in out
  size_t count = 0;       // fields ended
  auto end_field = [&] {
    if (fields->size() <= count) fields->emplace_back();
    (*fields)[count++].assign(out + field_from, n - field_from);
    field_from = n;
  };
  CsvRecordBlocks blocks(record);
  size_t from = 0;  // the first byte of `record` not yet copied
  size_t at;
  CsvBlocks::Masks m;
  uint64_t valid;
  while (blocks.Next(&at, &m, &valid)) {
    if ((m.stray & valid) != 0) return false;
    const uint64_t separators = (m.commas | m.newlines) & ~m.in_quotes & valid;
    for (uint64_t cuts = (m.dropped & valid) | separators; cuts != 0;
         cuts &= cuts - 1) {
      const int k = std::countr_zero(cuts);
      const size_t cut = at + k;
      const size_t run = cut - from;
      if (run <= kWholeRun && from + kWholeRun <= size) {
        std::memcpy(out + n, in + from, kWholeRun);
      } else {
        std::memcpy(out + n, in + from, run);
      }
      n += run;
      from = cut + 1;
      if ((separators >> k) & 1) {
        if (in[cut] == '\n') {
          if (n > field_from && out[n - 1] == '\r') --n;
          end_field();
          fields->resize(count);
          return true;
        }
        end_field();
      }
    }
  }
  if (blocks.in_quotes()) return false;  // CsvRecord says how it ends
  if (size > from) {
    std::memcpy(out + n, in + from, size - from);
    n += size - from;
  }
  end_field();
  fields->resize(count);
  return true;
}

// The cell of a record between `from` and `to` (a comma, the newline or the
// end), as FlatLeadCsvReader reads it: false for a form only CsvRecord
// reads exactly, such as "a"b.
bool AddCell(absl::string_view record, size_t from, size_t to,
             std::vector<FlatLeadCsvReader::Cell>* cells) {
  absl::string_view bytes = record.substr(from, to - from);
  const bool before_newline = to < record.size() && record[to] == '\n';
  // CsvRecord drops a \r that ends the last field, even one in quotes.
  if (before_newline && !bytes.empty() && bytes.back() == '\r') {
    bytes.remove_suffix(1);
  }
  FlatLeadCsvReader::Cell& cell = cells->emplace_back();
  if (bytes.empty() || bytes.front() != '"') {
    // CsvBlocks flagged any quote here as stray.
    cell.bytes = bytes;
    return true;
  }
  if (bytes.size() < 2 || bytes.back() != '"') return false;
  cell.bytes = bytes.substr(1, bytes.size() - 2);
  cell.quoted = true;
  return !before_newline || cell.bytes.empty() || cell.bytes.back() != '\r';
}

}  // namespace

bool FlatLeadCsvReader::Split(absl::string_view record) {
  cells_.clear();
  CsvRecordBlocks blocks(record);
  size_t from = 0;  // where the current cell starts
  size_t at;
  CsvBlocks::Masks m;
  uint64_t valid;
  while (blocks.Next(&at, &m, &valid)) {
    if ((m.stray & valid) != 0) return false;
    for (uint64_t cuts = (m.commas | m.newlines) & ~m.in_quotes & valid;
         cuts != 0; cuts &= cuts - 1) {
      const size_t cut = at + std::countr_zero(cuts);
      if (!AddCell(record, from, cut, &cells_)) return false;
      from = cut + 1;
      if (record[cut] == '\n') return from == record.size();
    }
  }
  return !blocks.in_quotes() && AddCell(record, from, record.size(), &cells_);
}

absl::string_view FlatLeadCsvReader::Text(const Cell& cell) {
  if (!cell.quoted || cell.bytes.find('"') == absl::string_view::npos) {
    return cell.bytes;
  }
  text_.clear();
  for (size_t i = 0; i < cell.bytes.size(); ++i) {
    text_.push_back(cell.bytes[i]);
    if (cell.bytes[i] == '"') ++i;  // the second of a ""
  }
  return text_;
}

bool FlatLeadCsvReader::Read(const std::vector<CsvColumn>& columns,
                             absl::string_view record,
                             absl::Span<const uint32_t> cuts, v1::Lead* fields,
                             FlatLead* flat) {
  fields->Clear();
  flat->Reset(fields);
  if (cuts.empty()) {
    if (!Split(record)) return false;
  } else {
    cells_.clear();
    size_t from = 0;
    for (const uint32_t cut : cuts) {
      if (!AddCell(record, from, cut, &cells_)) return false;
      from = cut + 1;
    }
  }
  if (cells_.size() != columns.size()) return false;
  bool has_events = false;
  for (size_t i = 0; i < cells_.size(); ++i) {
    const CsvColumn& column = columns[i];
    const Cell& cell = cells_[i];
    switch (column.kind) {
      case CsvColumn::Kind::kUnknown:
        break;
      case CsvColumn::Kind::kEvents:
        // A second events column would reuse the reader's text.
        if (cell.bytes.empty()) break;
        if (has_events || !events_.ReadEvents(cell.bytes, cell.quoted, flat)) {
          return false;
        }
        has_events = true;
        break;
      case CsvColumn::Kind::kField:
      case CsvColumn::Kind::kAttribute: {
        const absl::string_view text = Text(cell);
        if (FindInvalidUtf8(text) != absl::string_view::npos) return false;
        if (column.kind == CsvColumn::Kind::kAttribute) {
          SetAttribute(column.attribute, text, fields);
        } else if (!SetField(*column.field, text, fields).ok()) {
          return false;
        }
        break;
      }
    }
  }
  return ValidateLead(*fields).ok();
}

absl::StatusOr<size_t> ScanCsvRecord(absl::string_view data, bool at_end,
                                     int64_t* lines,
                                     std::vector<uint32_t>* cuts) {
  if (const size_t end = FindCsvRecordEndQuickly(data, lines, cuts); end > 0) {
    return end;
  }
  return CsvRecord(data, at_end, lines, nullptr);
}

void SplitCsvRecord(absl::string_view record,
                    std::vector<std::string>* fields) {
  thread_local std::string scratch;
  if (SplitCsvRecordQuickly(record, &scratch, fields)) return;
  int64_t lines = 0;
  (void)CsvRecord(record, /*at_end=*/true, &lines, fields);
}

bool IsBlankCsvRecord(absl::string_view record) {
  // Only a few bytes can make a single empty field: "", \r, "\r" and
  // their like.
  if (record.size() > 5) return false;
  std::vector<std::string> fields;
  SplitCsvRecord(record, &fields);
  return fields.size() == 1 && fields[0].empty();
}

LeadReader::~LeadReader() = default;

absl::StatusOr<std::unique_ptr<LeadReader>> LeadReader::Open(
    const std::string& path, std::optional<LeadFormat> format,
    bool skip_unknown_columns) {
  const LeadFormat chosen = format.value_or(
      absl::EndsWithIgnoreCase(path, ".csv") ? LeadFormat::kCsv
                                             : LeadFormat::kJsonLines);
  if (path == "-") {
    return FromStream(&std::cin, chosen, "<stdin>", skip_unknown_columns);
  }
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  auto reader = FromStream(file.get(), chosen, path, skip_unknown_columns);
  if (reader.ok()) (*reader)->owned_ = std::move(file);
  return reader;
}

absl::StatusOr<std::unique_ptr<LeadReader>> LeadReader::FromStream(
    std::istream* in, LeadFormat format, std::string name,
    bool skip_unknown_columns) {
  std::unique_ptr<LeadReader> reader(new LeadReader());
  reader->in_ = in;
  reader->format_ = format;
  reader->name_ = std::move(name);
  if (format == LeadFormat::kCsv) {
    std::vector<std::string> header;
    auto has_header = reader->ReadCsvRecord(&header);
    if (!has_header.ok()) return has_header.status();
    if (!*has_header) {
      return absl::InvalidArgumentError(
          absl::StrCat(reader->name_,
                       ": empty CSV file; a header row is "
                       "required"));
    }
    auto columns = CheckCsvHeader(std::move(header), skip_unknown_columns);
    if (!columns.ok()) {
      return RecordError(reader->name_, 1, columns.status().message());
    }
    reader->columns_ = *std::move(columns);
    for (const CsvColumn& column : reader->columns_) {
      if (column.kind == CsvColumn::Kind::kUnknown) {
        reader->unknown_columns_.push_back(column.name);
      }
    }
  }
  return reader;
}

absl::StatusOr<bool> LeadReader::Next(v1::Lead* lead) {
  lead->Clear();
  return format_ == LeadFormat::kCsv ? NextCsv(lead) : NextJson(lead);
}

std::string ToStableJson(const google::protobuf::Message& message) {
  static constexpr char kUrlPrefix[] = "type.googleapis.com";
  static google::protobuf::util::TypeResolver* const resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::BinaryToJsonString(
      resolver,
      absl::StrCat(kUrlPrefix, "/", message.GetDescriptor()->full_name()),
      binary, &json, options);
  return json;
}

absl::Status ParseLeadJson(absl::string_view json, v1::Lead* lead) {
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), lead);
  if (parsed.ok()) return absl::OkStatus();
  const absl::string_view message(parsed.message().data(),
                                  parsed.message().size());
  absl::Status status = absl::InvalidArgumentError(message);
  // Protobuf writes the field first: "(events[0].type): invalid value ..."
  // for a bad value, "(company) color: Cannot find field." for an unknown
  // one, without parentheses at the top level ("color: Cannot ...").
  std::string path;
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) {
    // Malformed JSON: no field to name.
  } else if (absl::StartsWith(message, "(")) {
    const size_t close = message.find(')');
    if (close != absl::string_view::npos && close < colon) {
      path = std::string(message.substr(1, close - 1));
      if (message.substr(close + 1, 1) == " ") {
        absl::StrAppend(&path, ".",
                        message.substr(close + 2, colon - close - 2));
      }
    }
  } else if (absl::EndsWith(message, ": Cannot find field.")) {
    path = std::string(message.substr(0, colon));
  }
  if (!path.empty()) {
    FieldError(path, message.substr(colon + 2))
        .ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
          status.SetPayload(url, payload);
        });
  }
  return status;
}

absl::Status RecordError(absl::string_view name, int64_t line,
                         absl::string_view prefix, const absl::Status& cause) {
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(name, ":", line, ": ", prefix, cause.message()));
  if (auto problems = ProblemsFromStatus(cause)) {
    for (v1::ValidationProblem& problem : *problems->mutable_problems()) {
      problem.set_file(std::string(name));
      problem.set_line(static_cast<int32_t>(line));
    }
    status.SetPayload(kProblemsPayloadUrl,
                      absl::Cord(problems->SerializeAsString()));
  }
  return status;
}

absl::StatusOr<bool> LeadReader::NextJson(v1::Lead* lead) {
  for (;;) {
    if (!std::getline(*in_, buffer_)) return false;
    record_line_ = next_line_++;
    if (buffer_.size() > kMaxRecordBytes) {
      return RecordError(name_, record_line_,
                         absl::StrCat("a line of ", buffer_.size(),
                                      " bytes; at most ", kMaxRecordBytes));
    }
    if (absl::StripAsciiWhitespace(buffer_).empty()) continue;
    if (auto st = ParseLeadJson(buffer_, lead); !st.ok()) {
      return RecordError(name_, record_line_, "not a lead: ", st);
    }
    return true;
  }
}

absl::StatusOr<bool> LeadReader::ReadCsvRecord(
    std::vector<std::string>* fields) {
  fields->clear();
  record_line_ = next_line_;
  std::string field;
  bool quoted = false;
  bool any = false;
  size_t bytes = 0;
  for (;;) {
    const int c = in_->get();
    if (c == EOF) {
      if (quoted) return RecordError(name_, record_line_, "unterminated quote");
      if (!any) return false;
      fields->push_back(std::move(field));
      return true;
    }
    any = true;
    if (++bytes > kMaxRecordBytes) {
      return RecordError(name_, record_line_, "record too long");
    }
    if (quoted) {
      if (c == '"') {
        if (in_->peek() == '"') {
          in_->get();
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++next_line_;
        field += static_cast<char>(c);
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++next_line_;
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields->push_back(std::move(field));
      return true;
    } else {
      field += static_cast<char>(c);
    }
  }
}

absl::StatusOr<bool> LeadReader::NextCsv(v1::Lead* lead) {
  for (;;) {
    auto more = ReadCsvRecord(&fields_);
    if (!more.ok() || !*more) return more;
    if (fields_.size() == 1 && fields_[0].empty()) continue;  // blank line
    if (absl::Status st = CsvFieldsToLead(columns_, fields_, lead); !st.ok()) {
      return RecordError(name_, record_line_, st.message());
    }
    return true;
  }
}

}  // namespace smarketing
