#include "grpc_server/scheduler.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "grpc_server/log.h"
#include "grpc_server/wait.h"

namespace smarketing {
namespace {

// Leads read from the store at a time.
constexpr int kBatch = 256;

}  // namespace

Scheduler::Scheduler(Store* store, LeadDesk* leads,
                     std::function<absl::Time()> clock)
    : store_(store), leads_(leads), clock_(std::move(clock)) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start(absl::Duration tick) {
  thread_ = std::thread([this, tick] { Loop(tick); });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Loop(absl::Duration tick) {
  for (;;) {
    const SchedulerPass pass = RunOnce();
    if (pass.changed + pass.assigned + pass.failed > 0) {
      Log("info", "scheduler_pass",
          {{"due", absl::StrCat(pass.due)},
           {"changed", absl::StrCat(pass.changed)},
           {"assigned", absl::StrCat(pass.assigned)},
           {"failed", absl::StrCat(pass.failed)}});
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_.wait_for(lock, WaitTimeout(tick), [this] { return stopping_; })) {
      return;
    }
  }
}

SchedulerPass Scheduler::RunOnce() {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  const absl::Time now = clock_();
  SchedulerPass pass;
  // Replicas sharing a database run the scheduler one at a time: the
  // others would only find the same leads due, and wait for the write lock
  // to see that the steps were carried out.
  auto leader = store_->HoldLease("sla-scheduler");
  if (!leader.ok()) {
    Log("warning", "scheduler_store_error",
        {{"error", std::string(leader.status().message())}});
    return pass;
  }
  if (!*leader) return pass;
  auto stopping = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  };
  auto failed = [&](absl::string_view what, const std::string& lead_id,
                    const absl::Status& status) {
    ++pass.failed;
    Log("warning", what,
        {{"lead_id", lead_id}, {"error", std::string(status.message())}});
  };

  // A lead is due again at `now` only while steps remain, and RunSla
  // carries out all of them: a lead seen twice in a pass stops the pass
  // rather than spinning on a lead whose write keeps failing.
  absl::flat_hash_set<std::string> seen;
  bool progress = true;
  while (progress && !stopping()) {
    auto due = store_->ListSlaDue(now, kBatch);
    if (!due.ok()) {
      Log("warning", "scheduler_store_error",
          {{"error", std::string(due.status().message())}});
      return pass;
    }
    progress = false;
    for (const std::string& lead_id : *due) {
      if (!seen.insert(lead_id).second) continue;
      progress = true;
      ++pass.due;
      auto written = leads_->RunSla(lead_id, now);
      if (!written.ok()) {
        failed("scheduler_step_failed", lead_id, written.status());
      } else if (!written->unchanged) {
        ++pass.changed;
      }
    }
  }

  // Out of hours, with everyone away or at capacity, no queued lead can
  // move: one look at the routing state spares a transaction per lead.
  auto may_move = leads_->QueuesMayMove(now);
  if (!may_move.ok()) {
    Log("warning", "scheduler_store_error",
        {{"error", std::string(may_move.status().message())}});
    return pass;
  }
  if (!*may_move) return pass;
  std::string after;
  while (!stopping()) {
    auto queued = store_->ListQueuedLeads(after, kBatch);
    if (!queued.ok()) {
      Log("warning", "scheduler_store_error",
          {{"error", std::string(queued.status().message())}});
      break;
    }
    for (const std::string& lead_id : *queued) {
      after = lead_id;
      auto written = leads_->AssignFromQueue(lead_id, now);
      if (!written.ok()) {
        failed("scheduler_assignment_failed", lead_id, written.status());
      } else if (!written->unchanged) {
        ++pass.assigned;
      }
    }
    if (static_cast<int>(queued->size()) < kBatch) break;
  }
  return pass;
}

}  // namespace smarketing
