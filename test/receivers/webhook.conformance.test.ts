// Conformance suite for Standard Webhooks receivers (siem-wire.md §3.1): protocol blocks run against the
// stand-in or a real endpoint (WEBHOOK_URL, WEBHOOK_SECRET: 2xx/4xx class only); stand-in blocks locally.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webhookTarget } from '../support/receivers/conformance-targets.ts';
import {
  signStandardWebhook,
  standardWebhookHeaders,
  startWebhookReceiver,
  type WebhookReceiver,
  type WebhookRejectionCode,
} from '../support/receivers/index.ts';
import {
  connectionErrorOf,
  send,
  type WireResponse,
  wireDispatcher,
} from '../support/receivers/wire-client.ts';

const target = webhookTarget();
const local = target.kind === 'local';

beforeAll(() => target.start());
afterAll(() => target.stop());

const nowSeconds = () => Math.floor(Date.now() / 1000);

function payload(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'audit.event', data: { id: randomUUID(), action: 'login' }, ...extra });
}

/** POSTs `body` signed with Standard Webhooks headers; `headers` (undefined removes one) and `sendBody` tamper after signing. */
function deliver(
  body: string,
  opts: {
    id?: string;
    timestamp?: number;
    secret?: string;
    headers?: Record<string, string | undefined>;
    sendBody?: string;
    endpoint?: string;
  } = {},
) {
  const id = opts.id ?? `msg_${randomUUID()}`;
  const signed = standardWebhookHeaders(
    opts.secret ?? target.secret,
    id,
    opts.timestamp ?? nowSeconds(),
    body,
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ 'content-type': 'application/json', ...signed, ...opts.headers })) {
    if (v !== undefined) headers[k] = v;
  }
  return send(target.dispatcher, opts.endpoint ?? target.endpoint(), {
    method: 'POST',
    headers,
    body: opts.sendBody ?? body,
  });
}

/** Any receiver must refuse with 4xx; the stand-in must also give its exact status and reason. */
function expectRefused(res: WireResponse, reason: WebhookRejectionCode, status: number): void {
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expect(res.status, res.text).toBeLessThan(500);
  if (local) expect([res.status, res.json<{ error: string }>().error]).toEqual([status, reason]);
}

function expectAccepted(res: WireResponse): void {
  expect(res.status, res.text).toBeGreaterThanOrEqual(200);
  expect(res.status, res.text).toBeLessThan(300);
}

