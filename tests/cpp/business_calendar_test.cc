// Business-time arithmetic against hand-computed deadlines: weekends,
// holidays, lunch breaks, arrivals out of hours, and both daylight-saving
// changes in Europe/Paris and America/New_York.
#include "core/journey/business_calendar.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace smarketing {
namespace {

using absl::Hours;
using absl::Minutes;

// An RFC 3339 instant; the offset in the text is the local one, so that each
// expectation reads as wall-clock time.
absl::Time T(const std::string& text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error))
      << text << ": " << error;
  return t;
}

v1::BusinessCalendar Proto(const std::string& text) {
  v1::BusinessCalendar calendar;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &calendar))
      << text;
  return calendar;
}

// Monday to Friday, `spans` each day ("09:00-12:00"), plus extra text.
std::string Weekdays(
    const std::string& zone,
    const std::vector<std::pair<std::string, std::string>>& spans,
    const std::string& extra = "") {
  std::string text = absl::StrCat("time_zone: \"", zone, "\"\n");
  for (const char* day :
       {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"}) {
    for (const auto& [start, end] : spans) {
      absl::StrAppend(&text, "working_hours { weekday: WEEKDAY_", day,
                      " start: \"", start, "\" end: \"", end, "\" }\n");
    }
  }
  return text + extra;
}

BusinessCalendar Compile(const std::string& text) {
  BusinessCalendar calendar;
  ProblemList problems;
  EXPECT_TRUE(calendar.Compile(Proto(text), "calendar", &problems))
      << problems.problems().DebugString();
  return calendar;
}

// Paris office: 09:00-12:00 and 13:00-18:00 on weekdays (8 hours a day),
// closed on 1 May and Christmas.
BusinessCalendar ParisOffice() {
  return Compile(Weekdays("Europe/Paris",
                          {{"09:00", "12:00"}, {"13:00", "18:00"}},
                          "holidays { year: 2026 month: 5 day: 1 }\n"
                          "holidays { year: 2026 month: 12 day: 25 }\n"));
}

BusinessCalendar NewYorkOffice() {
  return Compile(Weekdays("America/New_York", {{"09:00", "17:00"}}));
}

// Every day, all day, in `zone`: business time is real time.
BusinessCalendar AroundTheClock(const std::string& zone) {
  std::string text = absl::StrCat("time_zone: \"", zone, "\"\n");
  for (int day = 1; day <= 7; ++day) {
    absl::StrAppend(&text, "working_hours { weekday: ", day,
                    " start: \"00:00\" end: \"24:00\" }\n");
  }
  return Compile(text);
}

TEST(BusinessCalendarTest, WithinOneDay) {
  const BusinessCalendar paris = ParisOffice();
  // Monday 2 March 2026, winter time (+01:00).
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T10:00:00+01:00"), Hours(1)),
            T("2026-03-02T11:00:00+01:00"));
  // Ending exactly at the lunch break: the deadline is 12:00, not 13:00.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T10:00:00+01:00"), Hours(2)),
            T("2026-03-02T12:00:00+01:00"));
  // Across lunch: 2 hours before, 1 after.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T10:00:00+01:00"), Hours(3)),
            T("2026-03-02T14:00:00+01:00"));
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T17:30:00+01:00"), Minutes(30)),
            T("2026-03-02T18:00:00+01:00"));
  // Sub-second precision is kept.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T10:00:00.25+01:00"),
                                  absl::Milliseconds(500)),
            T("2026-03-02T10:00:00.75+01:00"));
}

TEST(BusinessCalendarTest, AcrossNightsAndWeekends) {
  const BusinessCalendar paris = ParisOffice();
  // Monday 17:00 + 2h: one hour on Monday, one on Tuesday morning.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T17:00:00+01:00"), Hours(2)),
            T("2026-03-03T10:00:00+01:00"));
  // Friday 6 March 17:00 + 2h: Friday 17-18, then Monday 9 March 09-10.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-06T17:00:00+01:00"), Hours(2)),
            T("2026-03-09T10:00:00+01:00"));
  // A whole working week from Monday 09:00 ends on Friday at 18:00...
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T09:00:00+01:00"), Hours(40)),
            T("2026-03-06T18:00:00+01:00"));
  // ...and one more hour lands on the next Monday.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T09:00:00+01:00"), Hours(41)),
            T("2026-03-09T10:00:00+01:00"));
  // Three weeks of 40 hours.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-02T09:00:00+01:00"), Hours(120)),
            T("2026-03-20T18:00:00+01:00"));
}

