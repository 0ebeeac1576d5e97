// One delivery attempt of a job, whoever runs it (a BullMQ worker, or the breaker's probe): read the
// batch's events from the ledger, redact, send, dead-letter what the sink refused for good, and record
// the batch as finished (moving the cursor) or say what is left for the next attempt.
import type pg from 'pg';
import type { Logger } from '../ledger/runtime/log.ts';
import { batchMeta } from './batch-digest.ts';
import { type DeliveryFailure, failure, isRetryable } from './delivery-failure.ts';
import { type DeliveryJob, jobRange } from './delivery-job.ts';
import type { LedgerEventCache } from './event-cache.ts';
import type { LedgerEvent } from './ledger-event.ts';
import { fetchEvents } from './ledger-reader.ts';
import type { ForwarderMetrics } from './metrics.ts';
import { type CompiledRoute, redactEvent, routeMatches } from './route.ts';
import type { NewDeadLetter, SinkStore } from './sink-store.ts';
import type { Sink } from './sinks/sink.ts';

export interface AttemptContext {
  /** 1-based. */
  attempt: number;
  /** No retry follows: what a retryable failure leaves is dead-lettered. */
  lastAttempt: boolean;
  /**
   * The breaker was closed when the attempt began. A sink-level refusal (credentials, configuration)
   * then dead-letters what was refused; while the sink is paused, probes leave the batch waiting instead.
   */
  breakerClosed: boolean;
  /** Counts of earlier attempts of this job. */
  earlier?: { delivered: number; deadLettered: number };
}

export interface AttemptResult {
  /** finished: nothing left; retry: send `remaining` later; held: the sink cannot take anything now. */
  outcome: 'finished' | 'retry' | 'held' | 'skipped';
  accepted: number;
  deadLettered: number;
  remaining: number[];
  requests: number;
  /** Events sent and their serialized bytes (the dispatcher sizes batches with it). */
  sent: { events: number; bytes: number };
  /** Why not everything was taken (retryable, sink-level or the last refusal). */
  failure?: DeliveryFailure;
}

const NOTHING = { accepted: 0, deadLettered: 0, remaining: [], requests: 0, sent: { events: 0, bytes: 0 } };

export interface BatchDeliveryDeps {
  pool: pg.Pool;
  /** Committed events shared by every sink's deliveries. */
  cache: LedgerEventCache;
  store: SinkStore;
  sink: Sink;
  route: CompiledRoute;
  metrics: ForwarderMetrics;
  log: Logger;
}

export class BatchDelivery {
  readonly #d: BatchDeliveryDeps;

  constructor(deps: BatchDeliveryDeps) {
    this.#d = deps;
  }

  async attempt(jobId: string, job: DeliveryJob, ctx: AttemptContext): Promise<AttemptResult> {
    const { store, sink, route, metrics } = this.#d;
    const labels = { sink: sink.name };
    const range = jobRange(job);
    let stored: LedgerEvent[];
    if (job.kind === 'batch') {
      const [pending, all] = await Promise.all([
        store.isPending(job.first),
        this.#d.cache.range({ ...range, minUs: job.minUs, maxUs: job.maxUs }),
      ]);
      // a duplicate job (Redis rebuilt, probe ran it): the batch finished already
      if (!pending) return { ...NOTHING, outcome: 'skipped' };
      stored = all.filter((e) => routeMatches(route, e));
    } else {
      // replayed dead letters matched the route when they were first sent
      stored = await fetchEvents(
        this.#d.pool,
        { ...range, minUs: job.minUs, maxUs: job.maxUs, seqs: job.seqs },
        null,
      );
    }
    const events = stored.map((e) => redactEvent(e, route));
    const meta = batchMeta(sink.name, jobId, range, events);
    const left = job.remaining ? new Set(job.remaining) : null;
    const toSend = left ? events.filter((e) => left.has(e.ledger_seq)) : events;

    const report =
      toSend.length === 0
        ? { accepted: [], refused: [], receipts: [], requests: 0, bytes: 0 }
        : await sink.send({ meta, events: toSend });
    metrics.requests.inc(labels, report.requests);
    if (report.accepted.length > 0) metrics.deliveredEvents.inc(labels, report.accepted.length);

    const bySeq = new Map(events.map((e) => [e.ledger_seq, e]));
    const letters: NewDeadLetter[] = report.refused.map((r) =>
      deadLetter(bySeq.get(r.seq), r.seq, range, r.failure),
    );
    let unsent = report.unsent;
    let outcomeFailure: DeliveryFailure | undefined = unsent?.failure ?? report.refused.at(-1)?.failure;
    if (unsent) {
      const f = unsent.failure;
      const refusedByConfig = (f.kind === 'auth' || f.kind === 'config') && ctx.breakerClosed;
      if (refusedByConfig || (isRetryable(f.kind) && ctx.lastAttempt)) {
        const why = refusedByConfig
          ? f
          : failure(
              f.kind,
              'retries_exhausted',
              `gave up after ${ctx.attempt} attempts: ${f.code} ${f.message}`,
            );
        outcomeFailure = why;
        for (const seq of unsent.seqs) letters.push(deadLetter(bySeq.get(seq), seq, range, why));
        unsent = undefined;
      }
    }
    await store.deadLetter(letters);
    for (const l of letters) metrics.deadLettered.inc({ sink: sink.name, kind: l.failure.kind });
    if (job.kind === 'replay') {
      await store.finishReplay(report.accepted);
      metrics.replays.inc(labels, report.accepted.length);
    }

    const base = {
      accepted: report.accepted.length,
      deadLettered: letters.length,
      requests: report.requests,
      sent: { events: toSend.length, bytes: report.bytes },
    };
    if (unsent) {
      const held = !isRetryable(unsent.failure.kind);
      return { ...base, outcome: held ? 'held' : 'retry', remaining: unsent.seqs, failure: unsent.failure };
    }
    if (job.kind === 'batch') {
      const delivered = (ctx.earlier?.delivered ?? 0) + report.accepted.length;
      const dead = (ctx.earlier?.deadLettered ?? 0) + letters.length;
      await store.finishBatch(job.first, {
        delivered,
        deadLettered: dead,
        sha256: meta.sha256,
        receipt: report.receipts.join(', ').slice(0, 1000),
        attempts: ctx.attempt,
      });
      metrics.deliveredBatches.inc(labels);
      metrics.batchEvents.observe(labels, events.length);
      if (letters.length > 0) {
        this.#d.log.warn(
          {
            sink: sink.name,
            jobId,
            first: range.first,
            last: range.last,
            deadLettered: letters.length,
            error: outcomeFailure,
          },
          'events dead-lettered',
        );
      }
    }
    return {
      ...base,
      outcome: 'finished',
      remaining: [],
      ...(outcomeFailure ? { failure: outcomeFailure } : {}),
    };
  }
}

function deadLetter(
  event: LedgerEvent | undefined,
  seq: number,
  range: { first: number; last: number },
  f: DeliveryFailure,
): NewDeadLetter {
  return {
    seq,
    eventId: event?.id ?? `seq-${seq}`,
    occurredAtUs: event?.occurred_at_us ?? 0,
    batchFirst: range.first,
    batchLast: range.last,
    failure: f,
  };
}
