// Parsing an Elasticsearch _bulk body as BulkRequestParser (8.x) does, then BulkRequest.validate():
// newline-terminated NDJSON, action lines and source lines. A failure here fails the whole request (400).
import { type EsErrorCause, illegalArgument, validationFailed } from './es-errors.ts';

export type BulkOp = 'index' | 'create' | 'update' | 'delete';

const SUPPORTED_ACTIONS: readonly string[] = ['create', 'index', 'update', 'delete'];
const MAX_ID_BYTES = 512;

export interface UpdateBody {
  doc: Record<string, unknown> | undefined;
  upsert: Record<string, unknown> | undefined;
  docAsUpsert: boolean;
  script: unknown;
  detectNoop: boolean;
}

export interface BulkAction {
  /** The action as written; the response item is keyed by {@link opType}. */
  action: BulkOp;
  /** What runs: `index` with `op_type: create` runs (and answers) as `create`. */
  opType: BulkOp;
  /** `_index`, else the index in the URL; undefined when neither. */
  index: string | undefined;
  id: string | undefined;
  /** 1-based line of the action in the body. */
  line: number;
  routing: string | undefined;
  pipeline: string | undefined;
  requireAlias: boolean;
  requireDataStream: boolean;
  ifSeqNo: number | undefined;
  ifPrimaryTerm: number | undefined;
  version: number | undefined;
  versionType: string | undefined;
  /** Raw source line (index/create), parsed per item so one bad document fails only its item. */
  source: string | undefined;
  update: UpdateBody | undefined;
}

export type BulkParse =
  | { ok: true; actions: BulkAction[]; warnings: string[] }
  | { ok: false; error: EsErrorCause; actions: BulkAction[] };

/** Per-action validation problems that ES reports for the whole request (BulkRequest.validate()). */
export type ValidationProblems = Map<BulkAction, string[]>;

const KNOWN_PARAMETERS = new Set([
  '_index',
  '_id',
  'routing',
  'op_type',
  'version',
  'version_type',
  'if_seq_no',
  'if_primary_term',
  'retry_on_conflict',
  'pipeline',
  '_source',
  'require_alias',
  'require_data_stream',
  'list_executed_pipelines',
  'dynamic_templates',
]);

const UPDATE_FIELDS = new Set([
  'doc',
  'upsert',
  'doc_as_upsert',
  'script',
  'scripted_upsert',
  'detect_noop',
  '_source',
]);

export function parseBulkBody(text: string, defaultIndex: string | undefined): BulkParse {
  const actions: BulkAction[] = [];
  const warnings: string[] = [];
  const fail = (error: EsErrorCause): BulkParse => ({ ok: false, error, actions });
  if (text.length === 0) return fail({ type: 'parse_exception', reason: 'request body is required' });
  if (!text.endsWith('\n'))
    return fail(illegalArgument('The bulk request must be terminated by a newline [\\n]'));

  const lines = text.slice(0, -1).split('\n').map(stripCarriageReturn);
  for (let i = 0; i < lines.length; i += 1) {
    const lineNumber = i + 1;
    const raw = lines[i] as string;
    if (raw.trim() === '') continue; // ES skips empty action lines.
    const parsed = parseActionLine(raw, lineNumber, defaultIndex, warnings);
    if ('type' in parsed) return fail(parsed);
    if (parsed.action !== 'delete') {
      if (i + 1 >= lines.length) {
        // [unconfirmed] ES 8 silently drops a trailing action that has no source line; a strict
        // stand-in refuses it so a sender that forgets a source line finds out.
        return fail(
          illegalArgument(
            `Malformed action/metadata line [${lineNumber}], the [${parsed.action}] action has no source line`,
          ),
        );
      }
      i += 1;
      const sourceLine = lines[i] as string;
      if (parsed.action === 'update') {
        const update = parseUpdateBody(sourceLine, i + 1);
        if ('type' in update) return fail(update);
        parsed.update = update;
      } else {
        parsed.source = sourceLine;
      }
    }
    actions.push(parsed);
  }
  return { ok: true, actions, warnings };
}

/** BulkRequest.validate(): the problems of each action; an empty request is itself a problem. */
export function validateBulk(actions: readonly BulkAction[]): {
  requestProblems: string[];
  perAction: ValidationProblems;
} {
  const perAction: ValidationProblems = new Map();
  for (const action of actions) {
    const problems: string[] = [];
    if (action.index === undefined) problems.push('index is missing');
    if ((action.opType === 'update' || action.opType === 'delete') && !action.id)
      problems.push('id is missing');
    if (action.id !== undefined && Buffer.byteLength(action.id) > MAX_ID_BYTES) {
      problems.push(
        `id [${action.id}] is too long, must be no longer than ${MAX_ID_BYTES} bytes but was: ${Buffer.byteLength(action.id)}`,
      );
    }
    if (action.update && action.update.doc === undefined && action.update.script === undefined) {
      problems.push('script or doc is missing');
    }
    if (action.update?.doc !== undefined && action.update.script !== undefined) {
      problems.push("can't provide both script and doc");
    }
    if (action.version !== undefined && (action.versionType ?? 'internal') === 'internal') {
      problems.push(
        'internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead',
      );
    }
    if (problems.length > 0) perAction.set(action, problems);
  }
  return { requestProblems: actions.length === 0 ? ['no requests added'] : [], perAction };
}

