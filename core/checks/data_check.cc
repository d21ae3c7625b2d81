#include "core/checks/data_check.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/types/span.h"
#include "core/playbook/condition.h"
#include "core/playbook/field.h"

namespace smarketing {

absl::string_view DataProblemKindName(DataProblemKind kind) {
  switch (kind) {
    case DataProblemKind::kUnknownColumn:
      return "unknown_column";
    case DataProblemKind::kUnreachableKey:
      return "unreachable_key";
    case DataProblemKind::kNumberAsText:
      return "number_as_text";
    case DataProblemKind::kBoolAsText:
      return "bool_as_text";
    case DataProblemKind::kTypeMismatch:
      return "type_mismatch";
    case DataProblemKind::kMixedTypes:
      return "mixed_types";
    case DataProblemKind::kNoValues:
      return "no_values";
    case DataProblemKind::kRuleNeverFires:
      return "rule_never_fires";
    case DataProblemKind::kUnseenValue:
      return "unseen_value";
    case DataProblemKind::kUnreadColumn:
      return "unread_column";
  }
  return "unknown";
}

bool IsWarning(DataProblemKind kind) {
  return kind != DataProblemKind::kUnseenValue &&
         kind != DataProblemKind::kUnreadColumn;
}

namespace {

// Text a range or a number comparison would have matched had it been
// written as a number.
bool LooksNumeric(absl::string_view text) {
  double d;
  return absl::SimpleAtod(absl::StripAsciiWhitespace(text), &d) &&
         std::isfinite(d);
}

bool LooksBoolean(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  return absl::EqualsIgnoreCase(text, "true") ||
         absl::EqualsIgnoreCase(text, "false");
}

std::string Quoted(absl::string_view text) {
  constexpr size_t kShown = 40;
  if (text.size() > kShown)
    return absl::StrCat("\"", text.substr(0, kShown), "...\"");
  return absl::StrCat("\"", text, "\"");
}

std::string NumberText(double d) { return absl::StrCat(d); }

std::string Rows(int64_t n, absl::string_view what) {
  return absl::StrCat(n, " ", what, n == 1 ? "" : "s");
}

// How values of one kind were seen, with the first of them.
struct KindCount {
  int64_t rows = 0;
  std::string example;
  void Add(absl::string_view value) {
    if (rows++ == 0) example = std::string(value);
  }
};

// The values one condition reads.
struct Leaf {
  enum class Op { kEquals, kRange, kText, kExists };
  std::string rule;  // the leaf's path, with its operator
  std::string field_path;
  FieldRef field;
  Op op = Op::kExists;
  bool on_event = false;
  bool case_sensitive = false;
  bool text_literal = false;
  bool number_literal = false;
  bool bool_literal = false;
  std::string text_literal_example;  // as written in the Playbook
  // Text literals (lower-cased unless case_sensitive) and whether seen.
  absl::flat_hash_map<std::string, int> texts;
  std::vector<std::string> text_order;
  std::vector<char> seen;

  std::string key;  // scratch
  int64_t missing = 0;
  KindCount numbers, bools, strings, numeric_strings, boolean_strings;

