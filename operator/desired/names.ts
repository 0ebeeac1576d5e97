// Names and labels of the objects a policy owns, so every builder, the pruner and the watch mapping
// agree on them.

/** Long-running roles (Deployments) and scheduled ones (CronJobs). */
export type DeployedComponent = 'worker' | 'forwarder' | 'api' | 'sweeper';
export type ScheduledComponent = 'retention' | 'export' | 'verify';
/** What each owned object is part of: the two ConfigMaps, then the workloads. */
export type Component = 'config' | 'sinks' | DeployedComponent | ScheduledComponent;

export const MANAGED_BY = 'ledgerhub-operator';
export const LABEL_POLICY = 'ledgerhub.io/policy';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Every owned object carries it: the watches select on it. */
export const OWNED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

export const ANNOTATION_CHECKSUM = 'ledgerhub.io/config-checksum';
export const ANNOTATION_APPLIED = 'ledgerhub.io/applied-hash';

/** The longest policy name whose derived names all stay valid (CronJob names: 52 characters). */
export const POLICY_NAME_MAX = 42;

export function objectName(policy: string, component: Component): string {
  return `${policy}-${component}`;
}

export function selectorLabels(policy: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'ledgerhub',
    'app.kubernetes.io/instance': policy,
    [LABEL_COMPONENT]: component,
  };
}

export function ownedLabels(policy: string, component: Component): Record<string, string> {
  return {
    ...selectorLabels(policy, component),
    [LABEL_MANAGED_BY]: MANAGED_BY,
    'app.kubernetes.io/part-of': 'ledgerhub',
    [LABEL_POLICY]: policy,
  };
}
