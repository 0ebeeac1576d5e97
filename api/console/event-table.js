// The table of audit events used by the list, the live tail and the trace: Caracal's columns
// (occurred_at, event, decision, evaluation_status, request_id, id) plus application and resource, with
// keyboard navigation (arrows or j/k move, Enter opens) and request ids that link to their trace.
import { copyButton } from './copy-button.js';
import { fill, h } from './dom.js';
import { decisionTone, eventLabel, REQUEST_ID_PATTERN } from './event-catalog.js';
import { formatTime, valueText } from './format.js';
import { routes } from './router.js';

/** A decision as a toned pill. @param {string | null | undefined} decision */
export function decisionPill(decision) {
  return h(
    'span',
    { class: `pill tone-${decisionTone(decision)}`, dataset: { decision: decision ?? '' } },
    decision ?? 'none',
  );
}

/**
 * A request id: a link to its trace when the API can trace it, copyable either way.
 * @param {string} zone
 * @param {string | null} requestId
 */
export function requestLink(zone, requestId) {
  if (!requestId) return h('span', { class: 'muted' }, '—');
  const traceable = REQUEST_ID_PATTERN.test(requestId);
  return h(
    'span',
    { class: 'id-with-copy' },
    traceable
      ? h(
          'a',
          {
            class: 'mono request-link',
            href: routes.trace(zone, requestId),
            title: `Trace request ${requestId}`,
          },
          requestId,
        )
      : h('span', { class: 'mono', title: 'not a request id the API can trace' }, requestId),
    copyButton(requestId, 'request id'),
  );
}

const COLUMNS = [
  { key: 'time', label: 'Occurred (UTC)' },
  { key: 'event', label: 'Event' },
  { key: 'decision', label: 'Decision' },
  { key: 'status', label: 'Status' },
  { key: 'request', label: 'Request ID' },
  { key: 'app', label: 'Application' },
  { key: 'resource', label: 'Resource', optional: true },
  { key: 'id', label: 'Event ID', optional: true },
];

/**
 * One row.
 * @param {any} e an AuditDetail
 */
function eventRow(e) {
  const m = e.metadata_json && typeof e.metadata_json === 'object' ? e.metadata_json : {};
  const app = m.application_id ?? m.client_id ?? m.subject ?? null;
  const resource = m.resource ?? m.upstream_host ?? null;
  return h(
    'tr',
    {
      tabindex: '-1',
      class: `event-row tone-row-${decisionTone(e.decision)}`,
      dataset: { eventId: e.id },
      'aria-selected': 'false',
    },
    h('td', { class: 'col-time mono', title: e.occurred_at }, formatTime(e.occurred_at)),
    h(
      'td',
      { class: 'col-event', title: e.event_type },
      h('span', { class: 'event-label' }, eventLabel(e.event_type, e.decision)),
      ' ',
      h('code', { class: 'event-type' }, e.event_type),
    ),
    h('td', { class: 'col-decision' }, decisionPill(e.decision)),
    h('td', { class: 'col-status', title: e.evaluation_status ?? '' }, e.evaluation_status ?? '—'),
    h('td', { class: 'col-request' }, requestLink(e.zone_id, e.request_id)),
    h('td', { class: 'col-app mono', title: app === null ? '' : valueText(app) }, valueText(app)),
    h(
      'td',
      { class: 'col-resource col-optional', title: resource === null ? '' : valueText(resource) },
      valueText(resource),
    ),
    h(
      'td',
      { class: 'col-id col-optional', title: e.id },
      h('span', { class: 'id-with-copy' }, h('span', { class: 'mono' }, e.id), copyButton(e.id, 'event id')),
    ),
  );
}

/**
 * A table of events. `onOpen(event)` runs when a row is clicked or Enter is pressed on it.
 * @param {{ onOpen: (e: any) => void, label: string }} opts
 */
export function eventTable(opts) {
  /** @type {WeakMap<Element, any>} the event each row shows */
  const events = new WeakMap();
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'events', 'aria-label': opts.label },
    h(
      'colgroup',
      null,
      COLUMNS.map((c) => h('col', { class: `col-${c.key}${c.optional ? ' col-optional' : ''}` })),
    ),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        COLUMNS.map((c) =>
          h('th', { scope: 'col', class: `col-${c.key}${c.optional ? ' col-optional' : ''}` }, c.label),
        ),
      ),
    ),
    tbody,
  );

  const rows = () => /** @type {HTMLElement[]} */ ([...tbody.querySelectorAll('tr.event-row')]);
  const open = (tr) => {
    const e = events.get(tr);
    if (e) opts.onOpen(e);
  };
  const focusRow = (tr) => {
    if (!tr) return;
    for (const r of rows()) r.tabIndex = -1;
    tr.tabIndex = 0;
    tr.focus();
  };

  tbody.addEventListener('click', (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('a, button')) return;
    const tr = target.closest('tr.event-row');
    if (tr) {
      focusRow(tr);
      open(tr);
    }
  });
  tbody.addEventListener('keydown', (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.tagName !== 'TR') return;
    const all = rows();
    const i = all.indexOf(target);
    if (event.key === 'ArrowDown' || event.key === 'j') focusRow(all[i + 1]);
    else if (event.key === 'ArrowUp' || event.key === 'k') focusRow(all[i - 1]);
    else if (event.key === 'Home') focusRow(all[0]);
    else if (event.key === 'End') focusRow(all.at(-1));
    else if (event.key === 'Enter' || event.key === ' ') open(target);
    else return;
    event.preventDefault();
  });

  /** Builds a row for an event (not yet in the table). */
  const rowFor = (e) => {
    const tr = eventRow(e);
    events.set(tr, e);
    return tr;
  };

  return {
    table,
    tbody,
    rowFor,
    /** Replaces all rows. @param {any[]} items */
    setEvents(items) {
      fill(tbody, ...items.map(rowFor));
      const first = rows()[0];
      if (first) first.tabIndex = 0;
    },
    /** Marks the row of an event as the one shown in the detail panel. @param {string | null} id */
    setSelected(id) {
      for (const r of rows()) {
        const on = id !== null && r.dataset.eventId === id;
        r.setAttribute('aria-selected', on ? 'true' : 'false');
      }
    },
    /** The row of an event, if shown. @param {string} id */
    rowOf(id) {
      return rows().find((r) => r.dataset.eventId === id) ?? null;
    },
    focusRow,
    rows,
  };
}
