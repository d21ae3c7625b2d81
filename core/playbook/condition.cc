#include "core/playbook/condition.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/filtered_re2.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "core/base/yaml_message.h"

namespace smarketing {
namespace {

// Conditions nested deeper than this are refused: no real rule needs it, and
// it bounds evaluation's recursion.
constexpr int kMaxConditionDepth = 32;

FieldValue Text(absl::string_view text) {
  FieldValue v;
  if (!text.empty()) {
    v.kind = FieldValue::kString;
    v.text = text;
  }
  return v;
}

// Unknown numbers (0 on a lead) read as missing.
FieldValue Number(double number, bool zero_is_missing) {
  FieldValue v;
  if (number != 0 || !zero_is_missing) {
    v.kind = FieldValue::kNumber;
    v.number = number;
  }
  return v;
}

FieldValue Bool(bool b) {
  FieldValue v;
  v.kind = FieldValue::kBool;
  v.boolean = b;
  return v;
}

FieldValue Enum(const google::protobuf::EnumDescriptor* type, int number) {
  FieldValue v;
  if (number != 0) {
    v.kind = FieldValue::kEnum;
    v.number = number;
    v.text = ShortEnumName(type, number);
  }
  return v;
}

char Lower(char c) {
  return absl::ascii_tolower(static_cast<unsigned char>(c));
}

// absl::ascii_tolower on 8 bytes at once: bytes 'A' to 'Z' gain 0x20.
uint64_t Lower8(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  const uint64_t heptets = x & (kOnes * 0x7F);
  const uint64_t above_z = heptets + kOnes * (0x7F - 'Z');  // bit 7: > 'Z'
  const uint64_t from_a = heptets + kOnes * (0x80 - 'A');   // bit 7: >= 'A'
  const uint64_t upper = ~x & (from_a ^ above_z) & (kOnes * 0x80);
  return x | (upper >> 2);
}

// Case-insensitive tests against text that compilation already lower-cased
// (`lower`): the same results as absl's *IgnoreCase, inlined.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool EqualsLowered(
    absl::string_view text, absl::string_view lower) {
  if (text.size() != lower.size()) return false;
  const char* a = text.data();
  const char* b = lower.data();
  size_t n = text.size();
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (Lower8(x) != y) return false;
  }
  for (; n > 0; ++a, ++b, --n) {
    if (Lower(*a) != *b) return false;
  }
  return true;
}

bool StartsWithLowered(absl::string_view text, absl::string_view lower) {
  return text.size() >= lower.size() &&
         EqualsLowered(text.substr(0, lower.size()), lower);
}

bool EndsWithLowered(absl::string_view text, absl::string_view lower) {
  return text.size() >= lower.size() &&
         EqualsLowered(text.substr(text.size() - lower.size()), lower);
}

// Finds the bytes of a text that may start a literal, 16 at a time: bit i of
// Next() is set when byte i of the block, OR 0x20, is one of up to four
// targets. OR 0x20 folds ASCII letters to lower case and lets a few other
// bytes through (0x0F for '/'), which callers rule out when they compare.
class ByteScanner {
 public:
  static constexpr int kMaxTargets = 4;

  // False when there are too many distinct targets.
  bool Add(char c) {
    const char target = static_cast<char>(c | 0x20);
    for (int t = 0; t < count_; ++t) {
      if (targets_[t] == target) return true;
    }
    if (count_ == kMaxTargets) return false;
    targets_[count_++] = target;
    return true;
  }
  bool empty() const { return count_ == 0; }

  // The candidate bits of text[base, base + 16), none past the end; sets
  // *high when a byte there is outside ASCII.
  uint32_t Block(absl::string_view text, size_t base, bool* high) const {
    const size_t n = std::min<size_t>(16, text.size() - base);
#if defined(__SSE2__)
    __m128i block;
    if (n == 16) {
      block =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + base));
    } else {
      alignas(16) char buffer[16] = {};
      std::memcpy(buffer, text.data() + base, n);
      block = _mm_load_si128(reinterpret_cast<const __m128i*>(buffer));
    }
    *high = _mm_movemask_epi8(block) != 0;
    const __m128i folded = _mm_or_si128(block, _mm_set1_epi8(0x20));
    uint32_t bits = 0;
    for (int t = 0; t < count_; ++t) {
      bits |= static_cast<uint32_t>(_mm_movemask_epi8(
          _mm_cmpeq_epi8(folded, _mm_set1_epi8(targets_[t]))));
    }
    return n == 16 ? bits : bits & ((uint32_t{1} << n) - 1);
