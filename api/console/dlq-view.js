// Dead letters: the messages the worker could not store, oldest first, with why and whether they can
// be replayed; one entry's source event and stream fields; and replay (audit:admin), one or all.
import { ApiError, apiGet, apiPost, isAbort, paths } from './api.js';
import { copyButton } from './copy-button.js';
import { fill, h } from './dom.js';
import { fieldList, jsonBlock } from './event-detail.js';
import { decisionPill, requestLink } from './event-table.js';
import { formatAge, plural } from './format.js';
import { navigate, routes } from './router.js';
import { describeError, emptyState, errorState, loadingState } from './states.js';

const PAGE_SIZE = '100';
/** Columns as [label, optional]; the optional ones give way to the detail panel. */
const DLQ_COLUMNS = [
  ['ID', false],
  ['Age', false],
  ['Reason', false],
  ['Replay', false],
  ['Event ID', true],
  ['Zone', true],
  ['Type', true],
  ['Request ID', true],
  ['Decision', false],
];
/** Entries one "Replay replayable" scans (the API's `limit`, at most 10000). */
export const REPLAY_BATCH = 1000;

/** `transient_exceeded_max_deliveries: 57P01 …` as its code and its detail. */
function splitReason(reason) {
  const i = reason.indexOf(':');
  return i === -1 ? [reason, ''] : [reason.slice(0, i), reason.slice(i + 1).trim()];
}

function replayablePill(replayable) {
  return h(
    'span',
    { class: `pill tone-${replayable ? 'success' : 'neutral'}` },
    replayable ? 'replayable' : 'parked',
  );
}

/**
 * @param {HTMLElement} root
 * @param {{ name: 'dlq', entryId: string | null, query: URLSearchParams }} route
 */
