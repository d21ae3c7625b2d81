#include "core/batch/lead_pipeline.h"

#include <algorithm>
#include <future>
#include <utility>

#include "core/batch/parallel_for.h"
#include "core/leads/lead_wire.h"

namespace smarketing {
namespace {

class FileSource : public LeadSource {
 public:
  explicit FileSource(LeadBlockReader* reader) : reader_(reader) {}

  void SetThreads(int threads) override {
    leads_ = std::vector<ReusableLead>(threads);
    fields_ = std::vector<v1::Lead>(threads);
    readers_ = std::vector<FlatLeadReaders>(threads);
    flat_ = std::vector<FlatLead>(threads);
  }

  absl::StatusOr<int64_t> NextBlock(int slot) override {
    absl::StatusOr<bool> more = reader_->Next(&blocks_[slot]);
    if (!more.ok()) return more.status();
    return *more ? blocks_[slot].size() : 0;
  }

  absl::StatusOr<SourceLead> Read(int thread, int slot, int64_t i) override {
    // Most leads take the flat path; the others are read whole, so that
    // validation names what is wrong as on every front.
    v1::Lead* fields = &fields_[thread];
    if (blocks_[slot].ParseFlat(i, &readers_[thread], fields, &flat_[thread])) {
      return SourceLead{fields, &flat_[thread]};
    }
    v1::Lead* lead = leads_[thread].Fresh();
    if (absl::Status st = blocks_[slot].Parse(i, lead); !st.ok()) return st;
    return SourceLead{lead, nullptr};
  }

  int64_t line(int slot, int64_t i) const override {
    return blocks_[slot].line(i);
  }
  int64_t index(int slot, int64_t i) const override {
    return blocks_[slot].index(i);
  }
  double fraction_done() const override { return reader_->fraction_done(); }

 private:
  LeadBlockReader* reader_;
  LeadBlock blocks_[2];
  std::vector<ReusableLead> leads_;
  // The fields of leads read flat: cleared, not freed, between leads, so
  // that their strings keep their storage.
  std::vector<v1::Lead> fields_;
  std::vector<FlatLeadReaders> readers_;
  std::vector<FlatLead> flat_;
};

class TableSource : public LeadSource {
 public:
  explicit TableSource(const LeadTable& table) : table_(table) {}

  void SetThreads(int threads) override {
    // Each lead is built over the previous one: building it then allocates
    // next to nothing, which would otherwise cost as much as scoring it.
    builders_.clear();
    for (int t = 0; t < threads; ++t) {
      builders_.push_back(std::make_unique<TableLeadBuilder>(table_));
    }
    flat_ = std::vector<FlatLead>(threads);
  }

  absl::StatusOr<int64_t> NextBlock(int slot) override {
    first_[slot] = next_;
    const int64_t size = std::min(kBlockRows, table_.size() - next_);
    next_ += size;
    return size;
  }

  absl::StatusOr<SourceLead> Read(int thread, int slot, int64_t i) override {
    TableLeadBuilder& builder = *builders_[thread];
    const int64_t row = first_[slot] + i;
    // Most leads are laid out flat; the others are built whole, so that
    // validation names what is wrong as on every front.
    if (const v1::Lead* fields = builder.BuildFlat(row, &flat_[thread])) {
      return SourceLead{fields, &flat_[thread]};
    }
    return SourceLead{&builder.Build(row)};
  }

  int64_t line(int slot, int64_t i) const override { return first_[slot] + i; }
  int64_t index(int slot, int64_t i) const override { return first_[slot] + i; }
  double fraction_done() const override {
    return table_.size() == 0 ? 1 : static_cast<double>(next_) / table_.size();
  }

 private:
  static constexpr int64_t kBlockRows = 65536;
  const LeadTable& table_;
  std::vector<std::unique_ptr<TableLeadBuilder>> builders_;
  std::vector<FlatLead> flat_;
  int64_t first_[2] = {0, 0};
  int64_t next_ = 0;
};

// Leads already in memory, handed out in blocks of their list.
class MemorySource : public LeadSource {
 public:
  explicit MemorySource(int64_t size) : size_(size) {}

  absl::StatusOr<int64_t> NextBlock(int slot) override {
    first_[slot] = next_;
    const int64_t size = std::min(kBlockLeads, size_ - next_);
    next_ += size;
    return size;
  }

  int64_t line(int slot, int64_t i) const override { return first_[slot] + i; }
  int64_t index(int slot, int64_t i) const override { return first_[slot] + i; }

 private:
  static constexpr int64_t kBlockLeads = 65536;
  const int64_t size_;
  int64_t first_[2] = {0, 0};
  int64_t next_ = 0;
};

class ListSource : public MemorySource {
 public:
  explicit ListSource(absl::Span<const v1::Lead* const> leads)
      : MemorySource(static_cast<int64_t>(leads.size())), leads_(leads) {}

  void SetThreads(int) override {}

  absl::StatusOr<SourceLead> Read(int, int slot, int64_t i) override {
    return SourceLead{leads_[index(slot, i)]};
  }

