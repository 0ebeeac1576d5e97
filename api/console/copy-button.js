// Copy-to-clipboard buttons for ids, hashes and JSON, with a fallback for pages served over plain
// http to a non-local host (where navigator.clipboard does not exist).
import { h } from './dom.js';

const FEEDBACK_MS = 1500;

/** @param {string} text */
async function writeClipboard(text) {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // permission refused: fall through to the selection copy
    }
  }
  const area = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * A small button that copies `value`.
 * @param {string | (() => string)} value the text, or a function computing it at click time
 * @param {string} what what is copied, for the accessible name ("request id")
 * @param {{ label?: string }} [opts] visible label; an icon when omitted
 */
export function copyButton(value, what, opts = {}) {
  // without a label the button is an icon drawn in CSS (fonts lack a reliable copy glyph)
  const idle = opts.label ?? '';
  const button = h(
    'button',
    {
      type: 'button',
      class: opts.label ? 'btn btn-small copy' : 'copy copy-icon',
      title: `Copy ${what}`,
      'aria-label': `Copy ${what}`,
    },
    idle,
  );
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    const ok = await writeClipboard(typeof value === 'function' ? value() : value);
    button.textContent = ok ? (opts.label ? 'Copied' : '✓') : '!';
    button.classList.add(ok ? 'copied' : 'copy-failed');
    button.setAttribute('aria-label', ok ? `Copied ${what}` : `Could not copy ${what}`);
    setTimeout(() => {
      button.textContent = idle;
      button.classList.remove('copied', 'copy-failed');
      button.setAttribute('aria-label', `Copy ${what}`);
    }, FEEDBACK_MS);
  });
  return button;
}
