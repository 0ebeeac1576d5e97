// Conformance suite for Splunk HEC (siem-wire.md §1): protocol blocks run against the stand-in or a real
// HEC (HEC_URL, HEC_TOKEN; see conformance-targets.ts); stand-in blocks (inspection, faults) only locally.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hecTarget } from '../support/receivers/conformance-targets.ts';
import { type SplunkHecReceiver, startSplunkHec } from '../support/receivers/index.ts';
import {
  connectionErrorOf,
  send,
  type WireRequest,
  wireDispatcher,
} from '../support/receivers/wire-client.ts';

const target = hecTarget();
const local = target.kind === 'local';

beforeAll(() => target.start());
afterAll(() => target.stop());

function hec(path: string, req: WireRequest = {}) {
  return send(target.dispatcher, target.url() + path, req);
}

function splunkAuth(token = target.token): Record<string, string> {
  return { authorization: `Splunk ${token}` };
}

function postEvents(
  body: string | Buffer,
  headers: Record<string, string> = splunkAuth(),
  path = '/services/collector/event',
) {
  return hec(path, { method: 'POST', headers, body });
}

function event(text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ event: text, ...extra });
}

describe(`Splunk HEC protocol (${target.name})`, () => {
  describe('endpoints', () => {
    it('answers GET /services/collector/health with 200 code 17 "HEC is healthy"', async () => {
      const res = await hec('/services/collector/health');
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'HEC is healthy', code: 17 });
    });

    it('accepts one event on /services/collector/event with 200 {"text":"Success","code":0}', async () => {
      const res = await postEvents(event('one'));
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'Success', code: 0 });
      expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    });

    it('accepts events on the /services/collector and /services/collector/event/1.0 aliases', async () => {
      for (const path of ['/services/collector', '/services/collector/event/1.0']) {
        const res = await postEvents(event(`via ${path}`), splunkAuth(), path);
        expect({ path, status: res.status, body: res.json() }).toEqual({
          path,
          status: 200,
          body: { text: 'Success', code: 0 },
        });
      }
    });

    it('answers 404 for a path HEC does not serve', async () => {
      const res = await postEvents(event('lost'), splunkAuth(), '/services/collector/nope');
      expect(res.status).toBe(404);
    });
  });

  describe('authentication', () => {
    it('answers 401 code 2 "Token is required" when no token is sent', async () => {
      const res = await postEvents(event('x'), {});
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ text: 'Token is required', code: 2 });
    });

    it('answers 401 code 3 "Invalid authorization" for a header without the Splunk scheme', async () => {
      for (const authorization of [`Bearer ${target.token}`, target.token]) {
        const res = await postEvents(event('x'), { authorization });
        expect({ authorization, status: res.status, body: res.json() }).toEqual({
          authorization,
          status: 401,
          body: { text: 'Invalid authorization', code: 3 },
        });
      }
    });

    it('answers 403 code 4 "Invalid token" for an unknown token', async () => {
      const res = await postEvents(event('x'), splunkAuth(randomUUID()));
      expect(res.status).toBe(403);
      expect(res.json()).toEqual({ text: 'Invalid token', code: 4 });
    });

    it('accepts Basic auth with any user name and the token as the password', async () => {
      const basic = Buffer.from(`anyone:${target.token}`).toString('base64');
      const res = await postEvents(event('basic'), { authorization: `Basic ${basic}` });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'Success', code: 0 });
    });

    it.runIf(target.disabledToken)('answers 403 code 1 for a disabled token', async () => {
      const res = await postEvents(event('x'), splunkAuth(target.disabledToken));
      expect(res.status).toBe(403);
      expect(res.json()).toMatchObject({ code: 1 });
    });

    it('answers 400 code 16 for a ?token= query when the token does not allow it', async () => {
      const res = await hec(`/services/collector/event?token=${target.token}`, {
        method: 'POST',
        body: event('x'),
      });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Query string authorization is not enabled', code: 16 });
    });

    it.runIf(target.queryStringToken)('accepts a ?token= query when the token allows it', async () => {
      const res = await hec(`/services/collector/event?token=${target.queryStringToken}`, {
        method: 'POST',
        body: event('query token'),
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'Success', code: 0 });
    });
  });

  describe('batch body', () => {
    it('accepts concatenated event objects with whitespace and newlines between them', async () => {
      const body = `${event('a')}${event('b')}\n${event('c')}  \r\n ${event('d')}\n`;
      const res = await postEvents(body);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'Success', code: 0 });
    });

    it('answers 400 code 5 "No data" for an empty body', async () => {
      const res = await postEvents('');
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'No data', code: 5 });
    });

    it('answers 400 code 6 with invalid-event-number 0 for a JSON array of events', async () => {
      const res = await postEvents(`[${event('a')},${event('b')}]`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
    });

    it('answers 400 code 6 with invalid-event-number 1 for a malformed second event', async () => {
      const res = await postEvents(`${event('good')}{"event":"bad"`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 1 });
    });

    it('answers 400 code 12 with invalid-event-number for an object without an event field', async () => {
      const res = await postEvents(`${event('good')}{"host":"h1"}`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Event field is required', code: 12, 'invalid-event-number': 1 });
    });

    it('answers 400 code 13 with invalid-event-number for a blank event', async () => {
      const res = await postEvents(`${event('good')}${event('ok')}{"event":""}`);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({
        text: 'Event field cannot be blank',
        code: 13,
        'invalid-event-number': 2,
      });
    });

    it('accepts an event value that is a string, a number or an object', async () => {
      const body = [{ event: 'text' }, { event: 42 }, { event: { action: 'login', ok: true } }]
        .map((e) => JSON.stringify(e))
        .join('');
      const res = await postEvents(body);
      expect(res.status).toBe(200);
    });

    it('accepts time as epoch seconds with a fraction, or as a numeric string', async () => {
      const body = event('t1', { time: 1705377231.01234 }) + event('t2', { time: '1705377231.5' });
      const res = await postEvents(body);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'Success', code: 0 });
    });

    it('answers 400 code 6 for a time that is not a number', async () => {
      const res = await postEvents(event('t', { time: '2024-01-16T03:53:51Z' }));
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ code: 6, 'invalid-event-number': 0 });
    });

    it('accepts host, source, sourcetype and an allowed index', async () => {
      const res = await postEvents(
        event('meta', { host: 'h1', source: 'ledgerhub', sourcetype: '_json', index: target.allowedIndex }),
      );
      expect(res.status).toBe(200);
    });

    it.runIf(target.deniedIndex)(
      'answers 400 code 7 "Incorrect index" for an index the token may not use',
      async () => {
        const res = await postEvents(event('ok') + event('denied', { index: target.deniedIndex }));
        expect(res.status).toBe(400);
        expect(res.json()).toMatchObject({ text: 'Incorrect index', code: 7, 'invalid-event-number': 1 });
      },
    );

    it('accepts flat indexed fields of strings, numbers and arrays of those', async () => {
      const res = await postEvents(event('f', { fields: { actor: 'u1', attempt: 3, roles: ['a', 'b'] } }));
      expect(res.status).toBe(200);
    });

    it('answers 400 code 15 for indexed fields holding a nested object', async () => {
      const res = await postEvents(event('f', { fields: { actor: { id: 'u1' } } }));
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ text: 'Error in handling indexed fields', code: 15 });
    });
  });

  describe('content encoding', () => {
    it('accepts a gzip-compressed body', async () => {
      const res = await postEvents(gzipSync(event('zipped')), {
        ...splunkAuth(),
        'content-encoding': 'gzip',
      });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ text: 'Success', code: 0 });
    });

    it('accepts a multi-member gzip body', async () => {
      const body = Buffer.concat([gzipSync(event('member 1')), gzipSync(event('member 2'))]);
      const res = await postEvents(body, { ...splunkAuth(), 'content-encoding': 'gzip' });
      expect(res.status).toBe(200);
    });

    it('answers 415 with an empty body for any other Content-Encoding', async () => {
      const res = await postEvents(event('x'), { ...splunkAuth(), 'content-encoding': 'br' });
      expect(res.status).toBe(415);
      expect(res.text).toBe('');
    });
  });

  describe('channels', () => {
    it('accepts a GUID channel in X-Splunk-Request-Channel or in ?channel=', async () => {
      const viaHeader = await postEvents(event('c'), {
        ...splunkAuth(),
        'x-splunk-request-channel': randomUUID(),
      });
      const viaQuery = await hec(`/services/collector/event?channel=${randomUUID()}`, {
        method: 'POST',
        headers: splunkAuth(),
        body: event('c'),
      });
      expect([viaHeader.status, viaQuery.status]).toEqual([200, 200]);
    });

    it('answers 400 code 11 "Invalid data channel" for a channel that is not a GUID', async () => {
      const res = await postEvents(event('c'), { ...splunkAuth(), 'x-splunk-request-channel': 'channel-1' });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Invalid data channel', code: 11 });
    });
  });

  describe.runIf(target.ackToken)('indexer acknowledgement', () => {
    const ackToken = target.ackToken ?? '';

    function ackQuery(channel: string | undefined, acks: number[], token = ackToken) {
      const headers: Record<string, string> = splunkAuth(token);
      if (channel) headers['x-splunk-request-channel'] = channel;
      return hec('/services/collector/ack', { method: 'POST', headers, body: JSON.stringify({ acks }) });
    }

    async function sendOnChannel(channel: string): Promise<number> {
      const res = await postEvents(event('acked'), {
        ...splunkAuth(ackToken),
        'x-splunk-request-channel': channel,
      });
      expect(res.status).toBe(200);
      const body = res.json<{ text: string; code: number; ackId: number }>();
      expect(body).toMatchObject({ text: 'Success', code: 0 });
      return body.ackId;
    }

    /** Polls /ack until `id` is reported true (real Splunk indexes asynchronously). */
    async function pollUntilAcked(channel: string, id: number, deadlineMs = 60_000): Promise<void> {
      const deadline = Date.now() + deadlineMs;
      while (Date.now() < deadline) {
        const res = await ackQuery(channel, [id]);
        expect(res.status).toBe(200);
        if (res.json<{ acks: Record<string, boolean> }>().acks[String(id)] === true) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`ack ${id} on ${channel} was not reported true within ${deadlineMs} ms`);
    }

    it('answers 400 code 10 "Data channel is missing" when an ack token sends no channel', async () => {
      const res = await postEvents(event('x'), splunkAuth(ackToken));
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Data channel is missing', code: 10 });
    });

    it('returns ackIds per channel, from 0, one per request (not per event)', async () => {
      const first = randomUUID();
      const second = randomUUID();
      const ids = [await sendOnChannel(first), await sendOnChannel(first), await sendOnChannel(second)];
      const batch = await postEvents(event('a') + event('b') + event('c'), {
        ...splunkAuth(ackToken),
        'x-splunk-request-channel': first,
      });
      expect(ids).toEqual([0, 1, 0]);
      expect(batch.json()).toEqual({ text: 'Success', code: 0, ackId: 2 });
    });

    it('reports an ack true once it is indexed, and false when asked again', async () => {
      const channel = randomUUID();
      const id = await sendOnChannel(channel);
      await pollUntilAcked(channel, id);
      const again = await ackQuery(channel, [id]);
      expect(again.json()).toEqual({ acks: { [String(id)]: false } });
    });

    it('answers false for an ack id that was never issued', async () => {
      const res = await ackQuery(randomUUID(), [7]);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ acks: { '7': false } });
    });

    it('answers 400 code 10 on /ack without a channel', async () => {
      const res = await ackQuery(undefined, [0]);
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ text: 'Data channel is missing', code: 10 });
    });

    it('answers 400 code 14 on /ack for a token without indexer acknowledgement', async () => {
      const res = await ackQuery(randomUUID(), [0], target.token);
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ code: 14 });
    });
  });
});

