#include "core/batch/score_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/base/casts.h"
#include "absl/functional/function_ref.h"
#include "absl/numeric/int128.h"
#include "absl/strings/string_view.h"
#include "core/base/proto_time.h"
#include "core/base/utf8.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/util/json_util.h"

namespace smarketing {
namespace {

// What protobuf's JSON printer (3.21, util/internal/json_escaping.cc)
// escapes: the C0 controls, '"', '\\', '<', '>', DEL and the C1 controls,
// and code points that are invisible or change the direction of text.
bool EscapedCodePoint(uint32_t cp) {
  if (cp < 0x80) return false;  // ASCII goes through kAsciiEscapes
  if (cp <= 0x9F || cp == 0xAD) return true;
  if (cp >= 0x600 && cp <= 0x603) return true;
  if (cp == 0x6DD || cp == 0x70F) return true;
  if (cp >= 0x17B4 && cp <= 0x17B5) return true;
  if (cp >= 0x200B && cp <= 0x200F) return true;
  if (cp >= 0x2028 && cp <= 0x202E) return true;
  if (cp >= 0x2060 && cp <= 0x2064) return true;
  if (cp >= 0x206A && cp <= 0x206F) return true;
  if (cp == 0xFEFF) return true;
  if (cp >= 0xFFF9 && cp <= 0xFFFB) return true;
  if (cp >= 0x1D173 && cp <= 0x1D17A) return true;
  if (cp == 0xE0001) return true;
  return cp >= 0xE0020 && cp <= 0xE007F;
}

// 0: printed as is; 1: \uXXXX; otherwise the letter after the backslash.
constexpr auto kAsciiEscapes = [] {
  std::array<char, 128> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 1;
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  table['<'] = 1;
  table['>'] = 1;
  table[0x7F] = 1;
  return table;
}();

void AppendU16(uint32_t unit, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  char text[6] = {'\\',
                  'u',
                  kHex[(unit >> 12) & 15],
                  kHex[(unit >> 8) & 15],
                  kHex[(unit >> 4) & 15],
                  kHex[unit & 15]};
  out->append(text, 6);
}

// The most FormatDouble writes.
constexpr size_t kMaxDoubleText = 32;
char* FormatDouble(double value, char* out);

// The names of an enum's values by number, in quotes, looked up once: the
// generated _Name functions search the descriptor on every call.
template <typename E>
const std::string& EnumName(int value) {
  static const std::vector<std::string>* const names = [] {
    const google::protobuf::EnumDescriptor* d =
        google::protobuf::GetEnumDescriptor<E>();
    int max = 0;
    for (int i = 0; i < d->value_count(); ++i)
      max = std::max(max, d->value(i)->number());
    auto* n = new std::vector<std::string>(max + 1);
    for (int i = 0; i < d->value_count(); ++i) {
      const auto* v = d->value(i);
      if (v->number() >= 0 && (*n)[v->number()].empty()) {
        (*n)[v->number()] = "\"" + v->name() + "\"";
      }
    }
    return n;
  }();
  static const std::string kNone;
  return value >= 0 && value < static_cast<int>(names->size()) ? (*names)[value]
                                                               : kNone;
}

class Printer {
 public:
  explicit Printer(std::string* out) : out_(out) {}

  bool valid() const { return valid_; }

  // `,"key":` in one append: a result has some hundred keys, and
  // byte-by-byte pushes cost more than the rest of printing them.
  void Key(absl::string_view key) {
    char text[kMaxKey + 4];
    const char* end = KeyText(key, text);
    out_->append(text, end - text);
  }
  void Open() {
    out_->push_back('{');
    first_ = true;
  }
  // After an object's opening and first members appended as they were
  // printed before: `empty` when there is none yet.
  void Reopen(bool empty) { first_ = empty; }
  void Close() {
    out_->push_back('}');
    first_ = false;
  }

  void String(absl::string_view key, const std::string& value) {
    if (value.empty()) return;
    Key(key);
    Quoted(value);
  }

