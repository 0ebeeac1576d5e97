// A batch of stream messages packed for the classification thread: every message's `data` and `sig`
// bytes in one buffer and their places in an index, so a batch crosses threads as two transferred
// buffers instead of thousands of cloned objects.
import type { StreamEntry } from '../ledger/stream-codec.ts';

/** Int32 slots per message in the index: size, data start, data length, sig start, sig length. */
const SLOTS = 5;
/** A field the message does not have. */
const ABSENT = -1;

export interface PackedBatch {
  bytes: ArrayBuffer;
  index: ArrayBuffer;
}

/**
 * Packs `entries`; a message over `maxMessageBytes` goes without its fields (its size alone dead-letters
 * it), so an oversized message is never copied.
 */
export function packBatch(entries: StreamEntry[], maxMessageBytes: number): PackedBatch {
  const fields = entries.map((e) =>
    e.size <= maxMessageBytes ? [e.fields.get('data'), e.fields.get('sig')] : [undefined, undefined],
  );
  let total = 0;
  for (const [data, sig] of fields) total += (data?.length ?? 0) + (sig?.length ?? 0);
  const bytes = new Uint8Array(new ArrayBuffer(total));
  const index = new Int32Array(entries.length * SLOTS);
  let offset = 0;
  const put = (value: Buffer | undefined, slot: number) => {
    index[slot] = value === undefined ? ABSENT : offset;
    index[slot + 1] = value === undefined ? ABSENT : value.length;
    if (value === undefined) return;
    bytes.set(value, offset);
    offset += value.length;
  };
  for (const [i, e] of entries.entries()) {
    const slot = i * SLOTS;
    index[slot] = e.size;
    put(fields[i]![0], slot + 1);
    put(fields[i]![1], slot + 3);
  }
  return { bytes: bytes.buffer, index: index.buffer };
}

export interface PackedMessage {
  size: number;
  data: Buffer | undefined;
  sig: Buffer | undefined;
}

/** Calls `each` with every message of a packed batch; the buffers are views, valid during the call. */
export function forEachPacked(batch: PackedBatch, each: (m: PackedMessage) => void): void {
  const index = new Int32Array(batch.index);
  const view = (start: number, length: number) =>
    length === ABSENT ? undefined : Buffer.from(batch.bytes, start, length);
  for (let slot = 0; slot < index.length; slot += SLOTS) {
    each({
      size: index[slot]!,
      data: view(index[slot + 1]!, index[slot + 2]!),
      sig: view(index[slot + 3]!, index[slot + 4]!),
    });
  }
}
