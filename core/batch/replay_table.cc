#include "core/batch/replay_table.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "core/base/proto_time.h"
#include "core/batch/parallel_for.h"
#include "core/batch/score_table.h"
#include "core/scoring/lead_validation.h"
#include "core/scoring/scorer.h"

namespace smarketing {

namespace {

// What one thread needs to replay leads, kept from lead to lead.
class Replayer {
 public:
  Replayer(const LeadEngine& engine, const LeadTable& table)
      : engine_(engine),
        table_(table),
        builder_(table),
        scorer_(engine.playbook()) {}

  // Replays lead `row` into row `row` of `out`.
  absl::Status Replay(int64_t row, absl::Time end, ReplayColumns* out) {
    const v1::Lead& lead = builder_.Build(row);
    // Its times are read before the scorer would check them.
    if (absl::Status status = ValidateLead(lead); !status.ok()) {
      return TableLeadError(table_, row, lead.id(), status);
    }
    moments_.clear();
    for (const v1::Event& event : lead.events()) {
      const absl::Time at = TimeFromProto(event.occurred_at());
      if (at <= end) moments_.push_back(at);
    }
    std::sort(moments_.begin(), moments_.end());
    moments_.erase(std::unique(moments_.begin(), moments_.end()),
                   moments_.end());
    absl::Time arrival = end;
    if (lead.has_created_at()) {
      arrival = TimeFromProto(lead.created_at());
    } else if (!moments_.empty()) {
      arrival = moments_.front();
    }
    out->arrived_at[row] = absl::ToUnixNanos(arrival);
    if (arrival > end) return absl::OkStatus();
    // The arrival, then the moments after it.
    moments_.erase(moments_.begin(),
                   std::upper_bound(moments_.begin(), moments_.end(), arrival));
    moments_.insert(moments_.begin(), arrival);

    absl::StatusOr<v1::LeadLifecycle> lifecycle = engine_.Start(arrival);
    if (!lifecycle.ok()) return lifecycle.status();
    absl::Time decided = arrival;
    int decisions = 0;
    for (const absl::Time at : moments_) {
      if (absl::Status status = scorer_.Score(lead, at, &score_);
          !status.ok()) {
        return TableLeadError(table_, row, lead.id(), status);
      }
      ++decisions;
      decided = at;
      absl::StatusOr<bool> moved = engine_.lifecycle().ApplyRecommendation(
          score_.stage, score_.disqualification_reason, at, &*lifecycle);
      if (!moved.ok())
        return TableLeadError(table_, row, lead.id(), moved.status());
      if (lifecycle->stage() == v1::LIFECYCLE_STAGE_MQL ||
          lifecycle->stage() == v1::LIFECYCLE_STAGE_DISQUALIFIED) {
        break;
      }
    }
    out->stage[row] = lifecycle->stage();
    out->decided_at[row] = absl::ToUnixNanos(decided);
    out->decisions[row] = decisions;
    out->fit[row] = score_.fit;
    out->engagement[row] = score_.engagement;
    out->total[row] = score_.total;
    out->persona[row] = score_.persona;
    out->grade[row] = score_.grade;
    out->priority[row] = score_.priority;
    out->disqualification_reason[row] = score_.disqualification_reason;
    out->hand_raiser[row] = score_.hand_raiser;
    return absl::OkStatus();
  }

 private:
  const LeadEngine& engine_;
  const LeadTable& table_;
  TableLeadBuilder builder_;
  Scorer scorer_;
  LeadScore score_;
  std::vector<absl::Time> moments_;
};

}  // namespace

absl::Status ReplayTable(const LeadEngine& engine, const LeadTable& table,
                         const ReplayOptions& options, ReplayColumns* out) {
  const int64_t n = table.size();
  out->stage.assign(n, v1::LIFECYCLE_STAGE_UNSPECIFIED);
  out->arrived_at.assign(n, ReplayColumns::kNotReplayed);
  out->decided_at.assign(n, ReplayColumns::kNotReplayed);
  out->decisions.assign(n, 0);
  out->fit.assign(n, 0);
  out->engagement.assign(n, 0);
  out->total.assign(n, 0);
  out->persona.assign(n, -1);
  out->grade.assign(n, -1);
  out->priority.assign(n, v1::PRIORITY_UNSPECIFIED);
  out->disqualification_reason.assign(n,
                                      v1::DISQUALIFICATION_REASON_UNSPECIFIED);
  out->hand_raiser.assign(n, 0);

  const int threads =
      options.threads > 0 ? options.threads : DefaultThreadCount();
  std::vector<std::unique_ptr<Replayer>> replayers(threads);
  std::mutex error_mutex;
  int64_t error_row = n;
  absl::Status error;
  // Each thread writes its own rows; the error kept is the first row's, so
  // that it does not depend on the thread count.
  ParallelFor(
      n, threads,
      [&](int thread, int64_t begin, int64_t end) {
        std::unique_ptr<Replayer>& replayer = replayers[thread];
        if (replayer == nullptr) {
          replayer = std::make_unique<Replayer>(engine, table);
        }
        for (int64_t r = begin; r < end; ++r) {
          absl::Status status = replayer->Replay(r, options.end, out);
          if (status.ok()) continue;
          std::lock_guard<std::mutex> lock(error_mutex);
          if (r < error_row) {
            error_row = r;
            error = std::move(status);
          }
          return;
        }
      },
      /*chunk=*/64);
  return error;
}

}  // namespace smarketing
