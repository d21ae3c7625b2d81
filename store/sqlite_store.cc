// The embedded store: one SQLite database file in WAL mode with
// synchronous=FULL, so that a transaction whose commit returned survives a
// kill -9 or a power cut. Messages are kept as serialized protobuf, with
// the columns that queries filter on beside them.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/review/review_facts.h"
#include "google/protobuf/arena.h"
#include "store/group_commit.h"
#include "store/store.h"

namespace smarketing {
namespace {

// Each entry migrates the schema from version i to i + 1; a database is
// brought to the latest version at start-up, in one transaction.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE playbooks(
  number INTEGER PRIMARY KEY,
  label TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_at_us INTEGER NOT NULL,
  active INTEGER NOT NULL DEFAULT 0,
  body BLOB NOT NULL);
CREATE UNIQUE INDEX playbooks_one_active ON playbooks(active) WHERE active = 1;
CREATE TABLE leads(
  id TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  stage INTEGER NOT NULL,
  team_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  created_at_us INTEGER NOT NULL,
  updated_at_us INTEGER NOT NULL,
  lead BLOB NOT NULL,
  lifecycle BLOB NOT NULL,
  score BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX leads_by_stage ON leads(stage, id);
CREATE INDEX leads_by_owner ON leads(team_id, owner_id, id);
CREATE INDEX leads_by_creation ON leads(created_at_us);
CREATE TABLE events(
  lead_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  body BLOB NOT NULL,
  UNIQUE(lead_id, event_id));
CREATE TABLE feedback(
  lead_id TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX feedback_by_lead ON feedback(lead_id);
CREATE TABLE routing_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  body BLOB NOT NULL);
)sql",
    // Version 2: event counts and SLA states kept with each lead, so that
    // listings read neither the events nor the leads they skip; the events of a
    // lead by arrival, so that a long history is read from its end.
    R"sql(
ALTER TABLE leads ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
UPDATE leads SET event_count =
  (SELECT COUNT(*) FROM events WHERE events.lead_id = leads.id);
ALTER TABLE leads ADD COLUMN sla_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN sla_valid_until_us INTEGER NOT NULL
  DEFAULT -9223372036854775808;
ALTER TABLE leads ADD COLUMN sla_playbook INTEGER NOT NULL DEFAULT 0;
CREATE INDEX leads_by_sla_state ON leads(sla_state, sla_playbook, id);
CREATE INDEX leads_by_sla_validity ON leads(sla_valid_until_us);
CREATE INDEX leads_by_sla_playbook ON leads(sla_playbook);
CREATE INDEX events_by_lead ON events(lead_id);
)sql",
    // Version 3: the change feed, and when the SLA scheduler must look at
    // each lead next.
    R"sql(
CREATE TABLE changes(
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  body BLOB NOT NULL);
CREATE TABLE sla_due(
  lead_id TEXT PRIMARY KEY,
  due_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX sla_due_by_time ON sla_due(due_us);
)sql",
    // Version 4: who changed a member's availability, capacity or teams,
    // and when.
    R"sql(
CREATE TABLE member_audit(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  member_id TEXT NOT NULL,
  body BLOB NOT NULL);
CREATE INDEX member_audit_by_member ON member_audit(member_id, id);
)sql",
    // Version 5: the passes re-evaluating every stored lead, with their
    // progress.
    R"sql(
CREATE TABLE rescore_passes(
  pass INTEGER PRIMARY KEY,
  body BLOB NOT NULL);
)sql",
    // Version 6: webhook subscriptions with their delivery cursor, and the
    // changes given up on.
    R"sql(
CREATE TABLE webhooks(
  id TEXT PRIMARY KEY,
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE dead_letters(
  delivery_id TEXT PRIMARY KEY,
  subscription_id TEXT NOT NULL,
  cursor INTEGER NOT NULL,
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX dead_letters_by_subscription ON
  dead_letters(subscription_id, cursor);
)sql",
    // Version 7: the account (company domain key) of each lead. Leads
    // stored before get theirs at their next write: the rescoring pass
    // that follows the upgrade writes them all.
    R"sql(
ALTER TABLE leads ADD COLUMN account TEXT NOT NULL DEFAULT '';
CREATE INDEX leads_by_account ON leads(account, id);
)sql",
    // Version 8: the review facts of each lead (see ScanReviewFacts),
    // filled from the stored leads and feedback by BackfillReviewFacts.
    R"sql(
CREATE TABLE review_facts(
  lead_id TEXT PRIMARY KEY,
  needed_until_us INTEGER NOT NULL,
  facts BLOB NOT NULL) WITHOUT ROWID;
)sql",
    // Version 9: when each Playbook version became the active one, so that
    // a review knows the versions in force during its period. The version
    // active at the upgrade gets its publication as its activation: the
    // store kept no better date.
    R"sql(
CREATE TABLE playbook_activations(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number INTEGER NOT NULL,
  activated_at_us INTEGER NOT NULL,
  activated_by TEXT NOT NULL);
CREATE INDEX playbook_activations_by_time ON
  playbook_activations(activated_at_us, id);
INSERT INTO playbook_activations(number, activated_at_us, activated_by)
  SELECT number, published_at_us, published_by FROM playbooks WHERE active = 1;
)sql",
};
// The version whose step creates the review facts: the stored leads'
// are computed right after it.
constexpr int kReviewFactsVersion = 8;
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// What ReadLead reads, in its order.
#define LEAD_COLUMNS                                               \
  "lead, lifecycle, score, revision, updated_at_us, event_count, " \
  "sla_state, sla_valid_until_us, sla_playbook, account"

// What LeadFilter asks of the leads, but their SLA state, after lead id ?1;
// unset filters match everything.
#define LEAD_FILTERS                                                  \
  "id > ?1 AND (?2 = 0 OR stage = ?2) AND (?3 = '' OR team_id = ?3) " \
  "AND (?4 = '' OR owner_id = ?4) AND (?5 = 0 OR team_id != '') "     \
  "AND +created_at_us >= ?6 AND +created_at_us < ?7"

