// The console's catalogue (api/console/event-catalog.js, plain JS for the browser) mirrors the
// server's: these checks fail when one changes without the other.
import { describe, expect, it } from 'vitest';
import { REQUEST_ID_PATTERN } from '../../api/routes/audit.ts';
import { EVENT_CATEGORIES, KNOWN_DECISIONS } from '../../ledger/event.ts';
import { stageOf } from '../../ledger/explain.ts';

interface ConsoleCatalog {
  DECISIONS: string[];
  CATEGORIES: { id: string; types: string[] }[];
  REQUEST_ID_PATTERN: RegExp;
  stageLabel(stage: string): string;
  typeName(type: string): string;
}

// a computed specifier: the module is browser JavaScript without type declarations
const catalog = (await import(
  new URL('../../api/console/event-catalog.js', import.meta.url).href
)) as ConsoleCatalog;

describe('console event catalogue', () => {
  it('offers exactly the decisions the list filter accepts', () => {
    expect(catalog.DECISIONS).toEqual([...KNOWN_DECISIONS]);
  });

  it('groups event types in the ledger’s categories', () => {
    expect(Object.fromEntries(catalog.CATEGORIES.map((c) => [c.id, c.types]))).toEqual(
      Object.fromEntries(Object.entries(EVENT_CATEGORIES).map(([id, types]) => [id, [...types]])),
    );
  });

  it('names every known event type and every trace stage', () => {
    const types = Object.values(EVENT_CATEGORIES).flat();
    for (const type of types) expect(catalog.typeName(type)).not.toBe(type);
    for (const stage of new Set([...types.map(stageOf), stageOf('unknown.type')])) {
      expect(catalog.stageLabel(stage)).not.toBe(stage);
    }
  });

  it('links to traces only for request ids the API accepts', () => {
    expect(catalog.REQUEST_ID_PATTERN.source).toBe(REQUEST_ID_PATTERN.source);
  });
});
