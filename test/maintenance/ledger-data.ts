// Ledger contents for the maintenance tests: realistic events on chosen days, stored through the same
// appendBatch the worker commits with (hash chains, commit log, id registry), plus the checkpoint key
// and helpers to make "ingested hours ago" true without waiting for hours.
import type pg from 'pg';
import { appendBatch } from '../../ledger/append-batch.ts';
import {
  type CheckpointSigner,
  checkpointSigner,
  generateCheckpointKeyPair,
  parseCheckpointPrivateKey,
} from '../../ledger/checkpoint-key.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { TrustedKeys } from '../../ledger/integrity-signature.ts';
import { prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { type HmacKey, signData } from '../../ledger/stream-codec.ts';

export const DAY_MS = 86_400_000;

export function dayStartMs(offsetDays: number): number {
  return Math.floor(Date.now() / DAY_MS) * DAY_MS + offsetDays * DAY_MS;
}

export function dayIso(offsetDays: number): string {
  return new Date(dayStartMs(offsetDays)).toISOString().slice(0, 10);
}

export function partitionOf(offsetDays: number): string {
  return `audit_events_p${dayIso(offsetDays).replaceAll('-', '')}`;
}

/** n realistic events whose occurred_at falls inside one UTC day (offset from today). */
export function eventsOnDay(
  offsetDays: number,
  n: number,
  zones: string[],
  seed = offsetDays + 1000,
): AuditEventInput[] {
  const start = dayStartMs(offsetDays);
  return realisticEvents(n, { seed, zones, startMs: start + 3_600_000, endMs: start + 20 * 3_600_000 });
}

/** Stores events in the given order, signed as a producer would sign them, in batches. */
export async function appendEvents(
  pool: pg.Pool,
  events: AuditEventInput[],
  key: HmacKey,
  batch = 250,
): Promise<void> {
  const client = await pool.connect();
  try {
    for (let i = 0; i < events.length; i += batch) {
      const prepared = events.slice(i, i + batch).map((e) => {
        const data = JSON.stringify(e);
        const p = prepareEvent(data, signData(key, data));
        if (!p.ok) throw new Error(p.error);
        return p.event;
      });
      await appendBatch(client, prepared, { hmacKey: key, consumer: 'maintenance-test', notify: false });
    }
  } finally {
    client.release();
  }
}

/** Creates the daily partitions for [fromOffset, fromOffset + days). */
export async function ensurePartitions(pool: pg.Pool, fromOffset: number, days: number): Promise<void> {
  await pool.query('SELECT ledgerhub_ensure_partitions($1::date, $2)', [dayIso(fromOffset), days]);
}

/** Makes the commits (and their rows) after `afterSeq` look ingested `hours` earlier. */
export async function backdateIngestion(pool: pg.Pool, hours: number, afterSeq = 0): Promise<void> {
  await pool.query(
    `UPDATE audit_commits SET committed_at = committed_at - make_interval(hours => $1) WHERE first_seq > $2`,
    [hours, afterSeq],
  );
  await pool.query(
    `UPDATE audit_events SET ingested_at = ingested_at - make_interval(hours => $1) WHERE ledger_seq > $2`,
    [hours, afterSeq],
  );
}

export async function lastLedgerSeq(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ s: number }>('SELECT last_ledger_seq AS s FROM audit_ledger_state');
  return rows[0]!.s;
}

export interface TestCheckpointKey {
  signer: CheckpointSigner;
  privateKeyPem: string;
  publicKeyPem: string;
  trusted: TrustedKeys;
}

export function testCheckpointKey(): TestCheckpointKey {
  const pair = generateCheckpointKeyPair();
  const signer = checkpointSigner(parseCheckpointPrivateKey(pair.privateKeyPem));
  return { signer, ...pair, trusted: new TrustedKeys([signer.publicKey]) };
}