// SQLite's result code `rc` with its message as a status: a full disk or a
// store that cannot be written (made read-only, an I/O error) is a state
// the operator can fix and the client can retry after.
absl::Status StoreError(int rc, absl::string_view message) {
  const std::string what = absl::StrCat("store: ", message);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::AbortedError(what);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(what);
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(what);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(what);
    default:
      return absl::InternalError(what);
  }
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// The columns of a lead row, in PutLead's order, and the index each one is
// a key of (-1: none; the same number for columns of one index). A lead
// read in a write transaction keeps its row (LeadRow), so that writing it
// back sets the indexed columns only when their index changes: an update of
// a column SQLite must otherwise find and rewrite in its index (a random
// page each), though its value is the same.
struct LeadColumn {
  const char* name;
  int index;
  bool blob;
};
constexpr LeadColumn kLeadColumns[] = {{"id", -1, false},
                                       {"revision", -1, false},
                                       {"stage", 0, false},
                                       {"team_id", 1, false},
                                       {"owner_id", 1, false},
                                       {"created_at_us", 2, false},
                                       {"updated_at_us", -1, false},
                                       {"lead", -1, true},
                                       {"lifecycle", -1, true},
                                       {"score", -1, true},
                                       {"event_count", -1, false},
                                       {"sla_state", 3, false},
                                       {"sla_valid_until_us", 4, false},
                                       {"sla_playbook", 3, false},
                                       {"account", 5, false}};
constexpr int kLeadColumnCount = std::size(kLeadColumns);
constexpr int kLeadIndexCount = 6;
// A lead's columns as bound: integers, text and serialized messages.
using LeadRow =
    std::array<std::variant<int64_t, std::string>, kLeadColumnCount>;

// A prepared statement, reset and unbound when it goes out of scope so that
// the cached statement is ready for the next use.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() { Reset(); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, int64_t v) {
    Check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Statement& Bind(int i, absl::string_view v) {
    Check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Statement& BindBlob(int i, const std::string& v) {
    Check(sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Statement& BindMessage(int i, const google::protobuf::MessageLite& m) {
    return BindBlob(i, m.SerializeAsString());
  }
  // Column `column` of a lead row (see kLeadColumns).
  Statement& BindLeadColumn(int i, const LeadRow& row, int column) {
    if (const auto* n = std::get_if<int64_t>(&row[column])) return Bind(i, *n);
    const std::string& v = std::get<std::string>(row[column]);
    return kLeadColumns[column].blob ? BindBlob(i, v) : Bind(i, v);
  }

  // Makes the statement ready to be bound and run again.
  void Reset() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
    bind_status_ = absl::OkStatus();
  }

  // true when a row is available, false when done.
  absl::StatusOr<bool> Step() {
    if (stmt_ == nullptr) return Error(SQLITE_ERROR);
    if (!bind_status_.ok()) return bind_status_;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error(rc);
  }
  absl::Status Run() {
    auto row = Step();
    if (!row.ok()) return row.status();
    return absl::OkStatus();
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : "";
  }
  std::string Text(int col) const {
    const auto* p =
        reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : "";
  }
  // Text(col) into `out`, reusing its storage.
  void AssignText(int col, std::string* out) const {
    const auto* p =
        reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    out->assign(p ? p : "", p ? sqlite3_column_bytes(stmt_, col) : 0);
  }
  absl::Status Message(int col, google::protobuf::MessageLite* m) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (!m->ParseFromArray(p, n)) {
      return absl::DataLossError(
          absl::StrCat("stored ", m->GetTypeName(), " does not parse"));
    }
    return absl::OkStatus();
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_status_.ok()) bind_status_ = Error(rc);
  }
  absl::Status Error(int rc) const {
    return StoreError(rc, sqlite3_errmsg(db_));
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  absl::Status bind_status_;
};

class SqliteStore;

class SqliteTransaction : public StoreTransaction {
 public:
  SqliteTransaction(SqliteStore* store, bool read_only)
      : store_(store), read_only_(read_only) {}

  absl::StatusOr<std::optional<StoredLead>> GetLead(
      absl::string_view lead_id) override;
  absl::Status PutLead(const StoredLead& lead) override;
  absl::Status AddEvents(
      absl::string_view lead_id,
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      std::vector<bool>* stored) override;
  absl::Status GetEvents(
      absl::string_view lead_id,
      google::protobuf::RepeatedPtrField<v1::Event>* events) override;
  absl::Status GetLatestEvents(
      absl::string_view lead_id, int limit,
      google::protobuf::RepeatedPtrField<v1::Event>* events) override;
  absl::StatusOr<int> CountEvents(absl::string_view lead_id) override;
  absl::Status AddFeedback(const v1::Feedback& feedback) override;
  absl::StatusOr<v1::RoutingState> GetRoutingState() override;
  absl::Status PutRoutingState(const v1::RoutingState& state) override;
  absl::StatusOr<int> EraseLead(absl::string_view lead_id) override;
  absl::Status AppendChange(v1::Change* change) override;
  absl::Status SetSlaDue(absl::string_view lead_id, absl::Time due) override;
  absl::Status AppendMemberAudit(const v1::MemberStatusChange& change) override;
  absl::StatusOr<std::optional<v1::RescoreStatus>> GetLatestRescore() override;
  absl::Status PutRescore(const v1::RescoreStatus& status) override;
  absl::StatusOr<int64_t> CountLeads() override;
  absl::StatusOr<int64_t> LatestChangeCursor() override;
  absl::StatusOr<std::vector<v1::WebhookSubscription>> ListWebhooks() override;
  absl::StatusOr<std::optional<v1::WebhookSubscription>> GetWebhook(
      absl::string_view id) override;
  absl::Status PutWebhook(const v1::WebhookSubscription& webhook) override;
  absl::Status DeleteWebhook(absl::string_view id) override;
  absl::Status AddDeadLetter(const v1::DeadLetter& letter) override;
  absl::StatusOr<std::vector<v1::DeadLetter>> ListDeadLetters(
      absl::string_view subscription_id, int64_t after_cursor,
      int limit) override;
  absl::StatusOr<std::optional<v1::DeadLetter>> GetDeadLetter(
      absl::string_view delivery_id) override;
  absl::Status DeleteDeadLetter(absl::string_view delivery_id) override;
  absl::StatusOr<std::vector<AccountContactRow>> ListAccountContacts(
      absl::string_view account, int limit) override;

  // The review facts of every stored lead, computed from the leads and
  // their feedback: the migration that creates them fills them.
  absl::Status BackfillReviewFacts();

 private:
  // The lead's row in `leads`; PutLead also keeps its review facts.
  absl::Status WriteLeadRow(const StoredLead& lead);
  // Changes the lead's review facts (empty when none is stored) with
  // `change` and stores them.
  absl::Status UpdateReviewFacts(
      absl::string_view lead_id,
      absl::FunctionRef<void(v1::LeadReviewFacts*)> change);
  absl::Status PutReviewFacts(absl::string_view lead_id,
                              const v1::LeadReviewFacts& facts);

