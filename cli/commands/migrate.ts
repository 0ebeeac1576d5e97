// `ledgerhub migrate`: applies schema migrations and creates the partitions ahead of today.
import { loadConfig } from '../../ledger/config/keys.ts';
import { migrateKeys } from '../../ledger/config/roles.ts';
import { connectClient } from '../../ledger/db.ts';
import { migrate } from '../../ledger/migrate.ts';
import { parseOptions } from '../exit.ts';

export const summary = 'apply database migrations (idempotent; safe to run concurrently)';

const help = `usage: ledgerhub migrate [--partition-days N]

Applies pending migrations from ledger/migrations under an advisory lock, then makes sure daily
partitions exist from yesterday to N days ahead (default 7). Needs DATABASE_URL with DDL rights.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    { help: { type: 'boolean', short: 'h' }, 'partition-days': { type: 'string', default: '7' } },
    help,
  );
  if (values.help) {
    console.log(help);
    return 0;
  }
  const config = loadConfig('migrate', migrateKeys);
  const client = await connectClient({
    databaseUrl: config.databaseUrl,
    applicationName: 'ledgerhub-migrate',
  });
  try {
    const result = await migrate(client, undefined, (name) => console.log(`applied ${name}`));
    const days = Number(values['partition-days']);
    const { rows } = await client.query<{ created: number }>(
      "SELECT ledgerhub_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, $1) AS created",
      [days + 2],
    );
    console.log(
      `migrations: ${result.applied.length} applied, ${result.alreadyApplied} already applied; partitions created: ${rows[0]?.created ?? 0}`,
    );
    return 0;
  } finally {
    await client.end();
  }
}
