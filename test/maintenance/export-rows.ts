// Export rows built without a database, for the format tests: realistic events prepared and chained as
// the worker does, plus an event whose values exercise every escape (numbers kept as written, quotes,
// backslashes, tabs, non-ASCII, emoji).
import { extendChains } from '../../ledger/append-batch.ts';
import { isoFromMicros } from '../../ledger/chain.ts';
import type { ExportRow } from '../../ledger/integrity-row-stream.ts';
import { OCSF_COLUMNS, ocsfColumnValues } from '../../ledger/parquet-ocsf.ts';
import { writeParquet } from '../../ledger/parquet-write.ts';
import { prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';

/** n realistic events in zones z1 and z2, then the raw JSON events given. */
export function exportRows(n: number, raw: string[] = []): ExportRow[] {
  const input = [
    ...realisticEvents(n, { seed: 12, zones: ['z1', 'z2'] }).map((e) => JSON.stringify(e)),
    ...raw,
  ];
  const events = input.map((data) => {
    const p = prepareEvent(data, 'ab'.repeat(32));
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });
  return extendChains(events, new Map(), 100, null).map((s, i) => ({
    ...events[i]!,
    ...s,
    occurred_at_text: isoFromMicros(events[i]!.occurred_at_us),
    ingested_at_text: isoFromMicros(events[i]!.occurred_at_us + 1234),
    ingest_signature: events[i]!.ingest_signature,
  }));
}

/** Raw JSON, so number texts such as 1.50 and 1e2 reach the ledger as a producer wrote them. */
export const TRICKY_EVENT = `{"id": "evt-tricky", "zone_id": "z1", "event_type": "token_exchange", "request_id": "r\\t1\\n",
  "decision": "deny", "evaluation_status": "scope_mismatch",
  "determining_policies_json": [{"policy": "p", "weight": 1.50, "big": 12345678901234567890, "exp": 1e2}],
  "diagnostics_json": [{"message": "quote \\" backslash \\\\ unicode \u00e9 \u2713 \u2028 emoji \ud83e\udd80"}],
  "metadata_json": null, "occurred_at": "2026-03-04T05:06:07.123456789+02:00"}`;

/**
 * Rows as OCSF Parquet written unlike the export writes it (no dictionaries, no compression, row groups
 * of 7): other bytes for the same content. `edit` changes column values first; `omit` leaves columns out.
 */
export function ocsfParquetVariant(
  rows: ExportRow[],
  { edit, omit = [] }: { edit?: (v: ReturnType<typeof ocsfColumnValues>) => void; omit?: string[] } = {},
): Buffer {
  const values = ocsfColumnValues(rows);
  edit?.(values);
  return writeParquet({
    columns: OCSF_COLUMNS.filter((c) => !omit.includes(c.name)).map((c) => ({
      name: c.name,
      type: c.type,
      values: values[c.name]!,
      dictionary: false,
      compressed: false,
      statistics: false,
    })),
    rows: rows.length,
    rowGroupRows: 7,
    codec: { id: 0, compress: (b) => b },
    createdBy: 'an earlier ledgerhub',
    kvMetadata: [],
  });
}
