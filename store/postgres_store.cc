// The store on PostgreSQL, through libpqxx. The schema is the SQLite
// store's (messages as serialized protobuf, with the columns queries filter
// on beside them), migrated by the same numbered steps.
//
// Several replicas share the database. Every write transaction first locks
// the routing state's row (SELECT ... FOR UPDATE), so write transactions are
// serialized across all replicas as the Store interface promises: the
// routing state read by one assignment is the one the previous assignment
// wrote, whichever replica made it, which keeps round-robin and weighted
// routing exact; change cursors and event arrival numbers follow commit
// order. Within a replica, writes waiting for the lock are committed
// together (group commit), one transaction and one WAL flush for the group.
// A write is acknowledged only once its COMMIT returned, i.e. once
// PostgreSQL has flushed it (synchronous_commit is left on).
#include "store/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/review/review_facts.h"
#include "google/protobuf/arena.h"
#include "store/group_commit.h"

namespace smarketing {
namespace {

// Each entry migrates the schema from version i to i + 1, as the SQLite
// store's steps of the same number do; a database is brought to the latest
// version at start-up, in one transaction. Texts compared or ordered use the
// "C" collation, the byte order SQLite uses, whatever the database's locale:
// listings page by id with `id > after`.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE playbooks(
  number BIGINT PRIMARY KEY,
  label TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_at_us BIGINT NOT NULL,
  active BOOLEAN NOT NULL DEFAULT FALSE,
  body BYTEA NOT NULL);
CREATE UNIQUE INDEX playbooks_one_active ON playbooks(active) WHERE active;
CREATE TABLE leads(
  id TEXT COLLATE "C" PRIMARY KEY,
  revision BIGINT NOT NULL,
  stage INTEGER NOT NULL,
  team_id TEXT COLLATE "C" NOT NULL,
  owner_id TEXT COLLATE "C" NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  lead BYTEA NOT NULL,
  lifecycle BYTEA NOT NULL,
  score BYTEA NOT NULL);
CREATE INDEX leads_by_stage ON leads(stage, id);
CREATE INDEX leads_by_owner ON leads(team_id, owner_id, id);
CREATE INDEX leads_by_creation ON leads(created_at_us);
CREATE TABLE events(
  seq BIGSERIAL PRIMARY KEY,
  lead_id TEXT COLLATE "C" NOT NULL,
  event_id TEXT COLLATE "C" NOT NULL,
  body BYTEA NOT NULL,
  UNIQUE(lead_id, event_id));
CREATE TABLE feedback(
  seq BIGSERIAL PRIMARY KEY,
  lead_id TEXT COLLATE "C" NOT NULL,
  at_us BIGINT NOT NULL,
  body BYTEA NOT NULL);
CREATE INDEX feedback_by_lead ON feedback(lead_id, seq);
-- The row always exists: every write transaction locks it first.
CREATE TABLE routing_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  body BYTEA NOT NULL);
INSERT INTO routing_state(id, body) VALUES (1, '');
)sql",
    // Version 2: event counts and SLA states kept with each lead; the
    // events of a lead by arrival.
    R"sql(
ALTER TABLE leads ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0;
UPDATE leads SET event_count =
  (SELECT COUNT(*) FROM events WHERE events.lead_id = leads.id);
ALTER TABLE leads ADD COLUMN sla_state INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN sla_valid_until_us BIGINT NOT NULL
  DEFAULT -9223372036854775808;
ALTER TABLE leads ADD COLUMN sla_playbook BIGINT NOT NULL DEFAULT 0;
CREATE INDEX leads_by_sla_state ON leads(sla_state, sla_playbook, id);
CREATE INDEX leads_by_sla_validity ON leads(sla_valid_until_us);
CREATE INDEX leads_by_sla_playbook ON leads(sla_playbook);
CREATE INDEX events_by_lead ON events(lead_id, seq);
)sql",
    // Version 3: the change feed, and when the SLA scheduler must look at
    // each lead next.
    R"sql(
CREATE TABLE changes(
  cursor BIGSERIAL PRIMARY KEY,
  body BYTEA NOT NULL);
CREATE TABLE sla_due(
  lead_id TEXT COLLATE "C" PRIMARY KEY,
  due_us BIGINT NOT NULL);
CREATE INDEX sla_due_by_time ON sla_due(due_us, lead_id);
)sql",
    // Version 4: who changed a member's availability, capacity or teams,
    // and when.
    R"sql(
CREATE TABLE member_audit(
  id BIGSERIAL PRIMARY KEY,
  member_id TEXT COLLATE "C" NOT NULL,
  body BYTEA NOT NULL);
CREATE INDEX member_audit_by_member ON member_audit(member_id, id);
)sql",
    // Version 5: the passes re-evaluating every stored lead, with their
    // progress.
    R"sql(
CREATE TABLE rescore_passes(
  pass BIGINT PRIMARY KEY,
  body BYTEA NOT NULL);
)sql",
    // Version 6: webhook subscriptions with their delivery cursor, and the
    // changes given up on.
    R"sql(
CREATE TABLE webhooks(
  id TEXT COLLATE "C" PRIMARY KEY,
  body BYTEA NOT NULL);
CREATE TABLE dead_letters(
  delivery_id TEXT COLLATE "C" PRIMARY KEY,
  subscription_id TEXT COLLATE "C" NOT NULL,
  cursor BIGINT NOT NULL,
  body BYTEA NOT NULL);
CREATE INDEX dead_letters_by_subscription ON
  dead_letters(subscription_id, cursor);
)sql",
    // Version 7: the account (company domain key) of each lead. Leads
    // stored before get theirs at their next write: the rescoring pass
    // that follows the upgrade writes them all.
    R"sql(
ALTER TABLE leads ADD COLUMN account TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX leads_by_account ON leads(account, id);
)sql",
    // Version 8: the review facts of each lead (see ScanReviewFacts),
    // filled from the stored leads and feedback by BackfillReviewFacts.
    R"sql(
CREATE TABLE review_facts(
  lead_id TEXT COLLATE "C" PRIMARY KEY,
  needed_until_us BIGINT NOT NULL,
  facts BYTEA NOT NULL);
)sql",
    // Version 9: when each Playbook version became the active one, so that
    // a review knows the versions in force during its period. The version
    // active at the upgrade gets its publication as its activation: the
    // store kept no better date.
    R"sql(
CREATE TABLE playbook_activations(
  id BIGSERIAL PRIMARY KEY,
  number BIGINT NOT NULL,
  activated_at_us BIGINT NOT NULL,
  activated_by TEXT NOT NULL);
CREATE INDEX playbook_activations_by_time ON
  playbook_activations(activated_at_us, id);
INSERT INTO playbook_activations(number, activated_at_us, activated_by)
  SELECT number, published_at_us, published_by FROM playbooks WHERE active;
)sql",
};
// The version whose step creates the review facts: the stored leads'
// are computed right after it.
constexpr int kReviewFactsVersion = 8;
// Leads read at a time when computing or scanning review facts.
constexpr int kReviewFactsPage = 2000;
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Advisory lock keys (pg_advisory_lock(class, key)): the migration, and the
// leases (key: hashtext of the lease's name).
constexpr int kMigrationLock = 0x736d6b74;   // "smkt"
constexpr int kLeaseLockClass = 0x736d6c73;  // "smls"
// The channel on which Playbook activations are announced.
constexpr const char* kPlaybookChannel = "smarketing_playbooks";

// What ReadLead reads, in its order.
#define LEAD_COLUMNS                                               \
  "lead, lifecycle, score, revision, updated_at_us, event_count, " \
  "sla_state, sla_valid_until_us, sla_playbook, account"

// What LeadFilter asks of the leads, but their SLA state, after lead id $1;
// unset filters match everything.
#define LEAD_FILTERS                              \
  "id > $1 AND ($2::int = 0 OR stage = $2::int) " \
  "AND ($3::text = '' OR team_id = $3::text) "    \
  "AND ($4::text = '' OR owner_id = $4::text) "   \
  "AND ($5::int = 0 OR team_id <> '') "           \
  "AND created_at_us >= $6::bigint AND created_at_us < $7::bigint"