  void Quoted(const std::string& value) {
    const auto* p = reinterpret_cast<const unsigned char*>(value.data());
    const auto* end = p + value.size();
    const unsigned char* plain = p;
    while (plain < end && *plain < 0x80 && kAsciiEscapes[*plain] == 0) ++plain;
    if (plain == end) {  // nothing to escape, the usual case: one append
      const size_t at = out_->size();
      out_->resize(at + value.size() + 2);
      char* text = out_->data() + at;
      text[0] = '"';
      std::memcpy(text + 1, value.data(), value.size());
      text[value.size() + 1] = '"';
      return;
    }
    out_->push_back('"');
    while (p < end) {
      const unsigned char* run = p;
      while (p < end && *p < 0x80 && kAsciiEscapes[*p] == 0) ++p;
      out_->append(reinterpret_cast<const char*>(run), p - run);
      if (p == end) break;
      if (*p < 0x80) {
        const char escape = kAsciiEscapes[*p];
        if (escape == 1) {
          AppendU16(*p, out_);
        } else {
          const char text[2] = {'\\', escape};
          out_->append(text, 2);
        }
        ++p;
        continue;
      }
      const int n = Utf8SequenceLength(p, end);
      if (n == 0) {
        // protobuf's printer alters invalid UTF-8 in its own way: the
        // caller leaves such a message to it.
        valid_ = false;
        return;
      }
      uint32_t cp = p[0] & (0xFF >> (n + 1));
      for (int i = 1; i < n; ++i) cp = (cp << 6) | (p[i] & 0x3F);
      if (!EscapedCodePoint(cp)) {
        out_->append(reinterpret_cast<const char*>(p), n);
      } else if (cp < 0x10000) {
        AppendU16(cp, out_);
      } else {
        cp -= 0x10000;
        AppendU16(0xD800 + (cp >> 10), out_);
        AppendU16(0xDC00 + (cp & 0x3FF), out_);
      }
      p += n;
    }
    out_->push_back('"');
  }

  // Numbers are printed after their key, and appended with it at once.
  void Double(absl::string_view key, double value) {
    // proto3 omits +0 only: -0 has another bit pattern.
    if (value == 0 && !std::signbit(value)) return;
    if (std::isnan(value)) {
      Key(key);
      out_->append("\"NaN\"");
      return;
    }
    if (std::isinf(value)) {
      Key(key);
      out_->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      return;
    }
    char text[kMaxKey + 4 + kMaxDoubleText];
    const char* end = FormatDouble(value, KeyText(key, text));
    out_->append(text, end - text);
  }

  void Int32(absl::string_view key, int32_t value) {
    if (value == 0) return;
    char text[kMaxKey + 4 + 16];
    char* start = KeyText(key, text);
    const char* end = std::to_chars(start, start + 16, value).ptr;
    out_->append(text, end - text);
  }

  void Bool(absl::string_view key, bool value) {
    if (!value) return;
    Key(key);
    out_->append("true");
  }

  // `name` is the enum's name for `value` in quotes, empty for a number
  // without one.
  void Enum(absl::string_view key, int value, const std::string& name) {
    if (value == 0) return;
    Key(key);
    if (name.empty()) {
      char text[16];
      auto printed = std::to_chars(text, text + sizeof(text), value);
      out_->append(text, printed.ptr - text);
      return;
    }
    out_->append(name);
  }

 private:
  // Keys of up to this many bytes are written with what follows them.
  static constexpr size_t kMaxKey = 60;

  // Writes `,"key":` at `text`, which has room for kMaxKey + 4 bytes, and
  // returns its end; a longer key is appended to the line at once, and
  // `text` returned.
  char* KeyText(absl::string_view key, char* text) {
    if (key.size() > kMaxKey) {
      if (!first_) out_->push_back(',');
      first_ = false;
      out_->push_back('"');
      out_->append(key.data(), key.size());
      out_->append("\":", 2);
      return text;
    }
    char* p = text;
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    std::memcpy(p, key.data(), key.size());
    p += key.size();
    *p++ = '"';
    *p++ = ':';
    return p;
  }

