// Exit codes and error reporting shared by every command (documented in the README).
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isLedgerhubError } from '../ledger/errors.ts';

export const ExitCode = {
  ok: 0,
  /** The command ran and found a problem (verification failed, request not found, ...). */
  failed: 1,
  usage: 2,
  config: 3,
  unavailable: 4,
  internal: 70,
} as const;

const UNAVAILABLE_CODES = new Set([
  'dependency_missing',
  'store_unavailable',
  'stream_unavailable',
  'unavailable',
]);

export function reportError(err: unknown): number {
  if (isLedgerhubError(err)) {
    console.error(`ledgerhub: ${err.message} [${err.code}]`);
    if (err.code === 'config_invalid') return ExitCode.config;
    if (UNAVAILABLE_CODES.has(err.code)) return ExitCode.unavailable;
    return ExitCode.failed;
  }
  if (err instanceof UsageError) {
    console.error(`ledgerhub: ${err.message}`);
    return ExitCode.usage;
  }
  const code = (err as { code?: string })?.code;
  if (code === 'ECONNREFUSED') {
    console.error(
      `ledgerhub: cannot connect: ${(err as Error).message} (is the stack running? try \`npm start\`)`,
    );
    return ExitCode.unavailable;
  }
  console.error('ledgerhub: unexpected error:', err);
  return ExitCode.internal;
}

export class UsageError extends Error {}

/** parseArgs that turns unknown or malformed options into a UsageError with the command's help. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
  help: string,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
}