#define PLAYBOOK_COLUMNS \
  "number, label, published_by, published_at_us, active, body"

// Statements prepared on every connection, by name. A new store operation
// adds its statements here and calls them with Exec.
struct PreparedSql {
  const char* name;
  const char* sql;
};
constexpr PreparedSql kStatements[] = {
    {"lock_writes", "SELECT 1 FROM routing_state WHERE id = 1 FOR UPDATE"},
    {"get_lead", "SELECT " LEAD_COLUMNS " FROM leads WHERE id = $1"},
    {"put_lead",
     "INSERT INTO leads(id, revision, stage, team_id, owner_id, "
     "created_at_us, updated_at_us, lead, lifecycle, score, event_count, "
     "sla_state, sla_valid_until_us, sla_playbook, account) VALUES ($1, $2, "
     "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
     "ON CONFLICT (id) DO "
     "UPDATE SET revision = EXCLUDED.revision, stage = EXCLUDED.stage, "
     "team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id, "
     "created_at_us = EXCLUDED.created_at_us, "
     "updated_at_us = EXCLUDED.updated_at_us, lead = EXCLUDED.lead, "
     "lifecycle = EXCLUDED.lifecycle, score = EXCLUDED.score, "
     "event_count = EXCLUDED.event_count, sla_state = EXCLUDED.sla_state, "
     "sla_valid_until_us = EXCLUDED.sla_valid_until_us, "
     "sla_playbook = EXCLUDED.sla_playbook, account = EXCLUDED.account"},
    // A request's events in one statement, in their order (arrival
    // numbers follow it); RETURNING names those that were new.
    {"add_events",
     "INSERT INTO events(lead_id, event_id, body) SELECT $1, e.id, e.body "
     "FROM unnest($2::text[], $3::bytea[]) WITH ORDINALITY AS e(id, body, n) "
     "ORDER BY e.n ON CONFLICT DO NOTHING RETURNING event_id"},
    {"get_events", "SELECT body FROM events WHERE lead_id = $1 ORDER BY seq"},
    {"get_latest_events",
     "SELECT body FROM events WHERE lead_id = $1 ORDER BY seq DESC "
     "LIMIT $2::bigint"},
    {"count_events", "SELECT COUNT(*) FROM events WHERE lead_id = $1"},
    {"add_feedback",
     "INSERT INTO feedback(lead_id, at_us, body) VALUES ($1, $2, $3)"},
    {"list_feedback",
     "SELECT body FROM (SELECT seq, body FROM feedback WHERE lead_id = $1 "
     "ORDER BY seq DESC LIMIT $2::bigint) AS latest ORDER BY seq"},
    {"get_routing", "SELECT body FROM routing_state WHERE id = 1"},
    {"put_routing", "UPDATE routing_state SET body = $1 WHERE id = 1"},
    {"erase_lead", "DELETE FROM leads WHERE id = $1"},
    {"erase_feedback", "DELETE FROM feedback WHERE lead_id = $1"},
    {"erase_events", "DELETE FROM events WHERE lead_id = $1"},
    {"append_change", "INSERT INTO changes(body) VALUES ($1) RETURNING cursor"},
    {"clear_sla_due", "DELETE FROM sla_due WHERE lead_id = $1"},
    // An unchanged due time writes nothing: most writes do not move it.
    {"set_sla_due",
     "INSERT INTO sla_due(lead_id, due_us) VALUES ($1, $2) "
     "ON CONFLICT (lead_id) DO UPDATE SET due_us = EXCLUDED.due_us "
     "WHERE sla_due.due_us <> EXCLUDED.due_us"},
    {"append_member_audit",
     "INSERT INTO member_audit(member_id, body) VALUES ($1, $2)"},
    {"list_leads", "SELECT " LEAD_COLUMNS " FROM leads WHERE " LEAD_FILTERS
                   " ORDER BY id LIMIT $8::bigint"},
    {"list_leads_in_sla_state",
     "SELECT " LEAD_COLUMNS " FROM leads WHERE " LEAD_FILTERS
     " AND sla_state = $9::int AND sla_valid_until_us > $10::bigint "
     "AND sla_playbook = $11::bigint ORDER BY id LIMIT $8::bigint"},
    {"list_leads_sla_unknown",
     "SELECT " LEAD_COLUMNS " FROM leads WHERE " LEAD_FILTERS
     " AND $9::int <> 0 AND (sla_valid_until_us <= $10::bigint "
     "OR sla_playbook <> $11::bigint) ORDER BY id LIMIT $8::bigint"},
    {"active_playbook", "SELECT number FROM playbooks WHERE active"},
    {"deactivate_playbooks",
     "UPDATE playbooks SET active = FALSE WHERE active"},
    {"insert_playbook",
     "INSERT INTO playbooks(number, label, published_by, published_at_us, "
     "active, body) SELECT COALESCE(MAX(number), 0) + 1, $1, $2, $3, $4, $5 "
     "FROM playbooks RETURNING number"},
    {"activate_playbook",
     "UPDATE playbooks SET active = TRUE WHERE number = $1"},
    {"notify_playbooks", "SELECT pg_notify($1, $2)"},
    {"insert_activation",
     "INSERT INTO playbook_activations(number, activated_at_us, "
     "activated_by) VALUES ($1, $2, $3)"},
    {"list_activations",
     "SELECT number, activated_at_us, activated_by FROM playbook_activations "
     "WHERE activated_at_us < $2::bigint AND (activated_at_us > $1::bigint "
     "OR id = (SELECT id FROM playbook_activations WHERE activated_at_us <= "
     "$1::bigint ORDER BY activated_at_us DESC, id DESC LIMIT 1)) "
     "ORDER BY activated_at_us, id"},
    {"get_playbook",
     "SELECT " PLAYBOOK_COLUMNS " FROM playbooks "
     "WHERE ($1::bigint = 0 AND active) OR number = $1::bigint"},
    {"list_playbooks",
     "SELECT " PLAYBOOK_COLUMNS " FROM playbooks "
     "WHERE ($1::bigint = 0 OR number < $1::bigint) ORDER BY number DESC "
     "LIMIT $2::bigint"},
    {"list_changes",
     "SELECT cursor, body FROM changes WHERE cursor > $1 ORDER BY cursor "
     "LIMIT $2::bigint"},
    {"list_sla_due",
     "SELECT lead_id FROM sla_due WHERE due_us <= $1 ORDER BY due_us, "
     "lead_id LIMIT $2::bigint"},
    {"list_queued_leads",
     "SELECT id FROM leads WHERE stage = $1::int AND id > $2 "
     "AND team_id <> '' AND owner_id = '' ORDER BY id LIMIT $3::bigint"},
    {"list_member_audit",
     "SELECT body FROM member_audit WHERE member_id = $1 ORDER BY id DESC "
     "LIMIT $2::bigint"},
    {"get_latest_rescore",
     "SELECT body FROM rescore_passes ORDER BY pass DESC LIMIT 1"},
    {"put_rescore",
     "INSERT INTO rescore_passes(pass, body) VALUES ($1, $2) "
     "ON CONFLICT (pass) DO UPDATE SET body = EXCLUDED.body"},
    {"count_leads", "SELECT COUNT(*) FROM leads"},
    {"list_lead_ids",
     "SELECT id FROM leads WHERE id > $1 ORDER BY id LIMIT $2::bigint"},
    {"latest_change_cursor", "SELECT COALESCE(MAX(cursor), 0) FROM changes"},
    {"list_webhooks", "SELECT body FROM webhooks ORDER BY id"},
    {"get_webhook", "SELECT body FROM webhooks WHERE id = $1"},
    {"put_webhook",
     "INSERT INTO webhooks(id, body) VALUES ($1, $2) "
     "ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body"},
    {"delete_webhook", "DELETE FROM webhooks WHERE id = $1"},
    {"delete_webhook_dead_letters",
     "DELETE FROM dead_letters WHERE subscription_id = $1"},
    {"add_dead_letter",
     "INSERT INTO dead_letters(delivery_id, subscription_id, cursor, body) "
     "VALUES ($1, $2, $3, $4) ON CONFLICT (delivery_id) DO UPDATE SET "
     "subscription_id = EXCLUDED.subscription_id, cursor = EXCLUDED.cursor, "
     "body = EXCLUDED.body"},
    {"list_dead_letters",
     "SELECT body FROM dead_letters WHERE subscription_id = $1 "
     "AND cursor > $2::bigint ORDER BY cursor LIMIT $3::bigint"},
    {"get_dead_letter", "SELECT body FROM dead_letters WHERE delivery_id = $1"},
    {"delete_dead_letter", "DELETE FROM dead_letters WHERE delivery_id = $1"},
    {"list_account_leads",
     "SELECT " LEAD_COLUMNS " FROM leads WHERE account = $1 AND id > $2 "
     "ORDER BY id LIMIT $3::bigint"},
    {"list_account_contacts",
     "SELECT id, stage, score FROM leads WHERE account = $1 "
     "ORDER BY id LIMIT $2::bigint"},
    {"list_accounts",
     "SELECT DISTINCT account FROM leads WHERE account > $1 "
     "ORDER BY account LIMIT $2::bigint"},
    {"get_review_facts", "SELECT facts FROM review_facts WHERE lead_id = $1"},
    {"put_review_facts",
     "INSERT INTO review_facts(lead_id, needed_until_us, facts) "
     "VALUES ($1, $2, $3) ON CONFLICT (lead_id) DO UPDATE SET "
     "needed_until_us = EXCLUDED.needed_until_us, facts = EXCLUDED.facts"},
    {"erase_review_facts", "DELETE FROM review_facts WHERE lead_id = $1"},
    {"scan_review_facts",
     "SELECT lead_id, facts FROM review_facts WHERE lead_id > $1 "
     "AND needed_until_us >= $2::bigint ORDER BY lead_id LIMIT $3::bigint"},
    {"try_lease", "SELECT pg_try_advisory_lock($1::int, hashtext($2))"},
    {"ping", "SELECT 1"},
};

