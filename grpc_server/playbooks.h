// The published Playbook versions as the service evaluates them: each
// version compiled once into a LeadEngine, kept in memory, and the number
// of the active one, read on every call without touching the store.
#ifndef SMARKETING_GRPC_SERVER_PLAYBOOKS_H_
#define SMARKETING_GRPC_SERVER_PLAYBOOKS_H_

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/journey/lead_engine.h"
#include "core/scoring/scorer.h"
#include "store/store.h"

namespace smarketing {

// One version, ready to evaluate.
struct PlaybookVersionEngine {
  int64_t number = 0;
  std::shared_ptr<const LeadEngine> engine;
};

class Playbooks {
 public:
  // Drops the cached active version whenever the store says another
  // process may have activated one (replicas sharing a database).
  explicit Playbooks(Store* store);
  ~Playbooks();

  // Version `number`, or the active one for 0. NOT_FOUND when none.
  absl::StatusOr<PlaybookVersionEngine> Get(int64_t number);

  // Publishes a compiled Playbook at `published_at` (see
  // Store::PublishPlaybook).
  absl::StatusOr<PlaybookRecord> Publish(
      std::shared_ptr<const LeadEngine> engine, absl::string_view published_by,
      bool activate, absl::Time published_at = absl::Now());

  // See Store::ActivatePlaybook; the activation is dated now.
  absl::StatusOr<PlaybookRecord> Activate(int64_t number,
                                          int64_t expected_active,
                                          absl::string_view activated_by);

 private:
  Store* store_;
  std::mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<const LeadEngine>> engines_;
  // 0 until known.
  int64_t active_ = 0;
  // Counts the drops of active_: a version read from the store before a
  // drop may be stale and is not cached as the active one.
  int64_t generation_ = 0;
};

// A Scorer for `playbook` owned by the calling thread: a Scorer keeps
// scratch space and is not thread-safe, and building one per call would
// cost more than scoring. Valid until the thread's next call.
Scorer& ThreadScorer(const std::shared_ptr<const CompiledPlaybook>& playbook);

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_PLAYBOOKS_H_