  // The message in the first column of each row.
  template <typename M>
  static absl::StatusOr<std::vector<M>> Messages(Statement& s) {
    std::vector<M> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      if (auto st = s.Message(0, &out.emplace_back()); !st.ok()) return st;
    }
  }
  // The message in the first column of the first row, if any.
  template <typename M>
  static absl::StatusOr<std::optional<M>> OneMessage(Statement& s) {
    auto all = Messages<M>(s);
    if (!all.ok()) return all.status();
    if (all->empty()) return std::nullopt;
    return std::move(all->front());
  }

  absl::Status CheckWritable() const {
    if (read_only_) {
      return absl::FailedPreconditionError(
          "store: write in a read transaction");
    }
    return absl::OkStatus();
  }

  SqliteStore* store_;
  bool read_only_;
  // The rows of the leads read by GetLead and not written since, by id.
  absl::flat_hash_map<std::string, LeadRow> rows_read_;
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  absl::Status Initialize() {
    // WAL lets readers run beside the writer; synchronous=FULL syncs the
    // log at every commit, which is what makes an acknowledged write
    // durable. secure_delete overwrites erased rows, for the right to
    // erasure.
    for (const char* pragma :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
          "PRAGMA foreign_keys=ON", "PRAGMA secure_delete=ON",
          "PRAGMA busy_timeout=5000", "PRAGMA cache_size=-65536"}) {
      if (auto st = Exec(pragma); !st.ok()) return st;
    }
    return Migrate();
  }

  // Group commit (store/group_commit.h): one disk sync acknowledges a
  // whole group of writes.
  absl::Status Write(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) override {
    return group_commit_.Write(fn, [&](const GroupCommit::Group& group) {
      std::lock_guard<std::mutex> db_lock(mu_);
      GroupSteps steps(this);
      group.CommitWith(steps);
      if (erased_) CheckpointAfterErasure();
    });
  }

  absl::Status Read(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InTransaction("BEGIN", /*read_only=*/true, fn);
  }

  absl::StatusOr<std::vector<StoredLead>> ListLeads(const LeadFilter& filter,
                                                    absl::string_view after_id,
                                                    int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (filter.sla_state != v1::SLA_STATE_UNSPECIFIED) {
      return ListBySlaState(filter, after_id, limit);
    }
    // Unset filters match everything, so one statement serves every
    // combination. created_at is not an index here: bounded by infinities,
    // SQLite would read every lead through it and sort them for each page.
    Statement s =
        Prepare("SELECT " LEAD_COLUMNS " FROM leads WHERE " LEAD_FILTERS
                " ORDER BY id LIMIT ?8");
    return ReadLeads(BindFilter(s, filter, after_id, limit));
  }

  // Leads in an SLA state (see LeadFilter): those kept in it and still in
  // it, through an index in id order, merged with those whose kept state
  // does not tell, found through their own indexes (a scan of every lead
  // otherwise). The caller holds mu_.
  absl::StatusOr<std::vector<StoredLead>> ListBySlaState(
      const LeadFilter& filter, absl::string_view after_id, int limit) {
    Statement kept =
        Prepare("SELECT " LEAD_COLUMNS " FROM leads WHERE " LEAD_FILTERS
                " AND sla_state = ?9 AND sla_valid_until_us > ?10 "
                "AND sla_playbook = ?11 ORDER BY id LIMIT ?8");
    auto in_state = ReadLeads(
        BindSlaFilter(BindFilter(kept, filter, after_id, limit), filter));
    if (!in_state.ok()) return in_state.status();
    Statement unknown = Prepare(
        "SELECT " LEAD_COLUMNS " FROM leads WHERE " LEAD_FILTERS
        " AND ?9 != 0 AND id IN (SELECT id FROM leads WHERE "
        "sla_valid_until_us <= ?10 UNION ALL SELECT id FROM leads WHERE "
        "sla_playbook < ?11 UNION ALL SELECT id FROM leads WHERE "
        "sla_playbook > ?11) ORDER BY id LIMIT ?8");
    auto to_evaluate = ReadLeads(
        BindSlaFilter(BindFilter(unknown, filter, after_id, limit), filter));
    if (!to_evaluate.ok()) return to_evaluate.status();
    std::vector<StoredLead> leads;
    leads.reserve(in_state->size() + to_evaluate->size());
    std::merge(std::make_move_iterator(in_state->begin()),
               std::make_move_iterator(in_state->end()),
               std::make_move_iterator(to_evaluate->begin()),
               std::make_move_iterator(to_evaluate->end()),
               std::back_inserter(leads),
               [](const StoredLead& a, const StoredLead& b) {
                 return a.lead.id() < b.lead.id();
               });
    if (limit > 0 && static_cast<int>(leads.size()) > limit) {
      leads.resize(limit);
    }
    return leads;
  }

  // Binds a statement written with LEAD_FILTERS and the limit ?8.
  static Statement& BindFilter(Statement& s, const LeadFilter& filter,
                               absl::string_view after_id, int limit) {
    return s.Bind(1, after_id)
        .Bind(2, int64_t{filter.stage})
        .Bind(3, filter.team_id)
        .Bind(4, filter.owner_id)
        .Bind(5, int64_t{filter.routed_only})
        .Bind(6, ClampMicros(filter.created_from))
        .Bind(7, ClampMicros(filter.created_to))
        .Bind(8, limit > 0 ? int64_t{limit} : int64_t{-1});
  }

  // And the SLA filter's ?9 to ?11.
  static Statement& BindSlaFilter(Statement& s, const LeadFilter& filter) {
    return s.Bind(9, int64_t{filter.sla_state})
        .Bind(10, ClampMicros(filter.sla_at))
        .Bind(11, filter.sla_playbook);
  }

  static absl::StatusOr<std::vector<StoredLead>> ReadLeads(Statement& s) {
    std::vector<StoredLead> leads;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      StoredLead& lead = leads.emplace_back();
      if (auto st = ReadLead(s, &lead); !st.ok()) return st;
    }
    return leads;
  }

  absl::StatusOr<std::vector<v1::Feedback>> ListFeedback(
      absl::string_view lead_id, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT body FROM (SELECT rowid AS seq, body FROM feedback "
        "WHERE lead_id = ? ORDER BY rowid DESC LIMIT ?) ORDER BY seq");
    s.Bind(1, lead_id).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    std::vector<v1::Feedback> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (auto st = s.Message(0, &out.emplace_back()); !st.ok()) return st;
    }
    return out;
  }

  // A page is read under the lock into an arena and handed to `fn` outside
  // it: writes go on between pages, and parsing allocates nothing per lead.
  absl::Status ScanReviewFacts(
      absl::Time since,
      absl::FunctionRef<absl::Status(const v1::LeadReviewFacts&)> fn) override {
    constexpr int kPage = 2000;
    // Room for a page of facts, so that the arena does not allocate.
    std::vector<char> block(4 << 20);
    google::protobuf::ArenaOptions options;
    options.initial_block = block.data();
    options.initial_block_size = block.size();
    google::protobuf::Arena arena(options);
    std::vector<v1::LeadReviewFacts*> page;
    std::string after;
    for (;;) {
      page.clear();
      arena.Reset();
      {
        std::lock_guard<std::mutex> lock(mu_);
        Statement s = Prepare(
            "SELECT lead_id, facts FROM review_facts WHERE lead_id > ?1 "
            "AND needed_until_us >= ?2 ORDER BY lead_id LIMIT ?3");
        s.Bind(1, after).Bind(2, ClampMicros(since)).Bind(3, int64_t{kPage});
        for (;;) {
          auto row = s.Step();
          if (!row.ok()) return row.status();
          if (!*row) break;
          page.push_back(
              google::protobuf::Arena::CreateMessage<v1::LeadReviewFacts>(
                  &arena));
          if (auto st = s.Message(1, page.back()); !st.ok()) return st;
          s.AssignText(0, &after);
        }
      }
      for (const v1::LeadReviewFacts* facts : page) {
        if (auto st = fn(*facts); !st.ok()) return st;
      }
      if (static_cast<int>(page.size()) < kPage) return absl::OkStatus();
    }
  }

  absl::StatusOr<PlaybookRecord> PublishPlaybook(const v1::Playbook& playbook,
                                                 absl::string_view published_by,
                                                 absl::Time published_at,
                                                 bool activate) override {
    std::lock_guard<std::mutex> lock(mu_);
    PlaybookRecord record;
    auto fn = [&](StoreTransaction&) -> absl::Status {
      Statement any =
          Prepare("SELECT COUNT(*) FROM playbooks WHERE active = 1");
      auto row = any.Step();
      if (!row.ok()) return row.status();
      const bool first = any.Int(0) == 0;
      record.number = 0;
      record.label = absl::StrCat(playbook.metadata().name(), "@",
                                  playbook.metadata().version());
      record.published_by = std::string(published_by);
      record.published_at = published_at;
      record.active = activate || first;
      record.playbook = playbook;
      if (record.active) {
        if (auto st =
                Prepare("UPDATE playbooks SET active = 0 WHERE active = 1")
                    .Run();
            !st.ok()) {
          return st;
        }
      }
      Statement insert = Prepare(
          "INSERT INTO playbooks(label, published_by, published_at_us, active, "
          "body) VALUES (?, ?, ?, ?, ?)");
      insert.Bind(1, record.label)
          .Bind(2, record.published_by)
          .Bind(3, ToMicros(published_at))
          .Bind(4, int64_t{record.active})
          .BindMessage(5, playbook);
      if (auto st = insert.Run(); !st.ok()) return st;
      record.number = sqlite3_last_insert_rowid(db_);
      if (!record.active) return absl::OkStatus();
      return RecordActivation(record.number, published_by, published_at);
    };
    if (auto st = InTransaction("BEGIN IMMEDIATE", false, fn); !st.ok()) {
      return st;
    }
    return record;
  }

  absl::StatusOr<PlaybookRecord> ActivatePlaybook(
      int64_t number, int64_t expected_active, absl::string_view activated_by,
      absl::Time activated_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<PlaybookRecord> record;
    auto fn = [&](StoreTransaction&) -> absl::Status {
      record = LoadPlaybook(number);
      if (!record.ok()) return record.status();
      if (expected_active > 0) {
        Statement active =
            Prepare("SELECT number FROM playbooks WHERE active = 1");
        auto row = active.Step();
        if (!row.ok()) return row.status();
        const int64_t current = *row ? active.Int(0) : 0;
        if (current != expected_active) {
          return absl::FailedPreconditionError(
              absl::StrCat("the active Playbook version is ", current, ", not ",
                           expected_active));
        }
      }
      if (auto st =
              Prepare("UPDATE playbooks SET active = 0 WHERE active = 1").Run();
          !st.ok()) {
        return st;
      }
      Statement set =
          Prepare("UPDATE playbooks SET active = 1 WHERE number = ?");
      set.Bind(1, number);
      if (auto st = set.Run(); !st.ok()) return st;
      record->active = true;
      return RecordActivation(number, activated_by, activated_at);
    };
    if (auto st = InTransaction("BEGIN IMMEDIATE", false, fn); !st.ok()) {
      return st;
    }
    return record;
  }

  absl::StatusOr<PlaybookRecord> GetPlaybook(int64_t number) override {
    std::lock_guard<std::mutex> lock(mu_);
    return LoadPlaybook(number);
  }

  absl::StatusOr<std::vector<PlaybookRecord>> ListPlaybooks(
      int64_t before, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT number, label, published_by, published_at_us, active, body "
        "FROM playbooks WHERE (?1 = 0 OR number < ?1) ORDER BY number DESC "
        "LIMIT ?2");
    s.Bind(1, before).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    std::vector<PlaybookRecord> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (auto st = ReadPlaybook(s, &out.emplace_back()); !st.ok()) return st;
    }
    return out;
  }

  absl::StatusOr<std::vector<PlaybookActivation>> ListPlaybookActivations(
      absl::Time from, absl::Time to) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT number, activated_at_us, activated_by FROM "
        "playbook_activations WHERE activated_at_us < ?2 AND "
        "(activated_at_us > ?1 OR id = (SELECT id FROM playbook_activations "
        "WHERE activated_at_us <= ?1 ORDER BY activated_at_us DESC, id DESC "
        "LIMIT 1)) ORDER BY activated_at_us, id");
    s.Bind(1, ToMicros(from)).Bind(2, ToMicros(to));
    std::vector<PlaybookActivation> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.push_back({s.Int(0), FromMicros(s.Int(1)), s.Text(2)});
    }
    return out;
  }

  // --- The change feed and the SLA scheduler ---

  absl::StatusOr<std::vector<v1::Change>> ListChanges(int64_t after_cursor,
                                                      int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT cursor, body FROM changes WHERE cursor > ? ORDER BY cursor "
        "LIMIT ?");
    s.Bind(1, after_cursor).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    std::vector<v1::Change> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      v1::Change& change = out.emplace_back();
      if (auto st = s.Message(1, &change); !st.ok()) return st;
      change.set_cursor(s.Int(0));
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ListSlaDue(absl::Time now,
                                                      int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT lead_id FROM sla_due WHERE due_us <= ? ORDER BY due_us, "
        "lead_id LIMIT ?");
    s.Bind(1, ClampMicros(now))
        .Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    return Texts(s);
  }

  absl::StatusOr<std::vector<std::string>> ListQueuedLeads(
      absl::string_view after_id, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT id FROM leads WHERE stage = ? AND id > ? AND team_id != '' "
        "AND owner_id = '' ORDER BY id LIMIT ?");
    s.Bind(1, int64_t{v1::LIFECYCLE_STAGE_MQL})
        .Bind(2, after_id)
        .Bind(3, limit > 0 ? int64_t{limit} : int64_t{-1});
    return Texts(s);
  }

  // --- People changes ---

  // --- One process per database file ---

  void WatchPlaybooks(std::function<void()>) override {}
  absl::StatusOr<bool> HoldLease(absl::string_view) override { return true; }

  absl::StatusOr<std::vector<v1::MemberStatusChange>> ListMemberAudit(
      absl::string_view member_id, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT body FROM member_audit WHERE member_id = ? ORDER BY id DESC "
        "LIMIT ?");
    s.Bind(1, member_id).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    std::vector<v1::MemberStatusChange> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      if (auto st = s.Message(0, &out.emplace_back()); !st.ok()) return st;
    }
  }

  // --- Rescoring passes ---

  absl::StatusOr<std::vector<std::string>> ListLeadIds(
      absl::string_view after_id, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s =
        Prepare("SELECT id FROM leads WHERE id > ? ORDER BY id LIMIT ?");
    s.Bind(1, after_id).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    return Texts(s);
  }

  // --- Accounts ---

  absl::StatusOr<std::vector<StoredLead>> ListAccountLeads(
      absl::string_view account, absl::string_view after_id,
      int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare("SELECT " LEAD_COLUMNS
                          " FROM leads WHERE account = ? AND id > ? "
                          "ORDER BY id LIMIT ?");
    s.Bind(1, account)
        .Bind(2, after_id)
        .Bind(3, limit > 0 ? int64_t{limit} : int64_t{-1});
    return ReadLeads(s);
  }

  absl::StatusOr<std::vector<std::string>> ListAccounts(
      absl::string_view after_account, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s = Prepare(
        "SELECT DISTINCT account FROM leads WHERE account > ? "
        "ORDER BY account LIMIT ?");
    s.Bind(1, after_account).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    return Texts(s);
  }

  // For SqliteTransaction; the caller holds mu_. Statements are prepared
  // once and kept for the life of the connection.
  Statement Prepare(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      // A statement that does not prepare is a bug in this file: it stays
      // null and fails at its first step with SQLite's message.
      sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                         nullptr);
      it = statements_.emplace(sql, stmt).first;
    }
    return Statement(db_, it->second);
  }
  sqlite3* db() const { return db_; }
  // An erasure was written: checkpoint after the commit (see Write).
  void NoteErasure() { erased_ = true; }

  static absl::Status ReadLead(const Statement& s, StoredLead* lead) {
    if (auto st = s.Message(0, &lead->lead); !st.ok()) return st;
    if (auto st = s.Message(1, &lead->lifecycle); !st.ok()) return st;
    if (auto st = s.Message(2, &lead->score); !st.ok()) return st;
    lead->revision = s.Int(3);
    lead->updated_at = FromMicros(s.Int(4));
    lead->event_count = static_cast<int>(s.Int(5));
    lead->sla_state = static_cast<v1::SlaState>(s.Int(6));
    lead->sla_valid_until = FromMicros(s.Int(7));
    lead->sla_playbook = s.Int(8);
    lead->account = s.Text(9);
    return absl::OkStatus();
  }

  static int64_t ClampMicros(absl::Time t) {
    if (t == absl::InfinitePast()) return INT64_MIN;
    if (t == absl::InfiniteFuture()) return INT64_MAX;
    return ToMicros(t);
  }

 private:
  // The first column of every row.
  static absl::StatusOr<std::vector<std::string>> Texts(Statement& s) {
    std::vector<std::string> out;
    for (;;) {
      auto row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(s.Text(0));
    }
  }

  absl::Status Exec(const char* sql) {
    char* error = nullptr;
    if (const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
        rc != SQLITE_OK) {
      absl::Status st = StoreError(rc, error ? error : sqlite3_errstr(rc));
      sqlite3_free(error);
      return st;
    }
    return absl::OkStatus();
  }

  absl::Status InTransaction(
      const char* begin, bool read_only,
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) {
    if (auto st = Exec(begin); !st.ok()) return st;
    SqliteTransaction txn(this, read_only);
    absl::Status st = fn(txn);
    if (st.ok()) st = Exec("COMMIT");
    if (!st.ok()) Exec("ROLLBACK").IgnoreError();
    return st;
  }

  // The write-ahead log keeps the pages an erasure changed, with the erased
  // contact's details, until it is reused: copying it into the database
  // (where secure_delete overwrote them) and truncating it leaves nothing
  // of them on disk. A checkpoint that fails is retried after the next
  // write. The caller holds mu_.
  void CheckpointAfterErasure() {
    erased_ = !Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok();
  }

  // A group's transaction (see GroupCommit); the caller holds mu_.
  class GroupSteps final : public GroupTransaction {
   public:
    explicit GroupSteps(SqliteStore* store)
        : store_(store), txn_(store, /*read_only=*/false) {}
    absl::Status Begin() override { return store_->Exec("BEGIN IMMEDIATE"); }
    StoreTransaction& Transaction() override { return txn_; }
    absl::Status Savepoint() override {
      return store_->Exec("SAVEPOINT write");
    }
    absl::Status EndSavepoint(bool keep) override {
      if (!keep) store_->Exec("ROLLBACK TO write").IgnoreError();
      // Releasing after a rollback ends the savepoint and keeps nothing.
      return store_->Exec("RELEASE write");
    }
    absl::Status Commit() override { return store_->Exec("COMMIT"); }
    void Rollback() override { store_->Exec("ROLLBACK").IgnoreError(); }

   private:
    SqliteStore* store_;
    SqliteTransaction txn_;
  };

  absl::Status Migrate() {
    return InTransaction(
        "BEGIN IMMEDIATE", false, [&](StoreTransaction&) -> absl::Status {
          if (auto st = Exec("CREATE TABLE IF NOT EXISTS schema_version("
                             "version INTEGER NOT NULL)");
              !st.ok()) {
            return st;
          }
          Statement get = Prepare("SELECT MAX(version) FROM schema_version");
          auto row = get.Step();
          if (!row.ok()) return row.status();
          const int64_t version = get.Int(0);
          if (version > kSchemaVersion) {
            return absl::FailedPreconditionError(
                absl::StrCat("store: the database has schema version ", version,
                             ", newer than this program's ", kSchemaVersion));
          }
          for (int64_t v = version; v < kSchemaVersion; ++v) {
            if (auto st = Exec(kMigrations[v]); !st.ok()) return st;
            if (v + 1 == kReviewFactsVersion) {
              SqliteTransaction txn(this, /*read_only=*/false);
              if (auto st = txn.BackfillReviewFacts(); !st.ok()) return st;
            }
          }
          if (version < kSchemaVersion) {
            if (auto st = Exec("DELETE FROM schema_version"); !st.ok())
              return st;
            Statement set =
                Prepare("INSERT INTO schema_version(version) VALUES (?)");
            set.Bind(1, int64_t{kSchemaVersion});
            return set.Run();
          }
          return absl::OkStatus();
        });
  }

  absl::StatusOr<PlaybookRecord> LoadPlaybook(int64_t number) {
    Statement s = Prepare(
        "SELECT number, label, published_by, published_at_us, active, body "
        "FROM playbooks WHERE (?1 = 0 AND active = 1) OR number = ?1");
    s.Bind(1, number);
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) {
      return absl::NotFoundError(
          number == 0 ? std::string("no Playbook version is active")
                      : absl::StrCat("no Playbook version ", number));
    }
    PlaybookRecord record;
    if (auto st = ReadPlaybook(s, &record); !st.ok()) return st;
    return record;
  }

  // Inside a write transaction.
  absl::Status RecordActivation(int64_t number, absl::string_view by,
                                absl::Time at) {
    Statement insert = Prepare(
        "INSERT INTO playbook_activations(number, activated_at_us, "
        "activated_by) VALUES (?, ?, ?)");
    insert.Bind(1, number).Bind(2, ToMicros(at)).Bind(3, by);
    return insert.Run();
  }

  static absl::Status ReadPlaybook(const Statement& s, PlaybookRecord* out) {
    out->number = s.Int(0);
    out->label = s.Text(1);
    out->published_by = s.Text(2);
    out->published_at = FromMicros(s.Int(3));
    out->active = s.Int(4) != 0;
    return s.Message(5, &out->playbook);
  }

  sqlite3* db_;
  std::mutex mu_;
  GroupCommit group_commit_;
  // A committed group erased a lead: checkpoint (see Write).
  bool erased_ = false;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