describe('Standard Webhooks signing (reference vector)', () => {
  it('produces the reference library signature for its published test message', () => {
    const signature = signStandardWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe(`Standard Webhooks protocol (${target.name})`, () => {
  it('accepts a delivery signed v1 with HMAC-SHA256 over "id.timestamp.body"', async () => {
    expectAccepted(await deliver(payload()));
  });

  it('accepts a signature list where unknown versions and a wrong v1 come before the valid entry', async () => {
    const body = payload();
    const id = `msg_${randomUUID()}`;
    const ts = nowSeconds();
    const valid = signStandardWebhook(target.secret, id, ts, body);
    const wrong = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const res = await deliver(body, {
      id,
      timestamp: ts,
      headers: { 'webhook-signature': `v2,${valid.slice(3)} ${wrong} ${valid}` },
    });
    expectAccepted(res);
  });

  it('refuses a body changed after signing', async () => {
    const body = payload();
    expectRefused(
      await deliver(body, { sendBody: body.replace('login', 'logout') }),
      'no_matching_signature',
      401,
    );
  });

  it('refuses a signature made with another secret', async () => {
    const other = `whsec_${Buffer.from(randomUUID().replaceAll('-', '')).toString('base64')}`;
    expectRefused(await deliver(payload(), { secret: other }), 'no_matching_signature', 401);
  });

  it('refuses a valid signature presented under another version tag only (v1a, v2)', async () => {
    const body = payload();
    const id = `msg_${randomUUID()}`;
    const ts = nowSeconds();
    const sig = signStandardWebhook(target.secret, id, ts, body).slice(3);
    const res = await deliver(body, {
      id,
      timestamp: ts,
      headers: { 'webhook-signature': `v1a,${sig} v2,${sig}` },
    });
    expectRefused(res, 'no_matching_signature', 401);
  });

  it('refuses a signed message whose webhook-id was changed', async () => {
    expectRefused(
      await deliver(payload(), { headers: { 'webhook-id': `msg_${randomUUID()}` } }),
      'no_matching_signature',
      401,
    );
  });

  for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    it(`refuses a delivery without ${header}`, async () => {
      expectRefused(await deliver(payload(), { headers: { [header]: undefined } }), 'missing_headers', 400);
    });
  }

  it('refuses a timestamp older than the tolerance (5 minutes)', async () => {
    expectRefused(await deliver(payload(), { timestamp: nowSeconds() - 6 * 60 }), 'timestamp_too_old', 401);
  });

  it('refuses a timestamp further ahead than the tolerance', async () => {
    expectRefused(await deliver(payload(), { timestamp: nowSeconds() + 6 * 60 }), 'timestamp_too_new', 401);
  });

  it('refuses a timestamp in milliseconds (it is integer seconds)', async () => {
    expectRefused(await deliver(payload(), { timestamp: Date.now() }), 'timestamp_too_new', 401);
  });

  it('accepts a timestamp within the tolerance on either side', async () => {
    expectAccepted(await deliver(payload(), { timestamp: nowSeconds() - 4 * 60 }));
    expectAccepted(await deliver(payload(), { timestamp: nowSeconds() + 4 * 60 }));
  });

  it('answers 2xx again for a retried webhook-id it has already accepted', async () => {
    const id = `msg_${randomUUID()}`;
    const body = payload();
    expectAccepted(await deliver(body, { id }));
    expectAccepted(await deliver(body, { id }));
  });
});

describe.runIf(local)('Standard Webhooks stand-in: exact refusals and inspection', () => {
  let receiver: WebhookReceiver;
  beforeAll(() => {
    receiver = target.receiver();
    receiver.clear();
  });
  afterEach(async () => {
    await receiver.faults.reset();
    receiver.clear();
  });

  it('refuses a non-JSON content type with 415', async () => {
    const res = await deliver(payload(), { headers: { 'content-type': 'text/plain' } });
    expect([res.status, res.json<{ error: string }>().error]).toEqual([415, 'unsupported_media_type']);
  });

  it('refuses a signed body that is not JSON with 400 invalid_json', async () => {
    expectRefused(await deliver('not json'), 'invalid_json', 400);
  });

  it('refuses a non-integer webhook-timestamp with 400 invalid_timestamp', async () => {
    const res = await deliver(payload(), { headers: { 'webhook-timestamp': new Date().toISOString() } });
    expectRefused(res, 'invalid_timestamp', 400);
  });

  it('refuses a GET with 405', async () => {
    const res = await send(target.dispatcher, target.endpoint());
    expect(res.status).toBe(405);
  });

  it('records each delivery with id, timestamp, headers, parsed body and verified: true', async () => {
    const id = `msg_${randomUUID()}`;
    const ts = nowSeconds();
    const body = payload({ n: 1 });
    await deliver(body, { id, timestamp: ts });
    const [delivery] = await receiver.waitForDeliveries(1);
    expect(delivery).toMatchObject({
      id,
      timestamp: ts,
      path: '/hooks/ledgerhub',
      body: JSON.parse(body),
      rawBody: body,
      verified: true,
    });
    expect(delivery?.headers['webhook-id']).toBe(id);
  });

  it('records a repeated webhook-id as a duplicate, answering 2xx both times', async () => {
    const id = `msg_${randomUUID()}`;
    const first = await deliver(payload(), { id });
    const again = await deliver(payload(), { id });
    expect([first.status, again.status]).toEqual([204, 204]);
    expect(receiver.deliveries().map((d) => d.id)).toEqual([id]);
    expect(receiver.duplicates().map((d) => d.id)).toEqual([id]);
    expect(receiver.attempts().map((a) => a.duplicate)).toEqual([false, true]);
  });

  it('records refused attempts with the reason and never as deliveries', async () => {
    await deliver(payload(), { timestamp: nowSeconds() - 3600 });
    expect(receiver.attempts().map((a) => [a.status, a.rejection, a.verified])).toEqual([
      [401, 'timestamp_too_old', false],
    ]);
    expect(receiver.deliveries()).toEqual([]);
  });

  it('verifies the reference vector when the tolerance allows its 2021 timestamp', async () => {
    const reference = await startWebhookReceiver({
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      toleranceSeconds: 100 * 365 * 24 * 3600,
    });
    try {
      const res = await send(target.dispatcher, reference.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
          'webhook-timestamp': '1614265330',
          'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
        },
        body: '{"test": 2432232314}',
      });
      expect(res.status).toBe(204);
      expect(reference.deliveries()[0]?.body).toEqual({ test: 2432232314 });
    } finally {
      await reference.stop();
    }
  });

  it('applies a configured tolerance', async () => {
    const tight = await startWebhookReceiver({ secret: target.secret, toleranceSeconds: 10 });
    try {
      const res = await deliver(payload(), { timestamp: nowSeconds() - 60, endpoint: tight.url });
      expect([res.status, res.json<{ error: string }>().error]).toEqual([401, 'timestamp_too_old']);
    } finally {
      await tight.stop();
    }
  });

  it('accepts unsigned deliveries flagged verified: false when requireSignature is off', async () => {
    const open = await startWebhookReceiver({ requireSignature: false });
    try {
      const res = await send(target.dispatcher, open.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_unsigned',
          'webhook-timestamp': '1',
          'webhook-signature': 'v1,AAAA',
        },
        body: '{"a":1}',
      });
      expect(res.status).toBe(204);
      expect(open.deliveries().map((d) => [d.id, d.verified])).toEqual([['msg_unsigned', false]]);
    } finally {
      await open.stop();
    }
  });

  it('answers 413 for a body over maxContentLength', async () => {
    const small = await startWebhookReceiver({ secret: target.secret, maxContentLength: 64 });
    try {
      const res = await deliver(payload({ pad: 'x'.repeat(200) }), { endpoint: small.url });
      expect([res.status, res.json<{ error: string }>().error]).toEqual([413, 'payload_too_large']);
    } finally {
      await small.stop();
    }
  });

  it('keeps at most maxStoredDeliveries deliveries and counts the dropped ones', async () => {
    const capped = await startWebhookReceiver({ secret: target.secret, maxStoredDeliveries: 2 });
    try {
      for (const n of [1, 2, 3]) await deliver(payload({ n }), { id: `msg_${n}`, endpoint: capped.url });
      expect(capped.deliveries().map((d) => d.id)).toEqual(['msg_2', 'msg_3']);
      expect([capped.deliveredCount, capped.droppedCount]).toEqual([3, 1]);
    } finally {
      await capped.stop();
    }
  });

  it('waitForDeliveries fails after its deadline, saying how many arrived', async () => {
    await expect(receiver.waitForDeliveries(1, 50)).rejects.toThrow(
      /waiting for 1 webhook deliveries, 0 accepted/,
    );
  });
});

