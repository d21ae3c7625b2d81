#include "core/playbook/compiled_playbook.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/base/utf8.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/struct.pb.h"

namespace smarketing {

constexpr size_t kMaxRuleIdBytes = 128;

// Rule and persona ids share one namespace so that an explanation's rule id
// names exactly one thing.
class IdRegistry {
 public:
  explicit IdRegistry(ProblemList* problems) : problems_(problems) {}
  void Add(absl::string_view id, const std::string& path) {
    if (id.empty()) {
      problems_->Add(path, "an id is required");
      return;
    }
    if (id.size() > kMaxRuleIdBytes) {
      problems_->Add(path, absl::StrCat("ids are at most ", kMaxRuleIdBytes,
                                        " bytes long"));
      return;
    }
    auto [it, inserted] = seen_.emplace(std::string(id), path);
    if (!inserted) {
      problems_->Add(path, absl::StrCat("duplicate id \"", id,
                                        "\", already used at ", it->second));
    }
  }

 private:
  ProblemList* problems_;
  absl::flat_hash_map<std::string, std::string> seen_;
};

namespace {

std::string At(absl::string_view base, int index) {
  return absl::StrCat(base, "[", index, "]");
}

// Seconds of a Duration, or -1 when it is malformed.
double Seconds(const google::protobuf::Duration& d) {
  if (d.nanos() <= -1000000000 || d.nanos() >= 1000000000 ||
      (d.seconds() > 0 && d.nanos() < 0) ||
      (d.seconds() < 0 && d.nanos() > 0)) {
    return -1;
  }
  return static_cast<double>(d.seconds()) + d.nanos() * 1e-9;
}

bool IsRate(v1::ObjectiveMetric metric) {
  return metric == v1::OBJECTIVE_METRIC_MEETING_RATE ||
         metric == v1::OBJECTIVE_METRIC_SIGNING_RATE;
}

void CheckPoints(double points, double limit, const std::string& path,
                 ProblemList* problems) {
  if (!std::isfinite(points) || points == 0 || std::abs(points) > limit) {
    problems->Add(path, absl::StrCat("points must be non-zero and within [-",
                                     limit, ", ", limit, "]; found ", points));
  }
}

void CheckDate(const v1::LocalDate& date, const std::string& path,
               ProblemList* problems) {
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (date.year() < 1970 || date.year() > 9999 || day.year() != date.year() ||
      day.month() != date.month() || day.day() != date.day()) {
    problems->Add(path, absl::StrCat("not a valid date: ", date.year(), "-",
                                     date.month(), "-", date.day()));
  }
}

// Adds a problem for each list of `message` (at `path`) longer than its
// limit, and for each text that is not UTF-8 (protobuf's text and binary
// parsers only log those). Lists within a list that is too long are not
// looked at: the problem is the same, and the point is to stop early.
void CheckShape(const google::protobuf::Message& message,
                const std::string& path, ProblemList* problems) {
  const google::protobuf::Reflection* r = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  const bool literal =
      message.GetDescriptor() == google::protobuf::ListValue::descriptor();
  for (const google::protobuf::FieldDescriptor* field : fields) {
    const std::string field_path =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    const bool is_message =
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE;
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      std::string scratch;
      const int count = field->is_repeated() ? r->FieldSize(message, field) : 1;
      for (int i = 0; i < count && i <= kMaxPlaybookListItems; ++i) {
        const std::string& text =
            field->is_repeated()
                ? r->GetRepeatedStringReference(message, field, i, &scratch)
                : r->GetStringReference(message, field, &scratch);
        const size_t bad = FindInvalidUtf8(text);
        if (bad != absl::string_view::npos) {
          problems->Add(
              field->is_repeated() ? At(field_path, i) : field_path,
              absl::StrCat("not valid UTF-8 (byte 0x",
                           absl::Hex(static_cast<unsigned char>(text[bad]),
                                     absl::kZeroPad2),
                           " at offset ", bad, ")"));
        }
      }
    }
    if (!field->is_repeated()) {
      if (is_message) {
        CheckShape(r->GetMessage(message, field), field_path, problems);
      }
      continue;
    }
    const int size = r->FieldSize(message, field);
    const int limit =
        literal ? kMaxPlaybookLiteralItems : kMaxPlaybookListItems;
    if (size > limit) {
      problems->Add(
          field_path,
          absl::StrCat("at most ", limit, " items are accepted; found ", size));
      continue;
    }
    if (!is_message) continue;
    for (int i = 0; i < size; ++i) {
      CheckShape(r->GetRepeatedMessage(message, field, i),
                 field->is_map() ? field_path : At(field_path, i), problems);
    }
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const CompiledPlaybook>>
CompiledPlaybook::Compile(const v1::Playbook& playbook,
                          const SourceMap* positions, absl::string_view file) {
  {
    // Before anything is copied or compiled: the limits bound that work.
    ProblemList misshapen(positions, file);
    CheckShape(playbook, "", &misshapen);
    if (!misshapen.empty()) {
      return misshapen.ToStatus(absl::StrCat(
          "the Playbook", file.empty() ? "" : absl::StrCat(" ", file),
          " is not valid"));
    }
  }
  std::shared_ptr<CompiledPlaybook> compiled(new CompiledPlaybook());
  compiled->playbook_ = playbook;
  compiled->version_label_ = absl::StrCat(playbook.metadata().name(), "@",
                                          playbook.metadata().version());
  ProblemList problems(positions, file);
  compiled->CheckMetadataAndObjectives(&problems);
  compiled->CompileScoring(&problems);
  if (!problems.empty()) {
    // Checks run concern by concern; list the problems in document order
    // (validation.proto) so that people fix a file top-down. Without
    // positions every line is 0 and the order of the checks is kept.
    std::vector<v1::ValidationProblem> sorted(
        problems.problems().problems().begin(),
        problems.problems().problems().end());
    std::stable_sort(
        sorted.begin(), sorted.end(),
        [](const v1::ValidationProblem& a, const v1::ValidationProblem& b) {
          return std::make_pair(a.line(), a.column()) <
                 std::make_pair(b.line(), b.column());
        });
    ProblemList ordered(nullptr, file);
    for (const v1::ValidationProblem& p : sorted) {
      ordered.AddAt(p.path(), {p.line(), p.column()}, p.message());
    }
    return ordered.ToStatus(absl::StrCat(
        "the Playbook", file.empty() ? "" : absl::StrCat(" ", file),
        " is not valid"));
  }
  return std::shared_ptr<const CompiledPlaybook>(std::move(compiled));
}

v1::ValidationProblems ValidatePlaybook(const v1::Playbook& playbook,
                                        const SourceMap* positions,
                                        absl::string_view file) {
  auto compiled = CompiledPlaybook::Compile(playbook, positions, file);
  if (compiled.ok()) return {};
  if (auto problems = ProblemsFromStatus(compiled.status())) return *problems;
  v1::ValidationProblems out;
  out.add_problems()->set_message(std::string(compiled.status().message()));
  return out;
}

void CompiledPlaybook::CheckMetadataAndObjectives(ProblemList* problems) const {
  const v1::PlaybookMetadata& metadata = playbook_.metadata();
  if (metadata.name().empty())
    problems->Add("metadata.name", "a name is required");
  if (metadata.version().empty()) {
    problems->Add("metadata.version", "a version is required");
  }
  absl::TimeZone reporting_zone;
  if (!metadata.reporting_time_zone().empty() &&
      !absl::LoadTimeZone(metadata.reporting_time_zone(), &reporting_zone)) {
    problems->Add("metadata.reporting_time_zone",
                  absl::StrCat("unknown IANA time zone \"",
                               metadata.reporting_time_zone(), "\""));
  }
  absl::flat_hash_set<std::string> team_ids;
  for (const v1::Team& team : playbook_.routing().teams()) {
    team_ids.insert(team.id());
  }
  absl::flat_hash_set<std::string> objective_ids;
  for (int i = 0; i < playbook_.objectives_size(); ++i) {
    const v1::Objective& o = playbook_.objectives(i);
    const std::string path = At("objectives", i);
    if (o.id().empty()) {
      problems->Add(path + ".id", "an id is required");
    } else if (!objective_ids.insert(o.id()).second) {
      problems->Add(path + ".id",
                    absl::StrCat("duplicate id \"", o.id(), "\""));
    }
    if (!o.team_id().empty() && !team_ids.contains(o.team_id())) {
      problems->Add(path + ".team_id",
                    absl::StrCat("unknown team \"", o.team_id(), "\""));
    }
    CheckDate(o.period_start(), path + ".period_start", problems);
    CheckDate(o.period_end(), path + ".period_end", problems);
    const auto start =
        absl::CivilDay(o.period_start().year(), o.period_start().month(),
                       o.period_start().day());
    const auto end = absl::CivilDay(
        o.period_end().year(), o.period_end().month(), o.period_end().day());
    if (end < start) {
      problems->Add(path + ".period_end", "the period ends before it starts");
    }
    if (o.metric() == v1::OBJECTIVE_METRIC_UNSPECIFIED ||
        !v1::ObjectiveMetric_IsValid(o.metric())) {
      problems->Add(path + ".metric", "a known metric is required");
    }
    if (!std::isfinite(o.target()) || o.target() < 0 ||
        (IsRate(o.metric()) && o.target() > 1)) {
      problems->Add(path + ".target",
                    IsRate(o.metric())
                        ? "a rate target must be within [0, 1]"
                        : "the target must be a finite number >= 0");
    }
  }
}

void CompiledPlaybook::CompileScoring(ProblemList* problems) {
  // Rule and persona ids are checked across all sections.
  IdRegistry ids(problems);
  CompileFitModel(problems);
  CompilePersonas(ids, problems);
  CompileFitRules(ids, problems);
  GroupSearchedFitConditions();
  CompileGradeBands(problems);
  CompileEngagement(ids, problems);
  CompileDisqualificationRules(ids, problems);
  CompileHandRaiserRules(ids, problems);
  CompileThresholds(problems);
  CompileDisqualifiedAndOptOut(problems);
  CompilePriority(ids, problems);
  CheckAccountScoring(problems);
}

void CompiledPlaybook::CompileWhen(const v1::Condition& when, bool has_when,
                                   bool required, FieldScope scope,
                                   const std::string& path,
                                   CompiledCondition* out,
                                   ProblemList* problems) {
  if (!has_when) {
    if (required) problems->Add(path, "a condition is required");
    return;
  }
  out->Compile(when, scope, path, problems, &attribute_slots_,
               &property_slots_);
}

std::string CompiledPlaybook::FitRange() const {
  return absl::StrCat("[", min_fit_, ", ", max_fit_, "]");
}

// The fit model: its bounds frame every other fit setting.
void CompiledPlaybook::CompileFitModel(ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  const v1::FitModel& fit_model = p.fit();
  fit_base_ = fit_model.base_points();
  if (!std::isfinite(fit_base_) ||
      std::abs(fit_base_) > ScoringLimits::kFitRulePoints) {
    problems->Add(
        "fit.base_points",
        absl::StrCat("must be within [-", ScoringLimits::kFitRulePoints, ", ",
                     ScoringLimits::kFitRulePoints, "]; found ", fit_base_));
  }
  if (fit_model.has_min()) min_fit_ = fit_model.min();
  if (fit_model.has_max()) max_fit_ = fit_model.max();
  if (!std::isfinite(min_fit_) || !std::isfinite(max_fit_) ||
      min_fit_ >= max_fit_) {
    problems->Add("fit", absl::StrCat("needs finite bounds with min below max; "
                                      "found [",
                                      min_fit_, ", ", max_fit_, "]"));
    min_fit_ = 0;
    max_fit_ = ScoringLimits::kMaxFit;
  }
}

// Personas: optional.
void CompiledPlaybook::CompilePersonas(IdRegistry& ids, ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  for (int i = 0; i < p.personas_size(); ++i) {
    const v1::Persona& persona = p.personas(i);
    const std::string path = At("personas", i);
    ids.Add(persona.id(), path + ".id");
    Persona& compiled = personas_.emplace_back();
    if (persona.criteria_size() == 0) {
      problems->Add(path + ".criteria", "at least one criterion is required");
    }
    for (int j = 0; j < persona.criteria_size(); ++j) {
      const v1::PersonaCriterion& c = persona.criteria(j);
      const std::string cpath = At(path + ".criteria", j);
      ids.Add(c.id(), cpath + ".id");
      if (!std::isfinite(c.weight()) || c.weight() <= 0 ||
          c.weight() > ScoringLimits::kCriterionWeight) {
        problems->Add(
            cpath + ".weight",
            absl::StrCat("weight must be in (0, 100]; found ", c.weight()));
      }
      Criterion& criterion = compiled.criteria.emplace_back();
      criterion.weight = c.weight();
      compiled.total_weight += c.weight();
      CompileWhen(c.when(), c.has_when(), true, FieldScope::kLead,
                  cpath + ".when", &criterion.when, problems);
    }
  }
}

// Fit rules.
void CompiledPlaybook::CompileFitRules(IdRegistry& ids, ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  for (int i = 0; i < p.fit_rules_size(); ++i) {
    const v1::FitRule& r = p.fit_rules(i);
    const std::string path = At("fit_rules", i);
    ids.Add(r.id(), path + ".id");
    CheckPoints(r.points(), ScoringLimits::kFitRulePoints, path + ".points",
                problems);
    FitRule& rule = fit_rules_.emplace_back();
    rule.points = r.points();
    CompileWhen(r.when(), r.has_when(), true, FieldScope::kLead, path + ".when",
                &rule.when, problems);
  }
}

void CompiledPlaybook::GroupSearchedFitConditions() {
  // The scorer keys decisions by group in a byte, and keeps a group's as
  // one bit per condition.
  constexpr size_t kMaxGroups = 255;
  constexpr size_t kMaxMembers = 64;
  auto add = [&](const CompiledCondition& when, FitGroup::Member member,
                 int* group, int* bit) {
    FieldRef field;
    if (when.empty() || !when.SoleSearchedField(&field)) return;
    size_t g = 0;
    while (g < fit_groups_.size() &&
           (fit_groups_[g].field.id != field.id ||
            fit_groups_[g].field.slot != field.slot)) {
      ++g;
    }
    if (g == fit_groups_.size()) {
      if (g == kMaxGroups) return;
      fit_groups_.emplace_back().field = field;
    }
    std::vector<FitGroup::Member>& members = fit_groups_[g].members;
    if (members.size() == kMaxMembers) return;
    *group = static_cast<int>(g);
    *bit = static_cast<int>(members.size());
    members.push_back(member);
  };
  for (int p = 0; p < static_cast<int>(personas_.size()); ++p) {
    std::vector<Criterion>& criteria = personas_[p].criteria;
    for (int c = 0; c < static_cast<int>(criteria.size()); ++c) {
      add(criteria[c].when, {p, c}, &criteria[c].group, &criteria[c].bit);
    }
  }
  for (int r = 0; r < static_cast<int>(fit_rules_.size()); ++r) {
    add(fit_rules_[r].when, {-1, r}, &fit_rules_[r].group, &fit_rules_[r].bit);
  }
}

// Grade bands: sorted by min, they must tile the fit range.
void CompiledPlaybook::CompileGradeBands(ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  absl::flat_hash_set<std::string> grades;
  if (p.grade_bands_size() == 0) {
    problems->Add("grade_bands", "at least one grade band is required");
  }
  for (int i = 0; i < p.grade_bands_size(); ++i) {
    const v1::GradeBand& b = p.grade_bands(i);
    const std::string path = At("grade_bands", i);
    if (b.grade().empty()) {
      problems->Add(path + ".grade", "a grade label is required");
    } else if (!grades.insert(b.grade()).second) {
      problems->Add(path + ".grade",
                    absl::StrCat("duplicate grade \"", b.grade(), "\""));
    }
    if (b.min_fit() < min_fit_ || b.max_fit() > max_fit_ ||
        b.min_fit() >= b.max_fit()) {
      problems->Add(
          path, absl::StrCat("a band needs ", min_fit_,
                             " <= min_fit < max_fit <= ", max_fit_, "; found [",
                             b.min_fit(), ", ", b.max_fit(), ")"));
      continue;
    }
    grade_bands_.push_back({b.min_fit(), b.max_fit(), i});
  }
  std::sort(grade_bands_.begin(), grade_bands_.end(),
            [](const GradeBand& a, const GradeBand& b) {
              return a.min_fit < b.min_fit;
            });
  if (!grade_bands_.empty() &&
      static_cast<int>(grade_bands_.size()) == p.grade_bands_size()) {
    double covered = min_fit_;
    for (const GradeBand& band : grade_bands_) {
      const std::string path = At("grade_bands", band.index);
      if (band.min_fit > covered) {
        problems->Add(path + ".min_fit",
                      absl::StrCat("gap: no grade covers fit scores from ",
                                   covered, " to ", band.min_fit));
      } else if (band.min_fit < covered) {
        problems->Add(path + ".min_fit",
                      absl::StrCat("overlap: fit scores from ", band.min_fit,
                                   " to ", covered, " already have a grade"));
      }
      covered = std::max(covered, band.max_fit);
    }
    if (covered < max_fit_) {
      problems->Add("grade_bands",
                    absl::StrCat("gap: no grade covers fit scores from ",
                                 covered, " to ", max_fit_));
    }
  }
}

// Account scoring: weights, caps and a half-life that make a finite score,
// and grade bands that tile its range.
void CompiledPlaybook::CheckAccountScoring(ProblemList* problems) const {
  if (!playbook_.has_account_scoring()) return;
  const v1::AccountScoring& a = playbook_.account_scoring();
  const std::string base = "account_scoring";
  if (!v1::AccountFitAggregation_IsValid(a.fit_aggregation())) {
    problems->Add(base + ".fit_aggregation",
                  absl::StrCat("not a fit aggregation: ", a.fit_aggregation()));
  }
  auto weight = [&](bool has, double value, const char* name) {
    if (has && (!std::isfinite(value) || value < 0 || value > 10)) {
      problems->Add(absl::StrCat(base, ".", name),
                    absl::StrCat("must be within [0, 10]; found ", value));
      return 0.0;
    }
    return has ? value : 1.0;
  };
  const double fit_weight =
      weight(a.has_fit_weight(), a.fit_weight(), "fit_weight");
  const double engagement_weight = weight(
      a.has_engagement_weight(), a.engagement_weight(), "engagement_weight");
  if (a.has_max_contact_engagement() &&
      (!std::isfinite(a.max_contact_engagement()) ||
       a.max_contact_engagement() <= 0)) {
    problems->Add(base + ".max_contact_engagement",
                  absl::StrCat("must be a finite number > 0; found ",
                               a.max_contact_engagement()));
  }
  if (!std::isfinite(a.max_engagement()) || a.max_engagement() <= 0 ||
      a.max_engagement() > 1e9) {
    problems->Add(
        base + ".max_engagement",
        absl::StrCat("must be within (0, 1e9]; found ", a.max_engagement()));
  }
  if (a.has_half_life()) {
    if (Seconds(a.half_life()) <= 0) {
      problems->Add(base + ".half_life", "must be greater than zero");
    }
  } else if (Seconds(playbook_.engagement().half_life()) <= 0) {
    problems->Add(base + ".half_life",
                  "required: engagement.half_life is not set");
  }
  // The score's range, which the bands must tile.
  const double low = fit_weight * min_fit_;
  const double high = fit_weight * max_fit_ +
                      engagement_weight * std::max(0.0, a.max_engagement());
  struct Band {
    double min;
    double max;
    int index;
  };
  std::vector<Band> bands;
  absl::flat_hash_set<std::string> grades;
  for (int i = 0; i < a.grade_bands_size(); ++i) {
    const v1::AccountGradeBand& b = a.grade_bands(i);
    const std::string path = At(base + ".grade_bands", i);
    if (b.grade().empty()) {
      problems->Add(path + ".grade", "a grade label is required");
    } else if (!grades.insert(b.grade()).second) {
      problems->Add(path + ".grade",
                    absl::StrCat("duplicate grade \"", b.grade(), "\""));
    }
    if (!(b.min_score() >= low && b.max_score() <= high &&
          b.min_score() < b.max_score())) {
      problems->Add(
          path, absl::StrCat("a band needs ", low,
                             " <= min_score < max_score <= ", high, "; found [",
                             b.min_score(), ", ", b.max_score(), ")"));
      continue;
    }
    bands.push_back({b.min_score(), b.max_score(), i});
  }
  if (bands.empty() || static_cast<int>(bands.size()) != a.grade_bands_size()) {
    return;
  }
  std::sort(bands.begin(), bands.end(),
            [](const Band& x, const Band& y) { return x.min < y.min; });
  double covered = low;
  for (const Band& band : bands) {
    const std::string path = At(base + ".grade_bands", band.index);
    if (band.min > covered) {
      problems->Add(path + ".min_score",
                    absl::StrCat("gap: no grade covers account scores from ",
                                 covered, " to ", band.min));
    } else if (band.min < covered) {
      problems->Add(path + ".min_score",
                    absl::StrCat("overlap: account scores from ", band.min,
                                 " to ", covered, " already have a grade"));
    }
    covered = std::max(covered, band.max);
  }
  if (covered < high) {
    problems->Add(base + ".grade_bands",
                  absl::StrCat("gap: no grade covers account scores from ",
                               covered, " to ", high));
  }
}

// Engagement.
void CompiledPlaybook::CompileEngagement(IdRegistry& ids,
                                         ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  const v1::EngagementModel& engagement = p.engagement();
  const double half_life = Seconds(engagement.half_life());
  // Only rules without a half-life of their own need the model's.
  const bool needs_half_life =
      engagement.has_half_life() ||
      std::any_of(
          engagement.rules().begin(), engagement.rules().end(),
          [](const v1::EngagementRule& r) { return !r.has_half_life(); });
  if (needs_half_life && half_life <= 0) {
    problems->Add("engagement.half_life",
                  "a half-life greater than zero is required");
  }
  if (engagement.max_score() != 0) max_engagement_ = engagement.max_score();
  if (!std::isfinite(engagement.max_score()) || engagement.max_score() < 0) {
    problems->Add("engagement.max_score", "must be a finite number > 0");
  }
  if (engagement.has_min_score()) {
    min_engagement_ = engagement.min_score();
    if (!std::isfinite(min_engagement_) || min_engagement_ >= max_engagement_) {
      problems->Add(
          "engagement.min_score",
          absl::StrCat("must be a finite number below max_score (",
                       max_engagement_, "); found ", min_engagement_));
      min_engagement_ = 0;
    }
  }
  engagement_by_type_.resize(v1::EventType_ARRAYSIZE);
  for (int i = 0; i < engagement.rules_size(); ++i) {
    const v1::EngagementRule& r = engagement.rules(i);
    const std::string path = At("engagement.rules", i);
    ids.Add(r.id(), path + ".id");
    CheckPoints(r.points(), ScoringLimits::kEngagementRulePoints,
                path + ".points", problems);
    EngagementRule& rule = engagement_rules_.emplace_back();
    rule.points = r.points();
    rule.max_points = r.max_points();
    if (!std::isfinite(r.max_points()) || r.max_points() < 0) {
      problems->Add(path + ".max_points", "must be >= 0 (0 for no cap)");
    }
    if (r.event_types_size() == 0) {
      problems->Add(path + ".event_types",
                    "at least one event type is required");
    }
    for (int j = 0; j < r.event_types_size(); ++j) {
      const int type = r.event_types(j);
      if (type == v1::EVENT_TYPE_UNSPECIFIED || !v1::EventType_IsValid(type)) {
        problems->Add(At(path + ".event_types", j), "unknown event type");
        continue;
      }
      std::vector<int>& rules = engagement_by_type_[type];
      if (rules.empty() || rules.back() != i) rules.push_back(i);
    }
    double rule_half_life = half_life;
    if (r.has_half_life()) {
      rule_half_life = Seconds(r.half_life());
      if (rule_half_life <= 0) {
        problems->Add(path + ".half_life", "must be greater than zero");
      }
    }
    rule.inverse_half_life_seconds =
        rule_half_life > 0 ? 1 / rule_half_life : 0;
    if (r.has_window_cap()) {
      const double window = Seconds(r.window_cap().window());
      if (window < 1 || window != std::floor(window)) {
        problems->Add(path + ".window_cap.window",
                      "must be a whole number of seconds, at least 1s");
      }
      if (r.window_cap().max_events() <= 0) {
        problems->Add(path + ".window_cap.max_events", "must be at least 1");
      }
      rule.window_seconds = static_cast<int64_t>(window);
      rule.window_max_events = r.window_cap().max_events();
      has_window_caps_ = true;
    }
    CompileWhen(r.when(), r.has_when(), false, FieldScope::kEvent,
                path + ".when", &rule.when, problems);
  }
  // The scorer keeps a type's decisions as one bit per rule.
  engagement_deciding_slot_.assign(v1::EventType_ARRAYSIZE, -1);
  for (int type = 0; type < v1::EventType_ARRAYSIZE; ++type) {
    const std::vector<int>& rules = engagement_by_type_[type];
    if (rules.size() > 64) continue;
    int slot = -1;
    for (int r : rules) {
      const CompiledCondition& when = engagement_rules_[r].when;
      if (when.empty()) continue;
      const int s = when.SolePropertySlot();
      if (s < 0 || (slot >= 0 && s != slot)) {
        slot = -1;
        break;
      }
      slot = s;
    }
    engagement_deciding_slot_[type] = slot;
  }
}

// Disqualification.
void CompiledPlaybook::CompileDisqualificationRules(IdRegistry& ids,
                                                    ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  for (int i = 0; i < p.disqualification_rules_size(); ++i) {
    const v1::DisqualificationRule& r = p.disqualification_rules(i);
    const std::string path = At("disqualification_rules", i);
    ids.Add(r.id(), path + ".id");
    if (r.reason() == v1::DISQUALIFICATION_REASON_UNSPECIFIED ||
        !v1::DisqualificationReason_IsValid(r.reason())) {
      problems->Add(path + ".reason", "a known reason is required");
    }
    CompileWhen(r.when(), r.has_when(), true, FieldScope::kLead, path + ".when",
                &disqualification_rules_.emplace_back().when, problems);
  }
}

// Hand-raisers.
void CompiledPlaybook::CompileHandRaiserRules(IdRegistry& ids,
                                              ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  for (int i = 0; i < p.hand_raiser_rules_size(); ++i) {
    const v1::HandRaiserRule& r = p.hand_raiser_rules(i);
    const std::string path = At("hand_raiser_rules", i);
    ids.Add(r.id(), path + ".id");
    HandRaiserRule& rule = hand_raiser_rules_.emplace_back();
    if (r.event_types_size() == 0) {
      problems->Add(path + ".event_types",
                    "at least one event type is required");
    }
    for (int j = 0; j < r.event_types_size(); ++j) {
      const int type = r.event_types(j);
      if (type == v1::EVENT_TYPE_UNSPECIFIED || !v1::EventType_IsValid(type)) {
        problems->Add(At(path + ".event_types", j), "unknown event type");
        continue;
      }
      rule.event_type_mask |= uint64_t{1} << type;
    }
    hand_raiser_event_types_ |= rule.event_type_mask;
    if (!std::isfinite(r.min_fit()) || r.min_fit() < min_fit_ ||
        r.min_fit() > max_fit_) {
      problems->Add(path + ".min_fit", "must be within " + FitRange());
    }
    rule.min_fit = r.min_fit();
    if (r.has_lookback()) {
      const double lookback = Seconds(r.lookback());
      if (lookback <= 0) {
        problems->Add(path + ".lookback", "must be greater than zero when set");
      }
      rule.lookback_seconds = static_cast<int64_t>(lookback);
    } else {
      rule.lookback_seconds = std::numeric_limits<int64_t>::max();
    }
    if (!v1::Priority_IsValid(r.priority())) {
      problems->Add(path + ".priority", "unknown priority");
    }
    rule.priority = r.priority();
    CompileWhen(r.when(), r.has_when(), false, FieldScope::kEvent,
                path + ".when", &rule.when, problems);
  }
}

// Thresholds: MQL first, SQL above it.
void CompiledPlaybook::CompileThresholds(ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  if (!p.has_thresholds() || !p.thresholds().has_mql()) {
    problems->Add("thresholds.mql", "the MQL threshold is required");
  }
  auto check_threshold = [&](const v1::StageThreshold& t,
                             const std::string& path) {
    const double lowest_total = std::min(0.0, min_fit_ + min_engagement_);
    if (!std::isfinite(t.min_total()) || t.min_total() < lowest_total) {
      problems->Add(path + ".min_total",
                    absl::StrCat("must be a finite number >= ", lowest_total));
    }
    if (!std::isfinite(t.min_fit()) || t.min_fit() < min_fit_ ||
        t.min_fit() > max_fit_) {
      problems->Add(path + ".min_fit", "must be within " + FitRange());
    }
    if (!std::isfinite(t.min_engagement()) ||
        t.min_engagement() < std::min(0.0, min_engagement_) ||
        t.min_engagement() > max_engagement_) {
      problems->Add(
          path + ".min_engagement",
          absl::StrCat("must be within [", std::min(0.0, min_engagement_), ", ",
                       max_engagement_, "] (engagement.max_score)"));
    }
    if (t.min_total() > max_fit_ + max_engagement_) {
      problems->Add(path + ".min_total",
                    absl::StrCat("no lead can reach it: the highest total is ",
                                 max_fit_ + max_engagement_));
    }
  };
  const v1::StageThreshold& mql = p.thresholds().mql();
  check_threshold(mql, "thresholds.mql");
  CompileWhen(mql.when(), mql.has_when(), false, FieldScope::kLead,
              "thresholds.mql.when", &mql_when_, problems);
  if (p.thresholds().has_sql()) {
    const v1::StageThreshold& sql = p.thresholds().sql();
    check_threshold(sql, "thresholds.sql");
    if (sql.has_when()) {
      problems->Add("thresholds.sql.when",
                    "only the MQL threshold takes a condition");
    }
    if (sql.min_total() < mql.min_total()) {
      problems->Add(
          "thresholds.sql.min_total",
          absl::StrCat("thresholds out of order: SQL (", sql.min_total(),
                       ") is below MQL (", mql.min_total(), ")"));
    }
    if (sql.min_fit() < mql.min_fit()) {
      problems->Add(
          "thresholds.sql.min_fit",
          absl::StrCat("thresholds out of order: SQL (", sql.min_fit(),
                       ") is below MQL (", mql.min_fit(), ")"));
    }
  }
}

// Disqualified leads and opt-out.
void CompiledPlaybook::CompileDisqualifiedAndOptOut(ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  zero_disqualified_scores_ = p.disqualified().zero_scores();
  if (!p.disqualified().grade().empty()) {
    for (int i = 0; i < p.grade_bands_size(); ++i) {
      if (p.grade_bands(i).grade() == p.disqualified().grade()) {
        disqualified_grade_ = i;
      }
    }
    if (disqualified_grade_ < 0) {
      problems->Add("disqualified.grade",
                    absl::StrCat("\"", p.disqualified().grade(),
                                 "\" is not one of grade_bands"));
    }
  }
  if (!v1::OptOutPolicy_IsValid(p.opt_out_policy())) {
    problems->Add("opt_out_policy", "unknown opt-out policy");
  }
  opt_out_disqualifies_ = p.opt_out_policy() != v1::OPT_OUT_POLICY_NEVER_MQL;
}

// Priority.
void CompiledPlaybook::CompilePriority(IdRegistry& ids, ProblemList* problems) {
  const v1::Playbook& p = playbook_;
  const v1::PriorityPolicy& priority = p.priority();
  if (!v1::Priority_IsValid(priority.default_priority())) {
    problems->Add("priority.default_priority", "unknown priority");
  } else if (priority.default_priority() != v1::PRIORITY_UNSPECIFIED) {
    default_priority_ = priority.default_priority();
  }
  for (int i = 0; i < priority.rules_size(); ++i) {
    const v1::PriorityRule& r = priority.rules(i);
    const std::string path = At("priority.rules", i);
    ids.Add(r.id(), path + ".id");
    if (r.priority() == v1::PRIORITY_UNSPECIFIED ||
        !v1::Priority_IsValid(r.priority())) {
      problems->Add(path + ".priority", "a known priority is required");
    }
    CompileWhen(r.when(), r.has_when(), true, FieldScope::kScore,
                path + ".when", &priority_rules_.emplace_back().when, problems);
  }
}

}  // namespace smarketing