absl::StatusOr<std::optional<StoredLead>> SqliteTransaction::GetLead(
    absl::string_view lead_id) {
  Statement s = store_->Prepare(
      "SELECT " LEAD_COLUMNS
      ", stage, team_id, owner_id, created_at_us FROM leads WHERE id = ?");
  s.Bind(1, lead_id);
  auto row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  StoredLead lead;
  if (auto st = SqliteStore::ReadLead(s, &lead); !st.ok()) return st;
  if (!read_only_) {
    // As stored, in kLeadColumns' order, from LEAD_COLUMNS and the rest.
    rows_read_[lead_id] = LeadRow{std::string(lead_id),
                                  s.Int(3),
                                  s.Int(10),
                                  s.Text(11),
                                  s.Text(12),
                                  s.Int(13),
                                  s.Int(4),
                                  s.Blob(0),
                                  s.Blob(1),
                                  s.Blob(2),
                                  s.Int(5),
                                  s.Int(6),
                                  s.Int(7),
                                  s.Int(8),
                                  s.Text(9)};
  }
  return lead;
}

absl::Status SqliteTransaction::WriteLeadRow(const StoredLead& lead) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  const auto& created = lead.lead.created_at();
  const LeadRow row{lead.lead.id(),
                    lead.revision,
                    int64_t{lead.lifecycle.stage()},
                    lead.score.routing().team_id(),
                    lead.score.routing().owner_id(),
                    created.seconds() * 1000000 + created.nanos() / 1000,
                    ToMicros(lead.updated_at),
                    lead.lead.SerializeAsString(),
                    lead.lifecycle.SerializeAsString(),
                    lead.score.SerializeAsString(),
                    int64_t{lead.event_count},
                    int64_t{lead.sla_state},
                    SqliteStore::ClampMicros(lead.sla_valid_until),
                    lead.sla_playbook,
                    lead.account};
  if (auto read = rows_read_.find(lead.lead.id()); read != rows_read_.end()) {
    // The lead as read: an update of the columns outside any index, and of
    // those of each index where one of them changed.
    bool index_changed[kLeadIndexCount] = {};
    for (int i = 1; i < kLeadColumnCount; ++i) {
      if (kLeadColumns[i].index >= 0 && row[i] != read->second[i]) {
        index_changed[kLeadColumns[i].index] = true;
      }
    }
    rows_read_.erase(read);
    std::vector<int> columns;
    std::string sql = "UPDATE leads SET ";
    for (int i = 1; i < kLeadColumnCount; ++i) {
      const int index = kLeadColumns[i].index;
      if (index >= 0 && !index_changed[index]) continue;
      columns.push_back(i);
      absl::StrAppend(&sql, columns.size() > 1 ? ", " : "",
                      kLeadColumns[i].name, " = ?");
    }
    absl::StrAppend(&sql, " WHERE id = ?");
    Statement s = store_->Prepare(sql.c_str());
    for (size_t k = 0; k < columns.size(); ++k) {
      s.BindLeadColumn(static_cast<int>(k) + 1, row, columns[k]);
    }
    s.BindLeadColumn(static_cast<int>(columns.size()) + 1, row, 0);
    if (auto st = s.Run(); !st.ok()) return st;
    // A row gone since it was read is stored anew below.
    if (sqlite3_changes(store_->db()) == 1) return absl::OkStatus();
  }
  Statement s = store_->Prepare(
      "INSERT OR REPLACE INTO leads(id, revision, stage, team_id, owner_id, "
      "created_at_us, updated_at_us, lead, lifecycle, score, event_count, "
      "sla_state, sla_valid_until_us, sla_playbook, account) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (int i = 0; i < kLeadColumnCount; ++i) s.BindLeadColumn(i + 1, row, i);
  return s.Run();
}

