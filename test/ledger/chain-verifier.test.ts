import { describe, expect, it } from 'vitest';
import { classifyAgainstStored, extendChains } from '../../ledger/append-batch.ts';
import { ChainVerifier, type StoredChainRow } from '../../ledger/chain-verifier.ts';
import { type PreparedEvent, prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { hmacKeyFromBytes } from '../../ledger/stream-codec.ts';

const key = hmacKeyFromBytes(Buffer.alloc(32, 1));

function prepared(n: number, zone = 'z1'): PreparedEvent[] {
  return realisticEvents(n, { seed: 11, zones: [zone] }).map((e) => {
    const p = prepareEvent(JSON.stringify(e), null);
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });
}

function chain(n: number): StoredChainRow[] {
  const events = prepared(n);
  const stored = extendChains(events, new Map(), 1, key);
  return stored.map((s, i) => ({ ...events[i]!, ...s }));
}

function verify(rows: StoredChainRow[], k = key) {
  const v = new ChainVerifier(k);
  v.startAfter('z1', 0, '');
  return rows.flatMap((r) => v.check(r));
}

describe('chain extension', () => {
  it('numbers each zone gaplessly from its head and links each row to the previous hash', () => {
    const events = [...prepared(3, 'a'), ...prepared(2, 'b')];
    const heads = new Map([['a', { chainSeq: 10, sha: 'f'.repeat(64) }]]);
    const out = extendChains(events, heads, 100, key);
    expect(out.map((e) => [e.zone_id, e.chain_seq, e.ledger_seq])).toEqual([
      ['a', 11, 100],
      ['a', 12, 101],
      ['a', 13, 102],
      ['b', 1, 103],
      ['b', 2, 104],
    ]);
    expect(out[0]!.prev_content_sha256).toBe('f'.repeat(64));
    expect(out[1]!.prev_content_sha256).toBe(out[0]!.content_sha256);
    expect(out[3]!.prev_content_sha256).toBeNull();
    expect(heads.get('b')).toEqual({ chainSeq: 2, sha: out[4]!.content_sha256 });
  });

  it('separates new events, duplicates and same-id replays with different content', () => {
    const [a, b] = prepared(2);
    const replay = { ...b!, content_sha256: '0'.repeat(64) };
    const r = classifyAgainstStored([a!, b!, a!, replay], new Map([[b!.id, b!.content_sha256]]));
    expect(r.fresh.map((e) => e.id)).toEqual([a!.id]);
    expect(r.duplicates).toHaveLength(2);
    expect(r.tampered).toEqual([{ event: replay, storedSha256: b!.content_sha256 }]);
  });
});

describe('chain verifier', () => {
  it('passes an intact chain', () => {
    expect(verify(chain(20))).toEqual([]);
  });

  it('finds a row changed in place as a content mismatch at its chain_seq', () => {
    const rows = chain(10);
    rows[4] = { ...rows[4]!, decision: rows[4]!.decision === 'deny' ? 'allow' : 'deny' };
    expect(verify(rows).map((f) => [f.chain_seq, f.kind])).toEqual([[5, 'content_mismatch']]);
  });

  it('finds a deleted row as a chain break naming how many are missing', () => {
    const rows = chain(10);
    rows.splice(6, 1);
    const faults = verify(rows);
    expect(faults.map((f) => [f.chain_seq, f.kind])).toEqual([[8, 'chain_break']]);
    expect(faults[0]!.detail).toMatch(/jumps from 6 to 8: 1 row\(s\) missing/);
  });

  it('finds reordered rows', () => {
    const rows = chain(6);
    const [r2, r3] = [rows[2]!, rows[3]!];
    rows[2] = { ...r3, chain_seq: 3 };
    rows[3] = { ...r2, chain_seq: 4 };
    expect(verify(rows).some((f) => f.kind === 'chain_break' && f.chain_seq === 3)).toBe(true);
  });

  it('finds a forged row with a recomputed hash by its HMAC and the broken link after it', () => {
    const rows = chain(6);
    const other = hmacKeyFromBytes(Buffer.alloc(32, 2));
    const forged = extendChains(
      [{ ...prepared(1)[0]! }],
      new Map([['z1', { chainSeq: 2, sha: rows[1]!.content_sha256! }]]),
      3,
      other,
    )[0]!;
    rows[2] = { ...prepared(1)[0]!, ...forged };
    const kinds = verify(rows).map((f) => [f.chain_seq, f.kind]);
    expect(kinds).toContainEqual([3, 'hmac_mismatch']);
    expect(kinds).toContainEqual([4, 'chain_break']);
  });

  it('reports a cut-off tail against the recorded head', () => {
    const rows = chain(8);
    const v = new ChainVerifier(key);
    v.startAfter('z1', 0, '');
    for (const r of rows.slice(0, 5)) v.check(r);
    const faults = v.checkTail('z1', 8, rows[7]!.content_sha256, 'audit_chain_heads');
    expect(faults.map((f) => [f.chain_seq, f.kind])).toEqual([[6, 'tail_truncated']]);
  });

  it('skips HMAC checks without a key but still checks content and links', () => {
    const rows = chain(5);
    rows[1] = { ...rows[1]!, chain_hmac: 'garbage' };
    expect(verify(rows, null as never)).toEqual([]);
  });
});
