// Retention tombstones, pure: summarising a partition's rows into per-zone chain_seq runs with their
// boundary hashes (and per-producer sequence runs), and the index a verifier uses to tell a gap
// removed by policy from rows removed by anyone else.
import type { EvidencePayload } from './integrity-signature.ts';

export interface TombstoneRun {
  from: number;
  to: number;
  /** prev_content_sha256 of the first removed row (null when the run starts the chain). */
  prev_sha256: string | null;
  first_sha256: string;
  /** content_sha256 of the last removed row: what the next surviving row's prev must be. */
  last_sha256: string;
}

export interface TombstoneZone {
  zone_id: string;
  count: number;
  runs: TombstoneRun[];
}

export interface TombstoneProducer {
  producer_id: string;
  count: number;
  /** Inclusive [from, to] runs of producer_seq removed. */
  runs: [number, number][];
}

export interface TombstonePayload extends EvidencePayload {
  type: 'ledgerhub.tombstone';
  version: 1;
  partition: string;
  day: string;
  range: { from: string; to: string };
  dropped_at: string;
  policy: { retention_days: number; max_days: number; source: 'setting' | 'ceiling' };
  event_count: number;
  zones: TombstoneZone[];
  producers: TombstoneProducer[];
}

/**
 * Collects rows into per-zone chain_seq runs; within a zone rows must come in chain_seq order (any
 * interleaving of zones is fine: commit order or (zone_id, chain_seq) order).
 */
export class PartitionSummary {
  readonly #zones = new Map<string, TombstoneZone>();
  readonly #producers = new Map<string, number[]>();
  count = 0;

  add(
    zone: string,
    chainSeq: number,
    sha: string,
    prev: string | null,
    producer?: { id: string; seq: number } | null,
  ): void {
    this.count++;
    let z = this.#zones.get(zone);
    if (!z) {
      z = { zone_id: zone, count: 0, runs: [] };
      this.#zones.set(zone, z);
    }
    z.count++;
    const last = z.runs.at(-1);
    if (last && chainSeq === last.to + 1) {
      last.to = chainSeq;
      last.last_sha256 = sha;
    } else {
      z.runs.push({ from: chainSeq, to: chainSeq, prev_sha256: prev, first_sha256: sha, last_sha256: sha });
    }
    if (producer) {
      let seqs = this.#producers.get(producer.id);
      if (!seqs) {
        seqs = [];
        this.#producers.set(producer.id, seqs);
      }
      seqs.push(producer.seq);
    }
  }

  /** Zones sorted by id. */
  zones(): TombstoneZone[] {
    return [...this.#zones.values()].sort((a, b) =>
      a.zone_id < b.zone_id ? -1 : a.zone_id > b.zone_id ? 1 : 0,
    );
  }

  producers(): TombstoneProducer[] {
    const out: TombstoneProducer[] = [];
    for (const [id, seqs] of [...this.#producers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      seqs.sort((a, b) => a - b);
      const runs: [number, number][] = [];
      for (const s of seqs) {
        const last = runs.at(-1);
        if (last && s <= last[1] + 1) last[1] = Math.max(last[1], s);
        else runs.push([s, s]);
      }
      out.push({ producer_id: id, count: seqs.length, runs });
    }
    return out;
  }
}

export type GapExplanation = { ok: true; partitions: string[] } | { ok: false; reason: string };

interface IndexedRun extends TombstoneRun {
  partition: string;
}

/** The tombstones a verifier trusts, indexed by zone and by first chain_seq. */
export class TombstoneIndex {
  readonly #byZone = new Map<string, Map<number, IndexedRun>>();
  readonly #producers = new Map<string, { from: number; to: number }[]>();
  count = 0;

  add(t: TombstonePayload): void {
    this.count++;
    for (const z of t.zones) {
      let runs = this.#byZone.get(z.zone_id);
      if (!runs) {
        runs = new Map();
        this.#byZone.set(z.zone_id, runs);
      }
      for (const r of z.runs) runs.set(r.from, { ...r, partition: t.partition });
    }
    for (const p of t.producers) {
      let runs = this.#producers.get(p.producer_id);
      if (!runs) {
        runs = [];
        this.#producers.set(p.producer_id, runs);
      }
      for (const [from, to] of p.runs) runs.push({ from, to });
    }
  }

  /**
   * Explains rows [from, to] missing from a zone's chain: tombstone runs must tile the range exactly,
   * link to each other, start from `prevSha` (the hash of row from-1; '' at the chain's start;
   * undefined when unknown) and end in `endSha` (the hash row `to` had: the next row's prev, or the
   * recorded head when the gap is the tail).
   */
  explain(
    zone: string,
    from: number,
    to: number,
    prevSha: string | undefined,
    endSha: string | null,
  ): GapExplanation {
    const runs = this.#byZone.get(zone);
    const first = runs?.get(from);
    if (!runs || !first) return { ok: false, reason: 'no tombstone removes them' };
    if (prevSha !== undefined && (first.prev_sha256 ?? '') !== prevSha) {
      return {
        ok: false,
        reason: `the tombstone of ${first.partition} starts at ${from} after hash ${first.prev_sha256 ?? 'NULL'}, but row ${from - 1} has ${prevSha || 'none'}`,
      };
    }
    const partitions = [first.partition];
    let last = first;
    while (last.to < to) {
      const next = runs.get(last.to + 1);
      if (!next) {
        return {
          ok: false,
          reason: `tombstones remove ${from}..${last.to} only; ${last.to + 1}..${to} have none`,
        };
      }
      if ((next.prev_sha256 ?? '') !== last.last_sha256) {
        return { ok: false, reason: `tombstone runs ${last.to} and ${next.from} do not link` };
      }
      partitions.push(next.partition);
      last = next;
    }
    if (last.to > to) {
      return {
        ok: false,
        reason: `the tombstone of ${last.partition} removes up to ${last.to}, beyond ${to}`,
      };
    }
    if (endSha !== null && last.last_sha256 !== endSha) {
      return {
        ok: false,
        reason: `the tombstone of ${last.partition} ends with hash ${last.last_sha256}, but the chain continues from ${endSha || 'none'}`,
      };
    }
    return { ok: true, partitions: [...new Set(partitions)] };
  }

  /** The tombstoned run holding a zone's chain_seq, if any (checkpoints inside dropped days). */
  runHolding(zone: string, seq: number): TombstoneRun | undefined {
    const runs = this.#byZone.get(zone);
    if (!runs) return undefined;
    for (const r of runs.values()) if (seq >= r.from && seq <= r.to) return r;
    return undefined;
  }

  zones(): string[] {
    return [...this.#byZone.keys()];
  }

  /** True when tombstones removed every producer_seq in [from, to] of a producer. */
  coversProducer(producer: string, from: number, to: number): boolean {
    const runs = this.#producers.get(producer);
    if (!runs) return false;
    let next = from;
    for (const r of [...runs].sort((a, b) => a.from - b.from)) {
      if (r.from > next) break;
      if (r.to >= next) next = r.to + 1;
      if (next > to) return true;
    }
    return next > to;
  }
}
