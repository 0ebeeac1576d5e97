// The checkpoint public keys a verifying command trusts: those configured, plus any --public-key files.

import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCheckpointPublicKey } from '../ledger/checkpoint-key.ts';
import { TrustedKeys } from '../ledger/integrity-signature.ts';
import { UsageError } from './exit.ts';

export function trustedKeysWithFiles(configured: Iterable<KeyObject>, files: string[] = []): TrustedKeys {
  const keys = new TrustedKeys(configured);
  for (const file of files) {
    try {
      keys.add(parseCheckpointPublicKey(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new UsageError(`--public-key ${file}: ${(err as Error).message}`);
    }
  }
  return keys;
}
