// Writes signed checkpoints: the zone heads that changed since the last checkpoint, read in one
// snapshot with the ledger head, signed and chained to the previous checkpoint's signature.
import type pg from 'pg';
import { type CheckpointHead, type CheckpointPayload, checkpointPayload } from './checkpoint.ts';
import type { CheckpointSigner } from './checkpoint-key.ts';
import { type SignedDocument, signDocument } from './integrity-signature.ts';

const CHECKPOINT_LOCK = 0x4c48_4348_4b50_4e54n; // "LH" "CHKPNT"

export interface WrittenCheckpoint {
  checkpoint_no: number;
  zones: number;
  ledger_seq: number;
  document: SignedDocument;
  payload: CheckpointPayload;
}

/** Signs the changed heads into the next checkpoint; null when no head changed since the last one. */
export async function writeCheckpoint(
  pool: pg.Pool,
  signer: CheckpointSigner,
): Promise<WrittenCheckpoint | null> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHECKPOINT_LOCK.toString()]);
    // one statement, one snapshot: heads and the ledger head agree
    const { rows } = await client.query<CheckpointHead & { ledger_seq: number }>(
      `SELECT (SELECT last_ledger_seq FROM audit_ledger_state) AS ledger_seq, h.zone_id, h.chain_seq, h.content_sha256
       FROM audit_chain_heads h LEFT JOIN audit_checkpoint_heads c ON c.zone_id = h.zone_id
       WHERE c.zone_id IS NULL OR c.chain_seq <> h.chain_seq OR c.content_sha256 <> h.content_sha256`,
    );
    if (rows.length === 0) {
      await client.query('ROLLBACK');
      return null;
    }
    const last = await client.query<{ checkpoint_no: number; document: string }>(
      'SELECT checkpoint_no, document FROM audit_checkpoints ORDER BY checkpoint_no DESC LIMIT 1',
    );
    const prev = last.rows[0];
    const no = (prev?.checkpoint_no ?? 0) + 1;
    const prevSignature = prev ? (JSON.parse(prev.document) as SignedDocument).signature : null;
    const zones = rows.map((r) => ({
      zone_id: r.zone_id,
      chain_seq: r.chain_seq,
      content_sha256: r.content_sha256,
    }));
    const payload = checkpointPayload(no, new Date(), rows[0]!.ledger_seq, zones, prevSignature);
    const document = signDocument(signer, payload);
    await client.query(
      `INSERT INTO audit_checkpoints (checkpoint_no, created_at, ledger_seq, zone_count, key_fingerprint, document)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        no,
        payload.created_at,
        payload.ledger_seq,
        zones.length,
        signer.fingerprint,
        JSON.stringify(document),
      ],
    );
    await client.query(
      `INSERT INTO audit_checkpoint_heads (zone_id, chain_seq, content_sha256, checkpoint_no)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], array_fill($4::bigint, ARRAY[$5::int]))
       ON CONFLICT (zone_id) DO UPDATE SET chain_seq = EXCLUDED.chain_seq,
         content_sha256 = EXCLUDED.content_sha256, checkpoint_no = EXCLUDED.checkpoint_no`,
      [
        zones.map((z) => z.zone_id),
        zones.map((z) => z.chain_seq),
        zones.map((z) => z.content_sha256),
        no,
        zones.length,
      ],
    );
    await client.query('COMMIT');
    return { checkpoint_no: no, zones: zones.length, ledger_seq: payload.ledger_seq, document, payload };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Checkpoints created in [from, to), for export alongside the hour's objects. */
export async function checkpointsBetween(
  db: pg.Pool | pg.ClientBase,
  from: string,
  to: string,
): Promise<{ checkpoint_no: number; document: string }[]> {
  const { rows } = await db.query<{ checkpoint_no: number; document: string }>(
    'SELECT checkpoint_no, document FROM audit_checkpoints WHERE created_at >= $1 AND created_at < $2 ORDER BY checkpoint_no',
    [from, to],
  );
  return rows;
}
