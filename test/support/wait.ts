// Waiting on conditions instead of sleeping: poll a probe until it holds or a deadline passes.
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  timeoutMs = 30_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Checks an invariant at an interval for a fixed duration: for faults that last a set time (a
 * database stopped for 20 s), where the point is that nothing happens, so there is nothing to await.
 */
export async function holdsFor(
  durationMs: number,
  intervalMs: number,
  check: () => Promise<void> | void,
): Promise<number> {
  const end = Date.now() + durationMs;
  let checks = 0;
  while (Date.now() < end) {
    await check();
    checks++;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, end - Date.now()))));
  }
  return checks;
}
