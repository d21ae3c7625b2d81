// A validated Playbook compiled for evaluation. Compilation checks the whole
// Playbook and reports every problem at once; a Playbook with any problem is
// never compiled, so nothing is ever half-applied.
#ifndef SMARKETING_CORE_PLAYBOOK_COMPILED_PLAYBOOK_H_
#define SMARKETING_CORE_PLAYBOOK_COMPILED_PLAYBOOK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/problems.h"
#include "core/playbook/condition.h"
#include "smarketing/v1/playbook.pb.h"

namespace smarketing {

// The rule and persona ids a Playbook declared so far (compiled_playbook.cc).
class IdRegistry;

// The bounds validation puts on points and weights. Tools that write
// Playbooks (the Python tuner) read them from here rather than restating them.
struct ScoringLimits {
  static constexpr double kCriterionWeight = 100;  // weight in (0, this]
  static constexpr double kFitRulePoints = 100;    // |points| <= this
  static constexpr double kEngagementRulePoints = 1000;
  static constexpr double kMaxFit = 100;  // fit is clamped to [0, this]
};

// Limits that keep validating and publishing a Playbook cheap (a Playbook
// of 100,000 rules took 10 s and 700 MB): every list (personas, criteria,
// each kind of rule, teams, members, SLA policies, objectives, the
// conditions of an `all` or `any`) holds at most kMaxPlaybookListItems
// items, and the literal lists of conditions (`in: [...]`) at most
// kMaxPlaybookLiteralItems values. The document's size is bounded by
// kMaxPlaybookBytes (playbook_loader.h).
inline constexpr int kMaxPlaybookListItems = 1000;
inline constexpr int kMaxPlaybookLiteralItems = 10000;

class CompiledPlaybook {
 public:
  // Validates and compiles. On any problem: INVALID_ARGUMENT carrying them
  // all (ProblemsFromStatus), with line and column where `positions` knows
  // them.
  static absl::StatusOr<std::shared_ptr<const CompiledPlaybook>> Compile(
      const v1::Playbook& playbook, const SourceMap* positions = nullptr,
      absl::string_view file = "");

  const v1::Playbook& playbook() const { return playbook_; }
  // "name@version", stamped on every result.
  const std::string& version_label() const { return version_label_; }

  struct Criterion {
    CompiledCondition when;
    double weight = 0;
    // Its FitGroup and bit in the group's decisions, or -1.
    int group = -1;
    int bit = 0;
  };
  struct Persona {
    std::vector<Criterion> criteria;
    double total_weight = 0;
  };
  struct FitRule {
    CompiledCondition when;
    double points = 0;
    int group = -1;  // as Criterion's
    int bit = 0;
  };
  // Fit conditions (persona criteria and fit rules) that search one field
  // (CompiledCondition::SoleSearchedField), grouped by that field: the
  // scorer decides a group's conditions together, once per distinct value
  // of the field, a bit each.
  struct FitGroup {
    FieldRef field;
    // Each condition, in bit order: a persona's criterion, or a fit rule
    // (persona -1).
    struct Member {
      int persona = -1;
      int index = 0;
    };
    std::vector<Member> members;
  };
  struct GradeBand {
    double min_fit = 0;
    double max_fit = 0;
    int index = 0;  // in playbook().grade_bands()
  };
  struct EngagementRule {
    CompiledCondition when;
    double points = 0;
    double max_points = 0;       // 0: no cap
    int64_t window_seconds = 0;  // 0: no window cap
    int window_max_events = 0;
    double inverse_half_life_seconds = 0;
  };
  struct DisqualificationRule {
    CompiledCondition when;
  };
  struct HandRaiserRule {
    CompiledCondition when;
    uint64_t event_type_mask = 0;  // bit per EventType
    double min_fit = 0;
    int64_t lookback_seconds = 0;
    v1::Priority priority = v1::PRIORITY_UNSPECIFIED;
  };
  struct PriorityRule {
    CompiledCondition when;
  };

