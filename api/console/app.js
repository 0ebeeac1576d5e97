// The console's entry point: takes a token from the address, wires the shell (zone picker, navigation,
// request search, token prompt) and mounts one view per hash route, disposing the previous one.
import { ApiError, apiGet, isAbort, paths, UNAUTHORIZED_EVENT } from './api.js';
import { dlqView } from './dlq-view.js';
import { fill, h, isTyping } from './dom.js';
import { REQUEST_ID_PATTERN } from './event-catalog.js';
import { plural } from './format.js';
import { listView } from './list-view.js';
import { navigate, parseRoute, routes } from './router.js';
import { emptyState, errorState, loadingState } from './states.js';
import { tailView } from './tail-view.js';
import {
  forgetToken,
  getToken,
  initTokenPrompt,
  onTokenChange,
  promptForToken,
  takeTokenFromFragment,
} from './token.js';
import { traceView } from './trace-view.js';

const ZONE_KEY = 'ledgerhub.zone';

const viewRoot = /** @type {HTMLElement} */ (document.getElementById('view'));
const zonePicker = /** @type {HTMLSelectElement} */ (document.getElementById('zone-picker'));
const nav = {
  audit: /** @type {HTMLAnchorElement} */ (document.getElementById('nav-audit')),
  tail: /** @type {HTMLAnchorElement} */ (document.getElementById('nav-tail')),
  dlq: /** @type {HTMLAnchorElement} */ (document.getElementById('nav-dlq')),
};

/** @type {{ zone_id: string, events: number, last_event_at: string | null }[] | null} */
let zones = null;
/** @type {Promise<void> | null} */
let zonesLoading = null;
/** @type {{ update?: (route: any) => boolean, dispose?: () => void } | null} */
let current = null;

function rememberedZone() {
  try {
    return sessionStorage.getItem(ZONE_KEY);
  } catch {
    return null;
  }
}

/** The zone the shell points at: the route's, else the last one used, else the first. */
function currentZone(route) {
  if ('zone' in route && route.zone) return route.zone;
  const remembered = rememberedZone();
  if (remembered && zones?.some((z) => z.zone_id === remembered)) return remembered;
  return zones?.[0]?.zone_id ?? null;
}