#else
    uint32_t bits = 0;
    *high = false;
    for (size_t i = 0; i < n; ++i) {
      const char c = text[base + i];
      if (static_cast<unsigned char>(c) >= 0x80) *high = true;
      for (int t = 0; t < count_; ++t) {
        if (static_cast<char>(c | 0x20) == targets_[t])
          bits |= uint32_t{1} << i;
      }
    }
    return bits;
#endif
  }

 private:
  std::array<char, kMaxTargets> targets_{};
  int count_ = 0;
};

bool ContainsLowered(absl::string_view haystack, absl::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  ByteScanner scanner;
  scanner.Add(needle[0]);
  const size_t last = haystack.size() - needle.size();  // last start
  for (size_t base = 0; base <= last; base += 16) {
    bool high;
    uint32_t bits = scanner.Block(haystack, base, &high);
    while (bits != 0) {
      const size_t i = base + __builtin_ctz(bits);
      bits &= bits - 1;
      if (i > last) return false;
      if (EqualsLowered(haystack.substr(i, needle.size()), needle)) return true;
    }
  }
  return false;
}

}  // namespace

// Most texts a rule's regex sees cannot match it because they lack the
// literals it needs: a URL regex of product pages against "/blog/...". RE2's
// FilteredRE2 computes those literals ("atoms") and the AND/OR of them a match
// requires; finding the atoms in the text is left to the caller. Here it is a
// single pass over the text, and the AND/OR is tabulated at compile time for
// every set of atoms found, so a text that lacks them costs a scan instead of
// a regex search. A text that passes still goes through RE2 itself.
class RegexPrefilter {
 public:
  // Null when the regex needs no atom, needs too many to tabulate, or has
  // atoms outside ASCII (whose case folding a byte scan cannot follow).
  static std::shared_ptr<const RegexPrefilter> Build(
      const std::string& pattern, const RE2::Options& options) {
    re2::FilteredRE2 filter(/*min_atom_len=*/1);
    int id = 0;
    if (filter.Add(pattern, options, &id) != RE2::NoError) return nullptr;
    std::vector<std::string> atoms;
    filter.Compile(&atoms);
    if (atoms.empty() || atoms.size() > kMaxAtoms) return nullptr;
    for (const std::string& atom : atoms) {
      if (atom.empty()) return nullptr;
      for (char c : atom) {
        if (static_cast<unsigned char>(c) >= 0x80 || Lower(c) != c) {
          return nullptr;
        }
      }
    }
    auto out = std::make_shared<RegexPrefilter>();
    out->atoms_ = std::move(atoms);
    out->passes_.resize(size_t{1} << out->atoms_.size());
    std::vector<int> found;
    std::vector<int> potential;
    for (uint32_t set = 0; set < out->passes_.size(); ++set) {
      found.clear();
      for (int a = 0; a < static_cast<int>(out->atoms_.size()); ++a) {
        if (set & (1u << a)) found.push_back(a);
      }
      filter.AllPotentials(found, &potential);
      out->passes_[set] = !potential.empty();
    }
    // Nothing to gain when the text needs no atom at all.
    if (out->passes_[0]) return nullptr;
    for (int a = 0; a < static_cast<int>(out->atoms_.size()); ++a) {
      const std::string& atom = out->atoms_[a];
      for (const unsigned char c :
           {static_cast<unsigned char>(atom[0]),
            static_cast<unsigned char>(absl::ascii_toupper(atom[0]))}) {
        out->first_[c] |= 1u << a;
      }
      if (atom.size() == 1) {
        for (uint32_t& second : out->second_) second |= 1u << a;
      } else {
        for (const unsigned char c :
             {static_cast<unsigned char>(atom[1]),
              static_cast<unsigned char>(absl::ascii_toupper(atom[1]))}) {
          out->second_[c] |= 1u << a;
        }
      }
    }
    for (int c = 0x80; c < 0x100; ++c) out->first_[c] = kNotAscii;
    for (uint32_t& second : out->second_) second |= kNotAscii;
    for (const std::string& atom : out->atoms_) {
      if (!out->scanner_.Add(atom[0])) {
        out->scanner_ = ByteScanner();
        break;
      }
    }
    return out;
  }

