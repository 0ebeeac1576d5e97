-- ledgerhub 0001: the ledger. Caracal's audit_events columns and indexes, range-partitioned by day on
-- occurred_at, plus ledgerhub's commit-ordered ledger_seq, a global event-id registry, chain heads,
-- the commit log, ingest alerts, and least-privilege roles.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledgerhub_ingest') THEN
    CREATE ROLE ledgerhub_ingest NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledgerhub_reader') THEN
    CREATE ROLE ledgerhub_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledgerhub_forwarder') THEN
    CREATE ROLE ledgerhub_forwarder NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledgerhub_maintainer') THEN
    CREATE ROLE ledgerhub_maintainer NOLOGIN;
  END IF;
END $$;

CREATE TABLE audit_events (
  id                        text        NOT NULL,
  zone_id                   text        NOT NULL,
  event_type                text        NOT NULL,
  request_id                text,
  decision                  text,
  policy_set_id             text,
  policy_set_version_id     text,
  manifest_sha              text,
  evaluation_status         text,
  determining_policies_json jsonb,
  diagnostics_json          jsonb,
  metadata_json             jsonb,
  occurred_at               timestamptz NOT NULL,
  ingested_at               timestamptz NOT NULL DEFAULT now(),
  content_sha256            text,
  prev_content_sha256       text,
  chain_hmac                text,
  chain_seq                 bigint,
  ingest_signature          text,
  -- ledgerhub: position in commit order, gapless across the whole ledger (downstream cursors use it)
  ledger_seq                bigint      NOT NULL,
  PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

CREATE INDEX audit_events_request_id_idx ON audit_events (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX audit_events_zone_chain_idx ON audit_events (zone_id, chain_seq DESC);
CREATE INDEX audit_events_zone_time_idx ON audit_events (zone_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_agent_session_idx ON audit_events ((metadata_json->>'agent_session_id'))
  WHERE metadata_json ? 'agent_session_id';
CREATE INDEX audit_events_session_idx ON audit_events ((metadata_json->>'session_id'))
  WHERE metadata_json ? 'session_id';
CREATE INDEX audit_events_labels_idx ON audit_events USING gin ((metadata_json->'agent_labels'));
-- ledger_seq grows with insertion order inside every partition, so a BRIN index finds a commit's rows
-- for a fraction of a btree's cost on the ingest path
CREATE INDEX audit_events_ledger_seq_brin ON audit_events USING brin (ledger_seq) WITH (pages_per_range = 16);
CREATE INDEX audit_events_ingested_brin ON audit_events USING brin (ingested_at);

-- Every event id ever stored, whatever its occurred_at: the primary key above cannot make ids unique
-- on its own, because a partitioned table's unique keys must include the partition key.
CREATE TABLE audit_event_ids (
  id             text        PRIMARY KEY,
  occurred_at    timestamptz NOT NULL,
  zone_id        text        NOT NULL,
  content_sha256 text        NOT NULL,
  ledger_seq     bigint      NOT NULL
);
CREATE INDEX audit_event_ids_occurred_brin ON audit_event_ids USING brin (occurred_at);

-- The head of each zone's chain, so a batch reads its zones' heads without scanning partitions.
CREATE TABLE audit_chain_heads (
  zone_id        text        PRIMARY KEY,
  chain_seq      bigint      NOT NULL,
  content_sha256 text        NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The ledger's head: the last ledger_seq handed out. Written only under the commit lock.
CREATE TABLE audit_ledger_state (
  singleton       boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  last_ledger_seq bigint      NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_ledger_state DEFAULT VALUES;

-- One row per committed batch, in commit order: the forwarder's and export's map of the ledger.
CREATE TABLE audit_commits (
  first_seq       bigint      PRIMARY KEY,
  last_seq        bigint      NOT NULL,
  event_count     integer     NOT NULL,
  min_occurred_at timestamptz NOT NULL,
  max_occurred_at timestamptz NOT NULL,
  committed_at    timestamptz NOT NULL DEFAULT now(),
  consumer        text        NOT NULL
);
CREATE INDEX audit_commits_committed_idx ON audit_commits (committed_at);

CREATE TABLE audit_ingest_alerts (
  id          bigserial   PRIMARY KEY,
  event_id    text        NOT NULL,
  zone_id     text        NOT NULL,
  kind        text        NOT NULL,
  detail      text,
  observed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_ingest_alerts_zone_idx ON audit_ingest_alerts (zone_id, observed_at DESC);

-- Daily partitions [day, day+1) in UTC. Rows already caught by the default partition for that day are
-- moved into the new partition, so creating a partition late never fails and never loses a row.
CREATE FUNCTION ledgerhub_ensure_partition(day date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  part text := 'audit_events_p' || to_char(day, 'YYYYMMDD');
  lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  LOCK TABLE audit_events_default IN SHARE ROW EXCLUSIVE MODE;
  IF EXISTS (SELECT 1 FROM audit_events_default WHERE occurred_at >= lo AND occurred_at < hi) THEN
    EXECUTE format('CREATE TABLE %I (LIKE audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    EXECUTE format(
      'WITH moved AS (DELETE FROM audit_events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
       INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
    EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  ELSE
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  END IF;
  RETURN true;
END $$;

-- Partitions for every day in [first_day, first_day + days). Returns how many were created.
CREATE FUNCTION ledgerhub_ensure_partitions(first_day date, days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  created integer := 0;
  i integer;
BEGIN
  IF days < 0 OR days > 3700 THEN
    RAISE EXCEPTION 'days must be between 0 and 3700, got %', days;
  END IF;
  -- two workers starting at once must not race on CREATE TABLE
  PERFORM pg_advisory_xact_lock(hashtext('ledgerhub_ensure_partitions'));
  FOR i IN 0 .. days - 1 LOOP
    IF ledgerhub_ensure_partition(first_day + i) THEN
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;

REVOKE ALL ON FUNCTION ledgerhub_ensure_partition(date) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_ensure_partitions(date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledgerhub_ensure_partitions(date, integer) TO ledgerhub_ingest, ledgerhub_maintainer;

-- Ingest: append rows, never change or remove them.
GRANT SELECT, INSERT ON audit_events, audit_event_ids TO ledgerhub_ingest;
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads, audit_ledger_state TO ledgerhub_ingest;
GRANT SELECT, INSERT ON audit_commits, audit_ingest_alerts TO ledgerhub_ingest;
GRANT USAGE ON SEQUENCE audit_ingest_alerts_id_seq TO ledgerhub_ingest;

-- Read: the API and the console.
GRANT SELECT ON audit_events, audit_event_ids, audit_chain_heads, audit_ledger_state, audit_commits,
  audit_ingest_alerts TO ledgerhub_reader;

-- Forwarder reads the ledger (its own tables come with the forwarder migration).
GRANT SELECT ON audit_events, audit_commits, audit_ledger_state TO ledgerhub_forwarder;

-- Maintenance jobs (retention, export, verify) read everything.
GRANT SELECT ON audit_events, audit_event_ids, audit_chain_heads, audit_ledger_state, audit_commits,
  audit_ingest_alerts TO ledgerhub_maintainer;
