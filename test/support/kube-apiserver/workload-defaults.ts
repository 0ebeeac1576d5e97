// Defaulting of built-in kinds, as the apiserver's SetDefaults_* functions do, for the fields an operator
// is likely to diff against: Deployment, Job and CronJob specs and their pod templates, Services,
// Namespaces and Secrets. Objects read back from the fake therefore carry the same defaults as from a
// real cluster, and desired-vs-actual comparisons that ignore defaults fail here as they would there.
import { isObject, type JsonObject, type JsonValue, objectAt } from './json-value.ts';

function setDefault(obj: JsonObject, key: string, value: JsonValue): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

function objects(value: JsonValue | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function defaultProbe(probe: JsonValue | undefined): void {
  if (!isObject(probe)) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  if (isObject(probe['httpGet'])) setDefault(probe['httpGet'], 'scheme', 'HTTP');
}

function imagePullPolicyFor(image: JsonValue | undefined): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: JsonObject): void {
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  setDefault(container, 'imagePullPolicy', imagePullPolicyFor(container['image']));
  setDefault(container, 'resources', {});
  for (const port of objects(container['ports'])) setDefault(port, 'protocol', 'TCP');
  for (const env of objects(container['env'])) {
    const fieldRef = isObject(env['valueFrom']) ? env['valueFrom']['fieldRef'] : undefined;
    if (isObject(fieldRef)) setDefault(fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(container['livenessProbe']);
  defaultProbe(container['readinessProbe']);
  defaultProbe(container['startupProbe']);
}

function defaultVolume(volume: JsonObject): void {
  for (const source of ['configMap', 'secret']) {
    const v = volume[source];
    if (isObject(v)) setDefault(v, 'defaultMode', 420);
  }
  const projected = volume['projected'];
  if (isObject(projected)) setDefault(projected, 'defaultMode', 420);
}

/** SetDefaults_PodSpec and the container/volume defaults under it. */
export function defaultPodSpec(spec: JsonObject, restartPolicy: string | undefined): void {
  if (restartPolicy !== undefined) setDefault(spec, 'restartPolicy', restartPolicy);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  for (const container of [...objects(spec['containers']), ...objects(spec['initContainers'])]) {
    defaultContainer(container);
  }
  for (const volume of objects(spec['volumes'])) defaultVolume(volume);
}

function defaultPodTemplate(template: JsonValue | undefined, restartPolicy: string | undefined): void {
  if (!isObject(template)) return;
  defaultPodSpec(objectAt(template, 'spec'), restartPolicy);
}

export function defaultDeployment(obj: JsonObject): void {
  const spec = objectAt(obj, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = objectAt(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const rolling = objectAt(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec['template'], 'Always');
}

export function defaultJob(obj: JsonObject): void {
  const spec = objectAt(obj, 'spec');
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
  defaultPodTemplate(spec['template'], undefined);
}

/**
 * The Job controller's selector generation (manualSelector unset): the selector and the template labels
 * name the Job's uid, as the apiserver's Job strategy does on create.
 */
export function generateJobSelector(obj: JsonObject): void {
  const spec = objectAt(obj, 'spec');
  if (spec['manualSelector'] === true) return;
  const meta = obj['metadata'] as JsonObject;
  const uid = String(meta['uid']);
  const name = String(meta['name']);
  spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  const template = objectAt(spec, 'template');
  const labels = objectAt(objectAt(template, 'metadata'), 'labels');
  labels['batch.kubernetes.io/controller-uid'] = uid;
  labels['batch.kubernetes.io/job-name'] = name;
  labels['controller-uid'] = uid;
  labels['job-name'] = name;
}

export function defaultCronJob(obj: JsonObject): void {
  const spec = objectAt(obj, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  const jobTemplate = spec['jobTemplate'];
  if (isObject(jobTemplate) && isObject(jobTemplate['spec'])) {
    defaultPodTemplate(jobTemplate['spec']['template'], undefined);
  }
}

export function defaultService(obj: JsonObject): void {
  const spec = objectAt(obj, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec['type'] !== 'ExternalName') {
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  for (const port of objects(spec['ports'])) {
    setDefault(port, 'protocol', 'TCP');
    if (port['targetPort'] === undefined && port['port'] !== undefined) port['targetPort'] = port['port'];
  }
}

export function defaultNamespace(obj: JsonObject): void {
  const meta = obj['metadata'] as JsonObject;
  objectAt(meta, 'labels')['kubernetes.io/metadata.name'] = String(meta['name']);
  setDefault(objectAt(obj, 'spec'), 'finalizers', ['kubernetes']);
  setDefault(objectAt(obj, 'status'), 'phase', 'Active');
}

export function defaultSecret(obj: JsonObject): void {
  setDefault(obj, 'type', 'Opaque');
}
