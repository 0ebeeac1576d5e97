// The classification thread: runs classifyMessage off the main thread, so parsing, hashing and HMAC
// checks of the next batch never delay the Postgres round trips of the current one.
import { parentPort, workerData } from 'node:worker_threads';
import { type PreparedRow, packCopyPrefixes } from '../ledger/prepare-event.ts';
import { type Classification, type ClassifyOptions, classifyMessage } from './classify.ts';
import { forEachPacked, type PackedBatch } from './classify-batch.ts';

export interface ClassifyRequest {
  seq: number;
  batch: PackedBatch;
}

export interface ClassifyResponse {
  seq: number;
  results: Classification[];
}

const opts = workerData as ClassifyOptions;

parentPort?.on('message', (req: ClassifyRequest) => {
  const results: Classification[] = [];
  const rows: PreparedRow[] = [];
  forEachPacked(req.batch, (m) => {
    const c = classifyMessage(m.size, m.data, m.sig, opts);
    if (c.kind === 'event') rows.push(c.event);
    results.push(c);
  });
  const packed = packCopyPrefixes(rows);
  parentPort?.postMessage({ seq: req.seq, results } satisfies ClassifyResponse, [packed]);
});
