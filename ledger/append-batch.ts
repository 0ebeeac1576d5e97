// Appends a batch of prepared events in one transaction: under the ledger's commit lock it drops
// duplicates, flags same-id-different-content replays, extends each zone's chain, COPYs the rows,
// advances the chain heads and the ledger head, records the commit and notifies listeners.
//
// Why one commit lock: ledger_seq must follow commit order so downstream cursors never skip a batch
// that commits late. Holding the lock from the head read to COMMIT makes seq order equal commit order
// (Postgres makes a commit visible before it releases the transaction's locks).
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { chainHmac } from './chain.ts';
import type { PreparedEvent } from './prepare-event.ts';

export const COMMIT_LOCK = 0x4c48_4c45_4447_4552n; // "LH" "LEDGER"
export const COMMITS_CHANNEL = 'ledgerhub_commits';

export interface StoredEvent extends PreparedEvent {
  ledger_seq: number;
  chain_seq: number;
  prev_content_sha256: string | null;
  chain_hmac: string;
}

export interface TamperedEvent {
  event: PreparedEvent;
  storedSha256: string;
}

export interface AppendResult {
  stored: StoredEvent[];
  /** Same id, same content as a stored (or earlier in-batch) event: nothing to do. */
  duplicates: PreparedEvent[];
  /** Same id, different content: refused, alerted. */
  tampered: TamperedEvent[];
  firstSeq: number | null;
  lastSeq: number | null;
}

export interface AppendOptions {
  hmacKey: Buffer | null;
  consumer: string;
  notify?: boolean;
}

interface Head {
  chainSeq: number;
  sha: string;
}

/** Splits a batch into new events, duplicates and tampered replays, given the stored hashes by id. */
export function classifyAgainstStored(
  events: PreparedEvent[],
  storedById: Map<string, string>,
): { fresh: PreparedEvent[]; duplicates: PreparedEvent[]; tampered: TamperedEvent[] } {
  const fresh: PreparedEvent[] = [];
  const duplicates: PreparedEvent[] = [];
  const tampered: TamperedEvent[] = [];
  const seen = new Map(storedById);
  for (const e of events) {
    const stored = seen.get(e.id);
    if (stored === undefined) {
      seen.set(e.id, e.content_sha256);
      fresh.push(e);
    } else if (stored === e.content_sha256) {
      duplicates.push(e);
    } else {
      tampered.push({ event: e, storedSha256: stored });
    }
  }
  return { fresh, duplicates, tampered };
}

/** Extends each zone's chain from its head; pure, so the chain rule is unit-testable. */
export function extendChains(
  events: PreparedEvent[],
  heads: Map<string, Head>,
  firstLedgerSeq: number,
  hmacKey: Buffer | null,
): StoredEvent[] {
  const out: StoredEvent[] = [];
  let seq = firstLedgerSeq;
  for (const e of events) {
    const head = heads.get(e.zone_id) ?? { chainSeq: 0, sha: '' };
    const stored: StoredEvent = {
      ...e,
      ledger_seq: seq++,
      chain_seq: head.chainSeq + 1,
      prev_content_sha256: head.sha === '' ? null : head.sha,
      chain_hmac: chainHmac(hmacKey, e.content_sha256, head.sha),
    };
    heads.set(e.zone_id, { chainSeq: stored.chain_seq, sha: e.content_sha256 });
    out.push(stored);
  }
  return out;
}

