// Promise 3 under attack: every way of changing the ledger outside retention policy is found by
// `ledgerhub verify` with the right kind at the right zone and chain_seq, and deletion by policy
// (a signed tombstone) is told apart from deletion by anyone else; verification shared out between
// threads finds exactly the same.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extendChains } from '../../ledger/append-batch.ts';
import { writeCheckpoint } from '../../ledger/checkpoint-store.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { uuidv7 } from '../../ledger/ids.ts';
import { signDocument } from '../../ledger/integrity-signature.ts';
import { prepareEvent } from '../../ledger/prepare-event.ts';
import { runRetention } from '../../ledger/retention.ts';
import { hmacKeyFromBytes } from '../../ledger/stream-codec.ts';
import { shareOut, verifyLedger } from '../../ledger/verify-store.ts';
import { createLedgerFixture, type LedgerFixture } from '../support/ledger-fixture.ts';
import { startRole } from '../support/role-process.ts';
import {
  appendEvents,
  ensurePartitions,
  eventsOnDay,
  partitionOf,
  type TestCheckpointKey,
  testCheckpointKey,
} from './ledger-data.ts';

const ZONES = ['zone-a', 'zone-b'];
let fx: LedgerFixture | null = null;
afterEach(async () => {
  await fx?.close();
  fx = null;
});

interface Ledger {
  fx: LedgerFixture;
  ck: TestCheckpointKey;
  verify(): ReturnType<typeof verifyLedger>;
  faults(): Promise<[string, number, string][]>;
  rowCount(zone: string): Promise<number>;
}

/** Three old days of events (day -3 also gets late arrivals, between day -2's and day -1's), two zones. */
async function ledger(): Promise<Ledger> {
  fx = await createLedgerFixture('tamper');
  const f = fx;
  const ck = testCheckpointKey();
  await ensurePartitions(f.db.pool, -3, 4);
  const late = eventsOnDay(-3, 10, ZONES, 77);
  await appendEvents(f.db.pool, [...eventsOnDay(-3, 40, ZONES), ...eventsOnDay(-2, 40, ZONES)], f.key);
  await appendEvents(f.db.pool, late, f.key);
  await appendEvents(f.db.pool, eventsOnDay(-1, 40, ZONES), f.key);
  // every finding must be the same whether verified here or shared out between two threads
  const verify = async () => {
    const inline = await verifyLedger(f.db.pool, { key: f.key, publicKeys: ck.trusted });
    const threaded = await verifyLedger(f.db.pool, {
      key: f.key,
      publicKeys: ck.trusted,
      threads: 2,
      db: { databaseUrl: f.db.url },
    });
    expect({ ...threaded, duration_ms: 0 }).toEqual({ ...inline, duration_ms: 0 });
    return inline;
  };
  return {
    fx: f,
    ck,
    verify,
    faults: async () =>
      (await verify()).faults.map((x) => [x.zone_id, x.chain_seq, x.kind] as [string, number, string]),
    rowCount: async (zone) =>
      (
        await f.db.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM audit_events WHERE zone_id = $1',
          [zone],
        )
      ).rows[0]!.n,
  };
}

async function chainSeqsIn(l: Ledger, partition: string, zone: string): Promise<number[]> {
  const { rows } = await l.fx.db.pool.query<{ s: number }>(
    `SELECT chain_seq AS s FROM ${partition} WHERE zone_id = $1 ORDER BY chain_seq`,
    [zone],
  );
  return rows.map((r) => r.s);
}

