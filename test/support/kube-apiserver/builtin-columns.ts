// kubectl get columns of the built-in kinds, as the apiserver's printers (pkg/printers/internalversion)
// produce them; the Name column is added by the table builder.
import { isObject, type JsonObject, type JsonValue, valueAt } from './json-value.ts';
import type { PrinterColumn, TableColumns } from './resource-types.ts';

type Cell = string | number | boolean | null;

/** kubectl's HumanDuration for ages: 45s, 5m3s, 17m, 3h12m, 30h, 5d2h, 40d, 3y. */
export function humanAge(since: JsonValue | undefined, now = Date.now()): string {
  if (typeof since !== 'string') return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

function column(
  name: string,
  type: string,
  description: string,
  priority = 0,
  format?: string,
): PrinterColumn {
  const c: PrinterColumn = { name, type, description, priority, jsonPath: '' };
  if (format) c.format = format;
  return c;
}

const AGE = column(
  'Age',
  'string',
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
);
const age = (obj: JsonObject): Cell => humanAge(valueAt(obj, ['metadata', 'creationTimestamp']));
const count = (value: JsonValue | undefined): number =>
  Array.isArray(value) ? value.length : isObject(value) ? Object.keys(value).length : 0;
const num = (value: JsonValue | undefined): number => (typeof value === 'number' ? value : 0);
const orNone = (value: JsonValue | undefined): Cell =>
  value === undefined || value === null || value === '' ? '<none>' : String(value);

function containersOf(podSpec: JsonValue | undefined): JsonObject[] {
  const containers = isObject(podSpec) ? podSpec['containers'] : undefined;
  return Array.isArray(containers) ? containers.filter(isObject) : [];
}

function selectorText(selector: JsonValue | undefined): string {
  const labels = isObject(selector) && isObject(selector['matchLabels']) ? selector['matchLabels'] : selector;
  if (!isObject(labels) || Object.keys(labels).length === 0) return '<none>';
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

function hasCondition(obj: JsonObject, type: string): boolean {
  const conditions = valueAt(obj, ['status', 'conditions']);
  return (
    Array.isArray(conditions) &&
    conditions.some((c) => isObject(c) && c['type'] === type && c['status'] === 'True')
  );
}

const BY_KIND: Record<string, TableColumns> = {
  '/Namespace': {
    definitions: [column('Status', 'string', 'The status of the namespace'), AGE],
    cells: (o) => [orNone(valueAt(o, ['status', 'phase'])), age(o)],
  },
  '/ConfigMap': {
    definitions: [column('Data', 'string', 'Data contains the configuration data.'), AGE],
    cells: (o) => [count(o['data']) + count(o['binaryData']), age(o)],
  },
  '/Secret': {
    definitions: [
      column('Type', 'string', 'The type of the secret'),
      column('Data', 'string', 'The number of data in the secret'),
      AGE,
    ],
    cells: (o) => [orNone(o['type']), count(o['data']), age(o)],
  },
  '/ServiceAccount': {
    definitions: [
      column('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace.'),
      AGE,
    ],
    cells: (o) => [count(o['secrets']), age(o)],
  },
  '/Service': {
    definitions: [
      column('Type', 'string', 'The type of the service'),
      column('Cluster-IP', 'string', 'The cluster IP of the service'),
      column('External-IP', 'string', 'The external IP of the service'),
      column('Port(s)', 'string', 'The ports of the service'),
      AGE,
      column('Selector', 'string', 'The selector of the service', 1),
    ],
    cells: (o) => {
      const ports = valueAt(o, ['spec', 'ports']);
      const portText = Array.isArray(ports)
        ? ports
            .filter(isObject)
            .map((p) => `${p['port']}${p['nodePort'] ? `:${p['nodePort']}` : ''}/${p['protocol'] ?? 'TCP'}`)
            .join(',')
        : '';
      return [
        orNone(valueAt(o, ['spec', 'type'])),
        orNone(valueAt(o, ['spec', 'clusterIP'])),
        '<none>',
        portText || '<none>',
        age(o),
        selectorText(valueAt(o, ['spec', 'selector'])),
      ];
    },
  },
  'apps/Deployment': {
    definitions: [
      column('Ready', 'string', 'Number of the pod with ready state'),
      column(
        'Up-to-date',
        'string',
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      ),
      column(
        'Available',
        'string',
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      ),
      AGE,
      column('Containers', 'string', 'Names of each container in the template.', 1),
      column('Images', 'string', 'Images referenced by each container in the template.', 1),
      column(
        'Selector',
        'string',
        'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
        1,
      ),
    ],
    cells: (o) => {
      const containers = containersOf(valueAt(o, ['spec', 'template', 'spec']));
      return [
        `${num(valueAt(o, ['status', 'readyReplicas']))}/${num(valueAt(o, ['spec', 'replicas']))}`,
        num(valueAt(o, ['status', 'updatedReplicas'])),
        num(valueAt(o, ['status', 'availableReplicas'])),
        age(o),
        containers.map((c) => String(c['name'])).join(','),
        containers.map((c) => String(c['image'])).join(','),
        selectorText(valueAt(o, ['spec', 'selector'])),
      ];
    },
  },
  'batch/Job': {
    definitions: [
      column('Status', 'string', 'Status of the job.'),
      column('Completions', 'string', 'The completion status of the job.'),
      column('Duration', 'string', 'Time required to complete the job.'),
      AGE,
    ],
    cells: (o) => {
      const status = hasCondition(o, 'Complete')
        ? 'Complete'
        : hasCondition(o, 'Failed')
          ? 'Failed'
          : valueAt(o, ['spec', 'suspend']) === true
            ? 'Suspended'
            : 'Running';
      const completions = valueAt(o, ['spec', 'completions']);
      const start = valueAt(o, ['status', 'startTime']);
      return [
        status,
        `${num(valueAt(o, ['status', 'succeeded']))}/${typeof completions === 'number' ? completions : 1}`,
        typeof start === 'string'
          ? humanAge(
              start,
              Date.parse(String(valueAt(o, ['status', 'completionTime']) ?? new Date().toISOString())),
            )
          : '',
        age(o),
      ];
    },
  },
  'batch/CronJob': {
    definitions: [
      column('Schedule', 'string', 'The schedule in Cron format.'),
      column('Timezone', 'string', 'The time zone name for the given schedule.'),
      column('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions.'),
      column('Active', 'integer', 'A list of pointers to currently running jobs.'),
      column(
        'Last Schedule',
        'string',
        'Information when was the last time the job was successfully scheduled.',
      ),
      AGE,
    ],
    cells: (o) => {
      const last = valueAt(o, ['status', 'lastScheduleTime']);
      return [
        orNone(valueAt(o, ['spec', 'schedule'])),
        orNone(valueAt(o, ['spec', 'timeZone'])),
        valueAt(o, ['spec', 'suspend']) === true,
        count(valueAt(o, ['status', 'active'])),
        typeof last === 'string' ? humanAge(last) : '<none>',
        age(o),
      ];
    },
  },
  'coordination.k8s.io/Lease': {
    definitions: [column('Holder', 'string', 'The holder of the lease.'), AGE],
    cells: (o) => [String(valueAt(o, ['spec', 'holderIdentity']) ?? ''), age(o)],
  },
  '/Event': {
    definitions: [
      column('Last Seen', 'string', 'The last time this event was seen.'),
      column('Type', 'string', 'Type of the event.'),
      column(
        'Reason',
        'string',
        'Short, machine understandable string that gives the reason for the transition.',
      ),
      column('Object', 'string', 'The object the event is about.'),
      column('Message', 'string', 'A human-readable description of the status of this operation.'),
    ],
    cells: (o) => [
      humanAge(o['lastTimestamp'] ?? o['eventTime'] ?? valueAt(o, ['metadata', 'creationTimestamp'])),
      String(o['type'] ?? ''),
      String(o['reason'] ?? ''),
      `${String(valueAt(o, ['involvedObject', 'kind']) ?? '').toLowerCase()}/${String(valueAt(o, ['involvedObject', 'name']) ?? '')}`,
      String(o['message'] ?? ''),
    ],
  },
  'apiextensions.k8s.io/CustomResourceDefinition': {
    definitions: [
      column(
        'Created At',
        'date',
        'CreationTimestamp is a timestamp representing the server time when this object was created.',
      ),
    ],
    cells: (o) => [String(valueAt(o, ['metadata', 'creationTimestamp']) ?? '')],
  },
};

const GENERIC: TableColumns = {
  definitions: [
    column(
      'Created At',
      'date',
      'CreationTimestamp is a timestamp representing the server time when this object was created.',
    ),
  ],
  cells: (o) => [String(valueAt(o, ['metadata', 'creationTimestamp']) ?? '')],
};

export function builtinColumns(group: string, kind: string): TableColumns {
  return BY_KIND[`${group}/${kind}`] ?? GENERIC;
}
