#include "core/checks/playbook_diff.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "core/base/enum_label.h"
#include "core/batch/lead_pipeline.h"
#include "core/scoring/scorer.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "smarketing/v1/calendar.pb.h"
#include "smarketing/v1/routing_state.pb.h"

namespace smarketing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kUnset[] = "(unset)";
// Short lists are shown whole; longer ones by what was added and removed.
constexpr int kWholeListMax = 6;

// "a.b[3].c" -> "a.b[3]" -> "a.b" -> "a" -> "".
std::string ParentPath(absl::string_view path) {
  const size_t cut = path.find_last_of(".[");
  return cut == absl::string_view::npos ? "" : std::string(path.substr(0, cut));
}

// Where `path`, or the closest enclosing path, was written.
SourcePosition Locate(const SourceMap* positions, absl::string_view path) {
  if (positions == nullptr) return SourcePosition();
  for (std::string p(path);; p = ParentPath(p)) {
    if (auto it = positions->find(p); it != positions->end()) return it->second;
    if (p.empty()) return SourcePosition();
  }
}

std::string Join(absl::string_view path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string At(absl::string_view path, int index) {
  return absl::StrCat(path, "[", index, "]");
}

// The field naming each item of a list, or nullptr when its items have no
// key (and are compared by position).
const FieldDescriptor* KeyField(const Descriptor* type) {
  for (const char* name : {"id", "code", "grade"}) {
    const FieldDescriptor* f = type->FindFieldByName(name);
    if (f != nullptr && !f->is_repeated() &&
        f->type() == FieldDescriptor::TYPE_STRING) {
      return f;
    }
  }
  // SLA policies: one per priority.
  const FieldDescriptor* f = type->FindFieldByName("priority");
  if (f != nullptr && !f->is_repeated() &&
      f->type() == FieldDescriptor::TYPE_ENUM) {
    return f;
  }
  return nullptr;
}

bool IsKeyedList(const FieldDescriptor* f) {
  return f->is_repeated() && !f->is_map() &&
         f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         KeyField(f->message_type()) != nullptr;
}

std::string KeyOf(const Message& m, const FieldDescriptor* key) {
  const Reflection* r = m.GetReflection();
  if (key->type() == FieldDescriptor::TYPE_ENUM) {
    return EnumLabel(key->enum_type(), r->GetEnumValue(m, key));
  }
  return r->GetString(m, key);
}

// Messages shown as one value rather than field by field.
bool IsLeafMessage(const Descriptor* type) {
  return type->file()->package() == "google.protobuf" ||
         type == v1::LocalDate::descriptor();
}

// A message field compared field by field.
bool IsSection(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         !IsLeafMessage(f->message_type());
}

std::string FormatDouble(double d) { return absl::StrFormat("%.15g", d); }

std::string FormatMessage(const Message& m) {
  const Descriptor* type = m.GetDescriptor();
  if (type == google::protobuf::Duration::descriptor()) {
    const auto& d = static_cast<const google::protobuf::Duration&>(m);
    if (d.nanos() == 0 && d.seconds() != 0 && d.seconds() % 86400 == 0) {
      return absl::StrCat(d.seconds() / 86400, "d");
    }
    return absl::FormatDuration(absl::Seconds(d.seconds()) +
                                absl::Nanoseconds(d.nanos()));
  }
  if (type == google::protobuf::Timestamp::descriptor()) {
    const auto& t = static_cast<const google::protobuf::Timestamp&>(m);
    return absl::FormatTime(
        absl::RFC3339_full,
        absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
        absl::UTCTimeZone());
  }
  if (type == v1::LocalDate::descriptor()) {
    const auto& d = static_cast<const v1::LocalDate&>(m);
    return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
  }
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  return json;
}

// One value of a field (element `index` of a repeated one).
std::string FormatValue(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, index)
                              : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index)
                              : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, index)
                              : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index)
                              : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return FormatDouble(rep ? r->GetRepeatedDouble(m, f, index)
                              : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return FormatDouble(rep ? r->GetRepeatedFloat(m, f, index)
                              : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumLabel(
          f->enum_type(),
          rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f));
    case FieldDescriptor::CPPTYPE_STRING:
      return absl::StrCat(
          "\"", rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f),
          "\"");
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return FormatMessage(rep ? r->GetRepeatedMessage(m, f, index)
                               : r->GetMessage(m, f));
  }
  return "";
}

