// Verifies stored chains: streams each zone's rows in chain_seq order (a range, a time window or all of
// it) with COPY, several zones at once, through the ChainVerifier; checks each tail against the zone's
// recorded head and its signed checkpoints; accepts gaps that signed tombstones explain; and, on a full
// run, finds gaps in producers' own sequence numbers. With `threads`, the zones are shared out between
// worker threads by size, each with its own connection, and their findings merged here.

import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { type ChainFault, ChainVerifier } from './chain-verifier.ts';
import type { DbOptions } from './db.ts';
import {
  type EvidenceRows,
  evidenceFrom,
  type LedgerEvidence,
  loadEvidenceRows,
} from './integrity-evidence.ts';
import {
  CHAIN_COPY_COLUMNS,
  CHAIN_ORDER_SETTINGS,
  chainRowFromFields,
  copyRowsOut,
} from './integrity-row-stream.ts';
import { TrustedKeys } from './integrity-signature.ts';
import {
  type ProducerObservations,
  ProducerSequences,
  producerGapFault,
  producerSequenceOf,
} from './producer-completeness.ts';
import { siblingModule } from './runtime/sibling-module.ts';
import type { HmacKey } from './stream-codec.ts';

export interface VerifyOptions {
  key: HmacKey | null;
  /** Ed25519 public keys trusted for checkpoints and tombstones; none: signatures are not checked. */
  publicKeys?: TrustedKeys;
  zone?: string;
  fromSeq?: number;
  toSeq?: number;
  /** occurred_at window; verification covers the contiguous chain range spanning it. */
  since?: string;
  until?: string;
  /**
   * Only these zones, each from its own chain_seq up to its head (the rolling sweep: the rows ingested
   * in a recent window and everything after them).
   */
  zoneRanges?: Map<string, number>;
  /** Zones verified at once, each on its own connection (default 2). */
  concurrency?: number;
  /**
   * Verify on this many worker threads (zones shared out by size, each thread with its own connection
   * opened from `db`), so hashing uses more than one core; 1 or unset: on this thread.
   */
  threads?: number;
  db?: DbOptions;
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
  /** Rows missing because retention dropped them, each explained by a signed tombstone. */
  tombstoned: number;
  tombstones: number;
  checkpoints: number;
  /** Checkpoint claims compared with a row or a tombstone. */
  checkpoint_claims_checked: number;
  /** False when no public key was given: tombstone and checkpoint signatures were not checked. */
  signatures_checked: boolean;
  /** Producers whose producer_seq was checked for gaps (full runs only). */
  producers: number;
}

export interface Head {
  zone_id: string;
  chain_seq: number;
  content_sha256: string;
}

/** What verifying some of the zones found (one thread's share, or all of them). */
export interface ZoneShare {
  results: [string, { report: ZoneReport; faults: ChainFault[] }][];
  checked: number;
  tombstoned: number;
  claimsChecked: number;
  /** What a thread's collector observed (null when observed straight into the caller's collector). */
  producers: ProducerObservations | null;
}

const PROGRESS_EVERY = 20_000;

async function zoneHeads(pool: pg.Pool, zone: string | undefined, alsoZones: string[]): Promise<Head[]> {
  const { rows } = await pool.query<Head>(
    `SELECT zone_id, chain_seq, content_sha256 FROM audit_chain_heads
     WHERE $1::text IS NULL OR zone_id = $1 ORDER BY zone_id`,
    [zone ?? null],
  );
  // zones only evidence knows of (a zone whose rows and head were all deleted) are verified too
  const known = new Set(rows.map((r) => r.zone_id));
  for (const z of alsoZones) {
    if ((zone === undefined || z === zone) && !known.has(z)) {
      rows.push({ zone_id: z, chain_seq: 0, content_sha256: '' });
      known.add(z);
    }
  }
  if (zone !== undefined && rows.length === 0) return [{ zone_id: zone, chain_seq: 0, content_sha256: '' }];
  return rows.sort((a, b) => (a.zone_id < b.zone_id ? -1 : a.zone_id > b.zone_id ? 1 : 0));
}

async function seqWindow(
  db: pg.ClientBase,
  zone: string,
  since: string | undefined,
  until: string | undefined,
): Promise<[number, number] | null> {
  const { rows } = await db.query<{ lo: number | null; hi: number | null }>(
    `SELECT min(chain_seq) AS lo, max(chain_seq) AS hi FROM audit_events
     WHERE zone_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at < $3)`,
    [zone, since ?? null, until ?? null],
  );
  const r = rows[0];
  return r && r.lo !== null && r.hi !== null ? [r.lo, r.hi] : null;
}

