// Pure chain verification: fed a zone's rows in chain_seq order, it recomputes each content hash,
// checks the link to the previous row and the chain HMAC, and reports every fault with its kind.
// Given trusted tombstones it accepts gaps removed by retention policy; given signed checkpoints it
// checks the rows they name.

import { type ChainFields, chainHmac, contentSha256 } from './chain.ts';
import type { HmacKey } from './stream-codec.ts';
import type { TombstoneIndex } from './tombstone.ts';

export type ChainFaultKind =
  /** the row's columns no longer hash to its content_sha256: changed in place */
  | 'content_mismatch'
  /** prev_content_sha256 does not match the previous row, or chain_seq skips: rows removed, inserted or reordered */
  | 'chain_break'
  /** chain_hmac does not verify under the key: forged, or written with another key */
  | 'hmac_mismatch'
  /** the zone's recorded head (or a signed checkpoint) is beyond the last row: the tail was cut off */
  | 'tail_truncated'
  /** a row's hash differs from what a signed checkpoint recorded at its chain_seq: history rewritten */
  | 'checkpoint_mismatch'
  /** a stored checkpoint does not verify, is missing from the sequence, or does not link */
  | 'checkpoint_invalid'
  /** a stored tombstone does not verify (it is ignored, so its gap shows as a chain break) */
  | 'tombstone_invalid'
  /** a producer's producer_seq skips values that neither the ledger nor a tombstone holds */
  | 'producer_gap';

export interface ChainFault {
  zone_id: string;
  chain_seq: number;
  kind: ChainFaultKind;
  event_id: string | null;
  detail: string;
}

export interface StoredChainRow extends ChainFields {
  content_sha256: string | null;
  prev_content_sha256: string | null;
  chain_hmac: string | null;
  chain_seq: number;
}

/** What a signed checkpoint says the row at a chain_seq hashes to. */
export interface CheckpointClaim {
  sha: string;
  checkpoint_no: number;
}

interface ZoneCursor {
  seq: number;
  sha: string;
}

export class ChainVerifier {
  readonly #key: HmacKey | null;
  readonly #zones = new Map<string, ZoneCursor>();
  readonly #claims = new Map<string, Map<number, CheckpointClaim>>();
  #tombstones: TombstoneIndex | null = null;
  checked = 0;
  /** Rows found missing but removed by policy (explained by a trusted tombstone). */
  tombstoned = 0;
  /** Checkpoint claims compared with a row or a tombstone. */
  claimsChecked = 0;

  /** With no key, HMACs are not checked (chain_hmac is expected to be empty, as Caracal writes it). */
  constructor(key: HmacKey | null) {
    this.#key = key;
  }

  /**
   * Declares where verification of a zone starts: after `seq` whose stored hash is `sha` (or the
   * beginning of the chain when seq is 0). Without it, the first row seen is trusted as a start.
   */
  startAfter(zone: string, seq: number, sha: string): void {
    this.#zones.set(zone, { seq, sha });
  }

  /** Gaps that trusted tombstones explain are deletion by policy, not faults. */
  useTombstones(index: TombstoneIndex): void {
    this.#tombstones = index;
  }

  /** Signed checkpoint claims for a zone: the row at each chain_seq must carry that hash. */
  expectClaims(zone: string, claims: Map<number, CheckpointClaim>): void {
    if (claims.size > 0) this.#claims.set(zone, claims);
  }

