// Tombstones in Postgres: summarising a daily partition's rows (chain runs, boundary hashes, producer
// sequences), recording the signed tombstone, and checking whether rows arrived after a summary.
import type pg from 'pg';
import type { CheckpointSigner } from './checkpoint-key.ts';
import { copyRowsOut } from './integrity-row-stream.ts';
import { type SignedDocument, signDocument } from './integrity-signature.ts';
import { PRODUCER_ID_KEY, PRODUCER_SEQ_KEY } from './producer-completeness.ts';
import { partitionDay, partitionRange, type RetentionPolicy } from './retention-policy.ts';
import { PartitionSummary, type TombstonePayload } from './tombstone.ts';

/**
 * The rows of one daily partition, read through the parent (privileges on audit_events do not extend
 * to reading its partitions directly; the day's range prunes to exactly that partition).
 */
function partitionRows(client: pg.ClientBase, name: string): string {
  const day = partitionDay(name);
  if (day === null) throw new Error(`not a daily partition name: ${name}`);
  const { from, to } = partitionRange(day);
  return `audit_events WHERE occurred_at >= ${client.escapeLiteral(from)} AND occurred_at < ${client.escapeLiteral(to)}`;
}

/** Reads a partition's rows in (zone_id, chain_seq) order into a summary. */
export async function summarisePartition(client: pg.ClientBase, name: string): Promise<PartitionSummary> {
  const summary = new PartitionSummary();
  await copyRowsOut(
    client,
    `SELECT zone_id, chain_seq, content_sha256, prev_content_sha256,
            metadata_json->>'${PRODUCER_ID_KEY}',
            CASE WHEN jsonb_typeof(metadata_json->'${PRODUCER_SEQ_KEY}') = 'number'
                 THEN metadata_json->>'${PRODUCER_SEQ_KEY}' END
     FROM ${partitionRows(client, name)} ORDER BY zone_id, chain_seq`,
    (f) => {
      const producerId = f[4];
      const producerSeq = f[5] === null || f[5] === undefined ? Number.NaN : Number(f[5]);
      summary.add(
        f[0] as string,
        Number(f[1]),
        f[2] ?? '',
        f[3] ?? null,
        producerId && Number.isSafeInteger(producerSeq) && producerSeq >= 1
          ? { id: producerId, seq: producerSeq }
          : null,
      );
    },
  );
  return summary;
}

export function tombstonePayload(
  name: string,
  summary: PartitionSummary,
  policy: RetentionPolicy,
  droppedAt: Date,
): TombstonePayload {
  const day = partitionDay(name);
  if (day === null) throw new Error(`not a daily partition name: ${name}`);
  return {
    type: 'ledgerhub.tombstone',
    version: 1,
    partition: name,
    day,
    range: partitionRange(day),
    dropped_at: droppedAt.toISOString(),
    policy: { retention_days: policy.retention_days, max_days: policy.max_days, source: policy.source },
    event_count: summary.count,
    zones: summary.zones(),
    producers: summary.producers(),
  };
}

/** A tombstone payload with its signed document, ready to record. */
export interface SignedTombstone {
  payload: TombstonePayload;
  document: SignedDocument;
}

export function signTombstone(signer: CheckpointSigner, payload: TombstonePayload): SignedTombstone {
  return { payload, document: signDocument(signer, payload) };
}

/**
 * Which of these partitions already have a recorded tombstone: a day dropped before whose partition
 * was created again by hand. Retention refuses those rather than fail inside its retire transaction.
 */
export async function tombstonedPartitions(client: pg.ClientBase, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await client.query<{ partition_name: string }>(
    'SELECT partition_name FROM audit_tombstones WHERE partition_name = ANY($1::text[]) ORDER BY 1',
    [names],
  );
  return rows.map((r) => r.partition_name);
}

/** Inserts signed tombstones (one statement); returns their ids by partition. */
export async function recordTombstones(
  client: pg.ClientBase,
  tombstones: SignedTombstone[],
): Promise<Map<string, number>> {
  const payloads = tombstones.map((t) => t.payload);
  const { rows } = await client.query<{ id: number; partition_name: string }>(
    `INSERT INTO audit_tombstones (partition_name, day, event_count, dropped_at, key_fingerprint, document)
     SELECT p, d, n, t, f, doc FROM unnest($1::text[], $2::date[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[]) AS u(p, d, n, t, f, doc)
     RETURNING id, partition_name`,
    [
      payloads.map((p) => p.partition),
      payloads.map((p) => p.day),
      payloads.map((p) => p.event_count),
      payloads.map((p) => p.dropped_at),
      tombstones.map((t) => t.document.key_fingerprint),
      tombstones.map((t) => JSON.stringify(t.document)),
    ],
  );
  return new Map(rows.map((r) => [r.partition_name, r.id]));
}