TEST(BusinessCalendarTest, ArrivalsOutOfHours) {
  const BusinessCalendar paris = ParisOffice();
  const absl::Time monday_ten = T("2026-03-09T10:00:00+01:00");
  // Saturday afternoon, Sunday night, Monday before opening: the clock
  // starts on Monday at 09:00.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-07T15:00:00+01:00"), Hours(1)),
            monday_ten);
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-08T23:59:59+01:00"), Hours(1)),
            monday_ten);
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-09T07:30:00+01:00"), Hours(1)),
            monday_ten);
  // Friday evening after closing.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-06T18:00:00+01:00"), Hours(1)),
            monday_ten);
  // During lunch: from 13:00.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-09T12:30:00+01:00"), Hours(1)),
            T("2026-03-09T14:00:00+01:00"));
  // Monday evening: Tuesday.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-09T20:00:00+01:00"), Hours(1)),
            T("2026-03-10T10:00:00+01:00"));
  // The same instant written in UTC gives the same deadline.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-03-07T14:00:00Z"), Hours(1)),
            T("2026-03-09T09:00:00Z"));
}

TEST(BusinessCalendarTest, Holidays) {
  const BusinessCalendar paris = ParisOffice();
  // Thursday 30 April 17:00 + 2h: Friday 1 May is a holiday, then the
  // weekend: Monday 4 May 10:00 (summer time).
  EXPECT_EQ(paris.AddBusinessTime(T("2026-04-30T17:00:00+02:00"), Hours(2)),
            T("2026-05-04T10:00:00+02:00"));
  // Arriving on the holiday itself.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-05-01T10:00:00+02:00"), Hours(1)),
            T("2026-05-04T10:00:00+02:00"));
  EXPECT_FALSE(paris.IsWorking(T("2026-05-01T10:00:00+02:00")));
  // Christmas on a Friday: Thursday 24 December 18:00 -> Monday 28.
  EXPECT_EQ(paris.AddBusinessTime(T("2026-12-24T18:00:00+01:00"), Hours(3)),
            T("2026-12-28T12:00:00+01:00"));
  // The week of 1 May holds 32 working hours instead of 40.
  EXPECT_EQ(paris.BusinessTimeBetween(T("2026-04-27T00:00:00+02:00"),
                                      T("2026-05-04T00:00:00+02:00")),
            Hours(32));
}

TEST(BusinessCalendarTest, ParisSpringForward) {
  const BusinessCalendar paris = ParisOffice();
  // Clocks go from 02:00 to 03:00 on Sunday 29 March 2026. Friday 17:00
  // winter time + 2h: Friday 17-18, then Monday 09-10 summer time. On the
  // wall clock that is 64 hours later, not 65.
  const absl::Time friday = T("2026-03-27T17:00:00+01:00");
  const absl::Time deadline = paris.AddBusinessTime(friday, Hours(2));
  EXPECT_EQ(deadline, T("2026-03-30T10:00:00+02:00"));
  EXPECT_EQ(deadline, T("2026-03-30T08:00:00Z"));
  EXPECT_EQ(deadline - friday, Hours(64));
  EXPECT_EQ(paris.BusinessTimeBetween(friday, deadline), Hours(2));
  // Monday still opens at 09:00 local time.
  EXPECT_FALSE(paris.IsWorking(T("2026-03-30T08:59:59+02:00")));
  EXPECT_TRUE(paris.IsWorking(T("2026-03-30T09:00:00+02:00")));
}

