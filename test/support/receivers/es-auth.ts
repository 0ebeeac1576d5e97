// Elasticsearch authentication as the security layer answers it: `ApiKey base64(id:key)` or Basic;
// missing or wrong credentials → 401 security_exception with WWW-Authenticate challenges.
import type { CredentialRegistry } from './credentials.ts';
import { securityException } from './es-errors.ts';
import type { Reply } from './reply.ts';

/** Registry keys: `api_key:<id>:<key>` and `basic:<user>:<password>`. */
export type EsCredentialKind = 'api_key' | 'user';

export function apiKeyCredential(idColonKey: string): string {
  return `api_key:${idColonKey}`;
}

export function basicCredential(user: string, password: string): string {
  return `basic:${user}:${password}`;
}

export type EsAuthOutcome = { ok: true; principal: string } | { ok: false; reply: Reply };

export function authenticateEs(
  authorization: string | undefined,
  uri: string,
  credentials: CredentialRegistry<EsCredentialKind>,
): EsAuthOutcome {
  if (!authorization) {
    return {
      ok: false,
      reply: securityException(`missing authentication credentials for REST request [${uri}]`),
    };
  }
  const anonymousRefused =
    'unable to authenticate with provided credentials and anonymous access is not allowed for this request';
  const apiKey = /^ApiKey +([A-Za-z0-9+/=_-]+) *$/i.exec(authorization);
  if (apiKey?.[1]) {
    const decoded = Buffer.from(apiKey[1], 'base64').toString('utf8');
    const id = decoded.split(':', 1)[0] ?? '';
    if (decoded.includes(':') && credentials.lookup(apiKeyCredential(decoded)) === 'api_key') {
      return { ok: true, principal: `api_key:${id}` };
    }
    const known = credentials.accepted().some(([k]) => k.startsWith(apiKeyCredential(`${id}:`)));
    // [unconfirmed] wording of additional_unsuccessful_credentials for the two API-key cases.
    const detail = known ? `invalid credentials for API key [${id}]` : `api key [${id}] does not exist`;
    return {
      ok: false,
      reply: securityException(anonymousRefused, {
        additional_unsuccessful_credentials: `API key: ${detail}`,
      }),
    };
  }
  const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (credentials.lookup(basicCredential(user, password)) === 'user')
      return { ok: true, principal: `user:${user}` };
    return {
      ok: false,
      reply: securityException(`unable to authenticate user [${user}] for REST request [${uri}]`),
    };
  }
  return { ok: false, reply: securityException(anonymousRefused) };
}
