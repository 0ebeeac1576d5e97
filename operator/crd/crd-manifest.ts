// The two CustomResourceDefinitions as objects and as the YAML checked in under crds/: names, the
// v1alpha1 version with its structural schema, the status subresource and the printer columns.
import { stringify } from 'yaml';
import type { z } from 'zod';
import { AuditPolicySpec, AuditPolicyStatus } from '../api/audit-policy.ts';
import { AUDIT_SINK_SPEC_RULES, AuditSinkSpec, AuditSinkStatus } from '../api/audit-sink.ts';
import type { CelRule } from '../api/cel-rule.ts';
import { AUDIT_POLICY, AUDIT_SINK, GROUP, type KindNames, VERSION } from '../api/group.ts';
import { POLICY_NAME_MAX } from '../desired/names.ts';
import { type JsonSchema, structuralSchema } from './structural-schema.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

const condition = (type: string) => `.status.conditions[?(@.type=="${type}")]`;
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

interface CrdSource {
  names: KindNames;
  description: string;
  spec: z.ZodType;
  specRules?: Record<string, CelRule[]>;
  /** Rules on the whole object (they may read metadata.name). */
  rootRules?: CelRule[];
  status: z.ZodType;
  columns: PrinterColumn[];
}

const SOURCES: CrdSource[] = [
  {
    names: AUDIT_POLICY,
    description:
      'One ledger (Redis stream + Postgres tables) and how ledgerhub runs it. Not the Kubernetes API-server audit Policy (audit.k8s.io).',
    spec: AuditPolicySpec,
    rootRules: [
      {
        rule: `self.metadata.name.size() <= ${POLICY_NAME_MAX} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
        message: `the name must be a DNS-1035 label of at most ${POLICY_NAME_MAX} characters (it prefixes the names of the objects the policy owns)`,
      },
    ],
    status: AuditPolicyStatus,
    columns: [
      { name: 'Ready', type: 'string', jsonPath: `${condition('Ready')}.status` },
      { name: 'Reason', type: 'string', jsonPath: `${condition('Ready')}.reason`, priority: 1 },
      { name: 'Workloads', type: 'string', jsonPath: '.status.workloads', description: 'available/desired' },
      { name: 'Sinks', type: 'string', jsonPath: '.status.sinks', description: 'ready/listed' },
      { name: 'Lag', type: 'integer', jsonPath: '.status.ingestion.lag' },
      { name: 'DLQ', type: 'integer', jsonPath: '.status.ingestion.deadLettered' },
      AGE,
    ],
  },
  {
    names: AUDIT_SINK,
    description:
      'One SIEM destination (Splunk HEC, Elasticsearch or a webhook), reusable by several AuditPolicies.',
    spec: AuditSinkSpec,
    specRules: AUDIT_SINK_SPEC_RULES,
    status: AuditSinkStatus,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Ready', type: 'string', jsonPath: `${condition('Ready')}.status` },
      { name: 'Delivering', type: 'string', jsonPath: `${condition('Delivering')}.status` },
      { name: 'Lag', type: 'integer', jsonPath: '.status.lag' },
      { name: 'Delivered', type: 'integer', jsonPath: '.status.delivered' },
      { name: 'Last-Error', type: 'string', jsonPath: '.status.lastError.code', priority: 1 },
      AGE,
    ],
  },
];

function prefixRules(rules: Record<string, CelRule[]>): Record<string, CelRule[]> {
  return Object.fromEntries(
    Object.entries(rules).map(([path, list]) => [path === 'spec' ? '' : path.replace(/^spec\./, ''), list]),
  );
}

function crd(source: CrdSource): JsonSchema {
  const { names } = source;
  const openAPIV3Schema: JsonSchema = {
    description: source.description,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: structuralSchema(source.spec, prefixRules(source.specRules ?? {})),
      status: structuralSchema(source.status),
    },
    ...(source.rootRules ? { 'x-kubernetes-validations': source.rootRules } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'ledgerhub' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        shortNames: names.shortNames,
        categories: names.categories,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: source.columns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

/** The CRD objects, AuditPolicy first. */
export function customResourceDefinitions(): JsonSchema[] {
  return SOURCES.map(crd);
}

export const CRD_FILES = {
  [`${AUDIT_POLICY.plural}.yaml`]: 0,
  [`${AUDIT_SINK.plural}.yaml`]: 1,
} as const;

const HEADER = '# Generated from operator/api/*.ts by `npm run gen:crds`; do not edit by hand.\n';

/** crds/<plural>.yaml contents by file name. */
export function renderCrdFiles(): Record<string, string> {
  const crds = customResourceDefinitions();
  return Object.fromEntries(
    Object.entries(CRD_FILES).map(([file, i]) => [file, HEADER + stringify(crds[i], { lineWidth: 0 })]),
  );
}
