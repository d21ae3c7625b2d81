// Rule conditions compiled from the Playbook's declarative form into a flat
// tree evaluated without allocation or string lookups.
#ifndef SMARKETING_CORE_PLAYBOOK_CONDITION_H_
#define SMARKETING_CORE_PLAYBOOK_CONDITION_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/base/problems.h"
#include "core/playbook/field.h"
#include "re2/re2.h"
#include "smarketing/v1/condition.pb.h"

namespace smarketing {

class RegexPrefilter;

// Values of the score that priority rules may read.
struct ScoreView {
  double fit = 0;
  double engagement = 0;
  double total = 0;
  bool hand_raiser = false;
  absl::string_view grade;
  absl::string_view persona;
};

// Event properties looked up on first use, since most rules that see an event
// never read its properties; each is then read as a FieldValue by every rule
// of the event that tests it.
class PropertyCache {
 public:
  explicit PropertyCache(const SlotTable* slots) : slots_(slots) {}
  // O(1): values resolved for the previous event are recognised by their
  // generation, not cleared.
  void Reset(const FlatLead* lead, const FlatEvent* event) {
    lead_ = lead;
    event_ = event;
    if (static_cast<int>(values_.size()) != slots_->size()) {
      values_.assign(slots_->size(), FieldValue());
      generations_.assign(slots_->size(), 0);
    }
    if (++generation_ == 0) {
      std::fill(generations_.begin(), generations_.end(), 0);
      generation_ = 1;
    }
  }
  const FieldValue& Get(int slot) {
    if (generations_[slot] != generation_) {
      values_[slot] =
          event_->properties != nullptr
              ? FromProtoValue(slots_->Resolve(*event_->properties, slot))
              : FromFlatValue(lead_->Find(*event_, slots_->path(slot)));
      generations_[slot] = generation_;
    }
    return values_[slot];
  }

 private:
  const SlotTable* slots_;
  const FlatLead* lead_ = nullptr;
  const FlatEvent* event_ = nullptr;
  uint32_t generation_ = 0;
  std::vector<uint32_t> generations_;
  std::vector<FieldValue> values_;
};

// What a condition is evaluated against. Members a scope lacks stay null.
struct EvalContext {
  const v1::Lead* lead = nullptr;
  // The lead's attributes, resolved by the Playbook's SlotTable.
  const std::vector<const google::protobuf::Value*>* attributes = nullptr;
  const FlatEvent* event = nullptr;
  PropertyCache* properties = nullptr;
  const ScoreView* score = nullptr;
};

// Reads a field from the context.
FieldValue ReadField(const FieldRef& field, const EvalContext& context);

class CompiledCondition {
 public:
  // Compiles `condition`, found at `path` in the Playbook, for `scope`.
  // Every problem is added to `problems`; returns false if there was any.
  bool Compile(const v1::Condition& condition, FieldScope scope,
               const std::string& path, ProblemList* problems,
               SlotTable* attributes, SlotTable* properties);

  // True for a condition that was never compiled (an absent `when`).
  bool empty() const { return nodes_.empty(); }

  // The slot of the one event property this condition reads, when its
  // outcome for an event of a given type depends on that value alone; -1
  // when it reads anything else (or nothing). The scorer then decides such
  // rules once per distinct value instead of once per event.
  int SolePropertySlot() const;

  // The one field this condition reads, into `field`, when its outcome
  // depends on that field's value alone and it searches that value (regex,
  // contains or contains_any), which costs more than looking the value up:
  // the scorer then decides such fit conditions once per distinct value.
  // False otherwise.
  bool SoleSearchedField(FieldRef* field) const;

  bool Matches(const EvalContext& context) const {
    return nodes_.empty() || Eval(0, context);
  }

 private:
  enum class Op : uint8_t {
    kEquals,
    kIn,
    kRange,
    kContains,
    kContainsAny,
    kPrefix,
    kSuffix,
    kRegex,
    kExists,
    kAll,
    kAny,
    kNot,
  };
  struct Literal {
    FieldValue::Kind kind = FieldValue::kMissing;
    bool boolean = false;
    double number = 0;
    std::string text;  // lower-cased unless case_sensitive
  };
  struct Node {
    Op op = Op::kAll;
    FieldRef field;
    bool case_sensitive = false;
    bool exists = true;
    double min = 0;
    double max = 0;
    bool has_min = false;
    bool has_max = false;
    bool min_exclusive = false;
    bool max_inclusive = false;
    std::vector<Literal> literals;
    std::string text;
    std::shared_ptr<const RE2> regex;
    // Literals that must occur for `regex` to match; null when RE2 finds
    // none usable.
    std::shared_ptr<const RegexPrefilter> prefilter;
    std::vector<int> children;
  };

  int CompileNode(const v1::Condition& condition, FieldScope scope,
                  const std::string& path, int depth, ProblemList* problems,
                  SlotTable* attributes, SlotTable* properties);
  // Compiles all, any or not into the node at `index`.
  void CompileCombinator(const v1::Condition& condition, absl::string_view op,
                         FieldScope scope, const std::string& path, int depth,
                         int index, ProblemList* problems,
                         SlotTable* attributes, SlotTable* properties);
  // Compiles an operator that tests one field; false when the field is
  // unknown.
  bool CompileFieldTest(const v1::Condition& condition, absl::string_view op,
                        FieldScope scope, const std::string& path,
                        ProblemList* problems, SlotTable* attributes,
                        SlotTable* properties, Node* node);
  static void CompileRange(const v1::NumericRange& range,
                           const std::string& path, ProblemList* problems,
                           Node* node);
  static void CompileContainsAny(const google::protobuf::ListValue& texts,
                                 const std::string& path, ProblemList* problems,
                                 Node* node);
  static void CompileRegex(const std::string& pattern, const std::string& path,
                           ProblemList* problems, Node* node);
  bool CompileLiteral(const google::protobuf::Value& value, const Node& node,
                      const std::string& path, ProblemList* problems,
                      Literal* out) const;
  bool Eval(int index, const EvalContext& context) const;
  bool Equal(const Literal& literal, const FieldValue& value,
             bool case_sensitive) const;

  std::vector<Node> nodes_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_PLAYBOOK_CONDITION_H_
