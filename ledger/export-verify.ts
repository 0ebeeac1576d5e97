// Offline verification of exports (`ledgerhub verify-export`): each object against its signed
// manifest (signature, key, location, SHA-256, size, rows, zones, chain runs) and its rows against the
// chain (content hashes, links, HMACs with a key, exported signed checkpoints); then the set: objects of
// a format must tile the ledger's commit order, and each zone's chain must continue from object to
// object. Every finding names the object, and the zone and chain_seq where there is one.
import { ChainVerifier } from './chain-verifier.ts';
import { type CheckpointClaims, checkCheckpoints } from './checkpoint.ts';
import type { ExportDestination } from './export-destination.ts';
import { decodeNdjsonGz, ExportFormatError } from './export-ndjson.ts';
import { MANIFEST_SUFFIX } from './export-plan.ts';
import type { ExportRow } from './integrity-row-stream.ts';
import { openDocument, type TrustedKeys } from './integrity-signature.ts';
import { compareWithManifest, type ManifestPayload } from './manifest.ts';
import { decodeOcsfParquet } from './parquet-ocsf.ts';
import { sha256Hex } from './s3-sigv4.ts';
import type { HmacKey } from './stream-codec.ts';
import { TombstoneIndex, type TombstonePayload } from './tombstone.ts';

export type ExportFaultKind =
  | 'manifest_missing'
  | 'manifest_invalid'
  | 'object_missing'
  | 'object_moved'
  | 'object_hash_mismatch'
  | 'object_unreadable'
  | 'manifest_mismatch'
  | 'content_mismatch'
  | 'chain_break'
  | 'hmac_mismatch'
  | 'checkpoint_mismatch'
  | 'export_gap'
  | 'evidence_invalid';

export interface ExportFault {
  object: string;
  kind: ExportFaultKind;
  zone_id: string | null;
  chain_seq: number | null;
  detail: string;
}

export interface VerifiedObject {
  key: string;
  manifest: ManifestPayload | null;
  events: number;
  ok: boolean;
}

export interface ExportVerifyReport {
  ok: boolean;
  objects: VerifiedObject[];
  events: number;
  checkpoints: number;
  tombstones: number;
  faults: ExportFault[];
  signatures_checked: boolean;
  hmac_checked: boolean;
  duration_ms: number;
}

export interface ExportVerifyOptions {
  keys: TrustedKeys;
  hmacKey: HmacKey | null;
  onProgress?: (done: number, total: number, key: string) => void;
}

const OBJECT_SUFFIXES = ['.ndjson.gz', '.parquet'];

function isObjectKey(key: string): boolean {
  return OBJECT_SUFFIXES.some((s) => key.endsWith(s));
}

/** Verifies every export object, manifest and evidence document under `prefix` of a source. */
export async function verifyExport(
  source: ExportDestination,
  prefix: string,
  opts: ExportVerifyOptions,
): Promise<ExportVerifyReport> {
  const started = performance.now();
  const keys = await source.list(prefix);
  const faults: ExportFault[] = [];
  const fault = (
    object: string,
    kind: ExportFaultKind,
    detail: string,
    zone: string | null = null,
    seq: number | null = null,
  ) => faults.push({ object, kind, zone_id: zone, chain_seq: seq, detail });

  const { claims, tombstones, checkpoints } = await loadExportedEvidence(source, keys, opts.keys, fault);

  const objectKeys = keys.filter(isObjectKey);
  const manifestKeys = new Set(keys.filter((k) => k.endsWith(MANIFEST_SUFFIX)));
  for (const m of manifestKeys) {
    const objectKeyOf = m.slice(0, -MANIFEST_SUFFIX.length);
    if (isObjectKey(objectKeyOf) && !objectKeys.includes(objectKeyOf)) {
      fault(objectKeyOf, 'object_missing', `the manifest ${m} exists, the object does not`);
    }
  }

  const objects: VerifiedObject[] = [];
  let events = 0;
  for (const [i, key] of objectKeys.entries()) {
    opts.onProgress?.(i, objectKeys.length, key);
    const before = faults.length;
    const result = await verifyObject(
      source,
      key,
      manifestKeys.has(`${key}${MANIFEST_SUFFIX}`),
      opts,
      claims,
      fault,
    );
    events += result.events;
    objects.push({ ...result, ok: faults.length === before });
  }
  checkContinuity(objects, tombstones, fault);

  return {
    ok: faults.length === 0,
    objects,
    events,
    checkpoints,
    tombstones: tombstones.count,
    faults,
    signatures_checked: opts.keys.size > 0,
    hmac_checked: opts.hmacKey !== null,
    duration_ms: Math.round(performance.now() - started),
  };
}

