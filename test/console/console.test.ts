// The web console in a real headless Chromium against a real API and worker: the token from the address,
// filters, a denied request's trace, the live tail's pause and resume, dead-letter replay, hostile
// strings and the 401 prompt. Every page must log no console error and no CSP violation; each step
// leaves a screenshot in test-results/console/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetterReason, deadLetterFields } from '../../ledger/dead-letter.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { uuidv7 } from '../../ledger/ids.ts';
import { realisticEvents, scenarioEvents, seededRng } from '../../ledger/scenarios.ts';
import { decodeStreamEntry, encodeStreamFields } from '../../ledger/stream-codec.ts';
import { type ApiFixture, createApiFixture } from '../support/api-fixture.ts';
import { waitFor } from '../support/wait.ts';

const SHOTS = new URL('../../test-results/console/', import.meta.url).pathname;
/** The README's screenshot is rewritten only on request: `LEDGERHUB_DOCS_SCREENSHOT=1`. */
const DOCS_SHOT = new URL('../../docs/console.png', import.meta.url).pathname;
const VIEWPORT = { width: 1280, height: 800 };
/** Playwright waits fail after this long (the vitest test timeout is 60 s). */
const UI_TIMEOUT_MS = 15_000;

const ZONE = 'zone-console';
const HOSTILE_ZONE = 'zone-<svg onload=alert(3)>';
const DLQ_ZONE = 'zone-console-dlq';
const now = Date.now();

// background traffic over the last hour, then the requests the tests look at, newest
const traffic = realisticEvents(240, {
  seed: 21,
  zones: [ZONE, 'zone-console-other'],
  startMs: now - 3_600_000,
  endMs: now - 300_000,
});
const rejected = scenarioEvents('approval_rejected', { rng: seededRng(7), zone: ZONE, at: now - 120_000 });
const deniedEvent = rejected.find((e) => e.event_type === 'token_exchange')!;
const tampered = scenarioEvents('denied_exchange', { rng: seededRng(8), zone: ZONE, at: now - 200_000 });
const hostile: AuditEventInput = {
  id: uuidv7(now - 30_000),
  zone_id: ZONE,
  event_type: 'token_exchange',
  request_id: 'req-<script>alert(1)</script>',
  decision: 'deny',
  evaluation_status: '<img src=x onerror=alert(1)>',
  determining_policies_json: [{ policy: '<b>bold-policy</b>' }],
  diagnostics_json: [{ reason: '\u202Eexe.txt', message: 'm'.repeat(3000) }],
  metadata_json: {
    application_id: '<script>alert(2)</script>',
    resource: 'resource://\u202Egnp.exe',
    note: 'A'.repeat(20_000),
    '<i>key</i>': '\u200Bzero-width',
  },
  occurred_at: new Date(now - 30_000).toISOString(),
};
const hostileZoneEvent: AuditEventInput = {
  ...scenarioEvents('denied_exchange', { rng: seededRng(9), zone: HOSTILE_ZONE, at: now - 60_000 })[0]!,
};
const [replayable, parked] = realisticEvents(2, { seed: 40, zones: [DLQ_ZONE] });

let t: ApiFixture;
let context: BrowserContext;
let userDataDir: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  t = await createApiFixture('console');
  await t.seed([...traffic, ...tampered, ...rejected, hostile, hostileZoneEvent]);
  // a row changed after it was stored: its trace must fail the integrity check
  await t.fx.db.pool.query("UPDATE audit_events SET evaluation_status = 'edited' WHERE id = $1", [
    tampered[0]!.id,
  ]);
  // one dead letter the worker could not store for a transient reason, one that failed its signature
  const good = encodeStreamFields(replayable!.id, JSON.stringify(replayable), t.fx.key).map((f) =>
    Buffer.from(f),
  );
  await t.fx.redis.xadd(
    t.fx.dlqStream,
    '*',
    ...deadLetterFields(
      decodeStreamEntry('1-1', good),
      DeadLetterReason.transientExceeded('57P01 terminating'),
      Date.now(),
    ),
  );
  await t.fx.xadd(parked!, { sign: false });
  await waitFor('two dead letters', async () => (await t.fx.dlqEntries()).length === 2);

  userDataDir = mkdtempSync(join(tmpdir(), 'ledgerhub-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: VIEWPORT,
    colorScheme: 'dark',
  });
  // Chromium also logs violations itself; this makes sure each one reaches the console listener
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
});

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await t?.close();
});

