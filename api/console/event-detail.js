// The event detail panel: every field of one AuditDetail under Caracal's detail labels (policy set,
// version and manifest SHA included), its determining policies, diagnostics and full metadata.
import { copyButton } from './copy-button.js';
import { h } from './dom.js';
import { categoryOf, decisionTone, eventLabel } from './event-catalog.js';
import { decisionPill, requestLink } from './event-table.js';
import { denialReason, diagnosticsList, formatTime, policyNames, prettyJson, valueText } from './format.js';
import { routes } from './router.js';

/**
 * A definition list of label/value rows; rows whose value is undefined are left out.
 * @param {[string, unknown, { mono?: boolean, copy?: string }?][]} rows
 */
export function fieldList(rows) {
  return h(
    'dl',
    { class: 'fields' },
    rows
      .filter(([, value]) => value !== undefined)
      .map(([label, value, opts = {}]) => [
        h('dt', null, label),
        h(
          'dd',
          { class: opts.mono ? 'mono' : null },
          value instanceof Node ? value : valueText(value),
          opts.copy && typeof value === 'string' ? copyButton(value, opts.copy) : null,
        ),
      ]),
  );
}

/** JSON in a scrollable block, with a button copying all of it. */
export function jsonBlock(value, what) {
  return h(
    'div',
    { class: 'json-block' },
    h('pre', { class: 'json', tabindex: '0' }, prettyJson(value)),
    copyButton(() => JSON.stringify(value, null, 2), what, { label: 'Copy JSON' }),
  );
}

/** Diagnostics: each object as its own small field list (they are free-form, §3.4). */
export function diagnosticsView(value) {
  const list = diagnosticsList(value);
  if (list.length === 0) return h('p', { class: 'muted' }, 'No diagnostics.');
  return h(
    'ol',
    { class: 'diagnostics' },
    list.map((d) =>
      h(
        'li',
        null,
        d && typeof d === 'object' && !Array.isArray(d)
          ? fieldList(Object.entries(d).map(([k, v]) => [k, v, { mono: true }]))
          : h('code', null, valueText(d)),
      ),
    ),
  );
}

/** Determining policies as chips, raw JSON behind a disclosure. */
export function policiesView(value) {
  const names = policyNames(value);
  if (names.length === 0) return h('p', { class: 'muted' }, 'No determining policies recorded.');
  return h(
    'ul',
    { class: 'chips', 'aria-label': 'Determining policies' },
    names.map((n) => h('li', { class: 'chip mono' }, n)),
  );
}

/**
 * @param {any} e an AuditDetail
 * @param {{ onClose: () => void }} opts
 */
export function eventDetail(e, opts) {
  const m = e.metadata_json && typeof e.metadata_json === 'object' ? e.metadata_json : {};
  const meta = (key) => (Object.hasOwn(m, key) ? m[key] : undefined);
  const denied = e.decision === 'deny' || e.decision === 'rejected';
  const close = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-quiet close',
      'aria-label': 'Close event detail (Esc)',
      title: 'Close (Esc)',
      onclick: opts.onClose,
    },
    '✕',
  );
  const heading = h('h2', { tabindex: '-1' }, eventLabel(e.event_type, e.decision));
  const panel = h(
    'aside',
    {
      class: `detail tone-edge-${decisionTone(e.decision)}`,
      'aria-label': 'Event detail',
      dataset: { eventId: e.id },
    },
    h('header', { class: 'detail-head' }, heading, decisionPill(e.decision), close),
    h(
      'div',
      { class: 'detail-actions' },
      e.request_id && /^[A-Za-z0-9_.\-:]{1,128}$/.test(e.request_id)
        ? h('a', { class: 'btn btn-small', href: routes.trace(e.zone_id, e.request_id) }, 'Request trace →')
        : null,
      copyButton(() => JSON.stringify(e, null, 2), 'event as JSON', { label: 'Copy JSON' }),
    ),
    fieldList([
      ['Event ID', e.id, { mono: true, copy: 'event id' }],
      ['Occurred at', h('span', { class: 'mono', title: e.occurred_at }, `${formatTime(e.occurred_at)} UTC`)],
      ['Ingested at', h('span', { class: 'mono', title: e.ingested_at }, `${formatTime(e.ingested_at)} UTC`)],
      ['Event type', h('span', null, h('code', null, e.event_type), ` · ${categoryOf(e.event_type)}`)],
      ['Decision', e.decision],
      ['Evaluation status', e.evaluation_status, { mono: true }],
      ['Denial reason', denied ? denialReason(e) : undefined, { mono: true }],
      ['Request ID', requestLink(e.zone_id, e.request_id)],
      ['Zone', e.zone_id, { mono: true }],
      ['Trace ID', meta('trace_id'), { mono: true, copy: 'trace id' }],
      ['Application ID', meta('application_id'), { mono: true }],
      ['Application name', meta('application_name')],
      ['Resource', meta('resource'), { mono: true }],
      ['Requested scopes', meta('requested_scopes'), { mono: true }],
      ['Session ID', meta('agent_session_id'), { mono: true, copy: 'session id' }],
      ['Authority record', meta('session_id'), { mono: true }],
      ['Session lifecycle', meta('agent_lifecycle')],
      ['Session labels', meta('agent_labels')],
      ['Delegation edge', meta('delegation_edge_id'), { mono: true }],
      ['Delegation hops', meta('delegation_hop_count')],
      ['Challenge ID', meta('challenge_id'), { mono: true, copy: 'challenge id' }],
      ['HTTP method', meta('method')],
      ['Upstream status', meta('upstream_status')],
      ['Latency (ms)', meta('latency_ms')],
      ['Policy set ID', e.policy_set_id ?? '—', { mono: true }],
      ['Policy set version', e.policy_set_version_id ?? '—', { mono: true }],
      [
        'Policy manifest SHA',
        e.manifest_sha ?? '—',
        { mono: true, copy: e.manifest_sha ? 'manifest sha' : undefined },
      ],
    ]),
    h(
      'section',
      { class: 'detail-section' },
      h('h3', null, 'Determining policies'),
      policiesView(e.determining_policies_json),
    ),
    h(
      'section',
      { class: 'detail-section' },
      h('h3', null, 'Diagnostics'),
      diagnosticsView(e.diagnostics_json),
    ),
    h(
      'section',
      { class: 'detail-section' },
      h('h3', null, 'Metadata'),
      Object.keys(m).length === 0
        ? h('p', { class: 'muted' }, 'No metadata.')
        : fieldList(
            Object.keys(m)
              .sort()
              .map((k) => [k, m[k], { mono: true }]),
          ),
    ),
    h(
      'details',
      { class: 'detail-section' },
      h('summary', null, 'Raw event (JSON)'),
      jsonBlock(e, 'event as JSON'),
    ),
  );
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      opts.onClose();
    }
  });
  return { panel, focus: () => heading.focus() };
}
