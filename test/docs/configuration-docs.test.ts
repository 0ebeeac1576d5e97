import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../../scripts/gen-config-docs.ts';

describe('docs/configuration.md', () => {
  it('matches the key definitions (run `npm run gen:docs` after changing a key)', () => {
    const checkedIn = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(checkedIn).toBe(renderConfigDocs());
  });
});
