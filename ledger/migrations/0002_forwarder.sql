-- ledgerhub 0002: the forwarder's state. One row per sink (durable cursor, counters, health), the batch
-- plan (which doubles as delivery receipts), per-event dead letters, the two actions the API and the
-- CLI may take on a sink (request a replay of dead letters, re-enable a disabled sink), and keeping the
-- ledger_seq BRIN index summarized where the forwarder reads.

-- One row per sink: its cursor over the ledger and its health, read by the API and the operator.
CREATE TABLE forwarder_sinks (
  sink                 text        PRIMARY KEY,
  sink_type            text        NOT NULL,
  format               text        NOT NULL,
  -- false when the running forwarder's sinks file no longer names this sink
  active               boolean     NOT NULL DEFAULT true,
  -- every event with ledger_seq <= delivered_through reached the sink or its dead letters (or did not
  -- match the route); advanced only over a contiguous run of finished batches
  delivered_through    bigint      NOT NULL DEFAULT 0,
  -- batches in forwarder_batches cover (delivered_through, enqueued_through] without gaps
  enqueued_through     bigint      NOT NULL DEFAULT 0,
  delivered_events     bigint      NOT NULL DEFAULT 0,
  delivered_batches    bigint      NOT NULL DEFAULT 0,
  dead_lettered_events bigint      NOT NULL DEFAULT 0,
  replayed_events      bigint      NOT NULL DEFAULT 0,
  last_success_at      timestamptz,
  last_error_at        timestamptz,
  last_error_kind      text,
  last_error_code      text,
  last_error_message   text,
  breaker_state        text        NOT NULL DEFAULT 'closed'
                         CHECK (breaker_state IN ('closed', 'open', 'half_open', 'disabled')),
  disabled_at          timestamptz,
  disabled_reason      text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CHECK (delivered_through >= 0 AND enqueued_through >= delivered_through)
);

-- The batch plan: one row per BullMQ job, in ledger order. A pending row is work in flight (its job id
-- is <sink>-<first_seq>-<last_seq>); a finished row is the receipt of that range.
CREATE TABLE forwarder_batches (
  sink            text        NOT NULL REFERENCES forwarder_sinks (sink) ON DELETE CASCADE,
  first_seq       bigint      NOT NULL,
  last_seq        bigint      NOT NULL,
  -- events in the range that matched the route when the batch was planned
  event_count     integer     NOT NULL,
  -- occurred_at bounds of the range's commits, so fetching it prunes partitions
  min_occurred_at timestamptz,
  max_occurred_at timestamptz,
  state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'empty')),
  delivered_count integer,
  dead_count      integer,
  batch_sha256    text,
  -- what the sink answered: HEC ackIds, HTTP status, ...
  receipt         text,
  attempts        integer     NOT NULL DEFAULT 0,
  enqueued_at     timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  PRIMARY KEY (sink, first_seq),
  CHECK (last_seq >= first_seq)
);
CREATE INDEX forwarder_batches_pending_idx ON forwarder_batches (sink, first_seq) WHERE state = 'pending';
CREATE INDEX forwarder_batches_finished_idx ON forwarder_batches (finished_at) WHERE state <> 'pending';

-- Events a sink refused permanently, with the error, until they are replayed successfully.
CREATE TABLE forwarder_dead_letters (
  sink                text        NOT NULL REFERENCES forwarder_sinks (sink) ON DELETE CASCADE,
  ledger_seq          bigint      NOT NULL,
  event_id            text        NOT NULL,
  occurred_at         timestamptz NOT NULL,
  batch_first_seq     bigint      NOT NULL,
  batch_last_seq      bigint      NOT NULL,
  error_kind          text        NOT NULL,
  error_code          text        NOT NULL,
  error_message       text        NOT NULL,
  attempts            integer     NOT NULL DEFAULT 1,
  dead_at             timestamptz NOT NULL DEFAULT now(),
  -- set by ledgerhub_sink_request_replay; the forwarder then sets replay_job and enqueues it
  replay_requested_at timestamptz,
  replay_job          text,
  replay_count        integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (sink, ledger_seq)
);
CREATE INDEX forwarder_dead_letters_replay_idx ON forwarder_dead_letters (sink, ledger_seq)
  WHERE replay_requested_at IS NOT NULL;