describe('verify finds tampering', () => {
  it('passes the untouched ledger', async () => {
    const l = await ledger();
    const report = await l.verify();
    expect(report.faults).toEqual([]);
    expect(report.checked).toBe(130);
  });

  it('names a row changed in place as content_mismatch at its zone and chain_seq', async () => {
    const l = await ledger();
    await l.fx.db.pool.query(
      "UPDATE audit_events SET evaluation_status = evaluation_status || '-edited' WHERE zone_id = 'zone-b' AND chain_seq = 17",
    );
    expect(await l.faults()).toEqual([['zone-b', 17, 'content_mismatch']]);
  });

  it('names a deleted row as a chain_break at the row after it', async () => {
    const l = await ledger();
    await l.fx.db.pool.query("DELETE FROM audit_events WHERE zone_id = 'zone-a' AND chain_seq = 9");
    const report = await l.verify();
    expect(report.faults.map((f) => [f.zone_id, f.chain_seq, f.kind])).toEqual([
      ['zone-a', 10, 'chain_break'],
    ]);
    expect(report.faults[0]!.detail).toMatch(
      /jumps from 8 to 10: 1 row\(s\) missing \(no tombstone removes them\)/,
    );
  });

  it('names rows swapped in order as a chain_break where the order breaks', async () => {
    const l = await ledger();
    await l.fx.db.pool.query(`UPDATE audit_events SET chain_seq = CASE chain_seq WHEN 5 THEN 6 ELSE 5 END
      WHERE zone_id = 'zone-a' AND chain_seq IN (5, 6)`);
    const faults = await l.faults();
    expect(faults[0]).toEqual(['zone-a', 5, 'chain_break']);
    expect(faults.every(([zone, , kind]) => zone === 'zone-a' && kind === 'chain_break')).toBe(true);
  });

  it('names a forged row, chained correctly but keyed with another HMAC key, as hmac_mismatch', async () => {
    const l = await ledger();
    const { rows } = await l.fx.db.pool.query<{ chain_seq: number; content_sha256: string }>(
      "SELECT chain_seq, content_sha256 FROM audit_chain_heads WHERE zone_id = 'zone-a'",
    );
    const head = rows[0]!;
    const forgedEvent: AuditEventInput = { ...eventsOnDay(-1, 1, ['zone-a'], 5)[0]!, id: uuidv7() };
    const p = prepareEvent(JSON.stringify(forgedEvent), null);
    if (!p.ok) throw new Error(p.error);
    const otherKey = hmacKeyFromBytes(randomBytes(32));
    const [row] = extendChains(
      [p.event],
      new Map([['zone-a', { chainSeq: head.chain_seq, sha: head.content_sha256 }]]),
      10_000,
      otherKey,
    );
    await l.fx.db.pool.query(
      `INSERT INTO audit_events (id, zone_id, event_type, request_id, decision, evaluation_status, determining_policies_json,
         diagnostics_json, metadata_json, policy_set_id, policy_set_version_id, manifest_sha, occurred_at, content_sha256,
         prev_content_sha256, chain_hmac, chain_seq, ledger_seq)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)`,
      [
        p.event.id,
        p.event.zone_id,
        p.event.event_type,
        p.event.request_id,
        p.event.decision,
        p.event.evaluation_status,
        p.event.determining_policies_json,
        p.event.diagnostics_json,
        p.event.metadata_json,
        p.event.policy_set_id,
        p.event.policy_set_version_id,
        p.event.manifest_sha,
        p.event.occurred_at_iso,
        row!.content_sha256,
        row!.prev_content_sha256,
        row!.chain_hmac,
        row!.chain_seq,
        10_000,
      ],
    );
    await l.fx.db.pool.query(
      "UPDATE audit_chain_heads SET chain_seq = $1, content_sha256 = $2 WHERE zone_id = 'zone-a'",
      [row!.chain_seq, row!.content_sha256],
    );
    expect(await l.faults()).toEqual([['zone-a', head.chain_seq + 1, 'hmac_mismatch']]);
  });

  it('names the cut-off tail of a chain against the recorded head', async () => {
    const l = await ledger();
    const n = await l.rowCount('zone-b');
    await l.fx.db.pool.query("DELETE FROM audit_events WHERE zone_id = 'zone-b' AND chain_seq > $1", [n - 4]);
    expect(await l.faults()).toEqual([['zone-b', n - 3, 'tail_truncated']]);
  });

  it('names a cut-off tail against a signed checkpoint even when the head was rewound to hide it', async () => {
    const l = await ledger();
    expect(await writeCheckpoint(l.fx.db.pool, l.ck.signer)).toMatchObject({ checkpoint_no: 1, zones: 2 });
    const n = await l.rowCount('zone-b');
    await l.fx.db.pool.query("DELETE FROM audit_events WHERE zone_id = 'zone-b' AND chain_seq > $1", [n - 4]);
    await l.fx.db.pool.query(
      `UPDATE audit_chain_heads h SET chain_seq = e.chain_seq, content_sha256 = e.content_sha256
       FROM audit_events e WHERE h.zone_id = 'zone-b' AND e.zone_id = 'zone-b' AND e.chain_seq = $1`,
      [n - 4],
    );
    const report = await l.verify();
    expect(report.faults.map((f) => [f.zone_id, f.chain_seq, f.kind])).toEqual([
      ['zone-b', n - 3, 'tail_truncated'],
    ]);
    expect(report.faults[0]!.detail).toMatch(/signed checkpoint 1 records chain_seq/);
  });

  it('names history rewritten with the right HMAC key as checkpoint_mismatch', async () => {
    const l = await ledger();
    await writeCheckpoint(l.fx.db.pool, l.ck.signer);
    // an insider with the HMAC key replaces the head row of zone-a with a different, well-formed one
    const { rows } = await l.fx.db.pool.query<{
      chain_seq: number;
      prev: string | null;
      id: string;
      occurred_at: string;
    }>(
      `SELECT e.chain_seq, e.prev_content_sha256 AS prev, e.id, e.occurred_at FROM audit_events e
       JOIN audit_chain_heads h ON h.zone_id = e.zone_id AND h.chain_seq = e.chain_seq WHERE e.zone_id = 'zone-a'`,
    );
    const head = rows[0]!;
    const replacement = { ...eventsOnDay(-1, 1, ['zone-a'], 9)[0]!, id: head.id, decision: 'allow' };
    const p = prepareEvent(JSON.stringify(replacement), null);
    if (!p.ok) throw new Error(p.error);
    const [row] = extendChains(
      [p.event],
      new Map([['zone-a', { chainSeq: head.chain_seq - 1, sha: head.prev ?? '' }]]),
      1,
      l.fx.key,
    );
    await l.fx.db.pool.query(
      `UPDATE audit_events SET event_type = $3, request_id = $4, decision = $5, evaluation_status = $6,
         determining_policies_json = $7, diagnostics_json = $8, metadata_json = $9, policy_set_id = $10,
         policy_set_version_id = $11, manifest_sha = $12, occurred_at = $13, content_sha256 = $14, chain_hmac = $15
       WHERE zone_id = $1 AND chain_seq = $2`,
      [
        'zone-a',
        head.chain_seq,
        p.event.event_type,
        p.event.request_id,
        p.event.decision,
        p.event.evaluation_status,
        p.event.determining_policies_json,
        p.event.diagnostics_json,
        p.event.metadata_json,
        p.event.policy_set_id,
        p.event.policy_set_version_id,
        p.event.manifest_sha,
        p.event.occurred_at_iso,
        row!.content_sha256,
        row!.chain_hmac,
      ],
    );
    await l.fx.db.pool.query("UPDATE audit_chain_heads SET content_sha256 = $1 WHERE zone_id = 'zone-a'", [
      row!.content_sha256,
    ]);
    expect(await l.faults()).toEqual([['zone-a', head.chain_seq, 'checkpoint_mismatch']]);
  });

  it('names a partition dropped without a tombstone as chain breaks where each zone resumes', async () => {
    const l = await ledger();
    const part = partitionOf(-3);
    const lost = await Promise.all(ZONES.map((z) => chainSeqsIn(l, part, z)));
    await l.fx.db.pool.query(`DROP TABLE ${part}`);
    const faults = await l.faults();
    expect(faults.every(([, , kind]) => kind === 'chain_break')).toBe(true);
    // one chain break at the first surviving row after each removed run of each zone
    const expected: [string, number, string][] = [];
    for (const [i, zone] of ZONES.entries()) {
      const removed = lost[i]!;
      for (const [j, seq] of removed.entries()) {
        if (removed[j + 1] !== seq + 1) expected.push([zone, seq + 1, 'chain_break']);
      }
    }
    expect(faults).toEqual(expected);
  });

  it('accepts a partition dropped by policy, late arrivals included, and counts what the tombstone explains', async () => {
    const l = await ledger();
    const part = partitionOf(-3);
    const { rows } = await l.fx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${part}`);
    const report = await runRetention(
      { pool: l.fx.db.pool, signer: l.ck.signer },
      { ceilingDays: 2, partitionAheadDays: 1, pruneBatch: 1000 },
    );
    expect(report.dropped.map((d) => d.partition)).toEqual([part]);
    const verified = await l.verify();
    expect(verified.faults).toEqual([]);
    expect(verified.tombstoned).toBe(rows[0]!.n);
    expect(verified.checked).toBe(130 - rows[0]!.n);
  });

  it('does not accept a tombstone signed by another key: the gap stays a chain break', async () => {
    const l = await ledger();
    const part = partitionOf(-3);
    const impostor = testCheckpointKey();
    await runRetention(
      { pool: l.fx.db.pool, signer: impostor.signer },
      { ceilingDays: 2, partitionAheadDays: 1, pruneBatch: 1000 },
    );
    const faults = await l.faults();
    expect(faults[0]).toEqual(['*', 0, 'tombstone_invalid']);
    expect(faults.slice(1).every(([zone, , kind]) => ZONES.includes(zone) && kind === 'chain_break')).toBe(
      true,
    );
    expect((await l.verify()).faults[0]!.detail).toContain(part);
  });

  it('does not accept a tombstone whose boundary hash does not match the surviving chain', async () => {
    const l = await ledger();
    await runRetention(
      { pool: l.fx.db.pool, signer: l.ck.signer },
      { ceilingDays: 2, partitionAheadDays: 1, pruneBatch: 1000 },
    );
    // re-sign the tombstone with a wrong last hash for zone-a's first run (someone holding the key lying)
    const { rows } = await l.fx.db.pool.query<{ id: number; document: string }>(
      'SELECT id, document FROM audit_tombstones',
    );
    const payload = JSON.parse(JSON.parse(rows[0]!.document).payload);
    payload.zones[0].runs[0].last_sha256 = 'f'.repeat(64);
    await l.fx.db.pool.query('UPDATE audit_tombstones SET document = $1 WHERE id = $2', [
      JSON.stringify(signDocument(l.ck.signer, payload)),
      rows[0]!.id,
    ]);
    const report = await l.verify();
    expect(report.faults[0]).toMatchObject({ zone_id: 'zone-a', kind: 'chain_break' });
    expect(report.faults[0]!.detail).toMatch(/ends with hash f{64}/);
  });

  it('names a deleted checkpoint as checkpoint_invalid', async () => {
    const l = await ledger();
    await writeCheckpoint(l.fx.db.pool, l.ck.signer);
    await appendEvents(l.fx.db.pool, eventsOnDay(-1, 4, ZONES, 41), l.fx.key);
    await writeCheckpoint(l.fx.db.pool, l.ck.signer);
    await appendEvents(l.fx.db.pool, eventsOnDay(-1, 4, ZONES, 42), l.fx.key);
    await writeCheckpoint(l.fx.db.pool, l.ck.signer);
    await l.fx.db.pool.query('DELETE FROM audit_checkpoints WHERE checkpoint_no = 2');
    const report = await l.verify();
    expect(report.faults.map((f) => [f.zone_id, f.kind])).toEqual([['*', 'checkpoint_invalid']]);
    expect(report.faults[0]!.detail).toMatch(/checkpoint\(s\) 2\.\.2 are missing before checkpoint 3/);
  });

  it('names events a producer numbered but the ledger never received as producer_gap', async () => {
    const l = await ledger();
    const numbered = eventsOnDay(-1, 10, ['zone-a'], 31).map((e, i) => ({
      ...e,
      metadata_json: { ...(e.metadata_json ?? {}), producer_id: 'sts-7', producer_seq: i + 1 },
    }));
    await appendEvents(
      l.fx.db.pool,
      numbered.filter((e) => ![4, 5].includes(e.metadata_json.producer_seq)),
      l.fx.key,
    );
    const report = await l.verify();
    expect(report.producers).toBe(1);
    expect(report.faults).toHaveLength(1);
    expect(report.faults[0]).toMatchObject({ zone_id: 'zone-a', kind: 'producer_gap' });
    expect(report.faults[0]!.detail).toBe('producer sts-7: producer_seq 4..5 missing (2 event(s)) before 6');
  });
});

describe('ledgerhub verify (the command)', () => {
  it('exits 1 and prints zone, chain_seq and kind for a partition dropped without a tombstone', async () => {
    const l = await ledger();
    await l.fx.db.pool.query(`DROP TABLE ${partitionOf(-2)}`);
    const p = startRole('verify', { ...l.fx.env, LEDGERHUB_CHECKPOINT_PUBLIC_KEY: l.ck.publicKeyPem });
    const { code } = await p.exited;
    const out = p.logs.map((x) => String(x.msg)).join('\n');
    expect(code).toBe(1);
    expect(out).toMatch(/^FAILED: /);
    expect(out).toMatch(/zone=zone-a chain_seq=\d+ kind=chain_break .*no tombstone removes them/);
  });
});

describe('ledgerhub verify --public-key', () => {
  it('checks signatures with a key from a file, and refuses an unreadable or malformed one as a usage error', async () => {
    const l = await ledger();
    await writeCheckpoint(l.fx.db.pool, l.ck.signer);
    const dir = mkdtempSync(join(tmpdir(), 'lh-pubkey-'));
    try {
      const good = join(dir, 'checkpoint.pub.pem');
      const bad = join(dir, 'bad.pem');
      writeFileSync(good, l.ck.publicKeyPem);
      writeFileSync(bad, 'not a key');
      const ok = startRole('verify', l.fx.env, ['--public-key', good]);
      expect((await ok.exited).code).toBe(0);
      const out = ok.logs.map((x) => String(x.msg)).join('\n');
      expect(out).toMatch(/^OK: /);
      expect(out).not.toMatch(/signatures not checked/);
      for (const file of [bad, join(dir, 'missing.pem')]) {
        const p = startRole('verify', l.fx.env, ['--public-key', file]);
        expect((await p.exited).code).toBe(2);
        expect(p.stderr.join('\n')).toContain(`--public-key ${file}:`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('verification shared out between threads', () => {
  it('gives each thread about the same number of rows, every zone exactly once', () => {
    const heads = [5, 100, 40, 60, 1, 0, 30].map((n, i) => ({
      zone_id: `z${i}`,
      chain_seq: n,
      content_sha256: '',
    }));
    const groups = shareOut(heads, 2);
    expect(
      groups
        .flat()
        .map((h) => h.zone_id)
        .sort(),
    ).toEqual(heads.map((h) => h.zone_id).sort());
    const rows = groups.map((g) => g.reduce((n, h) => n + Math.max(1, h.chain_seq), 0));
    // largest zones first, each to the lighter thread: within a third of an even split here
    const total = rows[0]! + rows[1]!;
    expect(Math.max(...rows)).toBeLessThanOrEqual((4 / 3) * (total / 2));
    expect(Math.min(...rows)).toBeGreaterThan(0);
    expect(shareOut(heads.slice(0, 1), 4)).toHaveLength(1);
  });

  it('fails the run with the reason when a thread cannot reach Postgres', async () => {
    const l = await ledger();
    const url = new URL(l.fx.db.url);
    url.port = '1';
    await expect(
      verifyLedger(l.fx.db.pool, { key: l.fx.key, threads: 2, db: { databaseUrl: url.toString() } }),
    ).rejects.toThrow(/verification thread: .*ECONNREFUSED/);
  });
});
