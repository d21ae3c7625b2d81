#include "core/batch/score_wire.h"

#include <cstring>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/wire_format_lite.h"
#include "smarketing/v1/score_result.pb.h"

namespace smarketing {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;
using Hit = v1::RuleHit;
using Result = v1::ScoreResult;
using Timestamp = google::protobuf::Timestamp;

// Every field written here has a number below 16: its tag is one byte.
constexpr size_t kDoubleField = 1 + 8;
constexpr size_t kMaxVarintField = 1 + 10;

// Protobuf writes a double unless all its bits are zero: -0.0 is written.
bool IsWritten(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits != 0;
}

uint8_t* WriteDouble(int field, double value, uint8_t* p) {
  return IsWritten(value) ? WireFormatLite::WriteDoubleToArray(field, value, p)
                          : p;
}

uint8_t* WriteInt32(int field, int32_t value, uint8_t* p) {
  return value != 0 ? WireFormatLite::WriteInt32ToArray(field, value, p) : p;
}

uint8_t* WriteEnum(int field, int value, uint8_t* p) {
  return value != 0 ? WireFormatLite::WriteEnumToArray(field, value, p) : p;
}

uint8_t* WriteString(int field, const std::string& value, uint8_t* p) {
  return value.empty() ? p
                       : WireFormatLite::WriteStringToArray(field, value, p);
}

uint8_t* Copy(const std::string& bytes, uint8_t* p) {
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

// `value` as field `field`: nothing when empty.
std::string Encoded(int field, const std::string& value) {
  std::string out(value.size() + 10, '\0');  // a tag and a length, 5 each
  auto* begin = reinterpret_cast<uint8_t*>(out.data());
  out.resize(WriteString(field, value, begin) - begin);
  return out;
}

}  // namespace

ScoreWireWriter::ScoreWireWriter(const CompiledPlaybook& playbook) {
  const v1::Playbook& p = playbook.playbook();
  for (const v1::GradeBand& band : p.grade_bands()) {
    grades_.push_back(Encoded(Result::kGradeFieldNumber, band.grade()));
  }
  for (const v1::Persona& persona : p.personas()) {
    personas_.push_back(Encoded(Result::kPersonaIdFieldNumber, persona.id()));
  }
  version_ =
      Encoded(Result::kPlaybookVersionFieldNumber, playbook.version_label());

  auto add = [&](v1::RuleKind kind, int persona, int rule) {
    RuleContribution c;
    c.kind = kind;
    c.persona = persona;
    c.rule = rule;
    RuleBytes& bytes = rules_.emplace_back();
    bytes.head = Encoded(Hit::kRuleIdFieldNumber, RuleIdOf(p, c));
    uint8_t kind_field[kMaxVarintField];
    bytes.head.append(
        reinterpret_cast<const char*>(kind_field),
        WriteEnum(Hit::kKindFieldNumber, kind, kind_field) - kind_field);
    bytes.persona = Encoded(Hit::kPersonaIdFieldNumber, PersonaIdOf(p, c));
  };
  auto add_kind = [&](v1::RuleKind kind, int count) {
    kind_begin_[kind] = rules_.size();
    for (int i = 0; i < count; ++i) add(kind, -1, i);
  };
  for (int persona = 0; persona < p.personas_size(); ++persona) {
    criteria_begin_.push_back(rules_.size());
    for (int i = 0; i < p.personas(persona).criteria_size(); ++i) {
      add(v1::RULE_KIND_PERSONA_CRITERION, persona, i);
    }
  }
  add_kind(v1::RULE_KIND_FIT, p.fit_rules_size());
  add_kind(v1::RULE_KIND_ENGAGEMENT, p.engagement().rules_size());
  add_kind(v1::RULE_KIND_DISQUALIFICATION, p.disqualification_rules_size());
  kind_begin_[v1::RULE_KIND_OPT_OUT] = rules_.size();
  add(v1::RULE_KIND_OPT_OUT, -1, -1);
  add_kind(v1::RULE_KIND_HAND_RAISER, p.hand_raiser_rules_size());
  add_kind(v1::RULE_KIND_PRIORITY, p.priority().rules_size());
}

// Contributions are the scorer's, which names only the Playbook's rules.
const ScoreWireWriter::RuleBytes& ScoreWireWriter::BytesOf(
    const RuleContribution& c) const {
  switch (c.kind) {
    case v1::RULE_KIND_PERSONA_CRITERION:
      return rules_[criteria_begin_[c.persona] + c.rule];
    case v1::RULE_KIND_OPT_OUT:
      return rules_[kind_begin_[c.kind]];
    default:
      return rules_[kind_begin_[c.kind] + c.rule];
  }
}

const std::string& ScoreWireWriter::ScoredAt(absl::Time now) {
  if (cached_now_ == now) return cached_scored_at_;
  const int64_t seconds = absl::ToUnixSeconds(now);
  const auto nanos = static_cast<int32_t>(
      absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(seconds)));
  uint8_t fields[2 * kMaxVarintField];
  uint8_t* p = fields;
  if (seconds != 0) {
    p = WireFormatLite::WriteInt64ToArray(Timestamp::kSecondsFieldNumber,
                                          seconds, p);
  }
  p = WriteInt32(Timestamp::kNanosFieldNumber, nanos, p);
  const auto size = static_cast<uint32_t>(p - fields);
  uint8_t head[1 + 5];
  uint8_t* h = WireFormatLite::WriteTagToArray(
      Result::kScoredAtFieldNumber, WireFormatLite::WIRETYPE_LENGTH_DELIMITED,
      head);
  h = CodedOutputStream::WriteVarint32ToArray(size, h);
  cached_scored_at_.assign(reinterpret_cast<const char*>(head), h - head);
  cached_scored_at_.append(reinterpret_cast<const char*>(fields), size);
  cached_now_ = now;
  return cached_scored_at_;
}

