// Appends a batch of prepared events in one transaction: under the ledger's commit lock it extends each
// zone's chain, COPYs the rows, advances the chain heads and the ledger head, records the commit and
// notifies listeners. Redelivered and replayed ids are found by the id registry's primary key: the
// first attempt COPYs optimistically; a unique violation rolls back and the batch is redone after
// looking up which ids are stored (duplicates are dropped, same-id-different-content is alerted).
//
// Why one commit lock: ledger_seq must follow commit order so downstream cursors never skip a batch
// that commits late. Holding the lock from the head read to COMMIT makes seq order equal commit order
// (Postgres makes a commit visible before it releases the transaction's locks).
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { chainHmac } from './chain.ts';
import { CONTENT_COLUMNS, copyField, type PreparedRow } from './prepare-event.ts';
import type { HmacKey } from './stream-codec.ts';

export const COMMIT_LOCK = 0x4c48_4c45_4447_4552n; // "LH" "LEDGER"
export const COMMITS_CHANNEL = 'ledgerhub_commits';

/** Columns in the order of PreparedRow.copyPrefix, then the chain columns written under the lock. */
export const EVENT_COPY_COLUMNS = [
  ...CONTENT_COLUMNS,
  'content_sha256',
  'ingest_signature',
  'prev_content_sha256',
  'chain_hmac',
  'chain_seq',
  'ledger_seq',
] as const;

export interface StoredEvent extends PreparedRow {
  ledger_seq: number;
  chain_seq: number;
  prev_content_sha256: string | null;
  chain_hmac: string;
}

export interface TamperedEvent {
  event: PreparedRow;
  storedSha256: string;
}

export interface AppendResult {
  stored: StoredEvent[];
  /** Same id, same content as a stored (or earlier in-batch) event: nothing to do. */
  duplicates: PreparedRow[];
  /** Same id, different content: refused, alerted. */
  tampered: TamperedEvent[];
  firstSeq: number | null;
  lastSeq: number | null;
}

export interface AppendOptions {
  hmacKey: HmacKey | null;
  consumer: string;
  notify?: boolean;
}

interface Head {
  chainSeq: number;
  sha: string;
}