  void Tally(const FieldValue& value) {
    switch (value.kind) {
      case FieldValue::kMissing:
        ++missing;
        return;
      case FieldValue::kNumber:
        numbers.Add(NumberText(value.number));
        return;
      case FieldValue::kBool:
        bools.Add(value.boolean ? "true" : "false");
        return;
      case FieldValue::kString:
      case FieldValue::kEnum:
        strings.Add(value.text);
        // Only what a problem is made of is looked at: parsing each text as
        // a number would cost more than the rest of the check.
        if ((op == Op::kRange || number_literal) && LooksNumeric(value.text)) {
          numeric_strings.Add(value.text);
        }
        if (bool_literal && LooksBoolean(value.text))
          boolean_strings.Add(value.text);
        if (!texts.empty()) {
          key.assign(value.text.data(), value.text.size());
          if (!case_sensitive) absl::AsciiStrToLower(&key);
          auto it = texts.find(key);
          if (it != texts.end()) seen[it->second] = 1;
        }
        return;
    }
  }
  int64_t present() const { return numbers.rows + bools.rows + strings.rows; }
};

// A column's values by type, for columns whose type is known per value
// (attributes, event properties).
struct ValueColumn {
  KindCount numbers, bools, strings, others;
  void Add(const google::protobuf::Value& value) {
    switch (value.kind_case()) {
      case google::protobuf::Value::kNumberValue:
        numbers.Add(NumberText(value.number_value()));
        break;
      case google::protobuf::Value::kBoolValue:
        bools.Add(value.bool_value() ? "true" : "false");
        break;
      case google::protobuf::Value::kStringValue:
        if (!value.string_value().empty()) strings.Add(value.string_value());
        break;
      case google::protobuf::Value::kStructValue:
      case google::protobuf::Value::kListValue:
        others.Add(value.kind_case() == google::protobuf::Value::kStructValue
                       ? "{...}"
                       : "[...]");
        break;
      default:
        break;
    }
  }
  int64_t present() const {
    return numbers.rows + bools.rows + strings.rows + others.rows;
  }
};

// A rule whose firing is counted.
struct RuleCount {
  std::string path;
  std::string id;
  int64_t leads = 0;
  bool on_event = false;
};

// The lead's own columns a rule may read, with the field that reads them.
// Contact details (names, e-mail, phone) are left out of the unread check:
// they are there to reach the person, not to score them.
struct LeadColumn {
  absl::string_view column;
  absl::string_view field;
};

constexpr size_t CountScored() {
  size_t n = 0;
  for (const LeadField& f : kLeadFields) {
    n += f.role == LeadFieldRole::kDescriptive;
  }
  return n;
}

constexpr auto kScoredColumns = [] {
  std::array<LeadColumn, CountScored()> out{};
  size_t i = 0;
  for (const LeadField& f : kLeadFields) {
    if (f.role == LeadFieldRole::kDescriptive) out[i++] = {f.column, f.path};
  }
  return out;
}();

// The data column a field is read from.
std::string ColumnOf(const FieldRef& field, const std::string& field_path) {
  switch (field.id) {
    case FieldId::kAttribute:
      return absl::StrCat("leads.", field_path);
    case FieldId::kEventProperty:
      return absl::StrCat("events.", field_path.substr(6));  // after "event."
    case FieldId::kEventType:
      return "events.type";
    case FieldId::kEventCustomType:
      return "events.custom_type";
    default:
      break;
  }
  if (const LeadField* lead_field = FindLeadField(field.id)) {
    return absl::StrCat("leads.", lead_field->column);
  }
  return absl::StrCat("leads.", field_path);
}

}  // namespace

struct DataChecker::State {
  std::shared_ptr<const CompiledPlaybook> playbook;
  SlotTable attribute_slots;
  SlotTable property_slots;
  std::vector<Leaf> leaves;
  // Persona criteria, fit rules and disqualification rules, in that order,
  // then engagement rules and hand-raiser rules.
  std::vector<RuleCount> rules;
  int first_engagement = 0;
  int first_hand_raiser = 0;
  int64_t leads = 0;
  int64_t events = 0;
  absl::flat_hash_map<std::string, ValueColumn> attributes;
  absl::flat_hash_map<std::string, ValueColumn> properties;
  std::vector<std::string> attribute_order;
  std::vector<std::string> property_order;
  std::vector<int64_t>
      scored_columns;  // leads with a value, per kScoredColumns
  std::vector<FieldRef> scored_fields;
  std::vector<std::pair<std::string, std::string>> unknown_columns;

  // Scratch, kept between leads.
  std::vector<const google::protobuf::Value*> own_values;
  std::vector<const google::protobuf::Value*> compiled_values;
  std::unique_ptr<PropertyCache> own_properties;
  std::unique_ptr<PropertyCache> compiled_properties;
  FlatLead flat;  // the lead being added
  std::vector<char> fired;

  void Walk(const v1::Condition& c, FieldScope scope, const std::string& path);

  // Steps of AddLead.
  void CountColumnValues(const v1::Lead& lead);
  void TallyConditionReads(const v1::Lead& lead);
  void CountMatchingRules(const v1::Lead& lead);
  void CountMatchingEventRules(const v1::Lead& lead, EvalContext* context);