// Bounds on every statement and wait, so that a stuck database or a
// replica that stalls while holding the write lock turns into an error a
// client can retry instead of a request that never ends.
constexpr const char* kSessionSettings =
    "SET statement_timeout = '30s'; SET lock_timeout = '20s'; "
    "SET idle_in_transaction_session_timeout = '60s'; "
    "SET client_encoding = 'UTF8'";
// Read connections kept open at most; writes have their own.
constexpr int kMaxReadConnections = 8;
// How long a read waits for a free connection.
constexpr absl::Duration kPoolWait = absl::Seconds(20);

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

int64_t ClampMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return ToMicros(t);
}

int64_t Limit(int limit) { return limit > 0 ? limit : INT64_MAX; }

// Thrown by Text inside a store operation and turned into INVALID_ARGUMENT
// by Guard: libpq passes text parameters as C strings, so a NUL character
// would silently cut an id short.
struct NulInText {};

std::string Text(absl::string_view v) {
  if (v.find('\0') != absl::string_view::npos) throw NulInText();
  return std::string(v);
}

// Parameters of the Read* helpers, converted inside their Guard.
std::string Param(absl::string_view v) { return Text(v); }
int64_t Param(int64_t v) { return v; }
int Param(int v) { return v; }

// A stored message that does not parse.
struct Unparsable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Appends `v` to an array literal as a quoted element.
void AppendArrayElement(absl::string_view v, std::string* literal) {
  literal->push_back('"');
  for (const char c : v) {
    if (c == '"' || c == '\\') literal->push_back('\\');
    literal->push_back(c);
  }
  literal->push_back('"');
}

pqxx::binarystring Bytes(const google::protobuf::MessageLite& m) {
  return pqxx::binarystring(m.SerializeAsString());
}

void ParseField(const pqxx::field& f, google::protobuf::MessageLite* m) {
  const pqxx::binarystring bytes(f);
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Unparsable(
        absl::StrCat("stored ", m->GetTypeName(), " does not parse"));
  }
}

// The first line of a libpq message: connection failures name the host and
// port, which helps the operator and holds no personal data.
std::string FirstLine(const char* what) {
  std::string line(what);
  if (const size_t end = line.find('\n'); end != std::string::npos) {
    line.resize(end);
  }
  return line;
}

// An exception from libpqxx (or from this file) as a status. SQL errors are
// named by their SQLSTATE only: PostgreSQL's messages may quote the values
// of a row, which can be personal data.
absl::Status ErrorStatus(absl::string_view what, std::exception_ptr error,
                         bool* connection_lost) {
  *connection_lost = false;
  try {
    std::rethrow_exception(error);
  } catch (const NulInText&) {
    return absl::InvalidArgumentError(
        absl::StrCat("store: ", what,
                     ": a text holds a NUL character, which PostgreSQL "
                     "cannot store"));
  } catch (const pqxx::in_doubt_error&) {
    *connection_lost = true;
    return absl::UnavailableError(
        absl::StrCat("store: ", what,
                     ": the connection to PostgreSQL was lost during "
                     "COMMIT; whether the write was stored is unknown"));
  } catch (const pqxx::broken_connection& e) {
    *connection_lost = true;
    return absl::UnavailableError(
        absl::StrCat("store: ", what,
                     ": no connection to PostgreSQL: ", FirstLine(e.what())));
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    const std::string text =
        absl::StrCat("store: ", what, ": PostgreSQL refused (SQLSTATE ",
                     state.empty() ? "unknown" : state, ")");
    const std::string cls = state.substr(0, 2);
    if (cls == "08" || state == "57P01" || state == "57P02" ||
        state == "57P03" || state == "25006") {
      // A lost connection, a server shutting down or a read-only standby.
      *connection_lost = cls == "08" || absl::StartsWith(state, "57P");
      return absl::UnavailableError(text);
    }
    if (state == "57014" || state == "55P03") {
      return absl::UnavailableError(
          absl::StrCat(text, ": a statement or the write lock took too long"));
    }
    if (cls == "40") return absl::AbortedError(text);
    if (cls == "53") return absl::ResourceExhaustedError(text);
    if (state == "XX001" || state == "XX002") return absl::DataLossError(text);
    if (state == "22021" || state == "22P05") {
      return absl::InvalidArgumentError(
          absl::StrCat(text, ": a text is not valid UTF-8"));
    }
    return absl::InternalError(text);
  } catch (const pqxx::failure& e) {
    // libpqxx's own failures (an unusable connection, among others).
    *connection_lost = true;
    return absl::UnavailableError(
        absl::StrCat("store: ", what, ": ", FirstLine(e.what())));
  } catch (const Unparsable& e) {
    return absl::DataLossError(absl::StrCat("store: ", what, ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("store: ", what, ": ", e.what()));
  }
}

// Runs `fn`, which may throw, and turns what it throws into a status;
// `lost` is set when the connection it used can no longer be trusted.
template <typename Fn>
absl::Status Guard(absl::string_view what, bool* lost, Fn&& fn) {
  try {
    return fn();
  } catch (...) {
    return ErrorStatus(what, std::current_exception(), lost);
  }
}

// The `connect_timeout` libpq uses when the URL sets none: a server that
// does not answer must not hang the replica's start.
std::string WithConnectTimeout(const std::string& url) {
  if (absl::StrContains(url, "connect_timeout")) return url;
  if (IsPostgresUrl(url)) {
    return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?",
                        "connect_timeout=10");
  }
  return absl::StrCat(url, " connect_timeout=10");
}

using Connection = std::unique_ptr<pqxx::connection>;

