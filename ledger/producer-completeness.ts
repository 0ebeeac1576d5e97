// Producer completeness, beyond Caracal: events whose metadata_json carries `producer_id` and
// `producer_seq` (an integer counting from 1 per producer, without gaps) let the verifier find events a
// producer sent that never reached the ledger. Gaps removed by retention (tombstones) are not faults.
import type { ChainFault } from './chain-verifier.ts';
import type { TombstoneIndex } from './tombstone.ts';

/** The metadata keys (top level of metadata_json) producers use to number their events. */
export const PRODUCER_ID_KEY = 'producer_id';
export const PRODUCER_SEQ_KEY = 'producer_seq';

export interface ProducerSequence {
  id: string;
  seq: number;
}

/** The producer numbering of an event from its metadata_json text, or null when it has none. */
export function producerSequenceOf(metadataJson: string | null): ProducerSequence | null {
  // the common case (no numbering) costs one substring search, not a parse
  if (metadataJson === null || !metadataJson.includes(`"${PRODUCER_SEQ_KEY}"`)) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(metadataJson);
  } catch {
    return null;
  }
  if (meta === null || typeof meta !== 'object') return null;
  const id = (meta as Record<string, unknown>)[PRODUCER_ID_KEY];
  const seq = (meta as Record<string, unknown>)[PRODUCER_SEQ_KEY];
  if (
    typeof id !== 'string' ||
    id === '' ||
    typeof seq !== 'number' ||
    !Number.isSafeInteger(seq) ||
    seq < 1
  ) {
    return null;
  }
  return { id, seq };
}

export interface ProducerObservations {
  zones: string[];
  producers: [string, Observed][];
}

interface Observed {
  seqs: number[];
  zones: number[];
  chainSeqs: number[];
}

export interface ProducerGap {
  producer_id: string;
  from: number;
  to: number;
  /** Where the first event after the gap is stored. */
  zone_id: string;
  chain_seq: number;
  event_seq: number;
}

/** Collects (producer, seq) with where each event is stored, then finds the gaps. */
export class ProducerSequences {
  readonly #producers = new Map<string, Observed>();
  readonly #zoneNames: string[] = [];
  readonly #zoneIndex = new Map<string, number>();
  observed = 0;

  observe(p: ProducerSequence, zone: string, chainSeq: number): void {
    this.observed++;
    let o = this.#producers.get(p.id);
    if (!o) {
      o = { seqs: [], zones: [], chainSeqs: [] };
      this.#producers.set(p.id, o);
    }
    let z = this.#zoneIndex.get(zone);
    if (z === undefined) {
      z = this.#zoneNames.push(zone) - 1;
      this.#zoneIndex.set(zone, z);
    }
    o.seqs.push(p.seq);
    o.zones.push(z);
    o.chainSeqs.push(chainSeq);
  }

  get producerCount(): number {
    return this.#producers.size;
  }

  /** Everything observed, as plain data (to cross a thread boundary). */
  snapshot(): ProducerObservations {
    return { zones: [...this.#zoneNames], producers: [...this.#producers] };
  }

  /** Adds what another collector observed (zones disjoint or not; gaps are computed over the union). */
  absorb(other: ProducerObservations): void {
    for (const [id, o] of other.producers) {
      for (let i = 0; i < o.seqs.length; i++) {
        this.observe({ id, seq: o.seqs[i]! }, other.zones[o.zones[i]!]!, o.chainSeqs[i]!);
      }
    }
  }

  /**
   * Gaps between observed sequence numbers (including before the first, when it is above 1) that no
   * tombstone explains. Events lost after a producer's last stored one cannot be seen this way.
   */
  gaps(tombstones: TombstoneIndex | null): ProducerGap[] {
    const out: ProducerGap[] = [];
    for (const [id, o] of [...this.#producers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const order = o.seqs.map((_, i) => i).sort((a, b) => o.seqs[a]! - o.seqs[b]!);
      let expected = 1;
      for (const i of order) {
        const seq = o.seqs[i]!;
        if (seq > expected && !(tombstones?.coversProducer(id, expected, seq - 1) ?? false)) {
          out.push({
            producer_id: id,
            from: expected,
            to: seq - 1,
            zone_id: this.#zoneNames[o.zones[i]!]!,
            chain_seq: o.chainSeqs[i]!,
            event_seq: seq,
          });
        }
        if (seq >= expected) expected = seq + 1;
      }
    }
    return out;
  }
}

export function producerGapFault(g: ProducerGap): ChainFault {
  const n = g.to - g.from + 1;
  return {
    zone_id: g.zone_id,
    chain_seq: g.chain_seq,
    kind: 'producer_gap',
    event_id: null,
    detail: `producer ${g.producer_id}: producer_seq ${g.from === g.to ? g.from : `${g.from}..${g.to}`} missing (${n} event(s)) before ${g.event_seq}`,
  };
}
