// Bench data: realistic signed events stored exactly as the worker stores them (prepareEvent +
// extendChains), COPYed day by day with their commit log, id registry and chain heads, each event
// ingested 0.4 s after it occurred, commits of 100 events.
import type pg from 'pg';
import {
  chainColumnsText,
  copyChunks,
  copyText,
  EVENT_COPY_COLUMNS,
  eventCopyData,
  extendChains,
} from '../ledger/append-batch.ts';
import { isoFromMicros } from '../ledger/chain.ts';
import { type PreparedEvent, prepareEvent } from '../ledger/prepare-event.ts';
import { realisticEvents } from '../ledger/scenarios.ts';
import { type HmacKey, signData } from '../ledger/stream-codec.ts';

const DAY_MS = 86_400_000;
const COMMIT_EVENTS = 100;

export interface LoadOptions {
  /** Start of the first day (ms, UTC midnight). */
  first: number;
  days: number;
  events: number;
  zones: string[];
  onDay?: (day: number, loaded: number) => void;
}

export async function loadLedger(c: pg.Client, key: HmacKey, o: LoadOptions): Promise<void> {
  const heads = new Map<string, { chainSeq: number; sha: string }>();
  let nextSeq = 1;
  const columns = [...EVENT_COPY_COLUMNS, 'ingested_at'].join(', ');
  for (let d = 0; d < o.days; d++) {
    const n = Math.floor(o.events / o.days) + (d < o.events % o.days ? 1 : 0);
    const start = o.first + d * DAY_MS;
    const events: PreparedEvent[] = realisticEvents(n, {
      seed: 1000 + d,
      zones: o.zones,
      startMs: start,
      endMs: start + DAY_MS - 60_000,
    })
      .map((e) => {
        const data = JSON.stringify(e);
        const p = prepareEvent(data, signData(key, data));
        if (!p.ok) throw new Error(p.error);
        return p.event;
      })
      .sort((a, b) => a.occurred_at_us - b.occurred_at_us);
    const stored = extendChains(events, heads, nextSeq, key);
    nextSeq += stored.length;
    const ingested = (i: number) => isoFromMicros(events[i]!.occurred_at_us + 400_000);
    await c.query('BEGIN');
    await copyChunks(
      c,
      `COPY audit_events (${columns}) FROM STDIN`,
      eventCopyData(stored, (e, i) => `${chainColumnsText(e).slice(0, -1)}\t${ingested(i)}\n`),
    );
    await copyText(
      c,
      'COPY audit_event_ids (id, occurred_at, zone_id, content_sha256, ledger_seq) FROM STDIN',
      stored.map((e) => `${e.idsCopyPrefix}${e.ledger_seq}\n`),
    );
    const commits: string[] = [];
    for (let i = 0; i < stored.length; i += COMMIT_EVENTS) {
      const batch = stored.slice(i, i + COMMIT_EVENTS);
      const last = batch.at(-1)!;
      commits.push(
        `${batch[0]!.ledger_seq}\t${last.ledger_seq}\t${batch.length}\t${batch[0]!.occurred_at_iso}\t${last.occurred_at_iso}\t${ingested(i)}\tbench\n`,
      );
    }
    await copyText(
      c,
      'COPY audit_commits (first_seq, last_seq, event_count, min_occurred_at, max_occurred_at, committed_at, consumer) FROM STDIN',
      commits,
    );
    await c.query('COMMIT');
    o.onDay?.(d, nextSeq - 1);
  }
  for (const [zone, h] of heads) {
    await c.query('INSERT INTO audit_chain_heads (zone_id, chain_seq, content_sha256) VALUES ($1, $2, $3)', [
      zone,
      h.chainSeq,
      h.sha,
    ]);
  }
  await c.query('UPDATE audit_ledger_state SET last_ledger_seq = $1', [nextSeq - 1]);
}