// A connection with the session's bounds set and every statement prepared.
Connection Connect(const std::string& url) {
  auto conn = std::make_unique<pqxx::connection>(url);
  {
    pqxx::nontransaction tx(*conn);
    tx.exec(kSessionSettings);
  }
  for (const PreparedSql& s : kStatements) conn->prepare(s.name, s.sql);
  return conn;
}

class PostgresStore;

// Reads and writes of one transaction (in a group commit, of one write
// inside its savepoint of the group's transaction).
class PostgresTransaction : public StoreTransaction {
 public:
  PostgresTransaction(pqxx::transaction_base* tx, bool read_only, bool* lost)
      : tx_(tx), read_only_(read_only), lost_(lost) {}

  absl::StatusOr<std::optional<StoredLead>> GetLead(
      absl::string_view lead_id) override {
    std::optional<StoredLead> lead;
    absl::Status st = Run("GetLead", false, [&] {
      const pqxx::result r = tx_->exec_prepared("get_lead", Text(lead_id));
      if (!r.empty()) ReadLead(r[0], &lead.emplace());
    });
    if (!st.ok()) return st;
    return lead;
  }

  absl::Status PutLead(const StoredLead& lead) override {
    return Run("PutLead", true, [&] {
      const auto& created = lead.lead.created_at();
      tx_->exec_prepared("put_lead", Text(lead.lead.id()), lead.revision,
                         static_cast<int>(lead.lifecycle.stage()),
                         Text(lead.score.routing().team_id()),
                         Text(lead.score.routing().owner_id()),
                         created.seconds() * 1000000 + created.nanos() / 1000,
                         ToMicros(lead.updated_at), Bytes(lead.lead),
                         Bytes(lead.lifecycle), Bytes(lead.score),
                         lead.event_count, static_cast<int>(lead.sla_state),
                         ClampMicros(lead.sla_valid_until), lead.sla_playbook,
                         Text(lead.account));
      UpdateReviewFacts(lead.lead.id(), [&](v1::LeadReviewFacts* facts) {
        SetReviewLead(lead.lead, lead.lifecycle, lead.score, facts);
      });
    });
  }

  absl::Status AddEvents(
      absl::string_view lead_id,
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      std::vector<bool>* stored) override {
    stored->assign(events.size(), false);
    if (events.empty()) return absl::OkStatus();
    return Run("AddEvents", true, [&] {
      // Array literals (libpqxx 6.4 passes no arrays): one round trip for
      // the whole request instead of one per event.
      std::string ids = "{";
      std::string bodies = "{";
      for (const v1::Event& event : events) {
        if (ids.size() > 1) {
          ids += ',';
          bodies += ',';
        }
        AppendArrayElement(Text(event.id()), &ids);
        AppendArrayElement(absl::StrCat("\\x", absl::BytesToHexString(
                                                   event.SerializeAsString())),
                           &bodies);
      }
      ids += '}';
      bodies += '}';
      absl::flat_hash_set<std::string> added;
      for (const auto& row :
           tx_->exec_prepared("add_events", Text(lead_id), ids, bodies)) {
        added.emplace(row[0].c_str(), row[0].size());
      }
      // An id repeated within the request is new once, the first time.
      for (int i = 0; i < events.size(); ++i) {
        (*stored)[i] = added.erase(events[i].id()) > 0;
      }
    });
  }

  absl::Status GetEvents(
      absl::string_view lead_id,
      google::protobuf::RepeatedPtrField<v1::Event>* events) override {
    return Run("GetEvents", false, [&] {
      for (const auto& row : tx_->exec_prepared("get_events", Text(lead_id))) {
        ParseField(row[0], events->Add());
      }
    });
  }

  absl::Status GetLatestEvents(
      absl::string_view lead_id, int limit,
      google::protobuf::RepeatedPtrField<v1::Event>* events) override {
    return Run("GetLatestEvents", false, [&] {
      const int first = events->size();
      for (const auto& row : tx_->exec_prepared(
               "get_latest_events", Text(lead_id), int64_t{limit})) {
        ParseField(row[0], events->Add());
      }
      std::reverse(events->begin() + first, events->end());
    });
  }

  absl::StatusOr<int> CountEvents(absl::string_view lead_id) override {
    int count = 0;
    absl::Status st = Run("CountEvents", false, [&] {
      count = tx_->exec_prepared1("count_events", Text(lead_id))[0].as<int>();
    });
    if (!st.ok()) return st;
    return count;
  }

  absl::Status AddFeedback(const v1::Feedback& feedback) override {
    return Run("AddFeedback", true, [&] {
      tx_->exec_prepared(
          "add_feedback", Text(feedback.lead_id()),
          feedback.at().seconds() * 1000000 + feedback.at().nanos() / 1000,
          Bytes(feedback));
      UpdateReviewFacts(feedback.lead_id(), [&](v1::LeadReviewFacts* facts) {
        AddReviewFeedback(feedback, facts);
      });
    });
  }

  absl::StatusOr<v1::RoutingState> GetRoutingState() override {
    v1::RoutingState state;
    absl::Status st = Run("GetRoutingState", false, [&] {
      const pqxx::result r = tx_->exec_prepared("get_routing");
      if (!r.empty()) {
        const pqxx::binarystring bytes(r[0][0]);
        routing_read_.emplace(bytes.str());
        if (!state.ParseFromString(*routing_read_)) {
          throw Unparsable("stored smarketing.v1.RoutingState does not parse");
        }
      }
    });
    if (!st.ok()) return st;
    return state;
  }

  // Most writes leave the routing state as they read it: it is not sent
  // back then (it grows with the accounts known).
  absl::Status PutRoutingState(const v1::RoutingState& state) override {
    return Run("PutRoutingState", true, [&] {
      std::string bytes = state.SerializeAsString();
      if (routing_read_.has_value() && *routing_read_ == bytes) return;
      tx_->exec_prepared("put_routing", pqxx::binarystring(bytes));
      routing_read_.emplace(std::move(bytes));
    });
  }

  absl::StatusOr<int> EraseLead(absl::string_view lead_id) override {
    int erased = -1;
    absl::Status st = Run("EraseLead", true, [&] {
      const std::string id = Text(lead_id);
      if (tx_->exec_prepared("erase_lead", id).affected_rows() == 0) return;
      tx_->exec_prepared("erase_feedback", id);
      tx_->exec_prepared("erase_review_facts", id);
      tx_->exec_prepared("clear_sla_due", id);
      erased = static_cast<int>(
          tx_->exec_prepared("erase_events", id).affected_rows());
    });
    if (!st.ok()) return st;
    if (erased < 0)
      return absl::NotFoundError(absl::StrCat("no lead ", lead_id));
    return erased;
  }

  absl::Status AppendChange(v1::Change* change) override {
    return Run("AppendChange", true, [&] {
      // The cursor is the row's key, not part of the stored body.
      change->clear_cursor();
      change->set_cursor(tx_->exec_prepared1("append_change", Bytes(*change))[0]
                             .as<int64_t>());
    });
  }

  absl::Status SetSlaDue(absl::string_view lead_id, absl::Time due) override {
    return Run("SetSlaDue", true, [&] {
      if (due == absl::InfiniteFuture()) {
        tx_->exec_prepared("clear_sla_due", Text(lead_id));
      } else {
        tx_->exec_prepared("set_sla_due", Text(lead_id), ClampMicros(due));
      }
    });
  }

  absl::Status AppendMemberAudit(
      const v1::MemberStatusChange& change) override {
    return Run("AppendMemberAudit", true, [&] {
      tx_->exec_prepared("append_member_audit",
                         Text(change.status().member_id()), Bytes(change));
    });
  }

  absl::StatusOr<std::optional<v1::RescoreStatus>> GetLatestRescore() override {
    return OneMessage<v1::RescoreStatus>("GetLatestRescore",
                                         "get_latest_rescore");
  }

  absl::Status PutRescore(const v1::RescoreStatus& status) override {
    return Run("PutRescore", true, [&] {
      tx_->exec_prepared("put_rescore", status.pass_number(), Bytes(status));
    });
  }

