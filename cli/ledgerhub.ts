#!/usr/bin/env node
// The `ledgerhub` entry point: finds the command, runs it, maps errors to documented exit codes.
// It wires roles together and holds no logic of its own.
import { ExitCode, reportError } from './exit.ts';

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  dev: () => import('./commands/dev.ts'),
  worker: () => import('./commands/worker.ts'),
  forwarder: () => import('./commands/forwarder.ts'),
  sinks: () => import('./commands/sinks.ts'),
  operator: () => import('./commands/operator.ts'),
  api: () => import('./commands/api.ts'),
  audit: () => import('./commands/audit.ts'),
  explain: () => import('./commands/explain.ts'),
  dlq: () => import('./commands/dlq.ts'),
  token: () => import('./commands/token.ts'),
  migrate: () => import('./commands/migrate.ts'),
  emit: () => import('./commands/emit.ts'),
  verify: () => import('./commands/verify.ts'),
  retention: () => import('./commands/retention.ts'),
  export: () => import('./commands/export.ts'),
  'verify-export': () => import('./commands/verify-export.ts'),
  sweep: () => import('./commands/sweep.ts'),
};

async function usage(): Promise<string> {
  const lines = ['usage: ledgerhub <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) {
    const c = await load();
    lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  }
  lines.push(
    '',
    'Run `ledgerhub <command> --help` for a command’s options. Configuration: docs/configuration.md',
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  const load = commands[name];
  if (!load) {
    console.error(`ledgerhub: unknown command "${name}"\n\n${await usage()}`);
    return ExitCode.usage;
  }
  const command = await load();
  return command.run(rest);
}

/** A command is done when main settles: a client left connected (after an error) must not keep it alive. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}

main(process.argv.slice(2)).then(finish, (err: unknown) => finish(reportError(err)));