export async function verifyLedger(pool: pg.Pool, opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const keys = opts.publicKeys ?? new TrustedKeys();
  const evidenceRows = await loadEvidenceRows(pool);
  const evidence = evidenceFrom(evidenceRows, keys);
  const full = isFull(opts);
  let heads = await zoneHeads(pool, opts.zone, [...evidence.claims.zones(), ...evidence.tombstones.zones()]);
  if (opts.zoneRanges !== undefined) heads = heads.filter((h) => opts.zoneRanges!.has(h.zone_id));
  const threads = Math.min(opts.threads ?? 1, heads.length);
  const producers = full ? new ProducerSequences() : null;
  const shares =
    threads > 1 && opts.db !== undefined
      ? await verifyOnThreads(opts, opts.db, heads, threads, evidenceRows)
      : [await verifyZones(pool, opts, evidence, heads, producers)];
  const results = new Map<string, { report: ZoneReport; faults: ChainFault[] }>();
  for (const share of shares) {
    for (const [zone, r] of share.results) results.set(zone, r);
    if (producers !== null && share.producers !== null) producers.absorb(share.producers);
  }
  opts.onProgress?.(sum(shares, 'checked'), heads.at(-1)?.zone_id ?? '');

  const maxFaults = opts.maxFaults ?? 1000;
  const faults: ChainFault[] = [];
  let truncated = false;
  const collect = (list: ChainFault[]) => {
    for (const f of list) {
      if (faults.length >= maxFaults) {
        truncated = true;
        return;
      }
      faults.push(f);
    }
  };
  collect(evidence.faults);
  const zones: ZoneReport[] = [];
  for (const head of heads) {
    const r = results.get(head.zone_id);
    if (!r) continue;
    zones.push(r.report);
    collect(r.faults);
  }
  if (producers !== null) collect(producers.gaps(evidence.tombstones).map(producerGapFault));

  return {
    ok: faults.length === 0,
    checked: sum(shares, 'checked'),
    zones,
    faults,
    truncated,
    duration_ms: Math.round(performance.now() - started),
    tombstoned: sum(shares, 'tombstoned'),
    tombstones: evidence.tombstones.count,
    checkpoints: evidence.claims.count,
    checkpoint_claims_checked: sum(shares, 'claimsChecked'),
    signatures_checked: evidence.signaturesChecked,
    producers: producers?.producerCount ?? 0,
  };
}

const sum = (shares: ZoneShare[], k: 'checked' | 'tombstoned' | 'claimsChecked') =>
  shares.reduce((n, s) => n + s[k], 0);

function isFull(opts: VerifyOptions): boolean {
  const windowed =
    opts.fromSeq !== undefined ||
    opts.toSeq !== undefined ||
    opts.since !== undefined ||
    opts.until !== undefined ||
    opts.zoneRanges !== undefined;
  return opts.zone === undefined && !windowed;
}

/**
 * Verifies the given zones, `concurrency` at a time, each on a connection of the pool. Producer
 * numbering goes into `producers` (null: not collected).
 */
export async function verifyZones(
  pool: pg.Pool,
  opts: VerifyOptions,
  evidence: LedgerEvidence,
  heads: Head[],
  producers: ProducerSequences | null,
): Promise<ZoneShare> {
  const verifier = new ChainVerifier(opts.key);
  verifier.useTombstones(evidence.tombstones);
  const results = new Map<string, { report: ZoneReport; faults: ChainFault[] }>();
  let sinceProgress = 0;
  const verifyZone = async (client: pg.PoolClient, head: Head) => {
    const zone = head.zone_id;
    let from = opts.zoneRanges?.get(zone) ?? opts.fromSeq ?? 1;
    let to = opts.toSeq ?? head.chain_seq;
    if (opts.since !== undefined || opts.until !== undefined) {
      const window = await seqWindow(client, zone, opts.since, opts.until);
      if (!window) {
        results.set(zone, {
          report: { zone_id: zone, from_seq: 0, to_seq: 0, checked: 0, first_fault: null },
          faults: [],
        });
        return;
      }
      [from, to] = window;
    }
    const toHead = opts.toSeq === undefined && opts.until === undefined;
    const highestClaim = evidence.claims.highest(zone);
    if (toHead) to = Math.max(to, head.chain_seq, highestClaim?.seq ?? 0);
    const claims = new Map([...evidence.claims.forZone(zone)].filter(([seq]) => seq >= from && seq <= to));
    verifier.expectClaims(zone, claims);
    if (from > 1) {
      const before = await client.query<{ content_sha256: string }>(
        'SELECT content_sha256 FROM audit_events WHERE zone_id = $1 AND chain_seq = $2',
        [zone, from - 1],
      );
      if (before.rows[0]) verifier.startAfter(zone, from - 1, before.rows[0].content_sha256);
    } else {
      verifier.startAfter(zone, 0, '');
    }
    const zoneFaults: ChainFault[] = [];
    const lit = (v: string | number) => client.escapeLiteral(String(v));
    const checked = await copyRowsOut(
      client,
      `SELECT ${CHAIN_COPY_COLUMNS} FROM audit_events
       WHERE zone_id = ${lit(zone)} AND chain_seq >= ${lit(from)} AND chain_seq <= ${lit(to)} ORDER BY chain_seq`,
      (fields) => {
        const row = chainRowFromFields(fields);
        const found = verifier.check(row);
        if (found.length > 0) zoneFaults.push(...found);
        if (producers !== null) {
          const p = producerSequenceOf(row.metadata_json);
          if (p !== null) producers.observe(p, zone, row.chain_seq);
        }
        if (++sinceProgress >= PROGRESS_EVERY) {
          sinceProgress = 0;
          opts.onProgress?.(verifier.checked, zone);
        }
      },
      undefined,
      CHAIN_ORDER_SETTINGS,
    );
    if (toHead) {
      const claimAhead = highestClaim !== null && highestClaim.seq > head.chain_seq;
      zoneFaults.push(
        ...(claimAhead
          ? verifier.checkTail(
              zone,
              highestClaim.seq,
              highestClaim.claim.sha,
              `signed checkpoint ${highestClaim.claim.checkpoint_no}`,
            )
          : verifier.checkTail(zone, head.chain_seq, head.content_sha256, 'audit_chain_heads')),
      );
    }
    results.set(zone, {
      report: { zone_id: zone, from_seq: from, to_seq: to, checked, first_fault: zoneFaults[0] ?? null },
      faults: zoneFaults,
    });
  };

  const queue = [...heads];
  const workers = Array.from(
    { length: Math.max(1, Math.min(opts.concurrency ?? 2, queue.length)) },
    async () => {
      const client = await pool.connect();
      try {
        for (let head = queue.shift(); head !== undefined; head = queue.shift())
          await verifyZone(client, head);
      } finally {
        client.release();
      }
    },
  );
  await Promise.all(workers);
  return {
    results: [...results],
    checked: verifier.checked,
    tombstoned: verifier.tombstoned,
    claimsChecked: verifier.claimsChecked,
    producers: null,
  };
}