 private:
  absl::Span<const v1::Lead* const> leads_;
};

class WireSource : public MemorySource {
 public:
  explicit WireSource(absl::Span<const absl::string_view> leads)
      : MemorySource(static_cast<int64_t>(leads.size())), leads_(leads) {}

  void SetThreads(int threads) override {
    readers_ = std::vector<FlatLeadWireReader>(threads);
    fields_ = std::vector<v1::Lead>(threads);
    flat_ = std::vector<FlatLead>(threads);
    leads_whole_ = std::vector<ReusableLead>(threads);
  }

  absl::StatusOr<SourceLead> Read(int thread, int slot, int64_t i) override {
    const absl::string_view bytes = leads_[index(slot, i)];
    // Most leads are read flat; the others are parsed whole, so that
    // validation names what is wrong as on every front.
    if (readers_[thread].Read(bytes, &fields_[thread], &flat_[thread])) {
      return SourceLead{&fields_[thread], &flat_[thread]};
    }
    v1::Lead* lead = leads_whole_[thread].Fresh();
    if (!lead->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(
          "not a valid encoding of a smarketing.v1.Lead");
    }
    return SourceLead{lead};
  }

 private:
  absl::Span<const absl::string_view> leads_;
  std::vector<FlatLeadWireReader> readers_;
  // As FileSource's: cleared, not freed, between leads.
  std::vector<v1::Lead> fields_;
  std::vector<FlatLead> flat_;
  std::vector<ReusableLead> leads_whole_;
};

}  // namespace

std::unique_ptr<LeadSource> FileLeadSource(LeadBlockReader* reader) {
  return std::make_unique<FileSource>(reader);
}

std::unique_ptr<LeadSource> TableLeadSource(const LeadTable& table) {
  return std::make_unique<TableSource>(table);
}

std::unique_ptr<LeadSource> LeadListSource(
    absl::Span<const v1::Lead* const> leads) {
  return std::make_unique<ListSource>(leads);
}

std::unique_ptr<LeadSource> EncodedLeadSource(
    absl::Span<const absl::string_view> leads) {
  return std::make_unique<WireSource>(leads);
}

LeadPipeline::LeadPipeline(
    std::vector<std::shared_ptr<const CompiledPlaybook>> playbooks,
    absl::Time now, int threads)
    : now_(now),
      threads_(threads > 0 ? threads : DefaultThreadCount()),
      workers_(threads_) {
  for (Worker& w : workers_) {
    for (const auto& playbook : playbooks) {
      w.scorers.push_back(std::make_unique<Scorer>(playbook));
    }
    w.scores.resize(playbooks.size());
  }
}

// Leads handed to a thread at a time: a block of some 10,000 leads is shared
// evenly to within a few milliseconds of work.
constexpr int64_t kChunkLeads = 64;

absl::Status LeadPipeline::Run(LeadSource& source, const StartFn& on_start,
                               const LeadFn& on_lead, const BlockFn& on_block) {
  source.SetThreads(threads_);
  // The block scored before is finished (on_block) on a thread of its own
  // while this one is scored: routing and writing then keep no worker
  // waiting.
  int finishing = -1;
  int64_t finishing_size = 0;
  for (int slot = 0;; slot = 1 - slot) {
    absl::StatusOr<int64_t> n = source.NextBlock(slot);
    if (!n.ok() || *n == 0) {
      absl::Status last = finishing >= 0 ? on_block(finishing, finishing_size)
                                         : absl::OkStatus();
      return n.ok() ? last : n.status();
    }
    if (on_start) on_start(slot, *n);
    std::future<absl::Status> finished;
    if (finishing >= 0) {
      finished =
          std::async(std::launch::async, on_block, finishing, finishing_size);
    }
    ParallelFor(
        *n, threads_,
        [&](int thread, int64_t begin, int64_t end) {
          Worker& w = workers_[thread];
          ScoredLead scored;
          scored.thread = thread;
          scored.slot = slot;
          for (int64_t i = begin; i < end; ++i) {
            scored.i = i;
            scored.lead = nullptr;
            scored.scores = {};
            absl::StatusOr<SourceLead> lead = source.Read(thread, slot, i);
            if (!lead.ok()) {
              scored.status = std::move(lead).status();
              on_lead(scored);
              continue;
            }
            scored.lead = lead->lead;
            scored.status = absl::OkStatus();
            for (size_t k = 0; k < w.scorers.size() && scored.status.ok();
                 ++k) {
              if (lead->flat != nullptr) {
                w.scorers[k]->ScoreFlat(*lead->flat, now_, &w.scores[k]);
              } else {
                scored.status =
                    w.scorers[k]->Score(*lead->lead, now_, &w.scores[k]);
              }
            }
            if (scored.status.ok()) scored.scores = absl::MakeSpan(w.scores);
            on_lead(scored);
          }
        },
        kChunkLeads);
    if (finished.valid()) {
      if (absl::Status st = finished.get(); !st.ok()) return st;
    }
    finishing = slot;
    finishing_size = *n;
  }
}

}  // namespace smarketing