  // Steps of Finish.
  void UnknownColumnProblems(std::vector<DataProblem>* out) const;
  void ConditionProblems(bool every_lead, std::vector<DataProblem>* out) const;
  void RulesNeverFiring(std::vector<DataProblem>* out) const;
  void UnreadColumns(const std::vector<std::string>& attribute_keys,
                     const std::vector<std::string>& property_keys,
                     std::vector<DataProblem>* out) const;
};

void DataChecker::State::Walk(const v1::Condition& c, FieldScope scope,
                              const std::string& path) {
  for (int i = 0; i < c.all_size(); ++i) {
    Walk(c.all(i), scope, absl::StrCat(path, ".all[", i, "]"));
  }
  for (int i = 0; i < c.any_size(); ++i) {
    Walk(c.any(i), scope, absl::StrCat(path, ".any[", i, "]"));
  }
  if (c.has_not_()) Walk(c.not_(), scope, absl::StrCat(path, ".not"));
  if (c.field().empty()) return;
  auto field =
      ResolveField(c.field(), scope, &attribute_slots, &property_slots);
  if (!field.ok()) return;
  switch (field->id) {
    case FieldId::kScoreFit:
    case FieldId::kScoreGrade:
    case FieldId::kScorePersona:
    case FieldId::kScoreEngagement:
    case FieldId::kScoreTotal:
    case FieldId::kScoreHandRaiser:
      return;  // the score, not the data
    default:
      break;
  }
  Leaf leaf;
  leaf.field_path = c.field();
  leaf.field = *field;
  leaf.on_event = field->id == FieldId::kEventType ||
                  field->id == FieldId::kEventCustomType ||
                  field->id == FieldId::kEventProperty;
  leaf.case_sensitive = c.case_sensitive();
  std::vector<const google::protobuf::Value*> literals;
  if (c.has_equals()) {
    leaf.op = Leaf::Op::kEquals;
    leaf.rule = path + ".equals";
    literals.push_back(&c.equals());
  } else if (c.has_in()) {
    leaf.op = Leaf::Op::kEquals;
    leaf.rule = path + ".in";
    for (const auto& v : c.in().values()) literals.push_back(&v);
  } else if (c.has_range()) {
    leaf.op = Leaf::Op::kRange;
    leaf.rule = path + ".range";
  } else if (c.has_contains() || c.has_prefix() || c.has_suffix() ||
             c.has_regex() || c.has_contains_any()) {
    leaf.op = Leaf::Op::kText;
    leaf.rule = absl::StrCat(path, ".",
                             c.has_contains() ? "contains"
                             : c.has_prefix() ? "prefix"
                             : c.has_suffix() ? "suffix"
                             : c.has_regex()  ? "regex"
                                              : "contains_any");
  } else {
    leaf.op = Leaf::Op::kExists;
    leaf.rule = path + ".exists";
  }
  for (const google::protobuf::Value* v : literals) {
    switch (v->kind_case()) {
      case google::protobuf::Value::kStringValue: {
        if (!leaf.text_literal) leaf.text_literal_example = v->string_value();
        leaf.text_literal = true;
        std::string key = leaf.case_sensitive
                              ? v->string_value()
                              : absl::AsciiStrToLower(v->string_value());
        if (leaf.texts.emplace(key, static_cast<int>(leaf.texts.size()))
                .second) {
          leaf.text_order.push_back(v->string_value());
        }
        break;
      }
      case google::protobuf::Value::kNumberValue:
        leaf.number_literal = true;
        break;
      case google::protobuf::Value::kBoolValue:
        leaf.bool_literal = true;
        break;
      default:
        break;
    }
  }
  leaf.seen.assign(leaf.texts.size(), 0);
  leaves.push_back(std::move(leaf));
}

DataChecker::DataChecker(std::shared_ptr<const CompiledPlaybook> playbook)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.playbook = std::move(playbook);
  const v1::Playbook& p = s.playbook->playbook();
  auto when = [&](const v1::Condition& c, bool has, FieldScope scope,
                  const std::string& path) {
    if (has) s.Walk(c, scope, path + ".when");
  };
  for (int i = 0; i < p.personas_size(); ++i) {
    for (int j = 0; j < p.personas(i).criteria_size(); ++j) {
      const auto& c = p.personas(i).criteria(j);
      const std::string path =
          absl::StrCat("personas[", i, "].criteria[", j, "]");
      when(c.when(), c.has_when(), FieldScope::kLead, path);
      s.rules.push_back({path, absl::StrCat(p.personas(i).id(), "/", c.id())});
    }
  }
  for (int i = 0; i < p.fit_rules_size(); ++i) {
    const std::string path = absl::StrCat("fit_rules[", i, "]");
    when(p.fit_rules(i).when(), p.fit_rules(i).has_when(), FieldScope::kLead,
         path);
    s.rules.push_back({path, p.fit_rules(i).id()});
  }
  for (int i = 0; i < p.disqualification_rules_size(); ++i) {
    const auto& r = p.disqualification_rules(i);
    const std::string path = absl::StrCat("disqualification_rules[", i, "]");
    when(r.when(), r.has_when(), FieldScope::kLead, path);
    s.rules.push_back({path, r.id()});
  }
  s.first_engagement = static_cast<int>(s.rules.size());
  for (int i = 0; i < p.engagement().rules_size(); ++i) {
    const auto& r = p.engagement().rules(i);
    const std::string path = absl::StrCat("engagement.rules[", i, "]");
    when(r.when(), r.has_when(), FieldScope::kEvent, path);
    s.rules.push_back({path, r.id(), 0, true});
  }
  s.first_hand_raiser = static_cast<int>(s.rules.size());
  for (int i = 0; i < p.hand_raiser_rules_size(); ++i) {
    const auto& r = p.hand_raiser_rules(i);
    const std::string path = absl::StrCat("hand_raiser_rules[", i, "]");
    when(r.when(), r.has_when(), FieldScope::kEvent, path);
    s.rules.push_back({path, r.id(), 0, true});
  }
  for (int i = 0; i < p.priority().rules_size(); ++i) {
    const auto& r = p.priority().rules(i);
    when(r.when(), r.has_when(), FieldScope::kScore,
         absl::StrCat("priority.rules[", i, "]"));
  }
  when(p.thresholds().mql().when(), p.thresholds().mql().has_when(),
       FieldScope::kLead, "thresholds.mql");
  for (int i = 0; i < p.routing().rules_size(); ++i) {
    const auto& r = p.routing().rules(i);
    when(r.when(), r.has_when(), FieldScope::kLead,
         absl::StrCat("routing.rules[", i, "]"));
  }
  for (const LeadColumn& c : kScoredColumns) {
    SlotTable unused_attributes, unused_properties;
    s.scored_fields.push_back(*ResolveField(
        c.field, FieldScope::kLead, &unused_attributes, &unused_properties));
  }
  s.scored_columns.assign(std::size(kScoredColumns), 0);
  s.own_properties = std::make_unique<PropertyCache>(&s.property_slots);
  s.compiled_properties =
      std::make_unique<PropertyCache>(&s.playbook->property_slots());
  s.fired.assign(s.rules.size(), 0);
}

DataChecker::~DataChecker() = default;

int64_t DataChecker::leads() const { return state_->leads; }

void DataChecker::AddUnknownColumn(absl::string_view table,
                                   absl::string_view column) {
  state_->unknown_columns.emplace_back(std::string(table), std::string(column));
}

