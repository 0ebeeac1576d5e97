// The documents behind the Elasticsearch stand-in and the execution of one bulk item against them
// (versions, seq_no, conflicts, data-stream and index-name rules, mappings), answered as an ES 8.x item.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { BulkAction, BulkOp } from './es-bulk-parser.ts';
import { type EsErrorCause, illegalArgument } from './es-errors.ts';
import { type EsFieldType, IndexMapping } from './es-mapping.ts';

export const DEFAULT_MAX_STORED_DOCUMENTS = 100_000;
/** cluster.max_shards_per_node (1000) on one node, with ES's default 1 primary + 1 replica per index. */
export const DEFAULT_MAX_INDICES = 500;
const PRIMARY_TERM = 1;
/** One primary, one unassigned replica: what a single-node cluster reports. */
const SHARDS = { total: 2, successful: 1, failed: 0 };

export interface StoredDocument {
  /** The concrete index (a data stream's backing index for data-stream writes). */
  index: string;
  /** The data stream written to, when there was one. */
  dataStream: string | undefined;
  id: string;
  source: Record<string, unknown>;
  version: number;
  seqNo: number;
  primaryTerm: number;
}

export interface BulkItemBody {
  _index: string;
  _id: string | null;
  status: number;
  result?: 'created' | 'updated' | 'deleted' | 'not_found' | 'noop';
  _version?: number;
  _shards?: typeof SHARDS | { total: 0; successful: 0; failed: 0 };
  _seq_no?: number;
  _primary_term?: number;
  error?: EsErrorCause;
}

export interface BulkItem {
  op: BulkOp;
  body: BulkItemBody;
}

export interface EsStoreOptions {
  /** Names or `*` patterns of indices that are data streams (as if an index template said so). */
  dataStreams: readonly string[];
  /** Index name or pattern → field path → type, checked before dynamic mapping. */
  mappings: Readonly<Record<string, Record<string, EsFieldType>>>;
  dynamicMapping: boolean;
  maxDocuments: number;
  /** Indices (and backing indices) that may exist; creating one more fails its items. */
  maxIndices: number;
}

interface IndexState {
  name: string;
  uuid: string;
  dataStream: string | undefined;
  docs: Map<string, StoredDocument>;
  nextSeqNo: number;
  mapping: IndexMapping;
}

export class EsIndexStore {
  readonly #options: EsStoreOptions;
  readonly #indices = new Map<string, IndexState>();
  /** `${index}\0${id}` in insertion order, for evicting the oldest documents past the cap. */
  readonly #order = new Map<string, IndexState>();
  readonly #backingDate = formatBackingDate(new Date());
  dropped = 0;

  constructor(options: EsStoreOptions) {
    this.#options = options;
  }

  isDataStream(name: string): boolean {
    return !name.startsWith('.') && this.#options.dataStreams.some((p) => globMatches(p, name));
  }

  /** `.ds-<name>-<yyyy.MM.dd>-000001`: the generation-1 backing index of a data stream. */
  backingIndex(dataStream: string): string {
    return `.ds-${dataStream}-${this.#backingDate}-000001`;
  }

  execute(action: BulkAction): BulkItem {
    const op = action.opType;
    const target = action.index as string;
    const fail = (status: number, cause: EsErrorCause, index = target, id = action.id ?? null): BulkItem => ({
      op,
      body: { _index: index, _id: id, status, error: cause },
    });

    const badName = invalidIndexName(target);
    if (badName) {
      return fail(400, {
        type: 'invalid_index_name_exception',
        reason: badName,
        index_uuid: '_na_',
        index: target,
      });
    }
    const dataStream = this.isDataStream(target) ? target : undefined;
    if (dataStream && op !== 'create') {
      return fail(
        400,
        illegalArgument('only write ops with an op_type of create are allowed in data streams'),
      );
    }
    if (action.requireAlias) {
      return fail(404, {
        type: 'index_not_found_exception',
        reason: `no such index [${target}] and [require_alias] request flag is [true] and [${target}] is not an alias`,
        index_uuid: '_na_',
        index: target,
      });
    }
    if (action.requireDataStream && !dataStream) {
      // [unconfirmed] wording and status for require_data_stream against a plain index.
      return fail(404, {
        type: 'index_not_found_exception',
        reason: `no such index [${target}] and [require_data_stream] request flag is [true] and [${target}] is not a data stream`,
        index_uuid: '_na_',
        index: target,
      });
    }
    if (action.id === '') return fail(400, illegalArgument('if _id is specified it must not be empty'));

    const concrete = dataStream ? this.backingIndex(dataStream) : target;
    if (op === 'delete') {
      const state = this.#indices.get(concrete);
      if (state === undefined) {
        return fail(404, {
          type: 'index_not_found_exception',
          reason: `no such index [${target}]`,
          index_uuid: '_na_',
          index: target,
        });
      }
      return this.#delete(state, action);
    }
    const state = this.#indexState(concrete, dataStream);
    if ('type' in state) return fail(400, state);
    if (op === 'update') return this.#update(state, action);
    return this.#index(state, action, dataStream);
  }

