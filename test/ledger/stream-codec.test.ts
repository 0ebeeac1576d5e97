import { describe, expect, it } from 'vitest';
import {
  compareStreamIds,
  decodeStreamEntry,
  encodeStreamFields,
  hmacKeyFromBytes,
  parseHmacKey,
  signData,
  verifySignature,
} from '../../ledger/stream-codec.ts';

const keyHex = 'ab'.repeat(32);

describe('stream message codec', () => {
  it('refuses an HMAC key that is not hex or shorter than 32 bytes, naming the key', () => {
    expect(() => parseHmacKey('zz'.repeat(32))).toThrow(/AUDIT_HMAC_KEY must be hex-encoded/);
    expect(() => parseHmacKey('ab'.repeat(31))).toThrow(/at least 32 bytes.*got 31 bytes/);
    expect(() => parseHmacKey('abc')).toThrow(/hex-encoded/);
    expect(parseHmacKey(` ${keyHex}\n`).symmetricKeySize).toBe(32);
  });

  it('signs the exact data bytes as lowercase hex HMAC-SHA256, in Caracal field order', () => {
    const key = parseHmacKey(keyHex);
    const fields = encodeStreamFields('e1', '{"id":"e1"}', key);
    expect(fields.slice(0, 5)).toEqual(['id', 'e1', 'data', '{"id":"e1"}', 'sig']);
    expect(fields[5]).toMatch(/^[0-9a-f]{64}$/);
    expect(encodeStreamFields('e1', '{}', null)).toEqual(['id', 'e1', 'data', '{}']);
  });

  it('verifies a signature and refuses a missing, truncated or wrong one', () => {
    const key = parseHmacKey(keyHex);
    const data = Buffer.from('{"id":"e1","zone_id":"z"}');
    const sig = Buffer.from(signData(key, data));
    expect(verifySignature(key, data, sig)).toBe(true);
    expect(verifySignature(key, data, Buffer.from(sig.toString().toUpperCase()))).toBe(true);
    expect(verifySignature(key, data, undefined)).toBe(false);
    expect(verifySignature(key, data, sig.subarray(0, 63))).toBe(false);
    expect(verifySignature(key, Buffer.from(`${data} `), sig)).toBe(false);
    expect(verifySignature(hmacKeyFromBytes(Buffer.alloc(32)), data, sig)).toBe(false);
  });

  it('decodes raw stream fields and counts their bytes', () => {
    const e = decodeStreamEntry('1-0', [
      Buffer.from('id'),
      Buffer.from('x'),
      Buffer.from('data'),
      Buffer.from('{}'),
    ]);
    expect(e.fields.get('data')?.toString()).toBe('{}');
    expect(e.size).toBe(9);
  });

  it('orders stream ids numerically, not as text', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-2', '10-10')).toBe(-1);
    expect(compareStreamIds('5-5', '5-5')).toBe(0);
  });
});
