// The `ocsf` format: OCSF Authorization Activity (class 6003), the same columns and values as the
// Parquet export (ledger/parquet-ocsf.ts, which follows Caracal's), as one JSON object per event.
import type { ExportRow } from '../../ledger/integrity-row-stream.ts';
import { OCSF_COLUMNS } from '../../ledger/parquet-ocsf.ts';
import type { LedgerEvent } from '../ledger-event.ts';

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export function ocsfEvent(e: LedgerEvent): Record<string, unknown> {
  const row: ExportRow = {
    id: e.id,
    zone_id: e.zone_id,
    event_type: e.event_type,
    request_id: e.request_id,
    decision: e.decision,
    policy_set_id: e.policy_set_id,
    policy_set_version_id: e.policy_set_version_id,
    manifest_sha: e.manifest_sha,
    evaluation_status: e.evaluation_status,
    determining_policies_json: json(e.determining_policies_json),
    diagnostics_json: json(e.diagnostics_json),
    metadata_json: json(e.metadata_json),
    occurred_at_us: e.occurred_at_us,
    content_sha256: e.content_sha256,
    prev_content_sha256: e.prev_content_sha256,
    chain_hmac: e.chain_hmac,
    chain_seq: e.chain_seq,
    occurred_at_text: e.occurred_at,
    ingested_at_text: e.ingested_at,
    ingest_signature: e.ingest_signature,
    ledger_seq: e.ledger_seq,
  };
  const out: Record<string, unknown> = {};
  for (const column of OCSF_COLUMNS) {
    out[column.name] = column.get(row);
  }
  return out;
}
