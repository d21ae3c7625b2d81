// Prints a ScoreResult as one line of JSON in the protobuf JSON mapping, with
// proto field names: the bytes MessageToJsonString gives with
// preserve_proto_field_names, about 20 times faster (protobuf's printer goes
// through a type resolver and the binary form of the message, which cost
// more than scoring the lead).
#ifndef SMARKETING_CORE_BATCH_SCORE_JSON_H_
#define SMARKETING_CORE_BATCH_SCORE_JSON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "core/playbook/compiled_playbook.h"
#include "core/scoring/scorer.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {

class ScoreJsonWriter {
 public:
  ScoreJsonWriter() = default;
  // A writer that also prints explanations straight from the scores of
  // `playbook` (the second Append).
  explicit ScoreJsonWriter(std::shared_ptr<const CompiledPlaybook> playbook)
      : playbook_(std::move(playbook)) {}

  // Appends `result` (no newline) to `out`.
  void Append(const v1::ScoreResult& result, std::string* out);

  // The same for a `result` that Scorer::ToProto filled without its
  // explanation (Explanation::kNone): `explanation`, its score's, is printed
  // where ToProto would have put it with Explanation::kRuleIds, the same
  // bytes, without a RuleHit built per rule that fired. Only for a writer
  // made with the Playbook of the score.
  void Append(const v1::ScoreResult& result,
              absl::Span<const RuleContribution> explanation, std::string* out);

 private:
  // Appends `result`, and `explanation` in place of its own when
  // `contributions`; false, with `out` as it was, for what protobuf's
  // printer alters or refuses.
  bool Print(const v1::ScoreResult& result, bool contributions,
             absl::Span<const RuleContribution> explanation, std::string* out);
  // What a rule that fired prints before its points, `{"rule_id":"…",
  // "kind":"…"`, and after them, `,"persona_id":"…"` (empty but for persona
  // criteria): quoted once per rule. A Playbook's ids are UTF-8 (validation
  // refuses others), so these are the bytes protobuf prints.
  struct RuleText {
    std::string head;
    std::string persona;
  };
  const RuleText& TextOf(const RuleContribution& c);
  void AppendTimestamp(int64_t seconds, int32_t nanos, std::string* out);

  // The last timestamp printed: every result of a run has the same
  // scored_at.
  int64_t cached_seconds_ = 0;
  int32_t cached_nanos_ = -1;
  std::string cached_timestamp_;
  std::shared_ptr<const CompiledPlaybook> playbook_;
  absl::flat_hash_map<uint64_t, RuleText> rule_texts_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_SCORE_JSON_H_