  absl::StatusOr<int64_t> CountLeads() override {
    return Count("CountLeads", "count_leads");
  }

  absl::StatusOr<int64_t> LatestChangeCursor() override {
    return Count("LatestChangeCursor", "latest_change_cursor");
  }

  absl::StatusOr<std::vector<v1::WebhookSubscription>> ListWebhooks() override {
    std::vector<v1::WebhookSubscription> out;
    absl::Status st = Run("ListWebhooks", false, [&] {
      for (const auto& row : tx_->exec_prepared("list_webhooks")) {
        ParseField(row[0], &out.emplace_back());
      }
    });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<std::optional<v1::WebhookSubscription>> GetWebhook(
      absl::string_view id) override {
    return OneMessage<v1::WebhookSubscription>("GetWebhook", "get_webhook", id);
  }

  absl::Status PutWebhook(const v1::WebhookSubscription& webhook) override {
    return Run("PutWebhook", true, [&] {
      tx_->exec_prepared("put_webhook", Text(webhook.id()), Bytes(webhook));
    });
  }

  absl::Status DeleteWebhook(absl::string_view id) override {
    bool found = false;
    absl::Status st = Run("DeleteWebhook", true, [&] {
      const std::string key = Text(id);
      found = tx_->exec_prepared("delete_webhook", key).affected_rows() > 0;
      if (found) tx_->exec_prepared("delete_webhook_dead_letters", key);
    });
    if (!st.ok()) return st;
    if (!found) return absl::NotFoundError(absl::StrCat("no webhook ", id));
    return absl::OkStatus();
  }

  absl::Status AddDeadLetter(const v1::DeadLetter& letter) override {
    return Run("AddDeadLetter", true, [&] {
      tx_->exec_prepared("add_dead_letter",
                         Text(letter.delivery().delivery_id()),
                         Text(letter.delivery().subscription_id()),
                         letter.delivery().change().cursor(), Bytes(letter));
    });
  }

  absl::StatusOr<std::vector<v1::DeadLetter>> ListDeadLetters(
      absl::string_view subscription_id, int64_t after_cursor,
      int limit) override {
    std::vector<v1::DeadLetter> out;
    absl::Status st = Run("ListDeadLetters", false, [&] {
      for (const auto& row :
           tx_->exec_prepared("list_dead_letters", Text(subscription_id),
                              after_cursor, Limit(limit))) {
        ParseField(row[0], &out.emplace_back());
      }
    });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<std::optional<v1::DeadLetter>> GetDeadLetter(
      absl::string_view delivery_id) override {
    return OneMessage<v1::DeadLetter>("GetDeadLetter", "get_dead_letter",
                                      delivery_id);
  }

  absl::Status DeleteDeadLetter(absl::string_view delivery_id) override {
    return Run("DeleteDeadLetter", true, [&] {
      tx_->exec_prepared("delete_dead_letter", Text(delivery_id));
    });
  }

  absl::StatusOr<std::vector<AccountContactRow>> ListAccountContacts(
      absl::string_view account, int limit) override {
    std::vector<AccountContactRow> out;
    absl::Status st = Run("ListAccountContacts", false, [&] {
      for (const auto& row : tx_->exec_prepared("list_account_contacts",
                                                Text(account), Limit(limit))) {
        AccountContactRow& contact = out.emplace_back();
        contact.lead_id.assign(row[0].c_str(), row[0].size());
        contact.stage = static_cast<v1::LifecycleStage>(row[1].as<int>());
        ParseField(row[2], &contact.score);
      }
    });
    if (!st.ok()) return st;
    return out;
  }

  static void ReadLead(const pqxx::row& row, StoredLead* lead) {
    ParseField(row[0], &lead->lead);
    ParseField(row[1], &lead->lifecycle);
    ParseField(row[2], &lead->score);
    lead->revision = row[3].as<int64_t>();
    lead->updated_at = FromMicros(row[4].as<int64_t>());
    lead->event_count = row[5].as<int>();
    lead->sla_state = static_cast<v1::SlaState>(row[6].as<int>());
    lead->sla_valid_until = FromMicros(row[7].as<int64_t>());
    lead->sla_playbook = row[8].as<int64_t>();
    lead->account.assign(row[9].c_str(), row[9].size());
  }

 private:
  template <typename Fn>
  absl::Status Run(absl::string_view what, bool writes, Fn&& fn) {
    if (writes && read_only_) {
      return absl::FailedPreconditionError(
          "store: write in a read transaction");
    }
    bool lost = false;
    absl::Status st = Guard(what, &lost, [&] {
      fn();
      return absl::OkStatus();
    });
    if (lost) *lost_ = true;
    return st;
  }

  // The message in the first column of the statement's first row, if any.
  template <typename Message, typename... Args>
  absl::StatusOr<std::optional<Message>> OneMessage(absl::string_view what,
                                                    const char* statement,
                                                    Args&&... args) {
    std::optional<Message> out;
    absl::Status st = Run(what, false, [&] {
      const pqxx::result r = tx_->exec_prepared(statement, Param(args)...);
      if (!r.empty()) ParseField(r[0][0], &out.emplace());
    });
    if (!st.ok()) return st;
    return out;
  }

  // The number the statement returns.
  absl::StatusOr<int64_t> Count(absl::string_view what, const char* statement) {
    int64_t n = 0;
    absl::Status st = Run(what, false, [&] {
      n = tx_->exec_prepared1(statement)[0].as<int64_t>();
    });
    if (!st.ok()) return st;
    return n;
  }

  // Changes the lead's review facts (empty when none is stored) with
  // `change` and stores them; throws as the statements do.
  void UpdateReviewFacts(absl::string_view lead_id,
                         absl::FunctionRef<void(v1::LeadReviewFacts*)> change) {
    const std::string id = Text(lead_id);
    v1::LeadReviewFacts facts;
    const pqxx::result r = tx_->exec_prepared("get_review_facts", id);
    if (!r.empty()) ParseField(r[0][0], &facts);
    change(&facts);
    tx_->exec_prepared("put_review_facts", id,
                       ClampMicros(ReviewNeededUntil(facts)), Bytes(facts));
  }

  pqxx::transaction_base* tx_;
  bool read_only_;
  bool* lost_;
  // The routing state as stored now in this transaction, once read.
  std::optional<std::string> routing_read_;
};

// Connections for reads, opened when needed and kept for the next read.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::string url) : url_(std::move(url)) {}

  // A connection for the caller alone until Release; UNAVAILABLE when none
  // can be opened or none became free in time.
  absl::StatusOr<Connection> Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, absl::ToChronoMilliseconds(kPoolWait), [&] {
          return !idle_.empty() || open_ < kMaxReadConnections;
        })) {
      return absl::UnavailableError(
          "store: every connection to PostgreSQL is busy");
    }
    if (!idle_.empty()) {
      Connection conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
    lock.unlock();
    bool lost = false;
    Connection conn;
    absl::Status st = Guard("connect", &lost, [&] {
      conn = Connect(url_);
      return absl::OkStatus();
    });
    if (!st.ok()) {
      Release(nullptr);
      return st;
    }
    return conn;
  }

  // Gives the connection back; nullptr (a connection lost) frees its place.
  void Release(Connection conn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn != nullptr && conn->is_open()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

 private:
  const std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection> idle_;
  int open_ = 0;
};

// Tells the owner of the store's Playbook watch that the active version may
// have changed.
class PlaybookReceiver : public pqxx::notification_receiver {
 public:
  PlaybookReceiver(pqxx::connection_base& conn, std::function<void()> fn)
      : pqxx::notification_receiver(conn, kPlaybookChannel),
        fn_(std::move(fn)) {}
  void operator()(const std::string&, int) override { fn_(); }

 private:
  std::function<void()> fn_;
};

