// Looking at bytes eight at a time, for the readers' loops over large
// inputs (quoted JSON in CSV cells, long ASCII text), where a byte-by-byte
// loop costs several cycles a byte.
#ifndef SMARKETING_CORE_BASE_BYTE_SEARCH_H_
#define SMARKETING_CORE_BASE_BYTE_SEARCH_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace smarketing {

// Eight bytes in memory order: byte k of `p` is bits 8k..8k+7.
inline uint64_t LoadWord(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  return word;
}

// The high bit (8k+7) of each byte k of `word` equal to `c`, and no other.
// No carry crosses a byte, so every flag is exact, not just the lowest.
inline uint64_t BytesEqual(uint64_t word, char c) {
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
  const uint64_t x = word ^ (0x0101010101010101ULL * static_cast<uint8_t>(c));
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// Offset of the first of the eight bytes at `p` equal to `a` or to `b`, or 8
// when none is.
inline size_t FindEitherByteIn8(const char* p, char a, char b) {
  const uint64_t word = LoadWord(p);
  const uint64_t found = BytesEqual(word, a) | BytesEqual(word, b);
  return found == 0 ? 8 : std::countr_zero(found) / 8;
}

// Bit k set when byte k of the 64 at `p` equals `c`, a word at a time: the
// form ByteMasks64 takes where SSE2 is missing.
inline uint64_t ByteMask64(const char* p, char c) {
  uint64_t mask = 0;
  for (int i = 0; i < 8; ++i) {
    // The flags at bits 8k+7 gathered into bits 56+k: each lands alone.
    const uint64_t flags = BytesEqual(LoadWord(p + 8 * i), c) >> 7;
    mask |= ((flags * 0x0102040810204080ULL) >> 56) << (8 * i);
  }
  return mask;
}

#if defined(__SSE2__)
// Bits 16i to 16i + 15 set where the 16 `bytes` equal `wanted`'s.
inline uint64_t Mask16(__m128i bytes, __m128i wanted, int i) {
  return static_cast<uint64_t>(static_cast<uint16_t>(
             _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, wanted))))
         << (16 * i);
}
#endif

// ByteMask64 of `a`, `b` and `c` at once, each 16 bytes loaded once: the
// CSV record scan's masks of quotes, newlines and commas.
inline void ByteMasks64(const char* p, char a, char b, char c, uint64_t* ma,
                        uint64_t* mb, uint64_t* mc) {
#if defined(__SSE2__)
  const __m128i wa = _mm_set1_epi8(a);
  const __m128i wb = _mm_set1_epi8(b);
  const __m128i wc = _mm_set1_epi8(c);
  uint64_t ra = 0, rb = 0, rc = 0;
  for (int i = 0; i < 4; ++i) {
    const __m128i bytes =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    ra |= Mask16(bytes, wa, i);
    rb |= Mask16(bytes, wb, i);
    rc |= Mask16(bytes, wc, i);
  }
  *ma = ra;
  *mb = rb;
  *mc = rc;
#else
  *ma = ByteMask64(p, a);
  *mb = ByteMask64(p, b);
  *mc = ByteMask64(p, c);
#endif
}

// Bit k set when an odd number of the bits 0..k of `mask` are: with quotes
// for `mask`, the bytes from an opening quote up to its closing one.
inline uint64_t PrefixXor(uint64_t mask) {
  mask ^= mask << 1;
  mask ^= mask << 2;
  mask ^= mask << 4;
  mask ^= mask << 8;
  mask ^= mask << 16;
  mask ^= mask << 32;
  return mask;
}

// Offset of the first byte in data[from, size) at or above 0x80, or `size`.
inline size_t FindNonAscii(const char* data, size_t from, size_t size) {
  size_t i = from;
  for (; i + 8 <= size; i += 8) {
    const uint64_t high = LoadWord(data + i) & 0x8080808080808080ULL;
    if (high != 0) return i + std::countr_zero(high) / 8;
  }
  for (; i < size; ++i) {
    if (static_cast<unsigned char>(data[i]) >= 0x80) return i;
  }
  return size;
}

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_BYTE_SEARCH_H_
