// Retry delays and the shared failure helpers: full jitter under a doubling ceiling, Retry-After in both
// forms, HTTP statuses and network errors classified.
import { describe, expect, it } from 'vitest';
import { backoffCeiling, fullJitter, retryDelay } from '../../forwarder/backoff.ts';
import {
  httpStatusFailure,
  isRetryable,
  MAX_RETRY_AFTER_MS,
  networkFailure,
  parseRetryAfter,
} from '../../forwarder/delivery-failure.ts';

const policy = { initialMs: 1000, maxMs: 300_000 };

describe('exponential back-off with full jitter', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    expect([1, 2, 3, 4].map((a) => backoffCeiling(a, policy))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffCeiling(30, policy)).toBe(300_000);
    expect(backoffCeiling(10_000, policy)).toBe(300_000);
  });

  it('draws uniformly below the ceiling (0 with the lowest draw, just under it with the highest)', () => {
    expect(fullJitter(3, policy, () => 0)).toBe(0);
    expect(fullJitter(3, policy, () => 0.999999)).toBe(3999);
    expect(fullJitter(3, policy, () => 0.5)).toBe(2000);
  });

  it('waits what Retry-After asked for instead, even beyond the back-off ceiling', () => {
    expect(retryDelay(1, policy, 7000, () => 0)).toBe(7000);
    expect(retryDelay(1, { initialMs: 10, maxMs: 500 }, 7000)).toBe(7000);
    expect(retryDelay(2, policy, undefined, () => 0.25)).toBe(500);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['0'], now)).toBe(0);
  });

  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('clamps absurd values and ignores what it cannot read', () => {
    expect(parseRetryAfter('999999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('  ', now)).toBeUndefined();
  });
});

describe('classifying HTTP statuses no protocol rule claimed', () => {
  it.each([
    [429, 'throttled'],
    [408, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [401, 'auth'],
    [403, 'auth'],
    [410, 'gone'],
    [301, 'config'],
    [307, 'config'],
    [404, 'config'],
    [400, 'data'],
    [422, 'data'],
  ] as const)('HTTP %i is %s', (status, kind) => {
    expect(httpStatusFailure(status, 'x').kind).toBe(kind);
    expect(httpStatusFailure(status, 'x').code).toBe(`http_${status}`);
  });

  it('treats a 503 that says when to come back as throttling', () => {
    expect(httpStatusFailure(503, 'busy', 2000)).toMatchObject({ kind: 'throttled', retryAfterMs: 2000 });
    expect(httpStatusFailure(503, 'busy').kind).toBe('transient');
  });

  it('retries transient and throttled failures only', () => {
    expect(['transient', 'throttled'].every((k) => isRetryable(k as 'transient'))).toBe(true);
    expect(['data', 'auth', 'config', 'gone', 'local'].some((k) => isRetryable(k as 'data'))).toBe(false);
  });

  it('turns network errors into transient failures named by their code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(networkFailure(refused)).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), {
      name: 'TimeoutError',
    });
    expect(networkFailure(timeout)).toMatchObject({ kind: 'transient', code: 'timeout' });
  });
});
