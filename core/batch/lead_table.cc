#include "core/batch/lead_table.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/bits.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/base/enum_label.h"
#include "core/base/lead_fields.h"
#include "core/base/problems.h"
#include "core/batch/parallel_for.h"
#include "core/playbook/field.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/util/json_util.h"

namespace smarketing {

int64_t Column::size() const {
  switch (type) {
    case Type::kText:
      if (!codes8.empty()) return static_cast<int64_t>(codes8.size());
      if (!codes16.empty()) return static_cast<int64_t>(codes16.size());
      return static_cast<int64_t>(codes.empty() ? text.size() : codes.size());
    case Type::kInt:
    case Type::kTime:
      return static_cast<int64_t>(ints.size());
    case Type::kDouble:
      return static_cast<int64_t>(doubles.size());
    case Type::kBool:
      return static_cast<int64_t>(bools.size());
    case Type::kValue:
      return static_cast<int64_t>(kinds.size());
  }
  return 0;
}

namespace {

// The columns of the events table, besides properties.<key>.
enum class EventColumn { kLeadId, kId, kType, kOccurredAt, kCustomType };

struct KnownEventColumn {
  const char* name;
  EventColumn column;
};

constexpr KnownEventColumn kEventColumns[] = {
    {"lead_id", EventColumn::kLeadId},
    {"id", EventColumn::kId},
    {"type", EventColumn::kType},
    {"occurred_at", EventColumn::kOccurredAt},
    {"custom_type", EventColumn::kCustomType},
};

absl::string_view TypeName(Column::Type type) {
  switch (type) {
    case Column::Type::kText:
      return "text";
    case Column::Type::kInt:
      return "integer";
    case Column::Type::kDouble:
      return "floating point";
    case Column::Type::kBool:
      return "boolean";
    case Column::Type::kTime:
      return "datetime";
    case Column::Type::kValue:
      return "values of several types";
  }
  return "unknown";
}

absl::Status ColumnError(absl::string_view table, absl::string_view column,
                         absl::string_view message) {
  return FieldError(absl::StrCat(table, ".", column), message);
}

absl::Status RowError(absl::string_view table, const Column& column,
                      int64_t row, absl::string_view message) {
  return ColumnError(table, column.name,
                     absl::StrCat("row ", row, ": ", message));
}

// The text of a row; missing values read as empty.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::string_view TextAt(
    const Column& column, int64_t row) {
  if (column.missing(row)) return {};
  if (column.categorical()) {
    const int32_t code = column.code(row);
    return code < 0 ? absl::string_view() : column.dictionary[code];
  }
  return column.text[row];
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool IsMissing(const Column& column,
                                                   int64_t row) {
  if (column.missing(row)) return true;
  return column.type == Column::Type::kText && column.categorical() &&
         column.code(row) < 0;
}

// Text of a text or integer column (ids may be either), into `buffer` for
// integers.
absl::string_view IdAt(const Column& column, int64_t row, std::string* buffer) {
  if (column.type == Column::Type::kInt) {
    buffer->clear();
    absl::StrAppend(buffer, column.ints[row]);
    return *buffer;
  }
  return TextAt(column, row);
}

// Row `row` of a kTime column as seconds and nanoseconds.
void TimeAt(const Column& column, int64_t row, int64_t* seconds,
            int32_t* nanos) {
  const int64_t ticks = column.ints[row];
  const int64_t per_second = column.ticks_per_second;
  *seconds = ticks / per_second;
  int64_t rest = ticks % per_second;
  if (rest < 0) {
    rest += per_second;
    --*seconds;
  }
  *nanos = static_cast<int32_t>(rest * (1000000000 / per_second));
}

void SetTime(const Column& column, int64_t row,
             google::protobuf::Timestamp* out) {
  int64_t seconds;
  int32_t nanos;
  TimeAt(column, row, &seconds, &nanos);
  out->set_seconds(seconds);
  out->set_nanos(nanos);
}

// Resolves enum names as the Playbook writes them: "vp", "VP" or
// "SENIORITY_VP"; the empty text is the enum's zero.
class EnumNames {
 public:
  explicit EnumNames(const google::protobuf::EnumDescriptor* type)
      : type_(type), prefix_(EnumValuePrefix(type)) {}
  bool Find(absl::string_view text, int32_t* out) const {
    if (text.empty()) {
      *out = 0;
      return true;
    }
    std::string upper = absl::AsciiStrToUpper(text);
    const google::protobuf::EnumValueDescriptor* value =
        type_->FindValueByName(upper);
    if (value == nullptr)
      value = type_->FindValueByName(absl::StrCat(prefix_, upper));
    if (value == nullptr) return false;
    *out = value->number();
    return true;
  }
  std::string Known() const { return EnumLabelList(type_); }
  bool Valid(int32_t number) const {
    return type_->FindValueByNumber(number) != nullptr;
  }

 private:
  const google::protobuf::EnumDescriptor* type_;
  std::string prefix_;
};

// Calls fn(codes) with the codes of a categorical column, in their width.
template <typename F>
void VisitCodes(const Column& column, F&& fn) {
  if (!column.codes8.empty()) {
    fn(column.codes8);
  } else if (!column.codes16.empty()) {
    fn(column.codes16);
  } else {
    fn(column.codes);
  }
}

template <typename T>
int64_t FirstNegative(absl::Span<const T> codes) {
  T smallest = 0;
  for (const T code : codes) smallest = std::min(smallest, code);  // vectorized
  if (smallest >= 0) return -1;
  for (size_t r = 0; r < codes.size(); ++r) {
    if (codes[r] < 0) return static_cast<int64_t>(r);
  }
  return -1;
}

// The first missing row, or -1.
int64_t FirstMissing(const Column& column) {
  int64_t first = -1;
  if (!column.present.empty()) {
    const void* zero =
        std::memchr(column.present.data(), 0, column.present.size());
    if (zero != nullptr)
      first = static_cast<const uint8_t*>(zero) - column.present.data();
  }
  if (column.type == Column::Type::kText && column.categorical()) {
    int64_t negative = -1;
    VisitCodes(column, [&](auto codes) { negative = FirstNegative(codes); });
    if (negative >= 0 && (first < 0 || negative < first)) first = negative;
  }
  return first;
}

// Resolves an enum column to numbers, once per distinct text.
absl::Status ResolveEnum(absl::string_view table, const Column& column,
                         const EnumNames& names, bool required,
                         std::vector<int32_t>* out) {
  const int64_t n = column.size();
  out->assign(n, 0);
  auto unknown = [&](int64_t row, absl::string_view text) {
    return RowError(table, column, row,
                    absl::StrCat("unknown value \"", text,
                                 "\"; expected one of ", names.Known()));
  };
  auto missing = [&](int64_t row) {
    return RowError(table, column, row, "is missing; a value is required");
  };
  if (column.type == Column::Type::kInt) {
    for (int64_t r = 0; r < n; ++r) {
      if (column.missing(r)) {
        if (required) return missing(r);
        continue;
      }
      const int64_t v = column.ints[r];
      if (v < 0 || v > std::numeric_limits<int32_t>::max() ||
          !names.Valid(static_cast<int32_t>(v)) || (required && v == 0)) {
        return unknown(r, absl::StrCat(v));
      }
      (*out)[r] = static_cast<int32_t>(v);
    }
    return absl::OkStatus();
  }
  if (column.type != Column::Type::kText) {
    return ColumnError(table, column.name,
                       absl::StrCat("expected text or integer values, found ",
                                    TypeName(column.type)));
  }
  if (column.categorical()) {
    std::vector<int32_t> numbers(column.dictionary.size(), -1);
    for (size_t i = 0; i < column.dictionary.size(); ++i) {
      int32_t number;
      if (names.Find(column.dictionary[i], &number) &&
          !(required && number == 0)) {
        numbers[i] = number;
      }
    }
    if (required) {
      if (const int64_t r = FirstMissing(column); r >= 0) return missing(r);
    }
    int64_t bad = -1;
    int32_t* resolved = out->data();
    if (column.present.empty()) {
      // The usual case, in a tight loop: a negative code is missing (0).
      VisitCodes(column, [&](auto codes) {
        for (int64_t r = 0; r < n; ++r) {
          const int32_t code = codes[r];
          if (code < 0) continue;
          const int32_t number = numbers[code];
          if (number < 0) {
            bad = r;
            break;
          }
          resolved[r] = number;
        }
      });
    } else {
      for (int64_t r = 0; r < n; ++r) {
        if (IsMissing(column, r)) continue;
        const int32_t number = numbers[column.code(r)];
        if (number < 0) {
          bad = r;
          break;
        }
        resolved[r] = number;
      }
    }
    if (bad >= 0) return unknown(bad, column.dictionary[column.code(bad)]);
    return absl::OkStatus();
  }
  absl::flat_hash_map<absl::string_view, int32_t> cache;
  for (int64_t r = 0; r < n; ++r) {
    if (IsMissing(column, r)) {
      if (required) return missing(r);
      continue;
    }
    const absl::string_view text = column.text[r];
    auto it = cache.find(text);
    if (it == cache.end()) {
      int32_t number;
      if (!names.Find(text, &number) || (required && number == 0)) {
        return unknown(r, text);
      }
      it = cache.emplace(text, number).first;
    }
    (*out)[r] = it->second;
  }
  return absl::OkStatus();
}

absl::Status CheckType(absl::string_view table, const Column& column,
                       std::initializer_list<Column::Type> allowed) {
  for (Column::Type type : allowed) {
    if (column.type == type) return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (Column::Type type : allowed) names.emplace_back(TypeName(type));
  return ColumnError(table, column.name,
                     absl::StrCat("expected ", absl::StrJoin(names, " or "),
                                  " values, found ", TypeName(column.type)));
}

template <typename T>
int64_t FirstCodeAtLeast(absl::Span<const T> codes, int64_t limit) {
  // The largest code first, in a loop the compiler vectorizes: for the
  // usual table, whose codes are all good, that is all it costs.
  T largest = std::numeric_limits<T>::min();
  for (const T code : codes) largest = std::max(largest, code);
  if (static_cast<int64_t>(largest) < limit) return -1;
  for (size_t r = 0; r < codes.size(); ++r) {
    if (static_cast<int64_t>(codes[r]) >= limit) return static_cast<int64_t>(r);
  }
  return -1;
}

// A list or an object written as JSON in a kValue column.
bool ParseJsonValue(absl::string_view json, google::protobuf::Value* out) {
  out->Clear();  // a reused value may hold another row's
  return google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(json.data(), json.size()), out)
      .ok();
}

// Every row of a kValue column holds what its kind says.
absl::Status CheckValues(absl::string_view table, const Column& column) {
  const size_t n = column.kinds.size();
  if (column.doubles.size() != n || column.bools.size() != n ||
      column.text.size() != n) {
    return ColumnError(table, column.name,
                       "kinds, numbers, booleans and texts differ in length");
  }
  google::protobuf::Value value;
  for (size_t r = 0; r < n; ++r) {
    const uint8_t kind = column.kinds[r];
    if (kind > Column::kJson) {
      return RowError(table, column, static_cast<int64_t>(r),
                      absl::StrCat("unknown value kind ", kind));
    }
    if (kind == Column::kJson && !ParseJsonValue(column.text[r], &value)) {
      return RowError(table, column, static_cast<int64_t>(r),
                      "not a list or an object in JSON");
    }
  }
  return absl::OkStatus();
}

// Categorical codes must point into the dictionary; times come in a unit
// this file knows; values hold what their kinds say.
absl::Status CheckLayout(absl::string_view table, const Column& column) {
  if (column.type == Column::Type::kTime) {
    const int64_t t = column.ticks_per_second;
    if (t != 1 && t != 1000 && t != 1000000 && t != 1000000000) {
      return ColumnError(table, column.name,
                         absl::StrCat(t,
                                      " ticks per second; expected 1, 1000, "
                                      "1000000 or 1000000000"));
    }
    return absl::OkStatus();
  }
  if (column.type == Column::Type::kValue) return CheckValues(table, column);
  if (column.type != Column::Type::kText || !column.categorical()) {
    return absl::OkStatus();
  }
  const int64_t limit = static_cast<int64_t>(column.dictionary.size());
  const int64_t row =
      !column.codes8.empty()    ? FirstCodeAtLeast(column.codes8, limit)
      : !column.codes16.empty() ? FirstCodeAtLeast(column.codes16, limit)
                                : FirstCodeAtLeast(column.codes, limit);
  if (row < 0) return absl::OkStatus();
  return RowError(table, column, row,
                  absl::StrCat("category code ", column.code(row),
                               " is not one of the ", limit, " categories"));
}

absl::Status CheckRequired(absl::string_view table, const Column& column) {
  if (const int64_t r = FirstMissing(column); r >= 0) {
    return RowError(table, column, r, "is missing; a value is required");
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(absl::string_view table, const Column& column) {
  if (column.type != Column::Type::kDouble) return absl::OkStatus();
  for (int64_t r = 0, n = column.size(); r < n; ++r) {
    if (!column.missing(r) && !std::isfinite(column.doubles[r])) {
      return RowError(
          table, column, r,
          absl::StrCat(column.doubles[r], " is not a finite number"));
    }
  }
  return absl::OkStatus();
}

// Sets a google.protobuf.Value from any column's row.
void SetValue(const Column& column, int64_t row, google::protobuf::Value* out) {
  switch (column.type) {
    case Column::Type::kText: {
      const absl::string_view text = TextAt(column, row);
      // Into the Value's string, reusing its storage when it held text.
      out->mutable_string_value()->assign(text.data(), text.size());
      break;
    }
    case Column::Type::kInt:
      out->set_number_value(static_cast<double>(column.ints[row]));
      break;
    case Column::Type::kDouble:
      out->set_number_value(column.doubles[row]);
      break;
    case Column::Type::kBool:
      out->set_bool_value(column.bools[row] != 0);
      break;
    case Column::Type::kTime: {
      int64_t seconds;
      int32_t nanos;
      TimeAt(column, row, &seconds, &nanos);
      out->set_string_value(absl::FormatTime(
          absl::RFC3339_full,
          absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos),
          absl::UTCTimeZone()));
      break;
    }
    case Column::Type::kValue:
      switch (column.kinds[row]) {
        case Column::kNumber:
          out->set_number_value(column.doubles[row]);
          break;
        case Column::kBool:
          out->set_bool_value(column.bools[row] != 0);
          break;
        case Column::kText:
          out->mutable_string_value()->assign(column.text[row].data(),
                                              column.text[row].size());
          break;
        case Column::kJson:
          // Checked when the table was made.
          (void)ParseJsonValue(column.text[row], out);
          break;
        default:
          out->set_null_value(google::protobuf::NULL_VALUE);
      }
      break;
  }
}

// Row `row` of a properties.<key> column as SetValue would store it, laid
// out flat; false for what the flat form does not hold as SetValue does (a
// list or object, a time written as text) or what validation refuses (a
// key or a text too long, a number not finite).
bool FlatPropertyAt(const Column& column, int64_t row, FlatValue* out) {
  if (out->key.size() > kMaxIdBytes) return false;
  auto number = [&](double value) {
    out->kind = FlatValue::kNumber;
    out->number = value;
    return std::isfinite(value);
  };
  auto text = [&](absl::string_view value) {
    out->kind = FlatValue::kString;
    out->text = value;
    return value.size() <= kMaxTextBytes;
  };
  auto boolean = [&](bool value) {
    out->kind = FlatValue::kBool;
    out->boolean = value;
    return true;
  };
  switch (column.type) {
    case Column::Type::kText:
      return text(TextAt(column, row));
    case Column::Type::kInt:
      return number(static_cast<double>(column.ints[row]));
    case Column::Type::kDouble:
      return number(column.doubles[row]);
    case Column::Type::kBool:
      return boolean(column.bools[row] != 0);
    case Column::Type::kTime:
      return false;
    case Column::Type::kValue:
      switch (column.kinds[row]) {
        case Column::kNumber:
          return number(column.doubles[row]);
        case Column::kBool:
          return boolean(column.bools[row] != 0);
        case Column::kText:
          return text(column.text[row]);
        case Column::kJson:
          return false;
        default:
          out->kind = FlatValue::kNull;
          return true;
      }
  }
  return false;
}

// Every unknown column of a table at once: data exported from elsewhere
// often has several, and fixing them one run at a time wastes an afternoon.
absl::Status UnknownColumns(absl::string_view table,
                            const std::vector<Column>& columns,
                            bool (*known)(absl::string_view),
                            const std::string& names) {
  ProblemList problems;
  std::vector<std::string> unknown;
  for (const Column& column : columns) {
    if (known(column.name)) continue;
    unknown.push_back(absl::StrCat("\"", column.name, "\""));
    problems.Add(
        absl::StrCat(table, ".", column.name),
        absl::StrCat("unknown column; ", table == "leads" ? "lead" : "event",
                     " columns are ", names));
  }
  if (unknown.empty()) return absl::OkStatus();
  return problems.ToStatus(absl::StrCat(table, ": unknown column",
                                        unknown.size() == 1 ? " " : "s ",
                                        absl::StrJoin(unknown, ", ")));
}

}  // namespace

bool IsLeadColumn(absl::string_view name) {
  if (absl::StartsWith(name, "attributes.")) return true;
  return FindLeadColumn(name) != nullptr;
}

bool IsEventColumn(absl::string_view name) {
  if (absl::StartsWith(name, "properties.")) return true;
  for (const KnownEventColumn& k : kEventColumns) {
    if (name == k.name) return true;
  }
  return false;
}

std::string KnownLeadColumnNames() {
  return absl::StrCat(LeadColumnNames(), ", attributes.<key>");
}

std::string KnownEventColumnNames() {
  std::vector<absl::string_view> names;
  for (const KnownEventColumn& k : kEventColumns) names.push_back(k.name);
  names.push_back("properties.<key>");
  return absl::StrJoin(names, ", ");
}

// A bound column: a lead field (nullptr for attributes.<key>) or an event
// column (unset for properties.<key>).
struct LeadTable::Field {
  const LeadField* lead = nullptr;
  std::optional<EventColumn> event;
  int column;
  std::string key;  // attributes.<key>, properties.<key>
};

LeadTable::~LeadTable() = default;

namespace {

// Checks that `column` can carry the lead field `field`: its type, and the
// values the field refuses.
absl::Status CheckLeadColumn(const LeadField& field, const Column& column,
                             int64_t rows) {
  constexpr absl::string_view kTable = "leads";
  if (field.id == FieldId::kLeadId) {
    if (auto st = CheckType(kTable, column,
                            {Column::Type::kText, Column::Type::kInt});
        !st.ok()) {
      return st;
    }
    return CheckRequired(kTable, column);
  }
  switch (field.type) {
    case LeadFieldType::kSeniority:
      return absl::OkStatus();  // resolved against the enum by the caller
    case LeadFieldType::kWholeNumber:
      if (auto st = CheckType(kTable, column,
                              {Column::Type::kInt, Column::Type::kDouble});
          !st.ok()) {
        return st;
      }
      if (column.type != Column::Type::kDouble) return absl::OkStatus();
      for (int64_t r = 0; r < rows; ++r) {
        const double d = column.doubles[r];
        if (!column.missing(r) &&
            (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15)) {
          return RowError(kTable, column, r,
                          absl::StrCat(d, " is not a whole number"));
        }
      }
      return absl::OkStatus();
    case LeadFieldType::kNumber:
      if (auto st = CheckType(kTable, column,
                              {Column::Type::kInt, Column::Type::kDouble});
          !st.ok()) {
        return st;
      }
      return CheckFinite(kTable, column);
    case LeadFieldType::kBool:
      if (auto st = CheckType(kTable, column, {Column::Type::kBool});
          !st.ok()) {
        return st;
      }
      for (int64_t r = 0; r < rows; ++r) {
        if (column.missing(r)) {
          return RowError(kTable, column, r,
                          "is missing; consent is never guessed: give true or "
                          "false for every lead");
        }
      }
      return absl::OkStatus();
    case LeadFieldType::kTime:
      return CheckType(kTable, column, {Column::Type::kTime});
    case LeadFieldType::kText:
      break;
  }
  return CheckType(kTable, column, {Column::Type::kText});
}

}  // namespace

absl::Status LeadTable::BindLeads(std::vector<Column> columns) {
  constexpr absl::string_view kTable = "leads";
  lead_columns_ = std::move(columns);
  if (lead_columns_.empty()) {
    return ColumnError(kTable, "id",
                       "the leads table has no columns; id is required");
  }
  if (auto st = UnknownColumns(kTable, lead_columns_, &IsLeadColumn,
                               KnownLeadColumnNames());
      !st.ok()) {
    return st;
  }
  rows_ = lead_columns_[0].size();
  absl::flat_hash_map<std::string, int> seen;
  for (int c = 0; c < static_cast<int>(lead_columns_.size()); ++c) {
    const Column& column = lead_columns_[c];
    if (!seen.emplace(column.name, c).second) {
      return ColumnError(kTable, column.name, "appears twice");
    }
    if (column.size() != rows_) {
      return ColumnError(kTable, column.name,
                         absl::StrCat("has ", column.size(), " rows, but ",
                                      lead_columns_[0].name, " has ", rows_));
    }
    if (auto st = CheckLayout(kTable, column); !st.ok()) return st;
    Field field{nullptr, std::nullopt, c, ""};
    field.lead = FindLeadColumn(column.name);
    if (field.lead == nullptr) {  // attributes.<key>: UnknownColumns passed it
      field.key = column.name.substr(11);
      if (auto st = CheckFinite(kTable, column); !st.ok()) return st;
    } else if (auto st = CheckLeadColumn(*field.lead, column, rows_);
               !st.ok()) {
      return st;
    } else if (field.lead->id == FieldId::kLeadId) {
      lead_id_column_ = c;
    } else if (field.lead->type == LeadFieldType::kSeniority) {
      if (auto st =
              ResolveEnum(kTable, column, EnumNames(v1::Seniority_descriptor()),
                          false, &seniority_);
          !st.ok()) {
        return st;
      }
    }
    lead_fields_.push_back(std::move(field));
  }
  if (lead_id_column_ < 0) {
    return ColumnError(kTable, "id", "the id column is required");
  }
  return absl::OkStatus();
}

absl::Status LeadTable::BindEvents(std::vector<Column> columns) {
  constexpr absl::string_view kTable = "events";
  event_columns_ = std::move(columns);
  if (event_columns_.empty()) return absl::OkStatus();
  if (auto st = UnknownColumns(kTable, event_columns_, &IsEventColumn,
                               KnownEventColumnNames());
      !st.ok()) {
    return st;
  }
  event_rows_ = event_columns_[0].size();
  absl::flat_hash_map<std::string, int> seen;
  int type_column = -1;
  for (int c = 0; c < static_cast<int>(event_columns_.size()); ++c) {
    const Column& column = event_columns_[c];
    if (!seen.emplace(column.name, c).second) {
      return ColumnError(kTable, column.name, "appears twice");
    }
    if (column.size() != event_rows_) {
      return ColumnError(
          kTable, column.name,
          absl::StrCat("has ", column.size(), " rows, but ",
                       event_columns_[0].name, " has ", event_rows_));
    }
    if (auto st = CheckLayout(kTable, column); !st.ok()) return st;
    Field field{nullptr, std::nullopt, c, ""};
    // An empty key ("properties.") is a key like any other, as in a lead.
    if (absl::StartsWith(column.name, "properties.")) {
      field.key = column.name.substr(11);
      if (auto st = CheckFinite(kTable, column); !st.ok()) return st;
      property_fields_.push_back(field);
      event_fields_.push_back(std::move(field));
      continue;
    }
    for (const KnownEventColumn& k : kEventColumns) {
      if (column.name == k.name) field.event = k.column;
    }
    switch (*field.event) {  // UnknownColumns passed it
      case EventColumn::kLeadId:
      case EventColumn::kId:
        if (auto st = CheckType(kTable, column,
                                {Column::Type::kText, Column::Type::kInt});
            !st.ok()) {
          return st;
        }
        if (auto st = CheckRequired(kTable, column); !st.ok()) return st;
        if (field.event == EventColumn::kId) event_id_column_ = c;
        break;
      case EventColumn::kType:
        type_column = c;
        break;
      case EventColumn::kOccurredAt:
        if (auto st = CheckType(kTable, column, {Column::Type::kTime});
            !st.ok()) {
          return st;
        }
        if (auto st = CheckRequired(kTable, column); !st.ok()) return st;
        occurred_at_column_ = c;
        break;
      case EventColumn::kCustomType:
        if (auto st = CheckType(kTable, column, {Column::Type::kText});
            !st.ok()) {
          return st;
        }
        custom_type_column_ = c;
        break;
    }
    event_fields_.push_back(std::move(field));
  }
  for (absl::string_view required : {"lead_id", "type", "occurred_at"}) {
    if (!seen.contains(required)) {
      return ColumnError(kTable, required,
                         absl::StrCat("the ", required, " column is required"));
    }
  }
  return ResolveEnum(kTable, event_columns_[type_column],
                     EnumNames(v1::EventType_descriptor()), true, &event_type_);
}

namespace {

using RowIndex = absl::flat_hash_map<absl::string_view, int64_t>;

// The row of each lead id. Integer ids are compared by their decimal text
// (kept in `id_text`), so that either table may hold them as numbers or as
// text.
absl::Status IndexLeadRows(const Column& ids, int64_t rows,
                           std::vector<std::string>* id_text, RowIndex* out) {
  if (ids.type == Column::Type::kInt) {
    id_text->resize(rows);
    for (int64_t r = 0; r < rows; ++r)
      (*id_text)[r] = absl::StrCat(ids.ints[r]);
  }
  auto lead_key = [&](int64_t r) {
    return ids.type == Column::Type::kInt ? absl::string_view((*id_text)[r])
                                          : TextAt(ids, r);
  };
  out->reserve(rows);
  for (int64_t r = 0; r < rows; ++r) {
    auto [it, inserted] = out->emplace(lead_key(r), r);
    if (!inserted) {
      return RowError(
          "leads", ids, r,
          absl::StrCat("lead id \"", lead_key(r), "\" already appears on row ",
                       it->second, "; events could not tell them apart"));
    }
  }
  return absl::OkStatus();
}

// The lead row of each event: for categorical lead ids, through one lookup
// per category (into `by_code`); otherwise one per event (into `lead_of`).
// An event of an unknown lead is refused, naming the first one.
absl::Status FindEventLeads(const Column& lead_id, int64_t event_rows,
                            const RowIndex& rows, std::vector<int64_t>* by_code,
                            std::vector<int64_t>* lead_of) {
  std::atomic<int64_t> first_unknown{event_rows};
  auto unknown = [&](int64_t row) {
    int64_t seen = first_unknown.load();
    while (row < seen && !first_unknown.compare_exchange_weak(seen, row)) {
    }
  };
  if (lead_id.type == Column::Type::kText && lead_id.categorical()) {
    by_code->assign(lead_id.dictionary.size(), -1);
    for (size_t i = 0; i < by_code->size(); ++i) {
      auto it = rows.find(lead_id.dictionary[i]);
      if (it != rows.end()) (*by_code)[i] = it->second;
    }
    // Codes are never negative here: lead_id is required.
    VisitCodes(lead_id, [&](auto codes) {
      for (int64_t e = 0; e < event_rows; ++e) {
        if ((*by_code)[codes[e]] < 0) {
          unknown(e);
          break;
        }
      }
    });
  } else {
    lead_of->resize(event_rows);
    ParallelFor(event_rows, DefaultThreadCount(),
                [&](int, int64_t begin, int64_t end) {
                  std::string buffer;
                  for (int64_t e = begin; e < end; ++e) {
                    auto it = rows.find(IdAt(lead_id, e, &buffer));
                    if (it == rows.end()) {
                      unknown(e);
                      return;
                    }
                    (*lead_of)[e] = it->second;
                  }
                });
  }
  if (const int64_t e = first_unknown.load(); e < event_rows) {
    std::string buffer;
    return RowError(
        "events", lead_id, e,
        absl::StrCat("no lead has id \"", IdAt(lead_id, e, &buffer),
                     "\"; give only the events of the leads given"));
  }
  return absl::OkStatus();
}

// A stable counting sort of the events by lead, which keeps each lead's
// events in table order: `begin` gets each lead's first position, `order`
// the events in lead order. Events listed lead by lead, in the order of the
// leads, need no sorting and leave `order` empty.
template <typename LeadAt>
void SortEventsByLead(int64_t event_rows, int64_t rows, LeadAt lead_at,
                      std::vector<int64_t>* begin,
                      std::vector<int64_t>* order) {
  bool sorted = true;
  int64_t previous = 0;
  for (int64_t e = 0; e < event_rows; ++e) {
    const int64_t lead = lead_at(e);
    ++(*begin)[lead + 1];
    sorted = sorted && lead >= previous;
    previous = lead;
  }
  for (int64_t r = 0; r < rows; ++r) (*begin)[r + 1] += (*begin)[r];
  if (sorted) return;
  std::vector<int64_t> next(begin->begin(), begin->end() - 1);
  order->resize(event_rows);
  for (int64_t e = 0; e < event_rows; ++e) (*order)[next[lead_at(e)]++] = e;
}

}  // namespace

absl::Status LeadTable::GroupEvents() {
  event_begin_.assign(rows_ + 1, 0);
  if (event_rows_ == 0) return absl::OkStatus();
  const Column* lead_id = nullptr;
  for (const Field& f : event_fields_) {
    if (f.event == EventColumn::kLeadId) lead_id = &event_columns_[f.column];
  }
  std::vector<std::string> id_text;
  RowIndex rows;
  if (auto st =
          IndexLeadRows(lead_columns_[lead_id_column_], rows_, &id_text, &rows);
      !st.ok()) {
    return st;
  }
  std::vector<int64_t> by_code;
  std::vector<int64_t> lead_of;
  if (auto st = FindEventLeads(*lead_id, event_rows_, rows, &by_code, &lead_of);
      !st.ok()) {
    return st;
  }
  if (lead_of.empty()) {
    VisitCodes(*lead_id, [&](auto codes) {
      SortEventsByLead(
          event_rows_, rows_, [&](int64_t e) { return by_code[codes[e]]; },
          &event_begin_, &event_order_);
    });
  } else {
    SortEventsByLead(
        event_rows_, rows_, [&](int64_t e) { return lead_of[e]; },
        &event_begin_, &event_order_);
  }
  return absl::OkStatus();
}

namespace {

// Sets `bit` in masks[r] for the rows [begin, end) where `column` has a
// value, in loops the compiler vectorizes.
template <typename T>
void MarkCodes(absl::Span<const T> codes, uint32_t bit, int64_t begin,
               int64_t end, uint32_t* __restrict masks) {
  const T* __restrict data = codes.data();
  for (int64_t r = begin; r < end; ++r) masks[r] |= data[r] >= 0 ? bit : 0;
}

void MarkPresent(const Column& column, uint32_t bit, int64_t begin, int64_t end,
                 uint32_t* __restrict masks) {
  if (column.type == Column::Type::kText && !column.codes8.empty()) {
    MarkCodes(column.codes8, bit, begin, end, masks);
  } else if (column.type == Column::Type::kText && !column.codes16.empty()) {
    MarkCodes(column.codes16, bit, begin, end, masks);
  } else if (column.type == Column::Type::kText && !column.codes.empty()) {
    MarkCodes(column.codes, bit, begin, end, masks);
  } else {
    for (int64_t r = begin; r < end; ++r) masks[r] |= bit;
  }
  if (!column.present.empty()) {
    const uint8_t* __restrict present = column.present.data();
    for (int64_t r = begin; r < end; ++r) masks[r] &= present[r] ? ~0u : ~bit;
  }
}

}  // namespace

void LeadTable::MarkProperties() {
  if (property_fields_.empty() || property_fields_.size() > 32) return;
  property_present_.assign(event_rows_, 0);
  uint32_t* masks = property_present_.data();
  ParallelFor(event_rows_, DefaultThreadCount(),
              [&](int, int64_t begin, int64_t end) {
                for (size_t i = 0; i < property_fields_.size(); ++i) {
                  MarkPresent(event_columns_[property_fields_[i].column],
                              1u << i, begin, end, masks);
                }
              });
}

absl::StatusOr<std::unique_ptr<LeadTable>> LeadTable::Create(
    std::vector<Column> leads, std::vector<Column> events) {
  std::unique_ptr<LeadTable> table(new LeadTable());
  if (auto st = table->BindLeads(std::move(leads)); !st.ok()) return st;
  if (auto st = table->BindEvents(std::move(events)); !st.ok()) return st;
  if (auto st = table->GroupEvents(); !st.ok()) return st;
  table->MarkProperties();
  return table;
}

int64_t LeadTable::EventRow(int64_t row, int index) const {
  const int64_t i = event_begin_[row] + index;
  return event_order_.empty() ? i : event_order_[i];
}

void LeadTable::Build(int64_t row, v1::Lead* lead) const {
  lead->Clear();
  Fill(row, lead);
}

void LeadTable::Fill(int64_t row, v1::Lead* lead) const {
  FillLead(row, /*reuse=*/false, lead);
  const int64_t begin = event_begin_[row];
  const int count = static_cast<int>(event_begin_[row + 1] - begin);
  if (count == 0) return;
  auto* events = lead->mutable_events();
  events->Reserve(count);
  for (int k = 0; k < count; ++k) {
    FillEvent(EventAt(begin + k), /*reuse=*/false, events->Add());
  }
}

void LeadTable::FillLead(int64_t row, bool reuse, v1::Lead* lead) const {
  // Strings are assigned through mutable_*(): set_*(data, size) would make
  // a temporary std::string first, which allocates for all but short text.
  char digits[absl::numbers_internal::kFastToBufferSize];
  for (const Field& field : lead_fields_) {
    const Column& column = lead_columns_[field.column];
    if (field.lead == nullptr) {
      if (!IsMissing(column, row)) {
        SetValue(column, row,
                 &(*lead->mutable_attributes()->mutable_fields())[field.key]);
      } else if (reuse && lead->has_attributes()) {
        lead->mutable_attributes()->mutable_fields()->erase(field.key);
      }
      continue;
    }
    const FieldId id = field.lead->id;
    if (IsMissing(column, row)) {
      // A new lead has every field unset already.
      if (reuse) ClearLeadField(lead, id);
      continue;
    }
    switch (field.lead->type) {
      case LeadFieldType::kText:
        if (column.type == Column::Type::kInt) {  // an id
          char* end =
              absl::numbers_internal::FastIntToBuffer(column.ints[row], digits);
          MutableLeadText(lead, id)->assign(digits, end - digits);
        } else {
          const absl::string_view value = TextAt(column, row);
          MutableLeadText(lead, id)->assign(value.data(), value.size());
        }
        break;
      case LeadFieldType::kSeniority:
        SetLeadInteger(lead, id, seniority_[row]);
        break;
      case LeadFieldType::kWholeNumber:
        SetLeadInteger(lead, id,
                       column.type == Column::Type::kInt
                           ? column.ints[row]
                           : static_cast<int64_t>(column.doubles[row]));
        break;
      case LeadFieldType::kNumber:
        SetLeadNumber(lead, id,
                      column.type == Column::Type::kInt
                          ? static_cast<double>(column.ints[row])
                          : column.doubles[row]);
        break;
      case LeadFieldType::kBool:
        SetLeadBool(lead, id, column.bools[row] != 0);
        break;
      case LeadFieldType::kTime:
        SetTime(column, row, MutableLeadTime(lead, id));
        break;
    }
  }
}

bool LeadTable::HasProperty(int64_t e, size_t i) const {
  return property_present_.empty()
             ? !IsMissing(event_columns_[property_fields_[i].column], e)
             : ((property_present_[e] >> i) & 1) != 0;
}

void LeadTable::FillEvent(int64_t e, bool reuse, v1::Event* event) const {
  event->set_type(static_cast<v1::EventType>(event_type_[e]));
  // id and occurred_at are never missing: checked when the table was made.
  if (event_id_column_ < 0 ||
      event_columns_[event_id_column_].type == Column::Type::kInt) {
    char digits[absl::numbers_internal::kFastToBufferSize];
    char* end = absl::numbers_internal::FastIntToBuffer(
        event_id_column_ < 0 ? e : event_columns_[event_id_column_].ints[e],
        digits);
    event->mutable_id()->assign(digits, end - digits);
  } else {
    const absl::string_view id = TextAt(event_columns_[event_id_column_], e);
    event->mutable_id()->assign(id.data(), id.size());
  }
  SetTime(event_columns_[occurred_at_column_], e, event->mutable_occurred_at());
  if (custom_type_column_ >= 0) {
    const Column& column = event_columns_[custom_type_column_];
    if (!IsMissing(column, e)) {
      const absl::string_view value = TextAt(column, e);
      event->mutable_custom_type()->assign(value.data(), value.size());
    } else if (reuse) {
      event->clear_custom_type();
    }
  }
  if (property_fields_.empty()) return;

  // The properties present, as a bit mask over property_fields_ (or, past
  // 32 property columns, looked up column by column).
  auto for_each_present = [&](auto&& fn) {
    if (!property_present_.empty()) {
      for (uint32_t bits = property_present_[e]; bits != 0; bits &= bits - 1) {
        fn(static_cast<size_t>(absl::countr_zero(bits)));
      }
      return;
    }
    for (size_t i = 0; i < property_fields_.size(); ++i) {
      if (HasProperty(e, i)) fn(i);
    }
  };
  size_t count = 0;
  for_each_present([&](size_t) { ++count; });
  if (count == 0) {
    if (reuse && event->has_properties())
      event->mutable_properties()->mutable_fields()->clear();
    return;
  }
  auto& properties = *event->mutable_properties()->mutable_fields();
  // A reused event usually held the same properties (it held an event of
  // the same type): their values are overwritten in place.
  for_each_present([&](size_t i) {
    const Field& field = property_fields_[i];
    SetValue(event_columns_[field.column], e, &properties[field.key]);
  });
  if (properties.size() == count) return;
  for (auto it = properties.begin(); it != properties.end();) {
    bool kept = false;
    for_each_present(
        [&](size_t i) { kept = kept || property_fields_[i].key == it->first; });
    if (kept) {
      ++it;
    } else {
      it = properties.erase(it);
    }
  }
}

TableLeadBuilder::TableLeadBuilder(const LeadTable& table) : table_(table) {}

TableLeadBuilder::~TableLeadBuilder() {
  for (auto& pool : spare_) {
    for (v1::Event* event : pool) delete event;
  }
}

void TableLeadBuilder::RecycleEvents() {
  auto* events = lead_.mutable_events();
  const int previous = events->size();
  if (previous == 0) return;
  extracted_.resize(previous);
  events->ExtractSubrange(0, previous, extracted_.data());
  for (v1::Event* event : extracted_) {
    const size_t type = static_cast<size_t>(event->type());
    if (type >= spare_.size()) spare_.resize(type + 1);
    spare_[type].push_back(event);
  }
}

const v1::Lead& TableLeadBuilder::BuildWithoutEvents(int64_t row) {
  table_.FillLead(row, /*reuse=*/true, &lead_);
  RecycleEvents();
  return lead_;
}

const v1::Lead& TableLeadBuilder::Build(int64_t row) {
  table_.FillLead(row, /*reuse=*/true, &lead_);
  // The previous lead's events go back to the pools, by type, and this
  // lead's events come from there: an event refilled in place keeps its
  // strings and properties, and one of the same type usually has the same
  // properties.
  RecycleEvents();
  auto* events = lead_.mutable_events();
  const int64_t begin = table_.event_begin_[row];
  const int count = static_cast<int>(table_.event_begin_[row + 1] - begin);
  for (int k = 0; k < count; ++k) {
    const int64_t e = table_.EventAt(begin + k);
    const size_t type = static_cast<size_t>(table_.event_type_[e]);
    v1::Event* event = nullptr;
    if (type < spare_.size() && !spare_[type].empty()) {
      event = spare_[type].back();
      spare_[type].pop_back();
    } else {
      for (auto& pool : spare_) {
        if (pool.empty()) continue;
        event = pool.back();
        pool.pop_back();
        break;
      }
    }
    if (event == nullptr) event = new v1::Event();
    table_.FillEvent(e, /*reuse=*/true, event);
    events->AddAllocated(event);
  }
  return lead_;
}

const v1::Lead* TableLeadBuilder::BuildFlat(int64_t row, FlatLead* flat) {
  table_.FillLead(row, /*reuse=*/true, &lead_);
  RecycleEvents();
  if (!ValidateLead(lead_).ok()) return nullptr;
  const int64_t begin = table_.event_begin_[row];
  const int64_t count = table_.event_begin_[row + 1] - begin;
  if (count > kMaxEventsPerLead) return nullptr;
  flat->Reset(&lead_);
  std::vector<FlatEvent>& events = flat->mutable_events();
  std::vector<FlatValue>& values = flat->mutable_values();
  events.resize(count);
  const Column* ids = table_.event_id_column_ < 0
                          ? nullptr
                          : &table_.event_columns_[table_.event_id_column_];
  const bool int_ids = ids == nullptr || ids->type == Column::Type::kInt;
  // Room for every id written from an integer, so that views into it stay
  // valid.
  ids_.clear();
  if (int_ids) {
    ids_.reserve(static_cast<size_t>(count) *
                 absl::numbers_internal::kFastToBufferSize);
  }
  for (int64_t k = 0; k < count; ++k) {
    const int64_t e = table_.EventAt(begin + k);
    FlatEvent& event = events[k];
    event = FlatEvent();
    event.type = static_cast<v1::EventType>(table_.event_type_[e]);
    if (int_ids) {
      char digits[absl::numbers_internal::kFastToBufferSize];
      const char* end = absl::numbers_internal::FastIntToBuffer(
          ids == nullptr ? e : ids->ints[e], digits);
      const size_t at = ids_.size();
      ids_.append(digits, end - digits);
      event.id = absl::string_view(ids_.data() + at, end - digits);
    } else {
      event.id = TextAt(*ids, e);
    }
    TimeAt(table_.event_columns_[table_.occurred_at_column_], e, &event.seconds,
           &event.nanos);
    if (table_.custom_type_column_ >= 0) {
      const Column& column = table_.event_columns_[table_.custom_type_column_];
      if (!IsMissing(column, e)) event.custom_type = TextAt(column, e);
    }
    // What ValidateEvent refuses is left to it, on the slow path.
    if (!EventFieldsAreValid(event)) return nullptr;
    event.first_property = static_cast<uint32_t>(values.size());
    for (size_t i = 0; i < table_.property_fields_.size(); ++i) {
      if (!table_.HasProperty(e, i)) continue;
      const LeadTable::Field& field = table_.property_fields_[i];
      const Column& column = table_.event_columns_[field.column];
      FlatValue& value = values.emplace_back();
      value.key = field.key;
      if (!FlatPropertyAt(column, e, &value)) return nullptr;
    }
    event.property_count =
        static_cast<uint32_t>(values.size()) - event.first_property;
  }
  return &lead_;
}

}  // namespace smarketing
