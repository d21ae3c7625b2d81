#include "core/journey/business_calendar.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smarketing {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
// Offsets are tabulated for [1970-01-01, 2200-01-01).
constexpr int64_t kTableBegin = 0;
constexpr int64_t kTableEnd = 7258118400;
constexpr int64_t kAverageYear = 31556952;
constexpr int64_t kNanosPerSecond = 1000000000;
// Seconds since the epoch whose nanoseconds fit an int64, with a margin.
constexpr int64_t kMaxNanoSeconds = 9200000000;
// Instants outside 0001-01-01 .. 9999-12-31 (the Timestamp range) are
// clamped to it, which keeps local-time arithmetic far from overflow.
constexpr int64_t kEarliest = -62135596800;
constexpr int64_t kLatest = 253402300800;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// 0 for Monday; 1970-01-01 was a Thursday.
int WeekdayIndex(int64_t day) {
  const int64_t r = (day + 3) % 7;
  return static_cast<int>(r < 0 ? r + 7 : r);
}

// "HH:MM" as seconds from midnight, or -1. "24:00" only when allowed (an
// end of day).
int32_t ParseClock(const std::string& text, bool allow_midnight_end) {
  if (text.size() != 5 || text[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return -1;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59) return -1;
  if (hours > 23 && !(allow_midnight_end && hours == 24 && minutes == 0)) {
    return -1;
  }
  return hours * 3600 + minutes * 60;
}

absl::Time Clamp(absl::Time t) {
  return std::clamp(t, absl::FromUnixSeconds(kEarliest),
                    absl::FromUnixSeconds(kLatest));
}

}  // namespace

bool BusinessCalendar::Compile(const v1::BusinessCalendar& calendar,
                               const std::string& path, ProblemList* problems) {
  const int before = problems->size();
  periods_.clear();
  holidays_.clear();
  for (auto& day : spans_) day.clear();
  CompileTimeZone(calendar, path, problems);
  CompileWorkingHours(calendar, path, problems);
  CompileHolidays(calendar, path, problems);
  return problems->size() == before;
}

void BusinessCalendar::CompileTimeZone(const v1::BusinessCalendar& calendar,
                                       const std::string& path,
                                       ProblemList* problems) {
  if (calendar.time_zone().empty()) {
    problems->Add(absl::StrCat(path, ".time_zone"),
                  "required: an IANA time zone such as \"Europe/Paris\"");
  } else if (!absl::LoadTimeZone(calendar.time_zone(), &zone_)) {
    problems->Add(
        absl::StrCat(path, ".time_zone"),
        absl::StrCat("unknown IANA time zone \"", calendar.time_zone(), "\""));
  } else {
    // Each period starts at a transition; the first reaches back forever.
    absl::Time t = absl::FromUnixSeconds(kTableBegin);
    periods_.push_back({std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<int64_t>::min(), 0,
                        zone_.At(t).offset});
    absl::TimeZone::CivilTransition transition;
    while (zone_.NextTransition(t, &transition)) {
      t = zone_.At(transition.to).trans;
      const int64_t at = absl::ToUnixSeconds(t);
      if (at >= kTableEnd) break;
      const int32_t offset = zone_.At(t).offset;
      if (offset == periods_.back().offset) continue;  // a rename only
      periods_.push_back({at, at + offset, 0, offset});
    }
    for (size_t k = 0; k + 1 < periods_.size(); ++k) {
      periods_[k].local_end = periods_[k + 1].utc_begin + periods_[k].offset;
    }
    periods_.back().local_end = std::numeric_limits<int64_t>::max();
    period_by_year_.clear();
    int k = 0;
    for (int64_t year = kTableBegin; year < kTableEnd; year += kAverageYear) {
      while (k + 1 < static_cast<int>(periods_.size()) &&
             periods_[k + 1].utc_begin <= year) {
        ++k;
      }
      period_by_year_.push_back(k);
    }
  }
}

