import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { realisticEvents } from '../../ledger/scenarios.ts';
import {
  decodeStreamEntry,
  encodeStreamFields,
  hmacKeyFromBytes,
  type StreamEntry,
} from '../../ledger/stream-codec.ts';
import { inlineClassifier, threadClassifier } from '../../worker/classifier.ts';
import { forEachPacked, type PackedMessage, packBatch } from '../../worker/classify-batch.ts';

const key = hmacKeyFromBytes(randomBytes(32));
const entry = (streamId: string, fields: (string | Buffer)[]): StreamEntry =>
  decodeStreamEntry(
    streamId,
    fields.map((f) => (typeof f === 'string' ? Buffer.from(f) : f)),
  );

describe('packed classification batches', () => {
  it('carries every message’s size, data and sig bytes, and tells an absent field from an empty one', () => {
    const entries = [
      entry('1-0', ['id', 'a', 'data', '{"x":"é☃"}', 'sig', 'ab12']),
      entry('1-1', ['id', 'b', 'data', '']),
      entry('1-2', ['id', 'c', 'sig', 'ff']),
      entry('1-3', []),
      entry('1-4', ['data', Buffer.from([0x00, 0xff, 0xc3, 0x28])]),
    ];
    const batch = packBatch(entries, 1 << 20);
    const seen: { size: number; data?: string; sig?: string }[] = [];
    forEachPacked(batch, (m: PackedMessage) =>
      seen.push({ size: m.size, data: m.data?.toString('hex'), sig: m.sig?.toString('hex') }),
    );
    expect(seen).toEqual(
      entries.map((e) => ({
        size: e.size,
        data: e.fields.get('data')?.toString('hex'),
        sig: e.fields.get('sig')?.toString('hex'),
      })),
    );
    expect(seen[1]!.data).toBe('');
    expect(seen[2]!.data).toBeUndefined();
  });

  it('leaves out the fields of a message over the size cap (its size alone dead-letters it)', () => {
    const big = entry('1-0', ['id', 'a', 'data', 'x'.repeat(100), 'sig', 'ab']);
    const small = entry('1-1', ['id', 'b', 'data', 'yy']);
    const batch = packBatch([big, small], 50);
    expect(batch.bytes.byteLength).toBe(2);
    const seen: PackedMessage[] = [];
    forEachPacked(batch, (m) => seen.push({ ...m }));
    expect(seen.map((m) => [m.size, m.data?.toString(), m.sig?.toString()])).toEqual([
      [big.size, undefined, undefined],
      [small.size, 'yy', undefined],
    ]);
  });

  it('packs an empty batch', () => {
    const batch = packBatch([], 1 << 20);
    expect(batch.bytes.byteLength).toBe(0);
    let calls = 0;
    forEachPacked(batch, () => calls++);
    expect(calls).toBe(0);
  });

  describe('thread and inline classification agree', () => {
    const opts = { hmacKey: key, maxMessageBytes: 4096 };
    const thread = threadClassifier(opts);
    afterAll(() => thread.close());

    it('on good events and on every dead-letter reason, in batch order', async () => {
      const good = realisticEvents(20, { seed: 7 }).map((e, i) =>
        entry(`2-${i}`, encodeStreamFields(e.id, JSON.stringify(e), key)),
      );
      const [signed] = good;
      const bad = [
        entry('3-0', ['id', 'x', 'sig', 'ab']),
        entry('3-1', ['id', 'x', 'data', '{"id":"x"}', 'sig', '00'.repeat(32)]),
        entry('3-2', encodeStreamFields('x', '{not json', key)),
        entry('3-3', encodeStreamFields('x', '{"id":"x"}', key)),
        entry('3-4', encodeStreamFields('x', JSON.stringify({ pad: 'p'.repeat(5000) }), key)),
        entry('3-5', ['id', 'x', 'data', signed!.fields.get('data')!]),
      ];
      const batch = [...good.slice(0, 10), ...bad, ...good.slice(10)];
      const inline = await inlineClassifier(opts).classify(batch);
      const threaded = await thread.classify(batch);
      const summary = (cs: typeof inline) =>
        cs.map((c) =>
          c.kind === 'event'
            ? {
                id: c.entry.streamId,
                sha: c.event.content_sha256,
                prefix: Buffer.from(c.event.copyPrefix).toString('utf8'),
                ids: c.event.idsCopyPrefix,
              }
            : { id: c.entry.streamId, reason: c.reason },
        );
      expect(summary(threaded)).toEqual(summary(inline));
      expect(threaded.filter((c) => c.kind === 'event')).toHaveLength(20);
      expect(
        threaded.filter((c) => c.kind === 'dead').map((c) => (c.kind === 'dead' ? c.reason : '')),
      ).toEqual([
        'missing_data_field',
        'hmac_verify_failed',
        expect.stringMatching(/^json_parse_error:/),
        expect.stringMatching(/^json_parse_error:schema/),
        expect.stringMatching(/^message_too_large:\d+ bytes exceeds 4096$/),
        'hmac_verify_failed',
      ]);
    });
  });
});
