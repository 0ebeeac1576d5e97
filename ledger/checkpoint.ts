// Signed checkpoints, pure: the payload (zone heads that changed, chained to the previous checkpoint's
// signature) and the check of a stored checkpoint sequence, which yields what each zone's chain must
// contain: (chain_seq, hash) pairs nobody without the key can forge or take back.
import type { ChainFault, CheckpointClaim } from './chain-verifier.ts';

export type { CheckpointClaim };

import {
  type EvidencePayload,
  openDocument,
  type SignedDocument,
  type TrustedKeys,
} from './integrity-signature.ts';

export interface CheckpointHead {
  zone_id: string;
  chain_seq: number;
  content_sha256: string;
}

export interface CheckpointPayload extends EvidencePayload {
  type: 'ledgerhub.checkpoint';
  version: 1;
  checkpoint_no: number;
  created_at: string;
  /** The ledger head (last ledger_seq) when the heads were read. */
  ledger_seq: number;
  /** Heads that changed since the previous checkpoint (all of them in the first). */
  zones: CheckpointHead[];
  /** The previous checkpoint's signature (null for checkpoint 1): deleting one breaks the chain. */
  prev_signature: string | null;
}

export function checkpointPayload(
  no: number,
  createdAt: Date,
  ledgerSeq: number,
  zones: CheckpointHead[],
  prevSignature: string | null,
): CheckpointPayload {
  return {
    type: 'ledgerhub.checkpoint',
    version: 1,
    checkpoint_no: no,
    created_at: createdAt.toISOString(),
    ledger_seq: ledgerSeq,
    zones: [...zones].sort((a, b) => (a.zone_id < b.zone_id ? -1 : a.zone_id > b.zone_id ? 1 : 0)),
    prev_signature: prevSignature,
  };
}

/** What the checkpoints say each zone's chain holds: zone -> chain_seq -> hash. */
export class CheckpointClaims {
  readonly #byZone = new Map<string, Map<number, CheckpointClaim>>();
  count = 0;
  last: CheckpointPayload | null = null;

  add(p: CheckpointPayload): void {
    this.count++;
    this.last = p;
    for (const z of p.zones) {
      let claims = this.#byZone.get(z.zone_id);
      if (!claims) {
        claims = new Map();
        this.#byZone.set(z.zone_id, claims);
      }
      claims.set(z.chain_seq, { sha: z.content_sha256, checkpoint_no: p.checkpoint_no });
    }
  }

  zones(): string[] {
    return [...this.#byZone.keys()];
  }

  forZone(zone: string): Map<number, CheckpointClaim> {
    return this.#byZone.get(zone) ?? new Map();
  }

  /** The highest chain_seq any checkpoint signed for a zone, with its claim. */
  highest(zone: string): { seq: number; claim: CheckpointClaim } | null {
    let best: { seq: number; claim: CheckpointClaim } | null = null;
    for (const [seq, claim] of this.forZone(zone)) if (!best || seq > best.seq) best = { seq, claim };
    return best;
  }
}

export interface StoredCheckpoint {
  checkpoint_no: number;
  document: string;
}

function evidenceFault(detail: string): ChainFault {
  return { zone_id: '*', chain_seq: 0, kind: 'checkpoint_invalid', event_id: null, detail };
}

/**
 * Checks stored checkpoints in order: each signature, the numbering (from 1, no gaps) and the link to
 * the previous signature. Checkpoints that fail are reported and not trusted.
 */
export function checkCheckpoints(
  stored: StoredCheckpoint[],
  keys: TrustedKeys,
): { claims: CheckpointClaims; faults: ChainFault[] } {
  const claims = new CheckpointClaims();
  const faults: ChainFault[] = [];
  let expectedNo = 1;
  let prevSignature: string | null = null;
  for (const row of stored) {
    const opened = openDocument<CheckpointPayload>(row.document, keys, 'ledgerhub.checkpoint');
    if (!opened.ok) {
      faults.push(evidenceFault(`checkpoint ${row.checkpoint_no}: ${opened.reason}`));
      expectedNo = row.checkpoint_no + 1;
      prevSignature = signatureOf(row.document);
      continue;
    }
    const p = opened.payload;
    if (p.checkpoint_no !== row.checkpoint_no) {
      faults.push(evidenceFault(`checkpoint ${row.checkpoint_no} is signed as number ${p.checkpoint_no}`));
    } else if (row.checkpoint_no !== expectedNo) {
      faults.push(
        evidenceFault(
          `checkpoint(s) ${expectedNo}..${row.checkpoint_no - 1} are missing before checkpoint ${row.checkpoint_no}`,
        ),
      );
    } else if (p.prev_signature !== prevSignature) {
      faults.push(
        evidenceFault(
          `checkpoint ${row.checkpoint_no} does not link to the signature of checkpoint ${row.checkpoint_no - 1}`,
        ),
      );
    }
    claims.add(p);
    expectedNo = row.checkpoint_no + 1;
    prevSignature = signatureOf(row.document);
  }
  return { claims, faults };
}

function signatureOf(document: string): string | null {
  try {
    const sig = (JSON.parse(document) as Partial<SignedDocument>).signature;
    return typeof sig === 'string' ? sig : null;
  } catch {
    return null;
  }
}
