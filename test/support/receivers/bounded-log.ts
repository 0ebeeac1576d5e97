// A capped, append-only record of what a receiver accepted: keeps the newest `capacity` entries and
// counts what it had to drop, so a long demo run cannot grow memory without bound.

export const DEFAULT_STORED_ENTRIES = 10_000;

export class BoundedLog<T> {
  readonly capacity: number;
  #entries: T[] = [];
  #head = 0;
  /** Entries ever appended, including dropped ones. */
  appended = 0;
  /** Entries evicted because the log was full. */
  dropped = 0;

  constructor(capacity = DEFAULT_STORED_ENTRIES) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  append(entry: T): void {
    this.appended += 1;
    this.#entries.push(entry);
    if (this.#entries.length - this.#head > this.capacity) {
      this.#head += 1;
      this.dropped += 1;
      // Compact now and then instead of shifting on every append.
      if (this.#head >= this.capacity) {
        this.#entries = this.#entries.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  /** Retained entries, oldest first. */
  list(): T[] {
    return this.#entries.slice(this.#head);
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.appended = 0;
    this.dropped = 0;
  }
}