// A singular field as written, or "(unset)".
std::string FormatField(const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  if (!r->HasField(m, f)) return kUnset;
  return FormatValue(m, f, -1);
}

std::string FormatList(const std::vector<std::string>& items) {
  if (items.empty()) return kUnset;
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::vector<std::string> ListItems(const Message& m, const FieldDescriptor* f) {
  std::vector<std::string> items;
  const int n = m.GetReflection()->FieldSize(m, f);
  for (int i = 0; i < n; ++i) items.push_back(FormatValue(m, f, i));
  return items;
}

bool SameField(const Message& a, const Message& b, const FieldDescriptor* f) {
  google::protobuf::util::MessageDifferencer differ;
  std::vector<const FieldDescriptor*> fields = {f};
  return differ.CompareWithFields(a, b, fields, fields);
}

class Differ {
 public:
  Differ(const SourceMap* before_positions, const SourceMap* after_positions,
         std::vector<RuleChange>* out)
      : before_positions_(before_positions),
        after_positions_(after_positions),
        out_(out) {}

  void Playbooks(const v1::Playbook& a, const v1::Playbook& b) {
    const Descriptor* type = v1::Playbook::descriptor();
    const Reflection* r = a.GetReflection();
    // Whatever is neither a section nor a keyed list.
    RuleChange rest;
    rest.section = "playbook";
    std::vector<RuleChange> nested;
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* f = type->field(i);
      if (SameField(a, b, f)) continue;
      if (IsKeyedList(f)) {
        RuleChange order;
        order.section = f->name();
        order.path = f->name();
        order.position = Locate(after_positions_, order.path);
        std::vector<RuleChange> items;
        KeyedList(a, b, f, "", f->name(), f->name(), f->name(), &order.fields,
                  &items);
        if (!order.fields.empty()) out_->push_back(std::move(order));
        Append(std::move(items));
      } else if (!f->is_repeated() && IsSection(f)) {
        Item(r->GetMessage(a, f), r->GetMessage(b, f), f->name(), "", f->name(),
             f->name(), f->name(), out_);
      } else {
        Field(a, b, f, "", "", "", "", &rest.fields, &nested);
      }
    }
    if (!rest.fields.empty()) out_->push_back(std::move(rest));
    Append(std::move(nested));
  }

 private:
  void Append(std::vector<RuleChange> changes) {
    for (RuleChange& c : changes) out_->push_back(std::move(c));
  }

  // Compares one item (a section, or an element of a keyed list) labelled
  // `label` ("personas[scaleup]") for the sections nested in it.
  // Its changes go to `out`, before those of the items nested in it.
  void Item(const Message& a, const Message& b, const std::string& section,
            const std::string& id, const std::string& label,
            const std::string& path_a, const std::string& path_b,
            std::vector<RuleChange>* out) {
    RuleChange change;
    change.section = section;
    change.id = id;
    change.path = path_b;
    change.position = Locate(after_positions_, path_b);
    std::vector<RuleChange> nested;
    Fields(a, b, "", label, path_a, path_b, &change.fields, &nested);
    if (!change.fields.empty()) out->push_back(std::move(change));
    for (RuleChange& c : nested) out->push_back(std::move(c));
  }

  void AddField(std::vector<FieldChange>* fields, std::string name,
                std::string before, std::string after,
                const std::string& path_b) {
    FieldChange& change = fields->emplace_back();
    change.field = std::move(name);
    change.before = std::move(before);
    change.after = std::move(after);
    change.position = Locate(after_positions_, path_b);
  }

  // Adds the differences of every field of a and b (one type) under the
  // relative name `rel`; keyed lists become items of their own.
  void Fields(const Message& a, const Message& b, const std::string& rel,
              const std::string& label, const std::string& path_a,
              const std::string& path_b, std::vector<FieldChange>* fields,
              std::vector<RuleChange>* nested) {
    const Descriptor* type = a.GetDescriptor();
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* f = type->field(i);
      if (SameField(a, b, f)) continue;
      Field(a, b, f, rel, label, path_a, path_b, fields, nested);
    }
  }

  void Field(const Message& a, const Message& b, const FieldDescriptor* f,
             const std::string& rel, const std::string& label,
             const std::string& path_a, const std::string& path_b,
             std::vector<FieldChange>* fields,
             std::vector<RuleChange>* nested) {
    const Reflection* r = a.GetReflection();
    const std::string name = Join(rel, f->name());
    const std::string fa = Join(path_a, f->name());
    const std::string fb = Join(path_b, f->name());
    if (IsKeyedList(f)) {
      KeyedList(a, b, f, name, Join(label, name), fa, fb, fields, nested);
    } else if (f->is_repeated()) {
      UnkeyedList(a, b, f, name, label, fa, fb, fields, nested);
    } else if (IsSection(f)) {
      // An unset section compares as an empty one, so that what a new
      // section brings is listed field by field.
      Fields(r->GetMessage(a, f), r->GetMessage(b, f), name, label, fa, fb,
             fields, nested);
    } else {
      AddField(fields, name, FormatField(a, f), FormatField(b, f), fb);
    }
  }

  void UnkeyedList(const Message& a, const Message& b, const FieldDescriptor* f,
                   const std::string& name, const std::string& label,
                   const std::string& path_a, const std::string& path_b,
                   std::vector<FieldChange>* fields,
                   std::vector<RuleChange>* nested) {
    const Reflection* r = a.GetReflection();
    const int na = r->FieldSize(a, f);
    const int nb = r->FieldSize(b, f);
    if (!f->is_map() && IsSection(f) && na == nb) {
      // Same length: compare position by position ("when.all[1].in").
      for (int i = 0; i < na; ++i) {
        Fields(r->GetRepeatedMessage(a, f, i), r->GetRepeatedMessage(b, f, i),
               At(name, i), label, At(path_a, i), At(path_b, i), fields,
               nested);
      }
      return;
    }
    std::vector<std::string> before = ListItems(a, f);
    std::vector<std::string> after = ListItems(b, f);
    if (before.size() <= kWholeListMax && after.size() <= kWholeListMax) {
      AddField(fields, name, FormatList(before), FormatList(after), path_b);
      return;
    }
    // Long lists (holidays, values of an "in"): what left and what came.
    std::vector<std::string> removed, added;
    for (const std::string& item : before) {
      if (std::find(after.begin(), after.end(), item) == after.end())
        removed.push_back(item);
    }
    for (const std::string& item : after) {
      if (std::find(before.begin(), before.end(), item) == before.end())
        added.push_back(item);
    }
    if (removed.empty() && added.empty()) {
      AddField(fields, absl::StrCat(name, " order"), FormatList(before),
               FormatList(after), path_b);
      return;
    }
    AddField(
        fields, name,
        removed.empty() ? "" : absl::StrCat("removed ", FormatList(removed)),
        added.empty() ? "" : absl::StrCat("added ", FormatList(added)), path_b);
  }

  void KeyedList(const Message& a, const Message& b, const FieldDescriptor* f,
                 const std::string& name, const std::string& section,
                 const std::string& path_a, const std::string& path_b,
                 std::vector<FieldChange>* fields,
                 std::vector<RuleChange>* nested) {
    const Reflection* r = a.GetReflection();
    const FieldDescriptor* key = KeyField(f->message_type());
    const int na = r->FieldSize(a, f);
    const int nb = r->FieldSize(b, f);
    // The first item of each key; a Playbook that repeats a key is refused
    // by validation anyway.
    absl::flat_hash_map<std::string, int> in_a, in_b;
    for (int i = 0; i < na; ++i)
      in_a.emplace(KeyOf(r->GetRepeatedMessage(a, f, i), key), i);
    for (int i = 0; i < nb; ++i)
      in_b.emplace(KeyOf(r->GetRepeatedMessage(b, f, i), key), i);
    std::vector<std::string> common_after;
    for (int i = 0; i < nb; ++i) {
      const Message& item = r->GetRepeatedMessage(b, f, i);
      const std::string k = KeyOf(item, key);
      if (in_b.at(k) != i) continue;
      const std::string item_b = At(path_b, i);
      auto it = in_a.find(k);
      if (it == in_a.end()) {
        RuleChange& added = nested->emplace_back();
        added.kind = ChangeKind::kAdded;
        added.section = section;
        added.id = k;
        added.path = item_b;
        added.position = Locate(after_positions_, item_b);
        continue;
      }
      common_after.push_back(k);
      Item(r->GetRepeatedMessage(a, f, it->second), item, section, k,
           absl::StrCat(section, "[", k, "]"), At(path_a, it->second), item_b,
           nested);
    }
    std::vector<std::string> common_before;
    for (int i = 0; i < na; ++i) {
      const std::string k = KeyOf(r->GetRepeatedMessage(a, f, i), key);
      if (in_a.at(k) != i) continue;
      if (in_b.contains(k)) {
        common_before.push_back(k);
        continue;
      }
      RuleChange& removed = nested->emplace_back();
      removed.kind = ChangeKind::kRemoved;
      removed.section = section;
      removed.id = k;
      removed.path = At(path_a, i);
      removed.position = Locate(before_positions_, removed.path);
    }
    if (common_before != common_after) {
      // Where the first matching rule wins, order is the rule.
      AddField(fields, name.empty() ? "order" : absl::StrCat(name, " order"),
               absl::StrJoin(common_before, ", "),
               absl::StrJoin(common_after, ", "), path_b);
    }
  }

  const SourceMap* before_positions_;
  const SourceMap* after_positions_;
  std::vector<RuleChange>* out_;
};