// The review facts of every stored lead, computed from the leads and their
// feedback a page of leads at a time: the migration that creates them
// fills them. Throws as the statements do.
void BackfillReviewFacts(pqxx::transaction_base& tx) {
  std::string after;
  for (;;) {
    const pqxx::result leads = tx.exec_params(
        "SELECT id, lead, lifecycle, score FROM leads WHERE id > $1 "
        "ORDER BY id LIMIT $2",
        after, int64_t{kReviewFactsPage});
    if (leads.empty()) return;
    const std::string last(leads.back()[0].c_str(), leads.back()[0].size());
    const pqxx::result feedback = tx.exec_params(
        "SELECT lead_id, body FROM feedback WHERE lead_id > $1 AND "
        "lead_id <= $2 ORDER BY lead_id, seq",
        after, last);
    auto next = feedback.begin();
    for (const auto& row : leads) {
      const std::string id(row[0].c_str(), row[0].size());
      StoredLead lead;
      ParseField(row[1], &lead.lead);
      ParseField(row[2], &lead.lifecycle);
      ParseField(row[3], &lead.score);
      v1::LeadReviewFacts facts;
      SetReviewLead(lead.lead, lead.lifecycle, lead.score, &facts);
      // Feedback on leads not stored is skipped as the review skips it.
      for (; next != feedback.end() &&
             std::string_view(next[0].c_str(), next[0].size()) <= id;
           ++next) {
        if (std::string_view(next[0].c_str(), next[0].size()) != id) continue;
        v1::Feedback f;
        ParseField(next[1], &f);
        AddReviewFeedback(f, &facts);
      }
      tx.exec_params(
          "INSERT INTO review_facts(lead_id, needed_until_us, facts) "
          "VALUES ($1, $2, $3)",
          id, ClampMicros(ReviewNeededUntil(facts)), Bytes(facts));
    }
    after = last;
  }
}

class PostgresStore : public Store {
 public:
  explicit PostgresStore(std::string url)
      : url_(std::move(url)), reads_(url_) {}

