// Redis stream operations the worker needs: group creation, batched reads, reclaiming idle pending
// messages, delivery counts, atomic dead-letter-and-ack, safe trimming and the stats behind the gauges.
import type { Redis } from 'ioredis';
import { deadLetterFields } from '../ledger/dead-letter.ts';
import { compareStreamIds, decodeStreamEntry, type StreamEntry } from '../ledger/stream-codec.ts';

export interface StreamNames {
  stream: string;
  dlqStream: string;
  group: string;
  consumer: string;
}

type RawEntry = [Buffer, Buffer[]];

/** Creates the consumer group (and the stream). A new group starts at 0 so nothing already XADDed is missed. */
export async function ensureGroup(redis: Redis, n: StreamNames): Promise<void> {
  try {
    await redis.xgroup('CREATE', n.stream, n.group, '0', 'MKSTREAM');
  } catch (err) {
    if (!/BUSYGROUP/.test((err as Error).message)) throw err;
  }
}

/** XREADGROUP: `>` for new messages, `0` for this consumer's own pending ones. */
export async function readGroup(
  redis: Redis,
  n: StreamNames,
  count: number,
  blockMs: number | null,
  from: '>' | '0',
): Promise<StreamEntry[]> {
  const args: (string | number)[] = ['GROUP', n.group, n.consumer, 'COUNT', count];
  if (blockMs !== null) args.push('BLOCK', blockMs);
  args.push('STREAMS', n.stream, from);
  const reply = (await redis.callBuffer('XREADGROUP', ...args)) as [Buffer, RawEntry[]][] | null;
  if (!reply) return [];
  const entries: StreamEntry[] = [];
  for (const [, items] of reply) {
    for (const [id, flat] of items) {
      // a pending entry whose message was deleted comes back with no fields
      entries.push(decodeStreamEntry(id.toString(), flat ?? []));
    }
  }
  return entries;
}

export interface ClaimResult {
  entries: StreamEntry[];
  /** Pending ids whose messages no longer exist in the stream: acknowledged-never evidence, now lost. */
  deleted: string[];
}

/** XAUTOCLAIM every message idle longer than `minIdleMs` (any consumer's) to this consumer. */
export async function claimIdle(
  redis: Redis,
  n: StreamNames,
  minIdleMs: number,
  count = 100,
): Promise<ClaimResult> {
  const entries: StreamEntry[] = [];
  const deleted: string[] = [];
  let cursor = '0-0';
  for (let round = 0; round < 100; round++) {
    const reply = (await redis.callBuffer(
      'XAUTOCLAIM',
      n.stream,
      n.group,
      n.consumer,
      minIdleMs,
      cursor,
      'COUNT',
      count,
    )) as [Buffer, (RawEntry | null)[], Buffer[]?];
    const [next, claimed, gone = []] = reply;
    for (const item of claimed) if (item) entries.push(decodeStreamEntry(item[0].toString(), item[1] ?? []));
    for (const id of gone) deleted.push(id.toString());
    cursor = next.toString();
    if (cursor === '0-0') break;
  }
  return { entries, deleted };
}

/** Delivery counts of this consumer's pending entries (XPENDING extended form). */
export async function deliveryCounts(
  redis: Redis,
  n: StreamNames,
  ids: string[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (ids.length === 0) return counts;
  const sorted = [...ids].sort(compareStreamIds);
  const rows = (await redis.xpending(
    n.stream,
    n.group,
    sorted[0]!,
    sorted[sorted.length - 1]!,
    Math.max(ids.length, 10) * 2,
    n.consumer,
  )) as [string, string, number, number][];
  const wanted = new Set(ids);
  for (const [id, , , deliveries] of rows) if (wanted.has(id)) counts.set(id, Number(deliveries));
  return counts;
}

export interface DeadLetterItem {
  entry: StreamEntry;
  reason: string;
}

/** Writes dead letters and acknowledges every id in one MULTI, so a message is never in both or neither. */
export async function deadLetterAndAck(
  redis: Redis,
  n: StreamNames,
  dead: DeadLetterItem[],
  ackIds: string[],
  nowMs = Date.now(),
): Promise<void> {
  if (dead.length === 0 && ackIds.length === 0) return;
  const multi = redis.multi();
  for (const d of dead) multi.xadd(n.dlqStream, '*', ...deadLetterFields(d.entry, d.reason, nowMs));
  if (ackIds.length > 0) multi.xack(n.stream, n.group, ...ackIds);
  const results = await multi.exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw failed?.[0] ?? new Error('MULTI aborted');
}

interface GroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  lag: number | null;
}

