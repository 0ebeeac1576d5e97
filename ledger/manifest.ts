// Export manifests, pure: the signed description of one export object (schema version, commit-order
// range, zones with their chain_seq runs and boundary hashes, counts, the object's SHA-256 and size),
// and the comparison of an object's decoded rows with it. A manifest depends only on the rows and the
// key (no clock), so a re-run writes byte-identical manifests.
import { createHash } from 'node:crypto';
import { EVENT_SCHEMA_VERSION } from './event.ts';
import type { ExportRow } from './integrity-row-stream.ts';
import type { EvidencePayload } from './integrity-signature.ts';
import { PartitionSummary, type TombstoneZone } from './tombstone.ts';

export type ManifestZone = TombstoneZone;

export interface ManifestPayload extends EvidencePayload {
  type: 'ledgerhub.export.manifest';
  version: 1;
  /** Caracal event schema the rows follow. */
  event_schema: string;
  object_key: string;
  format: 'ndjson.gz' | 'parquet';
  /** The hour (UTC) whose commits the object holds. */
  hour: string;
  part: number;
  parts: number;
  /** The commit-order range (after, last] the object covers; consecutive objects tile ledger_seq. */
  ledger_seq: { after: number; last: number };
  event_count: number;
  object_sha256: string;
  object_bytes: number;
  zones: ManifestZone[];
}

export interface ManifestInput {
  objectKey: string;
  format: ManifestPayload['format'];
  hourMs: number;
  part: number;
  parts: number;
  afterSeq: number;
  lastSeq: number;
}

/** Per-zone chain runs of rows (in commit order or chain order within each zone). */
export function zoneRuns(rows: ExportRow[]): ManifestZone[] {
  const summary = new PartitionSummary();
  for (const r of rows) summary.add(r.zone_id, r.chain_seq, r.content_sha256, r.prev_content_sha256);
  return summary.zones();
}

/** The object a manifest describes: its size and SHA-256 (hex). */
export interface ManifestObject {
  bytes: number;
  sha256: string;
}

export function objectDigest(body: Buffer): ManifestObject {
  return { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

export function manifestPayload(
  input: ManifestInput,
  eventCount: number,
  zones: ManifestZone[],
  object: ManifestObject,
): ManifestPayload {
  return {
    type: 'ledgerhub.export.manifest',
    version: 1,
    event_schema: EVENT_SCHEMA_VERSION,
    object_key: input.objectKey,
    format: input.format,
    hour: new Date(input.hourMs).toISOString(),
    part: input.part,
    parts: input.parts,
    ledger_seq: { after: input.afterSeq, last: input.lastSeq },
    event_count: eventCount,
    object_sha256: object.sha256,
    object_bytes: object.bytes,
    zones,
  };
}

/** Differences between decoded rows and what their manifest says (empty when they agree). */
export function compareWithManifest(rows: ExportRow[], m: ManifestPayload): string[] {
  const out: string[] = [];
  if (rows.length !== m.event_count)
    out.push(`holds ${rows.length} event(s), the manifest says ${m.event_count}`);
  const outside = rows.find((r) => r.ledger_seq <= m.ledger_seq.after || r.ledger_seq > m.ledger_seq.last);
  if (outside) {
    out.push(
      `event ${outside.id} has ledger_seq ${outside.ledger_seq}, outside the manifest's (${m.ledger_seq.after}, ${m.ledger_seq.last}]`,
    );
  }
  const sorted = [...rows].sort((a, b) => a.ledger_seq - b.ledger_seq);
  const actual = new Map(zoneRuns(sorted).map((z) => [z.zone_id, z]));
  const declared = new Map(m.zones.map((z) => [z.zone_id, z]));
  for (const [zone, d] of declared) {
    const a = actual.get(zone);
    if (!a) {
      out.push(`zone ${zone}: the manifest lists ${d.count} event(s), the object has none`);
      continue;
    }
    if (a.count !== d.count)
      out.push(`zone ${zone}: holds ${a.count} event(s), the manifest says ${d.count}`);
    const dr = d.runs.map(describeRun).join(', ');
    const ar = a.runs.map(describeRun).join(', ');
    if (dr !== ar) out.push(`zone ${zone}: holds chain_seq ${ar}, the manifest says ${dr}`);
  }
  for (const [zone, a] of actual) {
    if (!declared.has(zone)) out.push(`zone ${zone}: ${a.count} event(s) the manifest does not list`);
  }
  return out;
}

function describeRun(r: ManifestZone['runs'][number]): string {
  return `${r.from}..${r.to} [${r.prev_sha256 ?? 'start'} -> ${r.first_sha256}..${r.last_sha256}]`;
}
