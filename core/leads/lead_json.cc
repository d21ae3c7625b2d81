#include "core/leads/lead_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "core/base/utc_time.h"
#include "core/base/utf8.h"
#include "core/leads/lead_io.h"
#include "core/scoring/lead_validation.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "smarketing/v1/event.pb.h"

namespace smarketing {
namespace {

// Deeper Structs go to protobuf's parser, which applies its own limit.
constexpr int kMaxDepth = 32;
// protobuf refuses an integer that a double cannot hold exactly; up to 15
// digits always fit, longer ones go to protobuf's parser.
constexpr int kMaxDoubleIntegerDigits = 15;
// Up to 18 digits always fit an int64.
constexpr int kMaxInt64Digits = 18;

// Enum values by exact name, as protobuf's JSON parser matches them.
class EnumNames {
 public:
  explicit EnumNames(const google::protobuf::EnumDescriptor* type) {
    for (int i = 0; i < type->value_count(); ++i) {
      const std::string& name = type->value(i)->name();
      if (by_size_.size() <= name.size()) by_size_.resize(name.size() + 1);
      by_size_[name.size()].emplace_back(name, type->value(i)->number());
    }
  }
  bool Find(absl::string_view name, int* number) const {
    if (name.empty() || name.size() >= by_size_.size()) return false;
    // Names share their prefix: among those of a size (a few), the last
    // letter tells most apart without a call to memcmp.
    for (const auto& [candidate, value] : by_size_[name.size()]) {
      if (candidate.back() == name.back() &&
          std::memcmp(candidate.data(), name.data(), name.size()) == 0) {
        *number = value;
        return true;
      }
    }
    return false;
  }

 private:
  // The names of each size, with their numbers.
  std::vector<std::vector<std::pair<std::string, int>>> by_size_;
};

const EnumNames& SeniorityNames() {
  static const EnumNames* names = new EnumNames(v1::Seniority_descriptor());
  return *names;
}

const EnumNames& EventTypeNames() {
  static const EnumNames* names = new EnumNames(v1::EventType_descriptor());
  return *names;
}

// Index of `key` among fields known by their proto name and, when it
// differs, their JSON name; -1 when unknown.
struct FieldName {
  absl::string_view proto;
  absl::string_view json;
};
// The size and the first letter tell most names apart without a call to
// memcmp.
bool SameName(absl::string_view key, absl::string_view name) {
  return key.size() == name.size() && !name.empty() && key[0] == name[0] &&
         std::memcmp(key.data(), name.data(), name.size()) == 0;
}

template <size_t N>
int FieldIndex(absl::string_view key, const FieldName (&fields)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (SameName(key, fields[i].proto) || SameName(key, fields[i].json)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// A field's key as compact JSON writes it, quotes and colon included:
// `"type":`, or `""type"":` in a CSV cell. The readers try the field that
// usually comes next (writers, protobuf's included, keep the fields' order)
// by comparing these bytes where the key starts, before reading a key.
struct KeyBytes {
  alignas(16) char bytes[32] = {};
  int size = 0;
};

template <size_t N>
struct FieldKeys {
  KeyBytes keys[N];
};

template <size_t N>
constexpr FieldKeys<N> MakeFieldKeys(const FieldName (&fields)[N],
                                     bool doubled_quotes) {
  FieldKeys<N> out;
  for (size_t i = 0; i < N; ++i) {
    KeyBytes& key = out.keys[i];
    // A name too long for 32 bytes does not compile.
    auto put = [&key](char c) { key.bytes[key.size++] = c; };
    auto quote = [&] {
      put('"');
      if (doubled_quotes) put('"');
    };
    quote();
    for (char c : fields[i].proto) put(c);
    quote();
    put(':');
  }
  return out;
}

// Whether `key`'s bytes are at `p`, with `end` the end of the input.
inline bool KeyAt(const unsigned char* p, const unsigned char* end,
                  const KeyBytes& key) {
#if defined(__SSE2__)
  // A key of up to 16 bytes takes one comparison of 16, a longer one two:
  // the bytes past the key are masked out.
  const int wide = key.size > 16 ? 32 : 16;
  if (end - p < wide) return false;
  const uint32_t want = key.size >= 32 ? ~0u : (1u << key.size) - 1;
  uint32_t equal = static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
      _mm_load_si128(reinterpret_cast<const __m128i*>(key.bytes)))));
  if (wide == 32) {
    equal |= static_cast<uint32_t>(
                 static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)),
                     _mm_load_si128(
                         reinterpret_cast<const __m128i*>(key.bytes + 16))))))
             << 16;
  }
  return (equal & want) == want;
