// AuditSink (ledgerhub.io/v1alpha1): one SIEM destination, reusable by several policies. The spec is the
// shared zod schema of ledger/sinks/spec.ts; here are its status and the CEL rules that make the API
// server refuse what that schema's cross-field checks refuse.
import { z } from 'zod';
import { AuditSinkSpec, RESERVED_HEADERS } from '../../ledger/sinks/spec.ts';
import type { CelRule } from './cel-rule.ts';
import { Conditions } from './condition.ts';

export { AuditSinkSpec };

const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$";
const RESERVED = `^(?i:${RESERVED_HEADERS.join('|')})$`;

/**
 * CEL mirrors of AuditSinkSpec's superRefine, by schema path. test/operator/crd-rules.test.ts checks that
 * the API server and the zod schema accept and refuse the same specs.
 */
export const AUDIT_SINK_SPEC_RULES: Record<string, CelRule[]> = {
  spec: [
    {
      rule: "(self.type == 'splunkHec') == has(self.splunkHec) && (self.type == 'elasticsearch') == has(self.elasticsearch) && (self.type == 'webhook') == has(self.webhook)",
      messageExpression:
        "'type is ' + self.type + ', so the ' + self.type + ' block (and no other) must be set'",
    },
    {
      rule: '!has(self.tls) || has(self.tls.clientCert) == has(self.tls.clientKey)',
      message: 'tls.clientCert and tls.clientKey go together',
    },
    {
      rule: '!has(self.retry) || self.retry.maxMs >= self.retry.initialMs',
      message: 'retry.maxMs must be at least retry.initialMs',
    },
    {
      rule: '!has(self.breaker) || self.breaker.maxProbeIntervalMs >= self.breaker.probeIntervalMs',
      message: 'breaker.maxProbeIntervalMs must be at least breaker.probeIntervalMs',
    },
  ],
  'spec.splunkHec.endpoint': [httpUrlRule()],
  'spec.elasticsearch.endpoint': [httpUrlRule()],
  'spec.webhook.endpoint': [httpUrlRule()],
  'spec.elasticsearch': [
    {
      rule: 'has(self.index) != has(self.dataStream)',
      message: 'exactly one of index or dataStream is required',
    },
    {
      rule: 'has(self.apiKey) != has(self.username)',
      message: 'exactly one of apiKey or username (with password) is required',
    },
    { rule: 'has(self.username) == has(self.password)', message: 'username and password go together' },
  ],
  'spec.webhook.headers': [
    { rule: `self.all(k, k.matches("${HEADER_NAME}"))`, message: 'header names must be HTTP tokens' },
    {
      rule: `self.all(k, !k.matches('${RESERVED}'))`,
      message: `may not set headers the forwarder sets itself (${RESERVED_HEADERS.join(', ')})`,
    },
  ],
  'spec.webhook.secretHeaders': [
    { rule: `self.all(k, k.matches("${HEADER_NAME}"))`, message: 'header names must be HTTP tokens' },
    {
      rule: `self.all(k, !k.matches('${RESERVED}'))`,
      message: `may not set headers the forwarder sets itself (${RESERVED_HEADERS.join(', ')})`,
    },
  ],
};

function httpUrlRule(): CelRule {
  return {
    rule: "self.startsWith('http://') || self.startsWith('https://')",
    message: 'must be an http:// or https:// URL',
  };
}

export const AuditSinkStatus = z
  .object({
    observedGeneration: z.int().min(0).optional(),
    conditions: Conditions.optional(),
    policies: z
      .array(z.string())
      .max(256)
      .meta({ 'x-kubernetes-list-type': 'set' })
      .optional()
      .describe('AuditPolicies (same namespace) that forward to this sink.'),
    delivered: z.int().min(0).optional().describe('Events delivered, summed over the policies.'),
    deadLettered: z
      .int()
      .min(0)
      .optional()
      .describe('Events the sink refused permanently, waiting in its dead letters.'),
    lag: z
      .int()
      .min(0)
      .optional()
      .describe('Events committed but not yet delivered, the largest over the policies.'),
    lastDelivery: z.string().optional().meta({ format: 'date-time' }).describe('Last successful delivery.'),
    lastError: z
      .object({
        code: z.string(),
        message: z.string().max(1024),
        at: z.string().meta({ format: 'date-time' }),
      })
      .optional()
      .describe('The latest delivery error (sanitised by the forwarder).'),
  })
  .describe('Delivery health, from the forwarders’ sink records.');
export type AuditSinkStatus = z.infer<typeof AuditSinkStatus>;
