// Watch streams: newline-delimited {"type","object"} events starting strictly after the requested
// resourceVersion (or synthetic ADDED events for "now"/"0"), filtered by namespace and selectors (objects
// leaving a selector are DELETED, entering are ADDED), optional BOOKMARKs, timeoutSeconds, 410 Expired for
// a version older than the kept history, and the fault hooks (drop, stall, forced expiry).
import type { ServerResponse } from 'node:http';
import { ApiErrors } from './api-errors.ts';
import type { ClusterState } from './cluster-state.ts';
import { type Selection, selects } from './collection-reads.ts';
import type { ExpiryMode, WatchDropMode } from './faults.ts';
import type { JsonObject, JsonValue } from './json-value.ts';
import { apiVersionOf, type ResourceType, storageKeyOf } from './resource-types.ts';
import type { StoreEvent } from './store.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  selection: Selection;
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  timeoutSeconds: number | undefined;
  sendInitialEvents: boolean;
  /** how an object is sent (plain object at the requested version, or a Table) */
  render(obj: JsonObject): JsonValue;
  /** a forced expiry from the fault switches, if any */
  forcedExpiry: ExpiryMode | undefined;
}

export interface WatchHubOptions {
  /** how often a watch that allows bookmarks gets one */
  bookmarkIntervalMs: number;
}

/** A bookmark is also sent this long before a watch's timeout ends it, as the apiserver's cacher does. */
const BOOKMARK_BEFORE_TIMEOUT_MS = 2000;

class WatchStream {
  readonly #res: ServerResponse;
  readonly #request: WatchRequest;
  readonly #hub: WatchHub;
  #stalled: boolean;
  #timedOut = false;
  #closed = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void) | undefined;

  constructor(hub: WatchHub, res: ServerResponse, request: WatchRequest, stalled: boolean) {
    this.#hub = hub;
    this.#res = res;
    this.#request = request;
    this.#stalled = stalled;
  }

  start(state: ClusterState, options: WatchHubOptions): void {
    const { type } = this.#request;
    this.#res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    this.#res.flushHeaders();
    this.#res.on('close', () => this.close());
    if (this.#request.forcedExpiry === 'event') {
      this.#expire(
        `too old resource version: ${this.#request.resourceVersion ?? 0} (${state.store.revision})`,
      );
      return;
    }
    const key = storageKeyOf(type);
    const rv = this.#request.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      for (const obj of state.store.list(key, type.namespaced ? this.#request.namespace : undefined)) {
        if (selects(this.#request.selection, obj)) this.#send('ADDED', obj);
      }
      if (this.#request.sendInitialEvents && this.#request.allowBookmarks) {
        this.#bookmark(state.store.revision, { 'k8s.io/initial-events-end': 'true' });
      }
    } else {
      const replay = state.store.eventsAfter(Number(rv), key);
      if (replay === 'expired') {
        this.#expire(`too old resource version: ${rv} (${state.store.revision})`);
        return;
      }
      for (const event of replay) this.#deliver(event);
    }
    this.#unsubscribe = state.store.subscribe((event) => {
      if (event.storageKey === key) this.#deliver(event);
    });
    if (this.#request.allowBookmarks) {
      const interval = setInterval(() => this.#bookmark(state.store.revision), options.bookmarkIntervalMs);
      this.#timers.push(interval);
    }
    const timeout = this.#request.timeoutSeconds;
    if (timeout !== undefined && timeout > 0) {
      const ms = timeout * 1000;
      if (this.#request.allowBookmarks && ms > BOOKMARK_BEFORE_TIMEOUT_MS) {
        this.#timers.push(
          setTimeout(() => this.#bookmark(state.store.revision), ms - BOOKMARK_BEFORE_TIMEOUT_MS),
        );
      }
      this.#timers.push(
        setTimeout(() => {
          this.#timedOut = true;
          if (!this.#stalled) this.end();
        }, ms),
      );
    }
  }

  setStalled(stalled: boolean): void {
    this.#stalled = stalled;
    if (!stalled && this.#timedOut) this.end();
  }

  #deliver(event: StoreEvent): void {
    const { namespace, type, selection } = this.#request;
    if (type.namespaced && namespace !== undefined) {
      if ((event.object['metadata'] as JsonObject)['namespace'] !== namespace) return;
    }
    const now = selects(selection, event.object);
    if (event.type === 'MODIFIED') {
      const before = event.previous !== undefined && selects(selection, event.previous);
      if (now && before) this.#send('MODIFIED', event.object);
      else if (now) this.#send('ADDED', event.object);
      else if (before) this.#send('DELETED', event.object);
      return;
    }
    if (now) this.#send(event.type, event.object);
  }

  #send(type: WatchEventType, obj: JsonObject): void {
    this.#write({ type, object: this.#request.render(obj) });
  }

  #bookmark(revision: number, annotations?: Record<string, string>): void {
    const { type } = this.#request;
    const metadata: JsonObject = { resourceVersion: String(revision) };
    if (annotations) metadata['annotations'] = annotations;
    this.#write({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: apiVersionOf(type), metadata } });
  }

  #expire(message: string): void {
    this.#write({ type: 'ERROR', object: ApiErrors.expired(message).toStatus() });
    this.end();
  }

  #write(event: { type: WatchEventType; object: JsonValue }): void {
    if (this.#closed || this.#stalled) return;
    this.#res.write(`${JSON.stringify(event)}\n`);
  }

  end(): void {
    if (this.#closed) return;
    this.#res.end();
    this.close();
  }

  reset(): void {
    if (this.#closed) return;
    this.#res.socket?.destroy();
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#unsubscribe?.();
    this.#hub.forget(this);
  }
}

export class WatchHub {
  readonly #state: ClusterState;
  readonly #options: WatchHubOptions;
  readonly #streams = new Set<WatchStream>();
  #stalled = false;

  constructor(state: ClusterState, options: WatchHubOptions) {
    this.#state = state;
    this.#options = options;
  }

  /** Opens a watch on an HTTP response; throws ApiError (before any byte is written) for HTTP-level refusals. */
  open(res: ServerResponse, request: WatchRequest): void {
    if (request.forcedExpiry === 'http') {
      throw ApiErrors.expired(
        `too old resource version: ${request.resourceVersion ?? 0} (${this.#state.store.revision})`,
      );
    }
    const rv = request.resourceVersion;
    if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) {
      throw ApiErrors.badRequest(`resourceVersion: Invalid value: "${rv}": must be a valid resource version`);
    }
    const stream = new WatchStream(this, res, request, this.#stalled);
    this.#streams.add(stream);
    stream.start(this.#state, this.#options);
  }

  forget(stream: WatchStream): void {
    this.#streams.delete(stream);
  }

  get openCount(): number {
    return this.#streams.size;
  }

  drop(mode: WatchDropMode): number {
    const streams = [...this.#streams];
    for (const stream of streams) {
      if (mode === 'reset') stream.reset();
      else stream.end();
    }
    return streams.length;
  }

  setStalled(stalled: boolean): void {
    this.#stalled = stalled;
    for (const stream of [...this.#streams]) stream.setStalled(stalled);
  }

  closeAll(): void {
    this.drop('close');
  }
}
