// Watch caches under a supervisor: client-node's ListWatch lists, then watches from the list's
// resourceVersion (relisting by itself after 410 Gone and reconnecting after idle timeouts); every other
// error stops it, so the supervisor starts it again with capped exponential back-off.
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from '../../ledger/runtime/log.ts';
import { collectionPath, type KubeObject, type ResourceType } from './resources.ts';
import type { KubeRest } from './rest.ts';

export type ChangeKind = 'add' | 'update' | 'delete';

export interface InformerOptions {
  type: ResourceType;
  /** Unset: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  /** What the cache keeps of each object (drop what reconciles never read: managedFields, ...). */
  keep?: (obj: KubeObject) => KubeObject;
  onChange: (obj: KubeObject, change: ChangeKind) => void;
  onRestart?: (resource: string) => void;
  log: Logger;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export class SupervisedInformer {
  readonly type: ResourceType;
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #options: InformerOptions;
  #synced = false;
  #stopped = false;
  #failures = 0;
  #failedDuringStart = false;
  #timer: NodeJS.Timeout | undefined;
  #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;

  constructor(rest: KubeRest, options: InformerOptions) {
    this.type = options.type;
    this.#options = options;
    const keep = options.keep ?? ((o: KubeObject) => o);
    const listFn = async () => {
      const list = await rest.list(options.type, options.namespace, options.labelSelector);
      return { ...list, items: list.items.map(keep) } as unknown as KubernetesListObject<KubernetesObject>;
    };
    this.#lw = new ListWatch(
      collectionPath(options.type, options.namespace),
      new ProjectingWatch(rest.kubeConfig, keep),
      listFn,
      false,
      options.labelSelector,
    );
    const forward = (change: ChangeKind) => (obj: KubernetesObject) =>
      options.onChange(withType(obj as unknown as KubeObject, options.type), change);
    this.#lw.on('add', forward('add'));
    this.#lw.on('update', forward('update'));
    this.#lw.on('delete', forward('delete'));
    this.#lw.on('error', (err: unknown) => this.#failed(err));
    this.#firstSync = new Promise((resolve) => {
      this.#resolveFirstSync = resolve;
    });
  }

  /** True once a list and watch have succeeded: the cache holds the whole collection. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts the watch; resolves at the first successful sync (retrying in the background until then). */
  start(): Promise<void> {
    void this.#run();
    return this.#firstSync;
  }

  get<T extends KubeObject>(namespace: string, name: string): T | undefined {
    const obj = this.#lw.get(name, namespace) as unknown as KubeObject | undefined;
    return obj ? (withType(obj, this.type) as T) : undefined;
  }

  list<T extends KubeObject>(namespace?: string): T[] {
    return (this.#lw.list(namespace) as unknown as KubeObject[]).map((o) => withType(o, this.type) as T);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#lw.stop();
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    this.#failedDuringStart = false;
    await this.#lw.start();
    if (this.#failedDuringStart || this.#stopped) return;
    this.#failures = 0;
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveFirstSync();
    }
  }

  #failed(err: unknown): void {
    this.#failedDuringStart = true;
    if (this.#stopped) return;
    const base = this.#options.backoffBaseMs ?? BACKOFF_BASE_MS;
    const delay = Math.min(
      this.#options.backoffMaxMs ?? BACKOFF_MAX_MS,
      base * 2 ** Math.min(this.#failures, 16),
    );
    this.#failures++;
    this.#options.onRestart?.(this.type.plural);
    this.#options.log.warn(
      { resource: this.type.plural, err: (err as Error)?.message ?? String(err), retryInMs: delay },
      'watch failed; restarting',
    );
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), delay);
    this.#timer.unref();
  }
}

/** A Watch whose events carry only what the cache keeps. */
class ProjectingWatch extends Watch {
  readonly #keep: (obj: KubeObject) => KubeObject;

  constructor(kc: KubeConfig, keep: (obj: KubeObject) => KubeObject) {
    super(kc);
    this.#keep = keep;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, obj, raw) => {
        const isObject = phase !== 'ERROR' && phase !== 'BOOKMARK' && obj && typeof obj === 'object';
        callback(phase, isObject ? this.#keep(obj as KubeObject) : obj, raw);
      },
      done,
    );
  }
}

/** Watch events carry apiVersion and kind; list items may not. */
function withType(obj: KubeObject, type: ResourceType): KubeObject {
  if (obj.apiVersion === type.apiVersion && obj.kind === type.kind) return obj;
  return { ...obj, apiVersion: type.apiVersion, kind: type.kind };
}
