#include "core/checks/golden_cases.h"

#include <cmath>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/base/enum_label.h"
#include "core/base/yaml_message.h"
#include "core/playbook/playbook_loader.h"
#include "core/scoring/lead_validation.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/routing_state.pb.h"

namespace smarketing {
namespace {

std::string Number(double value) { return absl::StrFormat("%.6g", value); }

std::string Quoted(absl::string_view text) {
  return text.empty() ? "(none)" : absl::StrCat("\"", text, "\"");
}

bool HasExpectation(const v1::Expectation& e) {
  return !e.grade().empty() || e.stage() != v1::LIFECYCLE_STAGE_UNSPECIFIED ||
         !e.persona_id().empty() || !e.team_id().empty() ||
         !e.owner_id().empty() || e.has_min_total() || e.has_max_total() ||
         e.has_min_fit() || e.has_max_fit() || e.has_min_engagement() ||
         e.has_max_engagement() || e.fired_rules_size() > 0 ||
         e.not_fired_rules_size() > 0 || e.has_hand_raiser() ||
         e.priority() != v1::PRIORITY_UNSPECIFIED ||
         e.disqualification_reason() != v1::DISQUALIFICATION_REASON_UNSPECIFIED;
}

void CheckBounds(bool has_min, double min, bool has_max, double max,
                 absl::string_view what, const std::string& path,
                 ProblemList* problems) {
  if (has_min && !std::isfinite(min)) {
    problems->Add(absl::StrCat(path, ".min_", what), "must be a finite number");
  }
  if (has_max && !std::isfinite(max)) {
    problems->Add(absl::StrCat(path, ".max_", what), "must be a finite number");
  }
  if (has_min && has_max && min > max) {
    problems->Add(absl::StrCat(path, ".min_", what),
                  absl::StrCat("min_", what, " ", Number(min), " is above max_",
                               what, " ", Number(max)));
  }
}

void CheckCase(const v1::GoldenCase& c, const std::string& path,
               absl::flat_hash_map<std::string, std::string>* names,
               ProblemList* problems) {
  if (c.name().empty()) {
    problems->Add(absl::StrCat(path, ".name"), "a name is required");
  } else if (auto [it, inserted] = names->emplace(c.name(), path); !inserted) {
    problems->Add(absl::StrCat(path, ".name"),
                  absl::StrCat("duplicate name \"", c.name(),
                               "\", already used at ", it->second));
  }
  if (!c.has_now()) {
    problems->Add(absl::StrCat(path, ".now"),
                  "required: the time the lead is scored at (RFC 3339), so "
                  "that the case gives the same result on every run");
  }
  if (!c.has_lead()) {
    problems->Add(absl::StrCat(path, ".lead"), "required");
  } else if (absl::Status status = ValidateLead(c.lead()); !status.ok()) {
    const auto lead_problems = ProblemsFromStatus(status);
    if (lead_problems.has_value()) {
      for (const v1::ValidationProblem& p : lead_problems->problems()) {
        problems->Add(absl::StrCat(path, ".lead.", p.path()), p.message());
      }
    } else {
      problems->Add(absl::StrCat(path, ".lead"), status.message());
    }
  }
  if (!c.has_expect() || !HasExpectation(c.expect())) {
    problems->Add(absl::StrCat(path, ".expect"),
                  "at least one expectation is required (grade, stage, "
                  "persona_id, team_id, owner_id, min_/max_ bounds, "
                  "fired_rules, not_fired_rules, hand_raiser, priority or "
                  "disqualification_reason)");
    return;
  }
  const v1::Expectation& e = c.expect();
  const std::string expect = absl::StrCat(path, ".expect");
  CheckBounds(e.has_min_total(), e.min_total(), e.has_max_total(),
              e.max_total(), "total", expect, problems);
  CheckBounds(e.has_min_fit(), e.min_fit(), e.has_max_fit(), e.max_fit(), "fit",
              expect, problems);
  CheckBounds(e.has_min_engagement(), e.min_engagement(),
              e.has_max_engagement(), e.max_engagement(), "engagement", expect,
              problems);
}

// Ids an explanation can name: every rule and persona criterion of the
// Playbook, and the opt-out.
absl::flat_hash_set<std::string> ExplainableIds(const v1::Playbook& p) {
  absl::flat_hash_set<std::string> ids = {"consent.opted_out"};
  for (const v1::Persona& persona : p.personas()) {
    for (const v1::PersonaCriterion& c : persona.criteria()) ids.insert(c.id());
  }
  for (const v1::FitRule& r : p.fit_rules()) ids.insert(r.id());
  for (const v1::EngagementRule& r : p.engagement().rules()) ids.insert(r.id());
  for (const v1::DisqualificationRule& r : p.disqualification_rules()) {
    ids.insert(r.id());
  }
  for (const v1::HandRaiserRule& r : p.hand_raiser_rules()) ids.insert(r.id());
  for (const v1::PriorityRule& r : p.priority().rules()) ids.insert(r.id());
  return ids;
}

class CaseChecker {
 public:
  CaseChecker(const GoldenCaseSet& set, const std::string& case_path,
              const v1::ScoreResult& result,
              const absl::flat_hash_set<std::string>& known_ids,
              std::vector<ExpectationFailure>* failures)
      : set_(set),
        expect_path_(absl::StrCat(case_path, ".expect")),
        result_(result),
        known_ids_(known_ids),
        failures_(failures) {}

