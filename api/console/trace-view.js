// The request trace: why a request was decided as it was. Final decision, timeline of stages with
// gaps in place, denial cards (status, reason, determining policies, diagnostics, the reconstructed
// policy input), integrity of the involved events, related requests and every event.
import { ApiError, apiGet, isAbort, paths } from './api.js';
import { copyButton } from './copy-button.js';
import { fill, h } from './dom.js';
import { decisionTone, eventLabel, stageLabel } from './event-catalog.js';
import { diagnosticsView, eventDetail, fieldList, jsonBlock, policiesView } from './event-detail.js';
import { decisionPill, eventTable, requestLink } from './event-table.js';
import { denialReason, diagnosticMessage, formatSpan, formatTime, plural, valueText } from './format.js';
import { navigate, queryWithout, routes } from './router.js';
import { emptyState, errorState, loadingState } from './states.js';

/**
 * The integrity badge: verified, failed (with the number of faults) or HMAC not checked.
 * @param {{ status: string, checked: number, hmac_checked: boolean, faults: any[] }} integrity
 */
export function integrityBadge(integrity, onClick) {
  const { status, checked, faults } = integrity;
  const [tone, text, title] =
    status === 'verified'
      ? [
          'success',
          '✓ Integrity verified',
          `${plural(checked, 'event')}: content hashes, chain links and HMACs verified`,
        ]
      : status === 'failed'
        ? [
            'danger',
            `✗ Integrity failed · ${plural(faults.length, 'fault')}`,
            'An involved event does not match the hash chain',
          ]
        : [
            'warning',
            '◐ Chain verified · HMAC not checked',
            `${plural(checked, 'event')}: hashes and links verified; the API has no HMAC key, so chain HMACs were not checked`,
          ];
  return h(
    'button',
    {
      type: 'button',
      class: `badge tone-${tone} integrity-badge`,
      title,
      dataset: { integrity: status },
      onclick: onClick,
    },
    text,
  );
}

function integritySection(integrity) {
  const { status, checked, faults } = integrity;
  const explanation =
    status === 'verified'
      ? `The ${plural(checked, 'event')} of this trace match their content hashes, their links in the zone's hash chain and their HMACs.`
      : status === 'failed'
        ? 'At least one event of this trace does not match the hash chain: it was changed, removed or inserted after it was stored. Treat an audit chain mismatch as a security incident.'
        : `The ${plural(checked, 'event')} match their content hashes and chain links. HMACs were not checked because the API runs without the HMAC key.`;
  return h(
    'section',
    { class: 'card integrity', id: 'trace-integrity', tabindex: '-1', 'aria-labelledby': 'integrity-title' },
    h('h2', { id: 'integrity-title' }, 'Integrity'),
    h('p', null, explanation),
    faults.length === 0
      ? null
      : h(
          'table',
          { class: 'faults', 'aria-label': 'Integrity faults' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Kind', 'Chain seq', 'Event ID', 'Detail'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            null,
            faults.map((f) =>
              h(
                'tr',
                null,
                h('td', { class: 'mono' }, f.kind),
                h('td', { class: 'mono' }, f.chain_seq),
                h('td', { class: 'mono' }, f.event_id ?? '—'),
                h('td', null, f.detail),
              ),
            ),
          ),
        ),
  );
}

function denialCard(d, event, openEvent) {
  const message = diagnosticMessage(d.diagnostics);
  return h(
    'article',
    { class: 'card denial', dataset: { eventId: d.event_id }, 'aria-label': `Denial by ${d.event_type}` },
    h(
      'header',
      { class: 'denial-head' },
      h('h3', null, eventLabel(d.event_type, 'deny')),
      event
        ? h('span', { class: 'mono muted', title: event.occurred_at }, formatTime(event.occurred_at))
        : null,
      h(
        'button',
        { type: 'button', class: 'btn btn-small', onclick: () => openEvent(d.event_id) },
        'Event detail',
      ),
    ),
    fieldList([
      ['Evaluation status', h('code', { class: 'denial-status' }, d.evaluation_status ?? '—')],
      ['Reason', h('strong', { class: 'denial-reason' }, valueText(denialReason(d)))],
      ['Message', message ?? undefined],
      ['Determining policies', policiesView(d.determining_policies)],
      ['Event ID', d.event_id, { mono: true, copy: 'event id' }],
      [
        'Policy set version',
        event ? `${valueText(event.policy_set_id)} @ ${valueText(event.policy_set_version_id)}` : undefined,
        { mono: true },
      ],
    ]),
    h('h4', null, 'Diagnostics'),
    diagnosticsView(d.diagnostics),
    h(
      'details',
      { class: 'policy-input' },
      h('summary', null, 'Policy input (reconstructed, to replay in policy simulation)'),
      jsonBlock(d.policy_input, 'policy input'),
    ),
  );
}