absl::StatusOr<std::vector<AccountContactRow>>
SqliteTransaction::ListAccountContacts(absl::string_view account, int limit) {
  Statement s = store_->Prepare(
      "SELECT id, stage, score FROM leads WHERE account = ? ORDER BY id "
      "LIMIT ?");
  s.Bind(1, account).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
  std::vector<AccountContactRow> out;
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    AccountContactRow& contact = out.emplace_back();
    contact.lead_id = s.Text(0);
    contact.stage = static_cast<v1::LifecycleStage>(s.Int(1));
    if (auto st = s.Message(2, &contact.score); !st.ok()) return st;
  }
}

absl::Status SqliteTransaction::PutLead(const StoredLead& lead) {
  if (auto st = WriteLeadRow(lead); !st.ok()) return st;
  return UpdateReviewFacts(lead.lead.id(), [&](v1::LeadReviewFacts* facts) {
    SetReviewLead(lead.lead, lead.lifecycle, lead.score, facts);
  });
}

absl::Status SqliteTransaction::UpdateReviewFacts(
    absl::string_view lead_id,
    absl::FunctionRef<void(v1::LeadReviewFacts*)> change) {
  v1::LeadReviewFacts facts;
  {
    Statement get =
        store_->Prepare("SELECT facts FROM review_facts WHERE lead_id = ?");
    get.Bind(1, lead_id);
    auto row = get.Step();
    if (!row.ok()) return row.status();
    if (*row) {
      if (auto st = get.Message(0, &facts); !st.ok()) return st;
    }
  }
  change(&facts);
  return PutReviewFacts(lead_id, facts);
}

