// Ledger events for unit tests: realistic events as the forwarder reads them back from audit_events.
import type { LedgerEvent } from '../../../forwarder/ledger-event.ts';
import { isoFromMicros } from '../../../ledger/chain.ts';
import type { AuditEventInput } from '../../../ledger/event.ts';
import { prepareEvent } from '../../../ledger/prepare-event.ts';
import { realisticEvents } from '../../../ledger/scenarios.ts';

export function ledgerEvent(input: AuditEventInput, seq: number): LedgerEvent {
  const p = prepareEvent(JSON.stringify(input), null);
  if (!p.ok) throw new Error(p.error);
  const e = p.event;
  return {
    ledger_seq: seq,
    id: e.id,
    zone_id: e.zone_id,
    event_type: e.event_type,
    request_id: e.request_id,
    decision: e.decision,
    policy_set_id: e.policy_set_id,
    policy_set_version_id: e.policy_set_version_id,
    manifest_sha: e.manifest_sha,
    evaluation_status: e.evaluation_status,
    determining_policies_json:
      e.determining_policies_json === null ? null : JSON.parse(e.determining_policies_json),
    diagnostics_json: e.diagnostics_json === null ? null : JSON.parse(e.diagnostics_json),
    metadata_json: e.metadata_json === null ? null : JSON.parse(e.metadata_json),
    occurred_at_us: e.occurred_at_us,
    ingested_at_us: e.occurred_at_us + 5000,
    occurred_at: isoFromMicros(e.occurred_at_us),
    ingested_at: isoFromMicros(e.occurred_at_us + 5000),
    content_sha256: e.content_sha256,
    prev_content_sha256: null,
    chain_hmac: '',
    chain_seq: seq,
    ingest_signature: null,
  };
}

export function ledgerEvents(n: number, seed = 1): LedgerEvent[] {
  return realisticEvents(n, { seed }).map((e, i) => ledgerEvent(e, i + 1));
}