interface Watched {
  page: Page;
  /** Console errors, CSP violations and uncaught exceptions. */
  problems: string[];
  /** alert/confirm/prompt dialogs: the console never opens one. */
  dialogs: string[];
}

/** A new tab whose console errors, page errors and dialogs are recorded; `expected` lists allowed errors. */
async function newTab(expected: RegExp[] = []): Promise<Watched> {
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const w: Watched = { page, problems: [], dialogs: [] };
  page.on('console', (m) => {
    const text = m.text();
    const isProblem = m.type() === 'error' || /content security policy|refused to/i.test(text);
    if (isProblem && !expected.some((r) => r.test(text))) w.problems.push(`${m.type()}: ${text}`);
  });
  page.on('pageerror', (err) => w.problems.push(`uncaught: ${err.message}`));
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return w;
}

/** Opens the console with `/#token=<token>` as the dev stack prints it, then goes to `hash`. */
async function openConsole(token: string, hash?: string, expected: RegExp[] = []): Promise<Watched> {
  const w = await newTab(expected);
  const res = await w.page.goto(`${t.api.url}/#token=${encodeURIComponent(token)}`);
  expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
  // the token leaves the address bar at once, and the console opens a zone's activity
  await w.page.waitForURL((u) => u.hash.startsWith('#/zones/'));
  expect(w.page.url()).not.toContain(token);
  if (hash) await go(w.page, hash);
  return w;
}

async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

async function finish(w: Watched): Promise<void> {
  expect(w.problems).toEqual([]);
  expect(w.dialogs).toEqual([]);
  await w.page.close();
}

const enc = encodeURIComponent;
const row = (page: Page, eventId: string) => page.locator(`tr.event-row[data-event-id="${eventId}"]`);

/** A new denial in the zone, stored after the page is open. */
function freshDenial(seed: number): AuditEventInput {
  return scenarioEvents('denied_exchange', { rng: seededRng(1000 + seed), zone: ZONE, at: Date.now() })[0]!;
}

