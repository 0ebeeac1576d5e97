// Signed evidence: the checkpoint key in its accepted forms, its fingerprint, signatures that only the
// trusted key makes, and the checkpoint chain (numbering and links).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkCheckpoints, checkpointPayload } from '../../ledger/checkpoint.ts';
import {
  checkpointSigner,
  generateCheckpointKeyPair,
  keyFingerprint,
  parseCheckpointPrivateKey,
  parseCheckpointPublicKey,
} from '../../ledger/checkpoint-key.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { exportKeys, retentionKeys } from '../../ledger/config/maintenance.ts';
import { openDocument, signDocument, TrustedKeys } from '../../ledger/integrity-signature.ts';

const pair = generateCheckpointKeyPair();
const signer = checkpointSigner(parseCheckpointPrivateKey(pair.privateKeyPem));
const trusted = new TrustedKeys([signer.publicKey]);

describe('checkpoint key', () => {
  it('accepts PEM, a hex seed and a base64 seed for the same key, and derives the same fingerprint', () => {
    const seed = signer.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
    const fromHex = checkpointSigner(parseCheckpointPrivateKey(seed.toString('hex')));
    const fromB64 = checkpointSigner(parseCheckpointPrivateKey(seed.toString('base64')));
    expect(fromHex.fingerprint).toBe(signer.fingerprint);
    expect(fromB64.fingerprint).toBe(signer.fingerprint);
    const raw = signer.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    expect(keyFingerprint(parseCheckpointPublicKey(raw.toString('hex')))).toBe(signer.fingerprint);
    expect(keyFingerprint(parseCheckpointPublicKey(pair.publicKeyPem))).toBe(signer.fingerprint);
  });

  it('fingerprints the SPKI DER with SHA-256, as openssl would', () => {
    const der = signer.publicKey.export({ format: 'der', type: 'spki' });
    expect(signer.fingerprint).toBe(`sha256:${createHash('sha256').update(der).digest('hex')}`);
  });

  it('refuses keys that are not Ed25519, and config names the key without echoing it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect(() => parseCheckpointPrivateKey(rsa)).toThrow(/not Ed25519/);
    expect(() => loadConfig('retention', retentionKeys, { LEDGERHUB_CHECKPOINT_KEY: 'abc' })).toThrow(
      /retention: LEDGERHUB_CHECKPOINT_KEY=<redacted> is not valid: expected an Ed25519 private key/,
    );
  });

  it('reads export formats and refuses unknown ones by name', () => {
    expect(loadConfig('export', exportKeys, { AUDIT_EXPORT_FORMATS: 'parquet' }).exportFormats).toEqual([
      'parquet',
    ]);
    expect(() => loadConfig('export', exportKeys, { AUDIT_EXPORT_FORMATS: 'csv' })).toThrow(
      /AUDIT_EXPORT_FORMATS="csv" is not valid/,
    );
  });
});

describe('signed documents', () => {
  const payload = checkpointPayload(
    1,
    new Date('2026-01-01T00:00:00Z'),
    10,
    [{ zone_id: 'z', chain_seq: 3, content_sha256: 'a'.repeat(64) }],
    null,
  );

  it('open with the trusted key and carry its fingerprint', () => {
    const doc = signDocument(signer, payload);
    expect(doc.key_fingerprint).toBe(signer.fingerprint);
    expect(openDocument(doc, trusted, 'ledgerhub.checkpoint')).toEqual({ ok: true, payload });
  });

  it('do not open when the payload changed, the key is unknown, or the type is another', () => {
    const doc = signDocument(signer, payload);
    expect(
      openDocument(
        { ...doc, payload: doc.payload.replace('"chain_seq":3', '"chain_seq":4') },
        trusted,
        'ledgerhub.checkpoint',
      ),
    ).toEqual({
      ok: false,
      reason: 'the signature does not verify',
    });
    const other = checkpointSigner(parseCheckpointPrivateKey(generateCheckpointKeyPair().privateKeyPem));
    expect(openDocument(signDocument(other, payload), trusted, 'ledgerhub.checkpoint')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/untrusted key/),
    });
    expect(openDocument(doc, trusted, 'ledgerhub.tombstone')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expected a ledgerhub.tombstone/),
    });
    expect(openDocument('not json', trusted, 'ledgerhub.checkpoint').ok).toBe(false);
  });
});

describe('checkpoint chain', () => {
  const chainOf = (n: number) => {
    const out: { checkpoint_no: number; document: string }[] = [];
    let prev: string | null = null;
    for (let i = 1; i <= n; i++) {
      const doc = signDocument(
        signer,
        checkpointPayload(
          i,
          new Date(),
          i * 10,
          [{ zone_id: 'z', chain_seq: i * 10, content_sha256: String(i).repeat(64).slice(0, 64) }],
          prev,
        ),
      );
      prev = doc.signature;
      out.push({ checkpoint_no: i, document: JSON.stringify(doc) });
    }
    return out;
  };

  it('accepts an unbroken sequence and collects what each zone must hold', () => {
    const { claims, faults } = checkCheckpoints(chainOf(3), trusted);
    expect(faults).toEqual([]);
    expect(claims.highest('z')).toMatchObject({ seq: 30, claim: { checkpoint_no: 3 } });
  });

  it('reports a missing checkpoint, and one that does not link to its predecessor', () => {
    const chain = chainOf(4);
    expect(checkCheckpoints([chain[0]!, chain[2]!, chain[3]!], trusted).faults.map((f) => f.detail)).toEqual([
      'checkpoint(s) 2..2 are missing before checkpoint 3',
    ]);
    const relinked = signDocument(signer, checkpointPayload(2, new Date(), 20, [], 'bogus'));
    expect(
      checkCheckpoints(
        [chain[0]!, { checkpoint_no: 2, document: JSON.stringify(relinked) }],
        trusted,
      ).faults.map((f) => f.detail),
    ).toEqual(['checkpoint 2 does not link to the signature of checkpoint 1']);
  });
});