  // False only when `text` cannot match the regex.
  bool MayMatch(absl::string_view text) const {
    uint32_t found = 0;
    const size_t size = text.size();
    if (!scanner_.empty()) {
      for (size_t base = 0; base < size; base += 16) {
        bool high;
        uint32_t bits = scanner_.Block(text, base, &high);
        // Outside ASCII, RE2 folds case in ways a byte scan does not (the
        // Kelvin sign matches "k"): let the regex decide.
        if (high) return true;
        while (bits != 0) {
          const size_t i = base + __builtin_ctz(bits);
          bits &= bits - 1;
          const uint32_t candidates = Candidates(text, i) & ~found;
          if (candidates != 0 && FindAtomsAt(text, i, candidates, &found)) {
            return true;
          }
        }
      }
      return false;
    }
    for (size_t i = 0; i < size; ++i) {
      const uint32_t first = first_[static_cast<unsigned char>(text[i])];
      if (first == 0) continue;
      if (first == kNotAscii) return true;
      const uint32_t candidates = Candidates(text, i) & ~found;
      if (candidates != 0 && FindAtomsAt(text, i, candidates, &found)) {
        return true;
      }
    }
    return false;
  }

 private:
  // The atoms that may start at text[i], by its first two bytes (a NUL past
  // the end: the full comparison rules out what it lets through).
  uint32_t Candidates(absl::string_view text, size_t i) const {
    const unsigned char next =
        i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    return first_[static_cast<unsigned char>(text[i])] & second_[next] &
           ~kNotAscii;
  }

  // Adds to *found the `candidates` that are at text[i]; true when the regex
  // may now match.
  bool FindAtomsAt(absl::string_view text, size_t i, uint32_t candidates,
                   uint32_t* found) const {
    const size_t size = text.size();
    while (candidates != 0) {
      const int a = __builtin_ctz(candidates);
      candidates &= candidates - 1;
      const std::string& atom = atoms_[a];
      if (atom.size() <= size - i &&
          EqualsLowered(text.substr(i, atom.size()), atom)) {
        *found |= 1u << a;
        if (passes_[*found]) return true;
      }
    }
    return false;
  }

 private:
  static constexpr size_t kMaxAtoms = 10;
  static constexpr uint32_t kNotAscii = uint32_t{1} << 31;
  std::vector<std::string> atoms_;  // lower-case ASCII
  // Bit sets of the atoms whose first (second) byte may be a given byte,
  // either case; kNotAscii for first bytes outside ASCII, and in every second_
  // so that it survives the intersection. Atoms of one byte accept any second.
  std::array<uint32_t, 256> first_{};
  std::array<uint32_t, 256> second_{};
  // The atoms' first bytes, when few enough to scan for; else empty.
  ByteScanner scanner_;
  // Whether a match is still possible with exactly these atoms found.
  std::vector<uint8_t> passes_;
};

namespace {

const char* TypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "text";
    case FieldType::kNumber:
      return "a number";
    case FieldType::kBool:
      return "true or false";
    case FieldType::kEnum:
      return "a named value";
    case FieldType::kDynamic:
      break;
  }
  return "any value";
}

}  // namespace

