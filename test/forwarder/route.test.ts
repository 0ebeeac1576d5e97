// Routes: exact values and prefix globs, as LIKE patterns for Postgres (special characters escaped) and
// as the same test in JS; and redaction of Caracal's sensitive keys plus the route's own, at any depth,
// exactly as ledger/redact.ts redacts, copying only what changes.
import { describe, expect, it } from 'vitest';
import {
  compileRoute,
  likePattern,
  redactEvent,
  routeMatches,
  routePredicate,
} from '../../forwarder/route.ts';
import { redactSensitive } from '../../ledger/redact.ts';
import { ledgerEvents } from './support/ledger-events.ts';

const none = { eventTypes: [], decisions: [], zones: [], redactKeys: [] };

describe('route filters', () => {
  it('match exact values literally, escaping LIKE wildcards', () => {
    expect(likePattern('step_up_issued')).toBe('step\\_up\\_issued');
    expect(likePattern('100%')).toBe('100\\%');
    expect(likePattern('a\\b')).toBe('a\\\\b');
  });

  it('turn a trailing * into a prefix match', () => {
    expect(likePattern('step_up_*')).toBe('step\\_up\\_%');
    expect(likePattern('*')).toBe('%');
  });

  it('filter nothing when every list is empty', () => {
    const route = compileRoute(none);
    expect(route.matchesAll).toBe(true);
    expect(routePredicate(route, 3)).toEqual({ sql: '', params: [] });
    expect(routeMatches(route, { event_type: 'x', decision: null, zone_id: 'z' })).toBe(true);
  });

  it('become one LIKE ANY condition per filtered column, numbered from the given parameter', () => {
    const route = compileRoute({
      ...none,
      eventTypes: ['token_exchange', 'step_up_*'],
      zones: ['zone-a', 'zone-a'],
    });
    const p = routePredicate(route, 5);
    expect(p.sql).toBe('AND event_type LIKE ANY ($5::text[]) AND zone_id LIKE ANY ($6::text[])');
    expect(p.params).toEqual([['token\\_exchange', 'step\\_up\\_%'], ['zone-a']]);
  });

  it('give the same answer in JS, a NULL decision matching only routes without a decision filter', () => {
    const route = compileRoute({ ...none, eventTypes: ['token_exchange', 'step_up_*'], decisions: ['deny'] });
    const e = (event_type: string, decision: string | null) => ({ event_type, decision, zone_id: 'z' });
    expect(routeMatches(route, e('token_exchange', 'deny'))).toBe(true);
    expect(routeMatches(route, e('step_up_decided', 'deny'))).toBe(true);
    expect(routeMatches(route, e('step_up_decided', 'allow'))).toBe(false);
    expect(routeMatches(route, e('token_exchange_x', 'deny'))).toBe(false);
    expect(routeMatches(route, e('token_exchange', null))).toBe(false);
  });
});

describe('redaction', () => {
  it('redacts Caracal’s sensitive keys and the route’s keys at any depth, case- and dash-insensitively', () => {
    const [event] = ledgerEvents(1);
    const e = {
      ...event!,
      metadata_json: {
        session_id: 's',
        nested: { 'Subject-Fingerprint': 'fp', keep: 1 },
        list: [{ token: 't' }],
      },
      diagnostics_json: [{ subject_fingerprint: 'x', reason: 'r' }],
    };
    const out = redactEvent(e, compileRoute({ ...none, redactKeys: ['subject_fingerprint'] }));
    expect(out.metadata_json).toEqual({
      session_id: '[redacted]',
      nested: { 'Subject-Fingerprint': '[redacted]', keep: 1 },
      list: [{ token: '[redacted]' }],
    });
    expect(out.diagnostics_json).toEqual([{ subject_fingerprint: '[redacted]', reason: 'r' }]);
    expect(e.metadata_json.session_id).toBe('s');
  });

  it('agrees with ledger/redact.ts on realistic events', () => {
    const route = compileRoute({ ...none, redactKeys: ['trace_id', 'Agent-Labels'] });
    const extra = new Set(['trace_id', 'agent_labels']);
    for (const e of ledgerEvents(300, 4)) {
      const out = redactEvent(e, route);
      expect(out.metadata_json).toEqual(redactSensitive(e.metadata_json, extra));
      expect(out.diagnostics_json).toEqual(redactSensitive(e.diagnostics_json, extra));
      expect(out.determining_policies_json).toEqual(redactSensitive(e.determining_policies_json, extra));
    }
  });

  it('returns the very same event when nothing in it is sensitive (events are shared between sinks)', () => {
    const [event] = ledgerEvents(1);
    const clean = {
      ...event!,
      metadata_json: { a: 1, b: [{ c: 'd' }] },
      diagnostics_json: [],
      determining_policies_json: null,
    };
    expect(redactEvent(clean, compileRoute(none))).toBe(clean);
  });
});
