// Stored leads replayed with a Playbook as they arrived: each lead is
// decided at the moments the service decides it (when it arrives, and when
// each of its events arrives), scored then with the events it had then, and
// moved through the lifecycle as LeadEngine::Refresh moves it, until it
// becomes MQL or is disqualified. What a back-test compares with what
// happened.
#ifndef SMARKETING_CORE_BATCH_REPLAY_TABLE_H_
#define SMARKETING_CORE_BATCH_REPLAY_TABLE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/batch/lead_table.h"
#include "core/journey/lead_engine.h"

namespace smarketing {

// The replay in columns, one entry per lead. Times are nanoseconds since the
// Unix epoch (UTC), kNotReplayed for a lead that arrived after the end.
struct ReplayColumns {
  static constexpr int64_t kNotReplayed = std::numeric_limits<int64_t>::min();
  // The lead's stage when the replay stopped: MQL, DISQUALIFIED, NURTURE
  // (never qualified), or UNSPECIFIED (not replayed).
  std::vector<int32_t> stage;
  // When the lead arrived: its created_at; without one, its first event
  // (events before the end only); without either, the end.
  std::vector<int64_t> arrived_at;
  // When the replay stopped: the lead became MQL or was disqualified then;
  // for a NURTURE lead, its last decision.
  std::vector<int64_t> decided_at;
  // Moments the lead was scored at.
  std::vector<int32_t> decisions;
  // The score at decided_at (see LeadScore).
  std::vector<double> fit;
  std::vector<double> engagement;
  std::vector<double> total;
  std::vector<int32_t> persona;  // index in the Playbook, -1 for none
  std::vector<int32_t> grade;    // index in grade_bands, -1 for none
  std::vector<int32_t> priority;
  std::vector<int32_t> disqualification_reason;
  std::vector<uint8_t> hand_raiser;
};

struct ReplayOptions {
  // The end of the history: later events are not replayed, and leads that
  // arrive later are not replayed at all.
  absl::Time end;
  int threads = 0;  // <= 0: DefaultThreadCount()
};

// Replays every lead of `table` with `engine`'s Playbook. The moments of a
// lead are its arrival and each distinct time one of its events occurred
// after it (events that occurred before it count from the arrival), up to
// the end; at each the lead is scored as of that time, so decay, lookbacks
// and windows are those of that moment, and the recommended stage is applied
// as the service applies it (Lifecycle::ApplyRecommendation): the first MQL
// or disqualification ends the replay, since what follows is sales'. The
// service's periodic refresh passes are not replayed: between two events a
// score only falls, unless negative points fade or leave a window. A lead
// the core refuses fails the whole call as ScoreTable does
// (TableLeadError); results do not depend on the thread count.
absl::Status ReplayTable(const LeadEngine& engine, const LeadTable& table,
                         const ReplayOptions& options, ReplayColumns* out);

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_REPLAY_TABLE_H_