void BusinessCalendar::CompileWorkingHours(const v1::BusinessCalendar& calendar,
                                           const std::string& path,
                                           ProblemList* problems) {
  // Spans per weekday with their index in working_hours, to name the entry
  // an overlap comes from.
  std::array<std::vector<std::pair<Span, int>>, 7> by_day;
  for (int i = 0; i < calendar.working_hours_size(); ++i) {
    const v1::WorkingHours& hours = calendar.working_hours(i);
    const std::string entry = absl::StrCat(path, ".working_hours[", i, "]");
    bool ok = true;
    if (hours.weekday() < v1::WEEKDAY_MONDAY ||
        hours.weekday() > v1::WEEKDAY_SUNDAY) {
      problems->Add(absl::StrCat(entry, ".weekday"),
                    "required: monday to sunday");
      ok = false;
    }
    const int32_t begin = ParseClock(hours.start(), false);
    const int32_t end = ParseClock(hours.end(), true);
    if (begin < 0) {
      problems->Add(absl::StrCat(entry, ".start"),
                    absl::StrCat("expected \"HH:MM\" (24-hour clock, 00:00 "
                                 "to 23:59), got \"",
                                 hours.start(), "\""));
      ok = false;
    }
    if (end < 0) {
      problems->Add(absl::StrCat(entry, ".end"),
                    absl::StrCat("expected \"HH:MM\" (24-hour clock, 00:01 "
                                 "to 24:00), got \"",
                                 hours.end(), "\""));
      ok = false;
    }
    if (begin >= 0 && end >= 0 && end <= begin) {
      problems->Add(absl::StrCat(entry, ".end"),
                    absl::StrCat("must be after start (", hours.start(), ")"));
      ok = false;
    }
    if (ok) by_day[hours.weekday() - 1].push_back({{begin, end}, i});
  }
  for (int d = 0; d < 7; ++d) {
    auto& day = by_day[d];
    std::sort(day.begin(), day.end(), [](const auto& a, const auto& b) {
      return a.first.begin < b.first.begin;
    });
    for (size_t j = 0; j < day.size(); ++j) {
      const Span span = day[j].first;
      if (j > 0 && span.begin < day[j - 1].first.end) {
        problems->Add(absl::StrCat(path, ".working_hours[", day[j].second, "]"),
                      absl::StrCat("overlaps working_hours[", day[j - 1].second,
                                   "] on the same weekday"));
      } else if (!spans_[d].empty() && spans_[d].back().end == span.begin) {
        spans_[d].back().end = span.end;  // adjacent spans work as one
      } else {
        spans_[d].push_back(span);
      }
    }
  }
  if (calendar.working_hours().empty()) {
    problems->Add(absl::StrCat(path, ".working_hours"),
                  "at least one working span is required, or deadlines "
                  "could never fall due");
  }
}

void BusinessCalendar::CompileHolidays(const v1::BusinessCalendar& calendar,
                                       const std::string& path,
                                       ProblemList* problems) {
  for (int i = 0; i < calendar.holidays_size(); ++i) {
    const v1::LocalDate& date = calendar.holidays(i);
    const absl::CivilDay civil(date.year(), date.month(), date.day());
    if (date.year() < 1 || date.year() > 9999 || civil.year() != date.year() ||
        civil.month() != date.month() || civil.day() != date.day()) {
      problems->Add(absl::StrCat(path, ".holidays[", i, "]"),
                    absl::StrFormat("%04d-%02d-%02d is not a date", date.year(),
                                    date.month(), date.day()));
      continue;
    }
    holidays_.push_back(civil - absl::CivilDay(1970, 1, 1));
  }
  std::sort(holidays_.begin(), holidays_.end());
  holidays_.erase(std::unique(holidays_.begin(), holidays_.end()),
                  holidays_.end());
}

int BusinessCalendar::PeriodAt(int64_t utc) const {
  if (utc < kTableBegin) return 0;
  if (utc >= kTableEnd) return static_cast<int>(periods_.size()) - 1;
  int k = period_by_year_[(utc - kTableBegin) / kAverageYear];
  while (k + 1 < static_cast<int>(periods_.size()) &&
         periods_[k + 1].utc_begin <= utc) {
    ++k;
  }
  return k;
}

int64_t BusinessCalendar::LocalDay(int64_t utc, int* hint) const {
  *hint = PeriodAt(utc);
  return FloorDiv(utc + periods_[*hint].offset, kSecondsPerDay);
}

int64_t BusinessCalendar::ToUtc(int64_t local, int* hint) const {
  // The period whose local range holds `local` first: the earlier one when
  // clocks fell back (first occurrence), the next one in a gap.
  auto is_first = [&](int k) {
    return local < periods_[k].local_end &&
           (k == 0 || local >= periods_[k - 1].local_end);
  };
  if (!is_first(*hint)) {
    const auto it = std::lower_bound(
        periods_.begin(), periods_.end(), local,
        [](const Period& p, int64_t l) { return p.local_end <= l; });
    *hint = std::min(static_cast<int>(it - periods_.begin()),
                     static_cast<int>(periods_.size()) - 1);
  }
  const Period& p = periods_[*hint];
  return local >= p.local_begin ? local - p.offset : p.utc_begin;
}

bool BusinessCalendar::IsHoliday(int64_t day) const {
  return std::binary_search(holidays_.begin(), holidays_.end(), day);
}

const std::vector<BusinessCalendar::Span>& BusinessCalendar::SpansOn(
    int64_t day) const {
  static const std::vector<Span> kNone;
  return IsHoliday(day) ? kNone : spans_[WeekdayIndex(day)];
}

bool BusinessCalendar::IsWorking(absl::Time t) const {
  if (t < absl::FromUnixSeconds(kEarliest) ||
      t >= absl::FromUnixSeconds(kLatest)) {
    return false;
  }
  int hint;
  const int64_t day = LocalDay(absl::ToUnixSeconds(t), &hint);
  const int64_t midnight = day * kSecondsPerDay;
  for (const Span& span : SpansOn(day)) {
    const absl::Time begin =
        absl::FromUnixSeconds(ToUtc(midnight + span.begin, &hint));
    const absl::Time end =
        absl::FromUnixSeconds(ToUtc(midnight + span.end, &hint));
    if (t >= begin && t < end) return true;
  }
  return false;
}

