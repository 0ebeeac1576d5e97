// The integrity sweep, as Caracal runs it: a full sweep over everything retained, then a rolling sweep
// of the rows ingested in the last AUDIT_TAMPER_ROLLING_HOURS (and each zone's chain from there to its
// head), recomputing hashes, HMACs and links, checking checkpoints and tombstones, counting metrics.
import type pg from 'pg';
import { type MaintenanceMetrics, recordSweep } from './integrity-metrics.ts';
import type { TrustedKeys } from './integrity-signature.ts';
import type { HmacKey } from './stream-codec.ts';
import { type VerifyReport, verifyLedger } from './verify-store.ts';

export interface SweepOptions {
  key: HmacKey | null;
  publicKeys: TrustedKeys;
  rollingHours: number;
  concurrency: number;
}

export class IntegritySweeper {
  readonly #pool: pg.Pool;
  readonly #metrics: MaintenanceMetrics;
  readonly #opts: SweepOptions;
  last: VerifyReport | null = null;

  constructor(pool: pg.Pool, metrics: MaintenanceMetrics, opts: SweepOptions) {
    this.#pool = pool;
    this.#metrics = metrics;
    this.#opts = opts;
  }

  async full(): Promise<VerifyReport> {
    const report = await verifyLedger(this.#pool, {
      key: this.#opts.key,
      publicKeys: this.#opts.publicKeys,
      concurrency: this.#opts.concurrency,
    });
    recordSweep(this.#metrics, report.checked, report.faults, true);
    this.last = report;
    return report;
  }

  /** Zones with rows ingested in the window, each verified from its first such row to its head. */
  async rolling(): Promise<VerifyReport> {
    const { rows } = await this.#pool.query<{ zone_id: string; from_seq: number }>(
      `SELECT zone_id, min(chain_seq) AS from_seq FROM audit_events
       WHERE ingested_at >= now() - make_interval(hours => $1) GROUP BY zone_id`,
      [this.#opts.rollingHours],
    );
    const report = await verifyLedger(this.#pool, {
      key: this.#opts.key,
      publicKeys: this.#opts.publicKeys,
      concurrency: this.#opts.concurrency,
      zoneRanges: new Map(rows.map((r) => [r.zone_id, r.from_seq])),
    });
    recordSweep(this.#metrics, report.checked, report.faults, false);
    this.last = report;
    return report;
  }
}