  std::string* out_;
  bool first_ = true;
  bool valid_ = true;
};

// 10^0 to 10^19.
constexpr std::array<uint64_t, 20> kPowersOfTen = [] {
  std::array<uint64_t, 20> powers{};
  uint64_t power = 1;
  for (uint64_t& p : powers) {
    p = power;
    power *= 10;  // wraps after 10^19, which is not kept
  }
  return powers;
}();

// "00" to "99": digits are written two at a time, which halves the
// divisions.
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}();

// `n`'s decimal digits, trailing zeros dropped as %g drops them.
int Digits(uint64_t n, int width, char* digits) {
  int i = width;
  for (; i >= 2; i -= 2) {
    std::memcpy(digits + i - 2, &kDigitPairs[2 * (n % 100)], 2);
    n /= 100;
  }
  if (i == 1) digits[0] = static_cast<char>('0' + n);
  int count = width;
  while (count > 1 && digits[count - 1] == '0') --count;
  return count;
}

// SimpleDtoa's choice (below) made exactly, in 128-bit integers, without
// printf's arbitrary precision or a read back: the digits of %.15g when
// they read back as `value`, otherwise of %.17g, in %g's fixed layout.
// False, for the way through the shortest form, where this does not decide
// cheaply: magnitudes outside [2^-64, 2^52), powers of two (whose lower
// neighbour is nearer), exact ties, and %g's exponent form.
bool ExactDigits(double value, char* digits, int* count, int* exponent) {
  const uint64_t bits = absl::bit_cast<uint64_t>(std::fabs(value));
  constexpr uint64_t kHidden = uint64_t{1} << 52;
  const uint64_t mantissa = (bits & (kHidden - 1)) | kHidden;
  // value = mantissa * 2^-shift. With shift < 117, mantissa * 10^19 and
  // the products below stay under 2^128.
  const int shift = 1075 - static_cast<int>(bits >> 52);
  if (shift <= 0 || shift >= 117 || mantissa == kHidden) return false;
  // The decimal exponent: value lies in [2^(52 - shift), 2^(53 - shift)),
  // so this is it or one less.
  int e10 = static_cast<int>(std::floor((52 - shift) * 0.30102999566398120));
  // value * 10^scale, split at the binary point, rounded to nearest; false
  // on a tie.
  auto scaled = [&](int scale, absl::uint128* product, absl::uint128* whole) {
    if (scale < 0 || scale > 19) return false;
    *product = absl::uint128(mantissa) * kPowersOfTen[scale];
    const absl::uint128 half = absl::uint128(1) << (shift - 1);
    const absl::uint128 remainder = *product & ((half << 1) - 1);
    if (remainder == half) return false;
    *whole = (*product >> shift) + absl::uint128(remainder > half);
    return true;
  };
  absl::uint128 product17, n17;
  if (!scaled(16 - e10, &product17, &n17)) return false;
  if (n17 >= kPowersOfTen[17]) {
    ++e10;
    if (!scaled(16 - e10, &product17, &n17)) return false;
  }
  if (n17 < kPowersOfTen[16] || n17 >= kPowersOfTen[17]) return false;
  absl::uint128 product15, n15;
  if (!scaled(14 - e10, &product15, &n15) || n15 >= kPowersOfTen[15]) {
    return false;
  }
  // %.15g reads back as value when it lies within half a unit in the last
  // place of value (a unit is 2^-shift); scaled by 10^(14 - e10) * 2^shift,
  // twice the distance is below 10^(14 - e10). Equality is a tie that
  // strtod breaks to the even mantissa: left to the other way.
  const absl::uint128 at = n15 << shift;
  const absl::uint128 distance =
      at > product15 ? at - product15 : product15 - at;
  const absl::uint128 limit = kPowersOfTen[14 - e10];
  if (2 * distance == limit) return false;
  const bool fifteen = 2 * distance < limit;
  const int precision = fifteen ? 15 : 17;
  if (e10 < -4 || e10 >= precision) return false;
  *count = fifteen ? Digits(absl::Uint128Low64(n15), 15, digits)
                   : Digits(absl::Uint128Low64(n17), 17, digits);
  *exponent = e10;
  return true;
}

// protobuf's SimpleDtoa: printf's %.15g when it reads back to the same
// double, otherwise %.17g. ExactDigits decides most values. The others are
// derived from the shortest representation (std::to_chars, Ryu), still
// cheaper than printf's path: a double whose shortest form has at most 15
// digits prints those digits in %g's layout (the double is closer to them
// than half a unit of the 15th digit, so %.15g rounds to them too); one
// that needs more fails %.15g's round trip and gets %.17g, whose digits are
// the shortest form's when it has 17. Writes at `out`, which has room for
// kMaxDoubleText bytes, and returns the end.
char* FormatDouble(double value, char* out) {
  char* const limit = out + kMaxDoubleText;
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    if (value == 0 && std::signbit(value)) {
      out[0] = '-';
      out[1] = '0';
      return out + 2;
    }
    return std::to_chars(out, limit, static_cast<int64_t>(value)).ptr;
  }
  if (std::fabs(value) < std::numeric_limits<double>::min()) {
    // Subnormals carry fewer digits than the argument above needs: printf's
    // way, as SimpleDtoa does it.
    auto printed =
        std::to_chars(out, limit, value, std::chars_format::general, 15);
    double back = 0;
    std::from_chars(out, printed.ptr, back);
    if (back != value) {
      printed =
          std::to_chars(out, limit, value, std::chars_format::general, 17);
    }
    return printed.ptr;
  }
  const bool negative = value < 0;
  char digits[20];
  int count = 0;
  int exponent = 0;
  if (!ExactDigits(value, digits, &count, &exponent)) {
    char text[40];
    const auto shortest = std::to_chars(text, text + sizeof(text), value,
                                        std::chars_format::scientific);
    const char* p = text + (negative ? 1 : 0);
    const char* end = shortest.ptr;
    // d[.ddd]e[+-]XX
    const char* e = p;
    for (; *e != 'e'; ++e) {
      if (*e != '.') digits[count++] = *e;
    }
    std::from_chars(e + (e[1] == '+' ? 2 : 1), end, exponent);
    // 17 digits: the shortest form is then the double rounded to 17
    // digits, which %.17g prints. 16: %.17g's 17th digit is not in it.
    if (count == 16) {
      return std::to_chars(out, limit, value, std::chars_format::general, 17)
          .ptr;
    }
    const int precision = count > 15 ? 17 : 15;
    if (exponent < -4 || exponent >= precision) {
      // to_chars' exponent form is printf's
      std::memcpy(out, text, end - text);
      return out + (end - text);
    }
  }
  if (negative) *out++ = '-';
  if (exponent < 0) {
    *out++ = '0';
    *out++ = '.';
    std::memset(out, '0', -exponent - 1);
    out += -exponent - 1;
    std::memcpy(out, digits, count);
    return out + count;
  }
  const int integer = exponent + 1;
  if (count <= integer) {
    std::memcpy(out, digits, count);
    out += count;
    std::memset(out, '0', integer - count);
    return out + (integer - count);
  }
  std::memcpy(out, digits, integer);
  out += integer;
  *out++ = '.';
  std::memcpy(out, digits + integer, count - integer);
  return out + (count - integer);
}

