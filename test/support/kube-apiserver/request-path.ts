// Parses a request path the way the apiserver's RequestInfoFactory does: /api/v1 and /apis/{g}/{v}
// prefixes, the legacy /watch/ segment, namespaces/{ns}/ scoping, resource, name and subresource; and
// derives the Kubernetes verb from the method.
import type { Verb } from './request-log.ts';

export interface ResourcePath {
  kind: 'resource';
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** /watch/ in the path (legacy watch) */
  watchPath: boolean;
}

export interface NonResourcePath {
  kind: 'nonResource';
  path: string;
}

/** Subresources of the namespace object itself (namespaces/{name}/status), not namespaced collections. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestPath(pathname: string): ResourcePath | NonResourcePath | undefined {
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (segments[0] === 'api') {
    group = '';
    version = segments[1];
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    group = segments[1] ?? '';
    version = segments[2];
    rest = segments.slice(3);
  } else {
    return { kind: 'nonResource', path: pathname };
  }
  if (version === undefined || rest.length === 0) return { kind: 'nonResource', path: pathname };
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  const parsed: ResourcePath = { kind: 'resource', group, version, resource: rest[0]!, watchPath };
  if (namespace !== undefined) parsed.namespace = namespace;
  if (rest[1] !== undefined) parsed.name = rest[1];
  if (rest[2] !== undefined) parsed.subresource = rest[2];
  return parsed;
}

export function verbOf(
  method: string,
  path: ResourcePath | NonResourcePath | undefined,
  watchQuery: boolean,
): Verb {
  const named = path?.kind === 'resource' && path.name !== undefined;
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      if (path?.kind === 'resource' && (path.watchPath || watchQuery)) return 'watch';
      return named || path?.kind !== 'resource' ? 'get' : 'list';
  }
}
