// The Ed25519 checkpoint key that signs checkpoints, tombstones and export manifests: parsing from PEM or
// raw bytes, the public-key fingerprint recorded in every signed object, and key generation for dev.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** DER prefixes that turn a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface CheckpointSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `sha256:<hex>` of the public key's SPKI DER encoding. */
  fingerprint: string;
}

/** 32 raw bytes from 64 hex characters or 43/44 base64 characters; null for anything else. */
function rawKeyBytes(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return bytes.length === 32 ? bytes : null;
  }
  return null;
}

function assertEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${what} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`);
  }
  return key;
}

/** An Ed25519 private key: PKCS#8 PEM, or the 32-byte seed as hex or base64. */
export function parseCheckpointPrivateKey(raw: string): KeyObject {
  const text = raw.trim();
  if (text.startsWith('-----BEGIN')) return assertEd25519(createPrivateKey(text), 'the private key');
  const seed = rawKeyBytes(text);
  if (!seed)
    throw new Error('expected a PEM private key, or a 32-byte seed as 64 hex or 44 base64 characters');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** An Ed25519 public key: SPKI PEM, or the 32 raw bytes as hex or base64. */
export function parseCheckpointPublicKey(raw: string): KeyObject {
  const text = raw.trim();
  if (text.startsWith('-----BEGIN')) {
    // a private key PEM also yields its public half
    return assertEd25519(createPublicKey(text), 'the public key');
  }
  const bytes = rawKeyBytes(text);
  if (!bytes) throw new Error('expected a PEM public key, or 32 bytes as 64 hex or 44 base64 characters');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: 'der', type: 'spki' });
}

/** `sha256:<hex>` over the SPKI DER: `openssl pkey -pubin -in pub.pem -outform DER | sha256sum`. */
export function keyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export function checkpointSigner(privateKey: KeyObject): CheckpointSigner {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, fingerprint: keyFingerprint(publicKey) };
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** A fresh key pair as PEM (for `ledgerhub dev` and tests). */
export function generateCheckpointKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}