void DataChecker::AddLead(const v1::Lead& lead) {
  State& s = *state_;
  ++s.leads;
  s.events += lead.events_size();
  s.CountColumnValues(lead);
  s.flat.Assign(lead);
  s.TallyConditionReads(lead);
  s.CountMatchingRules(lead);
}

void DataChecker::State::CountColumnValues(const v1::Lead& lead) {
  for (const auto& [key, value] : lead.attributes().fields()) {
    auto [it, inserted] = attributes.try_emplace(key);
    if (inserted) attribute_order.push_back(key);
    it->second.Add(value);
  }
  for (const v1::Event& event : lead.events()) {
    for (const auto& [key, value] : event.properties().fields()) {
      auto [it, inserted] = properties.try_emplace(key);
      if (inserted) property_order.push_back(key);
      it->second.Add(value);
    }
  }
}

// What each condition reads.
void DataChecker::State::TallyConditionReads(const v1::Lead& lead) {
  attribute_slots.Resolve(lead.attributes(), &own_values);
  EvalContext own;
  own.lead = &lead;
  own.attributes = &own_values;
  own.properties = own_properties.get();
  for (size_t c = 0; c < std::size(kScoredColumns); ++c) {
    if (ReadField(scored_fields[c], own).kind != FieldValue::kMissing) {
      ++scored_columns[c];
    }
  }
  for (Leaf& leaf : leaves) {
    if (!leaf.on_event) leaf.Tally(ReadField(leaf.field, own));
  }
  for (const FlatEvent& event : flat.events()) {
    own.event = &event;
    own_properties->Reset(&flat, &event);
    for (Leaf& leaf : leaves) {
      if (leaf.on_event) leaf.Tally(ReadField(leaf.field, own));
    }
  }
}

// Which rules fire, with the conditions the scorer evaluates.
void DataChecker::State::CountMatchingRules(const v1::Lead& lead) {
  const CompiledPlaybook& compiled = *playbook;
  compiled.attribute_slots().Resolve(lead.attributes(), &compiled_values);
  EvalContext context;
  context.lead = &lead;
  context.attributes = &compiled_values;
  context.properties = compiled_properties.get();
  int r = 0;
  for (const auto& persona : compiled.personas()) {
    for (const auto& criterion : persona.criteria) {
      if (criterion.when.Matches(context)) ++rules[r].leads;
      ++r;
    }
  }
  for (const auto& rule : compiled.fit_rules()) {
    if (rule.when.Matches(context)) ++rules[r].leads;
    ++r;
  }
  for (const auto& rule : compiled.disqualification_rules()) {
    if (rule.when.Matches(context)) ++rules[r].leads;
    ++r;
  }
  if (lead.events_size() > 0) CountMatchingEventRules(lead, &context);
}

// Engagement and hand-raiser rules count a lead once, however many of its
// events match.
void DataChecker::State::CountMatchingEventRules(const v1::Lead& lead,
                                                 EvalContext* context) {
  const CompiledPlaybook& compiled = *playbook;
  std::fill(fired.begin(), fired.end(), 0);
  const auto& raisers = compiled.hand_raiser_rules();
  for (const FlatEvent& event : flat.events()) {
    if (!v1::EventType_IsValid(event.type) || event.type >= 64) continue;
    context->event = &event;
    compiled_properties->Reset(&flat, &event);
    for (int e : compiled.engagement_rules_for(event.type)) {
      if (!fired[first_engagement + e] &&
          compiled.engagement_rules()[e].when.Matches(*context)) {
        fired[first_engagement + e] = 1;
      }
    }
    const uint64_t type_bit = uint64_t{1} << event.type;
    for (int h = 0; h < static_cast<int>(raisers.size()); ++h) {
      if ((raisers[h].event_type_mask & type_bit) != 0 &&
          !fired[first_hand_raiser + h] && raisers[h].when.Matches(*context)) {
        fired[first_hand_raiser + h] = 1;
      }
    }
  }
  for (size_t i = first_engagement; i < rules.size(); ++i) {
    rules[i].leads += fired[i];
  }
}