  check(row: StoredChainRow): ChainFault[] {
    this.checked++;
    const faults: ChainFault[] = [];
    const fault = (kind: ChainFaultKind, detail: string) =>
      faults.push({ zone_id: row.zone_id, chain_seq: row.chain_seq, kind, event_id: row.id, detail });

    const recomputed = contentSha256(row);
    if (recomputed !== row.content_sha256) {
      fault(
        'content_mismatch',
        `stored content_sha256 ${row.content_sha256 ?? 'NULL'}, recomputed ${recomputed}`,
      );
    }
    const prev = this.#zones.get(row.zone_id);
    const storedPrev = row.prev_content_sha256 ?? '';
    if (prev !== undefined) {
      if (row.chain_seq > prev.seq + 1) {
        const missing = `chain_seq jumps from ${prev.seq} to ${row.chain_seq}: ${row.chain_seq - prev.seq - 1} row(s) missing`;
        const why = this.#explainGap(row.zone_id, prev.seq + 1, row.chain_seq - 1, prev, storedPrev);
        if (why !== null) fault('chain_break', this.#tombstones ? `${missing} (${why})` : missing);
      } else if (row.chain_seq !== prev.seq + 1) {
        fault('chain_break', `chain_seq ${row.chain_seq} follows ${prev.seq}: rows duplicated or reordered`);
      } else if (storedPrev !== prev.sha) {
        fault(
          'chain_break',
          `prev_content_sha256 ${storedPrev || 'NULL'} does not match row ${prev.seq} (${prev.sha})`,
        );
      }
    } else if (row.chain_seq === 1 && storedPrev !== '') {
      fault('chain_break', 'the first row of the chain names a predecessor');
    }
    if (this.#key !== null) {
      const expected = chainHmac(this.#key, row.content_sha256 ?? '', storedPrev);
      if (expected !== row.chain_hmac)
        fault('hmac_mismatch', 'chain_hmac does not verify under the configured key');
    }
    const claim = this.#claims.get(row.zone_id)?.get(row.chain_seq);
    if (claim !== undefined) {
      this.claimsChecked++;
      if (claim.sha !== row.content_sha256) {
        fault(
          'checkpoint_mismatch',
          `signed checkpoint ${claim.checkpoint_no} records hash ${claim.sha} at chain_seq ${row.chain_seq}, the row has ${row.content_sha256 ?? 'NULL'}`,
        );
      }
    }
    this.#zones.set(row.zone_id, { seq: row.chain_seq, sha: row.content_sha256 ?? '' });
    return faults;
  }

  /**
   * Null when trusted tombstones remove exactly rows [from, to] (also checking checkpoint claims that
   * fall inside them); otherwise why the gap is not deletion by policy.
   */
  #explainGap(
    zone: string,
    from: number,
    to: number,
    before: ZoneCursor,
    endSha: string | null,
  ): string | null {
    if (this.#tombstones === null) return 'no tombstones loaded';
    const prevSha = before.seq === 0 ? '' : before.seq === from - 1 ? before.sha : undefined;
    const explained = this.#tombstones.explain(zone, from, to, prevSha, endSha);
    if (!explained.ok) return explained.reason;
    for (const [seq, claim] of this.#claims.get(zone) ?? []) {
      if (seq < from || seq > to) continue;
      this.claimsChecked++;
      const run = this.#tombstones.runHolding(zone, seq);
      if (run && run.to === seq && run.last_sha256 !== claim.sha) {
        return `signed checkpoint ${claim.checkpoint_no} records hash ${claim.sha} at chain_seq ${seq}, the tombstone ${run.last_sha256}`;
      }
    }
    this.tombstoned += to - from + 1;
    return null;
  }

  /** The last (seq, hash) seen for a zone. */
  position(zone: string): ZoneCursor | undefined {
    return this.#zones.get(zone);
  }

  /** Compares the last row seen with where the chain should end (head table, signed checkpoint). */
  checkTail(zone: string, expectedSeq: number, expectedSha: string | null, source: string): ChainFault[] {
    const last = this.#zones.get(zone) ?? { seq: 0, sha: '' };
    if (last.seq < expectedSeq) {
      const why = this.#explainGap(zone, last.seq + 1, expectedSeq, last, expectedSha);
      if (why === null) {
        this.#zones.set(zone, { seq: expectedSeq, sha: expectedSha ?? last.sha });
        return [];
      }
      return [
        {
          zone_id: zone,
          chain_seq: last.seq + 1,
          kind: 'tail_truncated',
          event_id: null,
          detail:
            `${source} records chain_seq ${expectedSeq}, but the last row is ${last.seq}: ${expectedSeq - last.seq} row(s) missing at the end` +
            (this.#tombstones ? ` (${why})` : ''),
        },
      ];
    }
    if (last.seq === expectedSeq && expectedSha !== null && last.sha !== expectedSha) {
      return [
        {
          zone_id: zone,
          chain_seq: last.seq,
          kind: 'chain_break',
          event_id: null,
          detail: `${source} records hash ${expectedSha} at chain_seq ${expectedSeq}, the row has ${last.sha}`,
        },
      ];
    }
    return [];
  }
}
