// The chain check of a handful of events (those an explain involves): each row's content hash, its
// link to the row before it in its zone's chain, and its chain HMAC when the key is available.
import type pg from 'pg';
import { type ChainFault, ChainVerifier, type StoredChainRow } from './chain-verifier.ts';
import type { HmacKey } from './stream-codec.ts';

export interface EventsIntegrity {
  /** verified: every check passed; failed: see faults; unsigned: hashes and links passed, HMACs not checked. */
  status: 'verified' | 'failed' | 'hmac_not_checked';
  checked: number;
  hmac_checked: boolean;
  faults: ChainFault[];
}

const ROW = `e.id, e.zone_id, e.event_type, e.request_id, e.decision, e.policy_set_id, e.policy_set_version_id,
  e.manifest_sha, e.evaluation_status, e.determining_policies_json::text AS determining_policies_json,
  e.diagnostics_json::text AS diagnostics_json, e.metadata_json::text AS metadata_json,
  (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS occurred_at_us,
  e.content_sha256, e.prev_content_sha256, e.chain_hmac, e.chain_seq`;

export async function verifyEvents(
  db: pg.Pool | pg.ClientBase,
  eventIds: string[],
  key: HmacKey | null,
): Promise<EventsIntegrity> {
  if (eventIds.length === 0)
    return {
      status: key ? 'verified' : 'hmac_not_checked',
      checked: 0,
      hmac_checked: key !== null,
      faults: [],
    };
  const { rows } = await db.query<StoredChainRow & { before_sha: string | null }>(
    `SELECT ${ROW},
       (SELECT p.content_sha256 FROM audit_events p WHERE p.zone_id = e.zone_id AND p.chain_seq = e.chain_seq - 1) AS before_sha
     FROM audit_event_ids r JOIN audit_events e ON e.id = r.id AND e.occurred_at = r.occurred_at
     WHERE r.id = ANY($1::text[])
     ORDER BY e.zone_id, e.chain_seq`,
    [eventIds],
  );
  const faults: ChainFault[] = [];
  for (const row of rows) {
    const verifier = new ChainVerifier(key);
    // the row before is the link to check; a first row (chain_seq 1) has none
    if (row.chain_seq === 1) verifier.startAfter(row.zone_id, 0, '');
    else if (row.before_sha !== null) verifier.startAfter(row.zone_id, row.chain_seq - 1, row.before_sha);
    else {
      faults.push({
        zone_id: row.zone_id,
        chain_seq: row.chain_seq,
        kind: 'chain_break',
        event_id: row.id,
        detail: `the row before chain_seq ${row.chain_seq} is missing`,
      });
    }
    faults.push(...verifier.check(row));
  }
  const found = new Set(rows.map((r) => r.id));
  for (const id of eventIds) {
    if (!found.has(id)) {
      faults.push({
        zone_id: '',
        chain_seq: 0,
        kind: 'chain_break',
        event_id: id,
        detail: 'registered id has no row',
      });
    }
  }
  return {
    status: faults.length > 0 ? 'failed' : key ? 'verified' : 'hmac_not_checked',
    checked: rows.length,
    hmac_checked: key !== null,
    faults,
  };
}