describe.runIf(local)('Standard Webhooks stand-in: configurable answers', () => {
  let receiver: WebhookReceiver;
  beforeAll(() => {
    receiver = target.receiver();
    receiver.clear();
  });
  afterEach(async () => {
    await receiver.faults.reset();
    receiver.clear();
  });

  it('answers 410 Gone to tell the sender to disable the endpoint, without recording a delivery', async () => {
    receiver.respondWith({ status: 410 });
    const res = await deliver(payload());
    expect(res.status).toBe(410);
    expect(receiver.deliveries()).toEqual([]);
  });

  it('answers a 3xx with Location; a sender that does not follow it never reaches the Location', async () => {
    receiver.respondWith({ status: 307, location: `${target.url()}/elsewhere` });
    const res = await deliver(payload());
    expect([res.status, res.headers['location']]).toEqual([307, `${target.url()}/elsewhere`]);
    expect(receiver.attempts().map((a) => a.path)).toEqual(['/hooks/ledgerhub']);
  });

  it('answers 429 and 503 with Retry-After, then accepts the retry of the same id as its first delivery', async () => {
    const id = `msg_${randomUUID()}`;
    receiver.respondWith({ status: 429, retryAfter: 30 });
    const throttled = await deliver(payload(), { id });
    receiver.respondWith({ status: 503, retryAfter: new Date(Date.UTC(2030, 0, 1)) });
    const unavailable = await deliver(payload(), { id });
    receiver.respondWith(undefined);
    const accepted = await deliver(payload(), { id });
    expect([throttled.status, throttled.headers['retry-after']]).toEqual([429, '30']);
    expect([unavailable.status, unavailable.headers['retry-after']]).toEqual([
      503,
      'Tue, 01 Jan 2030 00:00:00 GMT',
    ]);
    expect(accepted.status).toBe(204);
    expect([receiver.deliveries().map((d) => d.id), receiver.duplicates()]).toEqual([[id], []]);
  });

  it('answers a configured 2xx with a JSON body', async () => {
    receiver.respondWith({ status: 200, body: { received: true } });
    const res = await deliver(payload());
    expect([res.status, res.json()]).toEqual([200, { received: true }]);
  });

  it('faults.reset() restores the start-up answer', async () => {
    receiver.respondWith({ status: 500 });
    await receiver.faults.reset();
    expect((await deliver(payload())).status).toBe(204);
  });
});