namespace {

// ReadField, inlined into evaluation.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline FieldValue Read(const FieldRef& field,
                                                    const EvalContext& c) {
  const v1::Lead& lead = *c.lead;
  switch (field.id) {
    case FieldId::kAttribute:
      return FromProtoValue((*c.attributes)[field.slot]);
    case FieldId::kEventType:
      return Enum(field.enum_type, c.event->type);
    case FieldId::kEventCustomType:
      return Text(c.event->custom_type);
    case FieldId::kEventProperty:
      return c.properties->Get(field.slot);
    case FieldId::kScoreFit:
      return Number(c.score->fit, false);
    case FieldId::kScoreGrade:
      return Text(c.score->grade);
    case FieldId::kScorePersona:
      return Text(c.score->persona);
    case FieldId::kScoreEngagement:
      return Number(c.score->engagement, false);
    case FieldId::kScoreTotal:
      return Number(c.score->total, false);
    case FieldId::kScoreHandRaiser:
      return Bool(c.score->hand_raiser);
    default:
      break;
  }
  switch (field.type) {
    case FieldType::kString:
      return Text(LeadText(lead, field.id));
    case FieldType::kNumber:
      return Number(LeadNumber(lead, field.id), true);
    case FieldType::kBool:
      return Bool(LeadBool(lead, field.id));
    case FieldType::kEnum:
      return Enum(field.enum_type,
                  static_cast<int>(LeadInteger(lead, field.id)));
    case FieldType::kDynamic:
      break;
  }
  return {};
}

}  // namespace

FieldValue ReadField(const FieldRef& field, const EvalContext& c) {
  return Read(field, c);
}

int CompiledCondition::SolePropertySlot() const {
  int slot = -1;
  for (const Node& node : nodes_) {
    if (node.op == Op::kAll || node.op == Op::kAny || node.op == Op::kNot) {
      continue;
    }
    // The event's type is the same for every event the value is decided
    // for: the scorer keys its decisions by type too.
    if (node.field.id == FieldId::kEventType) continue;
    if (node.field.id != FieldId::kEventProperty ||
        (slot >= 0 && node.field.slot != slot)) {
      return -1;
    }
    slot = node.field.slot;
  }
  return slot;
}

bool CompiledCondition::SoleSearchedField(FieldRef* field) const {
  const Node* sole = nullptr;
  bool searched = false;
  for (const Node& node : nodes_) {
    if (node.op == Op::kAll || node.op == Op::kAny || node.op == Op::kNot) {
      continue;
    }
    if (sole != nullptr && (node.field.id != sole->field.id ||
                            node.field.slot != sole->field.slot)) {
      return false;
    }
    sole = &node;
    searched |= node.op == Op::kRegex || node.op == Op::kContains ||
                node.op == Op::kContainsAny;
  }
  if (sole == nullptr || !searched) return false;
  *field = sole->field;
  return true;
}

bool CompiledCondition::Compile(const v1::Condition& condition,
                                FieldScope scope, const std::string& path,
                                ProblemList* problems, SlotTable* attributes,
                                SlotTable* properties) {
  nodes_.clear();
  const int before = problems->size();
  CompileNode(condition, scope, path, 0, problems, attributes, properties);
  if (problems->size() != before) {
    nodes_.clear();
    return false;
  }
  return true;
}

namespace {

// The one operator `c` sets, or an empty view after adding the problem.
absl::string_view OnlyOperator(const v1::Condition& c, const std::string& path,
                               ProblemList* problems) {
  std::vector<absl::string_view> operators;
  if (c.has_equals()) operators.push_back("equals");
  if (c.has_in()) operators.push_back("in");
  if (c.has_range()) operators.push_back("range");
  if (c.has_contains()) operators.push_back("contains");
  if (c.has_contains_any()) operators.push_back("contains_any");
  if (c.has_prefix()) operators.push_back("prefix");
  if (c.has_suffix()) operators.push_back("suffix");
  if (c.has_regex()) operators.push_back("regex");
  if (c.has_exists()) operators.push_back("exists");
  if (c.all_size() > 0) operators.push_back("all");
  if (c.any_size() > 0) operators.push_back("any");
  if (c.has_not_()) operators.push_back("not");
  if (operators.size() == 1) return operators[0];
  problems->Add(
      path, operators.empty()
                ? "a condition needs exactly one operator: equals, in, range, "
                  "contains, contains_any, prefix, suffix, regex, exists, all, "
                  "any or not"
                : absl::StrCat("a condition has exactly one operator; found ",
                               absl::StrJoin(operators, ", ")));
  return {};
}

}  // namespace

