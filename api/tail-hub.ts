// The live tail behind GET .../audit/stream: one LISTEN connection and one reader for all clients. New
// commits are read once into a bounded ring; each client is a cursor into it and is pumped as its socket
// drains. A client more than its buffer behind is cut off with a reason, never slowing the others;
// a client resuming from a Last-Event-ID older than the ring is backfilled from Postgres first.
import type { ServerResponse } from 'node:http';
import type pg from 'pg';
import { COMMITS_CHANNEL } from '../ledger/append-batch.ts';
import { connectClient, type DbOptions } from '../ledger/db.ts';
import { type AuditFilter, eventsAfter, ledgerHead, type TailRow } from '../ledger/queries.ts';
import type { Logger } from '../ledger/runtime/log.ts';
import type { ApiMetrics } from './metrics.ts';

export interface TailOptions {
  /** Events kept in memory for all clients. */
  ringSize: number;
  /** Events one client may be behind before it is cut off. */
  clientBuffer: number;
  heartbeatMs: number;
  maxClients: number;
  /** Re-read even without a notification (a missed NOTIFY, another database). */
  pollMs: number;
}

const HIGH_WATER_BYTES = 256 * 1024;
const PAGE = 500;

interface Client {
  id: number;
  filter: AuditFilter;
  res: ServerResponse;
  cursor: number;
  pumping: boolean;
  /** Waiting for its socket to drain: the only state in which falling behind gets a client cut off. */
  congested: boolean;
  closed: boolean;
  lastWrite: number;
}

export function matches(f: AuditFilter, e: TailRow): boolean {
  if (e.zone_id !== f.zoneId) return false;
  if (f.requestId && e.request_id !== f.requestId) return false;
  if (f.decisions?.length && !f.decisions.includes(e.decision ?? '')) return false;
  if (f.eventTypes?.length && !f.eventTypes.includes(e.event_type)) return false;
  if (f.since && e.occurred_at < f.since) return false;
  if (f.until && e.occurred_at >= f.until) return false;
  const m = e.metadata_json ?? {};
  if (f.applicationId && m.application_id !== f.applicationId) return false;
  if (f.sessionId && m.agent_session_id !== f.sessionId) return false;
  // metadata is redacted on read: session_id shows as "[redacted]", so match the raw column instead
  if (f.authorityRecordId && e.raw_session_id !== f.authorityRecordId) return false;
  if (f.label && !(Array.isArray(m.agent_labels) && m.agent_labels.includes(f.label))) return false;
  return true;
}

export class TailHub {
  readonly #pool: pg.Pool;
  readonly #db: DbOptions;
  readonly #opts: TailOptions;
  readonly #metrics: ApiMetrics;
  readonly #log: Logger;
  #ring: TailRow[] = [];
  #head = 0;
  #clients = new Map<number, Client>();
  #nextId = 1;
  #listener: pg.Client | null = null;
  #reading: Promise<void> | null = null;
  #again = false;
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;

  constructor(pool: pg.Pool, db: DbOptions, opts: TailOptions, metrics: ApiMetrics, log: Logger) {
    this.#pool = pool;
    this.#db = db;
    this.#opts = opts;
    this.#metrics = metrics;
    this.#log = log;
  }

  get head(): number {
    return this.#head;
  }
  get clientCount(): number {
    return this.#clients.size;
  }
  hasRoom(): boolean {
    return this.#clients.size < this.#opts.maxClients;
  }

