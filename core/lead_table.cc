#include "lead_table.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "batch_scorer.h"
#include "field.h"
#include "google/protobuf/util/json_util.h"
#include "problems.h"

namespace smarketing {

int64_t Column::size() const {
  switch (type) {
    case Type::kText:
      return static_cast<int64_t>(codes.empty() ? text.size() : codes.size());
    case Type::kInt:
    case Type::kTime:
      return static_cast<int64_t>(ints.size());
    case Type::kDouble:
      return static_cast<int64_t>(doubles.size());
    case Type::kBool:
      return static_cast<int64_t>(bools.size());
  }
  return 0;
}

namespace {

enum class Target {
  kId,
  kFirstName,
  kLastName,
  kEmail,
  kPhone,
  kJobTitle,
  kDepartment,
  kSeniority,
  kCompanyName,
  kCompanyDomain,
  kIndustry,
  kEmployeeCount,
  kAnnualRevenue,
  kCountry,
  kRegion,
  kSource,
  kCampaign,
  kProduct,
  kOptedOut,
  kDoNotEmail,
  kDoNotCall,
  kCreatedAt,
  kAttribute,
  kEventLeadId,
  kEventId,
  kEventType,
  kOccurredAt,
  kCustomType,
  kProperty,
};

struct Known {
  const char* name;
  Target target;
};

constexpr Known kLeadColumns[] = {
    {"id", Target::kId},
    {"first_name", Target::kFirstName},
    {"last_name", Target::kLastName},
    {"email", Target::kEmail},
    {"phone", Target::kPhone},
    {"job_title", Target::kJobTitle},
    {"department", Target::kDepartment},
    {"seniority", Target::kSeniority},
    {"company_name", Target::kCompanyName},
    {"company_domain", Target::kCompanyDomain},
    {"industry", Target::kIndustry},
    {"employee_count", Target::kEmployeeCount},
    {"annual_revenue", Target::kAnnualRevenue},
    {"country", Target::kCountry},
    {"region", Target::kRegion},
    {"source", Target::kSource},
    {"campaign", Target::kCampaign},
    {"product", Target::kProduct},
    {"opted_out", Target::kOptedOut},
    {"do_not_email", Target::kDoNotEmail},
    {"do_not_call", Target::kDoNotCall},
    {"created_at", Target::kCreatedAt},
};

constexpr Known kEventColumns[] = {
    {"lead_id", Target::kEventLeadId},
    {"id", Target::kEventId},
    {"type", Target::kEventType},
    {"occurred_at", Target::kOccurredAt},
    {"custom_type", Target::kCustomType},
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
  }
  return "unknown";
}

absl::Status ColumnError(absl::string_view table, absl::string_view column,
                         absl::string_view message) {
  return FieldError(absl::StrCat(table, ".", column), message);
}

absl::Status RowError(absl::string_view table, const Column& column,
                      int64_t row, absl::string_view message) {
  return ColumnError(table, column.name, absl::StrCat("row ", row, ": ", message));
}

// The text of a row; missing values read as empty.
absl::string_view TextAt(const Column& column, int64_t row) {
  if (column.missing(row)) return {};
  if (!column.codes.empty()) {
    const int32_t code = column.codes[row];
    return code < 0 ? absl::string_view() : column.dictionary[code];
  }
  return column.text[row];
}

bool IsMissing(const Column& column, int64_t row) {
  if (column.missing(row)) return true;
  return column.type == Column::Type::kText && !column.codes.empty() &&
         column.codes[row] < 0;
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

void SetTime(int64_t nanos, google::protobuf::Timestamp* out) {
  int64_t seconds = nanos / 1000000000;
  int64_t rest = nanos % 1000000000;
  if (rest < 0) {
    rest += 1000000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest));
}

// Resolves enum names as the Playbook writes them: "vp", "VP" or
// "SENIORITY_VP"; the empty text is the enum's zero.
class EnumNames {
 public:
  EnumNames(const google::protobuf::EnumDescriptor* type, absl::string_view prefix)
      : type_(type), prefix_(prefix) {}
  bool Find(absl::string_view text, int32_t* out) const {
    if (text.empty()) {
      *out = 0;
      return true;
    }
    std::string upper = absl::AsciiStrToUpper(text);
    const google::protobuf::EnumValueDescriptor* value =
        type_->FindValueByName(upper);
    if (value == nullptr) value = type_->FindValueByName(absl::StrCat(prefix_, upper));
    if (value == nullptr) return false;
    *out = value->number();
    return true;
  }
  std::string Known() const {
    std::vector<std::string> names;
    for (int i = 1; i < type_->value_count(); ++i) {
      names.push_back(absl::AsciiStrToLower(
          absl::StripPrefix(type_->value(i)->name(), prefix_)));
    }
    return absl::StrJoin(names, ", ");
  }
  bool Valid(int32_t number) const {
    return type_->FindValueByNumber(number) != nullptr;
  }

