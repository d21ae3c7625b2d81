// Weeks of realistic history for a lead store (arrivals, MQLs, first
// touches on time and late, acceptances and rejections with reasons,
// meetings, wins and losses, recycled leads that come back), written
// through the service's LeadDesk with a simulated clock: the demo's first
// weekly review tells a story, and tests and benchmarks get a history to
// compute reviews from.
#ifndef SMARKETING_GRPC_SERVER_HISTORY_WRITER_H_
#define SMARKETING_GRPC_SERVER_HISTORY_WRITER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "grpc_server/lead_desk.h"

namespace smarketing {

struct DemoHistoryOptions {
  // Weeks of history, ending at `end`.
  int weeks = 12;
  // Arrivals per weekday at the start (grows 3% a week, 30% at weekends).
  int leads_per_day = 40;
  absl::Time end = absl::UnixEpoch();
  // Same seed, same history (with one thread).
  uint64_t seed = 7;
  // Threads writing at once, each with its share of the leads: their writes
  // are committed together, which fills a large store faster. With more
  // than one, which owner routing gives a lead depends on the order the
  // threads' writes meet.
  int threads = 1;
};

// What was written.
struct DemoHistoryCounts {
  int64_t arrivals = 0;
  int64_t mqls = 0;
  int64_t feedback = 0;
  // Writes the lifecycle refused (e.g. late feedback on a lead its SLA
  // recycled meanwhile), as a real CRM's would be.
  int64_t refused = 0;
};

// Writes the history through `desk`, whose store holds an active Playbook.
DemoHistoryCounts WriteDemoHistory(LeadDesk* desk,
                                   const DemoHistoryOptions& options);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_HISTORY_WRITER_H_
