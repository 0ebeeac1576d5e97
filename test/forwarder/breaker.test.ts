// The circuit breaker state machine: counted failures open it, sink-level refusals open it at once,
// one probe per interval (doubling to a ceiling, pushed out by Retry-After), a success closes it,
// and a disabled sink never probes.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../forwarder/breaker.ts';

const opts = { failureThreshold: 3, probeIntervalMs: 1000, maxProbeIntervalMs: 4000 };

describe('circuit breaker', () => {
  it('stays closed below the threshold and opens on the Nth consecutive failure', () => {
    const b = new CircuitBreaker(opts);
    expect(b.onFailure(0)).toBeNull();
    expect(b.onFailure(0)).toBeNull();
    expect(b.state).toBe('closed');
    expect(b.onFailure(10)).toEqual({ from: 'closed', to: 'open' });
    expect(b.nextProbeAt).toBe(1010);
    expect(b.allowsDelivery).toBe(false);
  });

  it('forgets failures after a success', () => {
    const b = new CircuitBreaker(opts);
    b.onFailure(0);
    b.onFailure(0);
    expect(b.onSuccess()).toBeNull();
    expect(b.onFailure(0)).toBeNull();
    expect(b.consecutiveFailures).toBe(1);
  });

  it('lets one probe through when due, and only then', () => {
    const b = new CircuitBreaker(opts);
    b.trip(0);
    expect(b.beginProbe(999)).toBe(false);
    expect(b.beginProbe(1000)).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.beginProbe(1001)).toBe(false);
  });

  it('closes when the probe succeeds', () => {
    const b = new CircuitBreaker(opts);
    b.trip(0);
    b.beginProbe(1000);
    expect(b.onSuccess()).toEqual({ from: 'half_open', to: 'closed' });
    expect(b.allowsDelivery).toBe(true);
  });

  it('reopens with a doubled interval, up to the ceiling, when probes fail', () => {
    const b = new CircuitBreaker(opts);
    b.trip(0);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 4; i++) {
      now = b.nextProbeAt;
      b.beginProbe(now);
      b.onFailure(now);
      waits.push(b.nextProbeAt - now);
    }
    expect(waits).toEqual([2000, 4000, 4000, 4000]);
  });

  it('probes no sooner than a Retry-After the sink sent', () => {
    const b = new CircuitBreaker(opts);
    b.onFailure(0);
    b.onFailure(0);
    b.onFailure(0, 30_000);
    expect(b.nextProbeAt).toBe(30_000);
  });

  it('opens at once on a sink-level refusal', () => {
    const b = new CircuitBreaker(opts);
    expect(b.trip(5)).toEqual({ from: 'closed', to: 'open' });
    expect(b.nextProbeAt).toBe(1005);
  });

  it('never probes or closes a disabled sink until it is enabled', () => {
    const b = new CircuitBreaker(opts);
    expect(b.disable()).toEqual({ from: 'closed', to: 'disabled' });
    expect(b.beginProbe(1e12)).toBe(false);
    expect(b.onSuccess()).toBeNull();
    expect(b.trip(0)).toBeNull();
    expect(b.state).toBe('disabled');
    expect(b.enable()).toEqual({ from: 'disabled', to: 'closed' });
  });
});
