-- Retention in two steps. Retire: under the commit lock and in the transaction that records the signed
-- tombstones, each partition is detached from audit_events; catalog work only, so ingestion pauses for
-- milliseconds and the rows leave the ledger atomically with their evidence. Reclaim: afterwards,
-- without the commit lock, the retired tables (no longer partitions, no role but the owner can read
-- them) are dropped and their files freed, a cost proportional to their size that no longer stalls
-- ingestion. A run interrupted between the two leaves retired tables that the next run reclaims.

-- The checks every removal of a daily partition passes: the name matches the pattern and is an attached
-- partition of audit_events, its whole day lies outside the retention window given, and its signed
-- tombstone is already recorded. Returns the names, schema-qualified and quoted.
CREATE FUNCTION ledgerhub_removable_partitions(parts text[], retention_days integer) RETURNS text[]
LANGUAGE plpgsql SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
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
  RETURN names;
END $$;
REVOKE ALL ON FUNCTION ledgerhub_removable_partitions(text[], integer) FROM PUBLIC;

-- Drops daily partitions in one statement (files freed at commit), after the checks above.
CREATE OR REPLACE FUNCTION ledgerhub_drop_partitions(parts text[], retention_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  names text[] := ledgerhub_removable_partitions(parts, retention_days);
BEGIN
  EXECUTE 'DROP TABLE ' || array_to_string(names, ', ');
  RETURN cardinality(names);
END $$;

-- Retires daily partitions, after the checks above: detached from audit_events (their rows leave the
-- ledger at commit), to be reclaimed later. Returns how many.
CREATE FUNCTION ledgerhub_retire_partitions(parts text[], retention_days integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  names text[] := ledgerhub_removable_partitions(parts, retention_days);
  part text;
BEGIN
  FOREACH part IN ARRAY names LOOP
    EXECUTE format('ALTER TABLE public.audit_events DETACH PARTITION %s', part);
  END LOOP;
  RETURN cardinality(names);
END $$;

-- Drops up to max_tables retired partitions (tables named like a daily partition that are no longer
-- one, whose tombstone is recorded); returns how many.
CREATE FUNCTION ledgerhub_reclaim_retired(max_tables integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  part text;
  n integer := 0;
BEGIN
  IF max_tables IS NULL OR max_tables < 1 OR max_tables > 1000 THEN
    RAISE EXCEPTION 'max_tables must be between 1 and 1000' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR part IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
    WHERE s.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition
      AND c.relname ~ '^audit_events_p[0-9]{8}$'
      AND EXISTS (SELECT 1 FROM audit_tombstones t WHERE t.partition_name = c.relname)
    ORDER BY c.relname LIMIT max_tables
  LOOP
    EXECUTE format('DROP TABLE public.%I', part);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

REVOKE ALL ON FUNCTION ledgerhub_retire_partitions(text[], integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_reclaim_retired(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledgerhub_retire_partitions(text[], integer) TO ledgerhub_maintainer;
GRANT EXECUTE ON FUNCTION ledgerhub_reclaim_retired(integer) TO ledgerhub_maintainer;
