// Where a sink's Secret keys come from at run time: a mounted Secret volume (`<dir>/<secret>/<key>`,
// what Kubernetes writes and updates on rotation), else an environment variable named after the ref.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Errors, LedgerhubError } from '../errors.ts';
import type { SecretKeyRef } from './spec.ts';

export const DEFAULT_SECRETS_DIR = '/var/run/secrets/ledgerhub';

export interface SecretSource {
  /** Directory holding one folder per Secret, one file per key. */
  dir: string;
  env: Record<string, string | undefined>;
}

/** `LEDGERHUB_SECRET_<NAME>_<KEY>`, upper-cased, every other character an underscore. */
export function secretEnvName(ref: SecretKeyRef): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `LEDGERHUB_SECRET_${part(ref.name)}_${part(ref.key)}`;
}

export function secretPath(ref: SecretKeyRef, dir: string): string {
  return join(dir, ref.name, ref.key);
}

/** The value of a Secret key, trimmed of surrounding whitespace; throws sink_secret_missing naming both places looked at. */
export function readSecret(ref: SecretKeyRef, source: SecretSource): string {
  const path = secretPath(ref, source.dir);
  let value: string | undefined;
  try {
    value = readFileSync(path, 'utf8');
  } catch {
    value = source.env[secretEnvName(ref)];
  }
  const trimmed = value?.trim();
  if (!trimmed) {
    throw new LedgerhubError(
      Errors.sinkSecretMissing,
      `secret ${ref.name}/${ref.key} is not mounted at ${path} and ${secretEnvName(ref)} is not set`,
      { secret: ref.name, key: ref.key },
    );
  }
  return trimmed;
}
