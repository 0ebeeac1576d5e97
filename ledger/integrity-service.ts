// `ledgerhub sweep` as a long-running role: the integrity loops plus /health, /ready (ready once the
// start-up full sweep is done) and /metrics with the caracal_audit_tamper_* metrics.

import { checkpointSigner } from './checkpoint-key.ts';
import type { ConfigOf } from './config/keys.ts';
import { type integrityKeys, trustedPublicKeys } from './config/maintenance.ts';
import { isProduction } from './config/roles.ts';
import { createPool } from './db.ts';
import { startIntegrityLoops } from './integrity-loops.ts';
import { createMaintenanceMetrics, type MaintenanceMetrics } from './integrity-metrics.ts';
import { TrustedKeys } from './integrity-signature.ts';
import { createLogger, type Logger } from './runtime/log.ts';
import { startProbeServer } from './runtime/probe-server.ts';

export type IntegrityConfig = ConfigOf<typeof integrityKeys>;

export interface IntegrityServiceHandle {
  port: number;
  metrics: MaintenanceMetrics;
  stop(): Promise<void>;
  /** Resolves when stop() completes. */
  done: Promise<void>;
}

export async function startIntegrityService(
  config: IntegrityConfig,
  opts: { log?: Logger } = {},
): Promise<IntegrityServiceHandle> {
  const log = opts.log ?? createLogger('sweep', config.logLevel);
  const pool = createPool({
    ...config,
    dbMaxConns: config.verifyConcurrency + 2,
    applicationName: 'ledgerhub-sweep',
  });
  const metrics = createMaintenanceMetrics();
  const loops = startIntegrityLoops({
    pool,
    metrics,
    log,
    key: config.hmacKey,
    publicKeys: new TrustedKeys(trustedPublicKeys(config)),
    signer: config.checkpointKey ? checkpointSigner(config.checkpointKey) : null,
    rollingHours: config.tamperRollingHours,
    sweepIntervalMs: config.sweepIntervalSecs * 1000,
    checkpointIntervalMs: config.checkpointIntervalSecs * 1000,
    concurrency: config.verifyConcurrency,
    logEachFault: config.onFault === 'each',
  });
  let fullDone = false;
  void loops.started.then(() => {
    fullDone = true;
  });
  const probes = await startProbeServer({
    port: config.port,
    registry: metrics.registry,
    metricsBearer: config.metricsBearer,
    production: isProduction(config),
    health: () => ({ ready: true }),
    ready: () => (fullDone ? { ready: true } : { ready: false, reason: 'full_sweep_running' }),
  });
  log.info({ port: probes.port, signing: config.checkpointKey !== null }, 'integrity sweeper started');

  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let stopping: Promise<void> | null = null;
  return {
    port: probes.port,
    metrics,
    done,
    stop: () => {
      stopping ??= (async () => {
        await loops.stop();
        await probes.close();
        await pool.end().catch(() => {});
        log.info('integrity sweeper stopped');
        resolveDone();
      })();
      return stopping;
    },
  };
}
