import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioEvents, seededRng } from '../../ledger/scenarios.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';
import { startRole } from '../support/role-process.ts';
import { waitFor } from '../support/wait.ts';

let t: ApiFixture;
const ZONE = 'zone-cli';
const at = Date.parse('2026-11-26T08:00:00Z');
const denied = scenarioEvents('denied_exchange', { rng: seededRng(1), zone: ZONE, at });
const allowed = scenarioEvents('allowed_call', { rng: seededRng(2), zone: ZONE, at: at + 1000 });

beforeAll(async () => {
  t = await createApiFixture('cli');
  await t.seed([...denied, ...allowed]);
});
afterAll(async () => t.close());

async function cli(args: string[], token = t.readToken, extraEnv: Record<string, string> = {}) {
  const p = startRole(
    args[0]!,
    { LEDGERHUB_API_URL: t.api.url, LEDGERHUB_TOKEN: token, ...extraEnv },
    args.slice(1),
  );
  const { code } = await p.exited;
  return {
    code,
    out: p.logs
      .map((l) => (Object.keys(l).length === 1 && 'msg' in l ? String(l.msg) : JSON.stringify(l)))
      .join('\n'),
    err: p.stderr.join('\n'),
  };
}

describe('ledgerhub audit tail', () => {
  it('prints recent events oldest first as a table, with Caracal’s columns', async () => {
    const r = await cli(['audit', 'tail', '--zone', ZONE, '--no-follow']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^OCCURRED_AT\s+EVENT_TYPE\s+DECISION\s+EVALUATION_STATUS\s+REQUEST_ID\s+ID$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('token_exchange');
    expect(lines[1]).toContain('deny');
  });

  it('prints NDJSON with --json and filters by decision', async () => {
    const r = await cli(['audit', 'tail', '--zone', ZONE, '--decision', 'deny', '--json', '--no-follow']);
    const items = r.out.split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(items.map((i) => i.id)).toEqual([denied[0]!.id]);
  });

  it('follows new events live until interrupted', async () => {
    const p = startRole('audit', { LEDGERHUB_API_URL: t.api.url, LEDGERHUB_TOKEN: t.readToken }, [
      'tail',
      '--zone',
      ZONE,
      '--limit',
      '1',
    ]);
    await waitFor('following', () => p.stderr.some((l) => l.startsWith('-- following')));
    const more = scenarioEvents('denied_exchange', { rng: seededRng(3), zone: ZONE, at: at + 5000 });
    await t.seed(more);
    await waitFor('the new event printed', () => p.logs.some((l) => String(l.msg).includes(more[0]!.id)));
    p.kill('SIGINT');
    expect((await p.exited).code).toBe(0);
  });

  it('exits 2 on bad usage and 4 when the API cannot be reached', async () => {
    expect((await cli(['audit', 'tail', '--zone', ZONE, '--limit', '0'])).code).toBe(2);
    expect((await cli(['audit', 'tail', '--bogus'])).code).toBe(2);
    const down = await cli(['audit', 'tail', '--zone', ZONE], t.readToken, {
      LEDGERHUB_API_URL: 'http://127.0.0.1:1',
    });
    expect(down.code).toBe(4);
    expect(down.err).toMatch(/cannot reach the API/);
  });
});

describe('ledgerhub explain', () => {
  it('explains a denial in text, finding the zone by itself', async () => {
    const r = await cli(['explain', denied[0]!.request_id]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`request ${denied[0]!.request_id} in ${ZONE}: final decision DENY`);
    expect(r.out).toContain(
      `determining_policies: ${(denied[0]!.determining_policies_json![0] as { policy: string }).policy}`,
    );
    expect(r.out).toMatch(/integrity: verified over 1 event/);
  });

  it('prints the raw trace with --json and a sequence diagram with --format mermaid', async () => {
    const j = await cli(['explain', allowed[0]!.request_id, '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ final_decision: 'allow', gaps: [] });
    const m = await cli(['explain', allowed[0]!.request_id, '--format', 'mermaid']);
    expect(m.out.split('\n')[0]).toBe('sequenceDiagram');
    expect(m.out).toContain('App->>Gateway');
  });

  it('exits 1 with the API’s reason for an unknown request', async () => {
    const r = await cli(['explain', 'no-such-request']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no event carries request id no-such-request \[request_not_found\]/);
  });
});

describe('ledgerhub dlq and token', () => {
  it('lists, shows and (with an admin token) replays dead letters', async () => {
    await t.fx.xadd({ ...denied[0]!, id: 'unsigned-1' }, { sign: false });
    await waitFor('dead-lettered', async () => (await t.fx.dlqEntries()).length === 1);
    const ls = await cli(['dlq', 'ls']);
    expect(ls.out).toMatch(/hmac_verify_failed\s+no\s+unsigned-1/);
    const id = ls.out.split('\n')[1]!.split(/\s+/)[0]!;
    expect((await cli(['dlq', 'show', id])).out).toContain('reason       hmac_verify_failed');
    const forbidden = await cli(['dlq', 'replay']);
    expect(forbidden.code).toBe(1);
    expect(forbidden.err).toMatch(/lacks the scope audit:admin \[forbidden\]/);
    expect((await cli(['dlq', 'replay'], t.adminToken)).out).toBe(
      'scanned 1, replayed 0, skipped 1 (not replayable)',
    );
  });

  it('makes a token and a hashed entry that does not contain it', async () => {
    const r = await cli(['token', 'new', '--name', 'ci', '--scope', 'audit:read']);
    const token = /token: (\S+)/.exec(r.out)![1]!;
    const entry = JSON.parse(/entry: (.*)/.exec(r.out)![1]!) as { sha256: string; scopes: string[] };
    expect(entry.scopes).toEqual(['audit:read']);
    expect(r.out.split('\n')[1]).not.toContain(token);
  });
});
