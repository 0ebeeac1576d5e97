// Plain-JSON requests to the API server, authenticated by @kubernetes/client-node's KubeConfig (tokens,
// client certificates, the cluster CA) exactly as its Watch is. The generated typed clients re-serialize
// through models that turn timestamps into Dates and drop fields they do not know; the reconciler
// compares what it applies with what it reads, so it keeps the server's JSON as sent.
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { FIELD_MANAGER } from '../api/group.ts';
import {
  collectionPath,
  type KubeList,
  type KubeObject,
  objectPath,
  type ResourceType,
  resourceOf,
} from './resources.ts';

/** A non-2xx answer, with the Status body's reason and message (never a raw string to parse). */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  readonly body: unknown;

  constructor(statusCode: number, reason: string, message: string, body: unknown) {
    super(message);
    this.name = 'KubeApiError';
    this.statusCode = statusCode;
    this.reason = reason;
    this.body = body;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}

export type Verb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

export interface KubeRestOptions {
  /** Per-request timeout (watches are not made here). */
  timeoutMs?: number;
  /** Called after every request, for metrics. */
  onResponse?: (verb: Verb, resource: string, code: number, seconds: number) => void;
}

const LIST_PAGE = 500;

export class KubeRest {
  readonly #kc: KubeConfig;
  readonly #timeoutMs: number;
  readonly #onResponse: KubeRestOptions['onResponse'];
  /**
   * One connection pool for every request: KubeConfig hands out a new undici Agent with each request
   * context, and an Agent per request keeps its own sockets alive (thousands during a busy minute).
   */
  #dispatcher: unknown;

  constructor(kc: KubeConfig, options: KubeRestOptions = {}) {
    this.#kc = kc;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#onResponse = options.onResponse;
  }

  get kubeConfig(): KubeConfig {
    return this.#kc;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    const dispatcher = this.#dispatcher as { close?: () => Promise<void> } | undefined;
    this.#dispatcher = undefined;
    await dispatcher?.close?.();
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string, name: string): Promise<T> {
    return (await this.#request('get', type, 'GET', objectPath(type, namespace, name))) as T;
  }

  /** Every object of a kind (all pages), with the list's resourceVersion for a watch to start from. */
  async list<T extends KubeObject>(
    type: ResourceType,
    namespace?: string,
    labelSelector?: string,
  ): Promise<KubeList<T>> {
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(LIST_PAGE) });
      if (labelSelector) query.set('labelSelector', labelSelector);
      if (token) query.set('continue', token);
      const page = (await this.#request(
        'list',
        type,
        'GET',
        `${collectionPath(type, namespace)}?${query}`,
      )) as KubeList<T>;
      for (const item of page.items ?? [])
        items.push({ ...item, apiVersion: type.apiVersion, kind: type.kind });
      token = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (token);
    return { metadata: { resourceVersion }, items };
  }

  /** Server-side apply with the operator's field manager, taking over fields others changed. */
  async apply<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const type = resourceOf(obj);
    const path = objectPath(type, obj.metadata.namespace ?? '', obj.metadata.name);
    return (await this.#request('patch', type, 'PATCH', `${path}?${applyQuery()}`, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
    })) as T;
  }

  /** Server-side apply of .status only (the status subresource). */
  async applyStatus<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const type = resourceOf(obj);
    const path = objectPath(type, obj.metadata.namespace ?? '', obj.metadata.name, 'status');
    return (await this.#request('patch', type, 'PATCH', `${path}?${applyQuery()}`, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
    })) as T;
  }

  async create<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const type = resourceOf(obj);
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER });
    return (await this.#request(
      'create',
      type,
      'POST',
      `${collectionPath(type, obj.metadata.namespace)}?${query}`,
      {
        body: obj,
      },
    )) as T;
  }

  /** PUT with the object's resourceVersion: fails with 409 when someone wrote in between. */
  async replace<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const type = resourceOf(obj);
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER });
    const path = objectPath(type, obj.metadata.namespace ?? '', obj.metadata.name);
    return (await this.#request('update', type, 'PUT', `${path}?${query}`, { body: obj })) as T;
  }

  /** Deletes with background propagation; a missing object is not an error. */
  async delete(type: ResourceType, namespace: string, name: string, uid?: string): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(uid ? { preconditions: { uid } } : {}),
    };
    try {
      await this.#request('delete', type, 'DELETE', objectPath(type, namespace, name), { body });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async #request(
    verb: Verb,
    type: ResourceType,
    method: keyof typeof HttpMethod,
    path: string,
    options: { body?: unknown; contentType?: string } = {},
  ): Promise<unknown> {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = `${cluster.server}${path}`;
    const context = new RequestContext(url, HttpMethod[method]);
    await this.#kc.applySecurityAuthentication(context);
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = options.contentType ?? 'application/json';
    }
    this.#dispatcher ??= context.getDispatcher();
    const started = performance.now();
    let code = 0;
    try {
      const response = await fetch(url, {
        method,
        headers,
        body,
        dispatcher: this.#dispatcher as never,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      code = response.status;
      const text = await response.text();
      const json = parseJson(text);
      if (code < 200 || code > 299) throw apiError(code, json, text, `${method} ${path}`);
      return json;
    } finally {
      this.#onResponse?.(verb, type.plural, code, (performance.now() - started) / 1000);
    }
  }
}

function applyQuery(): URLSearchParams {
  return new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true' });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function apiError(code: number, json: unknown, text: string, what: string): KubeApiError {
  const status = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const reason = typeof status['reason'] === 'string' ? status['reason'] : `Http${code}`;
  const message =
    typeof status['message'] === 'string' ? status['message'] : `${what}: HTTP ${code} ${text.slice(0, 200)}`;
  return new KubeApiError(code, reason, message, json);
}