describe('console', () => {
  it('asks for a token when there is none and when the API answers 401, then uses the one entered', async () => {
    const w = await newTab([/status of 401/]);
    const { page } = w;
    const res = await page.goto(`${t.api.url}/`);
    expect(res?.headers()['content-security-policy']).toContain("style-src 'self'");
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await page.locator('#token-reason').textContent()).toContain('Enter an API token');
    await shot(page, '01-token-prompt');

    await page.goto(`${t.api.url}/#token=lh_not-a-token`);
    await page.locator('#token-reason', { hasText: 'the bearer token is not valid' }).waitFor();
    expect(page.url()).not.toContain('lh_not-a-token');
    await shot(page, '02-token-rejected');

    await page.locator('#token-input').fill(t.readToken);
    await page.getByRole('button', { name: 'Use token' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('tr.event-row').first().waitFor();
    await finish(w);
  });

  it('filters a zone to denials, shows an event in full and opens the trace of a known denied request', async () => {
    const w = await openConsole(t.readToken);
    const { page } = w;
    await page.locator('#zone-picker').selectOption(ZONE);
    await page.waitForURL(`**/#/zones/${ZONE}/audit`);
    await page.locator('tr.event-row').first().waitFor();
    await shot(page, '03-activity');

    await page.getByLabel('Decision').selectOption('deny');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/decision=deny/);
    // the URL changes before the filtered page arrives: wait for the page that counts the new filter
    await page.locator('.view-meta', { hasText: '· 1 filter' }).waitFor();
    await row(page, deniedEvent.id).waitFor();
    const decisions = await page.locator('tr.event-row .col-decision .pill').allTextContents();
    expect(decisions.length).toBeGreaterThan(10);
    expect(new Set(decisions)).toEqual(new Set(['deny']));

    // event types are picked by category: "Authority" selects token_exchange and run_launch
    await page.locator('summary.picker-summary').click();
    await page.locator('legend label', { hasText: 'Authority' }).locator('input').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/event_type=token_exchange%2Crun_launch/);
    await page.locator('.view-meta', { hasText: '· 2 filters' }).waitFor();
    await row(page, deniedEvent.id).waitFor();
    const types = await page.locator('tr.event-row .event-type').allTextContents();
    expect(types.filter((type) => type !== 'token_exchange' && type !== 'run_launch')).toEqual([]);
    await shot(page, '04-activity-denials');

    // the filtered page downloads as CSV (through a blob: the token stays in a header)
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`audit-${ZONE}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toContain('request_id');
    expect(csv).toContain(deniedEvent.request_id);

    // the row opens the detail panel from the keyboard; Escape closes it
    await row(page, deniedEvent.id).focus();
    await page.keyboard.press('Enter');
    const detail = page.locator('aside.detail');
    await detail.waitFor();
    const detailText = await detail.textContent();
    expect(detailText).toContain(deniedEvent.manifest_sha!);
    expect(detailText).toContain(deniedEvent.policy_set_version_id!);
    expect(detailText).toContain('step-up-for-writes');
    expect(detailText).toContain('approver rejected the request');
    expect(page.url()).toContain(`event=${deniedEvent.id}`);
    await shot(page, '05-event-detail');
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'detached' });

    await row(page, deniedEvent.id).locator('a.request-link').click();
    await page.waitForURL(`**/#/zones/${ZONE}/requests/${enc(deniedEvent.request_id)}`);
    const verdict = page.locator('.verdict');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-final-decision')).toBe('deny');
    const denial = page.locator('article.denial');
    expect(await denial.locator('.denial-status').textContent()).toBe('approval_rejected');
    expect(await denial.locator('.denial-reason').textContent()).toBe('policy_denied');
    expect(await denial.locator('.chip').allTextContents()).toEqual(['step-up-for-writes']);
    expect(await denial.textContent()).toContain('approver rejected the request');
    const badge = page.locator('.integrity-badge');
    expect(await badge.getAttribute('data-integrity')).toBe('verified');
    expect(await badge.textContent()).toContain('Integrity verified');
    expect(
      await page
        .locator('.timeline li.stage')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))),
    ).toEqual(['approval_requested', 'approval_decided', 'authorization']);
    const challenge = rejected.find((e) => e.event_type === 'step_up_decided')!.request_id;
    expect(await page.locator('.related').textContent()).toContain(challenge);
    await shot(page, '06-trace-denied');
    if (process.env.LEDGERHUB_DOCS_SCREENSHOT === '1') await page.screenshot({ path: DOCS_SHOT });

    await denial.locator('.policy-input summary').click();
    const input = JSON.parse((await denial.locator('.policy-input pre').textContent()) ?? '{}');
    expect(input).toMatchObject({ schema_version: '2026-05-20', action: { id: 'TokenExchange' } });
    await finish(w);
  });

  it('finds a request by id from anywhere and shows a failed integrity check with its faults', async () => {
    const w = await openConsole(t.readToken);
    const { page } = w;
    await page.locator('tr.event-row').first().waitFor();
    await page.keyboard.press('/');
    await page.keyboard.type(tampered[0]!.request_id);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/#/zones/${ZONE}/requests/${enc(tampered[0]!.request_id)}`);
    const badge = page.locator('.integrity-badge');
    await badge.waitFor();
    expect(await badge.getAttribute('data-integrity')).toBe('failed');
    expect(await page.locator('[role=alert]', { hasText: 'Integrity check failed' }).count()).toBe(1);
    const faults = await page.locator('table.faults').textContent();
    expect(faults).toContain('content_mismatch');
    expect(faults).toContain(tampered[0]!.id);
    await shot(page, '07-trace-integrity-failed');
    await finish(w);
  });

  it('opens a linked event that is not on the current page', async () => {
    // the oldest event of the zone is beyond the first page of 100
    const oldest = traffic
      .filter((e) => e.zone_id === ZONE)
      .sort((a, b) => a.occurred_at.localeCompare(b.occurred_at))[0]!;
    const w = await openConsole(t.readToken, `#/zones/${enc(ZONE)}/audit?event=${oldest.id}`);
    const { page } = w;
    const detail = page.locator(`aside.detail[data-event-id="${oldest.id}"]`);
    await detail.waitFor();
    expect(await row(page, oldest.id).count()).toBe(0);
    expect(await detail.textContent()).toContain(oldest.request_id);
    await finish(w);
  });

  it('tails new events live, stops rendering while paused and counts them, and shows them on resume', async () => {
    const w = await openConsole(t.readToken, `#/zones/${enc(ZONE)}/tail`);
    const { page } = w;
    await page.locator('#tail-status[data-state="live"]').waitFor();
    await page.locator('tr.event-row').first().waitFor(); // the backfill

    const first = freshDenial(1);
    await t.seed([first]);
    await row(page, first.id).waitFor();
    expect(await page.locator('tr.event-row').first().getAttribute('data-event-id')).toBe(first.id);
    await shot(page, '08-tail-live');

    await page.locator('#tail-toggle').click();
    await page.locator('#tail-toggle[aria-pressed="true"]').waitFor();
    const during = [freshDenial(2), freshDenial(3), freshDenial(4)];
    await t.seed(during);
    await page.locator('#tail-paused', { hasText: '3 new events while paused' }).waitFor();
    for (const e of during) expect(await row(page, e.id).count()).toBe(0);
    expect(await page.locator('tr.event-row').first().getAttribute('data-event-id')).toBe(first.id);
    await shot(page, '09-tail-paused');

    await page.keyboard.press('p'); // resume from the keyboard
    await page.locator('#tail-toggle[aria-pressed="false"]').waitFor();
    for (const e of during) await row(page, e.id).waitFor();
    expect(await page.locator('#tail-paused').isHidden()).toBe(true);
    const top = await page
      .locator('tr.event-row')
      .evaluateAll((rs) => rs.slice(0, 4).map((r) => r.getAttribute('data-event-id')));
    expect(top).toEqual(
      [...during]
        .reverse()
        .map((e) => e.id)
        .concat(first.id),
    );
    await shot(page, '10-tail-resumed');
    await finish(w);
  });

  it('shows why the server ended a tail and resumes from the last event id, also after a network error', async () => {
    const known = traffic.find((e) => e.zone_id === ZONE)!;
    const seq = ((await t.get(`/v1/audit/events/${known.id}`)).body as { ledger_seq: number }).ledger_seq;
    const items = (
      (await t.get(`/v1/zones/${ZONE}/audit/by-request/${known.request_id}`)).body as {
        items: { id: string }[];
      }
    ).items;
    const detail = { ...items.find((i) => i.id === known.id)!, ledger_seq: seq };
    const w = await openConsole(t.readToken, undefined, [/ERR_CONNECTION_RESET/]);
    const { page } = w;
    const resumedWith: (string | undefined)[] = [];
    let streams = 0;
    // the first stream sends one event, then the server's slow_consumer cut; the second connection
    // is reset by the network; later ones reach the API
    await page.route('**/audit/stream**', async (route) => {
      streams++;
      if (streams === 1) {
        const error = {
          error: 'slow_consumer',
          message: `more than 1000 events behind; reconnect with Last-Event-ID ${seq} to resume`,
        };
        await route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
          body: `retry: 300\n\nid: ${seq}\nevent: audit\ndata: ${JSON.stringify(detail)}\n\nevent: error\ndata: ${JSON.stringify(error)}\n\n`,
        });
        return;
      }
      resumedWith.push(route.request().headers()['last-event-id']);
      if (streams === 2) await route.abort('connectionreset');
      else await route.continue();
    });
    await go(page, `#/zones/${enc(ZONE)}/tail`);
    await page.locator('#tail-notice', { hasText: 'slow_consumer' }).waitFor();
    await row(page, known.id).waitFor();
    await page
      .locator('#tail-status[data-state="live"]', { hasText: `resumed after event ${seq}` })
      .waitFor();
    expect(resumedWith.slice(0, 2)).toEqual([String(seq), String(seq)]);
    const next = freshDenial(5);
    await t.seed([next]);
    await row(page, next.id).waitFor();
    await shot(page, '11-tail-resumed-after-cut');
    await finish(w);
  });

  it('lists dead letters and refuses replay to a read-only token with the reason', async () => {
    const w = await openConsole(t.readToken, '#/dlq', [/status of 403/]);
    const { page } = w;
    await page.locator('table.dlq tbody tr').nth(1).waitFor();
    expect(await page.locator('table.dlq tbody tr').count()).toBe(2);
    await page.locator('#dlq-replay').click();
    await page.locator('#dlq-replay-confirm').click();
    const result = page.locator('#dlq-result', { hasText: 'Replay refused' });
    await result.waitFor();
    expect(await result.textContent()).toContain('lacks the scope audit:admin');
    await shot(page, '12-dlq-forbidden');
    await finish(w);
  });

  it('shows a dead letter with its source event and replays the replayable ones with an admin token', async () => {
    const w = await openConsole(t.adminToken, '#/dlq');
    const { page } = w;
    const entries = page.locator('table.dlq tbody tr');
    await entries.nth(1).waitFor();
    await entries.filter({ hasText: 'transient_exceeded_max_deliveries' }).click();
    const detail = page.locator('aside.detail');
    await detail.locator('.json').waitFor();
    expect(await detail.textContent()).toContain(replayable!.id);
    expect(await detail.locator('.json').textContent()).toContain(`"zone_id": "${DLQ_ZONE}"`);
    await shot(page, '13-dlq-detail');

    await page.locator('#dlq-replay').click();
    await page.locator('#dlq-replay-confirm').click();
    await page.locator('#dlq-result', { hasText: 'Scanned 2 · replayed 1 · skipped 1' }).waitFor();
    await page.locator('table.dlq tbody tr', { hasText: 'hmac_verify_failed' }).waitFor();
    await waitFor('the list without the replayed entry', async () => (await entries.count()) === 1);
    expect((await t.get(`/v1/audit/events/${replayable!.id}?wait=10`)).body).toMatchObject({
      ingested: true,
    });
    await shot(page, '14-dlq-replayed');
    await finish(w);
  });

  it('renders hostile strings from events and zone ids as inert text without breaking the layout', async () => {
    const w = await openConsole(t.readToken, `#/zones/${enc(ZONE)}/audit?decision=deny`);
    const { page } = w;
    const r = row(page, hostile.id);
    await r.waitFor();
    expect(await r.locator('.col-app').textContent()).toBe('<script>alert(2)</script>');
    expect(await r.locator('.col-status').textContent()).toBe('<img src=x onerror=alert(1)>');
    // a request id the API cannot trace is shown, not linked
    expect(await r.locator('.col-request').textContent()).toContain('req-<script>alert(1)</script>');
    expect(await r.locator('a').count()).toBe(0);

    await r.click();
    const detail = page.locator('aside.detail');
    await detail.waitFor();
    // direction overrides and zero-width characters are shown, not obeyed
    expect(await detail.locator('.hidden-char').allTextContents()).toEqual(
      expect.arrayContaining(['U+202E', 'U+200B']),
    );
    expect(await detail.textContent()).toContain('<b>bold-policy</b>');
    await shot(page, '15-hostile-event');

    const layout = await page.evaluate(() => {
      const over = (sel: string) => {
        const el = document.querySelector(sel);
        return el ? el.scrollWidth - el.clientWidth : 0;
      };
      return {
        page: document.documentElement.scrollWidth - window.innerWidth,
        list: over('.pane-main'),
        detail: over('.pane-detail'),
        scripts: document.scripts.length,
        injected: document.querySelectorAll('main img, main svg, main iframe, main b, main i, main object')
          .length,
      };
    });
    expect(layout).toEqual({ page: 0, list: 0, detail: 0, scripts: 1, injected: 0 });

    await page.locator('#zone-picker').selectOption(HOSTILE_ZONE);
    await row(page, hostileZoneEvent.id).waitFor();
    expect(await page.locator('h1 .zone-name').textContent()).toBe(HOSTILE_ZONE);
    expect(await page.locator('svg, img').count()).toBe(0);
    await shot(page, '16-hostile-zone');
    await finish(w);
  });
});
