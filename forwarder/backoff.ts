// Retry delays: exponential back-off with full jitter (a uniform draw below a doubling ceiling), unless
// the sink said when to come back (Retry-After), which wins.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** The ceiling of attempt `attempt` (1-based): initial × 2^(attempt−1), capped at maxMs. */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
}

/** Full jitter: uniform in [0, ceiling). */
export function fullJitter(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeiling(attempt, policy));
}

/**
 * The delay before retry `attempt`: what Retry-After asked for when the sink sent one (the sink knows
 * best; parseRetryAfter already clamps absurd values), else full jitter.
 */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.max(0, retryAfterMs);
  return fullJitter(attempt, policy, random);
}
