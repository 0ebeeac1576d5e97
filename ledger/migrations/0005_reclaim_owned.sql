-- Reclaim drops only retired tables this function's owner owns (the owner of audit_events and of every
-- partition it created): a table of the same name that another role created is left alone instead of
-- failing every run with "must be owner". A concurrent reclaim that dropped a table first is harmless.
CREATE OR REPLACE FUNCTION ledgerhub_reclaim_retired(max_tables integer) RETURNS integer
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
      AND c.relowner = (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
      AND c.relname ~ '^audit_events_p[0-9]{8}$'
      AND EXISTS (SELECT 1 FROM audit_tombstones t WHERE t.partition_name = c.relname)
    ORDER BY c.relname LIMIT max_tables
  LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I', part);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
