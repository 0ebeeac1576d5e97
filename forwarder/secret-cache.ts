// Sink Secrets read from their mount (or the environment) and cached briefly: Kubernetes updates a
// mounted Secret in place, so a rotated token is picked up within the refresh interval, without a restart.
import { readSecret, type SecretSource } from '../ledger/sinks/secret-source.ts';
import type { SecretKeyRef } from '../ledger/sinks/spec.ts';

export class SecretCache {
  readonly #source: SecretSource;
  readonly #ttlMs: number;
  readonly #values = new Map<string, { value: string; readAt: number }>();

  constructor(source: SecretSource, ttlMs: number) {
    this.#source = source;
    this.#ttlMs = ttlMs;
  }

  /** The Secret key's current value; throws sink_secret_missing when it is nowhere to be found. */
  read = (ref: SecretKeyRef): string => {
    const key = `${ref.name}/${ref.key}`;
    const cached = this.#values.get(key);
    const now = Date.now();
    if (cached && now - cached.readAt < this.#ttlMs) return cached.value;
    const value = readSecret(ref, this.#source);
    this.#values.set(key, { value, readAt: now });
    return value;
  };
}
