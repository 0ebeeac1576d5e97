// Prometheus metrics of the maintenance roles, under Caracal's names where Caracal has one
// (caracal_audit_tamper_*, caracal_audit_retention_*, caracal_audit_export_*), ledgerhub_* otherwise.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChainFault } from './chain-verifier.ts';

export interface MaintenanceMetrics {
  registry: Registry;
  tamperChecked: Counter;
  tamperMismatch: Counter;
  tamperChainBreaks: Counter;
  tamperHmacFailures: Counter;
  tamperLastSweep: Gauge;
  tamperLastFull: Gauge;
  integrityFaults: Gauge<'kind'>;
  checkpoints: Counter;
  checkpointLast: Gauge;
  retentionCreated: Counter;
  retentionDropped: Counter;
  retentionTombstonedEvents: Counter;
  retentionLastRun: Gauge;
  exportEvents: Counter;
  exportErrors: Counter;
  exportDuration: Histogram;
  exportBacklogHours: Gauge;
  exportObjects: Counter<'format'>;
  exportEncodeDuration: Histogram;
  exportUnitsInFlight: Gauge;
}

export function createMaintenanceMetrics(registry = new Registry()): MaintenanceMetrics {
  const registers = [registry];
  return {
    registry,
    tamperChecked: new Counter({
      name: 'caracal_audit_tamper_checked_total',
      help: 'Rows re-verified by the tamper sweep.',
      registers,
    }),
    tamperMismatch: new Counter({
      name: 'caracal_audit_tamper_mismatch_total',
      help: 'Rows whose recomputed content hash differs from the stored one.',
      registers,
    }),
    tamperChainBreaks: new Counter({
      name: 'caracal_audit_tamper_chain_breaks_total',
      help: 'Broken links: rows missing, inserted, reordered or cut off, not explained by a tombstone.',
      registers,
    }),
    tamperHmacFailures: new Counter({
      name: 'caracal_audit_tamper_hmac_failures_total',
      help: 'Rows whose chain HMAC does not verify under AUDIT_HMAC_KEY.',
      registers,
    }),
    tamperLastSweep: new Gauge({
      name: 'caracal_audit_tamper_last_sweep_unix',
      help: 'When the last sweep (full or rolling) finished.',
      registers,
    }),
    tamperLastFull: new Gauge({
      name: 'caracal_audit_tamper_last_full_unix',
      help: 'When the last full sweep finished.',
      registers,
    }),
    integrityFaults: new Gauge({
      name: 'ledgerhub_integrity_faults',
      help: 'Faults found by the last sweep, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    checkpoints: new Counter({
      name: 'ledgerhub_checkpoints_total',
      help: 'Signed checkpoints written.',
      registers,
    }),
    checkpointLast: new Gauge({
      name: 'ledgerhub_checkpoint_last_unix',
      help: 'When the last checkpoint was written.',
      registers,
    }),
    retentionCreated: new Counter({
      name: 'caracal_audit_retention_created_total',
      help: 'Daily partitions created ahead by retention.',
      registers,
    }),
    retentionDropped: new Counter({
      name: 'caracal_audit_retention_dropped_total',
      help: 'Daily partitions dropped by retention (each with a signed tombstone).',
      registers,
    }),
    retentionTombstonedEvents: new Counter({
      name: 'ledgerhub_retention_events_dropped_total',
      help: 'Events removed with dropped partitions.',
      registers,
    }),
    retentionLastRun: new Gauge({
      name: 'ledgerhub_retention_last_run_unix',
      help: 'When retention last completed.',
      registers,
    }),
    exportEvents: new Counter({
      name: 'caracal_audit_export_events_total',
      help: 'Events exported.',
      registers,
    }),
    exportErrors: new Counter({
      name: 'caracal_audit_export_errors_total',
      help: 'Failed export hours.',
      registers,
    }),
    exportDuration: new Histogram({
      name: 'caracal_audit_export_duration_seconds',
      help: 'Time to export one hour (all formats).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    exportBacklogHours: new Gauge({
      name: 'caracal_audit_export_backlog_hours',
      help: 'Completed hours not yet exported.',
      registers,
    }),
    exportObjects: new Counter({
      name: 'ledgerhub_export_objects_total',
      help: 'Export objects written, by format.',
      labelNames: ['format'],
      registers,
    }),
    exportEncodeDuration: new Histogram({
      name: 'ledgerhub_export_encode_seconds',
      help: 'Time from handing a unit to the encoding threads to its objects coming back (queue included).',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    exportUnitsInFlight: new Gauge({
      name: 'ledgerhub_export_units_in_flight',
      help: 'Export units being encoded or written (bounded at 4).',
      registers,
    }),
  };
}

const KINDS = [
  'content_mismatch',
  'chain_break',
  'hmac_mismatch',
  'tail_truncated',
  'checkpoint_mismatch',
  'checkpoint_invalid',
  'tombstone_invalid',
  'producer_gap',
] as const;

/** Counts one sweep's results into the tamper metrics. */
export function recordSweep(
  m: MaintenanceMetrics,
  checked: number,
  faults: ChainFault[],
  full: boolean,
): void {
  const byKind = new Map<string, number>(KINDS.map((k) => [k, 0]));
  for (const f of faults) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
  m.tamperChecked.inc(checked);
  m.tamperMismatch.inc(byKind.get('content_mismatch')!);
  m.tamperChainBreaks.inc(
    byKind.get('chain_break')! + byKind.get('tail_truncated')! + byKind.get('checkpoint_mismatch')!,
  );
  m.tamperHmacFailures.inc(byKind.get('hmac_mismatch')!);
  for (const [kind, n] of byKind) m.integrityFaults.set({ kind }, n);
  const now = Date.now() / 1000;
  m.tamperLastSweep.set(now);
  if (full) m.tamperLastFull.set(now);
}
