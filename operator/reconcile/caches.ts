// The watch caches a reconcile reads from (it never lists or gets from the API server), and lookups of
// Secret keys in them.
import { createHash } from 'node:crypto';
import type { SecretKeyRef } from '../../ledger/sinks/spec.ts';
import type { KubeObject } from '../kube/resources.ts';

export interface CacheReader {
  get<T extends KubeObject>(namespace: string, name: string): T | undefined;
  list<T extends KubeObject>(namespace?: string): T[];
}

export const OWNED_KINDS = ['ConfigMap', 'Deployment', 'Service', 'CronJob', 'Job'] as const;
export type OwnedKind = (typeof OWNED_KINDS)[number];

export interface Caches {
  policies: CacheReader;
  sinks: CacheReader;
  secrets: CacheReader;
  owned: Record<OwnedKind, CacheReader>;
}

/** Secret keys of one namespace, as the watch cache holds them. */
export class SecretLookup {
  readonly #secrets: CacheReader;
  readonly #namespace: string;

  constructor(secrets: CacheReader, namespace: string) {
    this.#secrets = secrets;
    this.#namespace = namespace;
  }

  #encoded(ref: SecretKeyRef): string | undefined {
    const secret = this.#secrets.get<KubeObject & { data?: Record<string, string> }>(
      this.#namespace,
      ref.name,
    );
    return secret?.data?.[ref.key];
  }

  has(ref: SecretKeyRef): boolean {
    return this.#encoded(ref) !== undefined;
  }

  /** The decoded value, trimmed as the roles trim `_FILE` contents. */
  value(ref: SecretKeyRef): string | undefined {
    const encoded = this.#encoded(ref);
    return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8').trim();
  }

  /** A digest of the value (for checksums; the value itself never leaves this module). */
  hash(ref: SecretKeyRef): string | undefined {
    const encoded = this.#encoded(ref);
    return encoded === undefined
      ? undefined
      : createHash('sha256').update(encoded).digest('hex').slice(0, 32);
  }
}
