// The dead-letter stream as Caracal's audit service exposes it: list (paged by stream id), one entry
// with its source event, replay of replayable entries back onto the main stream, and lookup by event id.
import type { Redis } from 'ioredis';
import { isReplayable, parseDeadLetter } from './dead-letter.ts';

export interface DlqEntry {
  id: string;
  source_id: string | null;
  reason: string;
  received_at: number;
  age_seconds: number;
  replayable: boolean;
  event_id: string | null;
  zone_id: string | null;
  event_type: string | null;
  request_id: string | null;
  decision: string | null;
  source_sig: string | null;
}

export interface DlqEntryDetail extends DlqEntry {
  source_event: unknown;
  fields: Record<string, string>;
}

export interface ReplayResult {
  scanned: number;
  replayed: number;
  skipped: number;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);

function toEntry(id: string, flat: string[], nowMs: number): DlqEntryDetail {
  const dl = parseDeadLetter(id, flat);
  let event: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(dl.source.data ?? '') as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      event = parsed as Record<string, unknown>;
  } catch {
    event = null;
  }
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return {
    id,
    source_id: dl.source.id ?? null,
    reason: dl.reason,
    received_at: dl.receivedAt,
    age_seconds: Math.max(0, Math.round((nowMs - dl.receivedAt) / 1000)),
    replayable: dl.replayable,
    event_id: str(event?.id) ?? dl.source.id ?? null,
    zone_id: str(event?.zone_id),
    event_type: str(event?.event_type),
    request_id: str(event?.request_id),
    decision: str(event?.decision),
    source_sig: dl.source.sig ?? null,
    source_event: event ?? dl.source.data ?? null,
    fields,
  };
}

function summary(d: DlqEntryDetail): DlqEntry {
  const { source_event: _e, fields: _f, ...entry } = d;
  return entry;
}

export class DeadLetterStore {
  readonly #redis: Redis;
  readonly #dlq: string;
  readonly #stream: string;

  constructor(redis: Redis, names: { stream: string; dlqStream: string }) {
    this.#redis = redis;
    this.#dlq = names.dlqStream;
    this.#stream = names.stream;
  }

  async size(): Promise<number> {
    return this.#redis.xlen(this.#dlq);
  }

  /** Oldest first, `limit` entries after the stream id `start` (exclusive). */
  async list(limit: number, start?: string): Promise<{ entries: DlqEntry[]; next_cursor: string | null }> {
    const rows = await this.#redis.xrange(this.#dlq, start ? `(${start}` : '-', '+', 'COUNT', limit + 1);
    const now = Date.now();
    const entries = rows.slice(0, limit).map(([id, flat]) => summary(toEntry(id, flat, now)));
    return { entries, next_cursor: rows.length > limit ? (entries.at(-1)?.id ?? null) : null };
  }

  async get(id: string): Promise<DlqEntryDetail | null> {
    const rows = await this.#redis.xrange(this.#dlq, id, id);
    const row = rows[0];
    return row ? toEntry(row[0], row[1], Date.now()) : null;
  }

  /**
   * Re-queues up to `limit` replayable entries (oldest first, or the one `onlyId`) onto the main stream
   * with their original id, data and sig, deleting each from the DLQ in the same MULTI.
   */
  async replay(limit: number, onlyId?: string): Promise<ReplayResult> {
    const rows = onlyId
      ? await this.#redis.xrange(this.#dlq, onlyId, onlyId)
      : await this.#redis.xrange(this.#dlq, '-', '+', 'COUNT', limit);
    const result: ReplayResult = { scanned: rows.length, replayed: 0, skipped: 0 };
    for (const [id, flat] of rows) {
      const dl = parseDeadLetter(id, flat);
      if (!isReplayable(dl.reason) || dl.source.data === undefined) {
        result.skipped++;
        continue;
      }
      const fields = ['id', dl.source.id ?? '', 'data', dl.source.data];
      if (dl.source.sig !== undefined) fields.push('sig', dl.source.sig);
      const out = await this.#redis
        .multi()
        .xadd(this.#stream, '*', ...fields)
        .xdel(this.#dlq, id)
        .exec();
      if (out?.every(([err]) => !err)) result.replayed++;
      else result.skipped++;
    }
    return result;
  }

  /** The newest dead letter for an event id, searching the last `scan` entries. */
  async findByEventId(eventId: string, scan = 5000): Promise<DlqEntry | null> {
    const rows = await this.#redis.xrevrange(this.#dlq, '+', '-', 'COUNT', scan);
    const now = Date.now();
    for (const [id, flat] of rows) {
      const e = toEntry(id, flat, now);
      if (e.source_id === eventId || e.event_id === eventId) return summary(e);
    }
    return null;
  }
}