-- Asks the forwarder to deliver up to p_limit of a sink's dead letters again (oldest first). Returns how
-- many were asked for, or NULL when the sink is unknown. The forwarder is woken by NOTIFY.
CREATE FUNCTION ledgerhub_sink_request_replay(p_sink text, p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000000 THEN
    RAISE EXCEPTION 'limit must be between 1 and 1000000, got %', p_limit;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM forwarder_sinks WHERE sink = p_sink) THEN
    RETURN NULL;
  END IF;
  WITH picked AS (
    SELECT ledger_seq FROM forwarder_dead_letters
    WHERE sink = p_sink AND replay_requested_at IS NULL
    ORDER BY ledger_seq LIMIT p_limit FOR UPDATE
  )
  UPDATE forwarder_dead_letters d SET replay_requested_at = now(), replay_job = NULL
  FROM picked WHERE d.sink = p_sink AND d.ledger_seq = picked.ledger_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM pg_notify('ledgerhub_sink_control', p_sink);
  RETURN n;
END $$;

-- Re-enables a sink disabled by a 410 Gone answer. Returns false when the sink is unknown.
CREATE FUNCTION ledgerhub_sink_enable(p_sink text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE forwarder_sinks
     SET disabled_at = NULL, disabled_reason = NULL,
         breaker_state = CASE WHEN breaker_state = 'disabled' THEN 'closed' ELSE breaker_state END,
         updated_at = now()
   WHERE sink = p_sink;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM pg_notify('ledgerhub_sink_control', p_sink);
  RETURN true;
END $$;

-- The forwarder reads the newest events by ledger_seq, through the BRIN index. BRIN page ranges filled
-- since the last VACUUM are not summarized, and an index scan must read every unsummarized range: the
-- hot tail would be read in full on every fetch. This summarizes the ledger_seq BRIN index of the
-- partitions holding [p_from, p_to] (and of the default partition), and analyzes such a partition if
-- it was never analyzed (its plans would ignore the index). Only new page ranges are read, so a call
-- after each burst of commits is cheap. Returns the number of ranges summarized.
CREATE FUNCTION ledgerhub_summarize_ledger_seq(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET timezone = 'UTC' AS $$
DECLARE
  parts regclass[] := ARRAY[]::regclass[];
  part regclass;
  idx regclass;
  d date;
  n integer := 0;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
    RETURN 0;
  END IF;
  IF p_to - p_from > interval '31 days' THEN
    p_from := p_to - interval '31 days';
  END IF;
  part := to_regclass('audit_events_default');
  IF part IS NOT NULL THEN
    parts := parts || part;
  END IF;
  FOR d IN SELECT generate_series(p_from::date, p_to::date, interval '1 day')::date LOOP
    part := to_regclass('audit_events_p' || to_char(d, 'YYYYMMDD'));
    IF part IS NOT NULL THEN
      parts := parts || part;
    END IF;
  END LOOP;
  FOREACH part IN ARRAY parts LOOP
    FOR idx IN
      SELECT i.indexrelid::regclass FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'brin'
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND a.attname = 'ledger_seq'
       WHERE i.indrelid = part
    LOOP
      n := n + brin_summarize_new_values(idx);
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_stat_user_tables s
                    WHERE s.relid = part AND (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL)) THEN
      EXECUTE format('ANALYZE %s', part);
    END IF;
  END LOOP;
  RETURN n;
END $$;

REVOKE ALL ON FUNCTION ledgerhub_sink_request_replay(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_sink_enable(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledgerhub_summarize_ledger_seq(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledgerhub_summarize_ledger_seq(timestamptz, timestamptz) TO ledgerhub_forwarder;

-- The forwarder owns its tables.
GRANT SELECT, INSERT, UPDATE, DELETE ON forwarder_sinks, forwarder_batches, forwarder_dead_letters
  TO ledgerhub_forwarder;

-- The API, the CLI and the operator read sink health, receipts and dead letters; replay and re-enable
-- go through the two functions above (the API allows them to audit:admin tokens only).
GRANT SELECT ON forwarder_sinks, forwarder_batches, forwarder_dead_letters
  TO ledgerhub_reader, ledgerhub_maintainer;
GRANT EXECUTE ON FUNCTION ledgerhub_sink_request_replay(text, integer), ledgerhub_sink_enable(text)
  TO ledgerhub_forwarder, ledgerhub_reader, ledgerhub_maintainer;