absl::Status SqliteTransaction::PutReviewFacts(
    absl::string_view lead_id, const v1::LeadReviewFacts& facts) {
  Statement put = store_->Prepare(
      "INSERT OR REPLACE INTO review_facts(lead_id, needed_until_us, facts) "
      "VALUES (?, ?, ?)");
  put.Bind(1, lead_id)
      .Bind(2, SqliteStore::ClampMicros(ReviewNeededUntil(facts)))
      .BindMessage(3, facts);
  return put.Run();
}

absl::Status SqliteTransaction::BackfillReviewFacts() {
  Statement leads =
      store_->Prepare("SELECT id, lead, lifecycle, score FROM leads");
  Statement feedback = store_->Prepare(
      "SELECT body FROM feedback WHERE lead_id = ? ORDER BY rowid");
  for (;;) {
    auto row = leads.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    StoredLead lead;
    if (auto st = leads.Message(1, &lead.lead); !st.ok()) return st;
    if (auto st = leads.Message(2, &lead.lifecycle); !st.ok()) return st;
    if (auto st = leads.Message(3, &lead.score); !st.ok()) return st;
    v1::LeadReviewFacts facts;
    SetReviewLead(lead.lead, lead.lifecycle, lead.score, &facts);
    const std::string id = leads.Text(0);
    feedback.Bind(1, id);
    for (;;) {
      auto one = feedback.Step();
      if (!one.ok()) return one.status();
      if (!*one) break;
      v1::Feedback f;
      if (auto st = feedback.Message(0, &f); !st.ok()) return st;
      AddReviewFeedback(f, &facts);
    }
    feedback.Reset();
    if (auto st = PutReviewFacts(id, facts); !st.ok()) return st;
  }
}

