// Shared benchmark plumbing: options, a throwaway durable stack, progress on stderr, and the single
// machine-readable result line on stdout.
import { parseArgs } from 'node:util';
import { connectClient } from '../ledger/db.ts';
import { migrate } from '../ledger/migrate.ts';
import { type LocalStack, startLocalStack } from '../test/support/local-services.ts';

export function benchArgs<T extends Record<string, string>>(defaults: T): T {
  const options = Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({ args: process.argv.slice(2), options, strict: true });
  return { ...defaults, ...(values as Partial<T>) };
}

export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** A fresh Redis and Postgres with production durability (fsync on), migrated. */
export async function benchStack(): Promise<LocalStack> {
  const stack = await startLocalStack({
    env: process.env.BENCH_REUSE_SERVICES ? process.env : {},
    durable: true,
  });
  const client = await connectClient({ databaseUrl: stack.databaseUrl });
  await migrate(client);
  await client.end();
  return stack;
}

export function result(name: string, fields: Record<string, string | number>): void {
  const parts = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : v}`,
  );
  process.stdout.write(`${name} ${parts.join(' ')}\n`);
}

export async function pollUntil(probe: () => Promise<boolean>, intervalMs = 50): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, intervalMs));
}