// Per-thread tallies, merged at the end in thread order: integer sums and a
// total order on the kept leads make the result independent of scheduling.
struct Tally {
  std::vector<int64_t> grades;  // [before * n + after]
  std::vector<int64_t> stages;
  std::vector<int64_t> teams;
  int64_t leads = 0;
  int64_t score_changes = 0;
  int64_t changed_leads = 0;
  // Min-heap on (|delta|, -index): the worst kept lead on top.
  struct Kept {
    double magnitude;
    int64_t index;
    LeadDelta delta;
  };
  std::vector<Kept> largest;
  // With list_changed: (index, lead) of every lead that changed.
  std::vector<std::pair<int64_t, LeadDelta>> changed;
};

// True when x ranks before y among the largest changes.
bool RanksBefore(const Tally::Kept& x, const Tally::Kept& y) {
  if (x.magnitude != y.magnitude) return x.magnitude > y.magnitude;
  return x.index < y.index;
}

// Labels of grades: the new Playbook's bands, then those only the old one
// has, then "-" for no grade.
struct GradeLabels {
  std::vector<std::string> labels;
  std::vector<int> before;  // band index -> label index
  std::vector<int> after;
  int none = 0;

  GradeLabels(const v1::Playbook& a, const v1::Playbook& b) {
    absl::flat_hash_map<std::string, int> index;
    auto label = [&](const std::string& grade) {
      auto [it, inserted] =
          index.emplace(grade, static_cast<int>(labels.size()));
      if (inserted) labels.push_back(grade);
      return it->second;
    };
    // Bands are listed best first in either direction in Playbooks; order
    // them by min_fit, best first, for the matrix.
    auto sorted = [](const v1::Playbook& p) {
      std::vector<int> order(p.grade_bands_size());
      for (int i = 0; i < p.grade_bands_size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
        return p.grade_bands(x).min_fit() > p.grade_bands(y).min_fit();
      });
      return order;
    };
    after.resize(b.grade_bands_size());
    before.resize(a.grade_bands_size());
    for (int i : sorted(b)) after[i] = label(b.grade_bands(i).grade());
    for (int i : sorted(a)) before[i] = label(a.grade_bands(i).grade());
    none = label("-");
  }
};

