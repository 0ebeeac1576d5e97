// Which policy runs a ledger when several claim it: a ledger is a Postgres database (host, port, name),
// whatever Secret or credentials point at it; the oldest policy holds it, the others are in Conflict.

export interface LedgerClaim {
  /** `namespace/name` of the policy. */
  policy: string;
  creationTimestamp: string;
  /** ledgerIdentity() of its database URL; undefined when it cannot be resolved. */
  ledger: string | undefined;
}

/** `host:port/database`, lower-cased host, default port 5432; undefined for an unparseable URL. */
export function ledgerIdentity(databaseUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return undefined;
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username);
  const host = url.hostname.toLowerCase() || url.searchParams.get('host') || 'localhost';
  return `${host}:${url.port || '5432'}/${database}`;
}

/** The claim that holds `ledger`: the oldest, then by namespace/name. */
export function ledgerHolder(claims: readonly LedgerClaim[], ledger: string): LedgerClaim | undefined {
  let holder: LedgerClaim | undefined;
  for (const c of claims) {
    if (c.ledger !== ledger) continue;
    if (
      !holder ||
      c.creationTimestamp < holder.creationTimestamp ||
      (c.creationTimestamp === holder.creationTimestamp && c.policy < holder.policy)
    ) {
      holder = c;
    }
  }
  return holder;
}