namespace {

// Problems of a column of attributes or properties on its own: dots in
// its key, types changing from row to row.
void ColumnProblems(
    absl::string_view table, absl::string_view prefix,
    absl::string_view path_prefix, const std::vector<std::string>& order,
    const absl::flat_hash_map<std::string, ValueColumn>& columns,
    const std::vector<Leaf>& leaves, std::vector<DataProblem>* out) {
  absl::string_view row = table == "leads" ? "lead" : "event";
  for (const std::string& key : order) {
    const ValueColumn& column = columns.at(key);
    const std::string name = absl::StrCat(table, ".", prefix, key);
    if (absl::StrContains(key, '.')) {
      DataProblem p;
      p.kind = DataProblemKind::kUnreachableKey;
      p.column = name;
      p.rows = column.present();
      const std::string path = absl::StrCat(path_prefix, key);
      for (const Leaf& leaf : leaves) {
        if (leaf.field_path == path) {
          p.rule = leaf.rule;
          break;
        }
      }
      p.message = absl::StrCat(
          "the key \"", key, "\" holds dots, and a field path such as ", path,
          " reads the nested keys ", absl::StrReplaceAll(key, {{".", " > "}}),
          ", so no condition can reach it",
          p.rule.empty() ? "" : absl::StrCat(" (", p.rule, " reads that path)"),
          "; rename the column without dots (", table, ".", prefix,
          absl::StrReplaceAll(key, {{".", "_"}}),
          ") and the field of the "
          "conditions that read it");
      out->push_back(std::move(p));
    }
    std::vector<std::pair<std::string, const KindCount*>> kinds;
    if (column.numbers.rows > 0) kinds.emplace_back("numbers", &column.numbers);
    if (column.bools.rows > 0) kinds.emplace_back("booleans", &column.bools);
    if (column.strings.rows > 0) kinds.emplace_back("text", &column.strings);
    if (column.others.rows > 0)
      kinds.emplace_back("lists or objects", &column.others);
    if (kinds.size() < 2) continue;
    std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
      return a.second->rows > b.second->rows;
    });
    DataProblem p;
    p.kind = DataProblemKind::kMixedTypes;
    p.column = name;
    std::vector<std::string> parts;
    for (size_t i = 0; i < kinds.size(); ++i) {
      const std::string& example = kinds[i].second->example;
      parts.push_back(absl::StrCat(
          kinds[i].first, " in ", Rows(kinds[i].second->rows, row), " (",
          kinds[i].first == "text" ? Quoted(example) : example, ")"));
      if (i > 0) p.rows += kinds[i].second->rows;
    }
    p.example = kinds[1].second->example;
    p.message = absl::StrCat(
        "holds ", absl::StrJoin(parts, ", "),
        "; a condition matches values of one type only: give the column one "
        "type");
    out->push_back(std::move(p));
  }
}

// Contact details are never quoted in a report: it may be pasted into a
// ticket or a CI log.
bool Personal(FieldId id) {
  const LeadField* field = FindLeadField(id);
  return field != nullptr && (field->role == LeadFieldRole::kId ||
                              field->role == LeadFieldRole::kContact);
}

// Problems of one condition with the values it read.
class LeafProblemFinder {
 public:
  LeafProblemFinder(const Leaf& leaf, std::vector<DataProblem>* out)
      : leaf_(leaf),
        column_(ColumnOf(leaf.field, leaf.field_path)),
        row_(leaf.on_event ? "event" : "lead"),
        out_(out) {}

  void Find(int64_t leads, int64_t events, bool every_lead) {
    const int64_t rows = leaf_.on_event ? events : leads;
    if (rows == 0) return;
    if (leaf_.present() == 0) {
      if (leaf_.op != Leaf::Op::kExists) NoValues(rows);
      return;
    }
    if (leaf_.field.type == FieldType::kDynamic) {
      if (leaf_.op == Leaf::Op::kRange) RangeProblems();
      if (leaf_.op == Leaf::Op::kEquals) EqualsProblems();
      if (leaf_.op == Leaf::Op::kText) TextOperatorProblem();
    }
    if (every_lead && leaf_.strings.rows > 0 && !leaf_.text_order.empty()) {
      UnseenValues();
    }
  }

 private:
  void Add(DataProblemKind kind, int64_t n, const std::string& example,
           std::string message) {
    DataProblem p;
    p.kind = kind;
    p.column = column_;
    p.rule = leaf_.rule;
    p.rows = n;
    p.example = example;
    p.message = std::move(message);
    out_->push_back(std::move(p));
  }

  void NoValues(int64_t rows) {
    Add(DataProblemKind::kNoValues, 0, "",
        absl::StrCat("no ", row_, " has a value at ", leaf_.field_path, " (",
                     Rows(rows, row_),
                     " read): the condition can never hold; "
                     "is the column missing, misspelt or named with dots?"));
  }

  // Values of `type` written as text, which the operator never matches.
  void WrittenAsText(DataProblemKind kind, const KindCount& as_text,
                     absl::string_view written, absl::string_view never,
                     absl::string_view type) {
    Add(kind, as_text.rows, as_text.example,
        absl::StrCat(Rows(as_text.rows, row_), " hold ", written,
                     " written as text (", Quoted(as_text.example), "), ",
                     never, ": convert the column to ", type));
  }

  // The operator compares values of one type and the column holds none:
  // text when it has any, else only `other` (named `other_name`).
  void NoneOfType(absl::string_view compares, const KindCount& other,
                  absl::string_view other_name, absl::string_view type,
                  bool count_rows) {
    const bool text = leaf_.strings.rows > 0;
    const KindCount& held = text ? leaf_.strings : other;
    Add(DataProblemKind::kTypeMismatch, held.rows, held.example,
        absl::StrCat(
            compares, ", but ", leaf_.field_path, " holds ",
            text ? "text" : other_name, " (", Quoted(held.example), ")",
            count_rows ? absl::StrCat(" in ", Rows(held.rows, row_)) : "",
            " and no ", type));
  }

  void RangeProblems() {
    if (leaf_.numeric_strings.rows > 0) {
      WrittenAsText(DataProblemKind::kNumberAsText, leaf_.numeric_strings,
                    "numbers", "which a range never matches", "numbers");
    } else if (leaf_.numbers.rows == 0) {
      NoneOfType("a range compares numbers", leaf_.bools, "booleans", "number",
                 true);
    }
  }

