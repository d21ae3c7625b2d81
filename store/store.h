// The service's state that must outlive a request and a restart: leads with
// their events, lifecycle, latest score and feedback, the routing state
// shared by all leads, and the published Playbook versions. The service
// talks only to this interface, so that a server database shared by several
// replicas can replace the embedded one without touching the service.
#ifndef SMARKETING_STORE_STORE_H_
#define SMARKETING_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "smarketing/v1/change.pb.h"
#include "smarketing/v1/event.pb.h"
#include "smarketing/v1/lead.pb.h"
#include "smarketing/v1/lifecycle.pb.h"
#include "smarketing/v1/lifecycle_state.pb.h"
#include "smarketing/v1/member_status.pb.h"
#include "smarketing/v1/playbook.pb.h"
#include "smarketing/v1/rescore.pb.h"
#include "smarketing/v1/review.pb.h"
#include "smarketing/v1/routing_state.pb.h"
#include "smarketing/v1/score_result.pb.h"
#include "smarketing/v1/sla_status.pb.h"
#include "smarketing/v1/webhook.pb.h"

namespace smarketing {

// A lead as stored. Its events live apart (StoreTransaction::AddEvents), so
// `lead.events` is always empty here.
struct StoredLead {
  v1::Lead lead;
  v1::LeadLifecycle lifecycle;
  // The latest score, with the routing decision and SLA status it led to.
  v1::ScoreResult score;
  // Incremented by every write of the lead: a client's optimistic lock.
  int64_t revision = 0;
  absl::Time updated_at = absl::UnixEpoch();
  // How many events are stored for the lead.
  int event_count = 0;
  // The lead's SLA state as evaluated at its last write by Playbook version
  // `sla_playbook`, and until when it holds if nothing happens to the lead:
  // lets a listing by SLA state skip the leads whose state is known
  // without evaluating them. The defaults mean "unknown".
  v1::SlaState sla_state = v1::SLA_STATE_UNSPECIFIED;
  absl::Time sla_valid_until = absl::InfinitePast();
  int64_t sla_playbook = 0;
  // The account the lead belongs to: the AccountKey of its company domain,
  // set by the service at every write; empty without a domain.
  std::string account;
};

// A contact of an account as the account's score reads it (see
// StoreTransaction::ListAccountContacts).
struct AccountContactRow {
  std::string lead_id;
  v1::LifecycleStage stage = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  // The lead's latest score.
  v1::ScoreResult score;
};

// A published Playbook version. Immutable except for `active`.
struct PlaybookRecord {
  int64_t number = 0;
  // "name@version" of the metadata.
  std::string label;
  std::string published_by;
  absl::Time published_at = absl::UnixEpoch();
  bool active = false;
  v1::Playbook playbook;
};

// A Playbook version becoming the active one: the review reads which
// versions were in force during its period from these.
struct PlaybookActivation {
  int64_t number = 0;
  absl::Time activated_at = absl::UnixEpoch();
  // Who activated it (who published it, for a version activated on
  // publication).
  std::string activated_by;
};

// Which leads ListLeads returns; set fields must all hold.
struct LeadFilter {
  v1::LifecycleStage stage = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  std::string team_id;
  std::string owner_id;
  // Only leads that were routed (have a team).
  bool routed_only = false;
  // Only leads created in [created_from, created_to).
  absl::Time created_from = absl::InfinitePast();
  absl::Time created_to = absl::InfiniteFuture();
  // When set: the leads whose stored SLA state (see StoredLead) is this one
  // and holds at `sla_at`, and every lead whose stored state does not tell
  // (from sla_valid_until on, or kept by another Playbook version than
  // `sla_playbook`). The caller evaluates the leads it gets. For times
  // before the leads' last writes, leave it unset and evaluate them all.
  v1::SlaState sla_state = v1::SLA_STATE_UNSPECIFIED;
  absl::Time sla_at = absl::InfinitePast();
  int64_t sla_playbook = 0;
};

// Reads and writes inside one transaction: all of its writes become durable
// together, or none does.
class StoreTransaction {
 public:
  virtual ~StoreTransaction() = default;

