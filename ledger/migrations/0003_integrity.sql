-- ledgerhub 0003: integrity. Caracal's retention setting and export watermark, signed tombstones and
-- checkpoints, the registry of exported objects, and SECURITY DEFINER functions through which the
-- maintenance role drops whole daily partitions (names checked, tombstone first) and prunes the id
-- registry of dropped days: no role gains UPDATE or DELETE on audit rows.

-- Caracal's console override (services/audit migration): one row, retention in days.
CREATE TABLE audit_retention (
  singleton      boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  retention_days integer     NOT NULL CHECK (retention_days >= 1),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  updated_by     text
);

-- Every change of the setting, append-only: who shortened retention, from what, when.
CREATE TABLE audit_retention_changes (
  id             bigserial   PRIMARY KEY,
  retention_days integer     NOT NULL,
  previous_days  integer,
  max_days       integer,
  updated_by     text,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One signed tombstone per dropped partition: per zone the chain_seq runs removed and their boundary
-- hashes, so the verifier tells deletion by policy from deletion by anyone else. `document` is the
-- signed JSON exactly as signed; the other columns are for queries. ids_pruned_at is bookkeeping of
-- the id-registry prune, set only by ledgerhub_prune_event_ids.
CREATE TABLE audit_tombstones (
  id              bigserial   PRIMARY KEY,
  partition_name  text        NOT NULL UNIQUE CHECK (partition_name ~ '^audit_events_p[0-9]{8}$'),
  day             date        NOT NULL,
  event_count     bigint      NOT NULL CHECK (event_count >= 0),
  dropped_at      timestamptz NOT NULL DEFAULT now(),
  key_fingerprint text        NOT NULL,
  document        text        NOT NULL,
  ids_pruned_at   timestamptz
);

-- Signed checkpoints of the zone heads that changed since the previous one, chained by signature.
CREATE TABLE audit_checkpoints (
  checkpoint_no   bigint      PRIMARY KEY CHECK (checkpoint_no >= 1),
  created_at      timestamptz NOT NULL DEFAULT now(),
  ledger_seq      bigint      NOT NULL,
  zone_count      integer     NOT NULL,
  key_fingerprint text        NOT NULL,
  document        text        NOT NULL
);
CREATE INDEX audit_checkpoints_created_idx ON audit_checkpoints (created_at);

-- The last checkpointed head of each zone (what the next checkpoint compares against).
CREATE TABLE audit_checkpoint_heads (
  zone_id        text   PRIMARY KEY,
  chain_seq      bigint NOT NULL,
  content_sha256 text   NOT NULL,
  checkpoint_no  bigint NOT NULL
);

-- Caracal's export watermark, one row per destination, plus the commit-order position reached and the
-- plan of the hours being written (persisted before any object is written, so a re-run writes the
-- very same objects), and the evidence (checkpoints, tombstones) exported so far.
CREATE TABLE audit_export_watermark (
  name               text        PRIMARY KEY,
  last_exported_hour timestamptz NOT NULL,
  last_ledger_seq    bigint      NOT NULL DEFAULT 0,
  pending_plan       jsonb,
  pending_planned_at timestamptz,
  last_checkpoint_no bigint      NOT NULL DEFAULT 0,
  last_tombstone_id  bigint      NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Every object written, with its signed manifest.
CREATE TABLE audit_export_objects (
  destination      text        NOT NULL,
  object_key       text        NOT NULL,
  format           text        NOT NULL,
  hour             timestamptz NOT NULL,
  first_ledger_seq bigint      NOT NULL,
  last_ledger_seq  bigint      NOT NULL,
  event_count      integer     NOT NULL,
  object_sha256    text        NOT NULL,
  object_bytes     bigint      NOT NULL,
  manifest         text        NOT NULL,
  written_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (destination, object_key)
);
CREATE INDEX audit_export_objects_hour_idx ON audit_export_objects (destination, hour);

-- The day of a daily partition name; refuses any other name.
CREATE FUNCTION ledgerhub_partition_day(part text) RETURNS date
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  d date;
BEGIN
  IF part IS NULL OR part !~ '^audit_events_p[0-9]{8}$' THEN
    RAISE EXCEPTION 'not a daily audit partition name: %', coalesce(quote_literal(part), 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  d := to_date(substr(part, 15), 'YYYYMMDD');
  IF to_char(d, 'YYYYMMDD') <> substr(part, 15) THEN
    RAISE EXCEPTION 'not a calendar day: %', part USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN d;
END $$;

-- Drops daily partitions of audit_events in one statement. Each name must match the pattern and be an
-- attached partition, its whole day must lie outside the retention window given, and its tombstone
-- must already be recorded (in the same transaction, normally). Returns how many were dropped.
CREATE FUNCTION ledgerhub_drop_partitions(parts text[], retention_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  part text;
  d date;
  names text[] := '{}';
BEGIN
  IF retention_days IS NULL OR retention_days < 1 THEN
    RAISE EXCEPTION 'retention_days must be at least 1' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF parts IS NULL OR cardinality(parts) = 0 OR cardinality(parts) > 100 THEN
    RAISE EXCEPTION 'between 1 and 100 partitions at a time' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOREACH part IN ARRAY parts LOOP
    d := ledgerhub_partition_day(part);
    IF NOT EXISTS (
      SELECT 1 FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.inhparent = 'public.audit_events'::regclass AND c.relname = part AND n.nspname = 'public'
    ) THEN
      RAISE EXCEPTION '% is not a partition of audit_events', part USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF d + retention_days + 1 > (now() AT TIME ZONE 'UTC')::date THEN
      RAISE EXCEPTION 'partition % is inside the retention window of % day(s)', part, retention_days
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit_tombstones WHERE partition_name = part) THEN
      RAISE EXCEPTION 'partition % has no tombstone: record the signed tombstone first', part
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    names := names || format('public.%I', part);
  END LOOP;
  EXECUTE 'DROP TABLE ' || array_to_string(names, ', ');
  RETURN cardinality(names);
END $$;

-- One partition; returns its tombstone id.
CREATE FUNCTION ledgerhub_drop_partition(part text, retention_days integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM ledgerhub_drop_partitions(ARRAY[part], retention_days);
  RETURN (SELECT id FROM audit_tombstones WHERE partition_name = part);
END $$;

-- Removes up to max_rows id-registry rows of a dropped, tombstoned day (ids whose event still exists,
-- e.g. a late event in the default partition, are kept). Returns how many went; 0 marks the day done.
CREATE FUNCTION ledgerhub_prune_event_ids(part text, max_rows integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  d date := ledgerhub_partition_day(part);
  lo timestamptz := d::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (d + 1)::timestamp AT TIME ZONE 'UTC';
  n integer;
BEGIN
  IF max_rows IS NULL OR max_rows < 1 OR max_rows > 1000000 THEN
    RAISE EXCEPTION 'max_rows must be between 1 and 1000000' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_regclass('public.' || part) IS NOT NULL THEN
    RAISE EXCEPTION 'partition % still exists', part USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM audit_tombstones WHERE partition_name = part) THEN
    RAISE EXCEPTION 'partition % has no tombstone', part USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  DELETE FROM audit_event_ids WHERE ctid = ANY (ARRAY(
    SELECT r.ctid FROM audit_event_ids r
    WHERE r.occurred_at >= lo AND r.occurred_at < hi
      AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.id = r.id AND e.occurred_at = r.occurred_at)
    LIMIT max_rows));
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN
    UPDATE audit_tombstones SET ids_pruned_at = now() WHERE partition_name = part AND ids_pruned_at IS NULL;
  END IF;
  RETURN n;
END $$;

-- Sets the retention override (Caracal's PUT /v1/audit-retention): at least 1 day and, when max_days
-- is given, not above it. Usable by a role that may otherwise only SELECT.
CREATE FUNCTION ledgerhub_set_retention(days integer, updated_by text, max_days integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  previous integer;
BEGIN
  IF days IS NULL OR days < 1 THEN
    RAISE EXCEPTION 'retention_days must be at least 1' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_days IS NOT NULL AND days > max_days THEN
    RAISE EXCEPTION 'retention_above_limit: % exceeds %', days, max_days USING ERRCODE = 'check_violation';
  END IF;
  SELECT r.retention_days INTO previous FROM audit_retention r WHERE r.singleton FOR UPDATE;
  INSERT INTO audit_retention_changes (retention_days, previous_days, max_days, updated_by)
    VALUES (days, previous, max_days, updated_by);
  INSERT INTO audit_retention AS r (singleton, retention_days, updated_at, updated_by)
    VALUES (true, days, now(), updated_by)
    ON CONFLICT (singleton) DO UPDATE
      SET retention_days = EXCLUDED.retention_days, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by;
END $$;

REVOKE ALL ON FUNCTION ledgerhub_drop_partition(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_drop_partitions(text[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_prune_event_ids(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_set_retention(integer, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledgerhub_drop_partition(text, integer) TO ledgerhub_maintainer;
GRANT EXECUTE ON FUNCTION ledgerhub_drop_partitions(text[], integer) TO ledgerhub_maintainer;
GRANT EXECUTE ON FUNCTION ledgerhub_prune_event_ids(text, integer) TO ledgerhub_maintainer;
GRANT EXECUTE ON FUNCTION ledgerhub_set_retention(integer, text, integer) TO ledgerhub_reader, ledgerhub_maintainer;

-- Maintenance (retention, export, sweep) appends evidence and moves its own cursors.
GRANT SELECT ON audit_retention, audit_retention_changes TO ledgerhub_maintainer;
GRANT SELECT, INSERT ON audit_tombstones, audit_checkpoints, audit_export_objects TO ledgerhub_maintainer;
GRANT SELECT, INSERT, UPDATE ON audit_checkpoint_heads, audit_export_watermark TO ledgerhub_maintainer;
GRANT USAGE ON SEQUENCE audit_tombstones_id_seq TO ledgerhub_maintainer;

-- The API and console read settings and evidence.
GRANT SELECT ON audit_retention, audit_retention_changes, audit_tombstones, audit_checkpoints,
  audit_export_watermark, audit_export_objects TO ledgerhub_reader;
