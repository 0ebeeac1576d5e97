// The `caracal` format: the event as the ledger stores it (Caracal's audit contract plus the chain and
// ledger columns), timestamps as RFC 3339 with microseconds.
import type { LedgerEvent } from '../ledger-event.ts';

export function caracalEvent(e: LedgerEvent): Record<string, unknown> {
  return {
    id: e.id,
    zone_id: e.zone_id,
    event_type: e.event_type,
    request_id: e.request_id,
    decision: e.decision,
    policy_set_id: e.policy_set_id,
    policy_set_version_id: e.policy_set_version_id,
    manifest_sha: e.manifest_sha,
    evaluation_status: e.evaluation_status,
    determining_policies_json: e.determining_policies_json,
    diagnostics_json: e.diagnostics_json,
    metadata_json: e.metadata_json,
    occurred_at: e.occurred_at,
    ingested_at: e.ingested_at,
    content_sha256: e.content_sha256,
    prev_content_sha256: e.prev_content_sha256,
    chain_hmac: e.chain_hmac,
    chain_seq: e.chain_seq,
    ingest_signature: e.ingest_signature,
    ledger_seq: e.ledger_seq,
  };
}