absl::Status SqliteTransaction::AddEvents(
    absl::string_view lead_id,
    const google::protobuf::RepeatedPtrField<v1::Event>& events,
    std::vector<bool>* stored) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  stored->assign(events.size(), false);
  Statement s = store_->Prepare(
      "INSERT INTO events(lead_id, event_id, body) VALUES (?, ?, ?) "
      "ON CONFLICT DO NOTHING");
  for (int i = 0; i < events.size(); ++i) {
    s.Bind(1, lead_id).Bind(2, events[i].id()).BindMessage(3, events[i]);
    if (auto st = s.Run(); !st.ok()) return st;
    (*stored)[i] = sqlite3_changes(store_->db()) == 1;
    s.Reset();
  }
  return absl::OkStatus();
}

absl::Status SqliteTransaction::GetEvents(
    absl::string_view lead_id,
    google::protobuf::RepeatedPtrField<v1::Event>* events) {
  Statement s = store_->Prepare(
      "SELECT body FROM events WHERE lead_id = ? ORDER BY rowid");
  s.Bind(1, lead_id);
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
    if (auto st = s.Message(0, events->Add()); !st.ok()) return st;
  }
}

absl::Status SqliteTransaction::GetLatestEvents(
    absl::string_view lead_id, int limit,
    google::protobuf::RepeatedPtrField<v1::Event>* events) {
  Statement s = store_->Prepare(
      "SELECT body FROM events WHERE lead_id = ? ORDER BY rowid DESC LIMIT ?");
  s.Bind(1, lead_id).Bind(2, int64_t{limit});
  const int first = events->size();
  for (;;) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (auto st = s.Message(0, events->Add()); !st.ok()) return st;
  }
  std::reverse(events->begin() + first, events->end());
  return absl::OkStatus();
}

absl::StatusOr<int> SqliteTransaction::CountEvents(absl::string_view lead_id) {
  Statement s =
      store_->Prepare("SELECT COUNT(*) FROM events WHERE lead_id = ?");
  s.Bind(1, lead_id);
  auto row = s.Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(s.Int(0));
}

absl::Status SqliteTransaction::AddFeedback(const v1::Feedback& feedback) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare(
      "INSERT INTO feedback(lead_id, at_us, body) VALUES (?, ?, ?)");
  s.Bind(1, feedback.lead_id())
      .Bind(2, feedback.at().seconds() * 1000000 + feedback.at().nanos() / 1000)
      .BindMessage(3, feedback);
  if (auto st = s.Run(); !st.ok()) return st;
  return UpdateReviewFacts(feedback.lead_id(), [&](v1::LeadReviewFacts* facts) {
    AddReviewFeedback(feedback, facts);
  });
}

absl::StatusOr<v1::RoutingState> SqliteTransaction::GetRoutingState() {
  Statement s = store_->Prepare("SELECT body FROM routing_state WHERE id = 1");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  v1::RoutingState state;
  if (*row) {
    if (auto st = s.Message(0, &state); !st.ok()) return st;
  }
  return state;
}

absl::Status SqliteTransaction::PutRoutingState(const v1::RoutingState& state) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare(
      "INSERT OR REPLACE INTO routing_state(id, body) VALUES (1, ?)");
  s.BindMessage(1, state);
  return s.Run();
}

absl::StatusOr<int> SqliteTransaction::EraseLead(absl::string_view lead_id) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement lead = store_->Prepare("DELETE FROM leads WHERE id = ?");
  lead.Bind(1, lead_id);
  if (auto st = lead.Run(); !st.ok()) return st;
  if (sqlite3_changes(store_->db()) == 0) {
    return absl::NotFoundError(absl::StrCat("no lead ", lead_id));
  }
  store_->NoteErasure();
  rows_read_.erase(lead_id);
  Statement feedback =
      store_->Prepare("DELETE FROM feedback WHERE lead_id = ?");
  feedback.Bind(1, lead_id);
  if (auto st = feedback.Run(); !st.ok()) return st;
  Statement facts =
      store_->Prepare("DELETE FROM review_facts WHERE lead_id = ?");
  facts.Bind(1, lead_id);
  if (auto st = facts.Run(); !st.ok()) return st;
  if (auto st = SetSlaDue(lead_id, absl::InfiniteFuture()); !st.ok()) {
    return st;
  }
  Statement events = store_->Prepare("DELETE FROM events WHERE lead_id = ?");
  events.Bind(1, lead_id);
  if (auto st = events.Run(); !st.ok()) return st;
  return sqlite3_changes(store_->db());
}