  void EqualsProblems() {
    if (leaf_.number_literal && leaf_.numeric_strings.rows > 0) {
      WrittenAsText(DataProblemKind::kNumberAsText, leaf_.numeric_strings,
                    "numbers", "never equal to a number", "numbers");
    } else if (leaf_.number_literal && leaf_.numbers.rows == 0) {
      NoneOfType("the condition compares numbers", leaf_.bools, "booleans",
                 "number", false);
    }
    if (leaf_.text_literal && leaf_.strings.rows == 0) TextLiteralProblem();
    if (leaf_.bool_literal && leaf_.boolean_strings.rows > 0) {
      WrittenAsText(DataProblemKind::kBoolAsText, leaf_.boolean_strings,
                    "true/false", "never equal to a boolean", "booleans");
    } else if (leaf_.bool_literal && leaf_.bools.rows == 0) {
      NoneOfType("the condition compares booleans", leaf_.numbers, "numbers",
                 "boolean", false);
    }
  }

  // Equals compares text and the column holds none; the fix says how to
  // write the value when it is a number or a boolean in quotes.
  void TextLiteralProblem() {
    const bool numbers = leaf_.numbers.rows >= leaf_.bools.rows;
    const KindCount& other = numbers ? leaf_.numbers : leaf_.bools;
    const std::string& literal = leaf_.text_literal_example;
    std::string fix =
        numbers && LooksNumeric(literal)
            ? absl::StrCat("write the value without quotes (",
                           absl::StripAsciiWhitespace(literal), ")")
        : !numbers && LooksBoolean(literal)
            ? absl::StrCat(
                  "write the value without quotes (",
                  absl::AsciiStrToLower(absl::StripAsciiWhitespace(literal)),
                  ")")
            : "compare with a value of the column's type";
    Add(DataProblemKind::kTypeMismatch, other.rows, other.example,
        absl::StrCat("the condition compares text (", Quoted(literal),
                     "), but ", leaf_.field_path, " holds ",
                     numbers ? "numbers" : "booleans", " (",
                     Quoted(other.example), ") in ", Rows(other.rows, row_),
                     " and no text: ", fix));
  }

  void TextOperatorProblem() {
    if (leaf_.strings.rows > 0) return;
    const KindCount& other =
        leaf_.numbers.rows > 0 ? leaf_.numbers : leaf_.bools;
    Add(DataProblemKind::kTypeMismatch, other.rows, other.example,
        absl::StrCat("a text operator never matches ",
                     leaf_.numbers.rows > 0 ? "numbers" : "booleans", ", and ",
                     leaf_.field_path, " holds only those (",
                     Quoted(other.example), "): use equals, in or range"));
  }

  // Compared texts no row holds.
  void UnseenValues() {
    std::vector<std::string> unseen;
    for (const std::string& text : leaf_.text_order) {
      const std::string key =
          leaf_.case_sensitive ? text : absl::AsciiStrToLower(text);
      if (!leaf_.seen[leaf_.texts.at(key)]) unseen.push_back(Quoted(text));
    }
    if (unseen.empty()) return;
    constexpr size_t kShown = 10;
    const size_t total = unseen.size();
    if (total > kShown) unseen.resize(kShown);
    Add(DataProblemKind::kUnseenValue, 0, "",
        absl::StrCat(
            total == 1 ? "the value " : "the values ",
            absl::StrJoin(unseen, ", "),
            total > kShown ? absl::StrCat(" and ", total - kShown, " more")
                           : "",
            total == 1 ? " is" : " are", " never found in ", leaf_.field_path,
            " (", Rows(leaf_.strings.rows, row_), " with text",
            Personal(leaf_.field.id)
                ? ""
                : absl::StrCat("; e.g. ", Quoted(leaf_.strings.example)),
            ")", leaf_.case_sensitive ? "" : ", ASCII case ignored"));
  }

  const Leaf& leaf_;
  const std::string column_;
  const absl::string_view row_;
  std::vector<DataProblem>* out_;
};

}  // namespace

std::vector<DataProblem> DataChecker::Finish(bool every_lead) const {
  const State& s = *state_;
  std::vector<DataProblem> out;
  s.UnknownColumnProblems(&out);
  // By name: the order keys were first seen follows protobuf's map order,
  // which differs from one reader to the next.
  std::vector<std::string> attribute_keys = s.attribute_order;
  std::vector<std::string> property_keys = s.property_order;
  std::sort(attribute_keys.begin(), attribute_keys.end());
  std::sort(property_keys.begin(), property_keys.end());
  ColumnProblems("leads", "attributes.", "attributes.", attribute_keys,
                 s.attributes, s.leaves, &out);
  ColumnProblems("events", "properties.", "event.properties.", property_keys,
                 s.properties, s.leaves, &out);
  s.ConditionProblems(every_lead, &out);
  if (every_lead && s.leads > 0) s.RulesNeverFiring(&out);
  s.UnreadColumns(attribute_keys, property_keys, &out);
  return out;
}

void DataChecker::State::UnknownColumnProblems(
    std::vector<DataProblem>* out) const {
  for (const auto& [table, column] : unknown_columns) {
    DataProblem p;
    p.kind = DataProblemKind::kUnknownColumn;
    p.column = absl::StrCat(table, ".", column);
    const bool leads = table == "leads";
    p.message = absl::StrCat(
        "unknown column, never read; ",
        leads ? "lead columns are " : "event columns are ",
        leads ? KnownLeadColumnNames() : KnownEventColumnNames(),
        absl::StrContains(column, '.')
            ? ""
            : absl::StrCat("; to keep it, name it ",
                           leads ? "attributes." : "properties.", column));
    out->push_back(std::move(p));
  }
}

