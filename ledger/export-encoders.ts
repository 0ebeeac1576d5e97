// The export's encoding threads: units of COPY text go to the least busy thread and come back as
// encoded objects, so parsing, gzip and Parquet run beside the COPY instead of on its thread.
import { Worker } from 'node:worker_threads';
import type { ExportFormatName } from './config/maintenance.ts';
import { type EncodedUnit, type EncodeSettings, encodeUnit, type UnitRange } from './export-encode.ts';
import type { ManifestZone } from './manifest.ts';
import { siblingModule } from './runtime/sibling-module.ts';

export interface EncodeJob {
  id: number;
  /** COPY text of the unit's rows; transferred to the thread. */
  text: ArrayBuffer;
  range: UnitRange;
  settings: EncodeSettings;
}

export type EncodeReply =
  | {
      id: number;
      events: number;
      zones: ManifestZone[];
      objects: { format: ExportFormatName; sha256: string; bytes: number; body: ArrayBuffer }[];
    }
  | { id: number; error: string };

/** An ArrayBuffer holding exactly these bytes and nothing else (a copy unless the view is the whole). */
export function ownedArrayBuffer(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) {
    return b.buffer;
  }
  return new Uint8Array(b).buffer;
}

/**
 * Heap of an encoding thread by default (AUDIT_EXPORT_THREAD_HEAP_MB). A unit needs about 7 times its
 * COPY text at its peak (the text as a string, the rows, the NDJSON text, Parquet's columns): 384 MB
 * held 40,000 events of 1.5 KB and not 60,000. Two threads, the main thread's 128 MB and the units in
 * flight stay inside the export Job's default 1.5 GiB limit.
 */
const ENCODE_THREAD_OLD_SPACE_MB = 384;

interface Pending {
  resolve: (u: EncodedUnit) => void;
  reject: (err: Error) => void;
  textBytes: number;
}

class EncodeThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  failure: Error | null = null;

  constructor(entry: URL, oldSpaceMb: number) {
    // the young generation follows the process's --max-semi-space-size (a limit set here measured no
    // different at 32, 96 or 192 MB)
    this.worker = new Worker(entry, { resourceLimits: { maxOldGenerationSizeMb: oldSpaceMb } });
    this.worker.on('message', (reply: EncodeReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) {
        p.reject(new Error(`export encoding: ${reply.error}`));
        return;
      }
      p.resolve({
        events: reply.events,
        zones: reply.zones,
        objects: reply.objects.map((o) => ({ ...o, body: Buffer.from(o.body) })),
      });
    });
    // a reply that cannot be deserialised would otherwise leave its unit pending for ever
    this.worker.on('messageerror', (err) => this.#fail(err));
    this.worker.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_OUT_OF_MEMORY') return this.#fail(err);
      const largest = Math.max(0, ...[...this.pending.values()].map((p) => p.textBytes));
      this.#fail(
        new Error(
          `export encoding ran out of memory (a thread's heap is ${oldSpaceMb} MB) on a unit of up to ` +
            `${(largest / 1e6).toFixed(1)} MB of COPY text: raise AUDIT_EXPORT_THREAD_HEAP_MB (an ` +
            'interrupted batch is resumed with the units it was planned with), or lower ' +
            'AUDIT_EXPORT_MAX_OBJECT_EVENTS for the batches after it',
          { cause: err },
        ),
      );
    });
    this.worker.on('exit', (code) =>
      this.#fail(new Error(`export encoding thread exited with code ${code}`)),
    );
  }

  #fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

/**
 * Encodes units on `threads` worker threads (0: on the calling thread, synchronously), each with a heap
 * of oldSpaceMb. close() ends the threads; a thread that fails (out of memory, say) fails its pending
 * units and every later one, so the run stops and its watermark stays where it was.
 */
export class ExportEncoders {
  readonly #threads: EncodeThread[];
  #nextId = 1;
  #closed = false;

  constructor(
    threads: number,
    { oldSpaceMb = ENCODE_THREAD_OLD_SPACE_MB }: { oldSpaceMb?: number | undefined } = {},
  ) {
    const entry = siblingModule('export-encode-thread', import.meta.url);
    this.#threads = Array.from({ length: threads }, () => new EncodeThread(entry, oldSpaceMb));
  }

  /** The text's memory is transferred to the thread (copied first unless it owns its whole buffer). */
  encode(text: Buffer, range: UnitRange, settings: EncodeSettings): Promise<EncodedUnit> {
    if (this.#closed) return Promise.reject(new Error('export encoders are closed'));
    if (this.#threads.length === 0) {
      try {
        return Promise.resolve(encodeUnit(text, range, settings));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const thread = this.#threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    if (thread.failure) return Promise.reject(thread.failure);
    const id = this.#nextId++;
    return new Promise<EncodedUnit>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject, textBytes: text.length });
      const job: EncodeJob = { id, text: ownedArrayBuffer(text), range, settings };
      thread.worker.postMessage(job, [job.text]);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#threads.map((t) => {
        t.failure ??= new Error('export encoders are closed');
        return t.worker.terminate();
      }),
    );
  }
}