TEST(BusinessCalendarTest, ParisFallBack) {
  const BusinessCalendar paris = ParisOffice();
  // Clocks go from 03:00 back to 02:00 on Sunday 25 October 2026: 66 hours
  // of wall-clock time from Friday 17:00 to Monday 10:00.
  const absl::Time friday = T("2026-10-23T17:00:00+02:00");
  const absl::Time deadline = paris.AddBusinessTime(friday, Hours(2));
  EXPECT_EQ(deadline, T("2026-10-26T10:00:00+01:00"));
  EXPECT_EQ(deadline, T("2026-10-26T09:00:00Z"));
  EXPECT_EQ(deadline - friday, Hours(66));
  EXPECT_EQ(paris.BusinessTimeBetween(friday, deadline), Hours(2));
  EXPECT_FALSE(paris.IsWorking(T("2026-10-26T08:59:59+01:00")));
  EXPECT_TRUE(paris.IsWorking(T("2026-10-26T09:00:00+01:00")));
}

TEST(BusinessCalendarTest, NewYorkSpringForward) {
  const BusinessCalendar new_york = NewYorkOffice();
  // Clocks go from 02:00 to 03:00 on Sunday 8 March 2026. Friday 16:00 EST
  // + 3h: Friday 16-17, Monday 09-11 EDT.
  const absl::Time friday = T("2026-03-06T16:00:00-05:00");
  const absl::Time deadline = new_york.AddBusinessTime(friday, Hours(3));
  EXPECT_EQ(deadline, T("2026-03-09T11:00:00-04:00"));
  EXPECT_EQ(deadline, T("2026-03-09T15:00:00Z"));
  EXPECT_EQ(deadline - friday, Hours(66));
  EXPECT_EQ(new_york.BusinessTimeBetween(friday, deadline), Hours(3));
}

TEST(BusinessCalendarTest, NewYorkFallBack) {
  const BusinessCalendar new_york = NewYorkOffice();
  // Clocks go from 02:00 back to 01:00 on Sunday 1 November 2026.
  const absl::Time friday = T("2026-10-30T16:00:00-04:00");
  const absl::Time deadline = new_york.AddBusinessTime(friday, Hours(3));
  EXPECT_EQ(deadline, T("2026-11-02T11:00:00-05:00"));
  EXPECT_EQ(deadline, T("2026-11-02T16:00:00Z"));
  EXPECT_EQ(deadline - friday, Hours(68));
  EXPECT_EQ(new_york.BusinessTimeBetween(friday, deadline), Hours(3));
}

TEST(BusinessCalendarTest, DaylightSavingDaysAreShortAndLong) {
  // Around the clock, the spring Sunday holds 23 hours and the autumn one
  // 25, because each day's 00:00-24:00 is converted through the zone.
  for (const char* zone : {"Europe/Paris", "America/New_York"}) {
    SCOPED_TRACE(zone);
    const BusinessCalendar always = AroundTheClock(zone);
    const bool paris = std::string(zone) == "Europe/Paris";
    const absl::Time spring_sunday =
        paris ? T("2026-03-29T00:00:00+01:00") : T("2026-03-08T00:00:00-05:00");
    const absl::Time spring_monday =
        paris ? T("2026-03-30T00:00:00+02:00") : T("2026-03-09T00:00:00-04:00");
    const absl::Time autumn_sunday =
        paris ? T("2026-10-25T00:00:00+02:00") : T("2026-11-01T00:00:00-04:00");
    const absl::Time autumn_monday =
        paris ? T("2026-10-26T00:00:00+01:00") : T("2026-11-02T00:00:00-05:00");
    EXPECT_EQ(always.BusinessTimeBetween(spring_sunday, spring_monday),
              Hours(23));
    EXPECT_EQ(always.BusinessTimeBetween(autumn_sunday, autumn_monday),
              Hours(25));
    // Business time is real time: 24 hours after Saturday noon.
    const absl::Time saturday = spring_sunday - Hours(12);
    EXPECT_EQ(always.AddBusinessTime(saturday, Hours(24)),
              saturday + Hours(24));
    EXPECT_TRUE(always.IsWorking(spring_sunday + Hours(2)));
  }
}

