// The stored side of the lead journey: each write loads a lead from the
// store, lets the active Playbook's LeadEngine decide what happens to it,
// and stores the result in one transaction, so that a refused request
// changes nothing and an acknowledged one survives a crash. Knows nothing
// of gRPC.
#ifndef SMARKETING_GRPC_SERVER_LEAD_DESK_H_
#define SMARKETING_GRPC_SERVER_LEAD_DESK_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc_server/playbooks.h"
#include "store/store.h"

namespace smarketing {

// The largest lead record stored: its data, lifecycle history and latest
// score, serialized. Far below the message limit, so that every stored lead
// can be read, listed and answered with.
inline constexpr size_t kMaxLeadRecordBytes = 1 << 20;
// Free-text notes on feedback and manual moves.
inline constexpr size_t kMaxNoteBytes = 4 << 10;
// The events a stored lead is scored on: its latest ones by arrival. Older
// events stay stored (GetLead lists them) but no longer count, so that a
// write costs the same however long the lead's history; engagement decays
// over weeks and is capped per day, so they would count for little.
inline constexpr int kScoredEventsPerLead = 1000;

// How far ahead of the server's clock a reported time (a move, a first
// touch, feedback) may be: client clocks drift, but a time far ahead would
// bar every later move until then.
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);

// A lead after a write.
struct LeadWrite {
  StoredLead lead;
  // The engine of the Playbook version that evaluated it.
  std::shared_ptr<const LeadEngine> engine;
  bool created = false;
  // The write found nothing to change (a retried delivery): the lead was
  // not written and keeps its revision.
  bool unchanged = false;
  // Events of the request stored now, and ignored as already stored.
  int recorded = 0;
  int duplicates = 0;
  int event_count = 0;
};

class LeadDesk {
 public:
  LeadDesk(Store* store, Playbooks* playbooks)
      : store_(store), playbooks_(playbooks) {}

  // Creates or replaces the lead's data, records its events and rescores
  // it. ABORTED when expected_revision > 0 and differs from the stored one.
  absl::StatusOr<LeadWrite> Upsert(v1::Lead lead, int64_t expected_revision,
                                   absl::Time now);

  // Records the events not stored yet and rescores the lead.
  absl::StatusOr<LeadWrite> RecordEvents(absl::string_view lead_id,
                                         const google::protobuf::RepeatedPtrField<v1::Event>& events,
                                         absl::Time now);

  absl::StatusOr<LeadWrite> ApplyFeedback(const v1::Feedback& feedback,
                                          int64_t expected_revision,
                                          absl::Time now);

  absl::StatusOr<LeadWrite> Transition(absl::string_view lead_id,
                                       const v1::StageTransition& move,
                                       int64_t expected_revision,
                                       absl::Time now);

  absl::StatusOr<LeadWrite> RecordFirstTouch(absl::string_view lead_id,
                                             absl::Time at, absl::Time now);

  // The number of events erased with the lead.
  absl::StatusOr<int> Erase(absl::string_view lead_id);

 private:
  // What a write does to the loaded lead (write->lead), inside the
  // transaction.
  using Change = absl::FunctionRef<absl::Status(
      const LeadEngine& engine, StoreTransaction& txn, LeadWrite* write,
      v1::RoutingState* routing)>;

  // Loads the lead (NOT_FOUND unless `may_create`: a new lead starts NEW),
  // checks its revision, applies `change` with the active Playbook and
  // stores the lead and the routing state.
  absl::StatusOr<LeadWrite> Modify(absl::string_view lead_id,
                                   int64_t expected_revision, bool may_create,
                                   absl::Time now, Change change);

  Store* store_;
  Playbooks* playbooks_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_LEAD_DESK_H_