// The lifecycle stages scoring recommends, in funnel order.
constexpr v1::LifecycleStage kStages[] = {
    v1::LIFECYCLE_STAGE_MQL, v1::LIFECYCLE_STAGE_NURTURE,
    v1::LIFECYCLE_STAGE_DISQUALIFIED, v1::LIFECYCLE_STAGE_NEW,
    v1::LIFECYCLE_STAGE_UNSPECIFIED};

int StageIndex(v1::LifecycleStage stage) {
  for (int i = 0; i < static_cast<int>(std::size(kStages)); ++i) {
    if (kStages[i] == stage) return i;
  }
  return static_cast<int>(std::size(kStages)) - 1;
}

// Keeps the rows and columns of labels that occur.
TransitionMatrix Matrix(const std::vector<std::string>& labels,
                        const std::vector<int64_t>& counts) {
  const int n = static_cast<int>(labels.size());
  std::vector<int> used;
  for (int i = 0; i < n; ++i) {
    int64_t sum = 0;
    for (int j = 0; j < n; ++j) sum += counts[i * n + j] + counts[j * n + i];
    if (sum > 0) used.push_back(i);
  }
  TransitionMatrix m;
  for (int i : used) m.labels.push_back(labels[i]);
  for (int i : used) {
    std::vector<int64_t>& row = m.counts.emplace_back();
    for (int j : used) row.push_back(counts[i * n + j]);
  }
  return m;
}

