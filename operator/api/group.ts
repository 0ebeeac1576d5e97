// The ledgerhub.io API group: version, kinds, plurals and short names, shared by the CRD generator, the
// operator's watches and its writes.

export const GROUP = 'ledgerhub.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface KindNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
}

export const AUDIT_POLICY: KindNames = {
  kind: 'AuditPolicy',
  listKind: 'AuditPolicyList',
  plural: 'auditpolicies',
  singular: 'auditpolicy',
  shortNames: ['lhpolicy', 'lhp'],
  categories: ['ledgerhub'],
};

export const AUDIT_SINK: KindNames = {
  kind: 'AuditSink',
  listKind: 'AuditSinkList',
  plural: 'auditsinks',
  singular: 'auditsink',
  shortNames: ['lhsink', 'lhs'],
  categories: ['ledgerhub'],
};

/** The field manager of every write the operator makes (server-side apply and status). */
export const FIELD_MANAGER = 'ledgerhub-operator';
