// Pure chain verification: fed a zone's rows in chain_seq order, it recomputes each content hash,
// checks the link to the previous row and the chain HMAC, and reports every fault with its kind.

import { type ChainFields, chainHmac, contentSha256 } from './chain.ts';
import type { HmacKey } from './stream-codec.ts';

export type ChainFaultKind =
  /** the row's columns no longer hash to its content_sha256: changed in place */
  | 'content_mismatch'
  /** prev_content_sha256 does not match the previous row, or chain_seq skips: rows removed, inserted or reordered */
  | 'chain_break'
  /** chain_hmac does not verify under the key: forged, or written with another key */
  | 'hmac_mismatch'
  /** the zone's recorded head (or a signed checkpoint) is beyond the last row: the tail was cut off */
  | 'tail_truncated';

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

interface ZoneCursor {
  seq: number;
  sha: string;
}

export class ChainVerifier {
  readonly #key: HmacKey | null;
  readonly #zones = new Map<string, ZoneCursor>();
  checked = 0;

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
      if (row.chain_seq !== prev.seq + 1) {
        fault(
          'chain_break',
          row.chain_seq > prev.seq + 1
            ? `chain_seq jumps from ${prev.seq} to ${row.chain_seq}: ${row.chain_seq - prev.seq - 1} row(s) missing`
            : `chain_seq ${row.chain_seq} follows ${prev.seq}: rows duplicated or reordered`,
        );
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
    this.#zones.set(row.zone_id, { seq: row.chain_seq, sha: row.content_sha256 ?? '' });
    return faults;
  }

  /** The last (seq, hash) seen for a zone. */
  position(zone: string): ZoneCursor | undefined {
    return this.#zones.get(zone);
  }

  /** Compares the last row seen with where the chain should end (head table, signed checkpoint). */
  checkTail(zone: string, expectedSeq: number, expectedSha: string | null, source: string): ChainFault[] {
    const last = this.#zones.get(zone) ?? { seq: 0, sha: '' };
    if (last.seq < expectedSeq) {
      return [
        {
          zone_id: zone,
          chain_seq: last.seq + 1,
          kind: 'tail_truncated',
          event_id: null,
          detail: `${source} records chain_seq ${expectedSeq}, but the last row is ${last.seq}: ${expectedSeq - last.seq} row(s) missing at the end`,
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
