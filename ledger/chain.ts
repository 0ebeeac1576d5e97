// The per-zone hash chain exactly as Caracal computes it: content_sha256 over the listed fields each
// followed by 0x1F, then occurred_at as decimal UnixNano at microsecond precision; chain_hmac over
// content + "|" + prev under the hex AUDIT_HMAC_KEY.
import { createHmac, hash } from 'node:crypto';
import { RFC3339 } from './event.ts';
import type { HmacKey } from './stream-codec.ts';

const SEP = '\u001f';

/** The hashed columns of one stored event, JSON fields already in jsonb text form (null when absent). */
export interface ChainFields {
  id: string;
  zone_id: string;
  event_type: string;
  request_id: string | null;
  decision: string | null;
  policy_set_id: string | null;
  policy_set_version_id: string | null;
  manifest_sha: string | null;
  evaluation_status: string | null;
  determining_policies_json: string | null;
  diagnostics_json: string | null;
  metadata_json: string | null;
  /** Microseconds since the Unix epoch (occurred_at truncated to microseconds). */
  occurred_at_us: number;
}

export function contentSha256(f: ChainFields): string {
  const material =
    f.id +
    SEP +
    f.zone_id +
    SEP +
    f.event_type +
    SEP +
    (f.request_id ?? '') +
    SEP +
    (f.decision ?? '') +
    SEP +
    (f.policy_set_id ?? '') +
    SEP +
    (f.policy_set_version_id ?? '') +
    SEP +
    (f.manifest_sha ?? '') +
    SEP +
    (f.evaluation_status ?? '') +
    SEP +
    (f.determining_policies_json ?? 'null') +
    SEP +
    (f.diagnostics_json ?? 'null') +
    SEP +
    (f.metadata_json ?? 'null') +
    SEP +
    unixNano(f.occurred_at_us);
  // one-shot: no Hash object per row
  return hash('sha256', material, 'hex');
}

/** hex HMAC-SHA256(key, content + "|" + prev); "" when no key is configured, as Caracal stores it. */
export function chainHmac(key: HmacKey | null, content: string, prev: string): string {
  if (key === null) return '';
  return createHmac('sha256', key).update(`${content}|${prev}`, 'utf8').digest('hex');
}

/** Decimal nanoseconds from microseconds, without floating point: UnixNano = us * 1000. */
export function unixNano(us: number): string {
  return us === 0 ? '0' : `${us}000`;
}

export interface ParsedTimestamp {
  /** Microseconds since the Unix epoch, truncated (not rounded), as Postgres stores timestamptz. */
  us: number;
  /** The same instant as `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
  iso: string;
}

/** Earliest and latest occurred_at accepted: inside both Go's UnixNano range and Postgres' partitions. */
export const OCCURRED_AT_MIN_US = Date.UTC(1970, 0, 1) * 1000;
export const OCCURRED_AT_MAX_US = Date.UTC(2262, 0, 1) * 1000;

/** Parses RFC 3339 with microsecond truncation; returns null for anything malformed or out of range. */
export function parseOccurredAt(value: string): ParsedTimestamp | null {
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1) return null; // 2026-02-30 and the like
  date.setUTCHours(hour, minute, second, 0);
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  const us = (date.getTime() - offsetMinutes * 60_000) * 1000 + micros;
  if (us < OCCURRED_AT_MIN_US || us >= OCCURRED_AT_MAX_US) return null;
  return { us, iso: isoFromMicros(us) };
}

export function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const base = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${base.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

/** Postgres timestamptz text (as node-postgres returns Date, we read it as text instead) to micros. */
export function microsFromPgTimestamp(text: string): number {
  // forms: 2026-11-27 13:48:22.123456+00 | 2026-11-27 13:48:22+00 | ...+05:30
  const normalized = text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
  const parsed = parseOccurredAt(normalized);
  if (!parsed) throw new Error(`unexpected timestamp from Postgres: ${text}`);
  return parsed.us;
}
