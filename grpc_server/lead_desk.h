// The stored side of the lead journey: each write loads a lead from the
// store, lets the active Playbook's LeadEngine decide what happens to it,
// and stores the result in one transaction, so that a refused request
// changes nothing and an acknowledged one survives a crash. Knows nothing
// of gRPC.
#ifndef SMARKETING_GRPC_SERVER_LEAD_DESK_H_
#define SMARKETING_GRPC_SERVER_LEAD_DESK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpc_server/change_feed.h"
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
// bar every later move until then. An event reported that far ahead counts
// as happening now when its lead is scored.
inline constexpr absl::Duration kMaxClockSkew = absl::Minutes(5);
// Who makes a write, as the change feed records it.
struct WriteActor {
  v1::Actor kind = v1::ACTOR_SYSTEM;
  // The token holder's name; "smarketing" for the service itself.
  std::string id = "smarketing";
};

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
  // The write rescored the lead, recorded feedback, evaluated it again in a
  // rescoring pass: for the change feed.
  bool rescored = false;
  bool feedback = false;
  bool rescore_pass = false;
  // The change feed's entry for the write; cursor 0 when the write changed
  // nothing a consumer follows.
  v1::Change change;
  // The cursor of the last entry the write appended (the lead's, or an
  // account's score that it changed after it); 0 when none.
  int64_t latest_cursor = 0;
};

class LeadDesk {
 public:
  // `feed`, when set, hears of every change committed.
  LeadDesk(Store* store, Playbooks* playbooks, ChangeFeed* feed = nullptr)
      : store_(store), playbooks_(playbooks), feed_(feed) {}

  // Creates or replaces the lead's data, records its events and rescores
  // it. ABORTED when expected_revision > 0 and differs from the stored one.
  absl::StatusOr<LeadWrite> Upsert(v1::Lead lead, int64_t expected_revision,
                                   absl::Time now,
                                   const WriteActor& actor = {});

  // Records the events not stored yet and rescores the lead.
  absl::StatusOr<LeadWrite> RecordEvents(
      absl::string_view lead_id,
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      absl::Time now, const WriteActor& actor = {});

  absl::StatusOr<LeadWrite> ApplyFeedback(const v1::Feedback& feedback,
                                          int64_t expected_revision,
                                          absl::Time now,
                                          const WriteActor& actor = {});

  absl::StatusOr<LeadWrite> Transition(absl::string_view lead_id,
                                       const v1::StageTransition& move,
                                       int64_t expected_revision,
                                       absl::Time now,
                                       const WriteActor& actor = {});

  absl::StatusOr<LeadWrite> RecordFirstTouch(absl::string_view lead_id,
                                             absl::Time at, absl::Time now,
                                             const WriteActor& actor = {});

  // The number of events erased with the lead.
  absl::StatusOr<int> Erase(absl::string_view lead_id,
                            const WriteActor& actor = {});

  // --- What the SLA scheduler does to one lead, as the system ---

  // Carries out the escalation steps due at `now` and not carried out yet
  // (LeadEngine::DueSlaSteps), in order, and refreshes the lead's SLA
  // state; all in one transaction with the record of each step in the
  // lead's lifecycle, so a step is applied once even if the process dies.
  // A lead that is gone leaves the schedule.
  absl::StatusOr<LeadWrite> RunSla(absl::string_view lead_id, absl::Time now);

  // Gives a lead waiting in its team's queue to a member who can take it.
  absl::StatusOr<LeadWrite> AssignFromQueue(absl::string_view lead_id,
                                            absl::Time now);
  // Whether anyone could take a queued lead at `now`, by the active
  // Playbook and the stored routing state: when not, the queues need no
  // visit.
  absl::StatusOr<bool> QueuesMayMove(absl::Time now);

  // --- Rescoring passes ---

  // Evaluates `lead_ids` (the next leads of `pass`, by id) again with
  // `version`, the pass's, at `now`, and stores what the pass keeps
  // (RescoreKeeps), with their changes in the feed, in one transaction with
  // the pass's progress: a batch is done once or not at all. ABORTED when
  // the stored pass is no longer `pass` as given (another process went on
  // with it). A lead the engine cannot evaluate is left as it is and
  // counted as failed; a lead erased meanwhile is skipped. Returns the
  // pass's progress as stored.
  absl::StatusOr<v1::RescoreStatus> RescoreBatch(
      const v1::RescoreStatus& pass, const PlaybookVersionEngine& version,
      const std::vector<std::string>& lead_ids, absl::Time now);

  // --- Bulk import ---

  // Stores `leads` with their events, in one transaction when all can be
  // stored, else each on its own: result i is lead i's write, or why it
  // was refused. A lead already stored with the same data and no new event
  // is left alone (`unchanged`). The leads are worked on in place: they
  // come back without unknown fields, nor the events repeated within a
  // lead (counted as duplicates).
  std::vector<absl::StatusOr<LeadWrite>> Import(std::vector<v1::Lead>* leads,
                                                absl::Time now,
                                                const WriteActor& actor);

 private:
  // What a write does to the loaded lead (write->lead), inside the
  // transaction.
  using Change = std::function<absl::Status(
      const LeadEngine& engine, StoreTransaction& txn, LeadWrite* write,
      v1::RoutingState* routing)>;

  // Loads the lead (NOT_FOUND unless `may_create`: a new lead starts NEW),
  // checks its revision, applies `change` with the active Playbook and
  // stores the lead and the routing state.
  // Every write appends its change to the feed and updates the lead's SLA
  // due time in the same transaction.
  absl::StatusOr<LeadWrite> Modify(absl::string_view lead_id,
                                   int64_t expected_revision, bool may_create,
                                   absl::Time now, Change change,
                                   const WriteActor& actor = {});

  // Modify's work inside a transaction the caller runs. With
  // `shared_routing` the caller reads and stores the routing state.
  static absl::Status ModifyIn(StoreTransaction& txn, const LeadEngine& engine,
                               int64_t playbook, absl::string_view lead_id,
                               int64_t expected_revision, bool may_create,
                               absl::Time now, Change change,
                               const WriteActor& actor, LeadWrite* out,
                               v1::RoutingState* shared_routing = nullptr);
  // What an import does to one lead.
  // What an import does to one lead; `lead` is as it was after.
  static Change ImportChange(v1::Lead* lead, absl::Time now);
  // What a rescoring pass for `reason` does to one lead.
  static Change RescoreChange(v1::RescoreReason reason, absl::Time now);

  Store* store_;
  Playbooks* playbooks_;
  ChangeFeed* feed_;
};

}  // namespace smarketing

#endif  // SMARKETING_GRPC_SERVER_LEAD_DESK_H_
