// ReadUtcTime is the readers' quick way through times: whatever it takes
// must mean what abseil's RFC 3339 parser says, and it must take only the
// time at the start of its text.
#include "core/base/utc_time.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

absl::Time Read(absl::string_view text, size_t* length) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  *length = ReadUtcTime(text, &seconds, &nanos);
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

TEST(UtcTimeTest, ReadsTheTimeAtTheStartAndSaysHowLongItIs) {
  size_t length;
  const absl::Time t = Read("2026-01-02T03:04:05Z\",\"next\"", &length);
  EXPECT_EQ(length, 20u);
  EXPECT_EQ(t, absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5),
                               absl::UTCTimeZone()));
  EXPECT_EQ(Read("2026-01-02T03:04:05.25Zx", &length),
            t + absl::Milliseconds(250));
  EXPECT_EQ(length, 23u);
  for (const char* other :
       {"", "2026-01-02T03:04:0", "2026-01-02T03:04:05", "2026-01-02T03:04:05.",
        "2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05z",
        "2026-01-02t03:04:05Z", " 2026-01-02T03:04:05Z"}) {
    Read(other, &length);
    EXPECT_EQ(length, 0u) << other;
  }
}

// Every date of some years, and the edges of each clock field: a time read
// is abseil's, and a date that does not exist is left to abseil.
TEST(UtcTimeTest, WhatItReadsIsWhatAbseilReads) {
  for (int year :
       {1, 4, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2026, 9999}) {
    for (int month = 0; month <= 13; ++month) {
      for (int day = 0; day <= 32; ++day) {
        for (const char* clock : {"00:00:00", "23:59:59", "12:30:45.123456789",
                                  "24:00:00", "23:60:00", "23:59:60"}) {
          const std::string text =
              absl::StrFormat("%04d-%02d-%02dT%sZ", year, month, day, clock);
          size_t length;
          const absl::Time fast = Read(text, &length);
          if (length == 0) continue;
          EXPECT_EQ(length, text.size()) << text;
          absl::Time expected;
          std::string error;
          ASSERT_TRUE(
              absl::ParseTime(absl::RFC3339_full, text, &expected, &error))
              << text;
          EXPECT_EQ(fast, expected) << text;
          const absl::CivilDay date =
              absl::ToCivilDay(expected, absl::UTCTimeZone());
          EXPECT_TRUE(date.year() == year && date.month() == month &&
                      date.day() == day)
              << text << ": a date that does not exist was taken";
        }
      }
    }
  }
}

}  // namespace
}  // namespace smarketing
