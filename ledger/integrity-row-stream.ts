// Streams ledger rows out of Postgres with `COPY (SELECT ...) TO STDOUT` and parses the COPY text format
// here: node-postgres' per-row parsing of 20 columns is the bottleneck of verification and export.
import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { StoredChainRow } from './chain-verifier.ts';

/** The hashed and chain columns, in StoredChainRow order; jsonb prints as its text form in COPY. */
export const CHAIN_COPY_COLUMNS = `id, zone_id, event_type, request_id, decision, policy_set_id, policy_set_version_id,
  manifest_sha, evaluation_status, determining_policies_json, diagnostics_json, metadata_json,
  (extract(epoch FROM occurred_at) * 1000000)::bigint, content_sha256, prev_content_sha256, chain_hmac, chain_seq`;

/** CHAIN_COPY_COLUMNS plus what an export carries besides. */
export const EXPORT_COPY_COLUMNS = `${CHAIN_COPY_COLUMNS},
  (extract(epoch FROM ingested_at) * 1000000)::bigint, ingest_signature, ledger_seq`;

export interface ExportRow extends StoredChainRow {
  content_sha256: string;
  ingested_at_us: number;
  ingest_signature: string | null;
  ledger_seq: number;
}

type Fields = (string | null)[];

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One COPY text field: `\N` is NULL; backslash sequences are decoded. */
export function decodeCopyField(raw: string): string | null {
  if (raw === '\\N') return null;
  if (!raw.includes('\\')) return raw;
  return raw.replace(
    /\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/g,
    (_m, oct?: string, hex?: string, ch?: string) => {
      if (oct !== undefined) return String.fromCharCode(Number.parseInt(oct, 8));
      if (hex !== undefined) return String.fromCharCode(Number.parseInt(hex, 16));
      return ESCAPES[ch!] ?? ch!;
    },
  );
}

/** Splits COPY text chunks into rows of fields; feed chunks in order, then call end(). */
export class CopyTextRows {
  readonly #decoder = new StringDecoder('utf8');
  #rest = '';

  push(chunk: Buffer, onRow: (fields: Fields) => void): void {
    const text = this.#rest + this.#decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      onRow(splitRow(text.slice(start, nl)));
      start = nl + 1;
    }
    this.#rest = text.slice(start);
  }

  end(onRow: (fields: Fields) => void): void {
    const text = this.#rest + this.#decoder.end();
    this.#rest = '';
    if (text.length > 0) onRow(splitRow(text));
  }
}

function splitRow(line: string): Fields {
  const parts: Fields = line.split('\t');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p.length > 0 && (p.charCodeAt(0) === 0x5c || p.includes('\\'))) parts[i] = decodeCopyField(p);
  }
  return parts;
}

/** Runs `COPY (<query>) TO STDOUT` and calls onRow for every row; resolves with the row count. */
export async function copyRowsOut(
  client: pg.ClientBase,
  query: string,
  onRow: (fields: Fields) => void,
): Promise<number> {
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
  const rows = new CopyTextRows();
  let n = 0;
  const count = (f: Fields) => {
    n++;
    onRow(f);
  };
  for await (const chunk of stream) rows.push(chunk as Buffer, count);
  rows.end(count);
  return n;
}

export function chainRowFromFields(f: Fields): StoredChainRow {
  return {
    id: f[0] as string,
    zone_id: f[1] as string,
    event_type: f[2] as string,
    request_id: f[3] ?? null,
    decision: f[4] ?? null,
    policy_set_id: f[5] ?? null,
    policy_set_version_id: f[6] ?? null,
    manifest_sha: f[7] ?? null,
    evaluation_status: f[8] ?? null,
    determining_policies_json: f[9] ?? null,
    diagnostics_json: f[10] ?? null,
    metadata_json: f[11] ?? null,
    occurred_at_us: Number(f[12]),
    content_sha256: f[13] ?? null,
    prev_content_sha256: f[14] ?? null,
    chain_hmac: f[15] ?? null,
    chain_seq: Number(f[16]),
  };
}

export function exportRowFromFields(f: Fields): ExportRow {
  const row = chainRowFromFields(f) as ExportRow;
  row.content_sha256 ??= '';
  row.ingested_at_us = Number(f[17]);
  row.ingest_signature = f[18] ?? null;
  row.ledger_seq = Number(f[19]);
  return row;
}
