// A verification thread: verifies its share of the zones on its own connection and posts back what it
// found (zone reports, faults, counts, producer observations) for verifyLedger to merge.
import { parentPort, workerData } from 'node:worker_threads';
import { createPool } from './db.ts';
import { evidenceFrom } from './integrity-evidence.ts';
import { TrustedKeys } from './integrity-signature.ts';
import { ProducerSequences } from './producer-completeness.ts';
import { type VerifyThreadInput, type VerifyThreadMessage, verifyZones } from './verify-store.ts';

const input = workerData as VerifyThreadInput;
const post = (m: VerifyThreadMessage) => parentPort?.postMessage(m);
const pool = createPool({ ...input.db, applicationName: 'ledgerhub-verify' });
try {
  const evidence = evidenceFrom(input.evidence, new TrustedKeys(input.publicKeys));
  const producers = input.collectProducers ? new ProducerSequences() : null;
  const share = await verifyZones(
    pool,
    { ...input.opts, onProgress: (checked, zone) => post({ kind: 'progress', checked, zone }) },
    evidence,
    input.heads,
    producers,
  );
  post({ kind: 'done', share: { ...share, producers: producers?.snapshot() ?? null } });
} catch (err) {
  post({ kind: 'error', message: (err as Error).message });
} finally {
  await pool.end();
}
