// UTF-8 validity, for the readers that must refuse text protobuf would
// otherwise silently alter (its JSON printer drops invalid bytes).
#ifndef SMARKETING_CORE_BASE_UTF8_H_
#define SMARKETING_CORE_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "core/base/byte_search.h"

namespace smarketing {

// Length of the valid UTF-8 sequence at p (its first byte >= 0x80), or 0.
// Overlong forms, surrogates and code points past U+10FFFF are invalid.
inline int Utf8SequenceLength(const unsigned char* p,
                              const unsigned char* end) {
  const unsigned char c = p[0];
  auto cont = [&](int i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Whether all of `text` is ASCII. Up to 16 bytes are read as two
// overlapping loads: keys and ids are short, and a byte loop over them
// costs more than the rest of reading them. Longer text is read a word at
// a time, its last word overlapping, with no byte loop either.
inline bool IsAscii(absl::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  if (n > 16) {
    uint64_t bits = LoadWord(p + n - 8);
    for (size_t i = 0; i + 8 <= n; i += 8) bits |= LoadWord(p + i);
    return (bits & 0x8080808080808080ULL) == 0;
  }
  if (n >= 8) {
    return ((LoadWord(p) | LoadWord(p + n - 8)) & 0x8080808080808080ULL) == 0;
  }
  if (n >= 4) {
    uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return ((first | last) & 0x80808080u) == 0;
  }
  unsigned char bits = 0;
  for (size_t i = 0; i < n; ++i) bits |= static_cast<unsigned char>(p[i]);
  return bits < 0x80;
}

// Offset of the first byte of `text` that does not start a valid UTF-8
// sequence, or absl::string_view::npos when all of it is valid.
inline size_t FindInvalidUtf8(absl::string_view text) {
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = begin + text.size();
  for (const unsigned char* p = begin; p < end;) {
    // Text is mostly ASCII: skip it eight bytes at a time.
    p = begin + FindNonAscii(text.data(), p - begin, text.size());
    if (p == end) break;
    const int n = Utf8SequenceLength(p, end);
    if (n == 0) return static_cast<size_t>(p - begin);
    p += n;
  }
  return absl::string_view::npos;
}

// Whether all of `text` is valid UTF-8.
inline bool IsUtf8(absl::string_view text) {
  return IsAscii(text) || FindInvalidUtf8(text) == absl::string_view::npos;
}

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_UTF8_H_
