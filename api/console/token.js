// The bearer token: kept in this tab's sessionStorage, taken once from `/#token=<token>` (then removed
// from the address bar), and asked for in a modal prompt whenever the API answers 401.

const STORAGE_KEY = 'ledgerhub.token';

/** @type {Set<() => void>} */
const listeners = new Set();

export function getToken() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** @param {string} token */
function storeToken(token) {
  sessionStorage.setItem(STORAGE_KEY, token);
  for (const listener of listeners) listener();
}

export function forgetToken() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Calls `listener` after a new token is stored. */
export function onTokenChange(listener) {
  listeners.add(listener);
}

/**
 * Takes the token from a `#token=<token>` fragment (as the local dev stack prints it), stores it and
 * rewrites the address to `#/` so the token does not stay in the address bar or the history.
 * @returns {boolean} whether a token was taken
 */
export function takeTokenFromFragment() {
  const m = /^#token=([^&]*)/.exec(location.hash);
  if (!m) return false;
  let token = '';
  try {
    token = decodeURIComponent(m[1] ?? '').trim();
  } catch {
    // a malformed fragment is dropped like an empty one
  }
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  if (!token) return false;
  sessionStorage.setItem(STORAGE_KEY, token);
  return true;
}

/**
 * Shows the token prompt with a reason (a server message, or why a token is needed). Calling it while
 * it is open only updates the reason.
 * @param {string} reason
 */
export function promptForToken(reason) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('token-dialog'));
  const reasonEl = /** @type {HTMLElement} */ (document.getElementById('token-reason'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('token-input'));
  reasonEl.textContent = reason;
  if (!dialog.open) {
    input.value = '';
    dialog.showModal();
  }
  input.focus();
}

/** Wires the prompt's form once at start-up. */
export function initTokenPrompt() {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('token-dialog'));
  const form = /** @type {HTMLFormElement} */ (document.getElementById('token-form'));
  const input = /** @type {HTMLInputElement} */ (document.getElementById('token-input'));
  form.addEventListener('submit', (event) => {
    // never a real submission: the page's CSP has form-action 'none'
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    input.value = '';
    dialog.close();
    storeToken(token);
  });
}
