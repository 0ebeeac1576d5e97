// Loading, empty and error blocks, the same in every view. Errors say what the API said: a missing or
// rejected token, a token without the scope, a route that does not exist, or a server that did not answer.
import { ApiError } from './api.js';
import { h } from './dom.js';
import { promptForToken } from './token.js';

/** @param {string} [what] */
export function loadingState(what = 'Loading') {
  return h(
    'div',
    { class: 'state state-loading', role: 'status', 'aria-busy': 'true' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    `${what}…`,
  );
}

/**
 * @param {string} title
 * @param {unknown} [hint]
 */
export function emptyState(title, hint) {
  return h(
    'div',
    { class: 'state state-empty', role: 'status' },
    h('strong', null, title),
    hint ? h('p', null, hint) : null,
  );
}

/**
 * A title and a hint for an error, by what the user can do about it.
 * @param {unknown} err
 */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.status === 401)
      return { title: 'A valid API token is needed', hint: err.message, code: err.code };
    if (err.status === 403) {
      return {
        title: 'This token lacks the scope for this',
        hint: `${err.message}. Ask for a token with that scope, or use “Change token”.`,
        code: err.code,
      };
    }
    if (err.status === 0) return { title: 'The API did not answer', hint: err.message, code: err.code };
    return { title: `The API refused this (${err.status} ${err.code})`, hint: err.message, code: err.code };
  }
  return {
    title: 'Something failed in the console',
    hint: String(err instanceof Error ? err.message : err),
    code: 'console',
  };
}

/**
 * @param {unknown} err
 * @param {{ onRetry?: () => void }} [opts]
 */
export function errorState(err, opts = {}) {
  const { title, hint, code } = describeError(err);
  const is401 = err instanceof ApiError && err.status === 401;
  return h(
    'div',
    { class: 'state state-error', role: 'alert', dataset: { errorCode: code } },
    h('strong', null, title),
    h('p', null, hint),
    h(
      'div',
      { class: 'state-actions' },
      is401
        ? h('button', { type: 'button', class: 'btn', onclick: () => promptForToken(hint) }, 'Enter token')
        : null,
      opts.onRetry && !is401
        ? h('button', { type: 'button', class: 'btn', onclick: opts.onRetry }, 'Retry')
        : null,
    ),
  );
}
