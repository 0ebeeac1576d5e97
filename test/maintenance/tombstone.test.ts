// Tombstones, pure: partition rows summarised into per-zone runs, and the chain verifier accepting
// exactly the gaps a trusted tombstone explains, and nothing more.
import { describe, expect, it } from 'vitest';
import { extendChains } from '../../ledger/append-batch.ts';
import { ChainVerifier, type StoredChainRow } from '../../ledger/chain-verifier.ts';
import { prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { hmacKeyFromBytes } from '../../ledger/stream-codec.ts';
import { PartitionSummary, TombstoneIndex, type TombstonePayload } from '../../ledger/tombstone.ts';

const key = hmacKeyFromBytes(Buffer.alloc(32, 3));

function chain(n: number, zone = 'z'): StoredChainRow[] {
  const events = realisticEvents(n, { seed: 5, zones: [zone] }).map((e) => {
    const p = prepareEvent(JSON.stringify(e), null);
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });
  return extendChains(events, new Map(), 1, key).map((s, i) => ({ ...events[i]!, ...s }));
}

function tombstoneOf(rows: StoredChainRow[], partition = 'audit_events_p20260101'): TombstonePayload {
  const s = new PartitionSummary();
  for (const r of rows) s.add(r.zone_id, r.chain_seq, r.content_sha256!, r.prev_content_sha256);
  return {
    type: 'ledgerhub.tombstone',
    version: 1,
    partition,
    day: '2026-01-01',
    range: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
    dropped_at: '2026-03-01T00:00:00.000Z',
    policy: { retention_days: 30, max_days: 365, source: 'setting' },
    event_count: s.count,
    zones: s.zones(),
    producers: s.producers(),
  };
}

function verifyWith(rows: StoredChainRow[], index: TombstoneIndex, head?: StoredChainRow) {
  const v = new ChainVerifier(key);
  v.useTombstones(index);
  v.startAfter('z', 0, '');
  const faults = rows.flatMap((r) => v.check(r));
  if (head) faults.push(...v.checkTail('z', head.chain_seq, head.content_sha256, 'audit_chain_heads'));
  return { faults, tombstoned: v.tombstoned };
}

describe('partition summary', () => {
  it('groups each zone into chain_seq runs with the hash before, the first and the last hash', () => {
    const rows = chain(10);
    const picked = [rows[0]!, rows[1]!, rows[2]!, rows[6]!, rows[7]!];
    const t = tombstoneOf(picked);
    expect(t.zones).toEqual([
      {
        zone_id: 'z',
        count: 5,
        runs: [
          {
            from: 1,
            to: 3,
            prev_sha256: null,
            first_sha256: rows[0]!.content_sha256,
            last_sha256: rows[2]!.content_sha256,
          },
          {
            from: 7,
            to: 8,
            prev_sha256: rows[5]!.content_sha256,
            first_sha256: rows[6]!.content_sha256,
            last_sha256: rows[7]!.content_sha256,
          },
        ],
      },
    ]);
  });

  it('collapses producer sequence numbers into runs', () => {
    const s = new PartitionSummary();
    for (const [i, seq] of [5, 1, 2, 9, 3].entries()) s.add('z', i + 1, 'h', null, { id: 'p', seq });
    expect(s.producers()).toEqual([
      {
        producer_id: 'p',
        count: 5,
        runs: [
          [1, 3],
          [5, 5],
          [9, 9],
        ],
      },
    ]);
  });
});

describe('chain verification with tombstones', () => {
  it('accepts the start of a chain removed by policy and counts the rows', () => {
    const rows = chain(12);
    const index = new TombstoneIndex();
    index.add(tombstoneOf(rows.slice(0, 5)));
    expect(verifyWith(rows.slice(5), index)).toEqual({ faults: [], tombstoned: 5 });
  });

  it('accepts late rows removed from the middle, tiled by two tombstones', () => {
    const rows = chain(12);
    const index = new TombstoneIndex();
    index.add(tombstoneOf([rows[3]!, rows[4]!], 'audit_events_p20260101'));
    index.add(tombstoneOf([rows[5]!], 'audit_events_p20260102'));
    const kept = rows.filter((r) => r.chain_seq < 4 || r.chain_seq > 6);
    expect(verifyWith(kept, index)).toEqual({ faults: [], tombstoned: 3 });
  });

  it('accepts a whole zone removed up to its recorded head', () => {
    const rows = chain(6);
    const index = new TombstoneIndex();
    index.add(tombstoneOf(rows));
    expect(verifyWith([], index, rows.at(-1))).toEqual({ faults: [], tombstoned: 6 });
  });

  it('reports a row deleted next to a tombstoned run: the tombstone covers less than is missing', () => {
    const rows = chain(12);
    const index = new TombstoneIndex();
    index.add(tombstoneOf(rows.slice(0, 5)));
    const { faults } = verifyWith(rows.slice(6), index);
    expect(faults.map((f) => [f.chain_seq, f.kind])).toEqual([[7, 'chain_break']]);
    expect(faults[0]!.detail).toMatch(/tombstones remove 1\.\.5 only; 6\.\.6 have none/);
  });

  it('reports a tombstone whose last hash is not what the next row links to', () => {
    const rows = chain(12);
    const t = tombstoneOf(rows.slice(0, 5));
    t.zones[0]!.runs[0]!.last_sha256 = '0'.repeat(64);
    const index = new TombstoneIndex();
    index.add(t);
    const { faults } = verifyWith(rows.slice(5), index);
    expect(faults.map((f) => [f.chain_seq, f.kind])).toEqual([[6, 'chain_break']]);
  });

  it('reports a tombstone that claims more rows than are missing', () => {
    const rows = chain(12);
    const index = new TombstoneIndex();
    index.add(tombstoneOf(rows.slice(2, 6)));
    const kept = [rows[0]!, rows[1]!, ...rows.slice(4)].filter((r) => r.chain_seq !== 4);
    expect(verifyWith(kept, index).faults.map((f) => f.kind)).toContain('chain_break');
  });

  it('says which producer sequence ranges tombstones removed', () => {
    const index = new TombstoneIndex();
    const t = tombstoneOf(chain(1));
    t.producers = [
      {
        producer_id: 'p',
        count: 4,
        runs: [
          [1, 3],
          [7, 7],
        ],
      },
    ];
    index.add(t);
    expect(index.coversProducer('p', 1, 3)).toBe(true);
    expect(index.coversProducer('p', 2, 3)).toBe(true);
    expect(index.coversProducer('p', 3, 4)).toBe(false);
    expect(index.coversProducer('q', 1, 1)).toBe(false);
  });
});
