-- A database as the PostgreSQL store's first schema version created it
-- (store/postgres_store.cc, kMigrations[0]), the oldest version the store
-- migrates from: the tables of version 1 and its schema_version row, frozen
-- here as released so that a later edit of the first step cannot hide a
-- database it no longer migrates. tests/store/store_test.cc adds rows and
-- opens it with the current store.
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
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version(version) VALUES (1);
