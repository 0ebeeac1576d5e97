// The forwarder's runtime list of sinks: a JSON file (LEDGERHUB_SINKS_FILE) of `{sinks: [{name, spec,
// route}]}`, where `spec` is an AuditSink spec and `route` the policy's route to it. The operator renders
// it into a ConfigMap; Secrets stay out of it and are mounted (see secret-source.ts).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Errors, LedgerhubError } from '../errors.ts';
import { AuditSinkSpec, SinkName, SinkRoute } from './spec.ts';

export const MAX_SINKS = 64;

export const ForwarderSinkEntry = z.object({
  name: SinkName,
  spec: AuditSinkSpec,
  route: SinkRoute.default({ eventTypes: [], decisions: [], zones: [], redactKeys: [] }),
});
export type ForwarderSinkEntry = z.infer<typeof ForwarderSinkEntry>;
export type ForwarderSinkEntryInput = z.input<typeof ForwarderSinkEntry>;

export const ForwarderSinksFile = z
  .object({ sinks: z.array(ForwarderSinkEntry).max(MAX_SINKS) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.sinks.forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sinks', i, 'name'],
          message: `duplicate sink name ${s.name}`,
        });
      }
      seen.add(s.name);
    });
  });
export type ForwarderSinksFile = z.infer<typeof ForwarderSinksFile>;

/** Parses and validates sinks-file text; the error names the file, the JSON path and the problem. */
export function parseSinksFile(text: string, source: string): ForwarderSinkEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(source, `not JSON: ${(err as Error).message}`);
  }
  const parsed = ForwarderSinksFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(root)';
    throw invalid(source, `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.sinks;
}

/** Reads the sinks file; an empty path means no sinks. */
export function loadSinksFile(path: string): ForwarderSinkEntry[] {
  if (path === '') return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(path, `cannot be read: ${(err as Error).message}`);
  }
  return parseSinksFile(text, path);
}

function invalid(source: string, why: string): LedgerhubError {
  return new LedgerhubError(Errors.configInvalid, `LEDGERHUB_SINKS_FILE=${source}: ${why}`, {
    key: 'LEDGERHUB_SINKS_FILE',
  });
}
