// Classification of a batch, on a dedicated thread (the default) or inline. The thread keeps the
// main thread free for Postgres and Redis round trips; results come back in batch order.
import { Worker } from 'node:worker_threads';
import { siblingModule } from '../ledger/runtime/sibling-module.ts';
import type { StreamEntry } from '../ledger/stream-codec.ts';
import { type Classified, type ClassifyOptions, classifyEntry } from './classify.ts';
import { packBatch } from './classify-batch.ts';
import type { ClassifyRequest, ClassifyResponse } from './classify-thread.ts';

export interface Classifier {
  classify(entries: StreamEntry[]): Promise<Classified[]>;
  close(): Promise<void>;
}

export function inlineClassifier(opts: ClassifyOptions): Classifier {
  return {
    classify: async (entries) => entries.map((e) => classifyEntry(e, opts)),
    close: async () => {},
  };
}

export function threadClassifier(opts: ClassifyOptions): Classifier {
  const thread = siblingModule('classify-thread', import.meta.url);
  const worker = new Worker(thread, {
    workerData: opts,
    // batches are short-lived: a small heap keeps the thread's memory flat under sustained load
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 32 },
  });
  worker.unref();
  const waiting = new Map<
    number,
    { entries: StreamEntry[]; resolve: (c: Classified[]) => void; reject: (e: Error) => void }
  >();
  let seq = 0;
  let failed: Error | null = null;
  const failAll = (err: Error) => {
    failed = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (res: ClassifyResponse) => {
    const w = waiting.get(res.seq);
    if (!w) return;
    waiting.delete(res.seq);
    w.resolve(
      res.results.map((r, i) => {
        const entry = w.entries[i]!;
        return r.kind === 'event'
          ? { kind: 'event', entry, event: r.event }
          : { kind: 'dead', entry, reason: r.reason };
      }),
    );
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`classification thread exited with code ${code}`)));
  return {
    classify(entries) {
      if (failed) return Promise.reject(failed);
      const id = seq++;
      const req: ClassifyRequest = { seq: id, batch: packBatch(entries, opts.maxMessageBytes) };
      return new Promise((resolve, reject) => {
        waiting.set(id, { entries, resolve, reject });
        worker.postMessage(req, [req.batch.bytes, req.batch.index]);
      });
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