int CompiledCondition::CompileNode(const v1::Condition& c, FieldScope scope,
                                   const std::string& path, int depth,
                                   ProblemList* problems, SlotTable* attributes,
                                   SlotTable* properties) {
  const int index = static_cast<int>(nodes_.size());
  nodes_.emplace_back();
  if (depth > kMaxConditionDepth) {
    problems->Add(path, absl::StrCat("conditions are nested more than ",
                                     kMaxConditionDepth, " levels deep"));
    return index;
  }
  const absl::string_view op = OnlyOperator(c, path, problems);
  if (op.empty()) return index;
  if (op == "all" || op == "any" || op == "not") {
    CompileCombinator(c, op, scope, path, depth, index, problems, attributes,
                      properties);
    return index;
  }
  Node node;
  if (CompileFieldTest(c, op, scope, path, problems, attributes, properties,
                       &node)) {
    nodes_[index] = std::move(node);
  }
  return index;
}

void CompiledCondition::CompileCombinator(
    const v1::Condition& c, absl::string_view op, FieldScope scope,
    const std::string& path, int depth, int index, ProblemList* problems,
    SlotTable* attributes, SlotTable* properties) {
  if (!c.field().empty()) {
    problems->Add(absl::StrCat(path, ".field"),
                  absl::StrCat("\"", op,
                               "\" combines conditions and takes "
                               "no field; put the field in each of "
                               "them"));
  }
  std::vector<int> children;
  if (op == "not") {
    children.push_back(CompileNode(c.not_(), scope, absl::StrCat(path, ".not"),
                                   depth + 1, problems, attributes,
                                   properties));
    nodes_[index].op = Op::kNot;
  } else {
    const auto& list = op == "all" ? c.all() : c.any();
    for (int i = 0; i < list.size(); ++i) {
      children.push_back(
          CompileNode(list[i], scope, absl::StrCat(path, ".", op, "[", i, "]"),
                      depth + 1, problems, attributes, properties));
    }
    nodes_[index].op = op == "all" ? Op::kAll : Op::kAny;
  }
  nodes_[index].children = std::move(children);
}

bool CompiledCondition::CompileFieldTest(const v1::Condition& c,
                                         absl::string_view op, FieldScope scope,
                                         const std::string& path,
                                         ProblemList* problems,
                                         SlotTable* attributes,
                                         SlotTable* properties, Node* node) {
  node->case_sensitive = c.case_sensitive();
  auto field = ResolveField(c.field(), scope, attributes, properties);
  if (!field.ok()) {
    problems->Add(absl::StrCat(path, ".field"), field.status().message());
    return false;
  }
  node->field = *field;
  const FieldType type = node->field.type;
  auto type_error = [&](absl::string_view op_name) {
    problems->Add(absl::StrCat(path, ".", op_name),
                  absl::StrCat("\"", op_name, "\" cannot test \"", c.field(),
                               "\", which holds ", TypeName(type)));
  };
  const bool textual = type == FieldType::kString || type == FieldType::kEnum ||
                       type == FieldType::kDynamic;
  if (op == "equals") {
    node->op = Op::kEquals;
    node->literals.emplace_back();
    CompileLiteral(c.equals(), *node, absl::StrCat(path, ".equals"), problems,
                   &node->literals.back());
  } else if (op == "in") {
    node->op = Op::kIn;
    if (c.in().values_size() == 0) {
      problems->Add(absl::StrCat(path, ".in"), "needs at least one value");
    }
    for (int i = 0; i < c.in().values_size(); ++i) {
      node->literals.emplace_back();
      CompileLiteral(c.in().values(i), *node,
                     absl::StrCat(path, ".in[", i, "]"), problems,
                     &node->literals.back());
    }
  } else if (op == "range") {
    if (type == FieldType::kString || type == FieldType::kBool) {
      type_error("range");
    }
    CompileRange(c.range(), path, problems, node);
  } else if (op == "contains" || op == "prefix" || op == "suffix") {
    node->op = op == "contains" ? Op::kContains
               : op == "prefix" ? Op::kPrefix
                                : Op::kSuffix;
    if (!textual) type_error(op);
    node->text = op == "contains" ? c.contains()
                 : op == "prefix" ? c.prefix()
                                  : c.suffix();
    if (node->text.empty()) {
      problems->Add(absl::StrCat(path, ".", op), "must not be empty");
    }
    if (!node->case_sensitive) absl::AsciiStrToLower(&node->text);
  } else if (op == "contains_any") {
    if (!textual) type_error(op);
    CompileContainsAny(c.contains_any(), path, problems, node);
  } else if (op == "regex") {
    if (!textual) type_error("regex");
    CompileRegex(c.regex(), path, problems, node);
  } else {
    node->op = Op::kExists;
    node->exists = c.exists();
  }
  return true;
}

