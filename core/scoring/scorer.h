// Scores leads against a compiled Playbook at an explicit time: fit with the
// best persona, engagement with decay and caps, disqualification and opt-out,
// the recommended stage and priority, and the explanation of every rule that
// fired. The same inputs always give the same result, bit for bit.
#ifndef SMARKETING_CORE_SCORING_SCORER_H_
#define SMARKETING_CORE_SCORING_SCORER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/playbook/compiled_playbook.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

// One rule that fired. `rule` indexes the rule's list in the Playbook
// (for criteria: `persona` and `rule` index personas[persona].criteria).
struct RuleContribution {
  v1::RuleKind kind = v1::RULE_KIND_UNSPECIFIED;
  int persona = -1;
  int rule = -1;
  double raw_points = 0;
  double points = 0;
  int event_count = 0;
};

// A score in native form: cheap to fill again and again. Convert with
// Scorer::ToProto when a message is needed.
struct LeadScore {
  double fit = 0;
  double engagement = 0;
  double total = 0;
  int persona = -1;  // index in the Playbook, -1 when none matched
  int grade = -1;    // index in playbook().grade_bands()
  v1::LifecycleStage stage = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  v1::Priority priority = v1::PRIORITY_UNSPECIFIED;
  bool hand_raiser = false;
  v1::DisqualificationReason disqualification_reason =
      v1::DISQUALIFICATION_REASON_UNSPECIFIED;
  int events_counted = 0;
  int duplicate_events = 0;
  std::vector<RuleContribution> explanation;
};

// The rule a contribution names, as RuleHit.rule_id says it, and the
// persona of a persona criterion (empty for other kinds).
const std::string& RuleIdOf(const v1::Playbook& playbook,
                            const RuleContribution& c);
const std::string& PersonaIdOf(const v1::Playbook& playbook,
                               const RuleContribution& c);

// A contribution in message form, without its sentence: what ToProto gives
// with Explanation::kRuleIds.
void DescribeRuleHit(const v1::Playbook& playbook, const RuleContribution& c,
                     v1::RuleHit* hit);

// The stage rule: whether scores meet a threshold (all bounds hold, >=).
// The scorer and the Python tuner both decide MQL and SQL with it.
inline bool MeetsThreshold(const v1::StageThreshold& threshold, double fit,
                           double engagement, double total) {
  return total >= threshold.min_total() && fit >= threshold.min_fit() &&
         engagement >= threshold.min_engagement();
}

// How much of the explanation a result carries.
enum class Explanation {
  kNone,       // no explanation
  kRuleIds,    // each rule that fired, with its points
  kSentences,  // and a sentence saying it, for people
};

// Not thread-safe: it keeps scratch space between leads. Use one per thread;
// they may share the CompiledPlaybook.
class Scorer {
 public:
  explicit Scorer(std::shared_ptr<const CompiledPlaybook> playbook);

  // Scores `lead` as of `now` into `out`, reusing its storage. Events after
  // `now` are ignored. INVALID_ARGUMENT (naming the field) for a malformed
  // lead; `out` is then unspecified.
  absl::Status Score(const v1::Lead& lead, absl::Time now, LeadScore* out);

  // The same for a lead already validated (ValidateLead), laid out flat:
  // scoring itself, without checks, for readers that validate as they go.
  void ScoreFlat(const FlatLead& lead, absl::Time now, LeadScore* out);

  // Scores and converts, with explanation sentences.
  absl::StatusOr<v1::ScoreResult> Score(const v1::Lead& lead, absl::Time now);

  // The message form of a score, with as much explanation as asked for
  // (building sentences costs as much as scoring).
  void ToProto(const v1::Lead& lead, const LeadScore& score, absl::Time now,
               v1::ScoreResult* out,
               Explanation explanation = Explanation::kSentences) const;

  const CompiledPlaybook& playbook() const { return *playbook_; }

