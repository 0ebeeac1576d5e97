import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../../ledger/event.ts';
import { uuidv7 } from '../../ledger/ids.ts';
import { hmacKeyFromBytes, signData } from '../../ledger/stream-codec.ts';
import { startWorker, type WorkerHandle } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { waitFor } from '../support/wait.ts';

let fx: LedgerFixture;
let worker: WorkerHandle;

beforeAll(async () => {
  fx = await createLedgerFixture('badinput');
  worker = await startWorker(fx.workerConfig({ AUDIT_MAX_MESSAGE_BYTES: '65536' }));
});
afterAll(async () => {
  await worker.stop();
  await fx.close();
});

function event(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    id: uuidv7(),
    zone_id: 'zone-bad',
    event_type: 'token_exchange',
    request_id: `req-${uuidv7()}`,
    decision: 'deny',
    evaluation_status: 'scope_mismatch',
    determining_policies_json: [{ policy: 'baseline-resource-scope' }],
    diagnostics_json: [{ reason: 'resource_not_granted' }],
    metadata_json: { application_id: 'app_1', agent_labels: ['ci'] },
    occurred_at: new Date().toISOString(),
    ...overrides,
  };
}

async function metric(name: string, labels = ''): Promise<number> {
  const text = await worker.metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && !l.startsWith('#'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function dlqReasonFor(streamId: string): Promise<string> {
  const entry = await waitFor(`dead letter for ${streamId}`, async () =>
    (await fx.dlqEntries()).find((e) => e.fields.src_stream_id === streamId),
  );
  return entry.fields.reason!;
}

async function rowsFor(id: string): Promise<Record<string, unknown>[]> {
  const { rows } = await fx.db.pool.query('SELECT * FROM audit_events WHERE id = $1', [id]);
  return rows;
}

/** A good event sent after a bad one: proves the worker kept going. */
async function workerStillIngests(): Promise<void> {
  const probe = event();
  await fx.xadd(probe);
  await waitFor('a good event after bad input', async () => (await rowsFor(probe.id)).length === 1);
}

describe('bad input', () => {
  it('stores a duplicate id with the same content once and acknowledges the duplicate', async () => {
    const e = event();
    await fx.xadd(e);
    await fx.xadd(e);
    await waitFor('stored', async () => (await rowsFor(e.id)).length === 1);
    await workerStillIngests();
    expect(await rowsFor(e.id)).toHaveLength(1);
    expect(await metric('ledgerhub_ingest_duplicates_total')).toBeGreaterThanOrEqual(1);
    expect((await fx.dlqEntries()).filter((d) => d.fields.src_id === e.id)).toHaveLength(0);
  });

  it('refuses a replay with the same id and different content: alert, dead letter, stored row untouched', async () => {
    const original = event({ decision: 'deny' });
    await fx.xadd(original);
    await waitFor('original stored', async () => (await rowsFor(original.id)).length === 1);
    const [before] = await rowsFor(original.id);
    const streamId = await fx.xadd({ ...original, decision: 'allow' });
    expect(await dlqReasonFor(streamId)).toBe('tamper_on_replay');
    const after = await rowsFor(original.id);
    expect(after).toEqual([before]);
    const alerts = await fx.db.pool.query(
      'SELECT kind, detail FROM audit_ingest_alerts WHERE event_id = $1',
      [original.id],
    );
    expect(alerts.rows).toEqual([
      {
        kind: 'content_mismatch_on_replay',
        detail: expect.stringMatching(/^stored=[0-9a-f]{64} incoming=[0-9a-f]{64}$/),
      },
    ]);
    expect(await metric('caracal_audit_tamper_replay_total')).toBeGreaterThanOrEqual(1);
  });

  it('refuses the same id replayed with a different occurred_at (ids are unique across partitions)', async () => {
    const original = event();
    await fx.xadd(original);
    await waitFor('original stored', async () => (await rowsFor(original.id)).length === 1);
    const streamId = await fx.xadd({ ...original, occurred_at: '2026-01-01T00:00:00Z' });
    expect(await dlqReasonFor(streamId)).toBe('tamper_on_replay');
    expect(await rowsFor(original.id)).toHaveLength(1);
  });

  it('dead-letters an unsigned message and one signed with another key, never storing them', async () => {
    const unsigned = event();
    const forged = event();
    const s1 = await fx.xadd(unsigned, { sign: false });
    const s2 = await fx.xadd(forged, { sign: hmacKeyFromBytes(Buffer.alloc(32, 9)) });
    expect(await dlqReasonFor(s1)).toBe('hmac_verify_failed');
    expect(await dlqReasonFor(s2)).toBe('hmac_verify_failed');
    await workerStillIngests();
    expect(await rowsFor(unsigned.id)).toHaveLength(0);
    expect(await rowsFor(forged.id)).toHaveLength(0);
    expect(await metric('caracal_audit_hmac_failures_total')).toBeGreaterThanOrEqual(2);
  });

  it('dead-letters a message without a data field', async () => {
    const streamId = await fx.xaddRaw(['id', 'no-data', 'sig', 'ab']);
    expect(await dlqReasonFor(streamId)).toBe('missing_data_field');
  });

  it('dead-letters invalid JSON with the parser message and keeps the raw bytes', async () => {
    const data = '{"id": "x", "zone_id": ';
    const streamId = await fx.xaddRaw(['id', 'x', 'data', data, 'sig', signData(fx.key, data)]);
    expect(await dlqReasonFor(streamId)).toMatch(/^json_parse_error:.*JSON/);
    const entry = (await fx.dlqEntries()).find((d) => d.fields.src_stream_id === streamId)!;
    expect(entry.fields.src_data).toBe(data);
    expect(entry.fields.src_sig).toBe(signData(fx.key, data));
    expect(Number(entry.fields.received_at)).toBeGreaterThan(0);
    expect(await metric('caracal_audit_parse_errors_total')).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters schema violations and wrong types with the field named', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...event(), zone_id: undefined }, /^json_parse_error:schema: zone_id:/],
      [{ ...event(), decision: 42 }, /^json_parse_error:schema: decision:/],
      [
        { ...event(), determining_policies_json: 'p' },
        /^json_parse_error:schema: determining_policies_json:/,
      ],
      [{ ...event(), occurred_at: 'last tuesday' }, /^json_parse_error:schema: occurred_at:/],
      [
        { ...event(), metadata_json: { agent_labels: 'ci' } },
        /^json_parse_error:schema: metadata_json\.agent_labels:/,
      ],
    ];
    for (const [bad, reason] of cases) {
      const data = JSON.stringify(bad);
      const streamId = await fx.xaddRaw(['id', String(bad.id), 'data', data, 'sig', signData(fx.key, data)]);
      expect(await dlqReasonFor(streamId)).toMatch(reason);
    }
    await workerStillIngests();
  });

  it('dead-letters a message over the size cap without parsing it', async () => {
    const big = event({ metadata_json: { blob: 'x'.repeat(70_000) } });
    const streamId = await fx.xadd(big);
    expect(await dlqReasonFor(streamId)).toMatch(/^message_too_large:\d+ bytes exceeds 65536$/);
    expect(await rowsFor(big.id)).toHaveLength(0);
  });

  it('stores NUL-laden strings with the NUL characters removed', async () => {
    const e = event({ request_id: 'req\u0000-nul', metadata_json: { 'note\u0000': 'a\u0000b' } });
    await fx.xadd(e);
    const [row] = await waitFor('stored', async () => {
      const rows = await rowsFor(e.id);
      return rows.length === 1 ? rows : undefined;
    });
    expect(row).toMatchObject({ request_id: 'req-nul', metadata_json: { note: 'ab' } });
  });

  it('stores hostile strings verbatim as data', async () => {
    const hostile =
      "x'); DELETE FROM audit_events; --\t\\N\n<img src=x onerror=alert(1)> \u202eevil \ud83d\ude00";
    const e = event({
      evaluation_status: hostile,
      request_id: 'r\'"\\',
      metadata_json: { [hostile]: hostile },
    });
    await fx.xadd(e);
    const [row] = await waitFor('stored', async () => {
      const rows = await rowsFor(e.id);
      return rows.length === 1 ? rows : undefined;
    });
    expect(row).toMatchObject({
      evaluation_status: hostile,
      request_id: 'r\'"\\',
      metadata_json: { [hostile]: hostile },
    });
    expect(await fx.storedCount()).toBeGreaterThan(1);
  });

  it('counts every dead letter by reason and keeps the stream drained', async () => {
    expect(await metric('caracal_audit_dlq_total', '{reason="hmac_verify_failed"}')).toBeGreaterThanOrEqual(
      2,
    );
    await waitFor('nothing pending', async () => (await worker.refreshStats()).pending === 0);
    expect((await worker.refreshStats()).dlqSize).toBe((await fx.dlqEntries()).length);
  });
});