#else
  return end - p >= key.size && std::memcmp(p, key.bytes, key.size) == 0;
#endif
}

constexpr FieldName kLeadFields[] = {{"id", ""},
                                     {"contact", ""},
                                     {"job_title", "jobTitle"},
                                     {"department", ""},
                                     {"seniority", ""},
                                     {"company", ""},
                                     {"source", ""},
                                     {"campaign", ""},
                                     {"product", ""},
                                     {"consent", ""},
                                     {"attributes", ""},
                                     {"events", ""},
                                     {"created_at", "createdAt"}};
constexpr FieldName kContactFields[] = {{"first_name", "firstName"},
                                        {"last_name", "lastName"},
                                        {"email", ""},
                                        {"phone", ""}};
constexpr FieldName kCompanyFields[] = {{"name", ""},
                                        {"domain", ""},
                                        {"industry", ""},
                                        {"employee_count", "employeeCount"},
                                        {"annual_revenue", "annualRevenue"},
                                        {"country", ""},
                                        {"region", ""}};
constexpr FieldName kConsentFields[] = {{"opted_out", "optedOut"},
                                        {"do_not_email", "doNotEmail"},
                                        {"do_not_call", "doNotCall"}};
constexpr FieldName kEventFields[] = {{"id", ""},
                                      {"type", ""},
                                      {"occurred_at", "occurredAt"},
                                      {"properties", ""},
                                      {"custom_type", "customType"}};

// Each table of fields' keys, as JSON lines write them and as CSV cells do.
template <const auto& kFields>
constexpr decltype(MakeFieldKeys(kFields, false)) kFieldKeys[2] = {
    MakeFieldKeys(kFields, false), MakeFieldKeys(kFields, true)};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Skips the plain ASCII run of a string at p: up to the first quote,
// backslash, control character or non-ASCII byte, or to a point near `end`
// that the caller finishes byte by byte. Strings are most of a lead file,
// and this is where the reader spends its time.
const unsigned char* SkipPlain(const unsigned char* p,
                               const unsigned char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // As signed bytes, non-ASCII bytes are negative: below 0x20 like
    // control characters.
    const __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
        _mm_cmplt_epi8(v, space));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  return p;
}

// Every method returns false as soon as the text leaves what the fast path
// handles; the caller then defers to protobuf's parser. With
// `kDoubledQuotes`, every quote of the JSON is written twice, as in a quoted
// CSV cell, so that the cell is read where it lies; a template argument
// rather than a flag, so that JSON lines pay nothing for it.
template <bool kDoubledQuotes>
class Parser {
 public:
  explicit Parser(absl::string_view json)
      : p_(reinterpret_cast<const unsigned char*>(json.data())),
        end_(p_ + json.size()) {}

  // Events go to `flat` instead of the lead, checked as ValidateEvent
  // checks them; decoded strings to `text`, which must have room for
  // `json` (decoding never lengthens a string), so that views stay valid.
  Parser(absl::string_view json, FlatLead* flat, std::string* text,
         std::vector<FlatValue>* pending)
      : Parser(json) {
    flat_ = flat;
    text_ = text;
    pending_ = pending;
  }

  bool Lead(v1::Lead* lead) {
    if (!LeadObject(lead)) return false;
    SkipSpace();
    return p_ == end_;
  }

  // Flat mode: the text is an array of events and nothing else.
  bool Events() {
    if (!FlatEvents()) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ < end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  // Compact JSON has no space between tokens: the expected byte is looked
  // for first, and space skipped only when it is not there.
  bool Peek(char c) {
    if (p_ < end_ && *p_ == static_cast<unsigned char>(c)) return true;
    SkipSpace();
    return p_ < end_ && *p_ == static_cast<unsigned char>(c);
  }

  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++p_;
    return true;
  }

  // The rest of a quote whose first byte was just read: nothing, or its
  // second byte when quotes are doubled.
  bool QuoteTail() {
    if (!kDoubledQuotes) return true;
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    return true;
  }

  bool Quote() { return Consume('"') && QuoteTail(); }

  // Where the string that StringBody just read ends.
  const unsigned char* StringEnd() const {
    return p_ - (kDoubledQuotes ? 2 : 1);
  }

