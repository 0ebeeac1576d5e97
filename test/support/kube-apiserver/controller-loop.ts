// The run loop of the fake's in-process controllers (garbage collector, namespace and CRD lifecycle):
// store events are batched and handled on a later turn of the event loop, so controllers act
// asynchronously after a write, as the real ones do, and never inside the request that caused them.
import type { ObjectStore, StoreEvent } from './store.ts';

export interface ControllerLoop {
  stop(): void;
  /** resolves once no events are waiting (for in-process assertions) */
  idle(): Promise<void>;
  /** whether events are waiting to be handled */
  busy(): boolean;
}

export function startControllerLoop(
  store: ObjectStore,
  handle: (events: StoreEvent[]) => void,
): ControllerLoop {
  let pending: StoreEvent[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let waiters: (() => void)[] = [];
  const run = (): void => {
    scheduled = undefined;
    const batch = pending;
    pending = [];
    handle(batch);
    if (pending.length === 0) {
      const done = waiters;
      waiters = [];
      for (const resolve of done) resolve();
    }
  };
  const unsubscribe = store.subscribe((event) => {
    pending.push(event);
    scheduled ??= setImmediate(run);
  });
  return {
    stop() {
      unsubscribe();
      if (scheduled) clearImmediate(scheduled);
      for (const resolve of waiters) resolve();
      waiters = [];
    },
    busy() {
      return pending.length > 0 || scheduled !== undefined;
    },
    idle() {
      if (pending.length === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