// Labels of teams: the new Playbook's, then those only the old one has,
// then "-" for a lead that is not routed.
struct TeamLabels {
  std::vector<std::string> labels;
  absl::flat_hash_map<std::string, int> index;
  int none = 0;

  TeamLabels(const v1::Playbook& a, const v1::Playbook& b) {
    for (const v1::Playbook* p : {&b, &a}) {
      for (const v1::Team& team : p->routing().teams()) {
        if (index.emplace(team.id(), static_cast<int>(labels.size())).second) {
          labels.push_back(team.id());
        }
      }
    }
    none = static_cast<int>(labels.size());
    labels.push_back("-");
  }
  int Find(const std::string& team_id) const {
    auto it = index.find(team_id);
    return it == index.end() ? none : it->second;
  }
};

bool Routes(const LeadEngine& engine) {
  return !engine.playbook()->playbook().routing().teams().empty();
}

// The team `engine` gives `lead`, which it qualifies with the persona
// `persona_id`, as the service would for a new lead arriving alone at
// `now`; "" when unassigned.
std::string TeamOf(const LeadEngine& engine, const v1::Lead& lead,
                   absl::string_view persona_id, absl::Time now) {
  v1::RoutingState routing;
  return engine.Route(lead, persona_id, now, &routing).team_id();
}

}  // namespace

absl::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded:
      return "added";
    case ChangeKind::kRemoved:
      return "removed";
    case ChangeKind::kChanged:
      return "changed";
  }
  return "changed";
}

std::vector<RuleChange> DiffPlaybookRules(const v1::Playbook& before,
                                          const v1::Playbook& after,
                                          const SourceMap* before_positions,
                                          const SourceMap* after_positions) {
  std::vector<RuleChange> changes;
  Differ(before_positions, after_positions, &changes).Playbooks(before, after);
  return changes;
}

int64_t TransitionMatrix::changed() const {
  int64_t n = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    for (size_t j = 0; j < counts[i].size(); ++j) {
      if (i != j) n += counts[i][j];
    }
  }
  return n;
}

namespace {

// Compares how two Playbooks treat each lead, and tallies the differences:
// grade, stage and team transitions, score changes and the largest of them.
// Measure runs on many threads at once, each with its own Tally.
class ImpactMeter {
 public:
  ImpactMeter(const LeadEngine& before, const LeadEngine& after,
              const LeadImpactOptions& options)
      : before_(before),
        after_(after),
        options_(options),
        top_(static_cast<size_t>(std::max(0, options.top))),
        old_playbook_(before.playbook()->playbook()),
        new_playbook_(after.playbook()->playbook()),
        grades_(old_playbook_, new_playbook_),
        teams_(old_playbook_, new_playbook_),
        routes_before_(Routes(before)),
        routes_after_(Routes(after)),
        // A lead's team depends on the lead, its persona, the routing and
        // the calendars only: when a change leaves those alone, a lead both
        // versions qualify with the same persona is routed once.
        same_routing_(google::protobuf::util::MessageDifferencer::Equals(
                          old_playbook_.routing(), new_playbook_.routing()) &&
                      google::protobuf::util::MessageDifferencer::Equals(
                          old_playbook_.sla().default_calendar(),
                          new_playbook_.sla().default_calendar())) {
    for (v1::LifecycleStage stage : kStages) {
      stage_labels_.push_back(
          stage == v1::LIFECYCLE_STAGE_UNSPECIFIED
              ? "-"
              : EnumLabel(v1::LifecycleStage_descriptor(), stage));
    }
  }

  bool routed() const { return routes_before_ || routes_after_; }

  Tally NewTally() const {
    Tally t;
    t.grades.assign(grade_count() * grade_count(), 0);
    t.stages.assign(stage_count() * stage_count(), 0);
    t.teams.assign(team_count() * team_count(), 0);
    return t;
  }