  virtual absl::StatusOr<std::optional<StoredLead>> GetLead(
      absl::string_view lead_id) = 0;
  // Inserts or replaces the lead as given (the caller sets revision).
  virtual absl::Status PutLead(const StoredLead& lead) = 0;
  // Stores the events not stored yet for the lead (by event id). Sets
  // (*stored)[i] to whether events[i] was new; an id repeated within
  // `events` is new once.
  virtual absl::Status AddEvents(
      absl::string_view lead_id,
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      std::vector<bool>* stored) = 0;
  // The lead's events, oldest first.
  virtual absl::Status GetEvents(
      absl::string_view lead_id,
      google::protobuf::RepeatedPtrField<v1::Event>* events) = 0;
  // The lead's latest `limit` events by arrival, oldest first: reads no
  // more of a long history than asked for.
  virtual absl::Status GetLatestEvents(
      absl::string_view lead_id, int limit,
      google::protobuf::RepeatedPtrField<v1::Event>* events) = 0;
  virtual absl::StatusOr<int> CountEvents(absl::string_view lead_id) = 0;
  virtual absl::Status AddFeedback(const v1::Feedback& feedback) = 0;
  // The routing state shared by all leads; empty before the first routing.
  virtual absl::StatusOr<v1::RoutingState> GetRoutingState() = 0;
  virtual absl::Status PutRoutingState(const v1::RoutingState& state) = 0;
  // Erases the lead, its events and its feedback; returns how many events
  // were erased. NOT_FOUND when there is no such lead.
  virtual absl::StatusOr<int> EraseLead(absl::string_view lead_id) = 0;

  // --- The change feed and the SLA scheduler (schema version 3) ---

  // Appends `change` to the change log and sets its cursor, which is
  // greater than every cursor committed before it.
  virtual absl::Status AppendChange(v1::Change* change) = 0;
  // When the scheduler must look at the lead next; InfiniteFuture() when
  // never (the lead leaves the schedule).
  virtual absl::Status SetSlaDue(absl::string_view lead_id, absl::Time due) = 0;

  // --- People changes (schema version 4) ---

  // Appends a change of a member's status to the audit log.
  virtual absl::Status AppendMemberAudit(
      const v1::MemberStatusChange& change) = 0;

  // --- Rescoring passes (schema version 5) ---

  // The pass with the highest number; nullopt when none was stored.
  virtual absl::StatusOr<std::optional<v1::RescoreStatus>>
  GetLatestRescore() = 0;
  // Inserts or replaces the pass numbered `status.pass_number()`.
  virtual absl::Status PutRescore(const v1::RescoreStatus& status) = 0;
  // How many leads are stored.
  virtual absl::StatusOr<int64_t> CountLeads() = 0;

  // --- Webhooks (schema version 6) ---

  // The cursor of the latest change appended; 0 when none.
  virtual absl::StatusOr<int64_t> LatestChangeCursor() = 0;
  // Every subscription, by id.
  virtual absl::StatusOr<std::vector<v1::WebhookSubscription>>
  ListWebhooks() = 0;
  // The subscription `id`; nullopt when none.
  virtual absl::StatusOr<std::optional<v1::WebhookSubscription>> GetWebhook(
      absl::string_view id) = 0;
  // Inserts or replaces the subscription with `webhook.id()`.
  virtual absl::Status PutWebhook(const v1::WebhookSubscription& webhook) = 0;
  // Deletes the subscription and its dead letters; NOT_FOUND when none.
  virtual absl::Status DeleteWebhook(absl::string_view id) = 0;
  // Adds a dead letter (keyed by its delivery id; the same one again
  // replaces it).
  virtual absl::Status AddDeadLetter(const v1::DeadLetter& letter) = 0;
  // A subscription's dead letters whose change's cursor is after
  // `after_cursor`, by cursor, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::DeadLetter>> ListDeadLetters(
      absl::string_view subscription_id, int64_t after_cursor, int limit) = 0;
  // The dead letter with `delivery_id`; nullopt when none.
  virtual absl::StatusOr<std::optional<v1::DeadLetter>> GetDeadLetter(
      absl::string_view delivery_id) = 0;
  virtual absl::Status DeleteDeadLetter(absl::string_view delivery_id) = 0;

  // --- Account scores (the accounts of schema version 7) ---

  // The first `limit` leads of `account` (StoredLead::account) by id, with
  // their stage and latest score only: what the account's score reads,
  // within the write that may change it.
  virtual absl::StatusOr<std::vector<AccountContactRow>> ListAccountContacts(
      absl::string_view account, int limit) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a write transaction, committed when `fn` returns OK and
  // rolled back otherwise. Once Write returns OK the writes survive a crash
  // of the process or the machine. Write transactions are serialized.
  virtual absl::Status Write(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) = 0;

  // Runs `fn` on a consistent snapshot; writes from `fn` are refused.
  virtual absl::Status Read(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) = 0;

  // Leads matching `filter` with an id after `after_id`, by id, at most
  // `limit` (all when <= 0).
  virtual absl::StatusOr<std::vector<StoredLead>> ListLeads(
      const LeadFilter& filter, absl::string_view after_id, int limit) = 0;