void CompiledCondition::CompileRange(const v1::NumericRange& range,
                                     const std::string& path,
                                     ProblemList* problems, Node* node) {
  node->op = Op::kRange;
  node->has_min = range.has_min();
  node->has_max = range.has_max();
  node->min = range.min();
  node->max = range.max();
  node->min_exclusive = range.min_exclusive();
  node->max_inclusive = range.max_inclusive();
  const bool point = !node->min_exclusive && node->max_inclusive;
  if (!node->has_min && !node->has_max) {
    problems->Add(absl::StrCat(path, ".range"), "needs min, max or both");
  } else if (node->has_min && node->has_max &&
             (point ? node->min > node->max : node->min >= node->max)) {
    problems->Add(absl::StrCat(path, ".range.max"),
                  absl::StrCat("max (", node->max, ") must be above min (",
                               node->min, ")"));
  }
  if ((node->has_min && !std::isfinite(node->min)) ||
      (node->has_max && !std::isfinite(node->max))) {
    problems->Add(absl::StrCat(path, ".range"), "bounds must be finite");
  }
}

void CompiledCondition::CompileContainsAny(
    const google::protobuf::ListValue& texts, const std::string& path,
    ProblemList* problems, Node* node) {
  node->op = Op::kContainsAny;
  if (texts.values_size() == 0) {
    problems->Add(absl::StrCat(path, ".contains_any"),
                  "needs at least one text");
  }
  for (int i = 0; i < texts.values_size(); ++i) {
    const google::protobuf::Value& text = texts.values(i);
    if (text.kind_case() != google::protobuf::Value::kStringValue ||
        text.string_value().empty()) {
      problems->Add(absl::StrCat(path, ".contains_any[", i, "]"),
                    "must be a non-empty text");
      continue;
    }
    Literal& literal = node->literals.emplace_back();
    literal.kind = FieldValue::kString;
    literal.text = text.string_value();
    if (!node->case_sensitive) absl::AsciiStrToLower(&literal.text);
  }
}

void CompiledCondition::CompileRegex(const std::string& pattern,
                                     const std::string& path,
                                     ProblemList* problems, Node* node) {
  node->op = Op::kRegex;
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(node->case_sensitive);
  auto regex = std::make_shared<const RE2>(pattern, options);
  if (!regex->ok()) {
    problems->Add(absl::StrCat(path, ".regex"),
                  absl::StrCat("does not compile: ", regex->error()));
  } else {
    node->prefilter = RegexPrefilter::Build(pattern, options);
  }
  node->regex = std::move(regex);
}

