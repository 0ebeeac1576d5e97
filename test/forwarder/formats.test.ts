// The three event formats: caracal (as stored), ECS (with the original under `caracal`) and OCSF 6003
// (the same columns as the Parquet export).
import { describe, expect, it } from 'vitest';
import { caracalEvent } from '../../forwarder/formats/caracal.ts';
import { ecsEvent, ecsOutcome } from '../../forwarder/formats/ecs.ts';
import { formatterFor } from '../../forwarder/formats/event-format.ts';
import { ocsfEvent } from '../../forwarder/formats/ocsf.ts';
import { OCSF_COLUMNS } from '../../ledger/parquet-ocsf.ts';
import { ledgerEvents } from './support/ledger-events.ts';

const events = ledgerEvents(200, 3);
const exchange = events.find((e) => e.event_type === 'token_exchange' && e.decision === 'deny')!;

describe('caracal format', () => {
  it('is the stored event with RFC 3339 microsecond timestamps and the ledger columns', () => {
    const out = caracalEvent(exchange);
    expect(out).toMatchObject({
      id: exchange.id,
      zone_id: exchange.zone_id,
      decision: 'deny',
      metadata_json: exchange.metadata_json,
      content_sha256: exchange.content_sha256,
      ledger_seq: exchange.ledger_seq,
    });
    expect(out.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });
});

describe('ECS format', () => {
  it('maps decisions to event.outcome', () => {
    expect(['allow', 'approved', 'consumed'].map(ecsOutcome)).toEqual(['success', 'success', 'success']);
    expect(['deny', 'rejected'].map(ecsOutcome)).toEqual(['failure', 'failure']);
    expect(['pending', 'partial', null].map(ecsOutcome)).toEqual(['unknown', 'unknown', 'unknown']);
  });

  it('fills the ECS fields and keeps the original event under caracal', () => {
    const out = ecsEvent(exchange) as Record<string, Record<string, unknown>>;
    const meta = exchange.metadata_json as { trace_id: string; agent_labels: string[] };
    expect(out['@timestamp']).toBe(caracalEvent(exchange).occurred_at);
    expect(out.event).toMatchObject({
      id: exchange.id,
      action: 'token_exchange',
      outcome: 'failure',
      category: ['authentication', 'iam'],
      kind: 'event',
      sequence: exchange.ledger_seq,
    });
    expect(out.event!.type).toContain('denied');
    expect(out.trace).toEqual({ id: meta.trace_id });
    expect(out.labels).toMatchObject({ zone_id: exchange.zone_id, decision: 'deny' });
    expect(out.tags).toEqual(meta.agent_labels);
    expect(out.caracal).toEqual(caracalEvent(exchange));
  });

  it('gives every event type a category from ECS’s allowed list', () => {
    const allowed = new Set(['api', 'authentication', 'configuration', 'iam', 'intrusion_detection', 'web']);
    for (const e of events) {
      const category = (ecsEvent(e).event as { category: string[] }).category;
      expect(category.every((c) => allowed.has(c))).toBe(true);
    }
  });
});

describe('OCSF format', () => {
  it('is an Authorization Activity (6003) with the export’s columns', () => {
    const out = ocsfEvent(exchange);
    expect(Object.keys(out)).toEqual(OCSF_COLUMNS.map((c) => c.name));
    expect(out).toMatchObject({
      class_uid: 6003,
      severity_id: 2,
      activity_id: 2,
      event_id: exchange.id,
      zone_id: exchange.zone_id,
      ledger_seq: exchange.ledger_seq,
      time: Math.floor(exchange.occurred_at_us / 1000),
    });
    expect(JSON.parse(out.metadata_json as string)).toEqual(exchange.metadata_json);
  });

  it('is chosen by name like the others', () => {
    expect(formatterFor('ocsf')).toBe(ocsfEvent);
    expect(formatterFor('ecs')).toBe(ecsEvent);
    expect(formatterFor('caracal')).toBe(caracalEvent);
  });
});
