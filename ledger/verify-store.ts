// Verifies stored chains: walks each zone's rows in chain_seq order (a range, a time window or all of
// it), feeds them to the ChainVerifier and checks the tail against the zone's recorded head.

import type pg from 'pg';
import { type ChainFault, ChainVerifier, type StoredChainRow } from './chain-verifier.ts';
import type { HmacKey } from './stream-codec.ts';

export interface VerifyOptions {
  key: HmacKey | null;
  zone?: string;
  fromSeq?: number;
  toSeq?: number;
  /** occurred_at window; verification covers the contiguous chain range spanning it. */
  since?: string;
  until?: string;
  pageSize?: number;
  /** Stop collecting after this many faults (verification still reports ok=false). */
  maxFaults?: number;
  onProgress?: (checked: number, zone: string) => void;
}

export interface ZoneReport {
  zone_id: string;
  from_seq: number;
  to_seq: number;
  checked: number;
  /** The first fault in chain order, if any. */
  first_fault: ChainFault | null;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  zones: ZoneReport[];
  faults: ChainFault[];
  truncated: boolean;
  duration_ms: number;
}

export const CHAIN_ROW_COLUMNS = `id, zone_id, event_type, request_id, decision, policy_set_id, policy_set_version_id,
  manifest_sha, evaluation_status, determining_policies_json::text AS determining_policies_json,
  diagnostics_json::text AS diagnostics_json, metadata_json::text AS metadata_json,
  (extract(epoch FROM occurred_at) * 1000000)::bigint AS occurred_at_us,
  content_sha256, prev_content_sha256, chain_hmac, chain_seq`;

interface Head {
  zone_id: string;
  chain_seq: number;
  content_sha256: string;
}

async function zoneHeads(pool: pg.Pool, zone?: string): Promise<Head[]> {
  const { rows } = await pool.query<Head>(
    `SELECT zone_id, chain_seq, content_sha256 FROM audit_chain_heads
     WHERE $1::text IS NULL OR zone_id = $1 ORDER BY zone_id`,
    [zone ?? null],
  );
  if (zone !== undefined && rows.length === 0) return [{ zone_id: zone, chain_seq: 0, content_sha256: '' }];
  return rows;
}

async function seqWindow(
  pool: pg.Pool,
  zone: string,
  since: string | undefined,
  until: string | undefined,
): Promise<[number, number] | null> {
  const { rows } = await pool.query<{ lo: number | null; hi: number | null }>(
    `SELECT min(chain_seq) AS lo, max(chain_seq) AS hi FROM audit_events
     WHERE zone_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at < $3)`,
    [zone, since ?? null, until ?? null],
  );
  const r = rows[0];
  return r && r.lo !== null && r.hi !== null ? [r.lo, r.hi] : null;
}

export async function verifyLedger(pool: pg.Pool, opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const pageSize = opts.pageSize ?? 5000;
  const maxFaults = opts.maxFaults ?? 1000;
  const verifier = new ChainVerifier(opts.key);
  const faults: ChainFault[] = [];
  const zones: ZoneReport[] = [];
  let truncated = false;

  for (const head of await zoneHeads(pool, opts.zone)) {
    let from = opts.fromSeq ?? 1;
    let to = opts.toSeq ?? head.chain_seq;
    if (opts.since !== undefined || opts.until !== undefined) {
      const window = await seqWindow(pool, head.zone_id, opts.since, opts.until);
      if (!window) {
        zones.push({ zone_id: head.zone_id, from_seq: 0, to_seq: 0, checked: 0, first_fault: null });
        continue;
      }
      [from, to] = window;
    }
    const toHead = opts.toSeq === undefined && opts.until === undefined;
    if (toHead) to = Math.max(to, head.chain_seq);
    if (from > 1) {
      const before = await pool.query<{ content_sha256: string }>(
        'SELECT content_sha256 FROM audit_events WHERE zone_id = $1 AND chain_seq = $2',
        [head.zone_id, from - 1],
      );
      if (before.rows[0]) verifier.startAfter(head.zone_id, from - 1, before.rows[0].content_sha256);
    } else {
      verifier.startAfter(head.zone_id, 0, '');
    }
    const zoneFaults: ChainFault[] = [];
    let checked = 0;
    let last = from - 1;
    for (;;) {
      const { rows } = await pool.query<StoredChainRow>(
        `SELECT ${CHAIN_ROW_COLUMNS} FROM audit_events
         WHERE zone_id = $1 AND chain_seq > $2 AND chain_seq <= $3 ORDER BY chain_seq LIMIT $4`,
        [head.zone_id, last, to, pageSize],
      );
      for (const row of rows) {
        zoneFaults.push(...verifier.check(row));
        last = row.chain_seq;
      }
      checked += rows.length;
      opts.onProgress?.(verifier.checked, head.zone_id);
      if (rows.length < pageSize) break;
    }
    if (toHead)
      zoneFaults.push(
        ...verifier.checkTail(head.zone_id, head.chain_seq, head.content_sha256, 'audit_chain_heads'),
      );
    zones.push({
      zone_id: head.zone_id,
      from_seq: from,
      to_seq: to,
      checked,
      first_fault: zoneFaults[0] ?? null,
    });
    for (const f of zoneFaults) {
      if (faults.length >= maxFaults) {
        truncated = true;
        break;
      }
      faults.push(f);
    }
  }
  return {
    ok: faults.length === 0,
    checked: verifier.checked,
    zones,
    faults,
    truncated,
    duration_ms: Math.round(performance.now() - started),
  };
}
