// A progress line on standard error for long runs (score, diff --leads) when
// standard error is a terminal: leads done, rate and time left. Nothing at
// all otherwise: pipes and CI logs get no carriage returns.
#ifndef SMARKETING_CLI_PROGRESS_H_
#define SMARKETING_CLI_PROGRESS_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace smarketing::cli {

class ProgressLine {
 public:
  // `verb`: what is done to the leads ("scored").
  explicit ProgressLine(const char* verb)
      : enabled_(::isatty(STDERR_FILENO) == 1),
        verb_(verb),
        start_(absl::Now()) {}

  bool enabled() const { return enabled_; }

  // `leads` done, `fraction` of the input (negative when unknown: no time
  // left then). At most four times a second.
  void Update(int64_t leads, double fraction) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (now - last_ < absl::Milliseconds(250)) return;
    last_ = now;
    const double seconds = absl::ToDoubleSeconds(now - start_);
    std::fprintf(stderr, "\r%lld leads %s, %.0f/s",
                 static_cast<long long>(leads), verb_,
                 seconds > 0 ? static_cast<double>(leads) / seconds : 0.0);
    if (fraction > 0 && fraction <= 1) {
      std::fprintf(stderr, ", %.0f%%, %.0fs left", fraction * 100,
                   seconds * (1 - fraction) / fraction);
    }
    std::fputs("\033[K", stderr);  // erase what a longer line left
    std::fflush(stderr);
    shown_ = true;
  }

  // Erases the line: before another message, and at the end.
  void Clear() {
    if (!shown_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    shown_ = false;
  }

 private:
  const bool enabled_;
  const char* const verb_;
  const absl::Time start_;
  absl::Time last_ = absl::InfinitePast();
  bool shown_ = false;
};

}  // namespace smarketing::cli

#endif  // SMARKETING_CLI_PROGRESS_H_
