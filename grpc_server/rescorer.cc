#include "grpc_server/rescorer.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/enum_label.h"
#include "core/base/proto_time.h"
#include "core/journey/rescore.h"
#include "grpc_server/log.h"
#include "grpc_server/wait.h"

namespace smarketing {
namespace {

// The lease (Store::HoldLease) under which passes run: replicas sharing a
// database run them one at a time, as two would evaluate every lead twice
// and supersede each other's passes.
constexpr char kRescoreLease[] = "rescorer";

// The latest pass as stored; nullopt when none.
absl::StatusOr<std::optional<v1::RescoreStatus>> LatestRescore(Store& store) {
  std::optional<v1::RescoreStatus> latest;
  absl::Status st = store.Read([&](StoreTransaction& txn) -> absl::Status {
    auto stored = txn.GetLatestRescore();
    if (!stored.ok()) return stored.status();
    latest = *std::move(stored);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return latest;
}

}  // namespace

Rescorer::Rescorer(Store* store, Playbooks* playbooks, LeadDesk* leads,
                   std::function<absl::Time()> clock, RescorerOptions options)
    : store_(store),
      playbooks_(playbooks),
      leads_(leads),
      clock_(std::move(clock)),
      options_(options) {}

Rescorer::~Rescorer() { Stop(); }

void Rescorer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Rescorer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Rescorer::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  changed_.notify_all();
}

bool Rescorer::stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void Rescorer::Loop() {
  // This thread only: Linux gives each thread its own nice value. Failing
  // leaves the priority as it was: a pass that competes with requests.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
              kRescoreNice);
  for (;;) {
    if (auto run = RunOnce(); !run.ok()) {
      Log("warning", "rescore_failed",
          {{"error", std::string(run.status().message())}});
    }
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, WaitTimeout(options_.tick),
                      [this] { return woken_ || stopping_; });
    if (stopping_) return;
    woken_ = false;
  }
}

absl::StatusOr<std::optional<v1::RescoreStatus>> Rescorer::StartDue(
    int64_t active, absl::Time now) {
  std::optional<v1::RescoreStatus> latest;
  std::optional<v1::RescoreStatus> started;
  absl::Status st = store_->Write([&](StoreTransaction& txn) -> absl::Status {
    auto stored = txn.GetLatestRescore();
    if (!stored.ok()) return stored.status();
    latest = *std::move(stored);
    started = NextRescorePass(latest ? &*latest : nullptr, active, now,
                              options_.refresh_interval);
    if (!started) return absl::OkStatus();
    if (latest && latest->state() == v1::RESCORE_STATE_RUNNING) {
      latest->set_state(v1::RESCORE_STATE_SUPERSEDED);
      TimeToProto(now, latest->mutable_finished_at());
      if (auto put = txn.PutRescore(*latest); !put.ok()) return put;
    }
    auto total = txn.CountLeads();
    if (!total.ok()) return total.status();
    started->set_leads_total(*total);
    return txn.PutRescore(*started);
  });
  if (!st.ok()) return st;
  if (!started) return latest;
  Log("info", "rescore_started",
      {{"pass", absl::StrCat(started->pass_number())},
       {"reason", EnumLabel(started->reason())},
       {"playbook", absl::StrCat(started->playbook_number())},
       {"leads", absl::StrCat(started->leads_total())}});
  return started;
}

absl::StatusOr<v1::RescoreStatus> Rescorer::Finish(v1::RescoreStatus pass,
                                                   absl::Time now) {
  const std::string resume_after = pass.resume_after_lead_id();
  pass.set_state(v1::RESCORE_STATE_DONE);
  TimeToProto(now, pass.mutable_finished_at());
  // Leads created during the pass may be counted as done too.
  pass.set_leads_total(std::max(pass.leads_total(), pass.leads_done()));
  absl::Status st = store_->Write([&](StoreTransaction& txn) -> absl::Status {
    auto stored = txn.GetLatestRescore();
    if (!stored.ok()) return stored.status();
    if (!stored->has_value() ||
        (*stored)->pass_number() != pass.pass_number() ||
        (*stored)->state() != v1::RESCORE_STATE_RUNNING ||
        (*stored)->resume_after_lead_id() != resume_after) {
      return absl::AbortedError(absl::StrCat(
          "rescoring pass ", pass.pass_number(), " moved on elsewhere"));
    }
    return txn.PutRescore(pass);
  });
  if (!st.ok()) return st;
  Log("info", "rescore_finished",
      {{"pass", absl::StrCat(pass.pass_number())},
       {"leads", absl::StrCat(pass.leads_done())},
       {"written", absl::StrCat(pass.leads_written())},
       {"changed", absl::StrCat(pass.leads_changed())},
       {"failed", absl::StrCat(pass.leads_failed())}});
  return pass;
}

// While another replica holds the lease, a run only reads the latest pass.
absl::StatusOr<std::optional<v1::RescoreStatus>> Rescorer::RunOnce() {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  auto leading = store_->HoldLease(kRescoreLease);
  if (!leading.ok()) return leading.status();
  if (!*leading) return LatestRescore(*store_);
  auto active = playbooks_->Get(0);
  if (absl::IsNotFound(active.status())) return std::nullopt;
  if (!active.ok()) return active.status();
  auto latest = StartDue(active->number, clock_());
  if (!latest.ok() || !latest->has_value()) return latest;
  v1::RescoreStatus pass = **std::move(latest);
  if (pass.state() != v1::RESCORE_STATE_RUNNING) return pass;
  auto version = playbooks_->Get(pass.playbook_number());
  if (!version.ok()) return version.status();
  while (!stopping()) {
    // Another version activated meanwhile: its pass supersedes this one at
    // the next run.
    auto now_active = playbooks_->Get(0);
    if (!now_active.ok()) return now_active.status();
    if (now_active->number != pass.playbook_number()) {
      Wake();
      return pass;
    }
    // The lease lost (its connection to the store broke) may be taken by
    // another replica: the pass goes on where the lease is held.
    leading = store_->HoldLease(kRescoreLease);
    if (!leading.ok()) return leading.status();
    if (!*leading) return pass;
    auto ids = store_->ListLeadIds(pass.resume_after_lead_id(), options_.batch);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return Finish(std::move(pass), clock_());
    auto done = leads_->RescoreBatch(pass, *version, *ids, clock_());
    if (!done.ok()) return done.status();
    pass = *std::move(done);
  }
  return pass;
}

}  // namespace smarketing