describe.runIf(local)('Splunk HEC stand-in: inspection', () => {
  let hecReceiver: SplunkHecReceiver;
  beforeAll(() => {
    hecReceiver = target.receiver();
    hecReceiver.clear();
  });
  afterEach(async () => {
    await hecReceiver.faults.reset();
    hecReceiver.clear();
  });

  it('records each accepted event with its metadata, index and the request it came in', async () => {
    const channel = randomUUID();
    await postEvents(
      event('first', { time: 1705377231.25, host: 'h1', source: 's', sourcetype: 'st', fields: { k: 'v' } }) +
        event('second', { index: 'audit' }),
      { ...splunkAuth(), 'x-splunk-request-channel': channel },
    );
    const events = await hecReceiver.waitForEvents(2);
    expect(events.map((e) => [e.event, e.index, e.positionInBatch])).toEqual([
      ['first', 'main', 0],
      ['second', 'audit', 1],
    ]);
    expect(events[0]).toMatchObject({
      time: 1705377231.25,
      host: 'h1',
      source: 's',
      sourcetype: 'st',
      fields: { k: 'v' },
    });
    expect(events[0]?.request).toMatchObject({ token: target.token, channel, status: 200, storedEvents: 2 });
    expect(hecReceiver.requests()).toHaveLength(1);
  });

  it('stores the valid events before the first bad one of a rejected batch (acceptPartialPrefix default)', async () => {
    const res = await postEvents(event('kept 0') + event('kept 1') + '{"event":""}' + event('never seen'));
    expect(res.json()).toMatchObject({ code: 13, 'invalid-event-number': 2 });
    expect(hecReceiver.events().map((e) => e.event)).toEqual(['kept 0', 'kept 1']);
  });

  it('stores nothing from a rejected batch when acceptPartialPrefix is off', async () => {
    const strict = await startSplunkHec({ tokens: { [target.token]: {} }, acceptPartialPrefix: false });
    try {
      const res = await send(target.dispatcher, `${strict.url}/services/collector/event`, {
        method: 'POST',
        headers: splunkAuth(),
        body: `${event('would be kept')}{"nope":1}`,
      });
      expect(res.json()).toMatchObject({ code: 12, 'invalid-event-number': 1 });
      expect(strict.events()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });

  it('answers 413 for a body over maxContentLength, as sent or after gunzip', async () => {
    const small = await startSplunkHec({ tokens: { [target.token]: {} }, maxContentLength: 1024 });
    try {
      const big = event('x'.repeat(2000));
      const post = (body: Buffer | string, headers: Record<string, string>) =>
        send(target.dispatcher, `${small.url}/services/collector/event`, { method: 'POST', headers, body });
      const plain = await post(big, splunkAuth());
      const zipped = await post(gzipSync(big), { ...splunkAuth(), 'content-encoding': 'gzip' });
      expect(gzipSync(big).length).toBeLessThan(1024);
      expect([plain.status, zipped.status]).toEqual([413, 413]);
      expect(small.events()).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  it('keeps at most maxStoredEvents events and counts the dropped ones', async () => {
    const capped = await startSplunkHec({ tokens: { [target.token]: {} }, maxStoredEvents: 3 });
    try {
      const body = ['e1', 'e2', 'e3', 'e4', 'e5'].map((e) => event(e)).join('');
      await send(target.dispatcher, `${capped.url}/services/collector/event`, {
        method: 'POST',
        headers: splunkAuth(),
        body,
      });
      const retained = await capped.waitForEvents(5);
      expect(retained.map((e) => e.event)).toEqual(['e3', 'e4', 'e5']);
      expect([capped.acceptedCount, capped.droppedCount]).toEqual([5, 2]);
    } finally {
      await capped.stop();
    }
  });

  it('waitForEvents fails after its deadline, saying how many events arrived', async () => {
    await postEvents(event('only one'));
    await expect(hecReceiver.waitForEvents(2, 50)).rejects.toThrow(/waiting for 2 HEC events, 1 accepted/);
  });

  describe('ack indexing policy', () => {
    const ackToken = target.ackToken ?? '';
    const ackQuery = (channel: string, acks: number[]) =>
      hec('/services/collector/ack', {
        method: 'POST',
        headers: { ...splunkAuth(ackToken), 'x-splunk-request-channel': channel },
        body: JSON.stringify({ acks }),
      }).then((r) => r.json<{ acks: Record<string, boolean> }>().acks);
    const sendAcked = (channel: string) =>
      postEvents(event('a'), { ...splunkAuth(ackToken), 'x-splunk-request-channel': channel });

    it('turns an ack true after the configured number of polls', async () => {
      hecReceiver.acks.setIndexing({ afterPolls: 2 });
      const channel = randomUUID();
      await sendAcked(channel);
      const answers = [
        await ackQuery(channel, [0]),
        await ackQuery(channel, [0]),
        await ackQuery(channel, [0]),
      ];
      expect(answers).toEqual([{ '0': false }, { '0': false }, { '0': true }]);
    });

    it('keeps acks false under "never" until indexPending() releases them', async () => {
      hecReceiver.acks.setIndexing('never');
      const channel = randomUUID();
      await sendAcked(channel);
      await sendAcked(channel);
      expect(await ackQuery(channel, [0, 1])).toEqual({ '0': false, '1': false });
      expect(hecReceiver.acks.pending(channel)).toEqual([0, 1]);
      hecReceiver.acks.indexPending();
      expect(await ackQuery(channel, [0, 1])).toEqual({ '0': true, '1': true });
      expect(hecReceiver.acks.pending(channel)).toEqual([]);
    });

    it('forgets the oldest ack channel beyond maxAckChannels', async () => {
      const few = await startSplunkHec({ tokens: { [ackToken]: { ack: true } }, maxAckChannels: 1 });
      try {
        const post = (channel: string) =>
          send(target.dispatcher, `${few.url}/services/collector/event`, {
            method: 'POST',
            headers: { ...splunkAuth(ackToken), 'x-splunk-request-channel': channel },
            body: event('a'),
          });
        const [first, second] = [randomUUID(), randomUUID()];
        await post(first);
        await post(second);
        expect([few.acks.pending(first), few.acks.pending(second)]).toEqual([[], [0]]);
      } finally {
        await few.stop();
      }
    });

    it('answers 503 code 9 when a channel holds too many unqueried acks', async () => {
      const bounded = await startSplunkHec({
        tokens: { [ackToken]: { ack: true } },
        maxPendingAcksPerChannel: 1,
      });
      try {
        const channel = randomUUID();
        const post = () =>
          send(target.dispatcher, `${bounded.url}/services/collector/event`, {
            method: 'POST',
            headers: { ...splunkAuth(ackToken), 'x-splunk-request-channel': channel },
            body: event('a'),
          });
        expect((await post()).status).toBe(200);
        const refused = await post();
        expect(refused.status).toBe(503);
        expect(refused.json()).toEqual({ text: 'Server is busy', code: 9 });
      } finally {
        await bounded.stop();
      }
    });
  });
});

describe.runIf(local)('Splunk HEC stand-in: fault switches', () => {
  let hecReceiver: SplunkHecReceiver;
  beforeAll(() => {
    hecReceiver = target.receiver();
    hecReceiver.clear();
  });
  afterEach(async () => {
    await hecReceiver.faults.reset();
    hecReceiver.clear();
  });

  it('down() drops open connections, refuses new ones, and up() serves again on the same port', async () => {
    await hecReceiver.faults.down();
    const fresh = wireDispatcher();
    const refused = await connectionErrorOf(
      send(fresh, `${target.url()}/services/collector/event`, {
        method: 'POST',
        headers: splunkAuth(),
        body: event('x'),
      }),
    );
    await fresh.close();
    // The shared keep-alive client may still hold a socket the receiver just closed.
    expect(['ECONNREFUSED', 'UND_ERR_SOCKET', 'ECONNRESET']).toContain(
      await connectionErrorOf(postEvents(event('lost'))),
    );
    expect(refused).toBe('ECONNREFUSED');
    await hecReceiver.faults.up();
    expect((await postEvents(event('back'))).status).toBe(200);
    expect(hecReceiver.events().map((e) => e.event)).toEqual(['back']);
  });

  it("down('reset') accepts connections and resets them", async () => {
    await hecReceiver.faults.down('reset');
    const fresh = wireDispatcher();
    const code = await connectionErrorOf(
      send(fresh, `${target.url()}/services/collector/event`, {
        method: 'POST',
        headers: splunkAuth(),
        body: event('x'),
      }),
    );
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(code);
    await fresh.close();
  });

  it('slow(ms) delays answers past a client timeout, after the events were stored', async () => {
    hecReceiver.faults.slow(400);
    const code = await connectionErrorOf(
      hec('/services/collector/event', {
        method: 'POST',
        headers: splunkAuth(),
        body: event('late'),
        timeoutMs: 100,
      }),
    );
    expect(code).toBe('TimeoutError');
    expect((await hecReceiver.waitForEvents(1)).map((e) => e.event)).toEqual(['late']);
  });

  it('failNext(n, 503) answers code 9 "Server is busy" n times with Retry-After, storing nothing', async () => {
    hecReceiver.faults.failNext(2, { status: 503, retryAfter: 7 });
    const answers = [];
    for (const text of ['1', '2', '3']) {
      const res = await postEvents(event(text));
      answers.push([res.status, res.headers['retry-after'], res.json()]);
    }
    expect(answers).toEqual([
      [503, '7', { text: 'Server is busy', code: 9 }],
      [503, '7', { text: 'Server is busy', code: 9 }],
      [200, undefined, { text: 'Success', code: 0 }],
    ]);
    expect(hecReceiver.events().map((e) => e.event)).toEqual(['3']);
  });

  it('failNext can send 429 with an HTTP-date Retry-After and a custom body', async () => {
    const when = new Date(Date.UTC(2030, 0, 1));
    hecReceiver.faults.failNext(1, { status: 429, retryAfter: when, body: { text: 'slow down', code: 429 } });
    const res = await postEvents(event('x'));
    expect([res.status, res.headers['retry-after'], res.json()]).toEqual([
      429,
      'Tue, 01 Jan 2030 00:00:00 GMT',
      { text: 'slow down', code: 429 },
    ]);
  });

  it('partial({rejectEvent}) refuses that event of the next batch with code 6, keeping the prefix', async () => {
    hecReceiver.faults.partial({ rejectEvent: 1 });
    const first = await postEvents(event('p0') + event('p1') + event('p2'));
    const second = await postEvents(event('q0') + event('q1'));
    expect(first.json()).toEqual({ text: 'Invalid data format', code: 6, 'invalid-event-number': 1 });
    expect(second.status).toBe(200);
    expect(hecReceiver.events().map((e) => e.event)).toEqual(['p0', 'q0', 'q1']);
    expect(hecReceiver.faults.refused().map((e) => e.event)).toEqual(['p1']);
  });

  it('badCredentials() makes the working token fail with 403 code 4 until reset()', async () => {
    hecReceiver.faults.badCredentials();
    const refused = await postEvents(event('x'));
    await hecReceiver.faults.reset();
    const accepted = await postEvents(event('y'));
    expect([refused.status, refused.json()]).toEqual([403, { text: 'Invalid token', code: 4 }]);
    expect(accepted.status).toBe(200);
  });

  it('rotateToken(old, new) retires the old token and accepts the new one with its settings', async () => {
    const next = randomUUID();
    hecReceiver.faults.rotateToken(target.token, next);
    const old = await postEvents(event('x'));
    const rotated = await postEvents(event('y', { index: 'audit' }), splunkAuth(next));
    const deniedIndex = await postEvents(event('z', { index: 'forbidden' }), splunkAuth(next));
    expect([old.status, rotated.status, deniedIndex.status]).toEqual([403, 200, 400]);
  });

  it('counts requests, request-body bytes and answers by status', async () => {
    const body = event('counted');
    await postEvents(body);
    await postEvents(body, {});
    expect(hecReceiver.traffic.snapshot()).toEqual({
      requests: 2,
      bytes: 2 * Buffer.byteLength(body),
      responsesByStatus: { 200: 1, 401: 1 },
    });
  });
});