// The civil date of a day counted from 1970-01-01 (H. Hinnant's
// civil_from_days).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void AppendDigits(uint64_t value, int width, std::string* out) {
  char text[20];
  for (int i = width - 1; i >= 0; --i) {
    text[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(text, width);
}

// Writes a timestamp under a key when the message has it.
using TimestampWriter = absl::FunctionRef<void(
    const char* key, bool has, const google::protobuf::Timestamp& t)>;

void AppendExplanation(
    const google::protobuf::RepeatedPtrField<v1::RuleHit>& explanation,
    Printer* printer, std::string* out) {
  Printer& p = *printer;
  p.Key("explanation");
  out->push_back('[');
  bool first = true;
  for (const v1::RuleHit& hit : explanation) {
    if (!first) out->push_back(',');
    first = false;
    p.Open();
    p.String("rule_id", hit.rule_id());
    p.Enum("kind", hit.kind(), EnumName<v1::RuleKind>(hit.kind()));
    p.Double("raw_points", hit.raw_points());
    p.Double("points", hit.points());
    p.Int32("event_count", hit.event_count());
    p.String("sentence", hit.sentence());
    p.String("persona_id", hit.persona_id());
    p.Close();
  }
  out->push_back(']');
}

void AppendRouting(const v1::RoutingDecision& r, Printer* printer) {
  Printer& p = *printer;
  p.Key("routing");
  p.Open();
  p.String("team_id", r.team_id());
  p.String("owner_id", r.owner_id());
  p.Enum("reason", r.reason(), EnumName<v1::RoutingReason>(r.reason()));
  p.String("rule_id", r.rule_id());
  p.Enum("strategy", r.strategy(),
         EnumName<v1::AssignmentStrategy>(r.strategy()));
  p.String("explanation", r.explanation());
  p.Close();
}

void AppendSla(const v1::SlaStatus& s, Printer* printer,
               TimestampWriter timestamp) {
  Printer& p = *printer;
  p.Key("sla");
  p.Open();
  p.Enum("priority", s.priority(), EnumName<v1::Priority>(s.priority()));
  timestamp("stage_entered_at", s.has_stage_entered_at(), s.stage_entered_at());
  timestamp("first_touch_due", s.has_first_touch_due(), s.first_touch_due());
  timestamp("accept_or_reject_due", s.has_accept_or_reject_due(),
            s.accept_or_reject_due());
  timestamp("feedback_due", s.has_feedback_due(), s.feedback_due());
  p.Enum("state", s.state(), EnumName<v1::SlaState>(s.state()));
  p.Enum("escalation_due", s.escalation_due(),
         EnumName<v1::EscalationAction>(s.escalation_due()));
  p.Close();
}

}  // namespace

