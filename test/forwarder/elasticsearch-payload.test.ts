// The _bulk wire format and its per-item answers: create with _id = event id, NDJSON ending in a
// newline, @timestamp always present; 2xx and 409 delivered, 429/5xx retried alone, 4xx refused.
import { describe, expect, it } from 'vitest';
import { batchMeta } from '../../forwarder/batch-digest.ts';
import { caracalEvent } from '../../forwarder/formats/caracal.ts';
import { ecsEvent } from '../../forwarder/formats/ecs.ts';
import {
  bulkEntry,
  bulkPath,
  classifyBulkAnswer,
  esDocument,
} from '../../forwarder/sinks/elasticsearch-payload.ts';
import { parseBulkBody } from '../support/receivers/es-bulk-parser.ts';
import { ledgerEvents } from './support/ledger-events.ts';

const events = ledgerEvents(3, 5);
const meta = batchMeta('elastic', 'elastic-1-3', { first: 1, last: 3 }, events);

describe('bulk requests', () => {
  it('are NDJSON create actions with _id = event id that the strict receiver parses', () => {
    const body = events
      .map((e) => bulkEntry('logs-ledgerhub', e.id, esDocument(e, ecsEvent(e), meta, 'ecs')))
      .join('');
    expect(body.endsWith('\n')).toBe(true);
    const parsed = parseBulkBody(body, undefined);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.actions.map((a) => [a.opType, a.index, a.id])).toEqual(
      events.map((e) => ['create', 'logs-ledgerhub', e.id]),
    );
  });

  it('always carry @timestamp and the batch’s range and digest, whatever the format', () => {
    for (const [format, doc] of [
      ['caracal', caracalEvent(events[0]!)],
      ['ecs', ecsEvent(events[0]!)],
    ] as const) {
      const out = esDocument(events[0]!, { ...doc }, meta, format);
      expect(out['@timestamp']).toMatch(/^\d{4}-/);
      expect(out.ledgerhub).toEqual({
        ledger_seq: 1,
        batch: { first_seq: 1, last_seq: 3, count: 3, sha256: meta.sha256 },
      });
    }
  });

  it('ask for statuses and errors only, and name the pipeline when one is set', () => {
    expect(bulkPath('', undefined)).toBe(
      '/_bulk?filter_path=errors%2Citems.*.status%2Citems.*.error.type%2Citems.*.error.reason',
    );
    expect(bulkPath('/es', 'enrich')).toMatch(/^\/es\/_bulk\?.*&pipeline=enrich$/);
  });
});

describe('bulk answers', () => {
  const items = (...statuses: [number, string?][]) =>
    JSON.stringify({
      errors: true,
      items: statuses.map(([status, type]) => ({
        create: { status, ...(type ? { error: { type, reason: `${type} reason` } } : {}) },
      })),
    });

  it('count 2xx and 409 as delivered, retry 429 and 5xx items alone, refuse other 4xx one by one', () => {
    const answer = classifyBulkAnswer(
      200,
      items(
        [201],
        [409, 'version_conflict_engine_exception'],
        [429, 'es_rejected_execution_exception'],
        [503, 'unavailable_shards_exception'],
        [400, 'document_parsing_exception'],
      ),
      undefined,
      0,
      5,
    );
    expect(answer.kind).toBe('per-event');
    if (answer.kind !== 'per-event') return;
    expect(answer.outcomes.map((o) => o?.kind ?? 'ok')).toEqual([
      'ok',
      'ok',
      'throttled',
      'transient',
      'data',
    ]);
    expect(answer.outcomes[4]).toMatchObject({
      code: 'es_document_parsing_exception',
      message: 'document_parsing_exception reason',
    });
  });

  it('retries the whole request on 429 and 5xx, and pauses the sink on 401', () => {
    expect(classifyBulkAnswer(429, '{}', '2', 0, 1)).toMatchObject({
      kind: 'failed',
      failure: { kind: 'throttled', retryAfterMs: 2000 },
    });
    expect(classifyBulkAnswer(503, '', undefined, 0, 1)).toMatchObject({ failure: { kind: 'transient' } });
    const unauthorized = JSON.stringify({
      error: { type: 'security_exception', reason: 'unable to authenticate' },
      status: 401,
    });
    expect(classifyBulkAnswer(401, unauthorized, undefined, 0, 1)).toMatchObject({
      failure: { kind: 'auth', code: 'es_security_exception', message: 'unable to authenticate' },
    });
  });

  it('splits on 413 and retries an answer that does not match the request', () => {
    expect(classifyBulkAnswer(413, '', undefined, 0, 2)).toEqual({ kind: 'too-large' });
    expect(classifyBulkAnswer(200, items([201]), undefined, 0, 2)).toMatchObject({
      failure: { code: 'es_bad_response' },
    });
    expect(classifyBulkAnswer(200, 'not json', undefined, 0, 1)).toMatchObject({
      failure: { kind: 'transient' },
    });
  });
});