/** Splits zones into `n` groups of about equal rows (largest first, each to the lightest group). */
export function shareOut(heads: Head[], n: number): Head[][] {
  const groups = Array.from({ length: n }, () => ({ rows: 0, heads: [] as Head[] }));
  for (const h of [...heads].sort((a, b) => b.chain_seq - a.chain_seq)) {
    const lightest = groups.reduce((a, b) => (b.rows < a.rows ? b : a));
    lightest.heads.push(h);
    lightest.rows += Math.max(1, h.chain_seq);
  }
  return groups.filter((g) => g.heads.length > 0).map((g) => g.heads);
}

export interface VerifyThreadInput {
  db: DbOptions;
  heads: Head[];
  evidence: EvidenceRows;
  /** A full run: the thread collects producer numbering and posts it back. */
  collectProducers: boolean;
  publicKeys: KeyObject[];
  opts: Omit<VerifyOptions, 'onProgress' | 'publicKeys' | 'threads' | 'db'>;
}

export type VerifyThreadMessage =
  | { kind: 'progress'; checked: number; zone: string }
  | { kind: 'done'; share: ZoneShare }
  | { kind: 'error'; message: string };

async function verifyOnThreads(
  opts: VerifyOptions,
  db: DbOptions,
  heads: Head[],
  threads: number,
  evidence: EvidenceRows,
): Promise<ZoneShare[]> {
  const entry = siblingModule('verify-thread', import.meta.url);
  const { onProgress, publicKeys, threads: _t, db: _db, ...plain } = opts;
  const perThread = Math.max(1, Math.floor((opts.concurrency ?? 2) / threads));
  const progress: number[] = [];
  const workers: Worker[] = [];
  const all = Promise.all(
    shareOut(heads, threads).map(
      (group, i) =>
        new Promise<ZoneShare>((resolve, reject) => {
          progress[i] = 0;
          const input: VerifyThreadInput = {
            db: { ...db, dbMaxConns: perThread + 1 },
            heads: group,
            // the evidence this run read, so every thread trusts exactly what the merge uses
            evidence,
            collectProducers: isFull(opts),
            publicKeys: publicKeys?.keys() ?? [],
            opts: { ...plain, concurrency: perThread },
          };
          const worker = new Worker(entry, { workerData: input });
          workers.push(worker);
          let settled = false;
          worker.on('message', (m: VerifyThreadMessage) => {
            if (m.kind === 'progress') {
              progress[i] = m.checked;
              onProgress?.(
                progress.reduce((a, b) => a + b, 0),
                m.zone,
              );
            } else if (m.kind === 'done') {
              settled = true;
              resolve(m.share);
            } else {
              settled = true;
              reject(new Error(`verification thread: ${m.message}`));
            }
          });
          worker.on('error', (err) => {
            settled = true;
            reject(err);
          });
          worker.on('exit', (code) => {
            if (!settled) reject(new Error(`verification thread exited with code ${code} before reporting`));
          });
        }),
    ),
  );
  try {
    return await all;
  } catch (err) {
    // one failed: stop the others (their connections close as their threads end)
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
}