 private:
  const google::protobuf::EnumDescriptor* type_;
  std::string prefix_;
};

// Resolves an enum column to numbers, once per distinct text.
absl::Status ResolveEnum(absl::string_view table, const Column& column,
                         const EnumNames& names, bool required,
                         std::vector<int32_t>* out) {
  const int64_t n = column.size();
  out->assign(n, 0);
  auto unknown = [&](int64_t row, absl::string_view text) {
    return RowError(table, column, row,
                    absl::StrCat("unknown value \"", text, "\"; expected one of ",
                                 names.Known()));
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
  if (!column.codes.empty()) {
    std::vector<int32_t> numbers(column.dictionary.size(), -1);
    for (size_t i = 0; i < column.dictionary.size(); ++i) {
      int32_t number;
      if (names.Find(column.dictionary[i], &number) && !(required && number == 0)) {
        numbers[i] = number;
      }
    }
    for (int64_t r = 0; r < n; ++r) {
      if (IsMissing(column, r)) {
        if (required) return missing(r);
        continue;
      }
      const int32_t number = numbers[column.codes[r]];
      if (number < 0) return unknown(r, column.dictionary[column.codes[r]]);
      (*out)[r] = number;
    }
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

absl::Status CheckRequired(absl::string_view table, const Column& column) {
  for (int64_t r = 0, n = column.size(); r < n; ++r) {
    if (IsMissing(column, r)) {
      return RowError(table, column, r, "is missing; a value is required");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(absl::string_view table, const Column& column) {
  if (column.type != Column::Type::kDouble) return absl::OkStatus();
  for (int64_t r = 0, n = column.size(); r < n; ++r) {
    if (!column.missing(r) && !std::isfinite(column.doubles[r])) {
      return RowError(table, column, r,
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
      out->set_string_value(text.data(), text.size());
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
      out->set_string_value(absl::FormatTime(absl::RFC3339_full,
                                             absl::FromUnixNanos(column.ints[row]),
                                             absl::UTCTimeZone()));
      break;
    }
  }
}

std::string KnownNames(const Known* begin, const Known* end,
                       absl::string_view dynamic) {
  std::vector<std::string> names;
  for (const Known* k = begin; k != end; ++k) names.emplace_back(k->name);
  names.emplace_back(dynamic);
  return absl::StrJoin(names, ", ");
}

}  // namespace

struct LeadTable::Field {
  Target target;
  int column;
  std::string key;  // attributes.<key>, properties.<key>
};

LeadTable::~LeadTable() = default;

absl::Status LeadTable::BindLeads(std::vector<Column> columns) {
  constexpr absl::string_view kTable = "leads";
  lead_columns_ = std::move(columns);
  if (lead_columns_.empty()) {
    return ColumnError(kTable, "id", "the leads table has no columns; id is required");
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
    Field field{Target::kAttribute, c, ""};
    if (absl::StartsWith(column.name, "attributes.") &&
        column.name.size() > 11) {
      field.key = column.name.substr(11);
      if (auto st = CheckFinite(kTable, column); !st.ok()) return st;
      lead_fields_.push_back(std::move(field));
      continue;
    }
    const Known* known = nullptr;
    for (const Known& k : kLeadColumns) {
      if (column.name == k.name) known = &k;
    }
    if (known == nullptr) {
      return ColumnError(
          kTable, column.name,
          absl::StrCat("unknown column; lead columns are ",
                       KnownNames(std::begin(kLeadColumns), std::end(kLeadColumns),
                                  "attributes.<key>")));
    }
    field.target = known->target;
    switch (field.target) {
      case Target::kId:
        if (auto st = CheckType(kTable, column, {Column::Type::kText, Column::Type::kInt});
            !st.ok()) {
          return st;
        }
        if (auto st = CheckRequired(kTable, column); !st.ok()) return st;
        lead_id_column_ = c;
        break;
      case Target::kSeniority:
        if (auto st = ResolveEnum(kTable, column,
                                  EnumNames(v1::Seniority_descriptor(), "SENIORITY_"),
                                  false, &seniority_);
            !st.ok()) {
          return st;
        }
        break;
      case Target::kEmployeeCount:
        if (auto st = CheckType(kTable, column, {Column::Type::kInt, Column::Type::kDouble});
            !st.ok()) {
          return st;
        }
        if (column.type == Column::Type::kDouble) {
          for (int64_t r = 0; r < rows_; ++r) {
            const double d = column.doubles[r];
            if (!column.missing(r) &&
                (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15)) {
              return RowError(kTable, column, r,
                              absl::StrCat(d, " is not a whole number of employees"));
            }
          }
        }
        break;
      case Target::kAnnualRevenue:
        if (auto st = CheckType(kTable, column, {Column::Type::kInt, Column::Type::kDouble});
            !st.ok()) {
          return st;
        }
        if (auto st = CheckFinite(kTable, column); !st.ok()) return st;
        break;
      case Target::kOptedOut:
      case Target::kDoNotEmail:
      case Target::kDoNotCall:
        if (auto st = CheckType(kTable, column, {Column::Type::kBool}); !st.ok()) {
          return st;
        }
        for (int64_t r = 0; r < rows_; ++r) {
          if (column.missing(r)) {
            return RowError(kTable, column, r,
                            "is missing; consent is never guessed: give true or "
                            "false for every lead");
          }
        }
        break;
      case Target::kCreatedAt:
        if (auto st = CheckType(kTable, column, {Column::Type::kTime}); !st.ok()) {
          return st;
        }
        break;
      default:
        if (auto st = CheckType(kTable, column, {Column::Type::kText}); !st.ok()) {
          return st;
        }
        break;
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
  event_rows_ = event_columns_[0].size();
  absl::flat_hash_map<std::string, int> seen;
  int type_column = -1;
  for (int c = 0; c < static_cast<int>(event_columns_.size()); ++c) {
    const Column& column = event_columns_[c];
    if (!seen.emplace(column.name, c).second) {
      return ColumnError(kTable, column.name, "appears twice");
    }
    if (column.size() != event_rows_) {
      return ColumnError(kTable, column.name,
                         absl::StrCat("has ", column.size(), " rows, but ",
                                      event_columns_[0].name, " has ", event_rows_));
    }
    Field field{Target::kProperty, c, ""};
    if (absl::StartsWith(column.name, "properties.") && column.name.size() > 11) {
      field.key = column.name.substr(11);
      if (auto st = CheckFinite(kTable, column); !st.ok()) return st;
      event_fields_.push_back(std::move(field));
      continue;
    }
    const Known* known = nullptr;
    for (const Known& k : kEventColumns) {
      if (column.name == k.name) known = &k;
    }
    if (known == nullptr) {
      return ColumnError(
          kTable, column.name,
          absl::StrCat("unknown column; event columns are ",
                       KnownNames(std::begin(kEventColumns), std::end(kEventColumns),
                                  "properties.<key>")));
    }
    field.target = known->target;
    switch (field.target) {
      case Target::kEventLeadId:
      case Target::kEventId:
        if (auto st = CheckType(kTable, column, {Column::Type::kText, Column::Type::kInt});
            !st.ok()) {
          return st;
        }
        if (auto st = CheckRequired(kTable, column); !st.ok()) return st;
        if (field.target == Target::kEventId) event_id_column_ = c;
        break;
      case Target::kEventType:
        type_column = c;
        break;
      case Target::kOccurredAt:
        if (auto st = CheckType(kTable, column, {Column::Type::kTime}); !st.ok()) {
          return st;
        }
        if (auto st = CheckRequired(kTable, column); !st.ok()) return st;
        occurred_at_column_ = c;
        break;
      default:
        if (auto st = CheckType(kTable, column, {Column::Type::kText}); !st.ok()) {
          return st;
        }
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
                     EnumNames(v1::EventType_descriptor(), "EVENT_TYPE_"), true,
                     &event_type_);
}

absl::Status LeadTable::GroupEvents() {
  event_begin_.assign(rows_ + 1, 0);
  if (event_rows_ == 0) return absl::OkStatus();
  const Column& ids = lead_columns_[lead_id_column_];
  const Column* lead_id = nullptr;
  for (const Field& f : event_fields_) {
    if (f.target == Target::kEventLeadId) lead_id = &event_columns_[f.column];
  }
  // Integer ids are compared by their decimal text, so that either table may
  // hold them as numbers or as text.
  std::vector<std::string> id_text;
  if (ids.type == Column::Type::kInt) {
    id_text.resize(rows_);
    for (int64_t r = 0; r < rows_; ++r) id_text[r] = absl::StrCat(ids.ints[r]);
  }
  auto lead_key = [&](int64_t r) {
    return ids.type == Column::Type::kInt ? absl::string_view(id_text[r])
                                          : TextAt(ids, r);
  };
  absl::flat_hash_map<absl::string_view, int64_t> rows;
  rows.reserve(rows_);
  for (int64_t r = 0; r < rows_; ++r) {
    auto [it, inserted] = rows.emplace(lead_key(r), r);
    if (!inserted) {
      return RowError("leads", ids, r,
                      absl::StrCat("lead id \"", lead_key(r),
                                   "\" already appears on row ", it->second,
                                   "; events could not tell them apart"));
    }
  }

  std::vector<int64_t> lead_of(event_rows_);
  std::atomic<int64_t> first_unknown{event_rows_};
  auto unknown = [&](int64_t row) {
    int64_t seen = first_unknown.load();
    while (row < seen && !first_unknown.compare_exchange_weak(seen, row)) {
    }
  };
  if (lead_id->type == Column::Type::kText && !lead_id->codes.empty()) {
    // Categorical: one lookup per category.
    std::vector<int64_t> by_code(lead_id->dictionary.size(), -1);
    for (size_t i = 0; i < by_code.size(); ++i) {
      auto it = rows.find(lead_id->dictionary[i]);
      if (it != rows.end()) by_code[i] = it->second;
    }
    for (int64_t e = 0; e < event_rows_; ++e) {
      lead_of[e] = by_code[lead_id->codes[e]];
      if (lead_of[e] < 0) {
        unknown(e);
        break;
      }
    }
  } else {
    ParallelFor(event_rows_, DefaultThreadCount(),
                [&](int, int64_t begin, int64_t end) {
                  std::string buffer;
                  for (int64_t e = begin; e < end; ++e) {
                    auto it = rows.find(IdAt(*lead_id, e, &buffer));
                    if (it == rows.end()) {
                      unknown(e);
                      return;
                    }
                    lead_of[e] = it->second;
                  }
                });
  }
  if (const int64_t e = first_unknown.load(); e < event_rows_) {
    std::string buffer;
    return RowError("events", *lead_id, e,
                    absl::StrCat("no lead has id \"", IdAt(*lead_id, e, &buffer),
                                 "\"; give only the events of the leads given"));
  }
  // A stable counting sort keeps each lead's events in table order.
  for (int64_t e = 0; e < event_rows_; ++e) ++event_begin_[lead_of[e] + 1];
  for (int64_t r = 0; r < rows_; ++r) event_begin_[r + 1] += event_begin_[r];
  std::vector<int64_t> next(event_begin_.begin(), event_begin_.end() - 1);
  event_order_.resize(event_rows_);
  for (int64_t e = 0; e < event_rows_; ++e) event_order_[next[lead_of[e]]++] = e;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LeadTable>> LeadTable::Create(
    std::vector<Column> leads, std::vector<Column> events) {
  std::unique_ptr<LeadTable> table(new LeadTable());
  if (auto st = table->BindLeads(std::move(leads)); !st.ok()) return st;
  if (auto st = table->BindEvents(std::move(events)); !st.ok()) return st;
  if (auto st = table->GroupEvents(); !st.ok()) return st;
  return table;
}

int64_t LeadTable::EventRow(int64_t row, int index) const {
  return event_order_[event_begin_[row] + index];
}

void LeadTable::Build(int64_t row, v1::Lead* lead) const {
  lead->Clear();
  Fill(row, /*reuse=*/false, lead);
}

void LeadTable::Refill(int64_t row, v1::Lead* lead) const {
  Fill(row, /*reuse=*/true, lead);
}

namespace {

// Unsets the field a missing value stands for, in a Lead being refilled.
void ClearLeadField(Target target, const std::string& key, v1::Lead* lead) {
  switch (target) {
    case Target::kFirstName: lead->mutable_contact()->clear_first_name(); break;
    case Target::kLastName: lead->mutable_contact()->clear_last_name(); break;
    case Target::kEmail: lead->mutable_contact()->clear_email(); break;
    case Target::kPhone: lead->mutable_contact()->clear_phone(); break;
    case Target::kJobTitle: lead->clear_job_title(); break;
    case Target::kDepartment: lead->clear_department(); break;
    case Target::kSeniority: lead->clear_seniority(); break;
    case Target::kCompanyName: lead->mutable_company()->clear_name(); break;
    case Target::kCompanyDomain: lead->mutable_company()->clear_domain(); break;
    case Target::kIndustry: lead->mutable_company()->clear_industry(); break;
    case Target::kEmployeeCount: lead->mutable_company()->clear_employee_count(); break;
    case Target::kAnnualRevenue: lead->mutable_company()->clear_annual_revenue(); break;
    case Target::kCountry: lead->mutable_company()->clear_country(); break;
    case Target::kRegion: lead->mutable_company()->clear_region(); break;
    case Target::kSource: lead->clear_source(); break;
    case Target::kCampaign: lead->clear_campaign(); break;
    case Target::kProduct: lead->clear_product(); break;
    case Target::kCreatedAt: lead->clear_created_at(); break;
    case Target::kAttribute:
      if (lead->has_attributes()) lead->mutable_attributes()->mutable_fields()->erase(key);
      break;
    default:  // never missing: id, consent
      break;
  }
}

}  // namespace

void LeadTable::Fill(int64_t row, bool reuse, v1::Lead* lead) const {
  std::string buffer;
  for (const Field& field : lead_fields_) {
    const Column& column = lead_columns_[field.column];
    if (IsMissing(column, row)) {
      if (reuse) ClearLeadField(field.target, field.key, lead);
      continue;
    }
    auto text = [&](std::string* out) {
      const absl::string_view value = TextAt(column, row);
      out->assign(value.data(), value.size());
    };
    auto number = [&] {
      return column.type == Column::Type::kInt
                 ? static_cast<double>(column.ints[row])
                 : column.doubles[row];
    };
    switch (field.target) {
      case Target::kId: {
        const absl::string_view id = IdAt(column, row, &buffer);
        lead->set_id(id.data(), id.size());
        break;
      }
      case Target::kFirstName:
        text(lead->mutable_contact()->mutable_first_name());
        break;
      case Target::kLastName:
        text(lead->mutable_contact()->mutable_last_name());
        break;
      case Target::kEmail:
        text(lead->mutable_contact()->mutable_email());
        break;
      case Target::kPhone:
        text(lead->mutable_contact()->mutable_phone());
        break;
      case Target::kJobTitle:
        text(lead->mutable_job_title());
        break;
      case Target::kDepartment:
        text(lead->mutable_department());
        break;
      case Target::kSeniority:
        lead->set_seniority(static_cast<v1::Seniority>(seniority_[row]));
        break;
      case Target::kCompanyName:
        text(lead->mutable_company()->mutable_name());
        break;
      case Target::kCompanyDomain:
        text(lead->mutable_company()->mutable_domain());
        break;
      case Target::kIndustry:
        text(lead->mutable_company()->mutable_industry());
        break;
      case Target::kEmployeeCount:
        lead->mutable_company()->set_employee_count(
            column.type == Column::Type::kInt
                ? column.ints[row]
                : static_cast<int64_t>(column.doubles[row]));
        break;
      case Target::kAnnualRevenue:
        lead->mutable_company()->set_annual_revenue(number());
        break;
      case Target::kCountry:
        text(lead->mutable_company()->mutable_country());
        break;
      case Target::kRegion:
        text(lead->mutable_company()->mutable_region());
        break;
      case Target::kSource:
        text(lead->mutable_source());
        break;
      case Target::kCampaign:
        text(lead->mutable_campaign());
        break;
      case Target::kProduct:
        text(lead->mutable_product());
        break;
      case Target::kOptedOut:
        lead->mutable_consent()->set_opted_out(column.bools[row] != 0);
        break;
      case Target::kDoNotEmail:
        lead->mutable_consent()->set_do_not_email(column.bools[row] != 0);
        break;
      case Target::kDoNotCall:
        lead->mutable_consent()->set_do_not_call(column.bools[row] != 0);
        break;
      case Target::kCreatedAt:
        SetTime(column.ints[row], lead->mutable_created_at());
        break;
      case Target::kAttribute:
        SetValue(column, row,
                 &(*lead->mutable_attributes()->mutable_fields())[field.key]);
        break;
      default:
        break;
    }
  }
  // Events kept from the previous lead are overwritten in place: their
  // strings and property maps keep their storage.
  auto* events = lead->mutable_events();
  const int count = static_cast<int>(event_begin_[row + 1] - event_begin_[row]);
  while (events->size() > count) events->RemoveLast();
  while (events->size() < count) events->Add();
  for (int k = 0; k < count; ++k) {
    const int64_t e = event_order_[event_begin_[row] + k];
    v1::Event* event = events->Mutable(k);
    event->set_type(static_cast<v1::EventType>(event_type_[e]));
    if (event_id_column_ < 0) event->set_id(absl::StrCat(e));
    if (event->has_properties() && !event->properties().fields().empty()) {
      // Drop the previous event's properties this one lacks, looking at the
      // few it had rather than hashing every property column's key.
      auto* fields = event->mutable_properties()->mutable_fields();
      for (auto it = fields->begin(); it != fields->end();) {
        bool kept = false;
        for (const Field& field : event_fields_) {
          if (field.target == Target::kProperty && field.key == it->first) {
            kept = !IsMissing(event_columns_[field.column], e);
            break;
          }
        }
        it = kept ? std::next(it) : fields->erase(it);
      }
    }
    for (const Field& field : event_fields_) {
      const Column& column = event_columns_[field.column];
      if (IsMissing(column, e)) {
        if (field.target == Target::kCustomType) event->clear_custom_type();
        continue;
      }
      switch (field.target) {
        case Target::kEventId: {
          const absl::string_view id = IdAt(column, e, &buffer);
          event->set_id(id.data(), id.size());
          break;
        }
        case Target::kOccurredAt:
          SetTime(column.ints[e], event->mutable_occurred_at());
          break;
        case Target::kCustomType: {
          const absl::string_view value = TextAt(column, e);
          event->set_custom_type(value.data(), value.size());
          break;
        }
        case Target::kProperty:
          SetValue(column, e,
                   &(*event->mutable_properties()->mutable_fields())[field.key]);
          break;
        default:
          break;
      }
    }
  }
}

namespace {

int32_t Code(const std::string& value, absl::flat_hash_map<std::string, int32_t>* index,
             std::vector<std::string>* dictionary) {
  if (value.empty()) return -1;
  auto [it, inserted] =
      index->try_emplace(value, static_cast<int32_t>(dictionary->size()));
  if (inserted) dictionary->push_back(value);
  return it->second;
}

// Routing depends on the assignments before it, so it runs in table order
// on one thread, and only for the leads the scores qualified.
absl::Status RouteTable(const LeadEngine& engine, const LeadTable& table,
                        const ScoreTableOptions& options, ScoreColumns* out) {
  const int64_t n = table.size();
  out->team.assign(n, -1);
  out->owner.assign(n, -1);
  absl::flat_hash_map<std::string, int32_t> teams, owners;
  v1::RoutingState routing = options.routing_state;
  Scorer scorer(engine.playbook());
  v1::Lead lead;
  for (int64_t r = 0; r < n; ++r) {
    if (out->stage[r] != v1::LIFECYCLE_STAGE_MQL) continue;
    table.Refill(r, &lead);
    auto lifecycle = engine.Start(options.now);
    if (!lifecycle.ok()) return lifecycle.status();
    LeadState state;
    state.lifecycle = std::move(*lifecycle);
    if (absl::Status st = engine.Refresh(lead, options.now, &scorer, &state, &routing);
        !st.ok()) {
      return st;
    }
    out->team[r] = Code(state.score.routing().team_id(), &teams, &out->teams);
    out->owner[r] = Code(state.score.routing().owner_id(), &owners, &out->owners);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ScoreTable(std::shared_ptr<const CompiledPlaybook> playbook,
                        const LeadTable& table, const ScoreTableOptions& options,
                        ScoreColumns* out) {
  const int64_t n = table.size();
  out->fit.resize(n);
  out->engagement.resize(n);
  out->total.resize(n);
  out->persona.resize(n);
  out->grade.resize(n);
  out->stage.resize(n);
  out->priority.resize(n);
  out->disqualification_reason.resize(n);
  out->hand_raiser.resize(n);
  out->events_counted.resize(n);
  out->duplicate_events.resize(n);
  const bool contributions = options.contributions || options.sentences;

  // Blocks of leads, each with its own explanation storage, concatenated in
  // lead order afterwards so that results do not depend on the thread count.
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::vector<RuleContribution>> block_contributions(
      contributions ? blocks : 0);
  std::vector<std::vector<std::string>> block_sentences(
      options.sentences ? blocks : 0);
  if (contributions) out->contribution_begin.assign(n + 1, 0);

  const int threads = options.threads > 0 ? options.threads : DefaultThreadCount();
  std::vector<std::unique_ptr<Scorer>> scorers;
  for (int t = 0; t < threads; ++t) scorers.push_back(std::make_unique<Scorer>(playbook));
  std::mutex error_mutex;
  int64_t error_row = n;
  absl::Status error;

  ParallelFor(blocks, threads, [&](int thread, int64_t block_begin, int64_t block_end) {
    Scorer& scorer = *scorers[thread];
    LeadScore score;
    v1::ScoreResult result;
    // One Lead per thread, refilled in place: building a lead then
    // allocates little, which would otherwise cost as much as scoring it.
    v1::Lead lead;
    for (int64_t b = block_begin; b < block_end; ++b) {
      for (int64_t r = b * kBlock, end = std::min(n, r + kBlock); r < end; ++r) {
        table.Refill(r, &lead);
        if (absl::Status st = scorer.Score(lead, options.now, &score); !st.ok()) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (r < error_row) {
            error_row = r;
            std::string path;
            if (auto problems = ProblemsFromStatus(st);
                problems && problems->problems_size() > 0) {
              path = problems->problems(0).path();
            }
            std::string where;
            int index = 0;
            if (absl::StartsWith(path, "events[") &&
                absl::SimpleAtoi(path.substr(7, path.find(']') - 7), &index)) {
              where = absl::StrCat(" (events row ", table.EventRow(r, index), ")");
            }
            error = FieldError(
                absl::StrCat("leads[", r, "]", path.empty() ? "" : ".", path),
                absl::StrCat("lead \"", lead.id(), "\"", where, ": ",
                             st.message()));
          }
          return;
        }
        out->fit[r] = score.fit;
        out->engagement[r] = score.engagement;
        out->total[r] = score.total;
        out->persona[r] = score.persona;
        out->grade[r] = score.grade;
        out->stage[r] = score.stage;
        out->priority[r] = score.priority;
        out->disqualification_reason[r] = score.disqualification_reason;
        out->hand_raiser[r] = score.hand_raiser;
        out->events_counted[r] = score.events_counted;
        out->duplicate_events[r] = score.duplicate_events;
        if (!contributions) continue;
        out->contribution_begin[r + 1] = static_cast<int64_t>(score.explanation.size());
        auto& list = block_contributions[b];
        list.insert(list.end(), score.explanation.begin(), score.explanation.end());
        if (options.sentences) {
          scorer.ToProto(lead, score, options.now, &result);
          for (v1::RuleHit& hit : *result.mutable_explanation()) {
            block_sentences[b].push_back(std::move(*hit.mutable_sentence()));
          }
        }
      }
    }
  });
  if (!error.ok()) return error;
  if (options.engine != nullptr) {
    if (absl::Status st = RouteTable(*options.engine, table, options, out); !st.ok()) {
      return st;
    }
  }
  if (!contributions) return absl::OkStatus();
  for (int64_t r = 0; r < n; ++r) {
    out->contribution_begin[r + 1] += out->contribution_begin[r];
  }
  out->contributions.clear();
  out->contributions.reserve(out->contribution_begin[n]);
  for (auto& list : block_contributions) {
    out->contributions.insert(out->contributions.end(), list.begin(), list.end());
  }
  out->sentences.clear();
  if (options.sentences) {
    out->sentences.reserve(out->contribution_begin[n]);
    for (auto& list : block_sentences) {
      for (std::string& s : list) out->sentences.push_back(std::move(s));
    }
  }
  return absl::OkStatus();
}

// --- Leads to columns. ------------------------------------------------------

namespace {

using Table = LeadColumnsWriter::Table;
using TextColumn = LeadColumnsWriter::TextColumn;
using ValueColumn = LeadColumnsWriter::ValueColumn;

class TextEncoder {
 public:
  void set_distinct() { distinct_ = true; }
  void Add(absl::string_view value) {
    if (distinct_) {
      column_.values.emplace_back(value);
      return;
    }
    if (value.empty()) {
      column_.codes.push_back(-1);
      return;
    }
    // Consecutive rows often repeat (an event's lead id): skip the lookup.
    if (!column_.codes.empty() && last_code_ >= 0 &&
        column_.dictionary[last_code_] == value) {
      column_.codes.push_back(last_code_);
      return;
    }
    auto it = index_.find(value);
    if (it == index_.end()) {
      it = index_.emplace(std::string(value),
                          static_cast<int32_t>(column_.dictionary.size()))
               .first;
      column_.dictionary.emplace_back(value);
    }
    last_code_ = it->second;
    column_.codes.push_back(last_code_);
  }
  void Pad(int64_t rows) {
    if (distinct_) {
      column_.values.resize(rows);
    } else {
      column_.codes.resize(rows, -1);
    }
  }
  TextColumn Take() {
    index_.clear();
    last_code_ = -1;
    return std::move(column_);
  }

 private:
  // Hashing millions of distinct ids would only build a useless dictionary.
  bool distinct_ = false;
  TextColumn column_;
  absl::flat_hash_map<std::string, int32_t> index_;
  int32_t last_code_ = -1;
};

struct ValueEncoder {
  ValueColumn column;
  TextEncoder text;
  void Pad(int64_t rows) {
    column.kinds.resize(rows, ValueColumn::kMissing);
    column.numbers.resize(rows, 0);
    column.bools.resize(rows, 0);
    text.Pad(rows);
  }
  void Add(const google::protobuf::Value& value) {
    switch (value.kind_case()) {
      case google::protobuf::Value::kNumberValue:
        column.kinds.push_back(ValueColumn::kNumber);
        column.numbers.push_back(value.number_value());
        column.bools.push_back(0);
        text.Add("");
        return;
      case google::protobuf::Value::kBoolValue:
        column.kinds.push_back(ValueColumn::kBool);
        column.numbers.push_back(0);
        column.bools.push_back(value.bool_value());
        text.Add("");
        return;
      case google::protobuf::Value::kStringValue:
        column.kinds.push_back(ValueColumn::kText);
        text.Add(value.string_value());
        break;
      case google::protobuf::Value::kStructValue:
      case google::protobuf::Value::kListValue: {
        std::string json;
        (void)google::protobuf::util::MessageToJsonString(value, &json);
        column.kinds.push_back(ValueColumn::kText);
        text.Add(json);
        break;
      }
      default:
        column.kinds.push_back(ValueColumn::kMissing);
        text.Add("");
        break;
    }
    column.numbers.push_back(0);
    column.bools.push_back(0);
  }
};

void AddTime(bool has, const google::protobuf::Timestamp& t, Table::Times* out) {
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  const bool fits = has && t.seconds() > -kLimit && t.seconds() < kLimit;
  out->present.push_back(fits);
  out->nanos.push_back(fits ? t.seconds() * 1000000000 + t.nanos() : 0);
}

}  // namespace

class LeadColumnsWriter::Builder {
 public:
  TextEncoder& Text(absl::string_view name) { return Get(&text_, &text_hint, name); }
  TextEncoder& DistinctText(absl::string_view name) {
    TextEncoder& encoder = Get(&text_, &text_hint, name);
    encoder.set_distinct();
    return encoder;
  }
  std::vector<int64_t>& Ints(absl::string_view name) { return Get(&ints_, &ints_hint, name); }
  std::vector<double>& Doubles(absl::string_view name) { return Get(&doubles_, &doubles_hint, name); }
  std::vector<uint8_t>& Bools(absl::string_view name) { return Get(&bools_, &bools_hint, name); }
  Table::Times& Times(absl::string_view name) { return Get(&times_, &times_hint, name); }
  // The column `prefix` + `key` (attributes.<key>, properties.<key>).
  ValueEncoder& Value(absl::string_view prefix, absl::string_view key) {
    auto it = value_index_.find(key);
    if (it == value_index_.end()) {
      it = value_index_.emplace(std::string(key), values_.size()).first;
      values_.emplace_back(absl::StrCat(prefix, key), ValueEncoder());
    }
    ValueEncoder& encoder = values_[it->second].second;
    encoder.Pad(rows_);  // a key first seen now is missing in earlier rows
    return encoder;
  }
  // Ends a row: values absent from it are padded as missing.
  void EndRow() {
    ++rows_;
    for (auto& [name, encoder] : values_) encoder.Pad(rows_);
  }

  Table Take() {
    Table table;
    table.rows = rows_;
    for (auto& [name, encoder] : text_) table.text.emplace_back(name, encoder.Take());
    for (auto& [name, v] : ints_) table.ints.emplace_back(name, std::move(v));
    for (auto& [name, v] : doubles_) table.doubles.emplace_back(name, std::move(v));
    for (auto& [name, v] : bools_) table.bools.emplace_back(name, std::move(v));
    for (auto& [name, v] : times_) table.times.emplace_back(name, std::move(v));
    for (auto& [name, encoder] : values_) {
      encoder.column.text = encoder.text.Take();
      table.values.emplace_back(name, std::move(encoder.column));
    }
    std::sort(table.values.begin(), table.values.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    *this = Builder();
    return table;
  }

 private:
  // Columns in first-use order, which is the fixed order of Add's calls.
  // Add asks for the columns in the same order for every lead, so the
  // column after the last one found is almost always the one asked for.
  template <typename T>
  T& Get(std::vector<std::pair<std::string, T>>* list, size_t* hint_ptr,
         absl::string_view name) {
    size_t& hint = *hint_ptr;
    if (hint < list->size() && (*list)[hint].first == name) return (*list)[hint++].second;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].first == name) {
        hint = i + 1;
        return (*list)[i].second;
      }
    }
    list->emplace_back(std::string(name), T());
    hint = list->size();
    return list->back().second;
  }

  int64_t rows_ = 0;
  std::vector<std::pair<std::string, TextEncoder>> text_;
  std::vector<std::pair<std::string, std::vector<int64_t>>> ints_;
  std::vector<std::pair<std::string, std::vector<double>>> doubles_;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> bools_;
  std::vector<std::pair<std::string, Table::Times>> times_;
  std::vector<std::pair<std::string, ValueEncoder>> values_;
  absl::flat_hash_map<std::string, size_t> value_index_;
  size_t text_hint = 0, ints_hint = 0, doubles_hint = 0, bools_hint = 0,
         times_hint = 0;
};

LeadColumnsWriter::LeadColumnsWriter()
    : leads_(std::make_unique<Builder>()), events_(std::make_unique<Builder>()) {}
LeadColumnsWriter::~LeadColumnsWriter() = default;

void LeadColumnsWriter::Add(const v1::Lead& lead) {
  Builder& b = *leads_;
  b.DistinctText("id").Add(lead.id());
  b.Text("first_name").Add(lead.contact().first_name());
  b.Text("last_name").Add(lead.contact().last_name());
  b.DistinctText("email").Add(lead.contact().email());
  b.DistinctText("phone").Add(lead.contact().phone());
  b.Text("job_title").Add(lead.job_title());
  b.Text("department").Add(lead.department());
  b.Text("seniority").Add(ShortEnumName(v1::Seniority_descriptor(), lead.seniority()));
  b.Text("company_name").Add(lead.company().name());
  b.Text("company_domain").Add(lead.company().domain());
  b.Text("industry").Add(lead.company().industry());
  b.Ints("employee_count").push_back(lead.company().employee_count());
  b.Doubles("annual_revenue").push_back(lead.company().annual_revenue());
  b.Text("country").Add(lead.company().country());
  b.Text("region").Add(lead.company().region());
  b.Text("source").Add(lead.source());
  b.Text("campaign").Add(lead.campaign());
  b.Text("product").Add(lead.product());
  b.Bools("opted_out").push_back(lead.consent().opted_out());
  b.Bools("do_not_email").push_back(lead.consent().do_not_email());
  b.Bools("do_not_call").push_back(lead.consent().do_not_call());
  AddTime(lead.has_created_at(), lead.created_at(), &b.Times("created_at"));
  for (const auto& [key, value] : lead.attributes().fields()) {
    b.Value("attributes.", key).Add(value);
  }
  b.EndRow();

  Builder& e = *events_;
  for (const v1::Event& event : lead.events()) {
    e.Text("lead_id").Add(lead.id());
    e.DistinctText("id").Add(event.id());
    e.Text("type").Add(ShortEnumName(v1::EventType_descriptor(), event.type()));
    AddTime(event.has_occurred_at(), event.occurred_at(), &e.Times("occurred_at"));
    e.Text("custom_type").Add(event.custom_type());
    for (const auto& [key, value] : event.properties().fields()) {
      e.Value("properties.", key).Add(value);
    }
    e.EndRow();
  }
}

LeadColumnsWriter::Table LeadColumnsWriter::TakeLeads() { return leads_->Take(); }
LeadColumnsWriter::Table LeadColumnsWriter::TakeEvents() { return events_->Take(); }

}  // namespace smarketing
