// Read-after-write for clients and tests: is an event id stored yet, and where in the ledger; with a
// wait that listens for commit notifications instead of sleeping.
import type pg from 'pg';
import { COMMITS_CHANNEL } from './append-batch.ts';

export interface IngestedEvent {
  id: string;
  zone_id: string;
  ledger_seq: number;
  occurred_at: string;
}

export async function findIngested(pool: pg.Pool, ids: string[]): Promise<Map<string, IngestedEvent>> {
  const { rows } = await pool.query<IngestedEvent>(
    'SELECT id, zone_id, ledger_seq, occurred_at FROM audit_event_ids WHERE id = ANY($1::text[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Resolves with the ids stored within `timeoutMs`. Wakes on each commit notification, and re-checks at
 * least every `recheckMs` in case a notification was missed (another database session, a restart).
 */
export async function waitForIngested(
  pool: pg.Pool,
  ids: string[],
  timeoutMs: number,
  recheckMs = 500,
): Promise<Map<string, IngestedEvent>> {
  const found = await findIngested(pool, ids);
  if (found.size === ids.length || timeoutMs <= 0) return found;
  const listener = await pool.connect();
  let wake: () => void = () => {};
  const onNotify = () => wake();
  listener.on('notification', onNotify);
  try {
    await listener.query(`LISTEN ${COMMITS_CHANNEL}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = ids.filter((id) => !found.has(id));
      for (const [id, e] of await findIngested(pool, missing)) found.set(id, e);
      const left = deadline - Date.now();
      if (found.size === ids.length || left <= 0) return found;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, recheckMs));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    listener.off('notification', onNotify);
    await listener.query(`UNLISTEN ${COMMITS_CHANNEL}`).catch(() => {});
    listener.release();
  }
}
