// Where a HEC request carries its token: `Authorization: Splunk <token>`, Basic with the token as the
// password (any user), or `?token=` (only for tokens that allow it). Pure; the token lookup is the receiver's.
import { type HecCode, HecCodes } from './hec-replies.ts';

export type HecCredential =
  | { kind: 'token'; token: string; via: 'header' | 'query' }
  | { kind: 'refused'; code: HecCode };

export function readHecCredential(
  authorization: string | undefined,
  queryToken: string | null,
): HecCredential {
  if (authorization !== undefined) {
    // RFC 9110 auth schemes are case-insensitive; Splunk's own matching is [unconfirmed].
    const splunk = /^Splunk +(\S+) *$/i.exec(authorization);
    if (splunk?.[1]) return { kind: 'token', token: splunk[1], via: 'header' };
    const basic = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization);
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon < 0 ? '' : decoded.slice(colon + 1);
      if (password !== '') return { kind: 'token', token: password, via: 'header' };
    }
    return { kind: 'refused', code: HecCodes.invalidAuthorization };
  }
  if (queryToken) return { kind: 'token', token: queryToken, via: 'query' };
  return { kind: 'refused', code: HecCodes.tokenRequired };
}
