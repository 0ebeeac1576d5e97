// What the operator wrote and has not yet seen come back on a watch: a reconcile that runs before its
// own write's watch event must not write the same thing again. Any watch event for the object ends the
// memo, so from then on the watch cache is the truth.

export class WriteMemo {
  readonly #hashes = new Map<string, string>();

  remember(key: string, hash: string): void {
    this.#hashes.set(key, hash);
  }

  /** The last write under `key` had this hash and no watch event for it arrived since. */
  matches(key: string, hash: string): boolean {
    return this.#hashes.get(key) === hash;
  }

  forget(key: string): void {
    this.#hashes.delete(key);
  }

  /** Forgets every key of one object (its body and its status). */
  forgetObject(objectKey: string): void {
    this.#hashes.delete(objectKey);
    this.#hashes.delete(`${objectKey}/status`);
  }
}

/** `Kind/namespace/name`, the memo key of an object (its status adds `/status`). */
export function memoKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