/** Splits a batch into new events, duplicates and tampered replays, given the stored hashes by id. */
export function classifyAgainstStored(
  events: PreparedRow[],
  storedById: Map<string, string>,
): { fresh: PreparedRow[]; duplicates: PreparedRow[]; tampered: TamperedEvent[] } {
  const fresh: PreparedRow[] = [];
  const duplicates: PreparedRow[] = [];
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
  events: PreparedRow[],
  heads: Map<string, Head>,
  firstLedgerSeq: number,
  hmacKey: HmacKey | null,
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

const UNIQUE_VIOLATION = '23505';

export async function appendBatch(
  client: pg.ClientBase,
  events: PreparedRow[],
  opts: AppendOptions,
): Promise<AppendResult> {
  try {
    return await appendOnce(client, events, opts, false);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
  }
  // a redelivery or a replay: redo the batch knowing which ids are already stored
  try {
    return await appendOnce(client, events, opts, true);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * One transaction, in four round trips on the common path: BEGIN, lock and read the heads; COPY the
 * id registry rows; COPY the events; advance heads, ledger head and commit log, notify, COMMIT. The
 * first and last are multi-statement simple queries with every value escaped as a literal.
 */
async function appendOnce(
  client: pg.ClientBase,
  events: PreparedRow[],
  opts: AppendOptions,
  lookUpStored: boolean,
): Promise<AppendResult> {
  const lit = (v: string) => client.escapeLiteral(v);
  const textArray = (values: string[]) => `ARRAY[${values.map(lit).join(',')}]::text[]`;
  const begin = `BEGIN; SELECT pg_advisory_xact_lock(${COMMIT_LOCK});`;

  let stored = new Map<string, string>();
  if (lookUpStored) {
    await client.query(begin);
    const existing = await client.query<{ id: string; content_sha256: string }>(
      'SELECT id, content_sha256 FROM audit_event_ids WHERE id = ANY($1::text[])',
      [[...new Set(events.map((e) => e.id))]],
    );
    stored = new Map(existing.rows.map((r) => [r.id, r.content_sha256]));
  }
  // in-batch repeats are classified even on the optimistic path: the registry COPY would refuse them
  const { fresh, duplicates, tampered } = classifyAgainstStored(events, stored);
  if (fresh.length === 0 && tampered.length === 0) {
    if (lookUpStored) await client.query('COMMIT');
    return { stored: [], duplicates, tampered, firstSeq: null, lastSeq: null };
  }

  const zones = [...new Set(fresh.map((e) => e.zone_id))];
  const reads = (await client.query(
    `${lookUpStored ? '' : begin}
     SELECT last_ledger_seq FROM audit_ledger_state FOR UPDATE;
     SELECT zone_id, chain_seq, content_sha256 FROM audit_chain_heads WHERE zone_id = ANY(${textArray(zones)}) FOR UPDATE`,
  )) as unknown as pg.QueryResult[];
  const [ledgerRows, headRows] = reads.slice(-2) as [
    pg.QueryResult<{ last_ledger_seq: number }>,
    pg.QueryResult<{ zone_id: string; chain_seq: number; content_sha256: string }>,
  ];

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
    if (fresh.length === 0) {
      await client.query('COMMIT');
      return { stored: [], duplicates, tampered, firstSeq: null, lastSeq: null };
    }
  }

  const firstSeq = Number(ledgerRows.rows[0]?.last_ledger_seq ?? 0) + 1;
  const heads = new Map<string, Head>(
    headRows.rows.map((r) => [r.zone_id, { chainSeq: Number(r.chain_seq), sha: r.content_sha256 }]),
  );
  const rows = extendChains(fresh, heads, firstSeq, opts.hmacKey);
  const lastSeq = firstSeq + rows.length - 1;

  await copyText(
    client,
    'COPY audit_event_ids (id, occurred_at, zone_id, content_sha256, ledger_seq) FROM STDIN',
    rows.map((e) => `${e.idsCopyPrefix}${e.ledger_seq}\n`),
  );
  await copyChunks(
    client,
    `COPY audit_events (${EVENT_COPY_COLUMNS.join(', ')}) FROM STDIN`,
    eventCopyData(rows, chainColumnsText),
  );

  let min = rows[0]!;
  let max = rows[0]!;
  for (const e of rows) {
    if (e.occurred_at_us < min.occurred_at_us) min = e;
    if (e.occurred_at_us > max.occurred_at_us) max = e;
  }
  const chainSeqs = zones.map((z) => String(heads.get(z)!.chainSeq));
  const shas = zones.map((z) => heads.get(z)!.sha);
  await client.query(
    `INSERT INTO audit_chain_heads (zone_id, chain_seq, content_sha256)
       SELECT * FROM unnest(${textArray(zones)}, ARRAY[${chainSeqs.join(',')}]::bigint[], ${textArray(shas)})
       ON CONFLICT (zone_id) DO UPDATE
         SET chain_seq = EXCLUDED.chain_seq, content_sha256 = EXCLUDED.content_sha256, updated_at = now();
     UPDATE audit_ledger_state SET last_ledger_seq = ${lastSeq}, updated_at = now();
     INSERT INTO audit_commits (first_seq, last_seq, event_count, min_occurred_at, max_occurred_at, consumer)
       VALUES (${firstSeq}, ${lastSeq}, ${rows.length}, ${lit(min.occurred_at_iso)}, ${lit(max.occurred_at_iso)}, ${lit(opts.consumer)});
     ${opts.notify !== false ? `SELECT pg_notify(${lit(COMMITS_CHANNEL)}, ${lit(String(lastSeq))});` : ''}
     COMMIT`,
  );
  return { stored: rows, duplicates, tampered, firstSeq, lastSeq };
}

/** The chain columns of a stored row as COPY text (ASCII), ending the line. */
export function chainColumnsText(e: StoredEvent): string {
  return `${copyField(e.prev_content_sha256)}\t${copyField(e.chain_hmac)}\t${e.chain_seq}\t${e.ledger_seq}\n`;
}

const CHUNK_BYTES = 256 * 1024;

/**
 * COPY data for stored rows, in buffers of about 256 KiB: each row's prefix bytes followed by `suffix`
 * (ASCII: the chain columns and whatever a caller appends), with no intermediate strings.
 */
export function eventCopyData<T extends PreparedRow>(
  rows: T[],
  suffix: (row: T, index: number) => string,
): Buffer[] {
  const chunks: Buffer[] = [];
  let buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let offset = 0;
  for (const [index, row] of rows.entries()) {
    const tail = suffix(row, index);
    const need = row.copyPrefix.byteLength + tail.length;
    if (offset + need > buf.length) {
      if (offset > 0) chunks.push(buf.subarray(0, offset));
      buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
      offset = 0;
    }
    buf.set(row.copyPrefix, offset);
    offset += row.copyPrefix.byteLength;
    offset += buf.write(tail, offset, 'latin1');
  }
  if (offset > 0) chunks.push(buf.subarray(0, offset));
  return chunks;
}

/** Streams ready COPY data to Postgres. */
export async function copyChunks(client: pg.ClientBase, sql: string, chunks: Buffer[]): Promise<void> {
  await pipeline(chunks, client.query(copyFrom(sql)));
}

/** Streams COPY text lines to Postgres in chunks of about 256 KiB. */
export async function copyText(client: pg.ClientBase, sql: string, lines: string[]): Promise<void> {
  const chunks: string[] = [];
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length > 256 * 1024) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  if (chunk) chunks.push(chunk);
  await pipeline(chunks, client.query(copyFrom(sql)));
}

/** COPY text rows from column values (for callers without prepared prefixes: benchmarks, tools). */
export async function copyRows(client: pg.ClientBase, sql: string, rows: (string | null)[][]): Promise<void> {
  await copyText(
    client,
    sql,
    rows.map((r) => `${r.map(copyField).join('\t')}\n`),
  );
}
