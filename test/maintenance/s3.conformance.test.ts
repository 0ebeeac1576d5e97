// One suite for the S3 behaviour the exporter relies on, run against the local stand-in and, when
// S3_CONFORMANCE_* is set, against a real S3-compatible service.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client, S3Error } from '../../ledger/s3-client.ts';
import { type S3StandIn, startS3StandIn } from '../support/s3/s3-server.ts';
import { waitFor } from '../support/wait.ts';

const real = process.env.S3_CONFORMANCE_ENDPOINT
  ? {
      endpoint: process.env.S3_CONFORMANCE_ENDPOINT,
      bucket: process.env.S3_CONFORMANCE_BUCKET ?? '',
      region: process.env.S3_CONFORMANCE_REGION ?? 'us-east-1',
      credentials: {
        accessKeyId: process.env.S3_CONFORMANCE_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.S3_CONFORMANCE_SECRET_ACCESS_KEY ?? '',
      },
    }
  : null;

let standIn: S3StandIn | null = null;
let client: S3Client;
let wrongSecret: S3Client;
const prefix = `conformance/${randomBytes(4).toString('hex')}/`;

beforeAll(async () => {
  let loc = real;
  if (!loc) {
    standIn = await startS3StandIn({
      buckets: ['audit'],
      credentials: [{ accessKeyId: 'AKTEST', secretAccessKey: 'secret-key' }],
    });
    loc = {
      endpoint: standIn.url,
      bucket: 'audit',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKTEST', secretAccessKey: 'secret-key' },
    };
  }
  client = new S3Client(loc);
  wrongSecret = new S3Client({
    ...loc,
    credentials: { ...loc.credentials, secretAccessKey: 'not-the-secret' },
  });
});
afterAll(async () => standIn?.stop());

describe('S3 conditional writes and reads', () => {
  it('creates an object when the key is free and returns its bytes', async () => {
    const body = Buffer.from('first version\n');
    expect(await client.putIfAbsent(`${prefix}a.txt`, body, 'text/plain')).toBe('created');
    expect(await client.get(`${prefix}a.txt`)).toEqual(body);
    expect(await client.exists(`${prefix}a.txt`)).toBe(true);
  });

  it('refuses to overwrite an existing key under If-None-Match: * and keeps the first bytes', async () => {
    expect(await client.putIfAbsent(`${prefix}a.txt`, Buffer.from('second version\n'), 'text/plain')).toBe(
      'exists',
    );
    expect((await client.get(`${prefix}a.txt`))?.toString()).toBe('first version\n');
  });

  it('answers a missing key with nothing, not an error', async () => {
    expect(await client.get(`${prefix}missing`)).toBeNull();
    expect(await client.exists(`${prefix}missing`)).toBe(false);
  });

  it('lists keys under a prefix across pages, keys with spaces and unicode included', async () => {
    const keys = Array.from({ length: 5 }, (_, i) => `${prefix}list/${i} ünï ${i}.json`);
    for (const k of keys) await client.putIfAbsent(k, Buffer.from(k), 'application/json');
    expect((await client.list(`${prefix}list/`)).sort()).toEqual([...keys].sort());
  });

  it('rejects a request signed with the wrong secret', async () => {
    await expect(wrongSecret.get(`${prefix}a.txt`)).rejects.toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });
});

describe('S3 stand-in fault switches (local only)', () => {
  it('fails the next PUTs with the status and code asked for, then works again', async () => {
    if (!standIn) return;
    standIn.faults.failNext(1, 503, 'SlowDown', 'PUT');
    const err = await client
      .putIfAbsent(`${prefix}f.txt`, Buffer.from('x'), 'text/plain')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3Error);
    expect(err).toMatchObject({ status: 503, code: 'SlowDown' });
    expect(await client.putIfAbsent(`${prefix}f.txt`, Buffer.from('x'), 'text/plain')).toBe('created');
  });

  it('answers 409 to a conditional write racing another one for the same key, and the client retries into 412', async () => {
    if (!standIn) return;
    const held = standIn.faults.holdPuts();
    const first = client.putIfAbsent(`${prefix}race.txt`, Buffer.from('one'), 'text/plain');
    await waitFor('the first PUT to be in flight', () => standIn!.inFlightPuts() === 1);
    const second = client.putIfAbsent(`${prefix}race.txt`, Buffer.from('two'), 'text/plain');
    await waitFor('a 409 for the racing PUT', () => (standIn!.counts.get('PUT 409') ?? 0) >= 1);
    held.release();
    const outcomes = (await Promise.all([first, second])).sort();
    expect(outcomes).toEqual(['created', 'exists']);
    expect((await client.get(`${prefix}race.txt`))?.toString()).toBe('one');
  });
});