describe.runIf(local)('Standard Webhooks stand-in: fault switches', () => {
  let receiver: WebhookReceiver;
  beforeAll(() => {
    receiver = target.receiver();
    receiver.clear();
  });
  afterEach(async () => {
    await receiver.faults.reset();
    receiver.clear();
  });

  it('down() refuses connections; up() serves again on the same port', async () => {
    await receiver.faults.down();
    const fresh = wireDispatcher();
    const code = await connectionErrorOf(
      send(fresh, target.endpoint(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    );
    await fresh.close();
    await receiver.faults.up();
    expect(code).toBe('ECONNREFUSED');
    expectAccepted(await deliver(payload()));
  });

  it('slow(ms) outlasts a sender timeout after the delivery was recorded, so its retry is a duplicate', async () => {
    receiver.faults.slow(400);
    const id = `msg_${randomUUID()}`;
    const body = payload();
    const headers = {
      'content-type': 'application/json',
      ...standardWebhookHeaders(target.secret, id, nowSeconds(), body),
    };
    const code = await connectionErrorOf(
      send(target.dispatcher, target.endpoint(), { method: 'POST', headers, body, timeoutMs: 100 }),
    );
    receiver.faults.slow(0);
    const retry = await deliver(body, { id });
    expect(code).toBe('TimeoutError');
    expect(retry.status).toBe(204);
    expect(receiver.duplicates().map((d) => d.id)).toEqual([id]);
  });

  it('failNext(n, 503) answers before verification, with Retry-After, recording nothing', async () => {
    receiver.faults.failNext(2, { status: 503, retryAfter: 5 });
    const answers = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await deliver(payload());
      answers.push([res.status, res.headers['retry-after']]);
    }
    expect(answers).toEqual([
      [503, '5'],
      [503, '5'],
      [204, undefined],
    ]);
    expect(receiver.deliveries()).toHaveLength(1);
  });

  it('badCredentials() makes correctly signed deliveries fail verification until reset()', async () => {
    receiver.faults.badCredentials();
    const refused = await deliver(payload());
    await receiver.faults.reset();
    expect([refused.status, refused.json<{ error: string }>().error]).toEqual([401, 'no_matching_signature']);
    expectAccepted(await deliver(payload()));
  });

  it('rotateSecret(next) stops verifying the old secret and verifies the new one', async () => {
    const next = `whsec_${Buffer.from(randomUUID().replaceAll('-', '')).toString('base64')}`;
    receiver.faults.rotateSecret(next);
    const withOld = await deliver(payload());
    const withNew = await deliver(payload(), { secret: next });
    expect([withOld.status, withNew.status]).toEqual([401, 204]);
  });

  it('counts requests, request-body bytes and answers by status', async () => {
    const body = payload();
    await deliver(body);
    await deliver(body, { headers: { 'webhook-signature': 'v1,AAAA' } });
    expect(receiver.traffic.snapshot()).toEqual({
      requests: 2,
      bytes: 2 * Buffer.byteLength(body),
      responsesByStatus: { 204: 1, 401: 1 },
    });
  });
});
