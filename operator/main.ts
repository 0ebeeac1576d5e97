// `ledgerhub operator`: loads the kubeconfig, starts the watches (every replica keeps warm caches),
// campaigns for the leader Lease and reconciles while it holds it, probes the ledgers, and serves /health,
// /ready (caches synced) and /metrics. Losing the Lease ends the process, as client-go advises.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import type { ConfigOf } from '../ledger/config/keys.ts';
import type { operatorKeys } from '../ledger/config/operator.ts';
import { isProduction } from '../ledger/config/roles.ts';
import { Errors, LedgerhubError } from '../ledger/errors.ts';
import { createLogger, type Logger } from '../ledger/runtime/log.ts';
import { startProbeServer } from '../ledger/runtime/probe-server.ts';
import { Controller } from './controller.ts';
import { EventRecorder } from './kube/event-recorder.ts';
import { LeaderElector } from './kube/leader-election.ts';
import { KubeRest } from './kube/rest.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';
import { LedgerProber } from './probes/ledger-prober.ts';

export type OperatorConfig = ConfigOf<typeof operatorKeys>;

export interface OperatorOptions {
  log?: Logger;
  /** A loaded KubeConfig (tests); default: KUBECONFIG, else in-cluster, else ~/.kube/config. */
  kubeConfig?: KubeConfig;
}

export interface OperatorHandle {
  port: number;
  metrics: OperatorMetrics;
  controller: Controller;
  identity: string;
  isLeader(): boolean;
  stop(): Promise<void>;
  /** Rejects when leadership is lost; resolves after stop(). */
  done: Promise<void>;
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export async function startOperator(
  config: OperatorConfig,
  opts: OperatorOptions = {},
): Promise<OperatorHandle> {
  const log = opts.log ?? createLogger('operator', config.logLevel);
  const kc = opts.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const identity = config.identity || `${hostname()}-${randomBytes(3).toString('hex')}`;
  const metrics = createOperatorMetrics();
  const rest = new KubeRest(kc, {
    onResponse: (verb, resource, code, seconds) => {
      metrics.apiRequests.inc({ verb, resource, code: String(code) });
      metrics.apiSeconds.observe({ verb }, seconds);
    },
  });
  let controller: Controller | undefined;
  const prober =
    config.probeIntervalSecs > 0
      ? new LedgerProber({
          intervalMs: config.probeIntervalSecs * 1000,
          timeoutMs: config.probeTimeoutMs,
          concurrency: config.probeConcurrency,
          onChange: (key) => controller?.probeChanged(key),
          onProbe: (seconds, ok) => metrics.probeSeconds.observe({ result: ok ? 'ok' : 'error' }, seconds),
        })
      : undefined;
  controller = new Controller({
    rest,
    log,
    metrics,
    events: new EventRecorder(rest, identity, log),
    prober,
    workloadImage: config.workloadImage,
    watchNamespace: config.watchNamespace || undefined,
    concurrency: config.concurrency,
    coalesceMs: config.coalesceMs,
    requeueBaseMs: config.requeueBaseMs,
    requeueMaxMs: config.requeueMaxMs,
    resyncMs: config.resyncSecs * 1000,
  });
  const c = controller;

  let leading = false;
  let failLeadership: (err: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    failLeadership = reject;
  });
  lost.catch(() => {});
  const synced = c.startWatches();
  const lead = () => {
    leading = true;
    metrics.leader.set(1);
    prober?.start();
    void synced.then(() => {
      if (leading) c.startReconciling();
    });
  };
  const elector = config.leaderElect
    ? new LeaderElector(rest, {
        namespace: config.namespace,
        name: config.leaseName,
        identity,
        leaseDurationMs: config.leaseDurationSecs * 1000,
        renewDeadlineMs: config.renewDeadlineSecs * 1000,
        retryPeriodMs: config.retryPeriodSecs * 1000,
        log,
        onStartedLeading: lead,
        onStoppedLeading: () => {
          leading = false;
          metrics.leader.set(0);
          c.stopReconciling();
          failLeadership(
            new LedgerhubError(
              Errors.leadershipLost,
              `operator ${identity} lost the leader lease ${config.leaseName}`,
            ),
          );
        },
      })
    : undefined;
  metrics.leader.set(0);
  if (elector) elector.start();
  else lead();

  const probes = await startProbeServer({
    port: config.port,
    registry: metrics.registry,
    metricsBearer: config.metricsBearer,
    production: isProduction(config),
    health: () => ({ ready: true }),
    ready: () =>
      c.synced
        ? { ready: true, detail: { leader: leading } }
        : { ready: false, reason: 'caches_not_synced', detail: { leader: leading } },
  });
  log.info(
    {
      port: probes.port,
      identity,
      watchNamespace: config.watchNamespace || '(all)',
      leaderElect: config.leaderElect,
    },
    'operator started',
  );

  let stopping: Promise<void> | undefined;
  let finished: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const stop = () => {
    stopping ??= (async () => {
      leading = false;
      await c.stop();
      await elector?.stop();
      await prober?.stop();
      await probes.close();
      await rest.close();
      metrics.leader.set(0);
      log.info('operator stopped');
      finished();
    })();
    return stopping;
  };
  return {
    port: probes.port,
    metrics,
    controller: c,
    identity,
    isLeader: () => leading,
    stop,
    done: Promise.race([stopped, lost]),
  };
}