void ScoreJsonWriter::AppendTimestamp(int64_t seconds, int32_t nanos,
                                      std::string* out) {
  if (seconds != cached_seconds_ || nanos != cached_nanos_) {
    std::string& text = cached_timestamp_;
    text.clear();
    text.push_back('"');
    int64_t days = seconds / 86400;
    int64_t rest = seconds % 86400;
    if (rest < 0) {
      rest += 86400;
      --days;
    }
    int64_t year = 0;
    unsigned month = 0, day = 0;
    CivilFromDays(days, &year, &month, &day);
    AppendDigits(static_cast<uint64_t>(year), 4, &text);
    text.push_back('-');
    AppendDigits(month, 2, &text);
    text.push_back('-');
    AppendDigits(day, 2, &text);
    text.push_back('T');
    AppendDigits(static_cast<uint64_t>(rest / 3600), 2, &text);
    text.push_back(':');
    AppendDigits(static_cast<uint64_t>(rest / 60 % 60), 2, &text);
    text.push_back(':');
    AppendDigits(static_cast<uint64_t>(rest % 60), 2, &text);
    if (nanos != 0) {
      text.push_back('.');
      if (nanos % 1000000 == 0) {
        AppendDigits(static_cast<uint64_t>(nanos / 1000000), 3, &text);
      } else if (nanos % 1000 == 0) {
        AppendDigits(static_cast<uint64_t>(nanos / 1000), 6, &text);
      } else {
        AppendDigits(static_cast<uint64_t>(nanos), 9, &text);
      }
    }
    text.append("Z\"");
    cached_seconds_ = seconds;
    cached_nanos_ = nanos;
  }
  out->append(cached_timestamp_);
}

void ScoreJsonWriter::Append(const v1::ScoreResult& result, std::string* out) {
  if (Print(result, false, {}, out)) return;
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(result, &text, options);
  out->append(text);
}

