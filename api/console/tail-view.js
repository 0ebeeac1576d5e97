// The live tail: new events of a zone as the ledger commits them, newest on top, at most MAX_ROWS in
// the page. Pause stops rendering but keeps reading, buffering what arrives and counting it; resume
// shows the buffer. The stream reconnects by itself with Last-Event-ID and shows the server's reasons.
import { isAbort, paths } from './api.js';
import { fill, h, isTyping } from './dom.js';
import { eventDetail } from './event-detail.js';
import { eventTable } from './event-table.js';
import { filterForm, filtersToQuery, readFilters } from './filters.js';
import { formatAge, plural } from './format.js';
import { navigate, routes } from './router.js';
import { openEventStream } from './sse.js';
import { emptyState } from './states.js';

/** Rows kept in the page (and events kept while paused): the newest win. */
export const MAX_ROWS = 500;
/** Recent events shown when the tail opens. */
export const TAIL_BACKFILL = 50;

/** A reconnect delay: tenths of a second below ten seconds, else an age. */
function retryDelay(ms) {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : formatAge(ms / 1000);
}

/**
 * @param {HTMLElement} root
 * @param {{ name: 'tail', zone: string, query: URLSearchParams }} route
 */
export function tailView(root, route) {
  const zone = route.zone;
  const filters = readFilters(route.query);
  let paused = false;
  let pausedCount = 0;
  let received = 0;
  /** @type {any[]} events that arrived while paused, oldest first */
  let buffer = [];
  /** @type {any[]} events waiting for the next frame, oldest first */
  let queue = [];
  let frame = 0;
  /** ids of events in the page or buffer: a backfill after a reconnect must not show them twice */
  const seen = new Set();
  /** @type {string | null} */
  let lastEventId = null;
  /** @type {string | null} */
  let selectedId = null;

  const form = filterForm({
    filters,
    timeRange: false,
    onApply: (f) => navigate(routes.tail(zone, filtersToQuery(f))),
  });
  const table = eventTable({ label: 'Live events, newest first', onOpen: (e) => select(e) });
  const statusDot = h('span', { class: 'status-dot', 'aria-hidden': 'true' });
  const statusText = h('span', { class: 'status-text' });
  const status = h(
    'span',
    { id: 'tail-status', class: 'tail-status', role: 'status', dataset: { state: 'connecting' } },
    statusDot,
    statusText,
  );
  const toggle = h(
    'button',
    {
      id: 'tail-toggle',
      type: 'button',
      class: 'btn btn-primary',
      'aria-pressed': 'false',
      'aria-keyshortcuts': 'p',
      title: 'Pause or resume (p)',
    },
    'Pause',
  );
  const pausedBadge = h('span', {
    id: 'tail-paused',
    class: 'badge tone-warning',
    role: 'status',
    hidden: true,
  });
  const counts = h('span', { class: 'view-meta' });
  const notice = h('div', { id: 'tail-notice', class: 'alert tone-warning', role: 'alert', hidden: true });
  const clearButton = h(
    'button',
    { type: 'button', class: 'btn btn-small', title: 'Remove the rows shown (the stream continues)' },
    'Clear',
  );
  const empty = emptyState(
    'Waiting for events',
    `New events of this zone appear here as they are stored; the ${TAIL_BACKFILL} most recent are shown first.`,
  );
  const results = h('div', { class: 'pane-main' }, empty, h('div', { class: 'table-wrap' }, table.table));
  const detail = h('div', { class: 'pane-detail', hidden: true });
  const split = h('div', { class: 'split' }, results, detail);

  fill(
    root,
    h(
      'section',
      { class: 'view view-tail', 'aria-labelledby': 'view-title' },
      h(
        'header',
        { class: 'view-head' },
        h('h1', { id: 'view-title' }, 'Live tail ', h('span', { class: 'zone-name mono' }, zone)),
        status,
        h('div', { class: 'view-tools' }, pausedBadge, counts, clearButton, toggle),
      ),
      form.element,
      notice,
      split,
    ),
  );

  const updateCounts = () => {
    const shown = table.rows().length;
    counts.textContent = `${plural(received, 'event')} received · ${shown} shown (newest ${MAX_ROWS} kept)`;
    empty.hidden = shown > 0;
  };

  const render = () => {
    frame = 0;
    if (queue.length === 0) return;
    const fragment = document.createDocumentFragment();
    for (let i = queue.length - 1; i >= 0; i--) fragment.append(table.rowFor(queue[i]));
    queue = [];
    table.tbody.prepend(fragment);
    const rows = table.rows();
    for (const tr of rows.slice(MAX_ROWS)) {
      seen.delete(tr.dataset.eventId);
      tr.remove();
    }
    if (!rows.slice(0, MAX_ROWS).some((r) => r.tabIndex === 0)) {
      const first = rows[0];
      if (first) first.tabIndex = 0;
    }
    table.setSelected(selectedId);
    updateCounts();
  };
  const show = (events) => {
    queue.push(...events);
    if (queue.length > MAX_ROWS) queue = queue.slice(-MAX_ROWS);
    if (!frame) frame = requestAnimationFrame(render);
  };

  const onEvent = (e) => {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    received++;
    if (paused) {
      buffer.push(e);
      if (buffer.length > MAX_ROWS) seen.delete(buffer.shift().id);
      pausedCount++;
      pausedBadge.textContent = `${plural(pausedCount, 'new event')} while paused`;
      pausedBadge.hidden = false;
      updateCounts();
    } else {
      show([e]);
    }
  };

  const setPaused = (value) => {
    paused = value;
    toggle.textContent = paused ? 'Resume' : 'Pause';
    toggle.setAttribute('aria-pressed', String(paused));
    toggle.classList.toggle('btn-warning', paused);
    root.querySelector('.view-tail')?.classList.toggle('is-paused', paused);
    if (!paused) {
      show(buffer);
      buffer = [];
      pausedCount = 0;
      pausedBadge.hidden = true;
      pausedBadge.textContent = '';
    } else {
      pausedBadge.textContent = 'Paused · 0 new events';
      pausedBadge.hidden = false;
    }
  };
  toggle.addEventListener('click', () => setPaused(!paused));
  clearButton.addEventListener('click', () => {
    for (const tr of table.rows()) seen.delete(tr.dataset.eventId);
    table.tbody.replaceChildren();
    updateCounts();
  });

  const setStatus = (state, text) => {
    status.dataset.state = state;
    statusText.textContent = text;
  };
  const showNotice = (text) => {
    fill(
      notice,
      h('span', null, text),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-quiet btn-small',
          'aria-label': 'Dismiss',
          onclick: () => (notice.hidden = true),
        },
        '✕',
      ),
    );
    notice.hidden = false;
  };

  /** @type {ReturnType<typeof openEventStream> | null} */
  let stream = null;
  const connect = () => {
    stream = openEventStream({
      url: () => {
        const q = filtersToQuery(filters);
        // the first connection shows recent events; later ones resume with Last-Event-ID instead
        if (lastEventId === null) q.set('backfill', String(TAIL_BACKFILL));
        return `${paths.stream(zone)}?${q}`;
      },
      onMessage: (m) => {
        if (m.id !== null) lastEventId = m.id;
        if (m.event === 'audit') {
          let data;
          try {
            data = JSON.parse(m.data);
          } catch {
            return;
          }
          if (data && typeof data === 'object' && typeof data.id === 'string') onEvent(data);
        } else if (m.event === 'error') {
          let err = {};
          try {
            err = JSON.parse(m.data);
          } catch {
            err = { error: 'unknown', message: m.data };
          }
          showNotice(
            `The server ended the stream (${String(err.error)}): ${String(err.message)}. ` +
              (lastEventId ? `Resuming after event ${lastEventId}.` : 'Reconnecting.'),
          );
        }
      },
      onHeartbeat: () => {
        status.dataset.heartbeat = new Date().toISOString();
      },
      onStatus: (s) => {
        if (s.state === 'connecting')
          setStatus('connecting', s.attempt ? `Reconnecting (attempt ${s.attempt + 1})…` : 'Connecting…');
        else if (s.state === 'live')
          setStatus('live', lastEventId ? `Live · resumed after event ${lastEventId}` : 'Live');
        else if (s.state === 'retrying') {
          setStatus('retrying', `Disconnected (${s.reason}); retrying in ${retryDelay(s.delayMs ?? 0)}`);
        } else {
          setStatus('stopped', `Stopped: ${s.reason}`);
          if (s.status === 403) showNotice(`This token lacks the scope to read the live tail: ${s.reason}`);
          const again = h('button', { type: 'button', class: 'btn btn-small' }, 'Reconnect');
          again.addEventListener('click', () => {
            again.remove();
            connect();
          });
          status.append(again);
        }
      },
    });
  };

  const onKey = (event) => {
    if (event.defaultPrevented || isTyping(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    if (event.key === 'p') {
      event.preventDefault();
      setPaused(!paused);
    } else if (event.key === 'Escape' && selectedId) {
      select(null);
    }
  };

  function select(e) {
    selectedId = e ? e.id : null;
    table.setSelected(selectedId);
    if (!e) {
      split.classList.remove('has-detail');
      detail.hidden = true;
      detail.replaceChildren();
      return;
    }
    split.classList.add('has-detail');
    detail.hidden = false;
    fill(detail, eventDetail(e, { onClose: () => select(null) }).panel);
  }

  document.addEventListener('keydown', onKey);
  updateCounts();
  try {
    connect();
  } catch (err) {
    if (!isAbort(err)) setStatus('stopped', String(err));
  }

  return {
    update: () => false,
    dispose() {
      stream?.close();
      if (frame) cancelAnimationFrame(frame);
      form.dispose();
      document.removeEventListener('keydown', onKey);
    },
  };
}