  /** An item refused before execution (validation in item mode, injected faults). */
  refuse(action: BulkAction, status: number, cause: EsErrorCause): BulkItem {
    return {
      op: action.opType,
      body: { _index: action.index ?? '_na_', _id: action.id ?? null, status, error: cause },
    };
  }

  document(index: string, id: string): StoredDocument | undefined {
    return this.#resolve(index)?.docs.get(id);
  }

  /** Documents of an index or data stream, oldest first. */
  documents(index: string): StoredDocument[] {
    return [...(this.#resolve(index)?.docs.values() ?? [])];
  }

  indexNames(): string[] {
    return [...this.#indices.keys()];
  }

  /** The mapping an index (or data stream) has grown so far. */
  mapping(index: string): Record<string, EsFieldType> | undefined {
    return this.#resolve(index)?.mapping.fields();
  }

  deleteIndex(name: string): boolean {
    const state = this.#resolve(name);
    if (state === undefined) return false;
    for (const id of state.docs.keys()) this.#order.delete(`${state.name}\0${id}`);
    this.#indices.delete(state.name);
    return true;
  }

  clear(): void {
    this.#indices.clear();
    this.#order.clear();
    this.dropped = 0;
  }

  #resolve(name: string): IndexState | undefined {
    return (
      this.#indices.get(name) ??
      (this.isDataStream(name) ? this.#indices.get(this.backingIndex(name)) : undefined)
    );
  }

  #indexState(name: string, dataStream: string | undefined): IndexState | EsErrorCause {
    let state = this.#indices.get(name);
    if (state === undefined) {
      const open = this.#indices.size * 2;
      if (this.#indices.size >= this.#options.maxIndices) {
        // [unconfirmed] wording of the shard-limit refusal when auto-creating an index.
        return {
          type: 'validation_exception',
          reason: `Validation Failed: 1: this action would add [2] shards, but this cluster currently has [${open}]/[${this.#options.maxIndices * 2}] maximum normal shards open;`,
        };
      }
      const explicit: Record<string, EsFieldType> = {};
      for (const [pattern, fields] of Object.entries(this.#options.mappings)) {
        if (globMatches(pattern, dataStream ?? name)) Object.assign(explicit, fields);
      }
      if (dataStream) explicit['@timestamp'] = 'date';
      state = {
        name,
        uuid: randomBytes(16).toString('base64url').slice(0, 22),
        dataStream,
        docs: new Map(),
        nextSeqNo: 0,
        mapping: new IndexMapping(explicit, this.#options.dynamicMapping),
      };
      this.#indices.set(name, state);
    }
    return state;
  }

  #index(state: IndexState, action: BulkAction, dataStream: string | undefined): BulkItem {
    const op = action.opType;
    const sourceText = action.source ?? '';
    const id = action.id ?? autoId();
    const fail = (status: number, cause: EsErrorCause): BulkItem => ({
      op,
      body: { _index: state.name, _id: id, status, error: cause },
    });
    const source = parseSource(sourceText);
    if ('type' in source) return fail(400, source);
    if (dataStream && !('@timestamp' in source.doc)) {
      const reason = 'data stream timestamp field [@timestamp] is missing';
      return fail(400, {
        type: 'document_parsing_exception',
        reason: `[1:${sourceText.length}] failed to parse: ${reason}`,
        caused_by: illegalArgument(reason),
      });
    }
    const mappingFailure = state.mapping.admit(source.doc, id, sourceText);
    if (mappingFailure) return fail(400, mappingFailure);

    const existing = state.docs.get(id);
    if (op === 'create' && existing) {
      return fail(
        409,
        conflict(
          state,
          `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
        ),
      );
    }
    const casFailure = checkSeqNo(state, id, existing, action);
    if (casFailure) return fail(409, casFailure);
    const external = action.versionType === 'external' || action.versionType === 'external_gte';
    if (external && existing && action.version !== undefined) {
      const tooLow =
        action.versionType === 'external'
          ? action.version <= existing.version
          : action.version < existing.version;
      if (tooLow) {
        return fail(
          409,
          conflict(
            state,
            `[${id}]: version conflict, current version [${existing.version}] is higher or equal to the one provided [${action.version}]`,
          ),
        );
      }
    }
    const version = external && action.version !== undefined ? action.version : (existing?.version ?? 0) + 1;
    const doc = this.#store(state, id, source.doc, version);
    return {
      op,
      body: {
        _index: state.name,
        _id: id,
        _version: doc.version,
        result: existing ? 'updated' : 'created',
        _shards: SHARDS,
        _seq_no: doc.seqNo,
        _primary_term: PRIMARY_TERM,
        status: existing ? 200 : 201,
      },
    };
  }

  #update(state: IndexState, action: BulkAction): BulkItem {
    const id = action.id as string;
    const update = action.update;
    const fail = (status: number, cause: EsErrorCause): BulkItem => ({
      op: 'update',
      body: { _index: state.name, _id: id, status, error: cause },
    });
    if (update === undefined) return fail(400, illegalArgument('update without a body'));
    if (update.script !== undefined) {
      return fail(
        400,
        illegalArgument('scripted updates are not supported by the ledgerhub Elasticsearch stand-in'),
      );
    }
    const existing = state.docs.get(id);
    const casFailure = checkSeqNo(state, id, existing, action);
    if (casFailure) return fail(409, casFailure);
    if (existing === undefined) {
      const upsert = update.docAsUpsert ? update.doc : update.upsert;
      if (upsert === undefined) {
        return fail(404, {
          type: 'document_missing_exception',
          reason: `[${id}]: document missing`,
          index_uuid: state.uuid,
          shard: '0',
          index: state.name,
        });
      }
      const mappingFailure = state.mapping.admit(upsert, id, JSON.stringify(upsert));
      if (mappingFailure) return fail(400, mappingFailure);
      const doc = this.#store(state, id, upsert, 1);
      return { op: 'update', body: written(state, doc, 'created', 201) };
    }
    const merged = deepMerge(existing.source, update.doc ?? {});
    if (update.detectNoop && isDeepStrictEqual(merged, existing.source)) {
      return {
        op: 'update',
        body: {
          _index: state.name,
          _id: id,
          _version: existing.version,
          result: 'noop',
          _shards: { total: 0, successful: 0, failed: 0 },
          _seq_no: existing.seqNo,
          _primary_term: PRIMARY_TERM,
          status: 200,
        },
      };
    }
    const mappingFailure = state.mapping.admit(merged, id, JSON.stringify(update.doc ?? {}));
    if (mappingFailure) return fail(400, mappingFailure);
    const doc = this.#store(state, id, merged, existing.version + 1);
    return { op: 'update', body: written(state, doc, 'updated', 200) };
  }

  #delete(state: IndexState, action: BulkAction): BulkItem {
    const id = action.id as string;
    const existing = state.docs.get(id);
    const casFailure = checkSeqNo(state, id, existing, action);
    if (casFailure)
      return { op: 'delete', body: { _index: state.name, _id: id, status: 409, error: casFailure } };
    const seqNo = state.nextSeqNo;
    state.nextSeqNo += 1;
    if (existing) {
      state.docs.delete(id);
      this.#order.delete(`${state.name}\0${id}`);
    }
    return {
      op: 'delete',
      body: {
        _index: state.name,
        _id: id,
        _version: (existing?.version ?? 0) + 1,
        result: existing ? 'deleted' : 'not_found',
        _shards: SHARDS,
        _seq_no: seqNo,
        _primary_term: PRIMARY_TERM,
        status: existing ? 200 : 404,
      },
    };
  }

  #store(state: IndexState, id: string, source: Record<string, unknown>, version: number): StoredDocument {
    const doc: StoredDocument = {
      index: state.name,
      dataStream: state.dataStream,
      id,
      source,
      version,
      seqNo: state.nextSeqNo,
      primaryTerm: PRIMARY_TERM,
    };
    state.nextSeqNo += 1;
    state.docs.set(id, doc);
    const key = `${state.name}\0${id}`;
    this.#order.delete(key);
    this.#order.set(key, state);
    while (this.#order.size > this.#options.maxDocuments) {
      const [oldestKey, oldestState] = this.#order.entries().next().value as [string, IndexState];
      this.#order.delete(oldestKey);
      oldestState.docs.delete(oldestKey.slice(oldestState.name.length + 1));
      this.dropped += 1;
    }
    return doc;
  }
}

function written(
  state: IndexState,
  doc: StoredDocument,
  result: 'created' | 'updated',
  status: number,
): BulkItemBody {
  return {
    _index: state.name,
    _id: doc.id,
    _version: doc.version,
    result,
    _shards: SHARDS,
    _seq_no: doc.seqNo,
    _primary_term: PRIMARY_TERM,
    status,
  };
}

function conflict(state: IndexState, reason: string): EsErrorCause {
  return {
    type: 'version_conflict_engine_exception',
    reason,
    index_uuid: state.uuid,
    shard: '0',
    index: state.name,
  };
}

function checkSeqNo(
  state: IndexState,
  id: string,
  existing: StoredDocument | undefined,
  action: BulkAction,
): EsErrorCause | undefined {
  if (action.ifSeqNo === undefined && action.ifPrimaryTerm === undefined) return undefined;
  const required = `required seqNo [${action.ifSeqNo}], primary term [${action.ifPrimaryTerm}]`;
  if (existing === undefined)
    return conflict(state, `[${id}]: version conflict, ${required}. but no document was found`);
  if (existing.seqNo !== action.ifSeqNo || existing.primaryTerm !== action.ifPrimaryTerm) {
    return conflict(
      state,
      `[${id}]: version conflict, ${required}. current document has seqNo [${existing.seqNo}] and primary term [${existing.primaryTerm}]`,
    );
  }
  return undefined;
}

function parseSource(text: string): { doc: Record<string, unknown> } | EsErrorCause {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { type: 'document_parsing_exception', reason: `[1:1] failed to parse: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      type: 'document_parsing_exception',
      reason: '[1:1] failed to parse: Failed to parse object: expecting token of type [START_OBJECT]',
    };
  }
  return { doc: value as Record<string, unknown> };
}

/** MetadataCreateIndexService.validateIndexOrAliasName, in its order. */
function invalidIndexName(name: string): string | undefined {
  const say = (why: string) => `Invalid index name [${name}], ${why}`;
  if (name === '') return say('must not be empty');
  if (/[\\/*?"<>| ,]/.test(name))
    return say('must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]');
  if (name.includes('#')) return say("must not contain '#'");
  if (name.includes(':')) return say("must not contain ':'");
  if (/^[_\-+]/.test(name)) return say("must not start with '_', '-', or '+'");
  if (name !== name.toLowerCase()) return say('must be lowercase');
  if (name === '.' || name === '..') return say("must not be '.' or '..'");
  const bytes = Buffer.byteLength(name);
  if (bytes > 255) return say(`index name is too long, (${bytes} > 255)`);
  return undefined;
}

export function globMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(name);
}

function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    const bothObjects =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current);
    out[key] = bothObjects
      ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
      : value;
  }
  return out;
}

/** ES auto-generated ids are 20 URL-safe base64 characters. */
function autoId(): string {
  return randomBytes(15).toString('base64url');
}

function formatBackingDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}.${pad(date.getUTCMonth() + 1)}.${pad(date.getUTCDate())}`;
}
