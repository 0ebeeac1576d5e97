// One committed event as the forwarder reads it from audit_events: every stored column, JSON columns
// parsed, timestamps as epoch microseconds. The formats and sinks work on this shape only.

export interface LedgerEvent {
  ledger_seq: number;
  id: string;
  zone_id: string;
  event_type: string;
  request_id: string | null;
  decision: string | null;
  policy_set_id: string | null;
  policy_set_version_id: string | null;
  manifest_sha: string | null;
  evaluation_status: string | null;
  determining_policies_json: unknown;
  diagnostics_json: unknown;
  metadata_json: unknown;
  occurred_at_us: number;
  ingested_at_us: number;
  /** RFC 3339 in UTC with microseconds, as Postgres renders it (formats need it for every event). */
  occurred_at: string;
  ingested_at: string;
  content_sha256: string;
  prev_content_sha256: string | null;
  chain_hmac: string | null;
  chain_seq: number;
  ingest_signature: string | null;
}

/** The SELECT list producing a LedgerEvent (microsecond epochs computed by Postgres, exactly). */
export const LEDGER_EVENT_COLUMNS = `ledger_seq, id, zone_id, event_type, request_id, decision, policy_set_id,
  policy_set_version_id, manifest_sha, evaluation_status, determining_policies_json, diagnostics_json,
  metadata_json, (extract(epoch FROM occurred_at) * 1000000)::bigint AS occurred_at_us,
  (extract(epoch FROM ingested_at) * 1000000)::bigint AS ingested_at_us,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  to_char(ingested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ingested_at, content_sha256,
  prev_content_sha256, chain_hmac, chain_seq, ingest_signature`;