export async function groupInfo(redis: Redis, stream: string): Promise<GroupInfo[]> {
  let raw: unknown[];
  try {
    raw = (await redis.xinfo('GROUPS', stream)) as unknown[];
  } catch (err) {
    if (/no such key/i.test((err as Error).message)) return [];
    throw err;
  }
  return raw.map((g) => {
    const fields = g as (string | number | null)[];
    const map = new Map<string, string | number | null>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), fields[i + 1] ?? null);
    const lag = map.get('lag');
    return {
      name: String(map.get('name')),
      pending: Number(map.get('pending') ?? 0),
      lastDeliveredId: String(map.get('last-delivered-id') ?? '0-0'),
      lag: lag === null || lag === undefined ? null : Number(lag),
    };
  });
}

/**
 * The lowest stream id any group may still need: its smallest pending id, or, with nothing pending,
 * the entry after its last delivered one. Null when there are no groups (then nothing is trimmed).
 */
export async function safeTrimId(redis: Redis, stream: string): Promise<string | null> {
  const groups = await groupInfo(redis, stream);
  if (groups.length === 0) return null;
  let safe: string | null = null;
  for (const g of groups) {
    let keepFrom = g.lastDeliveredId;
    if (g.pending > 0) {
      const summary = (await redis.xpending(stream, g.name)) as [
        number,
        string | null,
        string | null,
        unknown,
      ];
      if (summary[1]) keepFrom = summary[1];
    }
    if (safe === null || compareStreamIds(keepFrom, safe) < 0) safe = keepFrom;
  }
  return safe;
}

/** Trims entries below what every group acknowledged (XTRIM MINID ~), never by length. */
export async function trimAcknowledged(redis: Redis, stream: string): Promise<number> {
  const minId = await safeTrimId(redis, stream);
  if (minId === null || minId === '0-0') return 0;
  return Number(await redis.xtrim(stream, 'MINID', '~', minId));
}

export interface StreamStats {
  pending: number;
  undelivered: number;
  oldestPendingAgeSeconds: number;
  streamLength: number;
  dlqSize: number;
  dlqOldestAgeSeconds: number;
}

function ageOfId(id: string | null | undefined, nowMs: number): number {
  if (!id) return 0;
  const ms = Number(id.split('-')[0]);
  return Number.isFinite(ms) ? Math.max(0, (nowMs - ms) / 1000) : 0;
}

export async function streamStats(redis: Redis, n: StreamNames, nowMs = Date.now()): Promise<StreamStats> {
  const groups = await groupInfo(redis, n.stream);
  const mine = groups.find((g) => g.name === n.group);
  let oldestPending: string | null = null;
  if (mine && mine.pending > 0) {
    const summary = (await redis.xpending(n.stream, n.group)) as [
      number,
      string | null,
      string | null,
      unknown,
    ];
    oldestPending = summary[1];
  }
  const [streamLength, dlqSize, dlqFirst] = await Promise.all([
    redis.xlen(n.stream),
    redis.xlen(n.dlqStream),
    redis.xrange(n.dlqStream, '-', '+', 'COUNT', 1),
  ]);
  return {
    pending: mine?.pending ?? 0,
    undelivered: mine?.lag ?? 0,
    oldestPendingAgeSeconds: ageOfId(oldestPending, nowMs),
    streamLength,
    dlqSize,
    dlqOldestAgeSeconds: ageOfId(dlqFirst[0]?.[0], nowMs),
  };
}
