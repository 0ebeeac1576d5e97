// Typed configuration of `ledgerhub operator`: where it runs and watches, the image it deploys, leader
// election timings, the work queue's bounds and how often it probes each ledger's Redis and Postgres.
import { boolKey, intKey, type Keys, stringKey } from './keys.ts';
import { runtimeKeys } from './roles.ts';

const NAMESPACE = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const operatorKeys = {
  ...runtimeKeys,
  port: intKey('PORT', 0, 65535, { default: 8081, doc: 'HTTP port for /health, /ready and /metrics.' }),
  kubeconfig: stringKey('KUBECONFIG', {
    default: '',
    defaultDoc: '(unset: the in-cluster service account, else ~/.kube/config)',
    doc: 'Kubeconfig file the operator talks to the API server with.',
  }),
  namespace: stringKey(
    'LEDGERHUB_OPERATOR_NAMESPACE',
    {
      default: 'default',
      doc: 'The operator’s own namespace, where its leader-election Lease lives (the chart sets the pod’s namespace).',
    },
    NAMESPACE,
  ),
  watchNamespace: stringKey(
    'LEDGERHUB_OPERATOR_WATCH_NAMESPACE',
    {
      default: '',
      defaultDoc: '(unset: all namespaces)',
      doc: 'Reconcile AuditPolicies and AuditSinks of this namespace only (then a namespaced Role suffices).',
    },
    NAMESPACE,
  ),
  workloadImage: stringKey(
    'LEDGERHUB_WORKLOAD_IMAGE',
    {
      default: 'ghcr.io/ledgerhub/ledgerhub:0.1.0',
      doc: 'Image of the workloads a policy runs when it names none (normally the operator’s own image).',
    },
    /^[^\s]{1,512}$/,
  ),
  identity: stringKey(
    'LEDGERHUB_OPERATOR_IDENTITY',
    {
      default: '',
      defaultDoc: '(unset: the host name plus a random suffix)',
      doc: 'Holder identity in the leader-election Lease.',
    },
    /^$|^[\w.:-]{1,128}$/,
  ),
  leaderElect: boolKey('LEDGERHUB_OPERATOR_LEADER_ELECT', {
    default: true,
    doc: 'Take the leader-election Lease before reconciling (needed whenever more than one replica runs).',
  }),
  leaseName: stringKey(
    'LEDGERHUB_OPERATOR_LEASE_NAME',
    { default: 'ledgerhub-operator', doc: 'Name of the leader-election Lease.' },
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
  ),
  leaseDurationSecs: intKey('LEDGERHUB_OPERATOR_LEASE_DURATION_SECS', 2, 300, {
    default: 15,
    doc: 'How long a Lease holds without renewal before another replica may take it.',
  }),
  renewDeadlineSecs: intKey('LEDGERHUB_OPERATOR_RENEW_DEADLINE_SECS', 1, 300, {
    default: 10,
    doc: 'The leader gives up (and stops reconciling) when it could not renew for this long.',
  }),
  retryPeriodSecs: intKey('LEDGERHUB_OPERATOR_RETRY_PERIOD_SECS', 1, 60, {
    default: 2,
    doc: 'How often the leader renews and a candidate tries to acquire.',
  }),
  concurrency: intKey('LEDGERHUB_OPERATOR_CONCURRENCY', 1, 64, {
    default: 4,
    doc: 'Objects reconciled at once (one object is never reconciled twice at once).',
  }),
  coalesceMs: intKey('LEDGERHUB_OPERATOR_COALESCE_MS', 0, 60_000, {
    default: 250,
    doc: 'A changed object is reconciled once no change came for this long (at most 20 times this after its first change), so bursts make a handful of reconciles.',
  }),
  requeueBaseMs: intKey('LEDGERHUB_OPERATOR_REQUEUE_BASE_MS', 10, 600_000, {
    default: 500,
    doc: 'First retry after a failed reconcile; doubles per failure.',
  }),
  requeueMaxMs: intKey('LEDGERHUB_OPERATOR_REQUEUE_MAX_MS', 10, 3_600_000, {
    default: 300_000,
    doc: 'Longest wait between retries of a failing reconcile.',
  }),
  resyncSecs: intKey('LEDGERHUB_OPERATOR_RESYNC_SECS', 0, 86_400, {
    default: 600,
    doc: 'Every object is reconciled again this often from the watch caches (0 = never); writes happen only on drift.',
  }),
  probeIntervalSecs: intKey('LEDGERHUB_OPERATOR_PROBE_INTERVAL_SECS', 0, 3600, {
    default: 30,
    doc: 'How often each ledger’s Redis (lag, DLQ) and Postgres (reachability, sink health) are probed (0 = never).',
  }),
  probeTimeoutMs: intKey('LEDGERHUB_OPERATOR_PROBE_TIMEOUT_MS', 100, 60_000, {
    default: 3000,
    doc: 'Timeout of one probe of Redis or Postgres.',
  }),
  probeConcurrency: intKey('LEDGERHUB_OPERATOR_PROBE_CONCURRENCY', 1, 64, {
    default: 4,
    doc: 'Ledgers probed at once.',
  }),
} satisfies Keys;
