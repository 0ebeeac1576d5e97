// The integrity role's timers: a full sweep at start, a rolling sweep every interval, a signed
// checkpoint every interval; each job never overlaps itself and logs one line per run.
import type pg from 'pg';
import type { CheckpointSigner } from './checkpoint-key.ts';
import { writeCheckpoint } from './checkpoint-store.ts';
import type { MaintenanceMetrics } from './integrity-metrics.ts';
import type { TrustedKeys } from './integrity-signature.ts';
import type { Logger } from './runtime/log.ts';
import type { HmacKey } from './stream-codec.ts';
import { IntegritySweeper } from './sweep.ts';
import type { VerifyReport } from './verify-store.ts';

export interface IntegrityLoopOptions {
  pool: pg.Pool;
  metrics: MaintenanceMetrics;
  log: Logger;
  key: HmacKey | null;
  publicKeys: TrustedKeys;
  signer: CheckpointSigner | null;
  rollingHours: number;
  sweepIntervalMs: number;
  checkpointIntervalMs: number;
  concurrency: number;
  /** Log each fault (default) or only counts. */
  logEachFault?: boolean;
}

export interface IntegrityLoops {
  sweeper: IntegritySweeper;
  /** Resolves when the start-up full sweep (and first checkpoint) are done. */
  started: Promise<void>;
  /** Runs one checkpoint now (also what the timer does). */
  checkpointNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `fn` every `ms` without overlapping itself; returns a stopper that waits for a run in flight. */
export function every(ms: number, fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= fn().finally(() => {
      running = null;
    });
  }, ms);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export function startIntegrityLoops(o: IntegrityLoopOptions): IntegrityLoops {
  const sweeper = new IntegritySweeper(o.pool, o.metrics, {
    key: o.key,
    publicKeys: o.publicKeys,
    rollingHours: o.rollingHours,
    concurrency: o.concurrency,
  });
  const report = (what: string, r: VerifyReport) => {
    const counts: Record<string, number> = {};
    for (const f of r.faults) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    const fields = { checked: r.checked, faults: r.faults.length, kinds: counts, duration_ms: r.duration_ms };
    if (r.ok) o.log.info(fields, `${what} sweep: ledger verified`);
    else {
      o.log.error(fields, `${what} sweep: integrity faults found`);
      if (o.logEachFault !== false) for (const f of r.faults) o.log.error({ fault: f }, 'integrity fault');
    }
  };
  const checkpoint = async () => {
    if (o.signer === null) return;
    try {
      const written = await writeCheckpoint(o.pool, o.signer);
      if (written) {
        o.metrics.checkpoints.inc();
        o.metrics.checkpointLast.set(Date.now() / 1000);
        o.log.info(
          { checkpoint_no: written.checkpoint_no, zones: written.zones, ledger_seq: written.ledger_seq },
          'checkpoint signed',
        );
      }
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'checkpoint failed');
    }
  };
  const rolling = async () => {
    try {
      report('rolling', await sweeper.rolling());
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'rolling sweep failed');
    }
  };
  if (o.signer === null) o.log.warn('LEDGERHUB_CHECKPOINT_KEY is not set: no checkpoints will be signed');

  const started = (async () => {
    await checkpoint();
    try {
      report('full', await sweeper.full());
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'full sweep failed');
    }
  })();
  const stops = [every(o.sweepIntervalMs, rolling), every(o.checkpointIntervalMs, checkpoint)];
  return {
    sweeper,
    started,
    checkpointNow: checkpoint,
    async stop() {
      await Promise.all(stops.map((s) => s()));
      await started;
    },
  };
}
