// The Redis stream message contract: XADD <stream> * id <event id> data <json> [sig <hex>], where sig is
// lowercase hex HMAC-SHA256 over the exact data bytes under a hex key of at least 32 bytes.
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { Errors, LedgerhubError } from './errors.ts';

export const DEFAULT_STREAM = 'caracal.audit.events';
export const DEFAULT_DLQ_STREAM = 'caracal.audit.events.dlq';
export const INGEST_GROUP = 'audit-ingestor';
export const MIN_HMAC_KEY_BYTES = 32;

/**
 * AUDIT_HMAC_KEY as a KeyObject: HMACs under a KeyObject cost a fifth of those under a raw Buffer,
 * which re-imports the key on every call.
 */
export type HmacKey = KeyObject;

export function hmacKeyFromBytes(bytes: Buffer): HmacKey {
  return createSecretKey(bytes);
}

/** Decodes AUDIT_HMAC_KEY; refuses anything that is not hex or is shorter than 32 bytes. */
export function parseHmacKey(hex: string, keyName = 'AUDIT_HMAC_KEY'): HmacKey {
  const trimmed = hex.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(trimmed)) {
    throw new LedgerhubError(
      Errors.configInvalid,
      `${keyName} must be hex-encoded (got ${trimmed.length} chars)`,
    );
  }
  const key = Buffer.from(trimmed, 'hex');
  if (key.length < MIN_HMAC_KEY_BYTES) {
    throw new LedgerhubError(
      Errors.configInvalid,
      `${keyName} must be at least ${MIN_HMAC_KEY_BYTES} bytes (${MIN_HMAC_KEY_BYTES * 2} hex chars); got ${key.length} bytes`,
    );
  }
  return createSecretKey(key);
}

export function signData(key: HmacKey, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** Constant-time check of a producer signature over the exact bytes of `data`. */
export function verifySignature(key: HmacKey, data: Buffer, sig: Buffer | undefined): boolean {
  if (sig === undefined || sig.length !== 64) return false;
  const expected = Buffer.from(signData(key, data), 'latin1');
  const given = Buffer.from(sig.toString('latin1').toLowerCase(), 'latin1');
  return timingSafeEqual(expected, given);
}

/** The field list for XADD, in Caracal's order. */
export function encodeStreamFields(eventId: string, data: string, key: HmacKey | null): string[] {
  const fields = ['id', eventId, 'data', data];
  if (key !== null) fields.push('sig', signData(key, data));
  return fields;
}

/** One entry read from a stream: its stream id and its fields as raw bytes. */
export interface StreamEntry {
  streamId: string;
  fields: Map<string, Buffer>;
  /** Total bytes of all field names and values, for the size cap. */
  size: number;
}

/** Turns ioredis' flat [name, value, name, value] buffer arrays into a StreamEntry. */
export function decodeStreamEntry(streamId: string, flat: Buffer[]): StreamEntry {
  const fields = new Map<string, Buffer>();
  let size = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    size += name.length + value.length;
    fields.set(name.toString('utf8'), value);
  }
  return { streamId, fields, size };
}

/** Stream ids are `<ms>-<seq>`; compares two of them numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
