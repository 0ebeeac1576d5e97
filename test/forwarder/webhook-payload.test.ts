// Standard Webhooks: the signature verifies with the receiver's own verifier, ids are stable per set of
// events and never contain '.', bodies carry the batch's range and digest, and answers map to outcomes.
import { describe, expect, it } from 'vitest';
import { batchMeta } from '../../forwarder/batch-digest.ts';
import {
  batchHeaders,
  classifyWebhookAnswer,
  webhookBody,
  webhookId,
  webhookSignature,
  webhookSigningKey,
} from '../../forwarder/sinks/webhook-payload.ts';
import { verifyStandardWebhook } from '../support/receivers/index.ts';
import { ledgerEvents } from './support/ledger-events.ts';

const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const events = ledgerEvents(2, 9);
const meta = batchMeta('hooks.prod', 'hooks.prod-1-2', { first: 1, last: 2 }, events);

describe('webhook requests', () => {
  it('are signed so that a Standard Webhooks verifier accepts them', () => {
    const body = webhookBody(
      meta,
      events.map((e) => JSON.stringify({ id: e.id })),
    );
    const id = webhookId(meta.sink, [1, 2]);
    const ts = 1_800_000_000;
    const signature = webhookSignature(webhookSigningKey(secret), id, ts, body);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const v = verifyStandardWebhook({
      headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
      body: Buffer.from(body),
      keys: [Buffer.alloc(32, 7)],
      nowSeconds: ts,
      toleranceSeconds: 300,
    });
    expect(v.ok).toBe(true);
  });

  it('keep one id for the same events on every retry, without dots', () => {
    expect(webhookId('hooks.prod', [3, 9, 12])).toBe('lh_hooks_prod_3_12_3');
    expect(webhookId('hooks.prod', [3, 9, 12])).toBe(webhookId('hooks.prod', [3, 9, 12]));
    expect(webhookId('hooks.prod', [9, 12])).not.toBe(webhookId('hooks.prod', [3, 9, 12]));
  });

  it('carry the batch’s range, count and digest in the body and in headers', () => {
    const body = JSON.parse(webhookBody(meta, ['{"a":1}', '{"b":2}']));
    expect(body).toEqual({
      type: 'ledgerhub.audit.batch',
      sink: 'hooks.prod',
      first_seq: 1,
      last_seq: 2,
      count: 2,
      sha256: meta.sha256,
      events: [{ a: 1 }, { b: 2 }],
    });
    expect(batchHeaders(meta)).toEqual({
      'ledgerhub-batch-first-seq': '1',
      'ledgerhub-batch-last-seq': '2',
      'ledgerhub-batch-count': '2',
      'ledgerhub-batch-sha256': meta.sha256,
    });
  });

  it('refuse secrets that are not whsec_ + base64 of 24–64 bytes', () => {
    expect(() => webhookSigningKey('whsec_c2hvcnQ=')).toThrow(/24–64 bytes/);
    expect(() => webhookSigningKey('whsec_not base64!')).toThrow(/base64/);
  });
});

describe('webhook answers', () => {
  it.each([
    [200, 'accepted'],
    [204, 'accepted'],
  ])('HTTP %i is delivered', (status, kind) => {
    expect(classifyWebhookAnswer(status, '', undefined, 0).kind).toBe(kind);
  });

  it('disables the sink on 410, retries 408/429/5xx, never follows a redirect', () => {
    expect(classifyWebhookAnswer(410, 'gone', undefined, 0)).toMatchObject({ failure: { kind: 'gone' } });
    expect(classifyWebhookAnswer(408, '', undefined, 0)).toMatchObject({ failure: { kind: 'transient' } });
    expect(classifyWebhookAnswer(429, '', '1', 0)).toMatchObject({
      failure: { kind: 'throttled', retryAfterMs: 1000 },
    });
    expect(classifyWebhookAnswer(500, '', undefined, 0)).toMatchObject({ failure: { kind: 'transient' } });
    expect(classifyWebhookAnswer(302, '', undefined, 0)).toMatchObject({ failure: { kind: 'config' } });
    expect(classifyWebhookAnswer(401, '', undefined, 0)).toMatchObject({ failure: { kind: 'auth' } });
    expect(classifyWebhookAnswer(422, '', undefined, 0)).toMatchObject({ failure: { kind: 'data' } });
    expect(classifyWebhookAnswer(413, '', undefined, 0)).toEqual({ kind: 'too-large' });
  });
});
