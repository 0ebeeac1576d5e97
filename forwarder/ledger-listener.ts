// The forwarder's dedicated Postgres session: LISTENs for commits (ledgerhub_commits) and sink control
// (ledgerhub_sink_control: replay asked for, sink re-enabled), and holds the dispatch lock, so exactly
// one replica plans batches. A lost session loses the lock; it reconnects with capped back-off.
import type pg from 'pg';
import { COMMITS_CHANNEL } from '../ledger/append-batch.ts';
import { connectClient, type DbOptions } from '../ledger/db.ts';
import { messageOf } from '../ledger/errors.ts';
import type { Logger } from '../ledger/runtime/log.ts';

export const SINK_CONTROL_CHANNEL = 'ledgerhub_sink_control';
/** Session advisory lock held by the replica that dispatches ("LHFWDISP"). */
export const DISPATCH_LOCK = 0x4c48_4657_4449_5350n;
const RECONNECT_MAX_MS = 10_000;

export interface ListenerEvents {
  onCommit(lastSeq: number): void;
  onControl(sink: string): void;
  onLeadership(leader: boolean): void;
}

export class LedgerListener {
  readonly #db: DbOptions;
  readonly #events: ListenerEvents;
  readonly #log: Logger;
  readonly #retryLeadershipMs: number;
  #client: pg.Client | undefined;
  #leader = false;
  #stopped = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: DbOptions, events: ListenerEvents, log: Logger, retryLeadershipMs: number) {
    this.#db = db;
    this.#events = events;
    this.#log = log;
    this.#retryLeadershipMs = retryLeadershipMs;
  }

  get leader(): boolean {
    return this.#leader;
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#setLeader(false);
    if (client) await client.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    try {
      const client = await connectClient({
        ...this.#db,
        applicationName: `${this.#db.applicationName ?? 'ledgerhub'}-listen`,
      });
      client.on('notification', (msg) => {
        if (msg.channel === COMMITS_CHANNEL) this.#events.onCommit(Number(msg.payload ?? 0));
        else if (msg.channel === SINK_CONTROL_CHANNEL && msg.payload) this.#events.onControl(msg.payload);
      });
      client.on('error', (err) => this.#lost(client, err));
      client.on('end', () => this.#lost(client, new Error('connection ended')));
      await client.query(`LISTEN ${COMMITS_CHANNEL}; LISTEN ${SINK_CONTROL_CHANNEL}`);
      this.#client = client;
      this.#failures = 0;
      await this.#tryLead();
    } catch (err) {
      this.#retry(err);
    }
  }

  async #tryLead(): Promise<void> {
    const client = this.#client;
    if (!client || this.#stopped) return;
    try {
      if (!this.#leader) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
          DISPATCH_LOCK.toString(),
        ]);
        this.#setLeader(rows[0]?.ok === true);
      }
    } catch (err) {
      this.#log.warn({ err: messageOf(err) }, 'dispatch lock check failed');
    }
    if (!this.#leader && !this.#stopped) {
      this.#timer = setTimeout(() => void this.#tryLead(), this.#retryLeadershipMs);
      this.#timer.unref();
    }
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#setLeader(false);
    client.end().catch(() => {});
    if (!this.#stopped) this.#retry(err);
  }

  #retry(err: unknown): void {
    this.#failures += 1;
    const delay = Math.min(RECONNECT_MAX_MS, 100 * 2 ** Math.min(this.#failures, 7));
    this.#log.warn({ err: messageOf(err), retryInMs: delay }, 'ledger listener disconnected');
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#connect(), delay);
    this.#timer.unref();
  }

  #setLeader(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#log.info({ leader }, leader ? 'holding the dispatch lock' : 'not dispatching');
    this.#events.onLeadership(leader);
  }
}