TEST(BusinessCalendarTest, SpansAcrossTheChangedHour) {
  // Night shift on Sundays, 01:00-04:00: two hours on the spring Sunday
  // (02:00-03:00 does not exist), four on the autumn one (02:00-03:00 twice).
  const BusinessCalendar night = Compile(
      "time_zone: \"Europe/Paris\"\n"
      "working_hours { weekday: WEEKDAY_SUNDAY start: \"01:00\" end: "
      "\"04:00\" }\n");
  EXPECT_EQ(night.BusinessTimeBetween(T("2026-03-28T12:00:00Z"),
                                      T("2026-03-30T00:00:00Z")),
            Hours(2));
  EXPECT_EQ(night.BusinessTimeBetween(T("2026-10-24T12:00:00Z"),
                                      T("2026-10-26T00:00:00Z")),
            Hours(4));
  // Both occurrences of 02:30 on the autumn Sunday are worked.
  EXPECT_TRUE(night.IsWorking(T("2026-10-25T02:30:00+02:00")));
  EXPECT_TRUE(night.IsWorking(T("2026-10-25T02:30:00+01:00")));
  EXPECT_FALSE(night.IsWorking(T("2026-10-25T04:00:00+01:00")));
  // 1h30 from 01:30 winter time on the spring Sunday: 01:30-02:00, then
  // 03:00-04:00 summer time.
  EXPECT_EQ(night.AddBusinessTime(T("2026-03-29T01:30:00+01:00"), Minutes(90)),
            T("2026-03-29T04:00:00+02:00"));

  // A span starting inside the skipped hour starts when clocks jump.
  const BusinessCalendar gap = Compile(
      "time_zone: \"Europe/Paris\"\n"
      "working_hours { weekday: WEEKDAY_SUNDAY start: \"02:30\" end: "
      "\"05:00\" }\n");
  EXPECT_FALSE(gap.IsWorking(T("2026-03-29T01:59:59+01:00")));
  EXPECT_TRUE(gap.IsWorking(T("2026-03-29T03:00:00+02:00")));
  EXPECT_EQ(gap.BusinessTimeBetween(T("2026-03-28T00:00:00Z"),
                                    T("2026-03-30T00:00:00Z")),
            Hours(2));
  // On ordinary Sundays the same span lasts 2h30.
  EXPECT_EQ(gap.BusinessTimeBetween(T("2026-03-21T00:00:00Z"),
                                    T("2026-03-23T00:00:00Z")),
            Minutes(150));
}

TEST(BusinessCalendarTest, IsWorking) {
  const BusinessCalendar paris = ParisOffice();
  EXPECT_FALSE(paris.IsWorking(T("2026-03-02T08:59:59+01:00")));
  EXPECT_TRUE(paris.IsWorking(T("2026-03-02T09:00:00+01:00")));
  EXPECT_TRUE(paris.IsWorking(T("2026-03-02T11:59:59+01:00")));
  EXPECT_FALSE(paris.IsWorking(T("2026-03-02T12:00:00+01:00")));  // lunch
  EXPECT_TRUE(paris.IsWorking(T("2026-03-02T13:00:00+01:00")));
  EXPECT_FALSE(paris.IsWorking(T("2026-03-02T18:00:00+01:00")));
  EXPECT_FALSE(paris.IsWorking(T("2026-03-07T10:00:00+01:00")));  // Saturday
  EXPECT_FALSE(paris.IsWorking(absl::InfiniteFuture()));
  EXPECT_FALSE(paris.IsWorking(absl::InfinitePast()));
}

TEST(BusinessCalendarTest, BusinessTimeBetween) {
  const BusinessCalendar paris = ParisOffice();
  EXPECT_EQ(paris.BusinessTimeBetween(T("2026-03-06T17:00:00+01:00"),
                                      T("2026-03-09T10:00:00+01:00")),
            Hours(2));
  EXPECT_EQ(paris.BusinessTimeBetween(T("2026-03-09T10:00:00+01:00"),
                                      T("2026-03-06T17:00:00+01:00")),
            absl::ZeroDuration());
  EXPECT_EQ(paris.BusinessTimeBetween(T("2026-03-02T00:00:00+01:00"),
                                      T("2026-03-09T00:00:00+01:00")),
            Hours(40));
  EXPECT_EQ(paris.BusinessTimeBetween(T("2026-03-07T00:00:00+01:00"),
                                      T("2026-03-08T23:00:00+01:00")),
            absl::ZeroDuration());
  EXPECT_EQ(paris.BusinessTimeBetween(T("2026-03-02T11:30:00+01:00"),
                                      T("2026-03-02T13:30:00+01:00")),
            Hours(1));
}

