// The classification thread: runs classifyEntry off the main thread, so parsing, hashing and HMAC
// checks of the next batch never delay the Postgres round trips of the current one.
import { parentPort, workerData } from 'node:worker_threads';
import { type PreparedRow, packCopyPrefixes } from '../ledger/prepare-event.ts';
import type { StreamEntry } from '../ledger/stream-codec.ts';
import { type ClassifyOptions, classifyEntry } from './classify.ts';

export interface ClassifyRequest {
  seq: number;
  entries: { streamId: string; fields: [string, Uint8Array][]; size: number }[];
}

export type ClassifiedLite = { kind: 'event'; event: PreparedRow } | { kind: 'dead'; reason: string };

export interface ClassifyResponse {
  seq: number;
  results: ClassifiedLite[];
}

const opts = workerData as ClassifyOptions;

parentPort?.on('message', (req: ClassifyRequest) => {
  const results: ClassifiedLite[] = req.entries.map((e) => {
    const entry: StreamEntry = {
      streamId: e.streamId,
      size: e.size,
      fields: new Map(e.fields.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])),
    };
    const c = classifyEntry(entry, opts);
    return c.kind === 'event' ? { kind: 'event', event: c.event } : { kind: 'dead', reason: c.reason };
  });
  const packed = packCopyPrefixes(results.flatMap((r) => (r.kind === 'event' ? [r.event] : [])));
  parentPort?.postMessage({ seq: req.seq, results } satisfies ClassifyResponse, [packed]);
});
