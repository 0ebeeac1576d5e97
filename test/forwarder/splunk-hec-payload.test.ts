// The HEC wire format and the whole HEC reply-code table: what is resent, what is dead-lettered, what
// pauses the sink, and which event a partial rejection names.
import { describe, expect, it } from 'vitest';
import { batchMeta } from '../../forwarder/batch-digest.ts';
import { caracalEvent } from '../../forwarder/formats/caracal.ts';
import {
  ackedIds,
  classifyHecAnswer,
  hecEventText,
  hecTime,
} from '../../forwarder/sinks/splunk-hec-payload.ts';
import { parseHecBatch } from '../support/receivers/hec-batch.ts';
import { ledgerEvents } from './support/ledger-events.ts';

const events = ledgerEvents(5, 11);
const meta = batchMeta('splunk', 'splunk-1-5', { first: 1, last: 5 }, events);
const envelope = { host: 'ledgerhub', source: 'ledgerhub', sourcetype: 'caracal:audit', index: 'main' };

describe('HEC event objects', () => {
  it('carry time in epoch seconds with a millisecond fraction', () => {
    expect(hecTime(1_705_377_231_012_345)).toBe(1_705_377_231.012);
  });

  it('are concatenated objects the strict receiver accepts, with flat indexed fields naming the batch', () => {
    const body = events.map((e) => hecEventText(e, caracalEvent(e), meta, envelope)).join('\n');
    const parsed = parseHecBatch(body, () => true);
    expect(parsed.error).toBeUndefined();
    expect(parsed.events).toHaveLength(5);
    const first = parsed.events[0]!;
    expect(first).toMatchObject({
      host: 'ledgerhub',
      source: 'ledgerhub',
      sourcetype: 'caracal:audit',
      index: 'main',
    });
    expect(first.fields).toMatchObject({
      ledgerhub_seq: 1,
      ledgerhub_event_id: events[0]!.id,
      ledgerhub_batch_first_seq: 1,
      ledgerhub_batch_last_seq: 5,
      ledgerhub_batch_count: 5,
      ledgerhub_batch_sha256: meta.sha256,
    });
    for (const v of Object.values(first.fields!)) expect(['string', 'number']).toContain(typeof v);
  });

  it('leave index out when the sink names none (the token’s default applies)', () => {
    const text = hecEventText(events[0]!, {}, meta, { host: 'h', source: 's', sourcetype: 't' });
    expect(JSON.parse(text)).not.toHaveProperty('index');
  });
});

const reply = (code: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ text: `code ${code}`, code, ...extra });

describe('classifying HEC replies (the whole code table)', () => {
  it('takes 200 code 0 as success, with the ackId when indexer ack is on', () => {
    expect(classifyHecAnswer(200, reply(0), undefined, 0)).toEqual({ kind: 'ok', ackId: undefined });
    expect(classifyHecAnswer(200, reply(0, { ackId: 7 }), undefined, 0)).toEqual({ kind: 'ok', ackId: 7 });
  });

  it.each([
    [500, 8, 'transient'],
    [503, 9, 'throttled'],
    [503, 18, 'throttled'],
    [503, 19, 'throttled'],
    [503, 20, 'throttled'],
  ] as const)('retries HTTP %i code %i (%s)', (status, code, kind) => {
    expect(classifyHecAnswer(status, reply(code), undefined, 0)).toMatchObject({
      kind: 'failed',
      failure: { kind, code: `hec_${code}` },
    });
  });

  it('retries other 5xx and 429 by HTTP status, honouring Retry-After', () => {
    expect(classifyHecAnswer(502, 'bad gateway', undefined, 0)).toMatchObject({
      failure: { kind: 'transient' },
    });
    expect(classifyHecAnswer(429, '', '3', 0)).toMatchObject({
      failure: { kind: 'throttled', retryAfterMs: 3000 },
    });
  });

  it.each([
    [403, 1],
    [401, 2],
    [401, 3],
    [403, 4],
    [400, 21],
    [400, 22],
  ] as const)('treats HTTP %i code %i as refused credentials', (status, code) => {
    expect(classifyHecAnswer(status, reply(code), undefined, 0)).toMatchObject({ failure: { kind: 'auth' } });
  });

  it.each([7, 10, 11, 14, 16])('treats code %i as wrong configuration', (code) => {
    expect(classifyHecAnswer(400, reply(code, { 'invalid-event-number': 0 }), undefined, 0)).toMatchObject({
      failure: { kind: 'config', code: `hec_${code}` },
    });
  });

  it.each([6, 12, 13, 15])('names the bad event for code %i so only what follows is resent', (code) => {
    expect(classifyHecAnswer(400, reply(code, { 'invalid-event-number': 3 }), undefined, 0)).toMatchObject({
      kind: 'rejected-at',
      index: 3,
      failure: { kind: 'data', code: `hec_${code}` },
    });
  });

  it('dead-letters the request when a data error names no event, and on code 5', () => {
    expect(classifyHecAnswer(400, reply(6), undefined, 0)).toMatchObject({
      kind: 'failed',
      failure: { kind: 'data' },
    });
    expect(classifyHecAnswer(400, reply(5), undefined, 0)).toMatchObject({
      kind: 'failed',
      failure: { kind: 'data' },
    });
  });

  it('splits on 413 and reads non-JSON answers by status', () => {
    expect(classifyHecAnswer(413, '', undefined, 0)).toEqual({ kind: 'too-large' });
    expect(classifyHecAnswer(404, 'not found', undefined, 0)).toMatchObject({ failure: { kind: 'config' } });
    expect(classifyHecAnswer(415, '', undefined, 0)).toMatchObject({ failure: { kind: 'data' } });
  });

  it('reads the acks a status query reports true', () => {
    expect(ackedIds('{"acks":{"0":true,"1":false,"2":true}}')).toEqual([0, 2]);
    expect(ackedIds('nonsense')).toEqual([]);
  });
});
