// The audit filter form shared by the list and the live tail: the list route's filters (decision, event
// types grouped by category, request, application, session, authority record, label, time range),
// read from and written to the route's query so a filtered view is a link.
import { h } from './dom.js';
import { CATEGORIES, DECISIONS, MAX_EVENT_TYPES, REQUEST_ID_PATTERN, typeName } from './event-catalog.js';

/** Query keys that are filters (the rest: cursor, limit, event, page). */
export const FILTER_KEYS = [
  'decision',
  'event_type',
  'request_id',
  'application_id',
  'session_id',
  'authority_record_id',
  'label',
  'since',
  'until',
];

const TEXT_FIELDS = [
  { key: 'request_id', label: 'Request ID', placeholder: 'req id or challenge id', mono: true },
  { key: 'application_id', label: 'Application', placeholder: 'app_…', mono: true },
  { key: 'session_id', label: 'Session', placeholder: 'sess_… (agent session)', mono: true },
  { key: 'authority_record_id', label: 'Authority record', placeholder: 'auth_…', mono: true },
  { key: 'label', label: 'Label', placeholder: 'prod, pii …', mono: false },
];

const PRESETS = [
  { label: '15m', ms: 15 * 60_000 },
  { label: '1h', ms: 3_600_000 },
  { label: '24h', ms: 86_400_000 },
  { label: '7d', ms: 7 * 86_400_000 },
];

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const LOOSE_UTC = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?)?Z?$/;

/**
 * An RFC 3339 timestamp from what was typed: RFC 3339 as is, or `YYYY-MM-DD[ HH:MM[:SS]]` read as UTC.
 * @returns {string | null} null when it cannot be read
 */