  void Check(const v1::Expectation& e) {
    if (!e.grade().empty() && e.grade() != result_.grade()) {
      Fail("grade", Quoted(e.grade()), Quoted(result_.grade()));
    }
    if (e.stage() != v1::LIFECYCLE_STAGE_UNSPECIFIED &&
        e.stage() != result_.recommended_stage()) {
      Fail("stage", EnumLabel(v1::LifecycleStage_descriptor(), e.stage()),
           EnumLabel(v1::LifecycleStage_descriptor(),
                     result_.recommended_stage()));
    }
    if (!e.persona_id().empty() && e.persona_id() != result_.persona_id()) {
      Fail("persona_id", Quoted(e.persona_id()), Quoted(result_.persona_id()));
    }
    if (!e.team_id().empty() && e.team_id() != result_.routing().team_id()) {
      Fail("team_id", Quoted(e.team_id()), Routed(result_.routing().team_id()));
    }
    if (!e.owner_id().empty() && e.owner_id() != result_.routing().owner_id()) {
      Fail("owner_id", Quoted(e.owner_id()),
           Routed(result_.routing().owner_id()));
    }
    Bound(e.has_min_total(), e.min_total(), true, result_.total_score(),
          "min_total");
    Bound(e.has_max_total(), e.max_total(), false, result_.total_score(),
          "max_total");
    Bound(e.has_min_fit(), e.min_fit(), true, result_.fit_score(), "min_fit");
    Bound(e.has_max_fit(), e.max_fit(), false, result_.fit_score(), "max_fit");
    Bound(e.has_min_engagement(), e.min_engagement(), true,
          result_.engagement_score(), "min_engagement");
    Bound(e.has_max_engagement(), e.max_engagement(), false,
          result_.engagement_score(), "max_engagement");
    for (int i = 0; i < e.fired_rules_size(); ++i) {
      const std::string& id = e.fired_rules(i);
      const std::string item = absl::StrCat("fired_rules[", i, "]");
      if (FindHit(id) != nullptr) continue;
      if (!known_ids_.contains(id)) {
        Fail(item, absl::StrCat(Quoted(id), " fires"),
             absl::StrCat("no rule ", Quoted(id), " in the Playbook"));
      } else {
        Fail(item, absl::StrCat(Quoted(id), " fires"),
             absl::StrCat(Quoted(id), " did not fire"));
      }
    }
    for (int i = 0; i < e.not_fired_rules_size(); ++i) {
      const std::string& id = e.not_fired_rules(i);
      const std::string item = absl::StrCat("not_fired_rules[", i, "]");
      if (const v1::RuleHit* hit = FindHit(id)) {
        Fail(item, absl::StrCat(Quoted(id), " does not fire"),
             absl::StrCat(Quoted(id), " fired: ", hit->sentence()));
      } else if (!known_ids_.contains(id)) {
        // A rule that was renamed or removed would pass silently forever.
        Fail(item, absl::StrCat(Quoted(id), " does not fire"),
             absl::StrCat("no rule ", Quoted(id), " in the Playbook"));
      }
    }
    if (e.has_hand_raiser() && e.hand_raiser() != result_.hand_raiser()) {
      Fail("hand_raiser", e.hand_raiser() ? "true" : "false",
           result_.hand_raiser() ? "true" : "false");
    }
    if (e.priority() != v1::PRIORITY_UNSPECIFIED &&
        e.priority() != result_.priority()) {
      Fail("priority", EnumLabel(v1::Priority_descriptor(), e.priority()),
           EnumLabel(v1::Priority_descriptor(), result_.priority()));
    }
    if (e.disqualification_reason() !=
            v1::DISQUALIFICATION_REASON_UNSPECIFIED &&
        e.disqualification_reason() != result_.disqualification_reason()) {
      const auto* type = v1::DisqualificationReason_descriptor();
      Fail("disqualification_reason",
           EnumLabel(type, e.disqualification_reason()),
           result_.disqualification_reason() ==
                   v1::DISQUALIFICATION_REASON_UNSPECIFIED
               ? "not disqualified"
               : EnumLabel(type, result_.disqualification_reason()));
    }
  }

 private:
  const v1::RuleHit* FindHit(absl::string_view id) const {
    for (const v1::RuleHit& hit : result_.explanation()) {
      if (hit.rule_id() == id) return &hit;
    }
    return nullptr;
  }

