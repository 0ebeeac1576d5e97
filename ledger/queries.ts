// Read queries over the ledger in Caracal's shapes: the zone audit list (keyset pages ordered by
// occurred_at then id, descending), all events of a request, zones, and the tail after a ledger_seq.
// SQL text is built from fixed fragments; every value is a bound parameter.
import type pg from 'pg';
import { isoFromMicros, microsFromPgTimestamp } from './chain.ts';
import type { ListCursor } from './list-cursor.ts';
import { encodeCursor } from './list-cursor.ts';
import { redactSensitive } from './redact.ts';

/** An audit row as the API returns it: every column except the chain columns; metadata redacted. */
export interface AuditDetail {
  id: string;
  zone_id: string;
  event_type: string;
  request_id: string | null;
  decision: string | null;
  policy_set_id: string | null;
  policy_set_version_id: string | null;
  manifest_sha: string | null;
  evaluation_status: string | null;
  determining_policies_json: unknown;
  diagnostics_json: unknown;
  metadata_json: Record<string, unknown> | null;
  occurred_at: string;
  ingested_at: string;
}

export interface AuditFilter {
  zoneId: string;
  since?: string;
  until?: string;
  requestId?: string;
  decisions?: string[];
  eventTypes?: string[];
  applicationId?: string;
  /** Caracal's naming: `session_id` filters metadata `agent_session_id`. */
  sessionId?: string;
  /** Caracal's naming: `authority_record_id` filters metadata `session_id`. */
  authorityRecordId?: string;
  label?: string;
}

export interface ListQuery extends AuditFilter {
  cursor?: ListCursor;
  limit: number;
}

export const DETAIL_COLUMNS = `id, zone_id, event_type, request_id, decision, policy_set_id, policy_set_version_id,
  manifest_sha, evaluation_status, determining_policies_json, diagnostics_json, metadata_json, occurred_at, ingested_at`;

/** A row as Postgres returns it: the same fields, metadata not yet redacted, timestamps in its text form. */
type DetailRow = AuditDetail;

/** Postgres timestamptz text to RFC 3339 with microseconds. */
export function isoTimestamp(pgText: string): string {
  return isoFromMicros(microsFromPgTimestamp(pgText));
}

export function toDetail(row: DetailRow, extraRedact?: ReadonlySet<string>): AuditDetail {
  return {
    id: row.id,
    zone_id: row.zone_id,
    event_type: row.event_type,
    request_id: row.request_id,
    decision: row.decision,
    policy_set_id: row.policy_set_id,
    policy_set_version_id: row.policy_set_version_id,
    manifest_sha: row.manifest_sha,
    evaluation_status: row.evaluation_status,
    determining_policies_json: row.determining_policies_json,
    diagnostics_json: row.diagnostics_json,
    metadata_json:
      row.metadata_json === null
        ? null
        : (redactSensitive(row.metadata_json, extraRedact) as Record<string, unknown>),
    occurred_at: isoTimestamp(row.occurred_at),
    ingested_at: isoTimestamp(row.ingested_at),
  };
}

/** WHERE conditions and values for a filter; parameters start at $1. */
export function filterConditions(
  f: AuditFilter,
  values: unknown[] = [],
): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const p = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  where.push(`zone_id = ${p(f.zoneId)}`);
  if (f.since) where.push(`occurred_at >= ${p(f.since)}::timestamptz`);
  if (f.until) where.push(`occurred_at < ${p(f.until)}::timestamptz`);
  if (f.requestId) where.push(`request_id = ${p(f.requestId)}`);
  if (f.decisions?.length) where.push(`decision = ANY(${p(f.decisions)}::text[])`);
  if (f.eventTypes?.length) where.push(`event_type = ANY(${p(f.eventTypes)}::text[])`);
  if (f.applicationId) where.push(`metadata_json->>'application_id' = ${p(f.applicationId)}`);
  // the `?` conjuncts let the planner use the partial expression indexes
  if (f.sessionId) {
    where.push(
      `metadata_json ? 'agent_session_id' AND metadata_json->>'agent_session_id' = ${p(f.sessionId)}`,
    );
  }
  if (f.authorityRecordId) {
    where.push(`metadata_json ? 'session_id' AND metadata_json->>'session_id' = ${p(f.authorityRecordId)}`);
  }
  if (f.label) where.push(`metadata_json->'agent_labels' @> ${p(JSON.stringify([f.label]))}::jsonb`);
  return { where, values };
}

