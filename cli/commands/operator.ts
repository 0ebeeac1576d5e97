// `ledgerhub operator`: the Kubernetes operator that runs AuditPolicies and AuditSinks.
import { loadConfig } from '../../ledger/config/keys.ts';
import { operatorKeys } from '../../ledger/config/operator.ts';
import { startOperator } from '../../operator/main.ts';
import { parseOptions } from '../exit.ts';
import { runUntilSignalled } from '../role.ts';

export const summary = 'run the Kubernetes operator (AuditPolicy, AuditSink)';

const help = `usage: ledgerhub operator

Watches AuditPolicies and AuditSinks (ledgerhub.io/v1alpha1) and runs each policy's ledger: a
ConfigMap with the roles' configuration, Deployments (worker, forwarder, api, sweeper), the API
Service and CronJobs (retention, export, verify), with status, Events and sink health. Takes the
leader Lease first (LEDGERHUB_OPERATOR_LEADER_ELECT); serves /health, /ready and /metrics on PORT
(default 8081). Configuration: LEDGERHUB_OPERATOR_* and KUBECONFIG (docs/configuration.md);
operation: docs/kubernetes.md. Exits 1 when it loses the leader Lease (the pod restarts).`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { help: { type: 'boolean', short: 'h' } }, help);
  if (values.help) {
    console.log(help);
    return 0;
  }
  return runUntilSignalled(await startOperator(loadConfig('operator', operatorKeys)));
}