void DataChecker::State::ConditionProblems(
    bool every_lead, std::vector<DataProblem>* out) const {
  absl::flat_hash_set<std::string> no_values;
  for (const Leaf& leaf : leaves) {
    std::vector<DataProblem> found;
    LeafProblemFinder(leaf, &found).Find(leads, events, every_lead);
    for (DataProblem& p : found) {
      // A field no lead has is said once, at its first reader.
      if (p.kind == DataProblemKind::kNoValues &&
          !no_values.insert(p.column).second) {
        continue;
      }
      out->push_back(std::move(p));
    }
  }
}

void DataChecker::State::RulesNeverFiring(std::vector<DataProblem>* out) const {
  for (const RuleCount& rule : rules) {
    if (rule.leads > 0) continue;
    DataProblem p;
    p.kind = DataProblemKind::kRuleNeverFires;
    p.rule = rule.path;
    p.message = absl::StrCat(
        "\"", rule.id, "\" matched none of the ", Rows(leads, "lead"),
        rule.on_event ? absl::StrCat(" (", Rows(events, "event"), ")") : "",
        ": its points are never given; check its field names, types and "
        "values against the data");
    out->push_back(std::move(p));
  }
}

// Columns no condition reads.
void DataChecker::State::UnreadColumns(
    const std::vector<std::string>& attribute_keys,
    const std::vector<std::string>& property_keys,
    std::vector<DataProblem>* out) const {
  absl::flat_hash_set<std::string> read_attributes, read_properties;
  absl::flat_hash_set<int> read_fields;
  for (const Leaf& leaf : leaves) {
    if (leaf.field.id == FieldId::kAttribute) {
      read_attributes.insert(attribute_slots.path(leaf.field.slot)[0]);
    } else if (leaf.field.id == FieldId::kEventProperty) {
      read_properties.insert(property_slots.path(leaf.field.slot)[0]);
    } else {
      read_fields.insert(static_cast<int>(leaf.field.id));
    }
  }
  auto unread = [&](std::string column, int64_t rows, absl::string_view row) {
    DataProblem p;
    p.kind = DataProblemKind::kUnreadColumn;
    p.column = std::move(column);
    p.rows = rows;
    p.message = absl::StrCat("has values in ", Rows(rows, row),
                             ", but no condition of the Playbook reads it");
    out->push_back(std::move(p));
  };
  for (size_t c = 0; c < std::size(kScoredColumns); ++c) {
    if (scored_columns[c] > 0 &&
        !read_fields.contains(static_cast<int>(scored_fields[c].id))) {
      unread(absl::StrCat("leads.", kScoredColumns[c].column),
             scored_columns[c], "lead");
    }
  }
  for (const std::string& key : attribute_keys) {
    if (absl::StrContains(key, '.') || read_attributes.contains(key)) continue;
    unread(absl::StrCat("leads.attributes.", key), attributes.at(key).present(),
           "lead");
  }
  for (const std::string& key : property_keys) {
    if (absl::StrContains(key, '.') || read_properties.contains(key)) continue;
    unread(absl::StrCat("events.properties.", key),
           properties.at(key).present(), "event");
  }
}

namespace {

// Rows of columns copied out, so that a sample of a large table is checked
// without building the whole table (which costs more than the check).
class ColumnSample {
 public:
  Column Take(const Column& column, const std::vector<int64_t>& rows) {
    Column out;
    out.name = column.name;
    out.type = column.type;
    out.ticks_per_second = column.ticks_per_second;
    if (!column.present.empty()) out.present = Gather(column.present, rows);
    switch (column.type) {
      case Column::Type::kText:
        if (column.categorical()) {
          auto& codes = int32s_.emplace_back();
          codes.reserve(rows.size());
          for (int64_t r : rows) codes.push_back(column.code(r));
          out.codes = absl::MakeConstSpan(codes);
          out.dictionary = column.dictionary;
        } else {
          out.text = Gather(column.text, rows);
        }
        break;
      case Column::Type::kInt:
      case Column::Type::kTime:
        out.ints = Gather(column.ints, rows);
        break;
      case Column::Type::kDouble:
        out.doubles = Gather(column.doubles, rows);
        break;
      case Column::Type::kBool:
        out.bools = Gather(column.bools, rows);
        break;
      case Column::Type::kValue:
        out.kinds = Gather(column.kinds, rows);
        out.doubles = Gather(column.doubles, rows);
        out.bools = Gather(column.bools, rows);
        out.text = Gather(column.text, rows);
        break;
    }
    return out;
  }

 private:
  template <typename T>
  absl::Span<const T> Gather(absl::Span<const T> values,
                             const std::vector<int64_t>& rows) {
    auto& kept = Storage<T>().emplace_back();
    kept.reserve(rows.size());
    for (int64_t r : rows) kept.push_back(values[r]);
    return absl::MakeConstSpan(kept);
  }
  template <typename T>
  std::deque<std::vector<T>>& Storage() {
    if constexpr (std::is_same_v<T, absl::string_view>)
      return views_;
    else if constexpr (std::is_same_v<T, int64_t>)
      return int64s_;
    else if constexpr (std::is_same_v<T, double>)
      return doubles_;
    else
      return bytes_;
  }

