// A team's business calendar compiled for SLA arithmetic and routing: when
// the team works (per-weekday working hours in its IANA time zone, minus
// holidays), and how much working time lies between two instants.
#ifndef SMARKETING_CORE_JOURNEY_BUSINESS_CALENDAR_H_
#define SMARKETING_CORE_JOURNEY_BUSINESS_CALENDAR_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/base/problems.h"
#include "smarketing/v1/calendar.pb.h"

namespace smarketing {

// Working hours are local times: each day, a span's start and end are
// converted through the time zone, so a 09:00-18:00 span stays 09:00-18:00 on
// the wall clock across daylight-saving changes. A span boundary that falls
// in a skipped hour (spring forward) moves to the instant of the change; one
// that falls in a repeated hour (fall back) is its first occurrence.
//
// Offsets are precomputed from 1970 to 2199; before and after, the offset in
// force at those bounds applies. Evaluation never allocates and walks the
// calendar day by day, so its cost grows with the number of days spanned,
// not with the duration's resolution.
class BusinessCalendar {
 public:
  // Compiles `calendar`, found at `path` in the Playbook (e.g.
  // "sla.default_calendar"). Every problem is added to `problems`; returns
  // false if there was any, leaving this calendar unusable.
  bool Compile(const v1::BusinessCalendar& calendar, const std::string& path,
               ProblemList* problems);

  const absl::TimeZone& time_zone() const { return zone_; }

  // Whether `t` falls in working hours on a working day.
  bool IsWorking(absl::Time t) const;

  // The instant at which `duration` of working time has elapsed from
  // `start`. A lead arriving out of hours starts counting at the next
  // working span. When the duration ends exactly at the end of a span, the
  // deadline is that end, not the next span's start. A duration <= 0 gives
  // `start`; an infinite one gives InfiniteFuture().
  absl::Time AddBusinessTime(absl::Time start, absl::Duration duration) const;

  // Working time within [from, to); zero when to <= from.
  absl::Duration BusinessTimeBetween(absl::Time from, absl::Time to) const;

  // Several deadlines from one start: After(d) is AddBusinessTime(start, d),
  // and calls with growing durations continue from the previous deadline
  // instead of walking from the start again. Holds a pointer to the
  // calendar, which must outlive it.
  class Walk {
   public:
    Walk(const BusinessCalendar& calendar, absl::Time start);
    absl::Time After(absl::Duration elapsed);

   private:
    void Restart();
    // Moves the cursor by `nanos` of working time, or marks the walk
    // exhausted when that goes past the year 9999.
    void Advance(int64_t nanos);

    const BusinessCalendar* calendar_;
    absl::Time start_;
    // Working time walked so far (nanoseconds), and where it led: UTC
    // seconds and nanoseconds, local day, index of the span in that day,
    // offset period.
    int64_t elapsed_ = 0;
    int64_t second_ = 0;
    int64_t nanos_ = 0;
    int64_t day_ = 0;
    size_t span_ = 0;
    int hint_ = 0;
    bool exhausted_ = false;
  };

 private:
  // A working span in seconds from local midnight, [begin, end).
  struct Span {
    int32_t begin = 0;
    int32_t end = 0;
  };
  // A period of constant UTC offset, from utc_begin to the next period's.
  // Local times in [local_begin, local_end) read this offset; the ranges of
  // neighbouring periods overlap when clocks fall back, and leave a gap
  // when they spring forward.
  struct Period {
    int64_t utc_begin = 0;
    int64_t local_begin = 0;
    int64_t local_end = 0;
    int32_t offset = 0;
  };

  // The parts of Compile: the zone's table of UTC offsets, the weekly
  // working spans, and the holidays. Each adds the problems it finds.
  void CompileTimeZone(const v1::BusinessCalendar& calendar,
                       const std::string& path, ProblemList* problems);
  void CompileWorkingHours(const v1::BusinessCalendar& calendar,
                           const std::string& path, ProblemList* problems);
  void CompileHolidays(const v1::BusinessCalendar& calendar,
                       const std::string& path, ProblemList* problems);

  // The instant (seconds) at which the wall clock reads `local`, under the
  // skipped/repeated rules above. `hint` is the period last used, checked
  // first since consecutive calls almost always stay in one period.
  int64_t ToUtc(int64_t local, int* hint) const;
  bool IsHoliday(int64_t day) const;
  // Spans of a day (days since 1970-01-01, local), empty on holidays.
  const std::vector<Span>& SpansOn(int64_t day) const;
  // Index of the period `utc` (seconds) falls in.
  int PeriodAt(int64_t utc) const;
  // Local day of `utc` (seconds), and the period it falls in.
  int64_t LocalDay(int64_t utc, int* hint) const;

  absl::TimeZone zone_;
  std::vector<Period> periods_;
  // Per average Gregorian year since 1970, the period in force at its
  // start: finding an instant's period takes a step or two from there.
  std::vector<int32_t> period_by_year_;
  // Index 0 is Monday.
  std::array<std::vector<Span>, 7> spans_;
  // Days since 1970-01-01, sorted.
  std::vector<int64_t> holidays_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_JOURNEY_BUSINESS_CALENDAR_H_