export function validationError(problems: readonly string[]): EsErrorCause {
  return validationFailed(problems);
}

function parseActionLine(
  raw: string,
  line: number,
  defaultIndex: string | undefined,
  warnings: string[],
): BulkAction | EsErrorCause {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return xContentParseError(line, raw, err as Error);
  }
  const malformed = (what: string): EsErrorCause =>
    illegalArgument(`Malformed action/metadata line [${line}], ${what}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return malformed(`expected START_OBJECT but found [${tokenName(value)}]`);
  }
  const keys = Object.keys(value);
  const action = keys[0];
  if (action === undefined) return malformed('expected FIELD_NAME but found [END_OBJECT]');
  if (!SUPPORTED_ACTIONS.includes(action)) {
    return malformed(`expected field [create], [delete], [index] or [update] but found [${action}]`);
  }
  if (keys.length > 1) {
    // REST API v8 only warns about extra keys (v9 rejects them): BulkRequestParser.checkBulkActionIsProperlyClosed.
    warnings.push(
      'A bulk action object contained multiple keys. Additional keys are currently ignored but will be rejected in a future version.',
    );
  }
  const meta = (value as Record<string, unknown>)[action];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    return malformed(`expected START_OBJECT or END_OBJECT but found [${tokenName(meta)}]`);
  }
  const params = meta as Record<string, unknown>;
  for (const [key, v] of Object.entries(params)) {
    if (!KNOWN_PARAMETERS.has(key)) {
      return illegalArgument(`Action/metadata line [${line}] contains an unknown parameter [${key}]`);
    }
    const objectAllowed = key === '_source' || key === 'dynamic_templates';
    if (Array.isArray(v) || (typeof v === 'object' && v !== null && !objectAllowed)) {
      return malformed(`expected a simple value for field [${key}] but found [${tokenName(v)}]`);
    }
  }
  const text = (key: string): string | undefined => {
    const v = params[key];
    return v === undefined || v === null ? undefined : String(v);
  };
  const integer = (key: string): number | undefined => {
    const v = text(key);
    return v === undefined ? undefined : Number(v);
  };
  if (action === 'update' && (params['version'] !== undefined || params['version_type'] !== undefined)) {
    return illegalArgument(
      'Update requests do not support versioning. Please use `if_seq_no` and `if_primary_term` instead',
    );
  }
  const opType = action === 'index' && text('op_type') === 'create' ? 'create' : (action as BulkOp);
  return {
    action: action as BulkOp,
    opType,
    index: text('_index') ?? defaultIndex,
    id: text('_id'),
    line,
    routing: text('routing'),
    pipeline: text('pipeline'),
    requireAlias: text('require_alias') === 'true',
    requireDataStream: text('require_data_stream') === 'true',
    ifSeqNo: integer('if_seq_no'),
    ifPrimaryTerm: integer('if_primary_term'),
    version: integer('version'),
    versionType: text('version_type'),
    source: undefined,
    update: undefined,
  };
}

function parseUpdateBody(raw: string, line: number): UpdateBody | EsErrorCause {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return xContentParseError(line, raw, err as Error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      type: 'x_content_parse_exception',
      reason: `[1:1] [UpdateRequest] Expected START_OBJECT but was: ${tokenName(value)}`,
    };
  }
  const body = value as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!UPDATE_FIELDS.has(key)) {
      return { type: 'x_content_parse_exception', reason: `[1:2] [UpdateRequest] unknown field [${key}]` };
    }
  }
  const object = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  return {
    doc: object(body['doc']),
    upsert: object(body['upsert']),
    docAsUpsert: body['doc_as_upsert'] === true,
    script: body['script'],
    detectNoop: body['detect_noop'] !== false,
  };
}

function xContentParseError(line: number, raw: string, err: Error): EsErrorCause {
  // [unconfirmed] ES quotes Jackson's message; Node's JSON.parse wording differs.
  const column = /position (\d+)/.exec(err.message)?.[1];
  const at = column === undefined ? raw.length : Number(column) + 1;
  return { type: 'x_content_parse_exception', reason: `[${line}:${at}] ${err.message}` };
}

function tokenName(value: unknown): string {
  if (value === null) return 'VALUE_NULL';
  if (Array.isArray(value)) return 'START_ARRAY';
  switch (typeof value) {
    case 'object':
      return 'START_OBJECT';
    case 'string':
      return 'VALUE_STRING';
    case 'number':
      return 'VALUE_NUMBER';
    case 'boolean':
      return 'VALUE_BOOLEAN';
    default:
      return 'VALUE_EMBEDDED_OBJECT';
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
