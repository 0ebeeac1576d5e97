// Waiting on a condition with a deadline (tests never sleep for work to happen).

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  description?: string;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after the deadline. */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: last error ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${options.description ?? 'condition'}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