/** The facts Caracal's incident checklist asks for, from the first denied event (else the first event). */
function incidentFacts(trace) {
  const subject = trace.events.find((e) => e.id === trace.denied[0]?.event_id) ?? trace.events[0] ?? {};
  const m = subject.metadata_json ?? {};
  const policies = [...new Set(trace.denied.flatMap((d) => d.determining_policies))];
  return {
    application: m.application_id ?? m.client_id,
    applicationName: m.application_name,
    resource: m.resource,
    scopes: m.requested_scopes,
    session: m.agent_session_id,
    // the API redacts metadata session_id on every read, so it is only shown when it is not redacted
    authority: m.session_id === '[redacted]' ? undefined : m.session_id,
    delegation: m.delegation_edge_id,
    policySet: subject.policy_set_id
      ? `${subject.policy_set_id} @ ${subject.policy_set_version_id ?? '?'}`
      : undefined,
    manifest: subject.manifest_sha ?? undefined,
    policies,
  };
}

function incidentText(trace, facts) {
  const lines = [
    `request ${trace.request_id} in ${trace.zone_id}: final decision ${trace.final_decision.toUpperCase()}`,
    `application: ${valueText(facts.application)}${facts.applicationName ? ` (${valueText(facts.applicationName)})` : ''}`,
    `resource: ${valueText(facts.resource)}  scopes: ${valueText(facts.scopes)}`,
    `session: ${valueText(facts.session)}  authority record: ${valueText(facts.authority)}  delegation edge: ${valueText(facts.delegation)}`,
    `policy set: ${valueText(facts.policySet)}  manifest: ${valueText(facts.manifest)}`,
  ];
  for (const d of trace.denied) {
    lines.push(
      `denied by ${d.determining_policies.join(', ') || '(no policy recorded)'}: ${d.event_type} status=${d.evaluation_status} reason=${valueText(denialReason(d))}`,
    );
  }
  for (const g of trace.gaps) lines.push(`gap: ${g.stage} (${g.kind}): ${g.message}`);
  lines.push(`integrity: ${trace.integrity.status} over ${trace.integrity.checked} event(s)`);
  lines.push(`link: ${location.href}`);
  return lines.join('\n');
}

/**
 * @param {HTMLElement} root
 * @param {{ name: 'trace', zone: string, requestId: string, query: URLSearchParams }} route
 */
