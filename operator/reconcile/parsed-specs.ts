// Parsed specs by object, kept until the object's generation changes: a reconcile runs for every watch
// event of the objects a policy owns, and parsing (with defaults) on each would be most of its work.
import type { z } from 'zod';
import type { KubeObject } from '../kube/resources.ts';

export class ParsedSpecs<S extends z.ZodType> {
  readonly #schema: S;
  readonly #parsed = new Map<string, { version: string; result: z.ZodSafeParseResult<z.output<S>> }>();

  constructor(schema: S) {
    this.#schema = schema;
  }

  /** The spec of `obj` parsed with the schema (cached by uid and generation). */
  of(obj: KubeObject): z.ZodSafeParseResult<z.output<S>> {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const version = `${obj.metadata.uid ?? ''}:${obj.metadata.generation ?? obj.metadata.resourceVersion ?? ''}`;
    const cached = this.#parsed.get(key);
    if (cached?.version === version) return cached.result;
    const result = this.#schema.safeParse(obj['spec']);
    this.#parsed.set(key, { version, result });
    return result;
  }

  forget(obj: KubeObject): void {
    this.#parsed.delete(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
  }
}