  const std::vector<Persona>& personas() const { return personas_; }
  const std::vector<FitRule>& fit_rules() const { return fit_rules_; }
  const std::vector<FitGroup>& fit_groups() const { return fit_groups_; }
  // The condition of a FitGroup's member.
  const CompiledCondition& fit_condition(const FitGroup::Member& m) const {
    return m.persona < 0 ? fit_rules_[m.index].when
                         : personas_[m.persona].criteria[m.index].when;
  }
  // Sorted by min_fit.
  const std::vector<GradeBand>& grade_bands() const { return grade_bands_; }
  const std::vector<EngagementRule>& engagement_rules() const {
    return engagement_rules_;
  }
  // Indexes into engagement_rules() of the rules that count an event type.
  const std::vector<int>& engagement_rules_for(int event_type) const {
    return engagement_by_type_[event_type];
  }
  // The slot of the one event property that decides which of
  // engagement_rules_for(event_type) match an event, or -1 when their
  // conditions read more than that (or nothing).
  int engagement_deciding_slot(int event_type) const {
    return engagement_deciding_slot_[event_type];
  }
  const std::vector<DisqualificationRule>& disqualification_rules() const {
    return disqualification_rules_;
  }
  const std::vector<HandRaiserRule>& hand_raiser_rules() const {
    return hand_raiser_rules_;
  }
  // The event types any hand-raiser rule looks at, a bit per EventType: most
  // events are of none of them.
  uint64_t hand_raiser_event_types() const { return hand_raiser_event_types_; }
  const std::vector<PriorityRule>& priority_rules() const {
    return priority_rules_;
  }
  double max_engagement() const { return max_engagement_; }
  double min_engagement() const { return min_engagement_; }
  // fit = fit_base() + best persona fit + fit rules, within [min_fit(),
  // max_fit()].
  double fit_base() const { return fit_base_; }
  double min_fit() const { return min_fit_; }
  double max_fit() const { return max_fit_; }
  // The MQL threshold's condition on the lead (empty: none).
  const CompiledCondition& mql_when() const { return mql_when_; }
  // Disqualified leads: scores reported as 0, and the grade band index
  // they get (-1: the grade of their fit).
  bool zero_disqualified_scores() const { return zero_disqualified_scores_; }
  int disqualified_grade() const { return disqualified_grade_; }
  // Opted-out leads are disqualified (else: never MQL).
  bool opt_out_disqualifies() const { return opt_out_disqualifies_; }
  v1::Priority default_priority() const { return default_priority_; }
  bool has_window_caps() const { return has_window_caps_; }

  // Attribute and event property paths the rules read.
  const SlotTable& attribute_slots() const { return attribute_slots_; }
  const SlotTable& property_slots() const { return property_slots_; }

 private:
  CompiledPlaybook() = default;
  // Checks the scoring sections of the Playbook and fills the members below,
  // one section of the Playbook per function, in the Playbook's order.
  void CompileScoring(ProblemList* problems);
  void CompileFitModel(ProblemList* problems);
  void CompilePersonas(IdRegistry& ids, ProblemList* problems);
  void CompileFitRules(IdRegistry& ids, ProblemList* problems);
  void GroupSearchedFitConditions();
  void CompileGradeBands(ProblemList* problems);
  void CompileEngagement(IdRegistry& ids, ProblemList* problems);
  void CompileDisqualificationRules(IdRegistry& ids, ProblemList* problems);
  void CompileHandRaiserRules(IdRegistry& ids, ProblemList* problems);
  void CompileThresholds(ProblemList* problems);
  void CompileDisqualifiedAndOptOut(ProblemList* problems);
  void CompilePriority(IdRegistry& ids, ProblemList* problems);
  void CheckAccountScoring(ProblemList* problems) const;
  // Compiles a rule's condition into `out`; a missing one is a problem when
  // `required`.
  void CompileWhen(const v1::Condition& when, bool has_when, bool required,
                   FieldScope scope, const std::string& path,
                   CompiledCondition* out, ProblemList* problems);
  // "[min_fit, max_fit]", for messages.
  std::string FitRange() const;
  void CheckMetadataAndObjectives(ProblemList* problems) const;

  v1::Playbook playbook_;
  std::string version_label_;
  std::vector<Persona> personas_;
  std::vector<FitRule> fit_rules_;
  std::vector<FitGroup> fit_groups_;
  std::vector<GradeBand> grade_bands_;
  std::vector<EngagementRule> engagement_rules_;
  std::vector<std::vector<int>> engagement_by_type_;
  std::vector<int> engagement_deciding_slot_;
  std::vector<DisqualificationRule> disqualification_rules_;
  std::vector<HandRaiserRule> hand_raiser_rules_;
  uint64_t hand_raiser_event_types_ = 0;
  std::vector<PriorityRule> priority_rules_;
  double max_engagement_ = 100;
  double min_engagement_ = 0;
  double fit_base_ = 0;
  double min_fit_ = 0;
  double max_fit_ = ScoringLimits::kMaxFit;
  CompiledCondition mql_when_;
  bool zero_disqualified_scores_ = false;
  int disqualified_grade_ = -1;
  bool opt_out_disqualifies_ = true;
  v1::Priority default_priority_ = v1::PRIORITY_MEDIUM;
  bool has_window_caps_ = false;
  SlotTable attribute_slots_;
  SlotTable property_slots_;
};

// Every problem of `playbook`, empty when it is valid.
v1::ValidationProblems ValidatePlaybook(const v1::Playbook& playbook,
                                        const SourceMap* positions = nullptr,
                                        absl::string_view file = "");

}  // namespace smarketing

#endif  // SMARKETING_CORE_PLAYBOOK_COMPILED_PLAYBOOK_H_
