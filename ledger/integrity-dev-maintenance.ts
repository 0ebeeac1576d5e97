// Maintenance for the local stack (`ledgerhub dev`): retention on a timer (partitions ahead, drops with
// tombstones, the run recorded as an event), and the integrity loops (full sweep at start, rolling
// sweeps, signed checkpoints), in-process. Returns a stop function.
import type { KeyObject } from 'node:crypto';
import { checkpointSigner, parseCheckpointPrivateKey } from './checkpoint-key.ts';
import { createPool } from './db.ts';
import { every, startIntegrityLoops } from './integrity-loops.ts';
import { createMaintenanceMetrics, type MaintenanceMetrics } from './integrity-metrics.ts';
import { TrustedKeys } from './integrity-signature.ts';
import { createRedis } from './redis.ts';
import { runRetention } from './retention.ts';
import { type Logger, silentLogger } from './runtime/log.ts';
import { DEFAULT_STREAM, type HmacKey } from './stream-codec.ts';

export interface DevMaintenanceOptions {
  databaseUrl: string;
  redisUrl: string;
  hmacKey: HmacKey | null;
  /** Ed25519 private key (KeyObject or PEM / raw seed text); without it nothing is signed or dropped. */
  checkpointKey: KeyObject | string | null;
  stream?: string;
  systemZone?: string;
  /** Ceiling (AUDIT_RETENTION_DAYS); the API setting may shorten it. Default 365. */
  retentionDays?: number;
  partitionAheadDays?: number;
  retentionIntervalMs?: number;
  sweepIntervalMs?: number;
  checkpointIntervalMs?: number;
  rollingHours?: number;
  log?: Logger;
}

export interface DevMaintenance {
  metrics: MaintenanceMetrics;
  /** Resolves once the first retention run, checkpoint and full sweep are done. */
  started: Promise<void>;
  stop(): Promise<void>;
}

export function startDevMaintenance(o: DevMaintenanceOptions): DevMaintenance {
  const log = o.log ?? silentLogger();
  const pool = createPool({
    databaseUrl: o.databaseUrl,
    dbMaxConns: 4,
    applicationName: 'ledgerhub-dev-maintenance',
  });
  const redis = createRedis(o.redisUrl, 'ledgerhub-dev-maintenance');
  const key =
    typeof o.checkpointKey === 'string' ? parseCheckpointPrivateKey(o.checkpointKey) : o.checkpointKey;
  const signer = key ? checkpointSigner(key) : null;
  const metrics = createMaintenanceMetrics();

  const retention = async () => {
    if (signer === null) {
      log.warn('no checkpoint key: retention keeps every partition (tombstones cannot be signed)');
      return;
    }
    try {
      const r = await runRetention(
        { pool, signer },
        {
          ceilingDays: o.retentionDays ?? 365,
          partitionAheadDays: o.partitionAheadDays ?? 7,
          pruneBatch: 50_000,
          selfAudit: {
            redis,
            stream: o.stream ?? DEFAULT_STREAM,
            hmacKey: o.hmacKey,
            zone: o.systemZone ?? 'ledgerhub-system',
          },
        },
      );
      metrics.retentionCreated.inc(r.partitions_created);
      metrics.retentionDropped.inc(r.dropped.length);
      metrics.retentionTombstonedEvents.inc(r.dropped.reduce((s, d) => s + d.event_count, 0));
      metrics.retentionLastRun.set(Date.now() / 1000);
      log.info(
        { dropped: r.dropped.length, created: r.partitions_created, policy: r.policy },
        'retention run',
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'retention run failed');
    }
  };
  const loops = startIntegrityLoops({
    pool,
    metrics,
    log,
    key: o.hmacKey,
    publicKeys: new TrustedKeys(signer ? [signer.publicKey] : []),
    signer,
    rollingHours: o.rollingHours ?? 4,
    sweepIntervalMs: o.sweepIntervalMs ?? 3_600_000,
    checkpointIntervalMs: o.checkpointIntervalMs ?? 300_000,
    concurrency: 1,
  });
  const stopRetention = every(o.retentionIntervalMs ?? 6 * 3_600_000, retention);
  const first = retention();
  const started = Promise.all([first, loops.started]).then(() => {});
  return {
    metrics,
    started,
    async stop() {
      await stopRetention();
      await first;
      await loops.stop();
      redis.disconnect();
      await pool.end().catch(() => {});
    },
  };
}
