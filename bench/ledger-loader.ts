// Loads a ledger for benchmarks: realistic events over a span of days and zones, stored through the
// same batch append the worker uses (prepared rows, chains, commit log), without the stream in front.
import type pg from 'pg';
import { appendBatch } from '../ledger/append-batch.ts';
import { prepareEvent } from '../ledger/prepare-event.ts';
import { trafficGenerator } from '../ledger/scenarios.ts';
import type { HmacKey } from '../ledger/stream-codec.ts';
import { progress } from './harness.ts';

export interface LoadOptions {
  events: number;
  days: number;
  zones: number;
  seed?: number;
  key: HmacKey | null;
  batch?: number;
  /** Called for every stored event of the request kinds a benchmark wants to query later. */
  onRequest?: (requestId: string, zone: string, eventType: string, decision: string) => void;
}

export async function loadLedger(client: pg.Client, opts: LoadOptions): Promise<void> {
  const now = Date.now();
  const startMs = now - opts.days * 86_400_000;
  await client.query(
    "SELECT ledgerhub_ensure_partitions((to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC')::date, $2)",
    [startMs, opts.days + 2],
  );
  const zones = Array.from({ length: opts.zones }, (_, i) => `zone-${String(i).padStart(2, '0')}`);
  const gen = trafficGenerator({ seed: opts.seed ?? 7, zones, startMs, endMs: now });
  const batchSize = opts.batch ?? 5000;
  let stored = 0;
  let lastReport = Date.now();
  while (stored < opts.events) {
    const rows = [];
    const inputs = [];
    while (rows.length < batchSize && stored + rows.length < opts.events) {
      for (const e of gen.next()) {
        const p = prepareEvent(JSON.stringify(e), null);
        if (!p.ok) throw new Error(p.error);
        rows.push(p.event);
        inputs.push(e);
      }
    }
    const chunk = rows.slice(0, opts.events - stored);
    await appendBatch(client, chunk, { hmacKey: opts.key, consumer: 'bench-loader', notify: false });
    for (const e of inputs.slice(0, chunk.length))
      opts.onRequest?.(e.request_id, e.zone_id, e.event_type, e.decision);
    stored += chunk.length;
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      progress(`  loaded ${stored}/${opts.events}`);
    }
  }
  await client.query('ANALYZE audit_events');
}
