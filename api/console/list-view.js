// The Activity view: a zone's audit events with filters, cursor paging and the event detail panel.
// Filters, page and the open event are in the route, so every state is a link.
import { apiGet, authHeaders, errorFromResponse, isAbort, paths } from './api.js';
import { fill, h } from './dom.js';
import { eventDetail } from './event-detail.js';
import { findEvent } from './event-lookup.js';
import { eventTable } from './event-table.js';
import { activeFilterCount, filterForm, filtersToQuery, readFilters } from './filters.js';
import { plural } from './format.js';
import { navigate, queryWithout, routes } from './router.js';
import { emptyState, errorState, loadingState } from './states.js';

const PAGE_SIZES = ['50', '100', '200', '500'];
const DEFAULT_PAGE_SIZE = '100';

/**
 * @param {HTMLElement} root
 * @param {{ name: 'audit', zone: string, query: URLSearchParams }} route
 */
export function listView(root, route) {
  const zone = route.zone;
  const query = route.query;
  const filters = readFilters(query);
  const limit = PAGE_SIZES.includes(query.get('limit') ?? '')
    ? /** @type {string} */ (query.get('limit'))
    : DEFAULT_PAGE_SIZE;
  const cursor = query.get('cursor');
  const pageNumber = Math.max(1, Number(query.get('page') ?? '1') || 1);
  const controller = new AbortController();
  /** @type {any[]} */
  let items = [];
  let detailController = new AbortController();

  const hrefWith = (changes) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) q.delete(k);
      else q.set(k, v);
    }
    return routes.audit(zone, q);
  };

  const form = filterForm({
    filters,
    onApply: (f) => {
      const q = filtersToQuery(f);
      if (limit !== DEFAULT_PAGE_SIZE) q.set('limit', limit);
      navigate(routes.audit(zone, q));
    },
  });
  const table = eventTable({
    label: 'Audit events',
    onOpen: (e) => navigate(hrefWith({ event: e.id }), { replace: true }),
  });
  const summary = h('span', { class: 'view-meta', role: 'status' });
  const results = h('div', { class: 'pane-main' });
  const detail = h('div', { class: 'pane-detail', hidden: true });
  const split = h('div', { class: 'split' }, results, detail);

  const pageSize = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { 'aria-label': 'Events per page' },
      PAGE_SIZES.map((s) => h('option', { value: s }, `${s} / page`)),
    )
  );
  pageSize.value = limit;
  pageSize.addEventListener('change', () =>
    navigate(hrefWith({ limit: pageSize.value, cursor: null, page: null, event: null })),
  );

  const exportCsv = h(
    'button',
    { type: 'button', class: 'btn btn-small', title: 'Download this page as CSV' },
    'Export CSV',
  );
  exportCsv.addEventListener('click', () => downloadCsv(zone, apiQuery(), exportCsv));

  fill(
    root,
    h(
      'section',
      { class: 'view view-audit', 'aria-labelledby': 'view-title' },
      h(
        'header',
        { class: 'view-head' },
        h('h1', { id: 'view-title' }, 'Activity ', h('span', { class: 'zone-name mono' }, zone)),
        summary,
        h(
          'div',
          { class: 'view-tools' },
          pageSize,
          exportCsv,
          h(
            'a',
            { class: 'btn btn-small', href: routes.tail(zone, filtersToQuery(filters)) },
            'Live tail with these filters',
          ),
        ),
      ),
      form.element,
      split,
    ),
  );

  function apiQuery() {
    const q = filtersToQuery(filters);
    q.set('limit', limit);
    if (cursor) q.set('cursor', cursor);
    return q;
  }

  function pager(nextCursor) {
    return h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      cursor
        ? h(
            'a',
            { class: 'btn btn-small', href: hrefWith({ cursor: null, page: null, event: null }) },
            '⇤ Newest',
          )
        : null,
      h('span', { class: 'muted' }, `Page ${pageNumber}`),
      nextCursor
        ? h(
            'a',
            {
              class: 'btn btn-small',
              rel: 'next',
              href: hrefWith({ cursor: nextCursor, page: String(pageNumber + 1), event: null }),
            },
            'Next page →',
          )
        : h('span', { class: 'muted' }, 'End of results'),
    );
  }

  async function load() {
    fill(results, loadingState('Loading events'));
    summary.textContent = '';
    let page;
    try {
      page = await apiGet(paths.audit(zone), { query: apiQuery(), signal: controller.signal });
    } catch (err) {
      if (isAbort(err)) return;
      fill(results, errorState(err, { onRetry: load }));
      return;
    }
    items = page.items;
    const n = activeFilterCount(filters);
    summary.textContent = `${plural(items.length, 'event')} on this page${n ? ` · ${plural(n, 'filter')}` : ''}`;
    if (items.length === 0) {
      fill(
        results,
        emptyState(
          cursor ? 'No more events' : n ? 'No events match these filters' : 'No events in this zone yet',
          n
            ? 'Widen the filters or reset them.'
            : 'Events appear here once producers send them and the worker stores them.',
        ),
        cursor ? pager(null) : null,
      );
    } else {
      table.setEvents(items);
      fill(results, h('div', { class: 'table-wrap' }, table.table), pager(page.next_cursor));
    }
    showDetail(query.get('event'));
  }

  /** @param {string | null} id */
  async function showDetail(id) {
    detailController.abort();
    detailController = new AbortController();
    table.setSelected(id);
    if (!id) {
      split.classList.remove('has-detail');
      detail.hidden = true;
      detail.replaceChildren();
      return;
    }
    split.classList.add('has-detail');
    detail.hidden = false;
    let event = items.find((e) => e.id === id);
    if (!event) {
      fill(detail, loadingState('Finding the event'));
      try {
        event = await findEvent(id, detailController.signal);
      } catch (err) {
        if (isAbort(err)) return;
        fill(detail, errorState(err));
        return;
      }
      if (!event) {
        fill(detail, emptyState('Event not found', 'No stored event has this id.'));
        return;
      }
    }
    const close = () => {
      navigate(hrefWith({ event: null }), { replace: true });
      table.rowOf(id)?.focus();
    };
    const d = eventDetail(event, { onClose: close });
    fill(detail, d.panel);
  }

  const onKey = (event) => {
    if (event.key === 'Escape' && query.get('event') && !document.querySelector('dialog[open]')) {
      navigate(hrefWith({ event: null }), { replace: true });
    }
  };
  document.addEventListener('keydown', onKey);
  load();

  return {
    /** Handles a route that only opens or closes an event in place. */
    update(next) {
      if (next.name !== 'audit' || next.zone !== zone) return false;
      if (queryWithout(next.query, 'event') !== queryWithout(query, 'event')) return false;
      const id = next.query.get('event');
      if (id === null) query.delete('event');
      else query.set('event', id);
      showDetail(id).then(() => {
        if (id) /** @type {HTMLElement | null} */ (detail.querySelector('h2'))?.focus();
      });
      return true;
    },
    dispose() {
      controller.abort();
      detailController.abort();
      form.dispose();
      document.removeEventListener('keydown', onKey);
    },
  };
}

/**
 * Downloads the list as CSV (the API's format=csv), through a blob so the token stays in a header.
 * @param {string} zone
 * @param {URLSearchParams} query
 * @param {HTMLButtonElement} button
 */
async function downloadCsv(zone, query, button) {
  const q = new URLSearchParams(query);
  q.set('format', 'csv');
  button.disabled = true;
  try {
    const res = await fetch(`${paths.audit(zone)}?${q}`, { headers: authHeaders(), cache: 'no-store' });
    if (!res.ok) throw await errorFromResponse(res);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `audit-${zone.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    button.textContent = 'Export CSV';
  } catch (err) {
    button.textContent = `Export failed: ${/** @type {Error} */ (err).message}`.slice(0, 80);
  } finally {
    button.disabled = false;
  }
}
