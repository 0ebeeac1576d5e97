// Postgres connections: pools that drop to a least-privilege role on connect, read timestamps as text
// (microseconds matter to the chain), and classify errors as transient or permanent as Caracal does.
import pg from 'pg';

export interface DbOptions {
  databaseUrl: string;
  dbRole?: string;
  dbMaxConns?: number;
  dbConnectTimeoutMs?: number;
  applicationName?: string;
  /** Extra session settings applied at connect (e.g. synchronous_commit: 'off' for bookkeeping). */
  settings?: Record<string, string>;
}

const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMPTZ_OID) return (value: string) => value;
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * Session settings as startup options: timestamps print in UTC, and the role is assumed at connect,
 * so a connection whose role cannot be assumed fails outright instead of silently running with the
 * login's privileges. Role names are checked by the config schema and again here.
 */
function sessionOptions(opts: DbOptions): { options: string } {
  const settings: Record<string, string> = { TimeZone: 'UTC', ...opts.settings };
  if (opts.dbRole) settings.role = opts.dbRole;
  for (const [k, v] of Object.entries(settings)) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/i.test(k) || !/^[\w.:-]{1,64}$/.test(v))
      throw new Error(`invalid session setting ${k}=${v}`);
  }
  return {
    options: Object.entries(settings)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' '),
  };
}

export function createPool(opts: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.dbMaxConns ?? 10,
    connectionTimeoutMillis: opts.dbConnectTimeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'ledgerhub',
    types,
    ...sessionOptions(opts),
  });
  // an idle client losing its connection must not crash the process; the next query reports it
  pool.on('error', () => {});
  return pool;
}

/** A single dedicated client (migrations, LISTEN). */
export async function connectClient(opts: DbOptions): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: opts.databaseUrl,
    connectionTimeoutMillis: opts.dbConnectTimeoutMs ?? 10_000,
    application_name: opts.applicationName ?? 'ledgerhub',
    types,
    ...sessionOptions(opts),
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Errors meaning Postgres cannot be reached at all (not this batch's fault). */
const UNREACHABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '53300',
]);

/**
 * SQLSTATEs Caracal treats as transient (the unreachable ones, serialization failure, deadlock, out of
 * memory), plus lock_not_available and unique_violation (a racing writer; retrying resolves it).
 */
const TRANSIENT_CODES = new Set([...UNREACHABLE_CODES, '40001', '40P01', '53400', '55P03', '23505']);

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Transient: retrying the same work later may succeed. Anything that is not a Postgres error is transient. */
export function isTransientPgError(err: unknown): boolean {
  const code = sqlState(err);
  return code === undefined || TRANSIENT_CODES.has(code);
}

/** Postgres is down or refusing connections, as opposed to failing this particular batch. */
export function isPgUnreachable(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== undefined) return UNREACHABLE_CODES.has(code);
  const msg = err instanceof Error ? err.message : String(err);
  const sysCode = (err as { code?: unknown })?.code;
  return (
    (typeof sysCode === 'string' &&
      /^E(CONNREFUSED|CONNRESET|PIPE|HOSTUNREACH|NETUNREACH|AI_AGAIN|NOTFOUND)$/.test(sysCode)) ||
    /Connection terminated|timeout exceeded when trying to connect|connect ETIMEDOUT|Client has encountered a connection error/i.test(
      msg,
    )
  );
}

/** `<SQLSTATE> <message>` for dead-letter reasons and logs. */
export function describePgError(err: unknown): string {
  const code = sqlState(err);
  const msg = err instanceof Error ? err.message : String(err);
  return code ? `${code} ${msg}` : msg;
}
