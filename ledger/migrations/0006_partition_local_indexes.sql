-- ledgerhub 0006: audit_events' indexes live on each partition only, no longer on the parent.
-- Why: retention retires partitions with DETACH PARTITION in one transaction under the commit lock, so
-- ingestion waits for it. About half of each DETACH is detaching the partition's 9 index partitions
-- from the parent's 9 partitioned indexes (primary key + 8): 30 DETACHes took 13.3-14.5 ms with parent
-- indexes and 7.0-7.7 ms with the same indexes as local, unattached ones. Queries are unchanged: the
-- planner never uses a partitioned index itself, only each partition's own index, and every partition
-- carries the same set.
-- Trade-off: \d audit_events shows no indexes, and a partition gets its indexes only when it is created
-- by ledgerhub_ensure_partition (or indexed with ledgerhub_index_partition); a table attached by hand
-- would have none. The primary key (id, occurred_at) is enforced per partition, which is where it was
-- enforced before too (a partitioned table's unique key includes the partition key).
-- Conversion of an existing database, without rebuilding an index: DETACH leaves a partition's attached
-- indexes standalone, so every partition is detached, the parent's indexes and primary key dropped,
-- every partition attached again with its bound, and the now local indexes renamed. Attaching checks
-- each partition's rows against its bound, so the migration reads audit_events once, with audit_events
-- locked (ingestion and queries wait) until it commits.

-- Creates on one partition (a daily one or the default) the indexes the parent had, under names derived
-- from the partition's; those already there are kept. Returns how many were created.
-- (client_min_messages: IF NOT EXISTS would otherwise send a notice for every index already there)
CREATE FUNCTION ledgerhub_index_partition(part text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET client_min_messages = warning AS $$
DECLARE
  rel regclass;
  before integer;
  after integer;
BEGIN
  IF part IS NULL OR (part <> 'audit_events_default' AND part !~ '^audit_events_p[0-9]{8}$') THEN
    RAISE EXCEPTION 'not an audit_events partition name (audit_events_default or audit_events_pYYYYMMDD): %',
      coalesce(quote_literal(part), 'NULL') USING ERRCODE = 'invalid_parameter_value';
  ELSIF part <> 'audit_events_default' THEN
    PERFORM ledgerhub_partition_day(part); -- refuses a day that is not on the calendar
  END IF;
  rel := to_regclass(format('public.%I', part));
  IF rel IS NULL OR (SELECT relkind FROM pg_class WHERE oid = rel) <> 'r' THEN
    RAISE EXCEPTION 'no table public.% to index', part USING ERRCODE = 'undefined_table';
  END IF;
  SELECT count(*) INTO before FROM pg_index WHERE indrelid = rel;
  IF NOT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = rel AND indisprimary) THEN
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I PRIMARY KEY (id, occurred_at)', part, part || '_pkey');
  END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I (request_id) WHERE request_id IS NOT NULL',
    part || '_request_id_idx', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I (zone_id, chain_seq DESC)',
    part || '_zone_chain_idx', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I (zone_id, occurred_at DESC, id DESC)',
    part || '_zone_time_idx', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I ((metadata_json->>''agent_session_id''))
    WHERE metadata_json ? ''agent_session_id''', part || '_agent_session_idx', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I ((metadata_json->>''session_id''))
    WHERE metadata_json ? ''session_id''', part || '_session_idx', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I USING gin ((metadata_json->''agent_labels''))',
    part || '_labels_idx', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I USING brin (ledger_seq) WITH (pages_per_range = 16)',
    part || '_ledger_seq_brin', part);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I USING brin (ingested_at)',
    part || '_ingested_brin', part);
  SELECT count(*) INTO after FROM pg_index WHERE indrelid = rel;
  RETURN after - before;
END $$;
REVOKE ALL ON FUNCTION ledgerhub_index_partition(text) FROM PUBLIC;

-- As in 0001, and each new partition is indexed before it becomes visible: in the late-day path after
-- its rows are moved in (one build instead of row-by-row maintenance) and before ATTACH.
CREATE OR REPLACE FUNCTION ledgerhub_ensure_partition(day date) RETURNS boolean
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
    PERFORM ledgerhub_index_partition(part);
    EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  ELSE
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    PERFORM ledgerhub_index_partition(part);
  END IF;
  RETURN true;
END $$;
REVOKE ALL ON FUNCTION ledgerhub_ensure_partition(date) FROM PUBLIC;

-- The conversion described at the top.
DO $$
DECLARE
  parts regclass[];
  names text[];
  bounds text[];
  idxs regclass[];
  targets text[];
  taken regclass;
  i integer;
  r record;