function renderShell(route) {
  const zone = currentZone(route);
  if (zone && 'zone' in route) sessionStorage.setItem(ZONE_KEY, zone);
  const options = (zones ?? []).map((z) =>
    h('option', { value: z.zone_id }, `${z.zone_id} (${plural(z.events, 'event')})`),
  );
  if (zone && !zones?.some((z) => z.zone_id === zone)) options.unshift(h('option', { value: zone }, zone));
  if (options.length === 0)
    options.push(h('option', { value: '' }, zones ? 'No zones yet' : 'Zones not loaded'));
  fill(zonePicker, ...options);
  zonePicker.value = zone ?? '';
  zonePicker.disabled = !zone;
  nav.audit.href = zone ? routes.audit(zone) : routes.home();
  nav.tail.href = zone ? routes.tail(zone) : routes.home();
  nav.dlq.href = routes.dlq(null);
  const active = route.name === 'trace' || route.name === 'find-request' ? 'audit' : route.name;
  for (const [name, link] of Object.entries(nav)) {
    if (name === active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function loadZones() {
  zonesLoading ??= apiGet(paths.zones())
    .then((body) => {
      zones = body.zones;
    })
    .catch((err) => {
      if (!(err instanceof ApiError && err.status === 401)) zones = [];
      throw err;
    })
    .finally(() => {
      zonesLoading = null;
    });
  return zonesLoading;
}

/** `#/`: the remembered or first zone's activity, once zones are known. */
function homeView(root) {
  fill(root, loadingState('Loading zones'));
  const go = () => {
    const zone = currentZone({ name: 'home' });
    if (zone) navigate(routes.audit(zone), { replace: true });
    else {
      fill(
        root,
        emptyState(
          'No zones yet',
          'The ledger holds no events. Zones appear once producers send events and the worker stores them.',
        ),
      );
    }
  };
  if (zones) go();
  else {
    loadZones()
      .then(go)
      .catch((err) => fill(root, errorState(err, { onRetry: () => mount(parseRoute(location.hash)) })));
  }
  return {};
}

/** `#/requests/<id>`: finds the zones holding a request id and opens its trace (or lets you pick). */
function findRequestView(root, route) {
  const controller = new AbortController();
  fill(root, loadingState(`Looking for request ${route.requestId}`));
  apiGet(paths.requestZones(route.requestId), { signal: controller.signal })
    .then((body) => {
      if (body.zones.length === 1) {
        navigate(routes.trace(body.zones[0].zone_id, route.requestId), { replace: true });
        return;
      }
      fill(
        root,
        h(
          'section',
          { class: 'view', 'aria-labelledby': 'view-title' },
          h(
            'h1',
            { id: 'view-title' },
            'Request ',
            h('span', { class: 'mono' }, route.requestId),
            ' is in several zones',
          ),
          h(
            'ul',
            { class: 'zone-choices' },
            body.zones.map((z) =>
              h(
                'li',
                null,
                h(
                  'a',
                  { href: routes.trace(z.zone_id, route.requestId) },
                  h('span', { class: 'mono' }, z.zone_id),
                ),
                ` · ${plural(z.events, 'event')}`,
              ),
            ),
          ),
        ),
      );
    })
    .catch((err) => {
      if (isAbort(err)) return;
      const notFound = err instanceof ApiError && err.code === 'request_not_found';
      fill(
        root,
        notFound
          ? emptyState('No such request', `No zone holds an event with request id ${route.requestId}.`)
          : errorState(err, { onRetry: () => mount(route) }),
      );
    });
  return { dispose: () => controller.abort() };
}

function notFoundView(root, route) {
  fill(
    root,
    emptyState(
      'No such page',
      h(
        'span',
        null,
        `Nothing lives at #${route.path}. `,
        h('a', { href: routes.home() }, 'Go to the activity view'),
      ),
    ),
  );
  return {};
}

const VIEWS = {
  home: homeView,
  audit: listView,
  tail: tailView,
  trace: traceView,
  dlq: dlqView,
  'find-request': findRequestView,
  'not-found': notFoundView,
};

function mount(route) {
  current?.dispose?.();
  current = null;
  renderShell(route);
  if (!getToken()) {
    fill(viewRoot, errorState(new ApiError(401, 'unauthorized', 'Enter an API token to read the ledger.')));
    promptForToken('Enter an API token to read the ledger.');
    return;
  }
  current = VIEWS[route.name](viewRoot, route);
}

function onRoute() {
  // a `#token=` pasted into an open tab: take it like on first load
  if (takeTokenFromFragment()) {
    zones = null;
    loadZones()
      .then(() => renderShell(parseRoute(location.hash)))
      .catch(() => {});
  }
  const route = parseRoute(location.hash);
  if (current?.update?.(route)) {
    renderShell(route);
    return;
  }
  mount(route);
  viewRoot.focus({ preventScroll: true });
}

function start() {
  initTokenPrompt();
  window.addEventListener('hashchange', onRoute);
  window.addEventListener(UNAUTHORIZED_EVENT, (event) => {
    promptForToken(/** @type {CustomEvent} */ (event).detail.message);
  });
  onTokenChange(() => {
    zones = null;
    loadZones()
      .then(() => renderShell(parseRoute(location.hash)))
      .catch(() => {});
    mount(parseRoute(location.hash));
  });

  zonePicker.addEventListener('change', () => {
    const zone = zonePicker.value;
    if (!zone) return;
    sessionStorage.setItem(ZONE_KEY, zone);
    const route = parseRoute(location.hash);
    navigate(route.name === 'tail' ? routes.tail(zone) : routes.audit(zone));
  });

  const find = /** @type {HTMLFormElement} */ (document.getElementById('find-request'));
  const findInput = /** @type {HTMLInputElement} */ (document.getElementById('find-request-input'));
  find.addEventListener('submit', (event) => {
    // never a real submission: the page's CSP has form-action 'none'
    event.preventDefault();
    const id = findInput.value.trim();
    if (!id) return;
    if (!REQUEST_ID_PATTERN.test(id)) {
      findInput.setCustomValidity('A request id is 1 to 128 of A-Z a-z 0-9 _ . - :');
      findInput.reportValidity();
      return;
    }
    findInput.setCustomValidity('');
    findInput.value = '';
    navigate(routes.findRequest(id));
  });
  findInput.addEventListener('input', () => findInput.setCustomValidity(''));

  document.getElementById('sign-out')?.addEventListener('click', () => {
    forgetToken();
    current?.dispose?.();
    current = null;
    fill(viewRoot, emptyState('Token removed', 'Enter a token to continue.'));
    promptForToken('Enter the API token to use in this tab.');
  });

  document.addEventListener('keydown', (event) => {
    if (
      event.key === '/' &&
      !isTyping(event) &&
      !event.ctrlKey &&
      !event.metaKey &&
      !document.querySelector('dialog[open]')
    ) {
      event.preventDefault();
      findInput.focus();
    }
  });

  if (getToken() && !location.hash.startsWith('#token=')) {
    loadZones()
      .then(() => renderShell(parseRoute(location.hash)))
      .catch(() => {});
  }
  onRoute();
}

start();
