// Rescoring in the background: when a Playbook version is activated, every
// stored lead is evaluated again with it, and periodically (the refresh) as
// time passes and engagement decays. A pass runs in batches of leads by
// id, each committed with the pass's progress (LeadDesk::RescoreBatch), so
// that a restart resumes after the last batch committed and no lead is
// evaluated twice by a pass. When a pass is due is the core's decision
// (NextRescorePass).
#ifndef SMARKETING_GRPC_SERVER_RESCORER_H_
#define SMARKETING_GRPC_SERVER_RESCORER_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc_server/lead_desk.h"
#include "grpc_server/playbooks.h"
#include "smarketing/v1/rescore.pb.h"
#include "store/store.h"

namespace smarketing {

// The nice value of the rescorer's thread: a pass yields the cores to
// requests, ScoreLead's latency first, and takes the time they leave.
inline constexpr int kRescoreNice = 10;

struct RescorerOptions {
  // Leads per batch (per transaction): bounds how long a batch holds the
  // store's writer (a tenth of a second or so), and what a kill -9 loses.
  // Smaller batches pay a commit and a disk sync each: 200 cost a fifth
  // more CPU per lead than 1000.
  int batch = 1000;
  // How often the periodic refresh runs; zero turns it off.
  absl::Duration refresh_interval = absl::ZeroDuration();
  // How often to look for a pass due when nobody said (Wake).
  absl::Duration tick = absl::Seconds(10);
};

class Rescorer {
 public:
  // `clock` gives the time leads are evaluated at (absl::Now in
  // production; tests move it by hand).
  Rescorer(Store* store, Playbooks* playbooks, LeadDesk* leads,
           std::function<absl::Time()> clock, RescorerOptions options);
  ~Rescorer();

  // Runs on a thread of its own until Stop: at start, at every tick and
  // when woken.
  void Start();
  // Waits for the batch in progress, if any, and stops the thread.
  void Stop();
  // A version was activated: look at once.
  void Wake();

  // Starts the pass due, if any, and runs the latest pass to its end or
  // until Stop or another version is activated. Returns the latest pass
  // (nullopt when none), as stored.
  absl::StatusOr<std::optional<v1::RescoreStatus>> RunOnce();

 private:
  void Loop();
  bool stopping();
  // Starts the pass due at `now`, in one transaction with the end of the
  // pass it supersedes. Returns the latest pass.
  absl::StatusOr<std::optional<v1::RescoreStatus>> StartDue(int64_t active,
                                                            absl::Time now);
  // Records the end of `pass`.
  absl::StatusOr<v1::RescoreStatus> Finish(v1::RescoreStatus pass,
                                           absl::Time now);

  Store* store_;
  Playbooks* playbooks_;
  LeadDesk* leads_;
  std::function<absl::Time()> clock_;
  RescorerOptions options_;
  // std::mutex and std::condition_variable rather than abseil's: Debian's
  // abseil is not built with ThreadSanitizer, which cannot see absl::Mutex
  // and would miss races around it (tests/grpc/background_test.cc).
  // One run at a time, whether from the thread or a caller.
  std::mutex run_mu_;
  std::mutex mu_;
  // Signalled when stopping_ or woken_ is set.
  std::condition_variable changed_;
  // Guarded by mu_.
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_RESCORER_H_