BEGIN
  LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE;
  -- partitions with their bounds, the default last: attached last it is checked once against all the
  -- ranges, where attached first it would be scanned again for every range attached after it
  SELECT array_agg(c.oid::regclass ORDER BY c.relname = 'audit_events_default', c.relname),
         array_agg(c.relname::text ORDER BY c.relname = 'audit_events_default', c.relname),
         array_agg(pg_get_expr(c.relpartbound, c.oid) ORDER BY c.relname = 'audit_events_default', c.relname)
    INTO parts, names, bounds
    FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
   WHERE h.inhparent = 'public.audit_events'::regclass;
  FOR i IN 1 .. coalesce(cardinality(names), 0) LOOP
    IF names[i] <> 'audit_events_default' AND names[i] !~ '^audit_events_p[0-9]{8}$' THEN
      RAISE EXCEPTION 'audit_events has a partition % that ledgerhub did not create; detach or rename it first',
        parts[i];
    END IF;
  END LOOP;
  -- each partition's attached indexes and the name each keeps: the partition's name in place of the
  -- parent's (audit_events_zone_chain_idx -> audit_events_p20260901_zone_chain_idx)
  SELECT coalesce(array_agg(ci.oid::regclass), '{}'),
         coalesce(array_agg(pc.relname || '_' || substr(pi.relname, length('audit_events_') + 1)), '{}')
    INTO idxs, targets
    FROM pg_inherits h
    JOIN pg_class ci ON ci.oid = h.inhrelid
    JOIN pg_class pi ON pi.oid = h.inhparent
    JOIN pg_index x ON x.indexrelid = pi.oid AND x.indrelid = 'public.audit_events'::regclass
    JOIN pg_index cx ON cx.indexrelid = ci.oid
    JOIN pg_class pc ON pc.oid = cx.indrelid;

  FOR i IN 1 .. coalesce(cardinality(parts), 0) LOOP
    EXECUTE format('ALTER TABLE public.audit_events DETACH PARTITION %s', parts[i]);
  END LOOP;
  ALTER TABLE public.audit_events DROP CONSTRAINT IF EXISTS audit_events_pkey;
  FOR r IN
    SELECT x.indexrelid::regclass AS idx FROM pg_index x WHERE x.indrelid = 'public.audit_events'::regclass
  LOOP
    EXECUTE format('DROP INDEX %s', r.idx);
  END LOOP;
  FOR i IN 1 .. coalesce(cardinality(parts), 0) LOOP
    EXECUTE format('ALTER TABLE public.audit_events ATTACH PARTITION %s %s', parts[i], bounds[i]);
  END LOOP;

  FOR i IN 1 .. cardinality(idxs) LOOP
    CONTINUE WHEN (SELECT relname FROM pg_class WHERE oid = idxs[i]) = targets[i];
    taken := to_regclass(format('public.%I', targets[i]));
    IF taken IS NOT NULL THEN
      RAISE EXCEPTION 'cannot rename index % to %: the name is taken by %', idxs[i], targets[i], taken;
    END IF;
    EXECUTE format('ALTER INDEX %s RENAME TO %I', idxs[i], targets[i]);
  END LOOP;
  -- a no-op on partitions that had every parent index; creates whatever is missing otherwise
  FOR i IN 1 .. coalesce(cardinality(names), 0) LOOP
    PERFORM ledgerhub_index_partition(names[i]);
  END LOOP;

  -- every partition has the parent's index set under the expected names, none still attached to a
  -- parent index (an index someone added to a partition by hand is left alone)
  IF EXISTS (SELECT 1 FROM pg_index WHERE indrelid = 'public.audit_events'::regclass) THEN
    RAISE EXCEPTION 'audit_events still has indexes of its own';
  END IF;
  FOR i IN 1 .. coalesce(cardinality(parts), 0) LOOP
    IF EXISTS (
      SELECT 1 FROM unnest(ARRAY['pkey', 'request_id_idx', 'zone_chain_idx', 'zone_time_idx', 'agent_session_idx',
          'session_idx', 'labels_idx', 'ledger_seq_brin', 'ingested_brin']) s
       WHERE NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                          WHERE x.indrelid = parts[i] AND c.relname = names[i] || '_' || s)
    ) OR EXISTS (
      SELECT 1 FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
       WHERE x.indrelid = parts[i] AND c.relispartition
    ) THEN
      RAISE EXCEPTION 'partition % lacks an expected index or still has one attached to a parent', parts[i];
    END IF;
  END LOOP;
END $$;
