// Renders a decision trace for people: Caracal's text sections (decision, policy set, authority,
// determining policies, diagnostics, metadata) plus the timeline, gaps and integrity; or a Mermaid
// sequence diagram of the request's stages.
import type { DecisionTrace } from '../ledger/explain.ts';

export interface TraceWithIntegrity extends DecisionTrace {
  related_request_ids: string[];
  integrity: {
    status: string;
    checked: number;
    hmac_checked: boolean;
    faults: { kind: string; chain_seq: number; zone_id: string; detail: string }[];
  };
}

const json = (v: unknown) => JSON.stringify(v, null, 2).replace(/\n/g, '\n    ');

export function traceText(t: TraceWithIntegrity): string {
  const out: string[] = [];
  out.push(`request ${t.request_id} in ${t.zone_id}: final decision ${t.final_decision.toUpperCase()}`);
  out.push('');
  out.push('timeline:');
  for (const s of t.timeline) {
    out.push(
      `  ${s.occurred_at}  ${s.stage.padEnd(18)} ${s.summary}${s.request_id !== t.request_id ? `  (under ${s.request_id})` : ''}`,
    );
  }
  if (t.gaps.length > 0) {
    out.push('', 'gaps:');
    for (const g of t.gaps) out.push(`  missing ${g.stage} (${g.kind}): ${g.message}`);
  }
  for (const d of t.denied) {
    const e = t.events.find((x) => x.id === d.event_id);
    const m = (d.metadata ?? {}) as Record<string, unknown>;
    out.push('', `event ${d.event_id} ${d.event_type} decision=deny status=${d.evaluation_status}`);
    if (e) {
      out.push(`  occurred_at  ${e.occurred_at}`);
      out.push(
        `  policy_set   ${e.policy_set_id ?? '-'} version=${e.policy_set_version_id ?? '-'} sha=${e.manifest_sha ?? '-'}`,
      );
    }
    out.push(
      `  authority    application=${m.application_id ?? '-'} session=${m.agent_session_id ?? '-'} resource=${m.resource ?? '-'} scopes=${JSON.stringify(m.requested_scopes ?? [])}`,
    );
    out.push(`  determining_policies: ${d.determining_policies.join(', ') || '-'}`);
    out.push(`  diagnostics:\n    ${json(d.diagnostics)}`);
    out.push(`  metadata:\n    ${json(d.metadata)}`);
  }
  out.push('');
  const i = t.integrity;
  out.push(
    i.status === 'failed'
      ? `integrity: FAILED (${i.faults.length} fault(s))`
      : `integrity: ${i.status === 'verified' ? 'verified' : 'hashes and links verified; chain HMACs not checked (the API has no AUDIT_HMAC_KEY)'} over ${i.checked} event(s)`,
  );
  for (const f of i.faults)
    out.push(`  zone=${f.zone_id} chain_seq=${f.chain_seq} kind=${f.kind}: ${f.detail}`);
  return out.join('\n');
}

const PARTICIPANT: Record<string, string> = {
  authorization: 'STS',
  launch: 'STS',
  approval_requested: 'Approver',
  approval_decided: 'Approver',
  approval_consumed: 'STS',
  gateway_result: 'Gateway',
  security: 'Gateway',
  control: 'Control',
  other: 'Ledger',
};

export function traceMermaid(t: TraceWithIntegrity): string {
  const lines = [
    'sequenceDiagram',
    '  participant App',
    '  participant STS',
    '  participant Approver',
    '  participant Gateway',
  ];
  for (const s of t.timeline) {
    const who = PARTICIPANT[s.stage] ?? 'Ledger';
    const arrow = s.decision === 'deny' || s.decision === 'rejected' ? '--x' : '->>';
    lines.push(`  App${arrow}${who}: ${s.summary.replace(/[;#:]/g, ' ')}`);
  }
  for (const g of t.gaps) lines.push(`  Note over App,Gateway: missing ${g.stage} (${g.kind})`);
  lines.push(`  Note over App,Gateway: final decision ${t.final_decision}; integrity ${t.integrity.status}`);
  return lines.join('\n');
}
