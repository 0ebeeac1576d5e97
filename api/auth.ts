// API authentication: bearer tokens configured only as SHA-256 hashes with scopes; every presented
// token is compared against every configured hash in constant time, so timing reveals nothing.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Errors, LedgerhubError } from '../ledger/errors.ts';
import { bearerToken, digestEquals, sha256Hex } from '../ledger/runtime/bearer.ts';

export const SCOPES = ['audit:read', 'audit:admin'] as const;
export type Scope = (typeof SCOPES)[number];

const TokenEntry = z.object({
  name: z.string().regex(/^[\w.-]{1,64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  scopes: z.array(z.enum(SCOPES)).min(1),
});
export type TokenEntry = z.infer<typeof TokenEntry>;

/** Parses LEDGERHUB_API_TOKENS; the error names the entry but never echoes hashes. */
export function parseTokens(json: string): TokenEntry[] {
  if (json.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new LedgerhubError(Errors.configInvalid, 'api: LEDGERHUB_API_TOKENS is not valid JSON', {
      key: 'LEDGERHUB_API_TOKENS',
    });
  }
  const parsed = z.array(TokenEntry).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LedgerhubError(
      Errors.configInvalid,
      `api: LEDGERHUB_API_TOKENS entry ${issue.path.join('.')}: ${issue.message} (expected {"name","sha256" (64 hex),"scopes":["audit:read"|"audit:admin"]})`,
      { key: 'LEDGERHUB_API_TOKENS' },
    );
  }
  return parsed.data;
}

/** A new token and the configuration entry that admits it (the token itself is never stored). */
export function newToken(name: string, scopes: Scope[]): { token: string; entry: TokenEntry } {
  const token = `lh_${randomBytes(32).toString('base64url')}`;
  return { token, entry: { name, sha256: sha256Hex(token), scopes } };
}

export interface Principal {
  name: string;
  scopes: Scope[];
}

/** The token's principal, or throws 401; `admin` includes `read`. */
export function authenticate(tokens: TokenEntry[], authorization: string | undefined): Principal {
  const token = bearerToken(authorization);
  if (token === undefined) {
    throw new LedgerhubError(Errors.unauthorized, 'a bearer token is required');
  }
  const digest = sha256Hex(token);
  let match: TokenEntry | undefined;
  for (const t of tokens) {
    // no early exit: every configured hash is compared
    if (digestEquals(digest, t.sha256) && match === undefined) match = t;
  }
  if (!match) throw new LedgerhubError(Errors.unauthorized, 'the bearer token is not valid');
  return { name: match.name, scopes: match.scopes };
}

export function requireScope(p: Principal, scope: Scope): void {
  if (p.scopes.includes(scope) || (scope === 'audit:read' && p.scopes.includes('audit:admin'))) return;
  throw new LedgerhubError(Errors.forbidden, `the token "${p.name}" lacks the scope ${scope}`);
}
