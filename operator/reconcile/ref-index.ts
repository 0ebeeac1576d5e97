// Which policies and sinks refer to which Secrets, kept up to date as they change, so a Secret's watch
// event finds what to reconcile without scanning every object.

export class SecretRefIndex {
  /** `namespace/secret` -> owner keys */
  readonly #bySecret = new Map<string, Set<string>>();
  /** owner key -> `namespace/secret` */
  readonly #byOwner = new Map<string, string[]>();

  /** Replaces what `owner` refers to. */
  set(owner: string, namespace: string, secrets: Iterable<string>): void {
    this.delete(owner);
    const keys = [...new Set([...secrets].map((s) => `${namespace}/${s}`))];
    this.#byOwner.set(owner, keys);
    for (const k of keys) {
      let owners = this.#bySecret.get(k);
      if (!owners) {
        owners = new Set();
        this.#bySecret.set(k, owners);
      }
      owners.add(owner);
    }
  }

  delete(owner: string): void {
    for (const k of this.#byOwner.get(owner) ?? []) {
      const owners = this.#bySecret.get(k);
      owners?.delete(owner);
      if (owners?.size === 0) this.#bySecret.delete(k);
    }
    this.#byOwner.delete(owner);
  }

  owners(namespace: string, secret: string): string[] {
    return [...(this.#bySecret.get(`${namespace}/${secret}`) ?? [])];
  }
}
