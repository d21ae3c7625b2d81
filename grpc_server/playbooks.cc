#include "grpc_server/playbooks.h"

#include <utility>

namespace smarketing {

Playbooks::Playbooks(Store* store) : store_(store) {
  store_->WatchPlaybooks([this] {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = 0;
    ++generation_;
  });
}

Playbooks::~Playbooks() { store_->WatchPlaybooks(nullptr); }

absl::StatusOr<PlaybookVersionEngine> Playbooks::Get(int64_t number) {
  int64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t wanted = number == 0 ? active_ : number;
    if (auto it = engines_.find(wanted); it != engines_.end()) {
      return PlaybookVersionEngine{wanted, it->second};
    }
    generation = generation_;
  }
  auto record = store_->GetPlaybook(number);
  if (!record.ok()) return record.status();
  // Published versions were valid when published; compiling again can fail
  // only if the core became stricter since.
  auto engine = LeadEngine::Create(record->playbook);
  if (!engine.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Playbook version ", record->number,
                     " no longer compiles: ", engine.status().message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  engines_.emplace(record->number, *engine);
  if (record->active && generation == generation_) active_ = record->number;
  return PlaybookVersionEngine{record->number, *std::move(engine)};
}

absl::StatusOr<PlaybookRecord> Playbooks::Publish(
    std::shared_ptr<const LeadEngine> engine, absl::string_view published_by,
    bool activate, absl::Time published_at) {
  // The store serializes publications; holding mu_ across it keeps the
  // cache's active version in step with the store's.
  std::lock_guard<std::mutex> lock(mu_);
  auto record = store_->PublishPlaybook(engine->playbook()->playbook(),
                                        published_by, published_at, activate);
  if (!record.ok()) return record.status();
  engines_.emplace(record->number, std::move(engine));
  if (record->active) active_ = record->number;
  return record;
}

absl::StatusOr<PlaybookRecord> Playbooks::Activate(
    int64_t number, int64_t expected_active, absl::string_view activated_by) {
  std::lock_guard<std::mutex> lock(mu_);
  auto record = store_->ActivatePlaybook(number, expected_active, activated_by,
                                         absl::Now());
  if (!record.ok()) return record.status();
  active_ = record->number;
  return record;
}

Scorer& ThreadScorer(const std::shared_ptr<const CompiledPlaybook>& playbook) {
  thread_local std::unique_ptr<Scorer> scorer;
  if (scorer == nullptr || &scorer->playbook() != playbook.get()) {
    scorer = std::make_unique<Scorer>(playbook);
  }
  return *scorer;
}

}  // namespace smarketing