void ScoreJsonWriter::Append(const v1::ScoreResult& result,
                             absl::Span<const RuleContribution> explanation,
                             std::string* out) {
  if (Print(result, true, explanation, out)) return;
  v1::ScoreResult whole = result;
  for (const RuleContribution& c : explanation) {
    DescribeRuleHit(playbook_->playbook(), c, whole.add_explanation());
  }
  Append(whole, out);
}

const ScoreJsonWriter::RuleText& ScoreJsonWriter::TextOf(
    const RuleContribution& c) {
  const uint64_t key = static_cast<uint64_t>(c.kind) << 48 |
                       static_cast<uint64_t>(c.persona + 1) << 32 |
                       static_cast<uint32_t>(c.rule + 1);
  auto [it, added] = rule_texts_.try_emplace(key);
  if (!added) return it->second;
  const v1::Playbook& playbook = playbook_->playbook();
  RuleText& text = it->second;
  Printer head(&text.head);
  head.Open();
  head.String("rule_id", RuleIdOf(playbook, c));
  head.Enum("kind", c.kind, EnumName<v1::RuleKind>(c.kind));
  Printer persona(&text.persona);
  persona.Reopen(false);
  persona.String("persona_id", PersonaIdOf(playbook, c));
  return text;
}

bool ScoreJsonWriter::Print(const v1::ScoreResult& result, bool contributions,
                            absl::Span<const RuleContribution> explanation,
                            std::string* out) {
  const size_t start = out->size();
  Printer p(out);
  bool valid = true;
  auto timestamp = [&](const char* key, bool has,
                       const google::protobuf::Timestamp& t) {
    if (!has) return;
    if (!IsValidTimestamp(t)) {
      valid = false;  // protobuf refuses it: its message, not ours
      return;
    }
    p.Key(key);
    AppendTimestamp(t.seconds(), t.nanos(), out);
  };

  p.Open();
  p.String("lead_id", result.lead_id());
  p.Double("fit_score", result.fit_score());
  p.String("grade", result.grade());
  p.String("persona_id", result.persona_id());
  p.Double("engagement_score", result.engagement_score());
  p.Double("total_score", result.total_score());
  p.Enum("recommended_stage", result.recommended_stage(),
         EnumName<v1::LifecycleStage>(result.recommended_stage()));
  p.Enum("priority", result.priority(),
         EnumName<v1::Priority>(result.priority()));
  p.Bool("hand_raiser", result.hand_raiser());
  p.Enum(
      "disqualification_reason", result.disqualification_reason(),
      EnumName<v1::DisqualificationReason>(result.disqualification_reason()));
  if (contributions) {
    if (!explanation.empty()) {
      // AppendExplanation's bytes for the RuleHits DescribeRuleHit would
      // make of `explanation`.
      p.Key("explanation");
      out->push_back('[');
      for (size_t i = 0; i < explanation.size(); ++i) {
        const RuleContribution& c = explanation[i];
        const RuleText& text = TextOf(c);
        if (i > 0) out->push_back(',');
        out->append(text.head);
        p.Reopen(text.head.size() == 1);
        p.Double("raw_points", c.raw_points);
        p.Double("points", c.points);
        p.Int32("event_count", c.event_count);
        out->append(text.persona);
        p.Close();
      }
      out->push_back(']');
    }
  } else if (result.explanation_size() > 0) {
    AppendExplanation(result.explanation(), &p, out);
  }
  p.String("playbook_version", result.playbook_version());
  timestamp("scored_at", result.has_scored_at(), result.scored_at());
  p.Int32("events_counted", result.events_counted());
  p.Int32("duplicate_events", result.duplicate_events());
  if (result.has_routing()) AppendRouting(result.routing(), &p);
  if (result.has_sla()) AppendSla(result.sla(), &p, timestamp);
  p.Close();
  if (valid && p.valid()) return true;
  out->resize(start);
  return false;
}

}  // namespace smarketing
