// Signed evidence documents (checkpoints, tombstones, export manifests): the payload is kept as the exact
// JSON text that was signed, so anyone with the public key can check it without re-serialising anything.

import type { KeyObject } from 'node:crypto';
import { sign, verify } from 'node:crypto';
import { type CheckpointSigner, keyFingerprint } from './checkpoint-key.ts';

export const SIGNATURE_ALGORITHM = 'Ed25519';

export type EvidenceType = 'ledgerhub.checkpoint' | 'ledgerhub.tombstone' | 'ledgerhub.export.manifest';

/** What is stored and exported: `signature` is base64 Ed25519 over the UTF-8 bytes of `payload`. */
export interface SignedDocument {
  alg: typeof SIGNATURE_ALGORITHM;
  key_fingerprint: string;
  payload: string;
  signature: string;
}

export interface EvidencePayload {
  type: EvidenceType;
  version: number;
}

export function signDocument(signer: CheckpointSigner, payload: EvidencePayload): SignedDocument {
  const text = JSON.stringify(payload);
  return {
    alg: SIGNATURE_ALGORITHM,
    key_fingerprint: signer.fingerprint,
    payload: text,
    signature: sign(null, Buffer.from(text, 'utf8'), signer.privateKey).toString('base64'),
  };
}

/** Public keys trusted to have signed evidence, by fingerprint. */
export class TrustedKeys {
  readonly #keys = new Map<string, KeyObject>();

  constructor(keys: Iterable<KeyObject> = []) {
    for (const k of keys) this.add(k);
  }

  add(key: KeyObject): void {
    this.#keys.set(keyFingerprint(key), key);
  }

  get size(): number {
    return this.#keys.size;
  }

  get(fingerprint: string): KeyObject | undefined {
    return this.#keys.get(fingerprint);
  }

  fingerprints(): string[] {
    return [...this.#keys.keys()];
  }

  keys(): KeyObject[] {
    return [...this.#keys.values()];
  }
}

export type OpenResult<T> = { ok: true; payload: T } | { ok: false; reason: string };

/**
 * Checks a signed document: its shape, that its key is trusted, the signature over the payload bytes,
 * and that the payload is of the expected type. With no trusted keys, only shape and type are checked
 * (the caller reports that signatures were not verified).
 */
export function openDocument<T extends EvidencePayload>(
  raw: unknown,
  keys: TrustedKeys,
  type: EvidenceType,
): OpenResult<T> {
  const doc = (typeof raw === 'string' ? safeParse(raw) : raw) as Partial<SignedDocument> | null;
  if (
    doc === null ||
    typeof doc !== 'object' ||
    doc.alg !== SIGNATURE_ALGORITHM ||
    typeof doc.payload !== 'string' ||
    typeof doc.signature !== 'string' ||
    typeof doc.key_fingerprint !== 'string'
  ) {
    return {
      ok: false,
      reason: 'not a signed ledgerhub document (alg, key_fingerprint, payload, signature)',
    };
  }
  if (keys.size > 0) {
    const key = keys.get(doc.key_fingerprint);
    if (!key) return { ok: false, reason: `signed by an untrusted key ${doc.key_fingerprint}` };
    const signature = Buffer.from(doc.signature, 'base64');
    if (signature.length !== 64 || !verify(null, Buffer.from(doc.payload, 'utf8'), key, signature)) {
      return { ok: false, reason: 'the signature does not verify' };
    }
  }
  const payload = safeParse(doc.payload) as T | null;
  if (payload === null || typeof payload !== 'object')
    return { ok: false, reason: 'the payload is not JSON' };
  if (payload.type !== type)
    return { ok: false, reason: `expected a ${type}, found ${String(payload.type)}` };
  return { ok: true, payload };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