export interface ListPage {
  items: AuditDetail[];
  next_cursor: string | null;
}

export async function listEvents(db: pg.Pool | pg.ClientBase, q: ListQuery): Promise<ListPage> {
  const { where, values } = filterConditions(q);
  if (q.cursor) {
    values.push(q.cursor.ts, q.cursor.id);
    where.push(`(occurred_at, id) < ($${values.length - 1}::timestamptz, $${values.length})`);
  }
  values.push(q.limit);
  const { rows } = await db.query<DetailRow>(
    `SELECT ${DETAIL_COLUMNS} FROM audit_events WHERE ${where.join(' AND ')}
     ORDER BY occurred_at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  const items = rows.map((r) => toDetail(r));
  const last = items.at(-1);
  return {
    items,
    next_cursor:
      items.length === q.limit && last ? encodeCursor({ ts: last.occurred_at, id: last.id }) : null,
  };
}

/** All events of one request in a zone, oldest first (Caracal's by-request). */
export async function eventsByRequest(
  db: pg.Pool | pg.ClientBase,
  zoneId: string,
  requestIds: string[],
): Promise<AuditDetail[]> {
  const { rows } = await db.query<DetailRow>(
    `SELECT ${DETAIL_COLUMNS} FROM audit_events WHERE zone_id = $1 AND request_id = ANY($2::text[])
     ORDER BY occurred_at ASC, id ASC LIMIT 10000`,
    [zoneId, requestIds],
  );
  return rows.map((r) => toDetail(r));
}

/** Zones holding a request id (a request normally lives in one zone). */
export async function zonesOfRequest(
  db: pg.Pool | pg.ClientBase,
  requestId: string,
): Promise<{ zone_id: string; events: number }[]> {
  const { rows } = await db.query<{ zone_id: string; events: number }>(
    `SELECT zone_id, count(*)::int AS events FROM audit_events WHERE request_id = $1 GROUP BY zone_id ORDER BY zone_id`,
    [requestId],
  );
  return rows;
}

export interface ZoneSummary {
  zone_id: string;
  events: number;
  last_event_at: string | null;
}

/** Zones the ledger holds, from the chain heads (one row per zone; no scan of the events). */
export async function listZones(db: pg.Pool | pg.ClientBase): Promise<ZoneSummary[]> {
  const { rows } = await db.query<{ zone_id: string; events: number; updated_at: string }>(
    'SELECT zone_id, chain_seq AS events, updated_at FROM audit_chain_heads ORDER BY zone_id',
  );
  return rows.map((r) => ({
    zone_id: r.zone_id,
    events: r.events,
    last_event_at: isoTimestamp(r.updated_at),
  }));
}

export interface TailRow extends AuditDetail {
  ledger_seq: number;
  /** metadata session_id before redaction, for server-side filtering only; never sent to clients. */
  raw_session_id: string | null;
}

/**
 * Events committed after `afterSeq`, in ledger order, at most `limit`. The commit log bounds the
 * occurred_at range, so only the partitions those commits touched are read.
 */
export async function eventsAfter(
  db: pg.Pool | pg.ClientBase,
  afterSeq: number,
  limit: number,
): Promise<TailRow[]> {
  // The two statements see different snapshots: a commit landing in between must not be half-read (its
  // rows outside [lo, hi] would leave a gap), so the second is bounded by the commits the first saw.
  const bounds = await db.query<{ lo: string | null; hi: string | null; last: number | null }>(
    `SELECT min(min_occurred_at) AS lo, max(max_occurred_at) AS hi, max(last_seq) AS last FROM audit_commits
     WHERE last_seq > $1 AND first_seq <= $1 + $2`,
    [afterSeq, limit],
  );
  const { lo, hi, last } = bounds.rows[0] ?? { lo: null, hi: null, last: null };
  if (lo === null || hi === null || last === null) return [];
  const { rows } = await db.query<DetailRow & { ledger_seq: number; raw_session_id: string | null }>(
    `SELECT ${DETAIL_COLUMNS}, ledger_seq, metadata_json->>'session_id' AS raw_session_id FROM audit_events
     WHERE ledger_seq > $1 AND ledger_seq <= least($1 + $2, $5) AND occurred_at >= $3 AND occurred_at <= $4
     ORDER BY ledger_seq`,
    [afterSeq, limit, lo, hi, last],
  );
  return rows.map((r) => ({ ...toDetail(r), ledger_seq: r.ledger_seq, raw_session_id: r.raw_session_id }));
}

/** The ledger head: the last committed ledger_seq. */
export async function ledgerHead(db: pg.Pool | pg.ClientBase): Promise<number> {
  const { rows } = await db.query<{ s: number }>('SELECT last_ledger_seq AS s FROM audit_ledger_state');
  return rows[0]?.s ?? 0;
}

/** Metadata fields the list may project (Caracal's AUDIT_METADATA_FIELDS). */
export const AUDIT_METADATA_FIELDS = [
  'application_id',
  'application_name',
  'resource',
  'requested_scopes',
  'agent_session_id',
  'agent_lifecycle',
  'agent_labels',
  'delegation_edge_id',
  'delegation_hop_count',
  'method',
  'latency_ms',
  'upstream_status',
  'result_class',
  'reason',
  'trace_id',
  'provider_id',
  'connection_id',
  'upstream_host',
  'gateway_status',
  'error_kind',
  'response_bytes',
  'auth_mode',
  'subject_fingerprint',
  'subject',
  'authorized_by',
  'command',
  'subcommand',
  'challenge_id',
  'tier',
  'approver_class',
  'privacy_mode',
  'approver_subject_id',
  'subject_anchor',
  'subject_kind',
  'federated_user_issuer',
] as const;

/** Row fields the list may project. */
export const AUDIT_ROW_FIELDS = [
  'id',
  'occurred_at',
  'event_type',
  'decision',
  'evaluation_status',
  'request_id',
  'ingested_at',
  'policy_set_id',
  'policy_set_version_id',
  'manifest_sha',
  'determining_policies',
] as const;

const PROJECTABLE = new Set<string>([...AUDIT_ROW_FIELDS, ...AUDIT_METADATA_FIELDS]);

export function isProjectableField(name: string): boolean {
  return PROJECTABLE.has(name);
}

/** One item with only the requested fields: row fields from columns, the rest from (redacted) metadata. */
export function projectFields(d: AuditDetail, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const row = d as unknown as Record<string, unknown>;
  for (const f of fields) {
    if (f === 'determining_policies') out[f] = d.determining_policies_json;
    else if ((AUDIT_ROW_FIELDS as readonly string[]).includes(f)) out[f] = row[f] ?? null;
    else out[f] = d.metadata_json?.[f] ?? null;
  }
  return out;
}

/**
 * The newest `limit` events matching a filter among those committed up to `maxSeq`, oldest first:
 * what a live tail shows before it goes live from `maxSeq`.
 */
export async function recentEvents(
  db: pg.Pool | pg.ClientBase,
  f: AuditFilter,
  maxSeq: number,
  limit: number,
): Promise<TailRow[]> {
  const { where, values } = filterConditions(f);
  values.push(maxSeq, limit);
  const { rows } = await db.query<DetailRow & { ledger_seq: number; raw_session_id: string | null }>(
    `SELECT ${DETAIL_COLUMNS}, ledger_seq, metadata_json->>'session_id' AS raw_session_id FROM audit_events
     WHERE ${where.join(' AND ')} AND ledger_seq <= $${values.length - 1}
     ORDER BY occurred_at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  return rows
    .map((r) => ({ ...toDetail(r), ledger_seq: r.ledger_seq, raw_session_id: r.raw_session_id }))
    .sort((a, b) => a.ledger_seq - b.ledger_seq);
}

/** One event by id in a zone (the id registry gives occurred_at, so one partition is read). */
export async function eventById(
  db: pg.Pool | pg.ClientBase,
  zoneId: string,
  eventId: string,
): Promise<AuditDetail | null> {
  const { rows } = await db.query<DetailRow>(
    `SELECT ${DETAIL_COLUMNS.replace(/(^|,\s*)(\w+)/g, '$1e.$2')} FROM audit_event_ids r
     JOIN audit_events e ON e.id = r.id AND e.occurred_at = r.occurred_at
     WHERE r.id = $1 AND e.zone_id = $2`,
    [eventId, zoneId],
  );
  return rows[0] ? toDetail(rows[0]) : null;
}
