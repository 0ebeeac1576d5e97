import { describe, expect, it } from 'vitest';
import { JsonNumberText } from '../../ledger/canonical-json.ts';
import { AuditEventSchema } from '../../ledger/event.ts';
import { isValidEvent } from '../../ledger/event-check.ts';
import { realisticEvents, seededRng } from '../../ledger/scenarios.ts';

const WEIRD: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'x'.repeat(256),
  'y'.repeat(600),
  0,
  1,
  -1,
  1.5,
  true,
  false,
  [],
  [{}],
  [1],
  ['a'],
  {},
  { a: 1 },
  new JsonNumberText('1.50'),
  '2026-05-21T10:00:00Z',
  '2026-05-21',
  Array.from({ length: 65 }, () => 'l'),
  [{ policy: 'p' }, null],
  'é'.repeat(255),
  [new JsonNumberText('2.50')],
];
const FIELDS = [
  'id',
  'zone_id',
  'event_type',
  'request_id',
  'decision',
  'policy_set_id',
  'policy_set_version_id',
  'manifest_sha',
  'evaluation_status',
  'determining_policies_json',
  'diagnostics_json',
  'metadata_json',
  'occurred_at',
];
const META_FIELDS = ['session_id', 'agent_session_id', 'application_id', 'agent_labels', 'other'];

describe('the hot-path event check', () => {
  it('agrees with the zod schema on 20,000 mutated events', () => {
    const rng = seededRng(2026);
    const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)]!;
    const base = realisticEvents(200, { seed: 1 });
    let disagreements = 0;
    let invalid = 0;
    for (let i = 0; i < 20_000; i++) {
      const e: Record<string, unknown> = structuredClone(pick(base));
      const mutations = 1 + Math.floor(rng() * 2);
      for (let m = 0; m < mutations; m++) {
        if (rng() < 0.6) {
          const f = pick(FIELDS);
          const v = pick(WEIRD);
          if (v === undefined) delete e[f];
          else e[f] = v;
        } else {
          const meta = (
            e.metadata_json && typeof e.metadata_json === 'object' ? { ...(e.metadata_json as object) } : {}
          ) as Record<string, unknown>;
          meta[pick(META_FIELDS)] = pick(WEIRD);
          e.metadata_json = meta;
        }
      }
      const zod = AuditEventSchema.safeParse(e).success;
      if (!zod) invalid++;
      if (zod !== isValidEvent(e)) disagreements++;
    }
    expect(invalid).toBeGreaterThan(5000);
    expect(disagreements).toBe(0);
  });
});
