import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../ledger/event.ts';
import { AuditProducer } from '../../ledger/producer.ts';
import { createRedis } from '../../ledger/redis.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { hmacKeyFromBytes, verifySignature } from '../../ledger/stream-codec.ts';
import { type RunningService, startRedis } from '../support/local-services.ts';
import { waitFor } from '../support/wait.ts';

// these tests stop Redis, so they run their own server
let dir: string;
let server: RunningService;
let port: number;
const key = hmacKeyFromBytes(Buffer.alloc(32, 3));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lh-producer-'));
  chmodSync(dir, 0o755);
  server = await startRedis({ dir: join(dir, 'redis'), durable: true });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function streamIds(stream: string): Promise<string[]> {
  const r = createRedis(server.url, 'check');
  const entries = await r.xrange(stream, '-', '+');
  r.disconnect();
  return entries.map(([, f]) => f[1]!);
}

describe('producer client', () => {
  it('batches signed XADDs in emit order', async () => {
    const redis = createRedis(server.url, 'p1');
    const producer = new AuditProducer({ redis, stream: 's1', hmacKey: key, batchSize: 50 });
    const events = realisticEvents(120, { seed: 1 });
    for (const e of events) expect(producer.emit(e)).toBe(true);
    await producer.close();
    expect(producer.stats()).toMatchObject({ emitted: 120, sent: 120, queueDepth: 0 });
    const check = createRedis(server.url, 'check');
    const entries = await check.xrange('s1', '-', '+');
    check.disconnect();
    redis.disconnect();
    expect(entries.map(([, f]) => f[1])).toEqual(events.map((e) => e.id));
    const [, fields] = entries[0]!;
    expect(fields[2]).toBe('data');
    expect(verifySignature(key, Buffer.from(fields[3]!), Buffer.from(fields[5]!))).toBe(true);
  });

  it('never throws on bad input: it refuses and counts it', () => {
    const redis = createRedis(server.url, 'p2');
    const producer = new AuditProducer({ redis, stream: 's2', hmacKey: null });
    const drops: string[] = [];
    const p2 = new AuditProducer({
      redis,
      stream: 's2',
      hmacKey: null,
      onDrop: (_id, reason) => drops.push(reason),
    });
    expect(p2.emit(undefined as unknown as AuditEventInput)).toBe(false);
    expect(p2.emit({ id: 'x' } as AuditEventInput)).toBe(false);
    const cyclic = { ...realisticEvents(1)[0]! } as AuditEventInput & { self?: unknown };
    cyclic.self = cyclic;
    expect(p2.emit(cyclic)).toBe(false);
    expect(drops).toEqual(['invalid_event', 'invalid_event', 'invalid_event']);
    expect(p2.stats().dropped.invalid_event).toBe(3);
    void producer.close();
    void p2.close();
    redis.disconnect();
  });

  it('spills to disk while Redis is unreachable and replays the spill when it returns', async () => {
    const spillDir = join(dir, 'spill');
    const redis = createRedis(server.url, 'p3');
    const producer = new AuditProducer({ redis, stream: 's3', hmacKey: key, spillDir, flushIntervalMs: 20 });
    const first = realisticEvents(30, { seed: 2 });
    for (const e of first) producer.emit(e);
    await producer.flush();
    await server.stop();

    const during = realisticEvents(70, { seed: 3 });
    for (const e of during) producer.emit(e);
    await waitFor('spilled', () => producer.stats().spilled === 70);
    expect(readdirSync(spillDir).length).toBeGreaterThan(0);
    expect(producer.stats().redisUp).toBe(false);

    server = await startRedis({ dir: join(dir, 'redis'), port, durable: true });
    await waitFor('replayed', async () => producer.stats().replayed === 70, 30_000);
    await producer.close();
    redis.disconnect();
    expect(readdirSync(spillDir)).toEqual([]);
    expect(await streamIds('s3')).toEqual([...first, ...during].map((e) => e.id));
    expect(Object.values(producer.stats().dropped).every((n) => n === 0)).toBe(true);
  });

  it('replays spill files left by an earlier process on start', async () => {
    const spillDir = join(dir, 'spill-restart');
    const redis = createRedis(server.url, 'p4');
    await server.stop();
    const earlier = new AuditProducer({ redis, stream: 's4', hmacKey: key, spillDir });
    const events = realisticEvents(25, { seed: 4 });
    for (const e of events) earlier.emit(e);
    const stats = await earlier.close(500);
    expect(stats.spilled).toBe(25);

    server = await startRedis({ dir: join(dir, 'redis'), port, durable: true });
    const later = new AuditProducer({
      redis: createRedis(server.url, 'p5'),
      stream: 's4',
      hmacKey: key,
      spillDir,
    });
    // start() replays at once when Redis answers in time; otherwise the next flush does
    await later.start();
    await waitFor('spill replayed', () => later.stats().replayed === 25);
    await later.close();
    redis.disconnect();
    expect(await streamIds('s4')).toEqual(events.map((e) => e.id));
  });

  it('drops and counts what does not fit in memory when there is nowhere to spill', async () => {
    const redis = createRedis(server.url, 'p6');
    await server.stop();
    const producer = new AuditProducer({ redis, stream: 's5', hmacKey: null, maxQueue: 10, spillDir: null });
    const accepted = realisticEvents(25, { seed: 5 }).map((e) => producer.emit(e));
    expect(accepted.filter(Boolean)).toHaveLength(10);
    expect(producer.stats().dropped.queue_full).toBe(15);
    const closed = await producer.close(300);
    expect(closed.dropped.redis_unreachable).toBe(10);
    redis.disconnect();
    server = await startRedis({ dir: join(dir, 'redis'), port, durable: true });
  });
});
