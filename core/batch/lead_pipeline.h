// The one way many leads are scored, whatever the front (`smarketing score`
// and `diff --leads`, `score_frame`, the ScoreLeads stream, the benchmarks):
// leads come from a source a block at a time, every lead of a block is read
// and scored on worker threads (one Scorer per thread and Playbook), then
// the block is handed back on the calling thread, in input order, for what
// must follow that order (routing, writing). Memory is bounded by a block,
// whatever the size of the input, and results do not depend on the thread
// count.
#ifndef SMARKETING_CORE_BATCH_LEAD_PIPELINE_H_
#define SMARKETING_CORE_BATCH_LEAD_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/batch/lead_table.h"
#include "core/leads/lead_blocks.h"
#include "core/scoring/scorer.h"

namespace smarketing {

// A lead as a source hands it out.
struct SourceLead {
  const v1::Lead* lead = nullptr;
  // The same lead laid out flat and already validated, when the source
  // read it so (Scorer::ScoreFlat scores it); null otherwise.
  const FlatLead* flat = nullptr;
};

// Where leads come from, a block at a time. Two blocks are held at once, in
// slots 0 and 1: the pipeline finishes one (routing, writing) while the
// next is scored.
class LeadSource {
 public:
  virtual ~LeadSource() = default;
  // Called once, before the first block: Read's `thread` is below it.
  virtual void SetThreads(int threads) = 0;
  // Fills `slot` with the next block, leaving the other slot alone: its
  // number of leads, 0 at the end. An error (the input cannot be read) ends
  // the run.
  virtual absl::StatusOr<int64_t> NextBlock(int slot) = 0;
  // Lead i of the block in `slot`, read on worker `thread`; valid until that
  // thread reads another lead. Called once per lead. A record that is not a
  // lead is INVALID_ARGUMENT naming where it is.
  virtual absl::StatusOr<SourceLead> Read(int thread, int slot, int64_t i) = 0;
  // Where lead i of the block in `slot` is: its line in a file, its row in
  // a table or a list.
  virtual int64_t line(int slot, int64_t i) const = 0;
  // Position of lead i of the block in `slot` in the whole input, 0-based.
  virtual int64_t index(int slot, int64_t i) const = 0;
  // Share of the input read so far, in [0, 1]; negative when unknown (a
  // pipe).
  virtual double fraction_done() const { return -1; }
};

// A lead file, as LeadBlockReader reads it (JSON lines or CSV).
std::unique_ptr<LeadSource> FileLeadSource(LeadBlockReader* reader);
// The rows of a table (Python's DataFrames), in blocks.
std::unique_ptr<LeadSource> TableLeadSource(const LeadTable& table);
// Leads already in memory, kept alive by the caller.
std::unique_ptr<LeadSource> LeadListSource(
    absl::Span<const v1::Lead* const> leads);
// Encoded v1::Leads (a ScoreLeads request's), kept alive by the caller: read
// flat from their bytes (FlatLeadWireReader). One that is not a Lead's
// encoding is INVALID_ARGUMENT.
std::unique_ptr<LeadSource> EncodedLeadSource(
    absl::Span<const absl::string_view> leads);

// A lead of the current block, on the worker thread that scored it.
struct ScoredLead {
  int thread = 0;
  int slot = 0;   // of the block
  int64_t i = 0;  // in the block
  // Null when the record could not be read (`status` says why, naming
  // where it is).
  const v1::Lead* lead = nullptr;
  // Not ok: the record could not be read, or a Playbook refused the lead
  // (the scorer's message, which names the field but not the lead).
  absl::Status status;
  // One per Playbook, when `status` is ok.
  absl::Span<LeadScore> scores;
};

class LeadPipeline {
 public:
  // `threads` <= 0: DefaultThreadCount().
  LeadPipeline(std::vector<std::shared_ptr<const CompiledPlaybook>> playbooks,
               absl::Time now, int threads);

  int threads() const { return threads_; }
  absl::Time now() const { return now_; }
  // The scorer of Playbook `k` on worker `thread` (for ToProto).
  const Scorer& scorer(int thread, int k) const {
    return *workers_[thread].scorers[k];
  }

  // `n` leads in the block of `slot`, about to be scored.
  using StartFn = std::function<void(int slot, int64_t n)>;
  using LeadFn = std::function<void(const ScoredLead&)>;
  // The `n` leads of the block in `slot` are scored.
  using BlockFn = std::function<absl::Status(int slot, int64_t n)>;

  // For each block of `source`, in input order: `on_start` (may be empty),
  // `on_lead` for every lead, in parallel on the worker threads, then
  // `on_block`, one block at a time and while the next block is scored:
  // what on_block touches must be kept per slot. An error of the source or
  // of `on_block` stops the run and is returned.
  absl::Status Run(LeadSource& source, const StartFn& on_start,
                   const LeadFn& on_lead, const BlockFn& on_block);

 private:
  struct Worker {
    std::vector<std::unique_ptr<Scorer>> scorers;
    std::vector<LeadScore> scores;
  };
  const absl::Time now_;
  const int threads_;
  std::vector<Worker> workers_;
};

}  // namespace smarketing

#endif  // SMARKETING_CORE_BATCH_LEAD_PIPELINE_H_
