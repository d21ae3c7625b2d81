// Encodes a ScoreResult in protobuf's wire format straight from a LeadScore,
// for the ScoreLeads stream: the bytes that Scorer::ToProto and
// SerializeToString give, without a message and a RuleHit built per rule
// that fired (building and sizing those cost the stream more than a tenth
// of its work).
#ifndef SMARKETING_CORE_BATCH_SCORE_WIRE_H_
#define SMARKETING_CORE_BATCH_SCORE_WIRE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

// Keeps the encoding of every rule, and of the last `now`: one per thread.
class ScoreWireWriter {
 public:
  explicit ScoreWireWriter(const CompiledPlaybook& playbook);

  // Appends what ToProto(lead, score, now, &result, explanation) then
  // result.AppendToString(out) would. Sentences are ToProto's alone:
  // `explanation` is kNone or kRuleIds.
  void Append(const v1::Lead& lead, const LeadScore& score, absl::Time now,
              Explanation explanation, std::string* out);

 private:
  // A rule that fired: its RuleHit fields before the points (rule_id,
  // kind) and after them (persona_id), encoded.
  struct RuleBytes {
    std::string head;
    std::string persona;
  };
  const RuleBytes& BytesOf(const RuleContribution& c) const;
  // ScoreResult.scored_at, encoded once for each `now`.
  const std::string& ScoredAt(absl::Time now);

  // Fields grade, persona_id and playbook_version, encoded.
  std::vector<std::string> grades_;
  std::vector<std::string> personas_;
  std::string version_;
  // Every rule of the Playbook, kind by kind: those of kind k from
  // rules_[kind_begin_[k]], a persona p's criteria from
  // rules_[criteria_begin_[p]].
  std::vector<RuleBytes> rules_;
  std::array<size_t, v1::RuleKind_ARRAYSIZE> kind_begin_ = {};
  std::vector<size_t> criteria_begin_;
  std::optional<absl::Time> cached_now_;
  std::string cached_scored_at_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_SCORE_WIRE_H_