  async start(): Promise<void> {
    this.#head = await ledgerHead(this.#pool);
    this.#metrics.tailHead.set(this.#head);
    await this.#listen();
    const poll = setInterval(() => this.wake(), this.#opts.pollMs);
    const beat = setInterval(() => this.#heartbeat(), Math.max(250, this.#opts.heartbeatMs / 2));
    poll.unref();
    beat.unref();
    this.#timers.push(poll, beat);
  }

  async #listen(): Promise<void> {
    if (this.#stopped) return;
    try {
      const c = await connectClient({ ...this.#db, applicationName: 'ledgerhub-api-tail' });
      c.on('notification', () => this.wake());
      c.on('error', () => {
        this.#listener = null;
        if (!this.#stopped) setTimeout(() => void this.#listen(), 1000).unref();
      });
      await c.query(`LISTEN ${COMMITS_CHANNEL}`);
      this.#listener = c;
      this.wake();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'live tail cannot LISTEN; polling until it can');
      setTimeout(() => void this.#listen(), 2000).unref();
    }
  }

  /** Reads new commits (coalescing concurrent wake-ups into one reader). */
  wake(): void {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = this.#readNew()
      .catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'live tail read failed'))
      .finally(() => {
        this.#reading = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  async #readNew(): Promise<void> {
    for (;;) {
      const rows = await eventsAfter(this.#pool, this.#head, PAGE);
      if (rows.length === 0) return;
      this.#ring.push(...rows);
      if (this.#ring.length > this.#opts.ringSize)
        this.#ring.splice(0, this.#ring.length - this.#opts.ringSize);
      this.#head = rows.at(-1)!.ledger_seq;
      this.#metrics.tailHead.set(this.#head);
      for (const c of [...this.#clients.values()]) {
        if (c.congested && this.#head - c.cursor > this.#opts.clientBuffer) {
          this.#cut(
            c,
            'slow_consumer',
            `more than ${this.#opts.clientBuffer} events behind; reconnect with Last-Event-ID ${c.cursor} to resume`,
          );
        } else {
          this.#pump(c);
        }
      }
      if (rows.length < PAGE) return;
    }
  }

  /** Registers a client; `from` is the last ledger_seq it has (Last-Event-ID), or the head for live only. */
  attach(res: ServerResponse, filter: AuditFilter, from: number | null, backfill: TailRow[]): boolean {
    if (this.#clients.size >= this.#opts.maxClients) return false;
    const client: Client = {
      id: this.#nextId++,
      filter,
      res,
      cursor: from ?? this.#head,
      pumping: false,
      congested: false,
      closed: false,
      lastWrite: Date.now(),
    };
    this.#clients.set(client.id, client);
    this.#metrics.sseClients.set(this.#clients.size);
    res.on('close', () => this.#detach(client));
    res.write('retry: 2000\n\n');
    for (const e of backfill) this.#write(client, e);
    this.#pump(client);
    return true;
  }

  #detach(c: Client): void {
    c.closed = true;
    this.#clients.delete(c.id);
    this.#metrics.sseClients.set(this.#clients.size);
  }

  #cut(c: Client, reason: string, message: string): void {
    if (c.closed) return;
    this.#metrics.sseCut.inc({ reason });
    c.res.write(`event: error\ndata: ${JSON.stringify({ error: reason, message })}\n\n`);
    c.res.end();
    this.#detach(c);
  }

  #write(c: Client, e: TailRow): void {
    const { raw_session_id: _hidden, ...visible } = e;
    c.res.write(`id: ${e.ledger_seq}\nevent: audit\ndata: ${JSON.stringify(visible)}\n\n`);
    c.lastWrite = Date.now();
    this.#metrics.sseEvents.inc();
  }

  /** Sends the client what it has not seen, while its socket keeps up; cuts it off if it falls too far behind. */
  #pump(c: Client): void {
    if (c.pumping || c.closed) return;
    c.pumping = true;
    void (async () => {
      try {
        while (!c.closed && c.cursor < this.#head) {
          const first = this.#ring[0];
          const start = first ? c.cursor + 1 - first.ledger_seq : -1;
          let batch: TailRow[];
          if (start >= 0 && this.#ring[start]?.ledger_seq === c.cursor + 1) {
            batch = this.#ring.slice(start, start + PAGE);
          } else {
            // resuming from before the ring (or across a gap retention left): read that stretch from Postgres
            batch = await eventsAfter(this.#pool, c.cursor, PAGE);
            if (batch.length === 0) return;
          }
          for (const e of batch) {
            if (matches(c.filter, e)) this.#write(c, e);
            c.cursor = e.ledger_seq;
          }
          if (c.res.writableLength > HIGH_WATER_BYTES) {
            c.congested = true;
            await new Promise<void>((resolve) => {
              const done = () => {
                c.res.off('drain', done);
                c.res.off('close', done);
                resolve();
              };
              c.res.once('drain', done);
              c.res.once('close', done);
            });
            c.congested = false;
          }
        }
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'live tail client failed');
        this.#cut(c, 'internal', 'the live tail failed; reconnect to resume');
      } finally {
        c.pumping = false;
      }
    })();
  }

  #heartbeat(): void {
    const now = Date.now();
    for (const c of this.#clients.values()) {
      if (now - c.lastWrite >= this.#opts.heartbeatMs) {
        c.res.write(`: heartbeat ${new Date(now).toISOString()}\n\n`);
        c.lastWrite = now;
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    for (const c of [...this.#clients.values()])
      this.#cut(c, 'shutdown', 'the server is shutting down; reconnect to resume');
    await this.#reading?.catch(() => {});
    await this.#listener?.end().catch(() => {});
  }
}
