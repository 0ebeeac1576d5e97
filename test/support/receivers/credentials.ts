// The credentials a receiver accepts (HEC tokens, ES API keys and users, webhook secrets), with the
// switches tests use to make a sender's current credentials stop working: revoke all, or rotate one.

export class CredentialRegistry<V> {
  readonly #initial: ReadonlyMap<string, V>;
  #current: Map<string, V>;
  #revoked = false;

  constructor(entries: Iterable<readonly [string, V]>) {
    this.#initial = new Map(entries);
    this.#current = new Map(this.#initial);
  }

  /** The settings for `credential`, or undefined when it is unknown or all credentials are revoked. */
  lookup(credential: string): V | undefined {
    if (this.#revoked) return undefined;
    return this.#current.get(credential);
  }

  /** Every credential currently accepted (empty while revoked). */
  accepted(): [string, V][] {
    return this.#revoked ? [] : [...this.#current];
  }

  /** Every credential the receiver was started with, whether or not it is accepted right now. */
  configured(): [string, V][] {
    return [...this.#initial];
  }

  /** From now on every credential fails, until {@link restore}. */
  revokeAll(): void {
    this.#revoked = true;
  }

  /** `from` stops working; `to` works with the settings `from` had. */
  rotate(from: string, to: string): void {
    const settings = this.#current.get(from);
    if (settings === undefined)
      throw new Error('rotate: the credential to replace is not currently accepted');
    this.#current.delete(from);
    this.#current.set(to, settings);
  }

  /** Back to the credentials the receiver was started with. */
  restore(): void {
    this.#revoked = false;
    this.#current = new Map(this.#initial);
  }
}