  std::deque<std::vector<absl::string_view>> views_;
  std::deque<std::vector<int64_t>> int64s_;
  std::deque<std::vector<int32_t>> int32s_;
  std::deque<std::vector<double>> doubles_;
  std::deque<std::vector<uint8_t>> bytes_;
};

// The id of row `r` of an id column (text or integer): its text, or for
// integers their decimal digits in `buffer`.
absl::string_view IdAt(const Column& column, int64_t r, std::string* buffer) {
  if (column.type == Column::Type::kInt) {
    *buffer = absl::StrCat(column.ints[r]);
    return *buffer;
  }
  if (column.type != Column::Type::kText || column.missing(r)) return "";
  if (column.categorical()) {
    const int32_t code = column.code(r);
    return code < 0 || code >= static_cast<int64_t>(column.dictionary.size())
               ? absl::string_view()
               : column.dictionary[code];
  }
  return column.text[r];
}

const Column* Named(const std::vector<Column>& columns,
                    absl::string_view name) {
  for (const Column& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// How many of `n` leads a check of at most `max_leads` (<= 0: all) reads.
int64_t SampleSize(int64_t n, int64_t max_leads) {
  return max_leads > 0 && n > max_leads ? max_leads : n;
}

// The row of the i-th of `count` leads read from `n`: evenly spread, so
// that a table sorted by date or source is sampled over its whole length.
int64_t SampledRow(int64_t i, int64_t n, int64_t count) {
  return count >= n ? i
                    : static_cast<int64_t>(static_cast<double>(i) * n / count);
}

// The problems of at most `max_leads` leads of `table`, with the unknown
// columns first.
std::vector<DataProblem> CheckRows(
    std::shared_ptr<const CompiledPlaybook> playbook, const LeadTable& table,
    int64_t max_leads,
    absl::Span<const std::pair<std::string, std::string>> unknown,
    bool every_lead) {
  DataChecker checker(std::move(playbook));
  for (const auto& [t, c] : unknown) checker.AddUnknownColumn(t, c);
  TableLeadBuilder builder(table);
  const int64_t n = table.size();
  const int64_t count = SampleSize(n, max_leads);
  for (int64_t i = 0; i < count; ++i) {
    checker.AddLead(builder.Build(SampledRow(i, n, count)));
  }
  return checker.Finish(every_lead);
}

}  // namespace

absl::StatusOr<std::vector<DataProblem>> CheckLeadColumns(
    std::shared_ptr<const CompiledPlaybook> playbook, std::vector<Column> leads,
    std::vector<Column> events, const DataCheckOptions& options) {
  std::vector<std::pair<std::string, std::string>> unknown;
  auto known = [&](absl::string_view table, std::vector<Column>* columns,
                   bool (*is_known)(absl::string_view)) {
    std::vector<Column> kept;
    for (Column& column : *columns) {
      if (is_known(column.name)) {
        kept.push_back(std::move(column));
      } else {
        unknown.emplace_back(std::string(table), column.name);
      }
    }
    *columns = std::move(kept);
  };
  known("leads", &leads, &IsLeadColumn);
  known("events", &events, &IsEventColumn);
  const int64_t n = leads.empty() ? 0 : leads[0].size();
  const bool sampled = options.max_leads > 0 && n > options.max_leads;
  ColumnSample sample;
  const Column* ids = Named(leads, "id");
  const Column* lead_ids = Named(events, "lead_id");
  if (sampled && ids != nullptr &&
      std::all_of(leads.begin(), leads.end(),
                  [&](const Column& c) { return c.size() == n; }) &&
      (events.empty() || lead_ids != nullptr)) {
    // Only the sample's leads and their events are laid out as a table:
    // grouping every event by lead would cost more than the check.
    std::vector<int64_t> rows(options.max_leads);
    absl::flat_hash_set<std::string> taken;
    std::string buffer;
    for (int64_t i = 0; i < options.max_leads; ++i) {
      rows[i] = SampledRow(i, n, options.max_leads);
      taken.insert(std::string(IdAt(*ids, rows[i], &buffer)));
    }
    std::vector<int64_t> event_rows;
    if (!events.empty()) {
      for (int64_t e = 0; e < lead_ids->size(); ++e) {
        if (taken.contains(IdAt(*lead_ids, e, &buffer)))
          event_rows.push_back(e);
      }
    }
    for (Column& column : leads) column = sample.Take(column, rows);
    const int64_t event_count = events.empty() ? 0 : lead_ids->size();
    for (Column& column : events) {
      if (column.size() == event_count)
        column = sample.Take(column, event_rows);
    }
  }
  auto table = LeadTable::Create(std::move(leads), std::move(events));
  if (!table.ok()) return table.status();
  return CheckRows(std::move(playbook), **table, /*max_leads=*/0, unknown,
                   !sampled);
}

std::vector<DataProblem> CheckLeadTable(
    std::shared_ptr<const CompiledPlaybook> playbook, const LeadTable& table,
    const DataCheckOptions& options) {
  return CheckRows(std::move(playbook), table, options.max_leads, {},
                   SampleSize(table.size(), options.max_leads) == table.size());
}

}  // namespace smarketing