bool CompiledCondition::CompileLiteral(const google::protobuf::Value& value,
                                       const Node& node,
                                       const std::string& path,
                                       ProblemList* problems,
                                       Literal* out) const {
  const FieldType type = node.field.type;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      if (type == FieldType::kEnum) {
        const auto* e = node.field.enum_type;
        for (int i = 1; i < e->value_count(); ++i) {
          const int number = e->value(i)->number();
          if (absl::EqualsIgnoreCase(value.string_value(),
                                     e->value(i)->name()) ||
              absl::EqualsIgnoreCase(value.string_value(),
                                     ShortEnumName(e, number))) {
            out->kind = FieldValue::kEnum;
            out->number = number;
            return true;
          }
        }
        std::vector<std::string> names;
        for (int i = 1; i < e->value_count(); ++i) {
          names.emplace_back(ShortEnumName(e, e->value(i)->number()));
        }
        problems->Add(
            path,
            absl::StrCat("\"", value.string_value(), "\" is not a ", e->name(),
                         "; expected one of: ", absl::StrJoin(names, ", ")));
        return false;
      }
      if (type != FieldType::kString && type != FieldType::kDynamic) break;
      out->kind = FieldValue::kString;
      out->text = value.string_value();
      if (!node.case_sensitive) absl::AsciiStrToLower(&out->text);
      return true;
    case google::protobuf::Value::kNumberValue:
      if (type != FieldType::kNumber && type != FieldType::kDynamic) break;
      out->kind = FieldValue::kNumber;
      out->number = value.number_value();
      return true;
    case google::protobuf::Value::kBoolValue:
      if (type != FieldType::kBool && type != FieldType::kDynamic) break;
      out->kind = FieldValue::kBool;
      out->boolean = value.bool_value();
      return true;
    default:
      problems->Add(path, "expected text, a number or true/false");
      return false;
  }
  problems->Add(path, absl::StrCat("the field holds ", TypeName(type),
                                   "; this value can never equal it"));
  return false;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool CompiledCondition::Equal(
    const Literal& literal, const FieldValue& value,
    bool case_sensitive) const {
  if (literal.kind != value.kind) return false;
  switch (literal.kind) {
    case FieldValue::kString:
      return case_sensitive ? value.text == literal.text
                            : EqualsLowered(value.text, literal.text);
    case FieldValue::kNumber:
    case FieldValue::kEnum:
      return value.number == literal.number;
    case FieldValue::kBool:
      return value.boolean == literal.boolean;
    case FieldValue::kMissing:
      break;
  }
  return false;
}

bool CompiledCondition::Eval(int index, const EvalContext& context) const {
  const Node& node = nodes_[index];
  switch (node.op) {
    case Op::kAll:
      for (int child : node.children) {
        if (!Eval(child, context)) return false;
      }
      return true;
    case Op::kAny:
      for (int child : node.children) {
        if (Eval(child, context)) return true;
      }
      return false;
    case Op::kNot:
      return !Eval(node.children[0], context);
    default:
      break;
  }
  const FieldValue value = Read(node.field, context);
  switch (node.op) {
    case Op::kExists:
      return (value.kind != FieldValue::kMissing) == node.exists;
    case Op::kEquals:
      return Equal(node.literals[0], value, node.case_sensitive);
    case Op::kIn:
      for (const Literal& literal : node.literals) {
        if (Equal(literal, value, node.case_sensitive)) return true;
      }
      return false;
    case Op::kRange:
      if (value.kind != FieldValue::kNumber &&
          value.kind != FieldValue::kEnum) {
        return false;
      }
      return (!node.has_min ||
              (node.min_exclusive ? value.number > node.min
                                  : value.number >= node.min)) &&
             (!node.has_max || (node.max_inclusive ? value.number <= node.max
                                                   : value.number < node.max));
    default:
      break;
  }
  if (value.kind != FieldValue::kString && value.kind != FieldValue::kEnum) {
    return false;
  }
  const absl::string_view text = value.text;
  switch (node.op) {
    case Op::kContains:
      return node.case_sensitive ? absl::StrContains(text, node.text)
                                 : ContainsLowered(text, node.text);
    case Op::kContainsAny:
      for (const Literal& literal : node.literals) {
        if (node.case_sensitive ? absl::StrContains(text, literal.text)
                                : ContainsLowered(text, literal.text)) {
          return true;
        }
      }
      return false;
    case Op::kPrefix:
      return node.case_sensitive ? absl::StartsWith(text, node.text)
                                 : StartsWithLowered(text, node.text);
    case Op::kSuffix:
      return node.case_sensitive ? absl::EndsWith(text, node.text)
                                 : EndsWithLowered(text, node.text);
    case Op::kRegex:
      if (node.prefilter != nullptr && !node.prefilter->MayMatch(text)) {
        return false;
      }
      // What RE2::PartialMatch does without arguments to fill.
      return node.regex->Match(re2::StringPiece(text.data(), text.size()), 0,
                               text.size(), RE2::UNANCHORED, nullptr, 0);
    default:
      return false;
  }
}

}  // namespace smarketing
