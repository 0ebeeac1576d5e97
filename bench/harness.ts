// Shared benchmark plumbing: options, a throwaway durable stack, progress on stderr, and the single
// machine-readable result line on stdout.
import { type ChildProcess, execFileSync, type StdioOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectClient } from '../ledger/db.ts';
import { migrate } from '../ledger/migrate.ts';
import { IMAGE_ENV, IMAGE_NODE_OPTIONS, ROLE_NODE_FLAGS } from '../ledger/runtime/node-options.ts';
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

/** USER_HZ: /proc's CPU times are in these ticks per second on Linux. */
const CLOCK_TICKS = 100;

/**
 * A role's process as its container runs it: the compiled CLI (built first), the image's Node options
 * and the role's node flags (`nodeArgsOverride`, from a BENCH_*_NODE_ARGS variable, replaces both),
 * the image's environment plus `env`.
 */
export function spawnAsDeployed(
  role: string,
  cliArgs: string[],
  env: Record<string, string>,
  opts: { nodeArgsOverride?: string | undefined; stdio: StdioOptions },
): ChildProcess {
  execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'ignore' });
  const nodeArgs = (
    opts.nodeArgsOverride ?? `${IMAGE_NODE_OPTIONS} ${ROLE_NODE_FLAGS[role]?.join(' ') ?? ''}`
  )
    .split(' ')
    .filter(Boolean);
  return spawn(process.execPath, [...nodeArgs, 'dist/cli/ledgerhub.js', role, ...cliArgs], {
    env: { ...process.env, ...IMAGE_ENV, ...env },
    stdio: opts.stdio,
  });
}

/**
 * Samples a process's peak RSS and CPU time from /proc every 100 ms. The last sample is up to 100 ms
 * before the process ends, so CPU is short by that much at most.
 */
export function watchProcess(pid: number) {
  let peakRssKb = 0;
  let cpuTicks = 0;
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) peakRssKb = Math.max(peakRssKb, Number(hwm[1]));
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpuTicks = Number(stat[11]) + Number(stat[12]);
    } catch {
      // the process has exited
    }
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return { peakRssMb: Math.round(peakRssKb / 1024), cpuSeconds: cpuTicks / CLOCK_TICKS };
    },
  };
}