export function dlqView(root, route) {
  const query = route.query;
  const start = query.get('start');
  const pageNumber = Math.max(1, Number(query.get('page') ?? '1') || 1);
  const controller = new AbortController();
  let detailController = new AbortController();
  let entryId = route.entryId;

  const summary = h('span', { class: 'view-meta', role: 'status' });
  const result = h('div', { id: 'dlq-result', class: 'alert', role: 'status', hidden: true });
  const results = h('div', { class: 'pane-main' });
  const detail = h('div', { class: 'pane-detail', hidden: true });
  const split = h('div', { class: 'split' }, results, detail);
  const replayAll = h(
    'button',
    { id: 'dlq-replay', type: 'button', class: 'btn btn-primary' },
    'Replay replayable…',
  );
  const confirm = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm replay' });
  const tbody = h('tbody');

  fill(
    root,
    h(
      'section',
      { class: 'view view-dlq', 'aria-labelledby': 'view-title' },
      h(
        'header',
        { class: 'view-head' },
        h('h1', { id: 'view-title' }, 'Dead letters'),
        summary,
        h('div', { class: 'view-tools' }, confirm, replayAll),
      ),
      h(
        'p',
        { class: 'view-hint muted' },
        'Messages the worker could not store. Replayable ones (the database failed, or deliveries ran out) go back onto the audit stream with their original id, data and signature; the others need the producer fixed.',
      ),
      result,
      split,
    ),
  );

  const showResult = (tone, ...content) => {
    result.className = `alert tone-${tone}`;
    fill(result, ...content.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
    result.hidden = false;
  };

  /** Replays every replayable entry (`id` null) or one, and reports {scanned, replayed, skipped}. */
  async function replay(id) {
    const q = id ? { id } : { limit: String(REPLAY_BATCH) };
    showResult('neutral', 'Replaying…');
    try {
      const r = await apiPost(paths.dlqReplay(), { query: q, signal: controller.signal });
      showResult(
        r.replayed > 0 ? 'success' : 'neutral',
        h('strong', null, 'Replay done. '),
        `Scanned ${r.scanned} · replayed ${r.replayed} · skipped ${r.skipped}.`,
        r.skipped > 0 ? ' Skipped entries are not replayable and stay here.' : '',
      );
      if (id) navigate(routes.dlq(null, query), { replace: true });
      load();
    } catch (err) {
      if (isAbort(err)) return;
      if (err instanceof ApiError && err.status === 403) {
        showResult(
          'danger',
          h('strong', null, 'Replay refused. '),
          `${err.message}. Replaying needs a token with the audit:admin scope.`,
        );
      } else {
        const d = describeError(err);
        showResult('danger', h('strong', null, `${d.title}. `), d.hint);
      }
    }
  }

  replayAll.addEventListener('click', () => {
    fill(
      confirm,
      h('span', null, `Replay up to ${REPLAY_BATCH} replayable entries?`),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-danger',
          id: 'dlq-replay-confirm',
          onclick: () => {
            confirm.hidden = true;
            replayAll.hidden = false;
            replay(null);
          },
        },
        'Replay now',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-quiet',
          onclick: () => {
            confirm.hidden = true;
            replayAll.hidden = false;
            replayAll.focus();
          },
        },
        'Cancel',
      ),
    );
    confirm.hidden = false;
    replayAll.hidden = true;
    /** @type {HTMLElement} */ (confirm.querySelector('#dlq-replay-confirm'))?.focus();
  });

  function row(e) {
    const [code, more] = splitReason(e.reason);
    const tr = h(
      'tr',
      {
        class: 'event-row',
        tabindex: '0',
        dataset: { entryId: e.id },
        'aria-selected': String(e.id === entryId),
      },
      h('td', { class: 'mono' }, e.id),
      h('td', { class: 'mono', title: new Date(e.received_at).toISOString() }, formatAge(e.age_seconds)),
      h(
        'td',
        { class: 'col-reason', title: e.reason },
        h('strong', null, code),
        more ? h('span', { class: 'muted' }, ` ${more}`) : null,
      ),
      h('td', null, replayablePill(e.replayable)),
      h('td', { class: 'mono col-optional', title: e.event_id ?? '' }, e.event_id ?? '—'),
      h('td', { class: 'mono col-optional', title: e.zone_id ?? '' }, e.zone_id ?? '—'),
      h('td', { class: 'mono col-optional', title: e.event_type ?? '' }, e.event_type ?? '—'),
      h(
        'td',
        { class: 'col-optional' },
        e.zone_id ? requestLink(e.zone_id, e.request_id) : (e.request_id ?? '—'),
      ),
      h('td', null, e.decision ? decisionPill(e.decision) : '—'),
    );
    const open = () => navigate(routes.dlq(e.id, query), { replace: true });
    tr.addEventListener('click', (event) => {
      if (!(/** @type {HTMLElement} */ (event.target).closest('a, button'))) open();
    });
    tr.addEventListener('keydown', (event) => {
      if (event.target !== tr) return;
      if (event.key === 'Enter' || event.key === ' ') open();
      else if (event.key === 'ArrowDown' || event.key === 'j')
        /** @type {HTMLElement | null} */ (tr.nextElementSibling)?.focus();
      else if (event.key === 'ArrowUp' || event.key === 'k')
        /** @type {HTMLElement | null} */ (tr.previousElementSibling)?.focus();
      else return;
      event.preventDefault();
    });
    return tr;
  }

  async function load() {
    fill(results, loadingState('Loading dead letters'));
    const q = { limit: PAGE_SIZE };
    if (start) q.start = start;
    let page;
    try {
      page = await apiGet(paths.dlq(), { query: q, signal: controller.signal });
    } catch (err) {
      if (isAbort(err)) return;
      fill(results, errorState(err, { onRetry: load }));
      return;
    }
    const replayable = page.entries.filter((e) => e.replayable).length;
    summary.textContent = `${plural(page.size, 'entry', 'entries')} in the queue · ${replayable} replayable on this page`;
    if (page.entries.length === 0) {
      fill(
        results,
        emptyState(
          start ? 'No more dead letters' : 'No dead letters',
          start ? null : 'Every message the worker read was stored.',
        ),
      );
      return;
    }
    fill(tbody, ...page.entries.map(row));
    fill(
      results,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'events dlq', 'aria-label': 'Dead letters' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              DLQ_COLUMNS.map(([label, optional]) =>
                h('th', { scope: 'col', class: optional ? 'col-optional' : null }, label),
              ),
            ),
          ),
          tbody,
        ),
      ),
      h(
        'nav',
        { class: 'pager', 'aria-label': 'Pages' },
        start ? h('a', { class: 'btn btn-small', href: routes.dlq(null) }, '⇤ Oldest') : null,
        h('span', { class: 'muted' }, `Page ${pageNumber}`),
        page.next_cursor
          ? h(
              'a',
              {
                class: 'btn btn-small',
                rel: 'next',
                href: routes.dlq(null, { start: page.next_cursor, page: String(pageNumber + 1) }),
              },
              'Next page →',
            )
          : h('span', { class: 'muted' }, 'End of queue'),
      ),
    );
  }

  async function showDetail() {
    detailController.abort();
    detailController = new AbortController();
    for (const tr of tbody.querySelectorAll('tr'))
      tr.setAttribute('aria-selected', String(tr.getAttribute('data-entry-id') === entryId));
    if (!entryId) {
      split.classList.remove('has-detail');
      detail.hidden = true;
      detail.replaceChildren();
      return;
    }
    const id = entryId;
    split.classList.add('has-detail');
    detail.hidden = false;
    fill(detail, loadingState('Loading the entry'));
    let e;
    try {
      e = await apiGet(paths.dlqEntry(id), { signal: detailController.signal });
    } catch (err) {
      if (isAbort(err)) return;
      fill(detail, errorState(err));
      return;
    }
    const [code, more] = splitReason(e.reason);
    const close = () => navigate(routes.dlq(null, query), { replace: true });
    const heading = h('h2', { tabindex: '-1' }, 'Dead letter ', h('span', { class: 'mono' }, e.id));
    const panel = h(
      'aside',
      { class: 'detail', 'aria-label': 'Dead letter detail', dataset: { entryId: e.id } },
      h(
        'header',
        { class: 'detail-head' },
        heading,
        replayablePill(e.replayable),
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-quiet close',
            'aria-label': 'Close dead letter (Esc)',
            onclick: close,
          },
          '✕',
        ),
      ),
      h(
        'div',
        { class: 'detail-actions' },
        e.replayable
          ? h(
              'button',
              { type: 'button', class: 'btn btn-small btn-primary', onclick: () => replay(e.id) },
              'Replay this entry',
            )
          : h('span', { class: 'muted' }, 'Not replayable: the producer must fix and resend this event.'),
        copyButton(() => JSON.stringify(e, null, 2), 'dead letter as JSON', { label: 'Copy JSON' }),
      ),
      fieldList([
        ['Reason', h('span', null, h('strong', null, code), more ? ` ${more}` : '')],
        ['Age', `${formatAge(e.age_seconds)} (received ${new Date(e.received_at).toISOString()})`],
        ['Event ID', e.event_id ?? '—', { mono: true, copy: e.event_id ? 'event id' : undefined }],
        ['Zone', e.zone_id ?? '—', { mono: true }],
        ['Event type', e.event_type ?? '—', { mono: true }],
        ['Request ID', e.zone_id ? requestLink(e.zone_id, e.request_id) : (e.request_id ?? '—')],
        ['Decision', e.decision ?? '—'],
        ['Source stream id', e.source_id ?? '—', { mono: true }],
        ['Signature', e.source_sig ?? 'none (unsigned)', { mono: true }],
      ]),
      h(
        'section',
        { class: 'detail-section' },
        h('h3', null, 'Source event'),
        e.source_event === undefined || e.source_event === null
          ? h('p', { class: 'muted' }, 'The message carried no readable event.')
          : jsonBlock(e.source_event, 'source event'),
      ),
      h(
        'section',
        { class: 'detail-section' },
        h('h3', null, 'Stream fields'),
        fieldList(Object.entries(e.fields ?? {}).map(([k, v]) => [k, v, { mono: true }])),
      ),
    );
    panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') close();
    });
    fill(detail, panel);
    heading.focus();
  }

  load().then(showDetail);

  return {
    update(next) {
      if (next.name !== 'dlq') return false;
      if (new URLSearchParams(next.query).toString() !== new URLSearchParams(query).toString()) return false;
      entryId = next.entryId;
      showDetail();
      return true;
    },
    dispose() {
      controller.abort();
      detailController.abort();
    },
  };
}