void ScoreWireWriter::Append(const v1::Lead& lead, const LeadScore& score,
                             absl::Time now, Explanation explanation,
                             std::string* out) {
  const std::string& scored_at = ScoredAt(now);
  const bool hits = explanation != Explanation::kNone;
  // Each RuleHit's size comes before its fields: a first pass over the
  // rules that fired bounds the result's size.
  size_t hits_bound = 0;
  if (hits) {
    for (const RuleContribution& c : score.explanation) {
      const RuleBytes& rule = BytesOf(c);
      hits_bound += 1 + 5 + rule.head.size() + 2 * kDoubleField +
                    kMaxVarintField + rule.persona.size();
    }
  }
  static const std::string* const kNothing = new std::string();
  const std::string& grade =
      score.grade >= 0 ? grades_[score.grade] : *kNothing;
  const std::string& persona =
      score.persona >= 0 ? personas_[score.persona] : *kNothing;
  const size_t bound = 1 + 5 + lead.id().size() + 3 * kDoubleField +
                       grade.size() + persona.size() + 4 * kMaxVarintField +
                       hits_bound + version_.size() + scored_at.size() +
                       2 * kMaxVarintField;
  const size_t start = out->size();
  out->resize(start + bound);
  auto* const begin = reinterpret_cast<uint8_t*>(out->data() + start);
  uint8_t* p = begin;
  p = WriteString(Result::kLeadIdFieldNumber, lead.id(), p);
  p = WriteDouble(Result::kFitScoreFieldNumber, score.fit, p);
  p = Copy(grade, p);
  p = Copy(persona, p);
  p = WriteDouble(Result::kEngagementScoreFieldNumber, score.engagement, p);
  p = WriteDouble(Result::kTotalScoreFieldNumber, score.total, p);
  p = WriteEnum(Result::kRecommendedStageFieldNumber, score.stage, p);
  p = WriteEnum(Result::kPriorityFieldNumber, score.priority, p);
  if (score.hand_raiser) {
    p = WireFormatLite::WriteBoolToArray(Result::kHandRaiserFieldNumber, true,
                                         p);
  }
  p = WriteEnum(Result::kDisqualificationReasonFieldNumber,
                score.disqualification_reason, p);
  if (hits) {
    for (const RuleContribution& c : score.explanation) {
      const RuleBytes& rule = BytesOf(c);
      const size_t size =
          rule.head.size() + (IsWritten(c.raw_points) ? kDoubleField : 0) +
          (IsWritten(c.points) ? kDoubleField : 0) +
          (c.event_count != 0
               ? 1 + CodedOutputStream::VarintSize32SignExtended(c.event_count)
               : 0) +
          rule.persona.size();
      p = WireFormatLite::WriteTagToArray(
          Result::kExplanationFieldNumber,
          WireFormatLite::WIRETYPE_LENGTH_DELIMITED, p);
      p = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                  p);
      p = Copy(rule.head, p);
      p = WriteDouble(Hit::kRawPointsFieldNumber, c.raw_points, p);
      p = WriteDouble(Hit::kPointsFieldNumber, c.points, p);
      p = WriteInt32(Hit::kEventCountFieldNumber, c.event_count, p);
      p = Copy(rule.persona, p);
    }
  }
  p = Copy(version_, p);
  p = Copy(scored_at, p);
  p = WriteInt32(Result::kEventsCountedFieldNumber, score.events_counted, p);
  p = WriteInt32(Result::kDuplicateEventsFieldNumber, score.duplicate_events,
                 p);
  out->resize(start + (p - begin));
}

}  // namespace smarketing
