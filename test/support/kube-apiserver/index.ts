// Public API of the fake Kubernetes API server used by tests: start one on 127.0.0.1, point
// @kubernetes/client-node or kubectl at it, inspect and seed objects in-process, inject faults, and count
// requests. See README.md in this folder for the semantics it implements and what it leaves out.
import { parseAllDocuments } from 'yaml';
import { ApiErrors } from './api-errors.ts';
import { builtinResourceTypes } from './builtin-kinds.ts';
import { ClusterState } from './cluster-state.ts';
import { CollectionReader } from './collection-reads.ts';
import type { ControllerLoop } from './controller-loop.ts';
import { startCrdLifecycle } from './crd-lifecycle.ts';
import { FaultSwitches } from './faults.ts';
import { startGarbageCollector } from './gc.ts';
import { isObject, type JsonObject, type JsonValue } from './json-value.ts';
import { type KubeConfigOptions, kubeConfigOptions, writeKubeconfig } from './kubeconfig.ts';
import { startNamespaceController } from './namespace-lifecycle.ts';
import { createObject, updateObject, type WriteRequest } from './object-writes.ts';
import { RequestLog } from './request-log.ts';
import { ResourceRegistry, type ResourceType, storageKeyOf } from './resource-types.ts';
import { startHttpFront } from './server.ts';
import { ObjectStore } from './store.ts';
import { WatchHub } from './watch.ts';

export { ApiError } from './api-errors.ts';
export type { InjectedFailure, RequestMatch } from './faults.ts';
export { FaultSwitches } from './faults.ts';
export type { RequestFilter, RequestRecord, Verb } from './request-log.ts';
export { RequestLog } from './request-log.ts';

export interface FakeKubeOptions {
  /** port to listen on (default: a free one) */
  port?: number;
  /** run the garbage collector (ownerReferences cascade, Orphan/Foreground); default true */
  gc?: boolean;
  /** run the namespace controller (a deleted namespace empties and disappears); default true */
  namespaceController?: boolean;
  /** watch events kept per resource for resuming watches; older resourceVersions get 410. Default 1000 */
  watchHistory?: number;
  /** interval of BOOKMARK events on watches that allow them; default 1000 ms */
  bookmarkIntervalMs?: number;
}

export interface FakeKubeApiServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** a kubeconfig file in a temp dir (for kubectl and KubeConfig.loadFromFile) */
  kubeconfigPath: string;
  /** options for new KubeConfig().loadFromOptions(...) */
  kubeConfigOptions(): KubeConfigOptions;
  faults: FaultSwitches;
  requests: RequestLog;
  /** the object as a client would read it (a copy), or undefined */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): unknown | undefined;
  /** objects of a kind, in one namespace or all (copies) */
  list(apiVersion: string, kind: string, namespace?: string): unknown[];
  /** creates the object, or replaces it if it exists, through the admission pipeline (not logged as a request) */
  upsert(object: unknown): unknown;
  /** sets .status (through the status subresource when the kind has one), e.g. Deployment availableReplicas */
  setStatus(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    status: unknown,
  ): unknown;
  /** current resourceVersion of the whole store */
  revision(): string;
  /** number of open watch streams */
  openWatches(): number;
  /** resolves when the in-process controllers (GC, namespace, CRD cleanup) have nothing left to do */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** The namespaces a fresh cluster has. */
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const IN_PROCESS_MANAGER = 'fake-kube-apiserver';

function inProcessRequest(
  type: ResourceType,
  namespace: string | undefined,
  subresource?: 'status',
): WriteRequest {
  return {
    type,
    namespace: type.namespaced ? namespace : undefined,
    subresource,
    dryRun: false,
    fieldManager: IN_PROCESS_MANAGER,
    fieldValidation: 'Strict',
    userAgent: undefined,
    warnings: [],
  };
}