  // Tallies one lead whose scores by both versions are `sb` and `sa`.
  void Count(const v1::Lead& lead, int64_t line, int64_t index,
             const LeadScore& sb, const LeadScore& sa, Tally* t) const {
    // Only qualified leads are routed.
    std::string team_before, team_after;
    if (routes_before_ && sb.stage == v1::LIFECYCLE_STAGE_MQL) {
      team_before =
          TeamOf(before_, lead, PersonaId(old_playbook_, sb), options_.now);
    }
    if (routes_after_ && sa.stage == v1::LIFECYCLE_STAGE_MQL) {
      team_after =
          same_routing_ && sb.stage == v1::LIFECYCLE_STAGE_MQL &&
                  PersonaId(old_playbook_, sb) == PersonaId(new_playbook_, sa)
              ? team_before
              : TeamOf(after_, lead, PersonaId(new_playbook_, sa),
                       options_.now);
    }
    ++t->leads;
    const int gb = sb.grade >= 0 ? grades_.before[sb.grade] : grades_.none;
    const int ga = sa.grade >= 0 ? grades_.after[sa.grade] : grades_.none;
    const int stb = StageIndex(sb.stage);
    const int sta = StageIndex(sa.stage);
    const int tb = teams_.Find(team_before);
    const int ta = teams_.Find(team_after);
    ++t->grades[gb * grade_count() + ga];
    ++t->stages[stb * stage_count() + sta];
    ++t->teams[tb * team_count() + ta];
    const bool changed = gb != ga || stb != sta || tb != ta;
    if (changed) ++t->changed_leads;
    const double delta = sa.total - sb.total;
    if (delta != 0) ++t->score_changes;
    auto describe = [&] {
      LeadDelta d;
      d.lead_id = lead.id();
      d.line = line;
      d.total_before = sb.total;
      d.total_after = sa.total;
      d.grade_before = grades_.labels[gb];
      d.grade_after = grades_.labels[ga];
      d.stage_before = sb.stage;
      d.stage_after = sa.stage;
      d.team_before = teams_.labels[tb];
      d.team_after = teams_.labels[ta];
      return d;
    };
    if (changed && options_.list_changed)
      t->changed.emplace_back(index, describe());
    // The largest changes of score, and any change of stage or team after
    // them.
    if (top_ == 0 || (delta == 0 && stb == sta && tb == ta)) return;
    Tally::Kept candidate{std::abs(delta), index, {}};
    if (t->largest.size() == top_) {
      if (!RanksBefore(candidate, t->largest.front())) return;
      std::pop_heap(t->largest.begin(), t->largest.end(), RanksBefore);
      t->largest.pop_back();
    }
    candidate.delta = describe();
    t->largest.push_back(std::move(candidate));
    std::push_heap(t->largest.begin(), t->largest.end(), RanksBefore);
  }

  // The threads' tallies added up into *impact.
  void Merge(std::vector<Tally>& tallies, LeadImpact* impact) const {
    std::vector<int64_t> grade_counts(grade_count() * grade_count(), 0);
    std::vector<int64_t> stage_counts(stage_count() * stage_count(), 0);
    std::vector<int64_t> team_counts(team_count() * team_count(), 0);
    std::vector<Tally::Kept> kept;
    std::vector<std::pair<int64_t, LeadDelta>> changed;
    for (Tally& t : tallies) {
      impact->leads += t.leads;
      impact->score_changes += t.score_changes;
      impact->changed_leads += t.changed_leads;
      for (size_t i = 0; i < grade_counts.size(); ++i)
        grade_counts[i] += t.grades[i];
      for (size_t i = 0; i < stage_counts.size(); ++i)
        stage_counts[i] += t.stages[i];
      for (size_t i = 0; i < team_counts.size(); ++i)
        team_counts[i] += t.teams[i];
      for (Tally::Kept& k : t.largest) kept.push_back(std::move(k));
      for (auto& c : t.changed) changed.push_back(std::move(c));
    }
    std::sort(changed.begin(), changed.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& c : changed) impact->changed.push_back(std::move(c.second));
    std::sort(kept.begin(), kept.end(), RanksBefore);
    if (kept.size() > top_) kept.resize(top_);
    for (Tally::Kept& k : kept) impact->largest.push_back(std::move(k.delta));
    impact->routed = routed();
    impact->grades = Matrix(grades_.labels, grade_counts);
    impact->stages = Matrix(stage_labels_, stage_counts);
    if (impact->routed) impact->teams = Matrix(teams_.labels, team_counts);
  }

 private:
  static absl::string_view PersonaId(const v1::Playbook& p,
                                     const LeadScore& score) {
    return score.persona >= 0
               ? absl::string_view(p.personas(score.persona).id())
               : "";
  }
  int grade_count() const { return static_cast<int>(grades_.labels.size()); }
  int stage_count() const { return static_cast<int>(std::size(kStages)); }
  int team_count() const { return static_cast<int>(teams_.labels.size()); }