type FaultFn = (
  object: string,
  kind: ExportFaultKind,
  detail: string,
  zone?: string | null,
  seq?: number | null,
) => void;

async function loadExportedEvidence(
  source: ExportDestination,
  keys: string[],
  trusted: TrustedKeys,
  fault: FaultFn,
): Promise<{ claims: CheckpointClaims; tombstones: TombstoneIndex; checkpoints: number }> {
  const stored: { checkpoint_no: number; document: string }[] = [];
  const tombstones = new TombstoneIndex();
  for (const key of keys) {
    const cp = /\/evidence\/checkpoints\/(\d+)\.json$/.exec(key);
    const ts = /\/evidence\/tombstones\/([\w]+)\.json$/.exec(key);
    if (!cp && !ts) continue;
    const body = (await source.get(key))?.toString('utf8') ?? '';
    if (cp) stored.push({ checkpoint_no: Number(cp[1]), document: body.trim() });
    else {
      const opened = openDocument<TombstonePayload>(body.trim(), trusted, 'ledgerhub.tombstone');
      if (opened.ok) tombstones.add(opened.payload);
      else fault(key, 'evidence_invalid', `tombstone: ${opened.reason}`);
    }
  }
  stored.sort((a, b) => a.checkpoint_no - b.checkpoint_no);
  const checked = checkCheckpoints(stored, trusted);
  for (const f of checked.faults) fault('evidence/checkpoints', 'evidence_invalid', f.detail);
  return { claims: checked.claims, tombstones, checkpoints: stored.length };
}

async function verifyObject(
  source: ExportDestination,
  key: string,
  hasManifest: boolean,
  opts: ExportVerifyOptions,
  claims: CheckpointClaims,
  fault: FaultFn,
): Promise<Omit<VerifiedObject, 'ok'>> {
  if (!hasManifest) {
    fault(key, 'manifest_missing', `no ${key}${MANIFEST_SUFFIX}: the object cannot be authenticated`);
    return { key, manifest: null, events: 0 };
  }
  const manifestText = (await source.get(`${key}${MANIFEST_SUFFIX}`))?.toString('utf8') ?? '';
  const opened = openDocument<ManifestPayload>(manifestText, opts.keys, 'ledgerhub.export.manifest');
  if (!opened.ok) {
    fault(key, 'manifest_invalid', opened.reason);
    return { key, manifest: null, events: 0 };
  }
  const m = opened.payload;
  if (!(m.object_key === key || m.object_key.endsWith(`/${key}`))) {
    fault(key, 'object_moved', `the manifest was signed for ${m.object_key}`);
  }
  const body = await source.get(key);
  if (body === null) {
    fault(key, 'object_missing', 'the object disappeared while being verified');
    return { key, manifest: m, events: 0 };
  }
  const sha = sha256Hex(body);
  if (sha !== m.object_sha256 || body.length !== m.object_bytes) {
    fault(
      key,
      'object_hash_mismatch',
      `the object is ${body.length} bytes with SHA-256 ${sha}; the manifest says ${m.object_bytes} bytes with ${m.object_sha256}` +
        (body.length < m.object_bytes ? ' (truncated)' : ''),
    );
  }
  let rows: ExportRow[];
  try {
    rows =
      m.format === 'parquet' || key.endsWith('.parquet')
        ? await decodeOcsfParquet(body)
        : decodeNdjsonGz(body);
  } catch (err) {
    if (!(err instanceof ExportFormatError)) throw err;
    fault(key, 'object_unreadable', err.message);
    return { key, manifest: m, events: 0 };
  }
  for (const d of compareWithManifest(rows, m)) fault(key, 'manifest_mismatch', d);
  verifyRows(key, rows, m, opts.hmacKey, claims, fault);
  return { key, manifest: m, events: rows.length };
}

