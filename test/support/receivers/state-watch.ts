// Waiting on a receiver's state without sleeping: callers name a condition and a deadline, and the
// receiver calls notify() whenever its state changes, so waiters wake on the change itself.

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

interface Waiter {
  check(): boolean;
}

export class StateWatch {
  readonly #waiters = new Set<Waiter>();

  notify(): void {
    for (const waiter of [...this.#waiters]) waiter.check();
  }

  /**
   * Resolves with `read()` once `ready()` holds; rejects after `timeoutMs` with an error that says
   * what was awaited and what the state was (`describe()`).
   */
  until<T>(ready: () => boolean, read: () => T, timeoutMs: number, describe: () => string): Promise<T> {
    if (ready()) return Promise.resolve(read());
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (!ready()) return false;
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(read());
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new DeadlineExceeded(`not reached within ${timeoutMs} ms: ${describe()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}
