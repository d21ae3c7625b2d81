// Reads the one form of time that lead files nearly always hold, RFC 3339 in
// UTC, a word at a time: readers of JSON lines and CSV try it first and
// leave every other form (offsets, lower-case letters, leap seconds) to a
// full parser, which decides.
#ifndef SMARKETING_CORE_BASE_UTC_TIME_H_
#define SMARKETING_CORE_BASE_UTC_TIME_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "core/base/byte_search.h"

namespace smarketing {
namespace utc_time_internal {

// Days from 1970-01-01 to a proleptic Gregorian date.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline int64_t DaysFromCivil(int64_t y, int m,
                                                          int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

inline bool IsLeapYear(int y) {
  return y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
}

// What each byte of a word of a time must be: a digit, or the separator
// given; byte k of a word is bits 8k to 8k + 7.
struct WordForm {
  uint64_t digits;           // 0xFF on each digit's byte
  uint64_t separator_bytes;  // 0xFF on each separator's byte
  uint64_t separators;
};
constexpr WordForm kDateForm = {0x00FFFF00FFFFFFFF, 0xFF0000FF00000000,
                                0x2D00002D00000000};  // YYYY-MM-
constexpr WordForm kTimeForm = {0xFFFF00FFFF00FFFF, 0x0000FF0000FF0000,
                                0x00003A0000540000};  // DDTHH:MM
constexpr WordForm kSecondForm = {0xFFFF000000000000, 0x0000FF0000000000,
                                  0x00003A0000000000};  // (HH:MM):SS

// Whether `word` has `form`. A digit is a byte whose high half is 3 and
// stays 3 when 6 is added; a byte that carries out of itself fails the
// first test, whatever the carry does to the next one.
inline bool HasForm(uint64_t word, const WordForm& form) {
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0;
  constexpr uint64_t kThrees = 0x3030303030303030;
  constexpr uint64_t kSixes = 0x0606060606060606;
  return (word & ((kHigh & form.digits) | form.separator_bytes)) ==
             ((kThrees & form.digits) | form.separators) &&
         ((word + (kSixes & form.digits)) & kHigh & form.digits) ==
             (kThrees & form.digits);
}

// The two-digit number at byte `k` of a word that has its form.
inline int TwoDigits(uint64_t word, int k) {
  const uint64_t d = word & 0x0F0F0F0F0F0F0F0F;
  // Byte k of the sum is 10 times digit k plus digit k + 1 (at most 165:
  // nothing carries into the next byte).
  return static_cast<int>(((d * 10 + (d >> 8)) >> (8 * k)) & 0xFF);
}

}  // namespace utc_time_internal

// The length of the time YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z at the start of
// `text`, a real date and time of year 1 or later, and its seconds since
// 1970 and nanoseconds; 0 when `text` does not start with one.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t ReadUtcTime(absl::string_view text,
                                                       int64_t* seconds,
                                                       int32_t* nanos) {
  namespace internal = utc_time_internal;
  // The 19 bytes of the date and time are read as three words, which are
  // checked and turned into numbers a word at a time.
  if (text.size() < 19) return 0;
  const char* s = text.data();
  const uint64_t date = LoadWord(s);         // YYYY-MM-
  const uint64_t time = LoadWord(s + 8);     // DDTHH:MM
  const uint64_t second = LoadWord(s + 11);  // HH:MM:SS
  if (!internal::HasForm(date, internal::kDateForm) ||
      !internal::HasForm(time, internal::kTimeForm) ||
      !internal::HasForm(second, internal::kSecondForm)) {
    return 0;
  }
  const int year =
      internal::TwoDigits(date, 0) * 100 + internal::TwoDigits(date, 2);
  const int month = internal::TwoDigits(date, 5);
  const int day = internal::TwoDigits(time, 0);
  const int hour = internal::TwoDigits(time, 3);
  const int minute = internal::TwoDigits(time, 6);
  const int seconds_of_minute = internal::TwoDigits(second, 6);
  static constexpr int kDaysInMonth[13] = {0,  31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 ||
      minute > 59 || seconds_of_minute > 59 ||
      day > kDaysInMonth[month] +
                (month == 2 && internal::IsLeapYear(year) ? 1 : 0)) {
    return 0;
  }
  size_t at = 19;
  int32_t fraction = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int count = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      // Past nine digits nanos would overflow: the full parser decides.
      if (count == 9) return 0;
      fraction = fraction * 10 + (text[at] - '0');
      ++at;
      ++count;
    }
    if (count == 0) return 0;
    static constexpr int32_t kScale[10] = {
        1000000000, 100000000, 10000000, 1000000, 100000,
        10000,      1000,      100,      10,      1};
    fraction *= kScale[count];
  }
  if (at >= text.size() || text[at] != 'Z') return 0;
  *seconds = internal::DaysFromCivil(year, month, day) * 86400 + hour * 3600 +
             minute * 60 + seconds_of_minute;
  *nanos = fraction;
  return at + 1;
}

}  // namespace smarketing

#endif  // SMARKETING_CORE_BASE_UTC_TIME_H_