  const LeadEngine& before_;
  const LeadEngine& after_;
  const LeadImpactOptions& options_;
  const size_t top_;
  const v1::Playbook& old_playbook_;
  const v1::Playbook& new_playbook_;
  const GradeLabels grades_;
  const TeamLabels teams_;
  std::vector<std::string> stage_labels_;
  const bool routes_before_;
  const bool routes_after_;
  const bool same_routing_;
};

}  // namespace

namespace {

// Both Playbooks score every lead of `source` on the lead pipeline; each
// worker thread counts into its own tally.
absl::StatusOr<LeadImpact> MeasureImpact(
    const std::shared_ptr<const LeadEngine>& before,
    const std::shared_ptr<const LeadEngine>& after, LeadSource& source,
    const LeadImpactOptions& options) {
  const ImpactMeter meter(*before, *after, options);
  LeadPipeline pipeline({before->playbook(), after->playbook()}, options.now,
                        options.threads);
  std::vector<Tally> tallies;
  for (int t = 0; t < pipeline.threads(); ++t)
    tallies.push_back(meter.NewTally());
  LeadImpact impact;
  std::vector<absl::Status> statuses[2];  // per slot
  int64_t read = 0;
  absl::Status run = pipeline.Run(
      source,
      [&](int slot, int64_t n) { statuses[slot].assign(n, absl::OkStatus()); },
      [&](const ScoredLead& s) {
        if (s.lead == nullptr) {
          statuses[s.slot][s.i] = s.status;
        } else if (!s.status.ok()) {
          statuses[s.slot][s.i] = absl::InvalidArgumentError(
              absl::StrCat("line ", source.line(s.slot, s.i), ": lead \"",
                           s.lead->id(), "\": ", s.status.message()));
        } else {
          meter.Count(*s.lead, source.line(s.slot, s.i),
                      source.index(s.slot, s.i), s.scores[0], s.scores[1],
                      &tallies[s.thread]);
        }
      },
      [&](int slot, int64_t n) {
        for (const absl::Status& status : statuses[slot]) {
          if (status.ok()) continue;
          ++impact.refused;
          if (static_cast<int>(impact.errors.size()) < options.max_errors) {
            impact.errors.emplace_back(status.message());
          }
        }
        read += n;
        if (options.progress) options.progress(read, source.fraction_done());
        return absl::OkStatus();
      });
  if (!run.ok()) return run;
  meter.Merge(tallies, &impact);
  return impact;
}

}  // namespace

absl::StatusOr<LeadImpact> MeasureLeadImpact(
    std::shared_ptr<const LeadEngine> before,
    std::shared_ptr<const LeadEngine> after, LeadBlockReader* reader,
    const LeadImpactOptions& options) {
  std::unique_ptr<LeadSource> source = FileLeadSource(reader);
  return MeasureImpact(before, after, *source, options);
}

absl::StatusOr<LeadImpact> MeasureTableImpact(
    std::shared_ptr<const LeadEngine> before,
    std::shared_ptr<const LeadEngine> after, const LeadTable& table,
    const LeadImpactOptions& options) {
  std::unique_ptr<LeadSource> source = TableLeadSource(table);
  return MeasureImpact(before, after, *source, options);
}

absl::StatusOr<ChangeLimit> ParseChangeLimit(absl::string_view text) {
  ChangeLimit limit;
  absl::string_view number = text;
  limit.percent = absl::ConsumeSuffix(&number, "%");
  if (!absl::SimpleAtod(number, &limit.value) || !std::isfinite(limit.value) ||
      limit.value < 0 || (limit.percent && limit.value > 100) ||
      (!limit.percent && limit.value != std::floor(limit.value))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a limit: \"", text,
        "\"; expected a share of the leads such as 5% or a number of leads "
        "such as 120"));
  }
  return limit;
}

bool ExceedsLimit(const ChangeLimit& limit, int64_t changed, int64_t total) {
  if (!limit.percent) return static_cast<double>(changed) > limit.value;
  // changed / total > value / 100, without dividing by zero.
  return static_cast<double>(changed) * 100 >
         limit.value * static_cast<double>(total);
}

std::string FormatLimit(const ChangeLimit& limit) {
  return limit.percent ? absl::StrCat(FormatDouble(limit.value), "%")
                       : absl::StrCat(FormatDouble(limit.value), " leads");
}

}  // namespace smarketing