/** Each zone's rows against the chain, restarting at every run the signed manifest declares. */
function verifyRows(
  key: string,
  rows: ExportRow[],
  m: ManifestPayload,
  hmacKey: HmacKey | null,
  claims: CheckpointClaims,
  fault: FaultFn,
): void {
  const runStarts = new Map<string, Map<number, string>>();
  for (const z of m.zones)
    runStarts.set(z.zone_id, new Map(z.runs.map((r) => [r.from, r.prev_sha256 ?? ''])));
  const byZone = new Map<string, ExportRow[]>();
  for (const r of rows) {
    let list = byZone.get(r.zone_id);
    if (!list) {
      list = [];
      byZone.set(r.zone_id, list);
    }
    list.push(r);
  }
  const verifier = new ChainVerifier(hmacKey);
  for (const [zone, list] of byZone) {
    list.sort((a, b) => a.chain_seq - b.chain_seq);
    verifier.expectClaims(zone, claims.forZone(zone));
    const starts = runStarts.get(zone);
    for (const r of list) {
      const prev = starts?.get(r.chain_seq);
      if (prev !== undefined) verifier.startAfter(zone, r.chain_seq - 1, prev);
      for (const f of verifier.check(r)) {
        fault(key, f.kind as ExportFaultKind, f.detail, f.zone_id, f.chain_seq);
      }
    }
  }
}

/** Objects of a format must tile ledger_seq, and zone chains must continue across objects. */
function checkContinuity(objects: VerifiedObject[], tombstones: TombstoneIndex, fault: FaultFn): void {
  const byFormat = new Map<string, ManifestPayload[]>();
  for (const o of objects) {
    if (!o.manifest) continue;
    let list = byFormat.get(o.manifest.format);
    if (!list) {
      list = [];
      byFormat.set(o.manifest.format, list);
    }
    list.push(o.manifest);
  }
  for (const list of byFormat.values()) {
    list.sort((a, b) => a.ledger_seq.after - b.ledger_seq.after);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const next = list[i]!;
      if (next.ledger_seq.after !== prev.ledger_seq.last) {
        fault(
          next.object_key,
          'export_gap',
          next.ledger_seq.after > prev.ledger_seq.last
            ? `ledger_seq ${prev.ledger_seq.last + 1}..${next.ledger_seq.after} are in no object between ${prev.object_key} and this one`
            : `overlaps ${prev.object_key} (ledger_seq ${next.ledger_seq.after + 1}..${prev.ledger_seq.last} twice)`,
        );
      }
    }
    // each zone's chain, object to object
    const last = new Map<string, { to: number; sha: string; key: string }>();
    for (const m of list) {
      for (const z of m.zones) {
        for (const run of z.runs) {
          const before = last.get(z.zone_id);
          if (before && run.from !== before.to + 1) {
            const missing = run.from > before.to + 1;
            const explained =
              missing &&
              tombstones.explain(z.zone_id, before.to + 1, run.from - 1, before.sha, run.prev_sha256 ?? '')
                .ok;
            if (!explained) {
              fault(
                m.object_key,
                'chain_break',
                missing
                  ? `chain_seq ${before.to + 1}..${run.from - 1} are missing after ${before.key}`
                  : `chain_seq ${run.from} follows ${before.to} in ${before.key}: rows repeated`,
                z.zone_id,
                run.from,
              );
            }
          } else if (before && (run.prev_sha256 ?? '') !== before.sha) {
            fault(
              m.object_key,
              'chain_break',
              `the first row's prev_content_sha256 does not match the last row of ${before.key}`,
              z.zone_id,
              run.from,
            );
          }
          last.set(z.zone_id, { to: run.to, sha: run.last_sha256, key: m.object_key });
        }
      }
    }
  }
}
