// The SLA scheduler inside the service: on every tick it carries out the
// escalation steps that fell due (remind, reassign, escalate to the
// manager, recycle), records leads becoming at risk or breached, and gives
// the MQLs waiting in a team's queue to members who can now take them. The
// decisions are the core's (LeadEngine); the due times live in the store,
// so a restart catches up on what fell due while the service was down.
#ifndef SMARKETING_GRPC_SERVER_SCHEDULER_H_
#define SMARKETING_GRPC_SERVER_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc_server/lead_desk.h"
#include "store/store.h"

namespace smarketing {

// What one pass did.
struct SchedulerPass {
  // Leads looked at because their SLA was due.
  int64_t due = 0;
  // Leads written: a step carried out or an SLA state recorded.
  int64_t changed = 0;
  // Leads taken out of a team's queue.
  int64_t assigned = 0;
  // Leads whose write failed (logged; retried at the next pass).
  int64_t failed = 0;
};

class Scheduler {
 public:
  // `clock` gives the time a pass runs at (absl::Now in production; tests
  // move it by hand).
  Scheduler(Store* store, LeadDesk* leads, std::function<absl::Time()> clock);
  ~Scheduler();

  // Runs a pass every `tick` on a thread of its own until Stop.
  void Start(absl::Duration tick);
  // Waits for the pass in progress, if any, and stops the thread.
  void Stop();

  // One pass at clock(): every lead due by then, then the team queues.
  SchedulerPass RunOnce();

 private:
  void Loop(absl::Duration tick);

  Store* store_;
  LeadDesk* leads_;
  std::function<absl::Time()> clock_;
  // std::mutex and std::condition_variable rather than abseil's: Debian's
  // abseil is not built with ThreadSanitizer, which cannot see absl::Mutex
  // and would miss races around it (tests/grpc/background_test.cc).
  // One pass at a time, whether from the thread or a caller.
  std::mutex pass_mu_;
  std::mutex mu_;
  std::condition_variable stop_;
  // Guarded by mu_.
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_SCHEDULER_H_