export async function appendBatch(
  client: pg.ClientBase,
  events: PreparedEvent[],
  opts: AppendOptions,
): Promise<AppendResult> {
  await client.query('BEGIN');
  try {
    const result = await appendInTransaction(client, events, opts);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function appendInTransaction(
  client: pg.ClientBase,
  events: PreparedEvent[],
  opts: AppendOptions,
): Promise<AppendResult> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [COMMIT_LOCK.toString()]);

  const ids = [...new Set(events.map((e) => e.id))];
  const existing = await client.query<{ id: string; content_sha256: string }>(
    'SELECT id, content_sha256 FROM audit_event_ids WHERE id = ANY($1::text[])',
    [ids],
  );
  const { fresh, duplicates, tampered } = classifyAgainstStored(
    events,
    new Map(existing.rows.map((r) => [r.id, r.content_sha256])),
  );

  if (tampered.length > 0) {
    await client.query(
      `INSERT INTO audit_ingest_alerts (event_id, zone_id, kind, detail)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [
        tampered.map((t) => t.event.id),
        tampered.map((t) => t.event.zone_id),
        tampered.map(() => 'content_mismatch_on_replay'),
        tampered.map((t) => `stored=${t.storedSha256} incoming=${t.event.content_sha256}`),
      ],
    );
  }
  if (fresh.length === 0) return { stored: [], duplicates, tampered, firstSeq: null, lastSeq: null };

  const ledger = await client.query<{ last_ledger_seq: number }>(
    'SELECT last_ledger_seq FROM audit_ledger_state FOR UPDATE',
  );
  const firstSeq = (ledger.rows[0]?.last_ledger_seq ?? 0) + 1;
  const zones = [...new Set(fresh.map((e) => e.zone_id))];
  const headRows = await client.query<{ zone_id: string; chain_seq: number; content_sha256: string }>(
    'SELECT zone_id, chain_seq, content_sha256 FROM audit_chain_heads WHERE zone_id = ANY($1::text[]) FOR UPDATE',
    [zones],
  );
  const heads = new Map<string, Head>(
    headRows.rows.map((r) => [r.zone_id, { chainSeq: r.chain_seq, sha: r.content_sha256 }]),
  );
  const stored = extendChains(fresh, heads, firstSeq, opts.hmacKey);
  const lastSeq = firstSeq + stored.length - 1;

  await copyRows(
    client,
    'COPY audit_event_ids (id, occurred_at, zone_id, content_sha256, ledger_seq) FROM STDIN',
    stored.map((e) => [e.id, e.occurred_at_iso, e.zone_id, e.content_sha256, String(e.ledger_seq)]),
  );
  await copyRows(client, `COPY audit_events (${EVENT_COLUMNS.join(', ')}) FROM STDIN`, stored.map(eventRow));

  const zoneHeads = [...heads].filter(([zone]) => zones.includes(zone));
  await client.query(
    `INSERT INTO audit_chain_heads (zone_id, chain_seq, content_sha256)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
     ON CONFLICT (zone_id) DO UPDATE
       SET chain_seq = EXCLUDED.chain_seq, content_sha256 = EXCLUDED.content_sha256, updated_at = now()`,
    [zoneHeads.map(([z]) => z), zoneHeads.map(([, h]) => h.chainSeq), zoneHeads.map(([, h]) => h.sha)],
  );
  await client.query('UPDATE audit_ledger_state SET last_ledger_seq = $1, updated_at = now()', [lastSeq]);
  let minUs = Number.POSITIVE_INFINITY;
  let maxUs = Number.NEGATIVE_INFINITY;
  let minIso = '';
  let maxIso = '';
  for (const e of stored) {
    if (e.occurred_at_us < minUs) [minUs, minIso] = [e.occurred_at_us, e.occurred_at_iso];
    if (e.occurred_at_us > maxUs) [maxUs, maxIso] = [e.occurred_at_us, e.occurred_at_iso];
  }
  await client.query(
    `INSERT INTO audit_commits (first_seq, last_seq, event_count, min_occurred_at, max_occurred_at, consumer)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [firstSeq, lastSeq, stored.length, minIso, maxIso, opts.consumer],
  );
  if (opts.notify !== false) {
    await client.query('SELECT pg_notify($1, $2)', [COMMITS_CHANNEL, String(lastSeq)]);
  }
  return { stored, duplicates, tampered, firstSeq, lastSeq };
}

export const EVENT_COLUMNS = [
  'id',
  'zone_id',
  'event_type',
  'request_id',
  'decision',
  'policy_set_id',
  'policy_set_version_id',
  'manifest_sha',
  'evaluation_status',
  'determining_policies_json',
  'diagnostics_json',
  'metadata_json',
  'occurred_at',
  'content_sha256',
  'prev_content_sha256',
  'chain_hmac',
  'chain_seq',
  'ingest_signature',
  'ledger_seq',
] as const;

function eventRow(e: StoredEvent): (string | null)[] {
  return [
    e.id,
    e.zone_id,
    e.event_type,
    e.request_id,
    e.decision,
    e.policy_set_id,
    e.policy_set_version_id,
    e.manifest_sha,
    e.evaluation_status,
    e.determining_policies_json,
    e.diagnostics_json,
    e.metadata_json,
    e.occurred_at_iso,
    e.content_sha256,
    e.prev_content_sha256,
    e.chain_hmac,
    String(e.chain_seq),
    e.ingest_signature,
    String(e.ledger_seq),
  ];
}

/** COPY text format: tab-separated, \N for NULL, backslash escapes for \ \t \n \r. */
export function copyLine(values: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    const v = values[i];
    line += v === null || v === undefined ? '\\N' : escapeCopy(v);
  }
  return `${line}\n`;
}

function escapeCopy(v: string): string {
  if (!/[\\\t\n\r]/.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

export async function copyRows(client: pg.ClientBase, sql: string, rows: (string | null)[][]): Promise<void> {
  const chunks: string[] = [];
  let chunk = '';
  for (const row of rows) {
    chunk += copyLine(row);
    if (chunk.length > 256 * 1024) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  if (chunk) chunks.push(chunk);
  const stream = client.query(copyFrom(sql));
  await pipeline(chunks, stream);
}