TEST(BusinessCalendarTest, DegenerateDurations) {
  const BusinessCalendar paris = ParisOffice();
  const absl::Time saturday = T("2026-03-07T10:00:00+01:00");
  EXPECT_EQ(paris.AddBusinessTime(saturday, absl::ZeroDuration()), saturday);
  EXPECT_EQ(paris.AddBusinessTime(saturday, -Hours(3)), saturday);
  EXPECT_EQ(paris.AddBusinessTime(saturday, absl::InfiniteDuration()),
            absl::InfiniteFuture());
  EXPECT_EQ(paris.AddBusinessTime(absl::InfiniteFuture(), Hours(1)),
            absl::InfiniteFuture());
}

// Adding then measuring gives back the duration, wherever it starts, across
// both daylight-saving changes of 2026.
TEST(BusinessCalendarTest, AddAndBetweenAgree) {
  for (const BusinessCalendar& calendar : {ParisOffice(), NewYorkOffice()}) {
    std::mt19937_64 random(42);
    std::uniform_int_distribution<int64_t> second_of_2026(0, 365 * 86400 - 1);
    std::uniform_int_distribution<int64_t> minutes(1, 60 * 60);
    const absl::Time new_year = T("2026-01-01T00:00:00Z");
    for (int i = 0; i < 5000; ++i) {
      const absl::Time start = new_year + absl::Seconds(second_of_2026(random));
      const absl::Duration duration = Minutes(minutes(random));
      const absl::Time deadline = calendar.AddBusinessTime(start, duration);
      ASSERT_EQ(calendar.BusinessTimeBetween(start, deadline), duration)
          << absl::FormatTime(start) << " + " << duration;
      // The deadline is the earliest such instant: it is in working time
      // or ends a span.
      ASSERT_TRUE(calendar.IsWorking(deadline - absl::Nanoseconds(1)));
    }
  }
}

TEST(BusinessCalendarTest, WalkMatchesAddBusinessTime) {
  const BusinessCalendar paris = ParisOffice();
  const absl::Time start = T("2026-03-26T15:10:00.5+01:00");
  BusinessCalendar::Walk walk(paris, start);
  // Growing, repeated, then shrinking durations.
  for (int minutes : {1, 95, 95, 600, 2400, 30, 0, 9000, 61}) {
    SCOPED_TRACE(minutes);
    EXPECT_EQ(walk.After(Minutes(minutes)),
              paris.AddBusinessTime(start, Minutes(minutes)));
  }
}

TEST(BusinessCalendarTest, CenturiesOfBusinessTime) {
  // Durations beyond what int64 nanoseconds hold still add up.
  const BusinessCalendar always = AroundTheClock("UTC");
  const absl::Time start = T("1900-01-01T00:00:00Z");
  const absl::Duration long_time = Hours(24 * 365 * 400);
  BusinessCalendar::Walk walk(always, start);
  EXPECT_EQ(walk.After(long_time), start + long_time);
  EXPECT_EQ(walk.After(Hours(1)), start + Hours(1));
  // Past the year 9999 there is no deadline.
  EXPECT_EQ(always.AddBusinessTime(T("9999-12-31T23:00:00Z"), Hours(2)),
            absl::InfiniteFuture());
  EXPECT_EQ(always.AddBusinessTime(T("9999-12-31T23:00:00Z"), Hours(1)),
            T("10000-01-01T00:00:00Z"));
}

TEST(BusinessCalendarTest, AdjacentSpansWorkAsOne) {
  const BusinessCalendar calendar =
      Compile(Weekdays("UTC", {{"09:00", "12:00"}, {"12:00", "17:00"}}));
  EXPECT_TRUE(calendar.IsWorking(T("2026-03-02T12:00:00Z")));
  EXPECT_EQ(calendar.AddBusinessTime(T("2026-03-02T09:00:00Z"), Hours(8)),
            T("2026-03-02T17:00:00Z"));
}

