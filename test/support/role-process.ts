// A role run the way production runs it: `node cli/ledgerhub.ts <role>` as a child process, with its
// JSON log lines parsed, so tests can wait on "started", kill it mid-flight, or stop it with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface RoleProcess {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): void;
}

export function startRole(role: string, env: Record<string, string>, args: string[] = []): RoleProcess {
  const child = spawn(process.execPath, ['cli/ledgerhub.ts', role, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    logs,
    stderr,
    exited,
    waitForLog: (msg, timeoutMs = 30_000) =>
      waitFor(
        `log "${msg}" from ${role}`,
        () => logs.find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg)))),
        timeoutMs,
      ),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}