absl::Time BusinessCalendar::AddBusinessTime(absl::Time start,
                                             absl::Duration duration) const {
  return Walk(*this, start).After(duration);
}

BusinessCalendar::Walk::Walk(const BusinessCalendar& calendar, absl::Time start)
    : calendar_(&calendar), start_(start) {
  Restart();
}

void BusinessCalendar::Walk::Restart() {
  const absl::Time t = Clamp(start_);
  // One conversion for the usual instants (1678 to 2262), which fit int64
  // nanoseconds; abseil's time arithmetic is not inlined.
  if (t > absl::FromUnixNanos(std::numeric_limits<int64_t>::min()) &&
      t < absl::FromUnixNanos(std::numeric_limits<int64_t>::max())) {
    const int64_t unix_nanos = absl::ToUnixNanos(t);
    second_ = FloorDiv(unix_nanos, kNanosPerSecond);
    nanos_ = unix_nanos - second_ * kNanosPerSecond;
  } else {
    second_ = absl::ToUnixSeconds(t);
    nanos_ = absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(second_));
  }
  day_ = calendar_->LocalDay(second_, &hint_);
  span_ = 0;
  elapsed_ = 0;
  exhausted_ = start_ >= absl::FromUnixSeconds(kLatest);
}

absl::Time BusinessCalendar::Walk::After(absl::Duration elapsed) {
  if (elapsed <= absl::ZeroDuration()) return start_;
  if (elapsed == absl::InfiniteDuration()) return absl::InfiniteFuture();
  constexpr absl::Duration kCentury = absl::Hours(24 * 36525);
  if (elapsed > kCentury) {
    // Beyond what int64 nanoseconds hold: by centuries from the start, and
    // the next call starts over.
    Restart();
    for (; elapsed > kCentury; elapsed -= kCentury) {
      Advance(absl::ToInt64Nanoseconds(kCentury));
    }
    Advance(absl::ToInt64Nanoseconds(elapsed));
    elapsed_ = std::numeric_limits<int64_t>::max();
  } else {
    const int64_t target = absl::ToInt64Nanoseconds(elapsed);
    if (target < elapsed_) Restart();
    Advance(target - elapsed_);
    elapsed_ = target;
  }
  if (exhausted_) return absl::InfiniteFuture();
  if (second_ > -kMaxNanoSeconds && second_ < kMaxNanoSeconds) {
    return absl::FromUnixNanos(second_ * kNanosPerSecond + nanos_);
  }
  return absl::FromUnixSeconds(second_) + absl::Nanoseconds(nanos_);
}

void BusinessCalendar::Walk::Advance(int64_t nanos) {
  if (exhausted_ || nanos <= 0) return;
  const int64_t last_day = kLatest / kSecondsPerDay;
  for (; day_ < last_day; ++day_, span_ = 0) {
    const std::vector<Span>& spans = calendar_->SpansOn(day_);
    const int64_t midnight = day_ * kSecondsPerDay;
    for (; span_ < spans.size(); ++span_) {
      const int64_t end = calendar_->ToUtc(midnight + spans[span_].end, &hint_);
      if (end <= second_) continue;
      const int64_t begin =
          calendar_->ToUtc(midnight + spans[span_].begin, &hint_);
      if (begin > second_) {
        second_ = begin;
        nanos_ = 0;
      }
      const int64_t available = (end - second_) * kNanosPerSecond - nanos_;
      if (nanos <= available) {
        nanos_ += nanos;
        second_ += nanos_ / kNanosPerSecond;
        nanos_ %= kNanosPerSecond;
        return;
      }
      nanos -= available;
      second_ = end;
      nanos_ = 0;
    }
  }
  exhausted_ = true;
}

absl::Duration BusinessCalendar::BusinessTimeBetween(absl::Time from,
                                                     absl::Time to) const {
  from = Clamp(from);
  to = Clamp(to);
  if (to <= from) return absl::ZeroDuration();
  absl::Duration total;
  int hint;
  int last_hint;
  const int64_t last_day = LocalDay(absl::ToUnixSeconds(to), &last_hint);
  for (int64_t day = LocalDay(absl::ToUnixSeconds(from), &hint);
       day <= last_day; ++day) {
    const int64_t midnight = day * kSecondsPerDay;
    for (const Span& span : SpansOn(day)) {
      const absl::Time begin = std::max(
          from, absl::FromUnixSeconds(ToUtc(midnight + span.begin, &hint)));
      const absl::Time end = std::min(
          to, absl::FromUnixSeconds(ToUtc(midnight + span.end, &hint)));
      if (end > begin) total += end - begin;
    }
  }
  return total;
}

}  // namespace smarketing
