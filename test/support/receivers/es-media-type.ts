// Media types the Elasticsearch REST layer accepts for _bulk bodies and answers with: JSON and NDJSON,
// plain or as the versioned vnd.elasticsearch types the official 8.x clients send.
import { esSimpleError } from './es-errors.ts';
import type { Reply } from './reply.ts';

const BULK_TYPES = new Set([
  'application/json',
  'application/x-ndjson',
  'application/vnd.elasticsearch+json',
  'application/vnd.elasticsearch+x-ndjson',
]);

/** REST API versions this 8.x stand-in can answer (8, and 7 through REST compatibility). */
const COMPATIBLE_VERSIONS = new Set(['7', '8']);

interface MediaType {
  essence: string;
  params: Map<string, string>;
}

function parseMediaType(header: string): MediaType {
  const [essence = '', ...rest] = header.split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params.set(
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
  }
  return { essence: essence.trim().toLowerCase(), params };
}

/**
 * Undefined when a bulk body with this Content-Type is accepted; otherwise ES's 406. Anything but
 * (nd)json is refused, including SMILE/CBOR that real ES would take ([deviation]: the stand-in speaks JSON only).
 */
export function refuseBulkContentType(header: string | undefined): Reply | undefined {
  if (header === undefined || header.trim() === '')
    return esSimpleError(406, 'Content-Type header is missing');
  const media = parseMediaType(header);
  const versioned = media.essence.startsWith('application/vnd.elasticsearch+');
  const compatibleWith = media.params.get('compatible-with');
  const supported =
    BULK_TYPES.has(media.essence) &&
    (!versioned || (compatibleWith !== undefined && COMPATIBLE_VERSIONS.has(compatibleWith)));
  if (!supported) return esSimpleError(406, `Content-Type header [${header}] is not supported`);
  return undefined;
}

/** The content type of JSON answers: versioned when the client asked for a versioned one. */
export function esResponseContentType(accept: string | undefined): string {
  if (accept) {
    const media = parseMediaType(accept);
    const version = media.params.get('compatible-with');
    if (
      media.essence === 'application/vnd.elasticsearch+json' &&
      version &&
      COMPATIBLE_VERSIONS.has(version)
    ) {
      return `application/vnd.elasticsearch+json;compatible-with=${version}`;
    }
  }
  return 'application/json';
}
