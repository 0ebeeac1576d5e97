// Loads the ledger's own signed evidence (tombstones and checkpoints) and checks each signature, so the
// chain verifier trusts only what the checkpoint key signed.
import type pg from 'pg';
import type { ChainFault } from './chain-verifier.ts';
import { type CheckpointClaims, checkCheckpoints, type StoredCheckpoint } from './checkpoint.ts';
import { openDocument, type TrustedKeys } from './integrity-signature.ts';
import { TombstoneIndex, type TombstonePayload } from './tombstone.ts';

export interface LedgerEvidence {
  tombstones: TombstoneIndex;
  claims: CheckpointClaims;
  faults: ChainFault[];
  /** False when no public key was configured: documents were read but their signatures not checked. */
  signaturesChecked: boolean;
}

/** The stored evidence documents, as read (to be checked by evidenceFrom, here or on another thread). */
export interface EvidenceRows {
  tombstones: { partition_name: string; document: string }[];
  checkpoints: StoredCheckpoint[];
}

export async function loadEvidenceRows(db: pg.Pool | pg.ClientBase): Promise<EvidenceRows> {
  const tombstones = await db.query<{ partition_name: string; document: string }>(
    'SELECT partition_name, document FROM audit_tombstones ORDER BY day, id',
  );
  const checkpoints = await db.query<StoredCheckpoint>(
    'SELECT checkpoint_no, document FROM audit_checkpoints ORDER BY checkpoint_no',
  );
  return { tombstones: tombstones.rows, checkpoints: checkpoints.rows };
}

/** Checks every document's signature and builds what the verifier trusts. */
export function evidenceFrom(rows: EvidenceRows, keys: TrustedKeys): LedgerEvidence {
  const tombstones = new TombstoneIndex();
  const faults: ChainFault[] = [];
  for (const row of rows.tombstones) {
    const opened = openDocument<TombstonePayload>(row.document, keys, 'ledgerhub.tombstone');
    if (!opened.ok) {
      faults.push(tombstoneFault(row.partition_name, opened.reason));
    } else if (opened.payload.partition !== row.partition_name) {
      faults.push(tombstoneFault(row.partition_name, `it is signed for ${opened.payload.partition}`));
    } else {
      tombstones.add(opened.payload);
    }
  }
  const checked = checkCheckpoints(rows.checkpoints, keys);
  faults.push(...checked.faults);
  return { tombstones, claims: checked.claims, faults, signaturesChecked: keys.size > 0 };
}

function tombstoneFault(partition: string, reason: string): ChainFault {
  return {
    zone_id: '*',
    chain_seq: 0,
    kind: 'tombstone_invalid',
    event_id: null,
    detail: `tombstone of ${partition}: ${reason}; its rows count as missing`,
  };
}
