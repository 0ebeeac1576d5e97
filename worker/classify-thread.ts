// The classification thread: runs classifyMessage off the main thread, so parsing, hashing and HMAC
// checks of the next batch never delay the Postgres round trips of the current one.
import { parentPort, workerData } from 'node:worker_threads';
import { packCopyPrefixes } from '../ledger/prepare-event.ts';
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
  forEachPacked(req.batch, (m) => results.push(classifyMessage(m.size, m.data, m.sig, opts)));
  const packed = packCopyPrefixes(results.flatMap((c) => (c.kind === 'event' ? [c.event] : [])));
  parentPort?.postMessage({ seq: req.seq, results } satisfies ClassifyResponse, [packed]);
});