export function normalizeTime(text) {
  const t = text.trim();
  if (t === '') return '';
  if (RFC3339.test(t)) return t;
  const m = LOOSE_UTC.exec(t);
  if (!m) return null;
  const iso = `${m[1]}T${m[2] ?? '00:00'}${m[3] ?? ':00'}Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

/**
 * @typedef {{ decision: string, event_type: string[], request_id: string, application_id: string,
 *   session_id: string, authority_record_id: string, label: string, since: string, until: string }} Filters
 */

/** @param {URLSearchParams} query @returns {Filters} */
export function readFilters(query) {
  const get = (k) => query.get(k) ?? '';
  return {
    decision: get('decision'),
    event_type: get('event_type')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    request_id: get('request_id'),
    application_id: get('application_id'),
    session_id: get('session_id'),
    authority_record_id: get('authority_record_id'),
    label: get('label'),
    since: get('since'),
    until: get('until'),
  };
}

/** The filters as query parameters, empty ones left out. @param {Filters} f */
export function filtersToQuery(f) {
  const q = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const v = key === 'event_type' ? f.event_type.join(',') : f[key];
    if (v) q.set(key, v);
  }
  return q;
}

/** How many filters are set. @param {Filters} f */
export function activeFilterCount(f) {
  return FILTER_KEYS.filter((k) => (k === 'event_type' ? f.event_type.length > 0 : f[k] !== '')).length;
}

/**
 * The event-type picker: a disclosure with checkboxes grouped by category (a category's box selects
 * all its types) and a text field for types this console does not know.
 * @param {string[]} selected
 */
function eventTypePicker(selected) {
  const known = new Set(CATEGORIES.flatMap((c) => c.types));
  const summary = h('summary', { class: 'btn picker-summary' });
  const otherInput = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'text',
      name: 'event_type_other',
      class: 'mono',
      placeholder: 'other.type, another_type',
      spellcheck: 'false',
      autocomplete: 'off',
    })
  );
  otherInput.value = selected.filter((t) => !known.has(t)).join(',');
  /** @type {{ box: HTMLInputElement, types: HTMLInputElement[] }[]} */
  const groups = [];

  const refresh = () => {
    for (const g of groups) {
      const n = g.types.filter((b) => b.checked).length;
      g.box.checked = n === g.types.length;
      g.box.indeterminate = n > 0 && n < g.types.length;
    }
    const count = values().length;
    summary.textContent = count === 0 ? 'Any event type' : `${count} event type${count === 1 ? '' : 's'}`;
  };

  const fieldsets = CATEGORIES.map((c) => {
    const box = /** @type {HTMLInputElement} */ (
      h('input', { type: 'checkbox', dataset: { category: c.id } })
    );
    const types = c.types.map(
      (t) => /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', value: t, name: 'event_type' })),
    );
    for (const b of types) b.checked = selected.includes(b.value);
    box.addEventListener('change', () => {
      for (const b of types) b.checked = box.checked;
      refresh();
    });
    for (const b of types) b.addEventListener('change', refresh);
    groups.push({ box, types });
    return h(
      'fieldset',
      { class: 'picker-group' },
      h('legend', null, h('label', null, box, c.label)),
      types.map((b) =>
        h('label', { class: 'picker-option' }, b, typeName(b.value), h('code', null, b.value)),
      ),
    );
  });

  function values() {
    const checked = groups.flatMap((g) => g.types.filter((b) => b.checked).map((b) => b.value));
    const other = otherInput.value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return [...new Set([...checked, ...other])];
  }
  otherInput.addEventListener('input', refresh);

  const details = /** @type {HTMLDetailsElement} */ (
    h(
      'details',
      { class: 'picker' },
      summary,
      h(
        'div',
        { class: 'picker-panel', role: 'group', 'aria-label': 'Event types by category' },
        h('div', { class: 'picker-groups' }, fieldsets),
        h('label', { class: 'field picker-other' }, h('span', null, 'Other types (comma list)'), otherInput),
      ),
    )
  );
  refresh();
  return { element: details, values };
}

/**
 * The filter form. `onApply` receives validated filters; invalid input is marked and not applied.
 * @param {{ filters: Filters, onApply: (f: Filters) => void, timeRange?: boolean }} opts
 * @returns {{ element: HTMLElement, dispose: () => void }}
 */
export function filterForm(opts) {
  const f = opts.filters;
  const decision = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'decision' },
      h('option', { value: '' }, 'Any decision'),
      DECISIONS.map((d) => h('option', { value: d }, d)),
    )
  );
  decision.value = DECISIONS.includes(f.decision) ? f.decision : '';
  const picker = eventTypePicker(f.event_type);
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });

  /** @type {Record<string, HTMLInputElement>} */
  const inputs = {};
  const textField = ({ key, label, placeholder, mono }) => {
    const input = /** @type {HTMLInputElement} */ (
      h('input', {
        type: 'text',
        name: key,
        placeholder,
        class: mono ? 'mono' : null,
        spellcheck: 'false',
        autocomplete: 'off',
      })
    );
    input.value = f[key];
    inputs[key] = input;
    return h('label', { class: 'field' }, h('span', null, label), input);
  };
  const timeFields =
    opts.timeRange === false
      ? []
      : [
          textField({ key: 'since', label: 'Since (UTC)', placeholder: 'YYYY-MM-DD HH:MM', mono: true }),
          textField({ key: 'until', label: 'Until (UTC)', placeholder: 'YYYY-MM-DD HH:MM', mono: true }),
        ];

  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'filters', 'aria-label': 'Filters' },
      h('label', { class: 'field' }, h('span', null, 'Decision'), decision),
      h('div', { class: 'field' }, h('span', null, 'Event type'), picker.element),
      TEXT_FIELDS.map(textField),
      timeFields,
      h(
        'div',
        { class: 'filter-actions' },
        opts.timeRange === false
          ? null
          : h(
              'div',
              { class: 'presets', role: 'group', 'aria-label': 'Time presets' },
              PRESETS.map((p) =>
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'btn btn-small',
                    title: `Events of the last ${p.label}`,
                    onclick: () => {
                      inputs.since.value = new Date(Date.now() - p.ms).toISOString().slice(0, 19) + 'Z';
                      inputs.until.value = '';
                      form.requestSubmit();
                    },
                  },
                  p.label,
                ),
              ),
            ),
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-quiet',
            onclick: () => opts.onApply(readFilters(new URLSearchParams())),
          },
          'Reset',
        ),
      ),
      error,
    )
  );

  const fail = (input, message) => {
    input?.setAttribute('aria-invalid', 'true');
    error.textContent = message;
    error.hidden = false;
    input?.focus();
  };

  form.addEventListener('submit', (event) => {
    // never a real submission: the page's CSP has form-action 'none'
    event.preventDefault();
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    error.hidden = true;
    const next = /** @type {Filters} */ ({ ...readFilters(new URLSearchParams()), decision: decision.value });
    for (const { key } of TEXT_FIELDS) next[key] = inputs[key].value.trim();
    next.event_type = picker.values();
    if (next.request_id && !REQUEST_ID_PATTERN.test(next.request_id)) {
      return fail(inputs.request_id, 'A request id is 1 to 128 of A-Z a-z 0-9 _ . - :');
    }
    if (next.event_type.length > MAX_EVENT_TYPES) {
      return fail(null, `Pick at most ${MAX_EVENT_TYPES} event types.`);
    }
    if (next.event_type.some((t) => !/^[\w.:-]{1,128}$/.test(t))) {
      return fail(null, 'Event types are A-Z a-z 0-9 _ . : -, at most 128 characters.');
    }
    for (const key of opts.timeRange === false ? [] : ['since', 'until']) {
      const t = normalizeTime(inputs[key].value);
      if (t === null) {
        return fail(
          inputs[key],
          `${key === 'since' ? 'Since' : 'Until'}: use 2026-11-26T09:00:00Z or 2026-11-26 09:00 (UTC).`,
        );
      }
      next[key] = t;
    }
    picker.element.open = false;
    opts.onApply(next);
  });

  // the picker closes on a click elsewhere and on Escape, like a menu
  const onDocClick = (event) => {
    if (picker.element.open && !picker.element.contains(/** @type {Node} */ (event.target))) {
      picker.element.open = false;
    }
  };
  const onKey = (event) => {
    if (event.key === 'Escape' && picker.element.open) {
      picker.element.open = false;
      picker.element.querySelector('summary')?.focus();
      event.stopPropagation();
    }
  };
  document.addEventListener('click', onDocClick);
  picker.element.addEventListener('keydown', onKey);
  return { element: form, dispose: () => document.removeEventListener('click', onDocClick) };
}