  // What routing decided (a team or owner id), or why there is none.
  std::string Routed(const std::string& value) const {
    if (!value.empty()) return Quoted(value);
    if (result_.recommended_stage() != v1::LIFECYCLE_STAGE_MQL) {
      return absl::StrCat("not routed: the lead is ",
                          EnumLabel(v1::LifecycleStage_descriptor(),
                                    result_.recommended_stage()),
                          ", only qualified leads are routed");
    }
    const v1::RoutingDecision& routing = result_.routing();
    if (!routing.team_id().empty()) {
      return absl::StrCat("(none: the lead waits in the queue of team ",
                          routing.team_id(), ")");
    }
    return routing.explanation().empty()
               ? "not routed: the Playbook has no teams"
               : absl::StrCat("not routed: ", routing.explanation());
  }

  void Bound(bool has, double bound, bool is_min, double actual,
             absl::string_view field) {
    if (!has || (is_min ? actual >= bound : actual <= bound)) return;
    Fail(field, absl::StrCat(is_min ? ">= " : "<= ", Number(bound)),
         Number(actual));
  }

  void Fail(absl::string_view field, std::string expected, std::string actual) {
    ExpectationFailure& f = failures_->emplace_back();
    f.field = std::string(field);
    f.expected = std::move(expected);
    f.actual = std::move(actual);
    f.path = absl::StrCat(expect_path_, ".", field);
    f.position = PositionOf(f.path);
  }

  SourcePosition PositionOf(const std::string& path) const {
    if (auto it = set_.positions.find(path); it != set_.positions.end()) {
      return it->second;
    }
    return SourcePosition();
  }

  const GoldenCaseSet& set_;
  const std::string expect_path_;
  const v1::ScoreResult& result_;
  const absl::flat_hash_set<std::string>& known_ids_;
  std::vector<ExpectationFailure>* failures_;
};

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

absl::StatusOr<GoldenCaseSet> ParseGoldenCases(absl::string_view text,
                                               absl::string_view file) {
  GoldenCaseSet set;
  set.file = std::string(file);
  ProblemList problems(&set.positions, file);
  if (!ParseYamlMessage(text, &set.cases, &problems, &set.positions)) {
    return problems.ToStatus(absl::StrCat(file, ": not a golden case file"));
  }
  if (set.cases.cases().empty()) {
    problems.Add("cases", "no golden cases: the file needs a \"cases\" list");
  }
  absl::flat_hash_map<std::string, std::string> names;
  for (int i = 0; i < set.cases.cases_size(); ++i) {
    CheckCase(set.cases.cases(i), absl::StrCat("cases[", i, "]"), &names,
              &problems);
  }
  if (!problems.empty()) {
    return problems.ToStatus(absl::StrCat(file, ": invalid golden cases"));
  }
  return set;
}

absl::StatusOr<GoldenCaseSet> LoadGoldenCasesFile(const std::string& path) {
  auto text = ReadFileToString(path, kMaxGoldenCaseFileBytes);
  if (!text.ok()) return text.status();
  return ParseGoldenCases(*text, path);
}

std::vector<GoldenCaseOutcome> RunGoldenCases(
    std::shared_ptr<const LeadEngine> engine, const GoldenCaseSet& set) {
  const absl::flat_hash_set<std::string> known_ids =
      ExplainableIds(engine->playbook()->playbook());
  Scorer scorer(engine->playbook());
  std::vector<GoldenCaseOutcome> outcomes;
  outcomes.reserve(set.cases.cases_size());
  for (int i = 0; i < set.cases.cases_size(); ++i) {
    const v1::GoldenCase& c = set.cases.cases(i);
    GoldenCaseOutcome& outcome = outcomes.emplace_back();
    outcome.name = c.name();
    outcome.path = absl::StrCat("cases[", i, "]");
    if (auto it = set.positions.find(outcome.path); it != set.positions.end()) {
      outcome.position = it->second;
    }
    const absl::Time now = ToTime(c.now());
    LeadState state;
    v1::RoutingState routing = c.routing_state();
    absl::StatusOr<v1::LeadLifecycle> lifecycle = engine->Start(now);
    absl::Status status = lifecycle.status();
    if (status.ok()) {
      state.lifecycle = *std::move(lifecycle);
      status = engine->Refresh(c.lead(), now, &scorer, &state, &routing);
    }
    if (!status.ok()) {
      ExpectationFailure& f = outcome.failures.emplace_back();
      f.field = "lead";
      f.expected = "a lead the Playbook can score";
      f.actual = std::string(status.message());
      f.path = absl::StrCat(outcome.path, ".lead");
      f.position = outcome.position;
      continue;
    }
    outcome.result = std::move(state.score);
    CaseChecker(set, outcome.path, outcome.result, known_ids, &outcome.failures)
        .Check(c.expect());
  }
  return outcomes;
}

}  // namespace smarketing