// --- The change feed and the SLA scheduler ---

absl::Status SqliteTransaction::AppendChange(v1::Change* change) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  // The cursor is the row's key, not part of the stored body.
  change->clear_cursor();
  Statement s = store_->Prepare("INSERT INTO changes(body) VALUES (?)");
  s.BindMessage(1, *change);
  if (auto st = s.Run(); !st.ok()) return st;
  change->set_cursor(sqlite3_last_insert_rowid(store_->db()));
  return absl::OkStatus();
}

absl::Status SqliteTransaction::SetSlaDue(absl::string_view lead_id,
                                          absl::Time due) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  if (due == absl::InfiniteFuture()) {
    Statement s = store_->Prepare("DELETE FROM sla_due WHERE lead_id = ?");
    s.Bind(1, lead_id);
    return s.Run();
  }
  // An unchanged due time writes nothing: most writes do not move it.
  Statement s = store_->Prepare(
      "INSERT INTO sla_due(lead_id, due_us) VALUES (?1, ?2) "
      "ON CONFLICT(lead_id) DO UPDATE SET due_us = ?2 WHERE due_us != ?2");
  s.Bind(1, lead_id).Bind(2, SqliteStore::ClampMicros(due));
  return s.Run();
}

// --- People changes ---

absl::Status SqliteTransaction::AppendMemberAudit(
    const v1::MemberStatusChange& change) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare(
      "INSERT INTO member_audit(member_id, body) VALUES (?, ?)");
  s.Bind(1, change.status().member_id()).BindMessage(2, change);
  return s.Run();
}

// --- Rescoring passes ---

absl::StatusOr<std::optional<v1::RescoreStatus>>
SqliteTransaction::GetLatestRescore() {
  Statement s = store_->Prepare(
      "SELECT body FROM rescore_passes ORDER BY pass DESC LIMIT 1");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  v1::RescoreStatus status;
  if (auto st = s.Message(0, &status); !st.ok()) return st;
  return status;
}

absl::Status SqliteTransaction::PutRescore(const v1::RescoreStatus& status) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare(
      "INSERT OR REPLACE INTO rescore_passes(pass, body) VALUES (?, ?)");
  s.Bind(1, status.pass_number()).BindMessage(2, status);
  return s.Run();
}

absl::StatusOr<int64_t> SqliteTransaction::CountLeads() {
  Statement s = store_->Prepare("SELECT COUNT(*) FROM leads");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  return s.Int(0);
}

// --- Webhooks ---

absl::StatusOr<int64_t> SqliteTransaction::LatestChangeCursor() {
  Statement s = store_->Prepare("SELECT COALESCE(MAX(cursor), 0) FROM changes");
  auto row = s.Step();
  if (!row.ok()) return row.status();
  return s.Int(0);
}

absl::StatusOr<std::vector<v1::WebhookSubscription>>
SqliteTransaction::ListWebhooks() {
  Statement s = store_->Prepare("SELECT body FROM webhooks ORDER BY id");
  return Messages<v1::WebhookSubscription>(s);
}

absl::StatusOr<std::optional<v1::WebhookSubscription>>
SqliteTransaction::GetWebhook(absl::string_view id) {
  Statement s = store_->Prepare("SELECT body FROM webhooks WHERE id = ?");
  s.Bind(1, id);
  return OneMessage<v1::WebhookSubscription>(s);
}

absl::Status SqliteTransaction::PutWebhook(
    const v1::WebhookSubscription& webhook) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare(
      "INSERT OR REPLACE INTO webhooks(id, body) VALUES (?, ?)");
  s.Bind(1, webhook.id()).BindMessage(2, webhook);
  return s.Run();
}

absl::Status SqliteTransaction::DeleteWebhook(absl::string_view id) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare("DELETE FROM webhooks WHERE id = ?");
  s.Bind(1, id);
  if (auto st = s.Run(); !st.ok()) return st;
  if (sqlite3_changes(store_->db()) == 0) {
    return absl::NotFoundError(absl::StrCat("no webhook ", id));
  }
  Statement letters =
      store_->Prepare("DELETE FROM dead_letters WHERE subscription_id = ?");
  letters.Bind(1, id);
  return letters.Run();
}

absl::Status SqliteTransaction::AddDeadLetter(const v1::DeadLetter& letter) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s = store_->Prepare(
      "INSERT OR REPLACE INTO dead_letters(delivery_id, subscription_id, "
      "cursor, body) VALUES (?, ?, ?, ?)");
  s.Bind(1, letter.delivery().delivery_id())
      .Bind(2, letter.delivery().subscription_id())
      .Bind(3, letter.delivery().change().cursor())
      .BindMessage(4, letter);
  return s.Run();
}

absl::StatusOr<std::vector<v1::DeadLetter>> SqliteTransaction::ListDeadLetters(
    absl::string_view subscription_id, int64_t after_cursor, int limit) {
  Statement s = store_->Prepare(
      "SELECT body FROM dead_letters WHERE subscription_id = ? AND cursor > ? "
      "ORDER BY cursor LIMIT ?");
  s.Bind(1, subscription_id)
      .Bind(2, after_cursor)
      .Bind(3, limit > 0 ? int64_t{limit} : int64_t{-1});
  return Messages<v1::DeadLetter>(s);
}

absl::StatusOr<std::optional<v1::DeadLetter>> SqliteTransaction::GetDeadLetter(
    absl::string_view delivery_id) {
  Statement s =
      store_->Prepare("SELECT body FROM dead_letters WHERE delivery_id = ?");
  s.Bind(1, delivery_id);
  return OneMessage<v1::DeadLetter>(s);
}

absl::Status SqliteTransaction::DeleteDeadLetter(
    absl::string_view delivery_id) {
  if (auto st = CheckWritable(); !st.ok()) return st;
  Statement s =
      store_->Prepare("DELETE FROM dead_letters WHERE delivery_id = ?");
  s.Bind(1, delivery_id);
  return s.Run();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const std::string& path) {
  sqlite3* db = nullptr;
  // FULLMUTEX is not needed: the store serializes its own use of the
  // connection.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string what = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("store: cannot open ", path, ": ", what));
  }
  // SQLite opens a file it may not write read-only, silently: every write
  // would then fail.
  if (sqlite3_db_readonly(db, "main") == 1) {
    sqlite3_close(db);
    return absl::FailedPreconditionError(absl::StrCat(
        "store: ", path, " is read-only: the server must be able to write it"));
  }
  auto store = std::make_unique<SqliteStore>(db);
  if (auto st = store->Initialize(); !st.ok()) return st;
  return store;
}

}  // namespace smarketing
