// One export unit encoded, pure: the unit's COPY text parsed into rows, then each format's object, its
// SHA-256 and the zones' chain runs the manifests describe. Runs on the export's encoding threads.
import type { ExportFormatName } from './config/maintenance.ts';
import { encodeNdjsonGz } from './export-ndjson.ts';
import { CopyTextRows, type ExportRow, exportRowFromFields } from './integrity-row-stream.ts';
import { type ManifestObject, type ManifestZone, objectDigest, zoneRuns } from './manifest.ts';
import { encodeOcsfParquet } from './parquet-ocsf.ts';

export interface EncodedObject extends ManifestObject {
  format: ExportFormatName;
  body: Buffer;
}

export interface EncodedUnit {
  events: number;
  zones: ManifestZone[];
  objects: EncodedObject[];
}

export interface EncodeSettings {
  formats: ExportFormatName[];
  gzipLevel: number;
}

/** The commit-order range (after, last] a unit covers: every row must lie in it. */
export interface UnitRange {
  afterSeq: number;
  lastSeq: number;
}

/** Rows of COPY text (`EXPORT_COPY_COLUMNS`, text format, UTC timestamps). */
function exportRowsFromCopyText(text: Buffer): ExportRow[] {
  const rows: ExportRow[] = [];
  const lines = new CopyTextRows();
  const add = (f: (string | null)[]) => rows.push(exportRowFromFields(f));
  lines.push(text, add);
  lines.end(add);
  return rows;
}

function encodeRows(rows: ExportRow[], { formats, gzipLevel }: EncodeSettings): EncodedUnit {
  return {
    events: rows.length,
    zones: zoneRuns(rows),
    objects: formats.map((format) => {
      const body = format === 'ndjson' ? encodeNdjsonGz(rows, gzipLevel) : encodeOcsfParquet(rows);
      return { format, body, ...objectDigest(body) };
    }),
  };
}

/**
 * Parses and encodes a unit's COPY text. A row outside the unit's range (the text was cut on the wrong
 * column, say) fails the unit rather than land in the wrong object under a valid signature.
 */
export function encodeUnit(text: Buffer, range: UnitRange, settings: EncodeSettings): EncodedUnit {
  const rows = exportRowsFromCopyText(text);
  const stray = rows.find((r) => !(r.ledger_seq > range.afterSeq && r.ledger_seq <= range.lastSeq));
  if (stray) {
    throw new Error(
      `event ${stray.id} has ledger_seq ${stray.ledger_seq}, outside its unit's (${range.afterSeq}, ${range.lastSeq}]`,
    );
  }
  return encodeRows(rows, settings);
}