export async function startFakeKubeApiServer(options: FakeKubeOptions = {}): Promise<FakeKubeApiServer> {
  const store = new ObjectStore(options.watchHistory ?? 1000);
  const registry = new ResourceRegistry();
  registry.register(builtinResourceTypes());
  const state = new ClusterState(store, registry, options.gc !== false);
  const controllers: ControllerLoop[] = [startCrdLifecycle(state)];
  if (options.gc !== false) controllers.push(startGarbageCollector(state));
  if (options.namespaceController !== false) controllers.push(startNamespaceController(state));

  const namespaceType = state.namespaceType();
  for (const name of INITIAL_NAMESPACES) {
    createObject(state, inProcessRequest(namespaceType, undefined), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    });
  }

  const reader = new CollectionReader(state);
  const watches = new WatchHub(state, { bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000 });
  const faults = new FaultSwitches({
    dropWatches: (mode) => watches.drop(mode),
    setWatchesStalled: (stalled) => watches.setStalled(stalled),
    expireContinueTokens: () => reader.expireContinueTokens(),
    compactHistory: (resource) => {
      if (resource === undefined) return store.compact();
      for (const type of registry.storageTypes())
        if (type.plural === resource) store.compact(storageKeyOf(type));
    },
  });
  const requests = new RequestLog();
  const front = await startHttpFront({ state, reader, watches, faults }, requests, options.port ?? 0);
  const kubeconfig = writeKubeconfig(front.url);

  const typeOf = (apiVersion: string, kind: string): ResourceType => {
    const type = registry.byKind(apiVersion, kind);
    if (!type) throw new Error(`the fake apiserver does not serve ${kind} in ${apiVersion}`);
    return type;
  };

  const upsert = (object: unknown): unknown => {
    if (!isObject(object as JsonValue)) throw new Error('upsert needs a Kubernetes object');
    const obj = object as JsonObject;
    const type = typeOf(String(obj['apiVersion']), String(obj['kind']));
    const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
    const namespace = type.namespaced ? String(meta['namespace'] ?? 'default') : undefined;
    const existing = state.stored(type, namespace, String(meta['name']));
    if (!existing) return createObject(state, inProcessRequest(type, namespace), obj).object;
    const replacement = {
      ...obj,
      metadata: { ...meta, resourceVersion: (existing['metadata'] as JsonObject)['resourceVersion']! },
    };
    return updateObject(state, inProcessRequest(type, namespace), String(meta['name']), replacement).object;
  };

  return {
    url: front.url,
    kubeconfigPath: kubeconfig.path,
    kubeConfigOptions: () => kubeConfigOptions(front.url),
    faults,
    requests,
    get(apiVersion, kind, namespace, name) {
      const type = typeOf(apiVersion, kind);
      const stored = state.stored(type, namespace, name);
      return stored ? state.present(type, stored) : undefined;
    },
    list(apiVersion, kind, namespace) {
      const type = typeOf(apiVersion, kind);
      return store
        .list(storageKeyOf(type), type.namespaced ? namespace : undefined)
        .map((o) => state.present(type, o));
    },
    upsert,
    setStatus(apiVersion, kind, namespace, name, status) {
      const type = typeOf(apiVersion, kind);
      const stored = state.stored(type, namespace, name);
      if (!stored) throw ApiErrors.notFound({ group: type.group, resource: type.plural }, name);
      const current = state.present(type, stored);
      const request = inProcessRequest(type, namespace, type.statusSubresource ? 'status' : undefined);
      return updateObject(state, request, name, { ...current, status: status as JsonValue }).object;
    },
    revision: () => String(store.revision),
    openWatches: () => watches.openCount,
    async settled() {
      do {
        await Promise.all(controllers.map((c) => c.idle()));
        await new Promise((resolve) => setImmediate(resolve));
      } while (controllers.some((c) => c.busy()));
    },
    async stop() {
      watches.closeAll();
      for (const controller of controllers) controller.stop();
      await front.close();
      kubeconfig.remove();
    },
  };
}

/**
 * Creates or replaces every object of a (multi-document) YAML text in-process, e.g. the CRDs a test
 * needs; returns the stored objects. CRDs are served as soon as this returns.
 */
export function applyManifests(server: FakeKubeApiServer, yamlText: string): unknown[] {
  return parseAllDocuments(yamlText)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc) => server.upsert(doc));
}

/** applyManifests for CRD files (the name the operator tests use). */
export const applyCrdYaml = applyManifests;
