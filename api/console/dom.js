// Builds DOM nodes from API data without ever parsing it as HTML: values become text nodes, and
// invisible or direction-changing characters are shown as visible markers so they cannot disguise a value.

/** Characters that are invisible or reorder text: C0/C1 controls (not tab or newline), bidi controls, zero-width ones. */
const HIDDEN_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028\u2029\u202A-\u202E\u2060-\u2069\uFEFF]/;
const HIDDEN_CHARS_ALL = new RegExp(HIDDEN_CHARS.source, 'g');

/**
 * A text node for `value`, or a fragment in which each hidden character is a visible `U+XXXX` marker.
 * @param {unknown} value
 * @returns {Node}
 */
export function safeText(value) {
  const s = String(value);
  if (!HIDDEN_CHARS.test(s)) return document.createTextNode(s);
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const m of s.matchAll(HIDDEN_CHARS_ALL)) {
    if (m.index > last) fragment.append(s.slice(last, m.index));
    const code = `U+${(m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    const marker = document.createElement('span');
    marker.className = 'hidden-char';
    marker.title = `hidden or direction-changing character ${code}`;
    marker.textContent = code;
    fragment.append(marker);
    last = m.index + m[0].length;
  }
  fragment.append(s.slice(last));
  return fragment;
}

/** Links only ever point inside the console: hash routes or same-origin paths. */
const SAFE_HREF = /^(#|\/(?!\/))/;

/**
 * Creates an element. Props: `class`, `dataset`, `on<event>` listeners, anything else as an attribute.
 * Children: nodes, or values rendered with `safeText`; null, undefined and false are skipped.
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = String(value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
      } else {
        if (key === 'href' && !SAFE_HREF.test(String(value)))
          throw new Error('refusing a link out of the console');
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

/**
 * Appends children (see `h`) to a node.
 * @param {Node} parent
 * @param {unknown[]} children
 */
export function append(parent, children) {
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : safeText(child));
  }
}

/**
 * Replaces a node's children (see `h`); unlike replaceChildren, null and false are skipped, not
 * turned into the text "null".
 * @param {Node & ParentNode} parent
 * @param {...unknown} children
 */
export function fill(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/** Whether a keyboard event was typed into a form field (so single-key shortcuts must not fire). */
export function isTyping(event) {
  const t = /** @type {HTMLElement | null} */ (event.target);
  if (!t) return false;
  return t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName);
}