  bool Literal(absl::string_view word) {
    SkipSpace();
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // After the opening quote: appends the decoded text to `out` (or, with
  // `out` null, accepts no escape) and consumes the closing quote.
  bool StringBody(std::string* out) {
    const unsigned char* start = p_;
    for (;;) {
      p_ = SkipPlain(p_, end_);
      if (p_ >= end_) return false;
      const unsigned char c = *p_;
      if (c == '"') {
        if (out != nullptr)
          out->append(reinterpret_cast<const char*>(start), p_ - start);
        ++p_;
        return QuoteTail();
      }
      if (c == '\\') {
        if (out == nullptr) return false;
        out->append(reinterpret_cast<const char*>(start), p_ - start);
        ++p_;
        if (!Escape(out)) return false;
        start = p_;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++p_;
      } else {
        const int n = Utf8SequenceLength(p_, end_);
        if (n == 0) return false;
        p_ += n;
      }
    }
  }

  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned char c = p_[i];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v |= c - 'A' + 10;
      } else {
        return false;
      }
    }
    p_ += 4;
    *out = v;
    return true;
  }

  // After a backslash.
  bool Escape(std::string* out) {
    if (p_ >= end_) return false;
    const unsigned char c = *p_++;
    switch (c) {
      case '"':
        out->push_back('"');
        return QuoteTail();
      case '\\':
        out->push_back('\\');
        return true;
      case '/':
        out->push_back('/');
        return true;
      case 'b':
        out->push_back('\b');
        return true;
      case 'f':
        out->push_back('\f');
        return true;
      case 'n':
        out->push_back('\n');
        return true;
      case 'r':
        out->push_back('\r');
        return true;
      case 't':
        out->push_back('\t');
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    uint32_t cp;
    if (!Hex4(&cp) || cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(cp, out);
    return true;
  }

  // A string value into `out`, replacing its content but keeping its
  // storage.
  bool String(std::string* out) {
    if (!Quote()) return false;
    out->clear();
    return StringBody(out);
  }

  // A key without escapes, then the colon.
  bool Key(absl::string_view* key) {
    if (!Quote()) return false;
    const unsigned char* start = p_;
    if (!StringBody(nullptr)) return false;
    *key = absl::string_view(reinterpret_cast<const char*>(start),
                             StringEnd() - start);
    return Consume(':');
  }

  // Calls on_field(key) for each member, positioned before its value.
  template <typename Fn>
  bool Object(Fn&& on_field) {
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    for (;;) {
      absl::string_view key;
      if (!Key(&key) || !on_field(key)) return false;
      if (Consume(',')) continue;
      return Consume('}');
    }
  }

  // Calls on_field(index) for each member of an object whose keys are those
  // of `kFields`, positioned before its value: each field at most once, and
  // an unknown key ends the fast path.
  template <const auto& kFields, typename Fn>
  bool Fields(Fn&& on_field) {
    constexpr int kCount = static_cast<int>(std::size(kFields));
    const auto& keys = kFieldKeys<kFields>[kDoubledQuotes ? 1 : 0].keys;
    if (!Consume('{')) return false;
    if (Consume('}')) return true;
    Seen seen;
    int next = 0;
    for (;;) {
      // Space before a key goes to the general path, which skips it.
      int field;
      if (next < kCount && KeyAt(p_, end_, keys[next])) {
        field = next;
        p_ += keys[next].size;
      } else {
        absl::string_view key;
        if (!Key(&key)) return false;
        field = FieldIndex(key, kFields);
      }
      if (!seen.First(field) || !on_field(field)) return false;
      next = field + 1;
      if (Consume(',')) continue;
      return Consume('}');
    }
  }

  // Calls on_item() for each element, positioned before it.
  template <typename Fn>
  bool Array(Fn&& on_item) {
    if (!Consume('[')) return false;
    if (Consume(']')) return true;
    for (;;) {
      if (!on_item()) return false;
      if (Consume(',')) continue;
      return Consume(']');
    }
  }

  // A JSON number token; `digits` counts the integer part's digits.
  bool Number(absl::string_view* text, bool* integer, int* digits) {
    SkipSpace();
    const unsigned char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    const unsigned char* first_digit = p_;
    if (p_ >= end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    } else {
      return false;
    }
    *digits = static_cast<int>(p_ - first_digit);
    *integer = true;
    auto some_digits = [&] {
      const unsigned char* from = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ > from;
    };
    if (p_ < end_ && *p_ == '.') {
      *integer = false;
      ++p_;
      if (!some_digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      *integer = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!some_digits()) return false;
    }
    *text = absl::string_view(reinterpret_cast<const char*>(start), p_ - start);
    return true;
  }

  static int64_t IntegerValue(absl::string_view text) {
    const bool negative = text[0] == '-';
    int64_t v = 0;
    for (size_t i = negative ? 1 : 0; i < text.size(); ++i)
      v = v * 10 + (text[i] - '0');
    return negative ? -v : v;
  }

  bool Double(double* out) {
    absl::string_view text;
    bool integer;
    int digits;
    if (!Number(&text, &integer, &digits)) return false;
    if (integer) {
      // protobuf reads an integer as one and converts it exactly.
      if (digits > kMaxDoubleIntegerDigits) return false;
      *out = static_cast<double>(IntegerValue(text));
      return true;
    }
    const auto [end, error] =
        std::from_chars(text.data(), text.data() + text.size(), *out);
    return error == std::errc() && end == text.data() + text.size() &&
           std::isfinite(*out);
  }

  // An int64 as a number or as a decimal string, as the JSON mapping allows.
  bool Int64(int64_t* out) {
    absl::string_view text;
    bool integer = true;
    int digits = 0;
    if (Quote()) {
      const unsigned char* start = p_;
      if (p_ < end_ && *p_ == '-') ++p_;
      const unsigned char* first_digit = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      digits = static_cast<int>(p_ - first_digit);
      if (p_ >= end_ || *p_ != '"' || digits == 0 ||
          (digits > 1 && *first_digit == '0')) {
        return false;
      }
      text =
          absl::string_view(reinterpret_cast<const char*>(start), p_ - start);
      ++p_;
      if (!QuoteTail()) return false;
    } else if (!Number(&text, &integer, &digits)) {
      return false;
    }
    if (!integer || digits > kMaxInt64Digits) return false;
    *out = IntegerValue(text);
    return true;
  }

  bool Bool(bool* out) {
    if (Literal("true")) {
      *out = true;
    } else if (Literal("false")) {
      *out = false;
    } else {
      return false;
    }
    return true;
  }

  bool Enum(const EnumNames& names, int* out) {
    if (!Quote()) return false;
    const unsigned char* start = p_;
    if (!StringBody(nullptr)) return false;
    return names.Find(absl::string_view(reinterpret_cast<const char*>(start),
                                        StringEnd() - start),
                      out);
  }

  // RFC 3339 in UTC (ReadUtcTime). Offsets and other forms go to
  // protobuf's parser.
  bool Timestamp(google::protobuf::Timestamp* out) {
    int64_t seconds;
    int32_t nanos;
    if (!Timestamp(&seconds, &nanos)) return false;
    out->set_seconds(seconds);
    out->set_nanos(nanos);
    return true;
  }

  // The flat form's: no message to fill.
  bool Timestamp(int64_t* seconds, int32_t* nanos) {
    if (!Quote()) return false;
    const size_t n = ReadUtcTime(
        absl::string_view(reinterpret_cast<const char*>(p_), end_ - p_),
        seconds, nanos);
    if (n == 0) return false;
    p_ += n;
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    return QuoteTail();
  }

  bool Value(google::protobuf::Value* value, int depth) {
    if (depth > kMaxDepth) return false;
    SkipSpace();
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{':
        return Struct(value->mutable_struct_value(), depth + 1);
      case '[': {
        google::protobuf::ListValue* list = value->mutable_list_value();
        return Array([&] { return Value(list->add_values(), depth + 1); });
      }
      case '"':
        return String(value->mutable_string_value());
      case 't':
      case 'f': {
        bool b;
        if (!Bool(&b)) return false;
        value->set_bool_value(b);
        return true;
      }
      case 'n':
        if (!Literal("null")) return false;
        value->set_null_value(google::protobuf::NULL_VALUE);
        return true;
      default: {
        double d;
        if (!Double(&d)) return false;
        value->set_number_value(d);
        return true;
      }
    }
  }

  // Flat mode: a string as a view into the JSON, or into text_ when it
  // holds escapes.
  bool View(absl::string_view* out) {
    if (!Quote()) return false;
    const unsigned char* start = p_;
    if (StringBody(nullptr)) {
      *out = absl::string_view(reinterpret_cast<const char*>(start),
                               StringEnd() - start);
      return true;
    }
    p_ = start;
    const size_t from = text_->size();
    if (!StringBody(text_)) return false;
    *out = absl::string_view(text_->data() + from, text_->size() - from);
    return true;
  }

  // The members of a struct at `depth` (1 for an event's properties), laid
  // out in flat_'s values as FlatValue describes: a struct's members
  // contiguous, each nested struct's members placed when it closes. Lists
  // and what ValidateEvent would refuse go to the slow path.
  bool FlatStruct(int depth, uint32_t* first, uint32_t* count) {
    if (depth > kMaxValueDepth) return false;
    std::vector<FlatValue>& values = flat_->mutable_values();
    // Members go straight to their place while none is a struct, the usual
    // case. A struct among them moves them to pending_, so that its own
    // members, placed when it closes, come before them.
    const size_t start = values.size();
    const size_t mark = pending_->size();
    bool direct = true;
    const bool ok = Object([&](absl::string_view key) {
      if (key.size() > kMaxIdBytes) return false;
      std::vector<FlatValue>& members = direct ? values : *pending_;
      const size_t from = direct ? start : mark;
      if (!MayAddMember(absl::MakeConstSpan(members).subspan(from), key)) {
        return false;
      }
      FlatValue value;
      value.key = key;
      if (direct && Peek('{')) {
        pending_->insert(pending_->end(), values.begin() + start, values.end());
        values.resize(start);
        direct = false;
      }
      if (!FlatMember(depth + 1, &value)) return false;
      (direct ? values : *pending_).push_back(value);
      return true;
    });
    if (!ok) return false;
    if (direct) {
      *first = static_cast<uint32_t>(start);
      *count = static_cast<uint32_t>(values.size() - start);
      return true;
    }
    *first = static_cast<uint32_t>(values.size());
    *count = static_cast<uint32_t>(pending_->size() - mark);
    values.insert(values.end(), pending_->begin() + mark, pending_->end());
    pending_->resize(mark);
    return true;
  }

  bool FlatMember(int depth, FlatValue* value) {
    SkipSpace();
    if (p_ >= end_) return false;
    switch (*p_) {
      case '{':
        value->kind = FlatValue::kStruct;
        return FlatStruct(depth, &value->first, &value->count);
      case '"':
        value->kind = FlatValue::kString;
        return View(&value->text) && value->text.size() <= kMaxTextBytes;
      case 't':
      case 'f':
        value->kind = FlatValue::kBool;
        return Bool(&value->boolean);
      case 'n':
        value->kind = FlatValue::kNull;
        return Literal("null");
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
        value->kind = FlatValue::kNumber;
        return Double(&value->number);
      default:
        return false;
    }
  }

  // Inlined into FlatEvents, as it was before CSV cells shared it: the
  // call per event cost JSON lines 2% of their instructions.
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool FlatEventObject(FlatEvent* event) {
    *event = FlatEvent();
    bool timed = false;
    const bool ok = Fields<kEventFields>([&](int field) {
      switch (field) {
        case 0:
          return View(&event->id);
        case 1: {
          int type;
          if (!Enum(EventTypeNames(), &type)) return false;
          event->type = static_cast<v1::EventType>(type);
          return true;
        }
        case 2: {
          if (!Timestamp(&event->seconds, &event->nanos)) return false;
          timed = true;
          return true;
        }
        case 3:
          return FlatStruct(1, &event->first_property, &event->property_count);
        default:
          return View(&event->custom_type);
      }
    });
    // What ValidateEvent refuses is left to it, on the slow path.
    return ok && timed && EventFieldsAreValid(*event);
  }

  bool FlatEvents() {
    std::vector<FlatEvent>& events = flat_->mutable_events();
    return Array([&] {
      if (events.size() >= static_cast<size_t>(kMaxEventsPerLead)) {
        return false;
      }
      events.emplace_back();
      return FlatEventObject(&events.back());
    });
  }

  bool Struct(google::protobuf::Struct* s, int depth) {
    if (depth > kMaxDepth) return false;
    auto* fields = s->mutable_fields();
    return Object([&](absl::string_view key) {
      auto [it, inserted] = fields->try_emplace(std::string(key));
      return inserted && Value(&it->second, depth + 1);
    });
  }

  // Each field at most once: a repeated key goes to protobuf's parser.
  class Seen {
   public:
    bool First(int index) {
      if (index < 0 || (bits_ >> index) & 1) return false;
      bits_ |= 1u << index;
      return true;
    }

   private:
    uint32_t bits_ = 0;
  };

  bool ContactObject(v1::Contact* contact) {
    return Fields<kContactFields>([&](int field) {
      switch (field) {
        case 0:
          return String(contact->mutable_first_name());
        case 1:
          return String(contact->mutable_last_name());
        case 2:
          return String(contact->mutable_email());
        default:
          return String(contact->mutable_phone());
      }
    });
  }

  bool CompanyObject(v1::Company* company) {
    return Fields<kCompanyFields>([&](int field) {
      switch (field) {
        case 0:
          return String(company->mutable_name());
        case 1:
          return String(company->mutable_domain());
        case 2:
          return String(company->mutable_industry());
        case 3: {
          int64_t n;
          if (!Int64(&n)) return false;
          company->set_employee_count(n);
          return true;
        }
        case 4: {
          double d;
          if (!Double(&d)) return false;
          company->set_annual_revenue(d);
          return true;
        }
        case 5:
          return String(company->mutable_country());
        default:
          return String(company->mutable_region());
      }
    });
  }

  bool ConsentObject(v1::Consent* consent) {
    return Fields<kConsentFields>([&](int field) {
      bool b;
      if (!Bool(&b)) return false;
      switch (field) {
        case 0:
          consent->set_opted_out(b);
          break;
        case 1:
          consent->set_do_not_email(b);
          break;
        default:
          consent->set_do_not_call(b);
          break;
      }
      return true;
    });
  }

  bool EventObject(v1::Event* event) {
    return Fields<kEventFields>([&](int field) {
      switch (field) {
        case 0:
          return String(event->mutable_id());
        case 1: {
          int type;
          if (!Enum(EventTypeNames(), &type)) return false;
          event->set_type(static_cast<v1::EventType>(type));
          return true;
        }
        case 2:
          return Timestamp(event->mutable_occurred_at());
        case 3:
          return Struct(event->mutable_properties(), 0);
        default:
          return String(event->mutable_custom_type());
      }
    });
  }

  bool LeadObject(v1::Lead* lead) {
    return Fields<kLeadFields>([&](int field) {
      switch (field) {
        case 0:
          return String(lead->mutable_id());
        case 1:
          return ContactObject(lead->mutable_contact());
        case 2:
          return String(lead->mutable_job_title());
        case 3:
          return String(lead->mutable_department());
        case 4: {
          int seniority;
          if (!Enum(SeniorityNames(), &seniority)) return false;
          lead->set_seniority(static_cast<v1::Seniority>(seniority));
          return true;
        }
        case 5:
          return CompanyObject(lead->mutable_company());
        case 6:
          return String(lead->mutable_source());
        case 7:
          return String(lead->mutable_campaign());
        case 8:
          return String(lead->mutable_product());
        case 9:
          return ConsentObject(lead->mutable_consent());
        case 10:
          return Struct(lead->mutable_attributes(), 0);
        case 11:
          if (flat_ != nullptr) return FlatEvents();
          return Array([&] { return EventObject(lead->add_events()); });
        default:
          return Timestamp(lead->mutable_created_at());
      }
    });
  }

  const unsigned char* p_;
  const unsigned char* end_;
  FlatLead* flat_ = nullptr;
  std::string* text_ = nullptr;
  std::vector<FlatValue>* pending_ = nullptr;
};

}  // namespace

bool ParseLeadJsonFast(absl::string_view json, v1::Lead* lead) {
  lead->Clear();
  return Parser<false>(json).Lead(lead);
}

bool FlatLeadJsonReader::Read(absl::string_view json, v1::Lead* fields,
                              FlatLead* flat) {
  fields->Clear();
  flat->Reset(fields);
  text_.clear();
  text_.reserve(json.size());
  pending_.clear();
  return Parser<false>(json, flat, &text_, &pending_).Lead(fields) &&
         ValidateLead(*fields).ok();
}

bool FlatLeadJsonReader::ReadEvents(absl::string_view json, bool doubled_quotes,
                                    FlatLead* flat) {
  text_.clear();
  text_.reserve(json.size());
  pending_.clear();
  return doubled_quotes ? Parser<true>(json, flat, &text_, &pending_).Events()
                        : Parser<false>(json, flat, &text_, &pending_).Events();
}

absl::Status ParseLeadJsonQuickly(absl::string_view json, v1::Lead* lead) {
  if (ParseLeadJsonFast(json, lead)) return absl::OkStatus();
  return ParseLeadJson(json, lead);
}

}  // namespace smarketing
