// The webhook ids a receiver has already accepted, remembered for a bounded window (oldest forgotten
// first), which is how Standard Webhooks suggests receivers deduplicate retried messages.

export const DEFAULT_DEDUP_WINDOW = 10_000;

export class RecentIds {
  readonly #capacity: number;
  readonly #ids = new Set<string>();

  constructor(capacity = DEFAULT_DEDUP_WINDOW) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  remember(id: string): void {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) {
      const oldest = this.#ids.values().next().value as string;
      this.#ids.delete(oldest);
    }
  }

  clear(): void {
    this.#ids.clear();
  }
}