  // The latest `limit` feedback entries recorded on a lead (all when
  // `limit` <= 0), oldest first.
  virtual absl::StatusOr<std::vector<v1::Feedback>> ListFeedback(
      absl::string_view lead_id, int limit) = 0;

  // Stores a new version numbered after the latest; makes it the active one
  // when `activate` or when it is the first, recording that activation by
  // `published_by` at `published_at`.
  virtual absl::StatusOr<PlaybookRecord> PublishPlaybook(
      const v1::Playbook& playbook, absl::string_view published_by,
      absl::Time published_at, bool activate) = 0;
  // Makes version `number` active and records the activation. NOT_FOUND
  // when it does not exist; FAILED_PRECONDITION when `expected_active` > 0
  // and another version is active.
  virtual absl::StatusOr<PlaybookRecord> ActivatePlaybook(
      int64_t number, int64_t expected_active, absl::string_view activated_by,
      absl::Time activated_at) = 0;
  // Version `number`, or the active one for 0. NOT_FOUND when none.
  virtual absl::StatusOr<PlaybookRecord> GetPlaybook(int64_t number) = 0;
  // Versions numbered below `before` (all for 0), newest first, at most
  // `limit`.
  virtual absl::StatusOr<std::vector<PlaybookRecord>> ListPlaybooks(
      int64_t before, int limit) = 0;

  // --- The change feed and the SLA scheduler (schema version 3) ---

  // Changes with a cursor after `after_cursor`, by cursor, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::Change>> ListChanges(
      int64_t after_cursor, int limit) = 0;
  // Leads whose SLA due time (StoreTransaction::SetSlaDue) is at or before
  // `now`, earliest first, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> ListSlaDue(absl::Time now,
                                                              int limit) = 0;
  // MQLs waiting in a team's queue (a team, no owner) with an id after
  // `after_id`, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> ListQueuedLeads(
      absl::string_view after_id, int limit) = 0;

  // --- People changes (schema version 4) ---

  // The latest changes of a member's status, newest first, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::MemberStatusChange>> ListMemberAudit(
      absl::string_view member_id, int limit) = 0;

  // --- Rescoring passes (schema version 5) ---

  // Ids of the leads with an id after `after_id`, by id, at most `limit`:
  // a pass's next batch, without reading the leads twice.
  virtual absl::StatusOr<std::vector<std::string>> ListLeadIds(
      absl::string_view after_id, int limit) = 0;

  // --- Accounts (schema version 7) ---

  // The leads of `account` (StoredLead::account) with an id after
  // `after_id`, by id, at most `limit`.
  virtual absl::StatusOr<std::vector<StoredLead>> ListAccountLeads(
      absl::string_view account, absl::string_view after_id, int limit) = 0;
  // The distinct accounts of the stored leads after `after_account`, in
  // order, at most `limit`; leads without one are left out.
  virtual absl::StatusOr<std::vector<std::string>> ListAccounts(
      absl::string_view after_account, int limit) = 0;

  // --- The weekly review (schema version 8) ---

  // Calls `fn` with the review facts of every lead (see
  // core/review/review_facts.h; kept in step with each write of the lead
  // and its feedback) whose ReviewNeededUntil is at or after `since`, each
  // lead once, a page at a time by lead id; `fn` must not call the store.
  // Returns the first error of `fn`, which ends the scan.
  virtual absl::Status ScanReviewFacts(
      absl::Time since,
      absl::FunctionRef<absl::Status(const v1::LeadReviewFacts&)> fn) = 0;

  // --- Playbook activations (schema version 9) ---

  // The activations in force during [from, to), oldest first: the latest
  // at or before `from` (when there is one) and every one after it and
  // before `to`. A store made before version 9 holds one activation for
  // the version active then, dated at its publication.
  virtual absl::StatusOr<std::vector<PlaybookActivation>>
  ListPlaybookActivations(absl::Time from, absl::Time to) = 0;

  // --- Several processes on one store (a server database) ---

  // Calls `changed`, from a thread of the store, whenever another process
  // may have changed which Playbook version is active, so that caches of it
  // can be dropped; nullptr stops the calls (none is in progress once this
  // returns). A store only one process uses never calls it.
  virtual void WatchPlaybooks(std::function<void()> changed) = 0;
  // Whether this process holds the lease `name`, taking it when no process
  // does: work that must not run in two processes at once (the SLA
  // scheduler) runs only while its lease is held. A lease is held until
  // the process or its connection to the store ends; a store only one
  // process uses always grants it.
  virtual absl::StatusOr<bool> HoldLease(absl::string_view name) = 0;
};

// Opens (creating or migrating as needed) the SQLite database at `path`.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace smarketing

#endif  // SMARKETING_STORE_STORE_H_
