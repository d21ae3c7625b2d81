#include "core/batch/lead_columns_writer.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/lead_fields.h"
#include "core/playbook/field.h"
#include "google/protobuf/util/json_util.h"

namespace smarketing {

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
      it = index_
               .emplace(std::string(value),
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
        column.kinds.push_back(ValueColumn::kJson);
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

void AddTime(bool has, const google::protobuf::Timestamp& t,
             Table::Times* out) {
  constexpr int64_t kNanoLimit =
      std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  constexpr int64_t kMicroLimit =
      std::numeric_limits<int64_t>::max() / 1000000 - 1;
  const bool in_nanos = t.seconds() > -kNanoLimit && t.seconds() < kNanoLimit;
  if (has && !in_nanos && out->ticks_per_second == 1000000000) {
    // Floored: a time before 1970 keeps its microsecond.
    for (int64_t& tick : out->ticks) tick = tick / 1000 - (tick % 1000 < 0);
    out->ticks_per_second = 1000000;
  }
  const bool fits =
      has && (out->ticks_per_second == 1000000
                  ? t.seconds() > -kMicroLimit && t.seconds() < kMicroLimit
                  : in_nanos);
  out->present.push_back(fits);
  if (!fits) {
    out->ticks.push_back(0);
  } else if (out->ticks_per_second == 1000000) {
    out->ticks.push_back(t.seconds() * 1000000 + t.nanos() / 1000);
  } else {
    out->ticks.push_back(t.seconds() * 1000000000 + t.nanos());
  }
}

}  // namespace

class LeadColumnsWriter::Builder {
 public:
  TextEncoder& Text(absl::string_view name) {
    return Get(&text_, &text_hint, name);
  }
  TextEncoder& DistinctText(absl::string_view name) {
    TextEncoder& encoder = Get(&text_, &text_hint, name);
    encoder.set_distinct();
    return encoder;
  }
  std::vector<int64_t>& Ints(absl::string_view name) {
    return Get(&ints_, &ints_hint, name);
  }
  std::vector<double>& Doubles(absl::string_view name) {
    return Get(&doubles_, &doubles_hint, name);
  }
  std::vector<uint8_t>& Bools(absl::string_view name) {
    return Get(&bools_, &bools_hint, name);
  }
  Table::Times& Times(absl::string_view name) {
    return Get(&times_, &times_hint, name);
  }
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
    for (auto& [name, encoder] : text_)
      table.text.emplace_back(name, encoder.Take());
    for (auto& [name, v] : ints_) table.ints.emplace_back(name, std::move(v));
    for (auto& [name, v] : doubles_)
      table.doubles.emplace_back(name, std::move(v));
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
    if (hint < list->size() && (*list)[hint].first == name)
      return (*list)[hint++].second;
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
    : leads_(std::make_unique<Builder>()),
      events_(std::make_unique<Builder>()) {}
LeadColumnsWriter::~LeadColumnsWriter() = default;

void LeadColumnsWriter::Add(const v1::Lead& lead) {
  Builder& b = *leads_;
  for (const LeadField& field : kLeadFields) {
    if (field.derived) continue;
    switch (field.type) {
      case LeadFieldType::kText:
        (field.unique ? b.DistinctText(field.column) : b.Text(field.column))
            .Add(LeadText(lead, field.id));
        break;
      case LeadFieldType::kSeniority:
        b.Text(field.column)
            .Add(ShortEnumName(v1::Seniority_descriptor(),
                               static_cast<int>(LeadInteger(lead, field.id))));
        break;
      case LeadFieldType::kWholeNumber:
        b.Ints(field.column).push_back(LeadInteger(lead, field.id));
        break;
      case LeadFieldType::kNumber:
        b.Doubles(field.column).push_back(LeadNumber(lead, field.id));
        break;
      case LeadFieldType::kBool:
        b.Bools(field.column).push_back(LeadBool(lead, field.id));
        break;
      case LeadFieldType::kTime: {
        const google::protobuf::Timestamp* time = LeadTime(lead, field.id);
        AddTime(time != nullptr,
                time != nullptr
                    ? *time
                    : google::protobuf::Timestamp::default_instance(),
                &b.Times(field.column));
        break;
      }
    }
  }
  for (const auto& [key, value] : lead.attributes().fields()) {
    b.Value("attributes.", key).Add(value);
  }
  b.EndRow();

  Builder& e = *events_;
  for (const v1::Event& event : lead.events()) {
    e.Text("lead_id").Add(lead.id());
    e.DistinctText("id").Add(event.id());
    e.Text("type").Add(ShortEnumName(v1::EventType_descriptor(), event.type()));
    AddTime(event.has_occurred_at(), event.occurred_at(),
            &e.Times("occurred_at"));
    e.Text("custom_type").Add(event.custom_type());
    for (const auto& [key, value] : event.properties().fields()) {
      e.Value("properties.", key).Add(value);
    }
    e.EndRow();
  }
}

LeadColumnsWriter::Table LeadColumnsWriter::TakeLeads() {
  return leads_->Take();
}
LeadColumnsWriter::Table LeadColumnsWriter::TakeEvents() {
  return events_->Take();
}

}  // namespace smarketing