export function traceView(root, route) {
  const { zone, requestId } = route;
  const query = route.query;
  const controller = new AbortController();
  /** @type {any} */
  let trace = null;
  const body = h('div', { class: 'trace-body' });
  const drawer = h('div', { class: 'drawer', hidden: true });
  let returnFocus = /** @type {HTMLElement | null} */ (null);

  fill(
    root,
    h(
      'section',
      { class: 'view view-trace', 'aria-labelledby': 'view-title' },
      h(
        'nav',
        { class: 'crumbs', 'aria-label': 'Breadcrumb' },
        h('a', { href: routes.audit(zone) }, 'Activity · ', h('span', { class: 'mono' }, zone)),
        h('span', { 'aria-hidden': 'true' }, ' › '),
        h('span', null, 'Request trace'),
      ),
      body,
      drawer,
    ),
  );

  const openEvent = (id) => {
    returnFocus = /** @type {HTMLElement | null} */ (document.activeElement);
    const q = new URLSearchParams(query);
    q.set('event', id);
    navigate(routes.trace(zone, requestId, q), { replace: true });
  };
  const closeEvent = () => {
    const q = new URLSearchParams(query);
    q.delete('event');
    navigate(routes.trace(zone, requestId, q), { replace: true });
    returnFocus?.focus();
  };

  function showEvent(id) {
    if (!trace || !id) {
      drawer.hidden = true;
      drawer.replaceChildren();
      return;
    }
    const e = trace.events.find((x) => x.id === id);
    drawer.hidden = false;
    if (!e) {
      fill(drawer, emptyState('Event not in this trace', id));
      return;
    }
    const d = eventDetail(e, { onClose: closeEvent });
    fill(drawer, d.panel);
    d.focus();
  }

  async function load() {
    fill(body, loadingState('Explaining the request'));
    try {
      trace = await apiGet(paths.explain(zone, requestId), { signal: controller.signal });
    } catch (err) {
      if (isAbort(err)) return;
      const notFound = err instanceof ApiError && err.code === 'request_not_found';
      fill(
        body,
        h(
          'h1',
          { id: 'view-title', class: 'trace-missing-title' },
          'Request ',
          h('span', { class: 'mono' }, requestId),
        ),
        errorState(err, { onRetry: notFound ? undefined : load }),
        notFound
          ? h(
              'p',
              null,
              h('a', { class: 'btn', href: routes.findRequest(requestId) }, 'Look for it in every zone'),
            )
          : null,
      );
      return;
    }
    render();
    showEvent(query.get('event'));
  }

  function render() {
    const t = trace;
    const first = t.events[0];
    const last = t.events.at(-1);
    const facts = incidentFacts(t);
    const integrity = integritySection(t.integrity);
    const table = eventTable({ label: 'Events of this request', onOpen: (e) => openEvent(e.id) });
    table.setEvents(t.events);

    const gapsAfter = new Map();
    for (const g of t.gaps) gapsAfter.set(g.after_event_id, [...(gapsAfter.get(g.after_event_id) ?? []), g]);
    const timeline = h(
      'ol',
      { class: 'timeline', 'aria-label': 'Timeline of stages' },
      t.timeline.map((s) => [
        h(
          'li',
          {
            class: `stage tone-${decisionTone(s.decision)}`,
            dataset: { eventId: s.event_id, stage: s.stage },
          },
          h('span', { class: 'stage-dot', 'aria-hidden': 'true' }),
          h(
            'div',
            { class: 'stage-body' },
            h(
              'div',
              { class: 'stage-line' },
              h('span', { class: 'stage-name' }, stageLabel(s.stage)),
              decisionPill(s.decision),
              h('span', { class: 'mono muted stage-time', title: s.occurred_at }, formatTime(s.occurred_at)),
              first && s.event_id !== first.id
                ? h(
                    'span',
                    { class: 'muted stage-offset' },
                    `+${formatSpan(first.occurred_at, s.occurred_at)}`,
                  )
                : null,
            ),
            h(
              'button',
              { type: 'button', class: 'stage-summary link-button', onclick: () => openEvent(s.event_id) },
              s.summary,
            ),
            s.request_id && s.request_id !== t.request_id
              ? h('div', { class: 'stage-under muted' }, 'recorded under ', requestLink(zone, s.request_id))
              : null,
          ),
        ),
        (gapsAfter.get(s.event_id) ?? []).map((g) =>
          h(
            'li',
            { class: 'stage stage-gap tone-warning', dataset: { gapKind: g.kind } },
            h('span', { class: 'stage-dot', 'aria-hidden': 'true' }),
            h(
              'div',
              { class: 'stage-body' },
              h(
                'div',
                { class: 'stage-line' },
                h('span', { class: 'stage-name' }, `Missing: ${stageLabel(g.stage)}`),
                h('span', { class: 'pill tone-warning' }, g.kind),
              ),
              h('p', { class: 'stage-gap-message' }, g.message),
            ),
          ),
        ),
      ]),
    );

    const related = t.related_request_ids;
    fill(
      body,
      h(
        'header',
        { class: 'trace-head' },
        h(
          'div',
          {
            class: `verdict tone-${decisionTone(t.final_decision)}`,
            role: 'status',
            dataset: { finalDecision: t.final_decision },
          },
          h('span', { class: 'verdict-label' }, 'Final decision'),
          h('strong', { class: 'verdict-value' }, t.final_decision),
        ),
        h(
          'div',
          { class: 'trace-title' },
          h(
            'h1',
            { id: 'view-title' },
            'Request ',
            h('span', { class: 'mono request-id' }, t.request_id),
            copyButton(t.request_id, 'request id'),
          ),
          h(
            'p',
            { class: 'muted' },
            `${plural(t.events.length, 'event')} in `,
            h('span', { class: 'mono' }, t.zone_id),
            first && last
              ? ` · ${formatTime(first.occurred_at)} → ${formatTime(last.occurred_at)} UTC (${formatSpan(first.occurred_at, last.occurred_at)})`
              : '',
          ),
        ),
        h(
          'div',
          { class: 'trace-badges' },
          integrityBadge(t.integrity, () => {
            integrity.scrollIntoView({ block: 'nearest' });
            integrity.focus();
          }),
          copyButton(() => incidentText(t, facts), 'incident summary', { label: 'Copy incident summary' }),
        ),
      ),
      t.integrity.status === 'failed'
        ? h(
            'div',
            { class: 'alert tone-danger', role: 'alert' },
            h('strong', null, 'Integrity check failed. '),
            'An event of this trace does not match the hash chain; treat an audit chain mismatch as a security incident.',
          )
        : null,
      h(
        'section',
        { class: 'card incident', 'aria-label': 'Request facts' },
        fieldList([
          [
            'Application',
            facts.application !== undefined
              ? `${valueText(facts.application)}${facts.applicationName ? ` · ${valueText(facts.applicationName)}` : ''}`
              : undefined,
            { mono: true },
          ],
          ['Resource', facts.resource, { mono: true }],
          ['Requested scopes', facts.scopes, { mono: true }],
          ['Session', facts.session, { mono: true }],
          ['Authority record', facts.authority, { mono: true }],
          ['Delegation edge', facts.delegation, { mono: true }],
          ['Policy set', facts.policySet, { mono: true }],
        ]),
      ),
      h(
        'div',
        { class: 'trace-grid' },
        h(
          'div',
          { class: 'trace-col' },
          h(
            'section',
            { class: 'card', 'aria-labelledby': 'timeline-title' },
            h(
              'h2',
              { id: 'timeline-title' },
              'Timeline',
              h('span', { class: 'count' }, plural(t.timeline.length, 'stage')),
            ),
            timeline,
          ),
          h(
            'section',
            { class: 'card gaps', 'aria-labelledby': 'gaps-title' },
            h('h2', { id: 'gaps-title' }, 'Gaps', h('span', { class: 'count' }, String(t.gaps.length))),
            t.gaps.length === 0
              ? h('p', { class: 'muted' }, 'No expected stage is missing.')
              : h(
                  'ul',
                  { class: 'gap-list' },
                  t.gaps.map((g) =>
                    h(
                      'li',
                      { dataset: { gapKind: g.kind } },
                      h('strong', null, `${stageLabel(g.stage)} `),
                      h('span', { class: 'pill tone-warning' }, g.kind),
                      h('p', null, g.message),
                      h(
                        'span',
                        { class: 'muted' },
                        'after event ',
                        h(
                          'button',
                          {
                            type: 'button',
                            class: 'link-button mono',
                            onclick: () => openEvent(g.after_event_id),
                          },
                          g.after_event_id,
                        ),
                      ),
                    ),
                  ),
                ),
          ),
          related.length === 0
            ? null
            : h(
                'section',
                { class: 'card', 'aria-labelledby': 'related-title' },
                h('h2', { id: 'related-title' }, 'Related requests'),
                h(
                  'p',
                  { class: 'muted' },
                  'Approvals are decided under their challenge id; these events are part of this trace.',
                ),
                h(
                  'ul',
                  { class: 'related' },
                  related.map((id) => h('li', null, requestLink(zone, id))),
                ),
              ),
        ),
        h(
          'div',
          { class: 'trace-col' },
          h(
            'section',
            { class: 'denials', 'aria-labelledby': 'denials-title' },
            h(
              'h2',
              { id: 'denials-title' },
              t.denied.length ? 'Why it was denied' : 'Denials',
              h('span', { class: 'count' }, String(t.denied.length)),
            ),
            t.denied.length === 0
              ? h('p', { class: 'card muted' }, 'No event of this request was denied.')
              : t.denied.map((d) =>
                  denialCard(
                    d,
                    t.events.find((e) => e.id === d.event_id),
                    openEvent,
                  ),
                ),
          ),
          integrity,
        ),
      ),
      h(
        'section',
        { class: 'card all-events', 'aria-labelledby': 'events-title' },
        h('h2', { id: 'events-title' }, 'All events', h('span', { class: 'count' }, String(t.events.length))),
        h('div', { class: 'table-wrap' }, table.table),
      ),
    );
  }

  const onKey = (event) => {
    if (event.key === 'Escape' && !drawer.hidden && !document.querySelector('dialog[open]')) closeEvent();
  };
  document.addEventListener('keydown', onKey);
  load();

  return {
    update(next) {
      if (next.name !== 'trace' || next.zone !== zone || next.requestId !== requestId) return false;
      if (queryWithout(next.query, 'event') !== queryWithout(query, 'event')) return false;
      const id = next.query.get('event');
      if (id === null) query.delete('event');
      else query.set('event', id);
      showEvent(id);
      return true;
    },
    dispose() {
      controller.abort();
      document.removeEventListener('keydown', onKey);
    },
  };
}
