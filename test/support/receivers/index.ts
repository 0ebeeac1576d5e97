// Public API of the stand-in SIEM receivers (Splunk HEC, Elasticsearch _bulk, Standard Webhooks):
// what the forwarder's tests and the local demo stack import.
export type {
  ElasticsearchOptions,
  ElasticsearchReceiver,
  EsBulkRecord,
  EsItemFault,
  EsPartialPlan,
} from './elasticsearch.ts';
export { EsFaults, startElasticsearch } from './elasticsearch.ts';
export type { EsErrorCause } from './es-errors.ts';
export type { StoredDocument } from './es-index-store.ts';
export type { EsFieldType } from './es-mapping.ts';
export type { FailurePlan, SlowPhase } from './faults.ts';
export { FaultSwitches } from './faults.ts';
export type { AckIndexing } from './hec-acks.ts';
export type { OutageMode } from './http-server.ts';
export type { RetryAfter } from './reply.ts';
export type {
  HecPartialPlan,
  HecRequestRecord,
  HecStoredEvent,
  HecTokenSettings,
  SplunkHecOptions,
  SplunkHecReceiver,
} from './splunk-hec.ts';
export { HecFaults, startSplunkHec } from './splunk-hec.ts';
export {
  DEFAULT_TOLERANCE_SECONDS,
  decodeWebhookSecret,
  signStandardWebhook,
  standardWebhookHeaders,
  verifyStandardWebhook,
} from './standard-webhooks.ts';
export { DeadlineExceeded } from './state-watch.ts';
export type { TrafficCounters, TrafficSnapshot } from './traffic.ts';
export type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookReceiver,
  WebhookReceiverOptions,
  WebhookResponse,
} from './webhook.ts';
export { startWebhookReceiver, WebhookFaults } from './webhook.ts';
export type { WebhookRejectionCode } from './webhook-rejections.ts';
export { WebhookRejections } from './webhook-rejections.ts';