  ~PostgresStore() override {
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      stopping_ = true;
    }
    if (watcher_.joinable()) watcher_.join();
  }

  absl::Status Initialize() {
    bool lost = false;
    return Guard("opening the store", &lost, [&]() -> absl::Status {
      auto conn = std::make_unique<pqxx::connection>(url_);
      pqxx::work tx(*conn);
      tx.exec(kSessionSettings);
      const std::string encoding =
          tx.exec1("SHOW server_encoding")[0].as<std::string>();
      if (encoding != "UTF8") {
        return absl::FailedPreconditionError(absl::StrCat(
            "store: the database's encoding is ", encoding,
            "; the store needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')"));
      }
      // Replicas starting together migrate one after the other.
      tx.exec(
          absl::StrCat("SELECT pg_advisory_xact_lock(", kMigrationLock, ")"));
      tx.exec(
          "CREATE TABLE IF NOT EXISTS schema_version("
          "version INTEGER NOT NULL)");
      const pqxx::row row =
          tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_version");
      const int64_t version = row[0].as<int64_t>();
      if (version > kSchemaVersion) {
        return absl::FailedPreconditionError(
            absl::StrCat("store: the database has schema version ", version,
                         ", newer than this program's ", kSchemaVersion));
      }
      for (int64_t v = version; v < kSchemaVersion; ++v) {
        tx.exec(kMigrations[v]);
        if (v + 1 == kReviewFactsVersion) BackfillReviewFacts(tx);
      }
      if (version < kSchemaVersion) {
        tx.exec("DELETE FROM schema_version");
        tx.exec(absl::StrCat("INSERT INTO schema_version(version) VALUES (",
                             kSchemaVersion, ")"));
      }
      tx.commit();
      return absl::OkStatus();
    });
  }

  // Group commit (store/group_commit.h), as in the SQLite store: one WAL
  // flush acknowledges a whole group of writes.
  absl::Status Write(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) override {
    return group_commit_.Write(fn, [&](const GroupCommit::Group& group) {
      std::lock_guard<std::mutex> write_lock(write_mu_);
      bool lost = false;
      {
        GroupSteps steps(this);
        group.CommitWith(steps);
        lost = steps.lost();
      }
      if (lost) write_conn_.reset();
    });
  }

  absl::Status Read(
      absl::FunctionRef<absl::Status(StoreTransaction&)> fn) override {
    return WithRead("Read", [&](pqxx::transaction_base& tx, bool* lost) {
      PostgresTransaction txn(&tx, /*read_only=*/true, lost);
      return fn(txn);
    });
  }

  absl::StatusOr<std::vector<StoredLead>> ListLeads(const LeadFilter& filter,
                                                    absl::string_view after_id,
                                                    int limit) override {
    std::vector<StoredLead> leads;
    absl::Status st = WithRead("ListLeads", [&](pqxx::transaction_base& tx,
                                                bool*) {
      const std::string after = Text(after_id);
      const std::string team = Text(filter.team_id);
      const std::string owner = Text(filter.owner_id);
      auto read = [&](const char* statement, auto&&... sla) {
        std::vector<StoredLead> out;
        for (const auto& row : tx.exec_prepared(
                 statement, after, static_cast<int>(filter.stage), team, owner,
                 filter.routed_only ? 1 : 0, ClampMicros(filter.created_from),
                 ClampMicros(filter.created_to), Limit(limit), sla...)) {
          PostgresTransaction::ReadLead(row, &out.emplace_back());
        }
        return out;
      };
      if (filter.sla_state == v1::SLA_STATE_UNSPECIFIED) {
        leads = read("list_leads");
        return absl::OkStatus();
      }
      // Leads kept in the state and still in it, merged with those whose
      // kept state does not tell, in id order (see LeadFilter).
      const int state = static_cast<int>(filter.sla_state);
      const int64_t at = ClampMicros(filter.sla_at);
      std::vector<StoredLead> in_state =
          read("list_leads_in_sla_state", state, at, filter.sla_playbook);
      std::vector<StoredLead> unknown =
          read("list_leads_sla_unknown", state, at, filter.sla_playbook);
      leads.reserve(in_state.size() + unknown.size());
      std::merge(std::make_move_iterator(in_state.begin()),
                 std::make_move_iterator(in_state.end()),
                 std::make_move_iterator(unknown.begin()),
                 std::make_move_iterator(unknown.end()),
                 std::back_inserter(leads),
                 [](const StoredLead& a, const StoredLead& b) {
                   return a.lead.id() < b.lead.id();
                 });
      if (limit > 0 && static_cast<int>(leads.size()) > limit) {
        leads.resize(limit);
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return leads;
  }

  absl::StatusOr<std::vector<v1::Feedback>> ListFeedback(
      absl::string_view lead_id, int limit) override {
    return ReadMessages<v1::Feedback>("ListFeedback", "list_feedback", lead_id,
                                      Limit(limit));
  }

  // Pages of one snapshot, each parsed into an arena: parsing allocates
  // nothing per lead.
  absl::Status ScanReviewFacts(
      absl::Time since,
      absl::FunctionRef<absl::Status(const v1::LeadReviewFacts&)> fn) override {
    return WithRead("ScanReviewFacts", [&](pqxx::transaction_base& tx, bool*) {
      // Room for a page of facts, so that the arena does not allocate.
      std::vector<char> block(4 << 20);
      google::protobuf::ArenaOptions options;
      options.initial_block = block.data();
      options.initial_block_size = block.size();
      google::protobuf::Arena arena(options);
      std::string after;
      for (;;) {
        arena.Reset();
        const pqxx::result r =
            tx.exec_prepared("scan_review_facts", after, ClampMicros(since),
                             int64_t{kReviewFactsPage});
        for (const auto& row : r) {
          auto* facts =
              google::protobuf::Arena::CreateMessage<v1::LeadReviewFacts>(
                  &arena);
          ParseField(row[1], facts);
          if (absl::Status st = fn(*facts); !st.ok()) return st;
        }
        if (r.size() < static_cast<size_t>(kReviewFactsPage)) {
          return absl::OkStatus();
        }
        after.assign(r.back()[0].c_str(), r.back()[0].size());
      }
    });
  }

  absl::StatusOr<PlaybookRecord> PublishPlaybook(const v1::Playbook& playbook,
                                                 absl::string_view published_by,
                                                 absl::Time published_at,
                                                 bool activate) override {
    PlaybookRecord record;
    absl::Status st = WithWrite("PublishPlaybook", [&](pqxx::work& tx) {
      const bool first = tx.exec_prepared("active_playbook").empty();
      record.label = absl::StrCat(playbook.metadata().name(), "@",
                                  playbook.metadata().version());
      record.published_by = std::string(published_by);
      record.published_at = published_at;
      record.active = activate || first;
      record.playbook = playbook;
      if (record.active) tx.exec_prepared("deactivate_playbooks");
      record.number =
          tx.exec_prepared1("insert_playbook", Text(record.label),
                            Text(record.published_by), ToMicros(published_at),
                            record.active, Bytes(playbook))[0]
              .as<int64_t>();
      if (record.active) {
        tx.exec_prepared("insert_activation", record.number,
                         ToMicros(published_at), Text(record.published_by));
        NotifyActivation(tx, record.number);
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return record;
  }

  absl::StatusOr<PlaybookRecord> ActivatePlaybook(
      int64_t number, int64_t expected_active, absl::string_view activated_by,
      absl::Time activated_at) override {
    absl::StatusOr<PlaybookRecord> record;
    absl::Status st = WithWrite("ActivatePlaybook", [&](pqxx::work& tx) {
      record = LoadPlaybook(tx, number);
      if (!record.ok()) return record.status();
      if (expected_active > 0) {
        const pqxx::result active = tx.exec_prepared("active_playbook");
        const int64_t current = active.empty() ? 0 : active[0][0].as<int64_t>();
        if (current != expected_active) {
          return absl::FailedPreconditionError(
              absl::StrCat("the active Playbook version is ", current, ", not ",
                           expected_active));
        }
      }
      tx.exec_prepared("deactivate_playbooks");
      tx.exec_prepared("activate_playbook", number);
      tx.exec_prepared("insert_activation", number, ToMicros(activated_at),
                       Text(activated_by));
      NotifyActivation(tx, number);
      record->active = true;
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return record;
  }

  absl::StatusOr<PlaybookRecord> GetPlaybook(int64_t number) override {
    absl::StatusOr<PlaybookRecord> record;
    absl::Status st =
        WithRead("GetPlaybook", [&](pqxx::transaction_base& tx, bool*) {
          record = LoadPlaybook(tx, number);
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    return record;
  }

  absl::StatusOr<std::vector<PlaybookRecord>> ListPlaybooks(
      int64_t before, int limit) override {
    std::vector<PlaybookRecord> out;
    absl::Status st =
        WithRead("ListPlaybooks", [&](pqxx::transaction_base& tx, bool*) {
          for (const auto& row :
               tx.exec_prepared("list_playbooks", before, Limit(limit))) {
            ReadPlaybook(row, &out.emplace_back());
          }
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<std::vector<PlaybookActivation>> ListPlaybookActivations(
      absl::Time from, absl::Time to) override {
    std::vector<PlaybookActivation> out;
    absl::Status st = WithRead(
        "ListPlaybookActivations", [&](pqxx::transaction_base& tx, bool*) {
          for (const auto& row : tx.exec_prepared(
                   "list_activations", ToMicros(from), ToMicros(to))) {
            out.push_back({row[0].as<int64_t>(),
                           FromMicros(row[1].as<int64_t>()),
                           row[2].as<std::string>()});
          }
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<std::vector<v1::Change>> ListChanges(int64_t after_cursor,
                                                      int limit) override {
    std::vector<v1::Change> out;
    absl::Status st =
        WithRead("ListChanges", [&](pqxx::transaction_base& tx, bool*) {
          for (const auto& row :
               tx.exec_prepared("list_changes", after_cursor, Limit(limit))) {
            v1::Change& change = out.emplace_back();
            ParseField(row[1], &change);
            change.set_cursor(row[0].as<int64_t>());
          }
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ListSlaDue(absl::Time now,
                                                      int limit) override {
    return ReadTexts("ListSlaDue", "list_sla_due", ClampMicros(now),
                     Limit(limit));
  }

  absl::StatusOr<std::vector<std::string>> ListQueuedLeads(
      absl::string_view after_id, int limit) override {
    return ReadTexts("ListQueuedLeads", "list_queued_leads",
                     static_cast<int>(v1::LIFECYCLE_STAGE_MQL), after_id,
                     Limit(limit));
  }

  absl::StatusOr<std::vector<v1::MemberStatusChange>> ListMemberAudit(
      absl::string_view member_id, int limit) override {
    return ReadMessages<v1::MemberStatusChange>(
        "ListMemberAudit", "list_member_audit", member_id, Limit(limit));
  }

  absl::StatusOr<std::vector<std::string>> ListLeadIds(
      absl::string_view after_id, int limit) override {
    return ReadTexts("ListLeadIds", "list_lead_ids", after_id, Limit(limit));
  }

  absl::StatusOr<std::vector<StoredLead>> ListAccountLeads(
      absl::string_view account, absl::string_view after_id,
      int limit) override {
    std::vector<StoredLead> out;
    absl::Status st =
        WithRead("ListAccountLeads", [&](pqxx::transaction_base& tx, bool*) {
          for (const auto& row :
               tx.exec_prepared("list_account_leads", Text(account),
                                Text(after_id), Limit(limit))) {
            PostgresTransaction::ReadLead(row, &out.emplace_back());
          }
          return absl::OkStatus();
        });
    if (!st.ok()) return st;
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ListAccounts(
      absl::string_view after_account, int limit) override {
    return ReadTexts("ListAccounts", "list_accounts", after_account,
                     Limit(limit));
  }

  // --- Several replicas on one database ---

  // A thread of the store listens for activations on a connection of its
  // own, and calls `changed` for each, and after every (re)connection, as
  // activations may have been missed while it was not listening.
  void WatchPlaybooks(std::function<void()> changed) override {
    std::lock_guard<std::mutex> lock(watch_mu_);
    on_playbooks_ = std::move(changed);
    if (on_playbooks_ && !watcher_.joinable()) {
      watcher_ = std::thread([this] { WatchLoop(); });
    }
  }

  // Session advisory locks on a connection of their own: PostgreSQL frees
  // them when the connection ends, so the lease passes to another replica
  // as soon as its holder dies. Checking the connection at each call tells
  // a holder that lost it.
  absl::StatusOr<bool> HoldLease(absl::string_view name) override {
    std::lock_guard<std::mutex> lock(lease_mu_);
    bool held = false;
    bool lost = false;
    absl::Status st = Guard("HoldLease", &lost, [&] {
      if (lease_conn_ == nullptr) {
        held_leases_.clear();
        lease_conn_ = Connect(url_);
      }
      pqxx::nontransaction tx(*lease_conn_);
      const std::string lease = Text(name);
      if (held_leases_.contains(lease)) {
        tx.exec_prepared("ping");
        held = true;
      } else {
        held = tx.exec_prepared1("try_lease", kLeaseLockClass, lease)[0]
                   .as<bool>();
        if (held) held_leases_.insert(lease);
      }
      return absl::OkStatus();
    });
    if (lost || !st.ok()) {
      lease_conn_.reset();
      held_leases_.clear();
    }
    if (!st.ok()) return st;
    return held;
  }

 private:
  // The write connection, opened again after it was lost. The caller holds
  // write_mu_.
  pqxx::connection& WriteConnection() {
    if (write_conn_ == nullptr || !write_conn_->is_open()) {
      write_conn_ = Connect(url_);
    }
    return *write_conn_;
  }

  // A transaction on the write connection. A connection the server closed
  // while it was idle (a restart, a failover) fails at BEGIN, before
  // anything was written: it is opened again, once. The caller holds
  // write_mu_.
  std::unique_ptr<pqxx::work> BeginWrite() {
    try {
      return std::make_unique<pqxx::work>(WriteConnection());
    } catch (const pqxx::broken_connection&) {
      write_conn_.reset();
      return std::make_unique<pqxx::work>(WriteConnection());
    }
  }

  // A group's transaction (see GroupCommit) on the write connection, which
  // every write transaction of every replica locks first (lock_writes). The
  // caller holds write_mu_, and drops the connection when lost() says it can
  // no longer be trusted. Savepoints by hand: libpqxx 6.4's subtransaction
  // does not open its savepoint before a prepared statement, so that its
  // abort rolled nothing back.
  class GroupSteps final : public GroupTransaction {
   public:
    explicit GroupSteps(PostgresStore* store) : store_(store) {}
    bool lost() const { return lost_; }

    absl::Status Begin() override {
      absl::Status st = Guard("Write", &lost_, [&] {
        tx_ = store_->BeginWrite();
        tx_->exec_prepared("lock_writes");
        txn_.emplace(tx_.get(), /*read_only=*/false, &lost_);
        return absl::OkStatus();
      });
      if (!st.ok()) Rollback();
      return st;
    }
    StoreTransaction& Transaction() override { return *txn_; }
    absl::Status Savepoint() override { return Exec("SAVEPOINT write"); }
    absl::Status EndSavepoint(bool keep) override {
      return Exec(keep
                      ? "RELEASE SAVEPOINT write"
                      : "ROLLBACK TO SAVEPOINT write; RELEASE SAVEPOINT write");
    }
    absl::Status Commit() override {
      return Guard("Write", &lost_, [&] {
        tx_->commit();
        return absl::OkStatus();
      });
    }
    // Ends the transaction; libpqxx rolls back one not committed.
    void Rollback() override {
      txn_.reset();
      tx_.reset();
    }

   private:
    absl::Status Exec(const char* sql) {
      return Guard("Write", &lost_, [&] {
        tx_->exec(sql);
        return absl::OkStatus();
      });
    }

    PostgresStore* store_;
    bool lost_ = false;
    std::unique_ptr<pqxx::work> tx_;
    std::optional<PostgresTransaction> txn_;
  };

  // Runs `fn` in a transaction of its own on the write connection, after
  // the writes queued before it; committed when it returns OK.
  template <typename Fn>
  absl::Status WithWrite(absl::string_view what, Fn&& fn) {
    std::lock_guard<std::mutex> lock(write_mu_);
    bool lost = false;
    absl::Status st = Guard(what, &lost, [&]() -> absl::Status {
      const std::unique_ptr<pqxx::work> begun = BeginWrite();
      pqxx::work& tx = *begun;
      tx.exec_prepared("lock_writes");
      if (absl::Status result = fn(tx); !result.ok()) return result;
      tx.commit();
      return absl::OkStatus();
    });
    if (lost) write_conn_.reset();
    return st;
  }

  // Runs `fn(tx, lost)` in a read-only transaction on one snapshot.
  template <typename Fn>
  // A pooled connection the server closed while it was idle fails at
  // BEGIN, before anything was read: it is dropped and the next one tried,
  // a new one at last.
  absl::Status WithRead(absl::string_view what, Fn&& fn) {
    for (int attempt = 0;; ++attempt) {
      auto conn = reads_.Acquire();
      if (!conn.ok()) return conn.status();
      bool lost = false;
      bool stale = false;
      absl::Status st = Guard(what, &lost, [&]() -> absl::Status {
        std::optional<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>
            tx;
        try {
          tx.emplace(**conn);
        } catch (const pqxx::broken_connection&) {
          if (attempt > kMaxReadConnections) throw;
          stale = lost = true;
          return absl::OkStatus();
        }
        if (absl::Status result = fn(*tx, &lost); !result.ok()) return result;
        tx->commit();
        return absl::OkStatus();
      });
      if (lost) {
        reads_.Release(nullptr);
      } else {
        reads_.Release(*std::move(conn));
      }
      if (!stale) return st;
    }
  }

  template <typename Message, typename... Args>
  absl::StatusOr<std::vector<Message>> ReadMessages(absl::string_view what,
                                                    const char* statement,
                                                    Args&&... args) {
    std::vector<Message> out;
    absl::Status st = WithRead(what, [&](pqxx::transaction_base& tx, bool*) {
      for (const auto& row : tx.exec_prepared(statement, Param(args)...)) {
        ParseField(row[0], &out.emplace_back());
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }

  template <typename... Args>
  absl::StatusOr<std::vector<std::string>> ReadTexts(absl::string_view what,
                                                     const char* statement,
                                                     Args&&... args) {
    std::vector<std::string> out;
    absl::Status st = WithRead(what, [&](pqxx::transaction_base& tx, bool*) {
      for (const auto& row : tx.exec_prepared(statement, Param(args)...)) {
        out.emplace_back(row[0].c_str(), row[0].size());
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return out;
  }

  static absl::StatusOr<PlaybookRecord> LoadPlaybook(pqxx::transaction_base& tx,
                                                     int64_t number) {
    const pqxx::result r = tx.exec_prepared("get_playbook", number);
    if (r.empty()) {
      return absl::NotFoundError(
          number == 0 ? std::string("no Playbook version is active")
                      : absl::StrCat("no Playbook version ", number));
    }
    PlaybookRecord record;
    ReadPlaybook(r[0], &record);
    return record;
  }

  static void ReadPlaybook(const pqxx::row& row, PlaybookRecord* out) {
    out->number = row[0].as<int64_t>();
    out->label = row[1].as<std::string>();
    out->published_by = row[2].as<std::string>();
    out->published_at = FromMicros(row[3].as<int64_t>());
    out->active = row[4].as<bool>();
    ParseField(row[5], &out->playbook);
  }

  // Delivered to every listening replica when the transaction commits.
  static void NotifyActivation(pqxx::transaction_base& tx, int64_t number) {
    tx.exec_prepared("notify_playbooks", kPlaybookChannel,
                     absl::StrCat(number));
  }

  void PlaybooksChanged() {
    std::lock_guard<std::mutex> lock(watch_mu_);
    if (on_playbooks_) on_playbooks_();
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(watch_mu_);
    return stopping_;
  }

  void WatchLoop() {
    while (!Stopping()) {
      try {
        pqxx::connection conn(url_);
        PlaybookReceiver receiver(conn, [this] { PlaybooksChanged(); });
        PlaybooksChanged();
        // Wakes up at least every 200 ms to see whether the store closes.
        while (!Stopping()) conn.await_notification(0, 200000);
      } catch (const std::exception&) {
        // Activations made while no connection listens are caught up with
        // by the call after the next connection.
        PlaybooksChanged();
        for (int i = 0; i < 5 && !Stopping(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    }
  }

  const std::string url_;
  ConnectionPool reads_;
  // The write connection, used by one group commit or one WithWrite at a
  // time.
  std::mutex write_mu_;
  Connection write_conn_;
  GroupCommit group_commit_;
  // The Playbook watch (see WatchPlaybooks). Held while the callback runs,
  // so that once WatchPlaybooks(nullptr) returns it is never called again.
  std::mutex watch_mu_;
  std::function<void()> on_playbooks_;
  bool stopping_ = false;
  std::thread watcher_;
  // Leases (see HoldLease).
  std::mutex lease_mu_;
  Connection lease_conn_;
  absl::flat_hash_set<std::string> held_leases_;
};

}  // namespace

bool IsPostgresUrl(absl::string_view store) {
  return absl::StartsWith(store, "postgresql://") ||
         absl::StartsWith(store, "postgres://");
}

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const std::string& url) {
  auto store = std::make_unique<PostgresStore>(WithConnectTimeout(url));
  if (absl::Status st = store->Initialize(); !st.ok()) return st;
  return store;
}

}  // namespace smarketing