 private:
  void ScoreFit(const EvalContext& context, LeadScore* out);
  // fit_decided_ for the lead of `context`: each FitGroup's conditions,
  // decided once per distinct value of the group's field and remembered,
  // unless its values rarely repeat.
  void DecideFitGroups(const EvalContext& context);
  void ScoreEngagement(const FlatLead& lead, absl::Time now,
                       const EvalContext& context, LeadScore* out);
  // ScoreEngagement's steps: the engagement rules and hand-raiser rules
  // matched by event `i` (context.event) of age `age` seconds, the events
  // of window-capped rules, then the sum.
  void TallyEngagementRules(int i, double age, const EvalContext& context);
  // Which of `rules` (those of the event's type) match the event, a bit per
  // position, when they all read only property `slot`: decided once per
  // distinct value and remembered.
  uint64_t MatchByValue(int slot, const std::vector<int>& rules,
                        const EvalContext& context);
  void RaiseHands(double age, const EvalContext& context);
  void CountWindowedEvents(int64_t now_s, int32_t now_ns);
  void SumEngagement(LeadScore* out) const;
  void MarkDuplicates(const FlatLead& lead, LeadScore* out);

  std::shared_ptr<const CompiledPlaybook> playbook_;
  // Scratch space, kept between leads to avoid allocation.
  std::vector<const google::protobuf::Value*> attributes_;
  FlatLead flat_;  // Score's lead, laid out
  PropertyCache properties_;
  std::vector<RuleContribution> persona_hits_;
  std::vector<RuleContribution> best_persona_hits_;
  std::vector<uint64_t> id_hashes_;  // per event
  std::vector<int> id_table_;        // event index per slot, -1 when empty
  std::vector<uint8_t> duplicate_;
  struct RuleTotals {
    double raw = 0;
    double decayed = 0;
    int events = 0;
  };
  std::vector<RuleTotals> rule_totals_;
  // Decay: the distinct inverse half-lives, each rule's index among them, and
  // the factor of the event being scored (decay_event_: its index, or -1).
  std::vector<double> decay_rates_;
  std::vector<int> rule_decay_;
  std::vector<double> decay_;
  std::vector<int> decay_event_;
  // (timestamp seconds, timestamp nanos, event index) per window-capped rule.
  std::vector<std::vector<std::tuple<int64_t, int32_t, int>>> windowed_;
  std::vector<uint8_t> hand_raised_;
  // MatchByValue's decisions by event type and property value: the value's
  // kind and bytes (a number's eight, an enum's number's, "0" or "1" for a
  // boolean). Looked up by a view of the value, so no key is built for a
  // value already decided. Cleared when full: it only saves work.
  struct DecidedValue {
    uint16_t type_and_kind = 0;
    absl::string_view bytes;
  };
  struct DecisionKey {
    uint16_t type_and_kind = 0;
    std::string bytes;
  };
  struct DecisionHash {
    using is_transparent = void;
    size_t operator()(const DecidedValue& v) const {
      return absl::HashOf(v.type_and_kind, v.bytes);
    }
    size_t operator()(const DecisionKey& k) const {
      return absl::HashOf(k.type_and_kind, absl::string_view(k.bytes));
    }
  };
  struct DecisionEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.type_and_kind == b.type_and_kind &&
             absl::string_view(a.bytes) == absl::string_view(b.bytes);
    }
  };
  using Decisions =
      absl::flat_hash_map<DecisionKey, uint64_t, DecisionHash, DecisionEq>;
  Decisions decisions_;
  // Values longer than this are decided each time: rare, and they would
  // make the tables' memory grow with them.
  static constexpr size_t kMaxRememberedText = 256;
  // What a table holds before it is cleared.
  static constexpr size_t kMaxDecisions = 1 << 14;
  // The key of `value` under `tag` (an event type, a FitGroup); false for
  // a value not to remember. The key views `value` (a number's bytes, an
  // enum's by its number): `value` must outlive its use.
  static bool KeyOf(const FieldValue& value, uint8_t tag, DecidedValue* key);
  // Adds `bits` under `key`, clearing a full table first.
  static void Remember(const DecidedValue& key, uint64_t bits,
                       Decisions* decisions);
  // DecideFitGroups' decisions, by FitGroup and value, as decisions_.
  Decisions fit_decisions_;
  // Per FitGroup: its decisions for the current lead, and how often its
  // values were found remembered.
  std::vector<uint64_t> fit_decided_;
  struct FitGroupUse {
    int64_t lookups = 0;
    int64_t found = 0;
    bool off = false;  // decided each time
  };
  std::vector<FitGroupUse> fit_use_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_SCORING_SCORER_H_