struct Problem {
  std::string path;
  std::string message_part;
};

std::vector<Problem> ProblemsOf(const std::string& text) {
  BusinessCalendar calendar;
  ProblemList problems;
  EXPECT_FALSE(
      calendar.Compile(Proto(text), "sla.default_calendar", &problems));
  std::vector<Problem> out;
  for (const auto& p : problems.problems().problems()) {
    out.push_back({p.path(), p.message()});
  }
  return out;
}

void ExpectProblems(const std::string& text,
                    const std::vector<Problem>& expected) {
  const std::vector<Problem> actual = ProblemsOf(text);
  ASSERT_EQ(actual.size(), expected.size()) << text;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i].path, expected[i].path);
    EXPECT_NE(actual[i].message_part.find(expected[i].message_part),
              std::string::npos)
        << actual[i].message_part;
  }
}

TEST(BusinessCalendarValidationTest, TimeZone) {
  const std::string hours =
      "working_hours { weekday: WEEKDAY_MONDAY start: \"09:00\" end: "
      "\"17:00\" }\n";
  ExpectProblems(hours, {{"sla.default_calendar.time_zone", "required"}});
  ExpectProblems("time_zone: \"Europe/Pariss\"\n" + hours,
                 {{"sla.default_calendar.time_zone",
                   "unknown IANA time zone \"Europe/Pariss\""}});
}

TEST(BusinessCalendarValidationTest, WorkingHours) {
  ExpectProblems("time_zone: \"UTC\"", {{"sla.default_calendar.working_hours",
                                         "at least one working span"}});
  ExpectProblems(
      "time_zone: \"UTC\"\n"
      "working_hours { start: \"09:00\" end: \"17:00\" }\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"9:00\" end: "
      "\"17:00\" }\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"09:00\" end: "
      "\"25:00\" }\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"18:00\" end: "
      "\"17:00\" }\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"24:00\" end: "
      "\"24:00\" }\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"12:60\" end: "
      "\"\" }\n",
      {{"sla.default_calendar.working_hours[0].weekday", "required"},
       {"sla.default_calendar.working_hours[1].start", "\"9:00\""},
       {"sla.default_calendar.working_hours[2].end", "\"25:00\""},
       {"sla.default_calendar.working_hours[3].end",
        "must be after start (18:00)"},
       {"sla.default_calendar.working_hours[4].start", "\"24:00\""},
       {"sla.default_calendar.working_hours[5].start", "\"12:60\""},
       {"sla.default_calendar.working_hours[5].end", "got \"\""}});
}

TEST(BusinessCalendarValidationTest, Overlaps) {
  ExpectProblems(
      "time_zone: \"UTC\"\n"
      "working_hours { weekday: WEEKDAY_TUESDAY start: \"13:00\" end: "
      "\"18:00\" }\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"13:00\" end: "
      "\"18:00\" }\n"
      "working_hours { weekday: WEEKDAY_TUESDAY start: \"09:00\" end: "
      "\"13:30\" }\n",
      {{"sla.default_calendar.working_hours[0]",
        "overlaps working_hours[2] on the same weekday"}});
}

TEST(BusinessCalendarValidationTest, Holidays) {
  ExpectProblems(
      "time_zone: \"UTC\"\n"
      "working_hours { weekday: WEEKDAY_MONDAY start: \"09:00\" end: "
      "\"17:00\" }\n"
      "holidays { year: 2026 month: 2 day: 30 }\n"
      "holidays { year: 2026 month: 12 day: 25 }\n"
      "holidays { year: 2026 month: 13 day: 1 }\n"
      "holidays { }\n",
      {{"sla.default_calendar.holidays[0]", "2026-02-30 is not a date"},
       {"sla.default_calendar.holidays[2]", "2026-13-01 is not a date"},
       {"sla.default_calendar.holidays[3]", "0000-00-00 is not a date"}});
}

}  // namespace
}  // namespace smarketing
