// Conformance suite for Elasticsearch _bulk (siem-wire.md §2): protocol blocks run against the stand-in or
// a real 8.x cluster (ES_URL, ES_API_KEY; see conformance-targets.ts); stand-in blocks only locally.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { esTarget } from '../support/receivers/conformance-targets.ts';
import { type ElasticsearchReceiver, startElasticsearch } from '../support/receivers/index.ts';
import {
  connectionErrorOf,
  send,
  type WireRequest,
  wireDispatcher,
} from '../support/receivers/wire-client.ts';

const target = esTarget();
const local = target.kind === 'local';
const createdIndices = new Set<string>();

beforeAll(() => target.start());
afterAll(async () => {
  for (const index of createdIndices) await es(`/${index}`, { method: 'DELETE' });
  await target.stop();
});

interface BulkItemBody {
  _index: string;
  _id: string | null;
  status: number;
  result?: string;
  _version?: number;
  _seq_no?: number;
  _primary_term?: number;
  error?: { type: string; reason: string; caused_by?: { type: string; reason: string } };
}
interface BulkResponse {
  took: number;
  errors: boolean;
  items: Record<string, BulkItemBody>[];
}
interface EsError {
  error: { type: string; reason: string; root_cause: { type: string; reason: string }[] };
  status: number;
}

/** A fresh index name for this run (deleted afterwards). */
function indexName(label: string): string {
  const name = `${target.indexPrefix}-${label}-${randomUUID().slice(0, 6)}`;
  createdIndices.add(name);
  return name;
}

function es(path: string, req: WireRequest = {}) {
  return send(target.dispatcher, target.url() + path, {
    ...req,
    headers: { authorization: target.authorization, ...req.headers },
  });
}

function ndjson(...lines: unknown[]): string {
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

function bulk(body: string | Buffer, opts: { path?: string; headers?: Record<string, string> } = {}) {
  return es(opts.path ?? '/_bulk', {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', ...opts.headers },
    body,
  });
}

async function bulkOk(body: string, path?: string): Promise<BulkResponse> {
  const res = await bulk(body, { path });
  expect(res.status, res.text).toBe(200);
  return res.json<BulkResponse>();
}

/** [op, status, result or error type] for each item, in order. */
function outcomes(response: BulkResponse): [string, number, string | undefined][] {
  return response.items.map((item) => {
    const [op, body] = Object.entries(item)[0] as [string, BulkItemBody];
    return [op, body.status, body.error?.type ?? body.result];
  });
}

async function getDoc(index: string, id: string) {
  const res = await es(`/${index}/_doc/${encodeURIComponent(id)}`);
  return { status: res.status, body: res.json<{ found: boolean; _version?: number; _source?: unknown }>() };
}

describe(`Elasticsearch _bulk protocol (${target.name})`, () => {
  describe('cluster endpoints', () => {
    it('answers GET / with cluster info, an 8.x version and X-Elastic-Product: Elasticsearch', async () => {
      const res = await es('/');
      expect(res.status).toBe(200);
      expect(res.headers['x-elastic-product']).toBe('Elasticsearch');
      const info = res.json<{ version: { number: string }; tagline: string }>();
      expect(info.version.number).toMatch(/^8\.\d+\.\d+/);
      expect(info.tagline).toBe('You Know, for Search');
    });

    it('answers GET /_cluster/health with the cluster status', async () => {
      const res = await es('/_cluster/health');
      expect(res.status).toBe(200);
      expect(['green', 'yellow', 'red']).toContain(res.json<{ status: string }>().status);
    });
  });

  describe('authentication', () => {
    it('answers 401 security_exception with WWW-Authenticate challenges when no credentials are sent', async () => {
      const res = await send(target.dispatcher, `${target.url()}/_bulk`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: ndjson({ index: { _index: indexName('noauth') } }, { a: 1 }),
      });
      expect(res.status).toBe(401);
      expect(String(res.headers['www-authenticate'])).toContain('ApiKey');
      expect(res.json<EsError>()).toMatchObject({
        error: {
          type: 'security_exception',
          reason: 'missing authentication credentials for REST request [/_bulk]',
        },
        status: 401,
      });
    });

    it('answers 401 security_exception for an unknown API key', async () => {
      const bogus = Buffer.from(`${randomUUID()}:${randomUUID()}`).toString('base64');
      const res = await es('/', { headers: { authorization: `ApiKey ${bogus}` } });
      expect(res.status).toBe(401);
      expect(res.json<EsError>().error.type).toBe('security_exception');
    });

    it('answers 401 security_exception for wrong Basic credentials', async () => {
      const res = await es('/', {
        headers: { authorization: `Basic ${Buffer.from('nobody:wrong').toString('base64')}` },
      });
      expect(res.status).toBe(401);
      expect(res.json<EsError>().error.reason).toMatch(/unable to authenticate user \[nobody\]/);
    });

    it.runIf(target.basicAuthorization)('accepts valid Basic credentials', async () => {
      const res = await es('/', { headers: { authorization: target.basicAuthorization ?? '' } });
      expect(res.status).toBe(200);
    });
  });

  describe('media types', () => {
    it('accepts application/x-ndjson, application/json and the versioned vnd.elasticsearch type', async () => {
      const index = indexName('media');
      const statuses = [];
      for (const contentType of [
        'application/x-ndjson',
        'application/json; charset=utf-8',
        'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
      ]) {
        const res = await bulk(ndjson({ index: { _index: index } }, { contentType }), {
          headers: {
            'content-type': contentType,
            accept: 'application/vnd.elasticsearch+json; compatible-with=8',
          },
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200]);
    });

    it('answers 406 for a bulk body sent as text/plain', async () => {
      const res = await bulk(ndjson({ index: { _index: indexName('plain') } }, { a: 1 }), {
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(406);
      expect(res.json()).toEqual({ error: 'Content-Type header [text/plain] is not supported', status: 406 });
    });
  });

  describe('NDJSON framing', () => {
    it('answers 400 illegal_argument_exception when the body does not end with a newline', async () => {
      const body = ndjson({ index: { _index: indexName('nonl') } }, { a: 1 }).trimEnd();
      const res = await bulk(body);
      expect(res.status).toBe(400);
      expect(res.json<EsError>().error).toMatchObject({
        type: 'illegal_argument_exception',
        reason: 'The bulk request must be terminated by a newline [\\n]',
      });
    });

    it('accepts lines that end in \\r\\n', async () => {
      const index = indexName('crlf');
      const body = ndjson({ index: { _index: index, _id: '1' } }, { a: 1 }).replaceAll('\n', '\r\n');
      const response = await bulkOk(body);
      expect(outcomes(response)).toEqual([['index', 201, 'created']]);
    });

    it('fails the whole request with 400 when an action line is not JSON, indexing nothing', async () => {
      const index = indexName('badjson');
      const body = `${JSON.stringify({ index: { _index: index, _id: 'a' } })}\n{"x":1}\n{"index":{"_index":\n{"x":2}\n`;
      const res = await bulk(body);
      expect(res.status).toBe(400);
      expect(res.json<EsError>().status).toBe(400);
      expect((await getDoc(index, 'a')).status).toBe(404);
    });

    it('answers 400 naming the line for an action that is not create, delete, index or update', async () => {
      const res = await bulk(ndjson({ upsert: { _index: indexName('bad-action') } }, { a: 1 }));
      expect(res.status).toBe(400);
      expect(res.json<EsError>().error).toMatchObject({
        type: 'illegal_argument_exception',
        reason:
          'Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [upsert]',
      });
    });

    it('answers 400 for an unknown parameter in action metadata (including _type, gone in 8.x)', async () => {
      const res = await bulk(ndjson({ index: { _index: indexName('type'), _type: '_doc' } }, { a: 1 }));
      expect(res.status).toBe(400);
      expect(res.json<EsError>().error.reason).toBe(
        'Action/metadata line [1] contains an unknown parameter [_type]',
      );
    });

    it('answers 400 action_request_validation_exception when an action has no _index and the URL names none', async () => {
      const res = await bulk(ndjson({ index: { _id: '1' } }, { a: 1 }));
      expect(res.status).toBe(400);
      expect(res.json<EsError>().error).toMatchObject({
        type: 'action_request_validation_exception',
        reason: 'Validation Failed: 1: index is missing;',
      });
    });

    it('accepts PUT as well as POST on _bulk, and answers 405 to GET /_bulk', async () => {
      const put = await es('/_bulk', {
        method: 'PUT',
        headers: { 'content-type': 'application/x-ndjson' },
        body: ndjson({ index: { _index: indexName('put') } }, { a: 1 }),
      });
      const get = await es('/_bulk');
      expect([put.status, get.status]).toEqual([200, 405]);
    });

    it('answers 400 for an empty body', async () => {
      const res = await bulk('');
      expect(res.status).toBe(400);
    });

    it('answers 400 for a URL parameter _bulk does not know', async () => {
      const res = await bulk(ndjson({ index: { _index: indexName('param') } }, { a: 1 }), {
        path: '/_bulk?refesh=true',
      });
      expect(res.status).toBe(400);
      expect(res.json<EsError>().error.reason).toMatch(/contains unrecognized parameter: \[refesh\]/);
    });

    it('accepts a gzip-compressed body', async () => {
      const index = indexName('gzip');
      const res = await bulk(gzipSync(ndjson({ create: { _index: index, _id: 'z' } }, { a: 1 })), {
        headers: { 'content-encoding': 'gzip' },
      });
      expect(res.status).toBe(200);
      expect(outcomes(res.json<BulkResponse>())).toEqual([['create', 201, 'created']]);
    });

    it('warns (8.x) but proceeds when an action object has extra keys', async () => {
      const index = indexName('extra');
      const res = await bulk(`{"index":{"_index":"${index}","_id":"1"},"extra":true}\n{"a":1}\n`);
      expect(res.status).toBe(200);
      expect(String(res.headers['warning'])).toContain('contained multiple keys');
    });
  });

  describe('bulk results', () => {
    it('answers 200 with took, errors:false and one 8.x item per action in request order', async () => {
      const index = indexName('order');
      const response = await bulkOk(
        ndjson(
          { index: { _index: index, _id: '1' } },
          { n: 1 },
          { create: { _index: index, _id: '2' } },
          { n: 2 },
          { update: { _index: index, _id: '1' } },
          { doc: { n: 10 } },
          { delete: { _index: index, _id: '2' } },
        ),
      );
      expect(response.errors).toBe(false);
      expect(typeof response.took).toBe('number');
      expect(outcomes(response)).toEqual([
        ['index', 201, 'created'],
        ['create', 201, 'created'],
        ['update', 200, 'updated'],
        ['delete', 200, 'deleted'],
      ]);
      const first = response.items[0]?.['index'];
      expect(first).toMatchObject({ _index: index, _id: '1', _version: 1, _primary_term: 1 });
      expect(first).not.toHaveProperty('_type');
    });

    it('index replaces an existing document: created then updated with _version 2', async () => {
      const index = indexName('replace');
      const first = await bulkOk(ndjson({ index: { _index: index, _id: 'r' } }, { v: 'one', gone: true }));
      const second = await bulkOk(ndjson({ index: { _index: index, _id: 'r' } }, { v: 'two' }));
      expect([...outcomes(first), ...outcomes(second)]).toEqual([
        ['index', 201, 'created'],
        ['index', 200, 'updated'],
      ]);
      expect(second.items[0]?.['index']?._version).toBe(2);
      expect(await getDoc(index, 'r')).toMatchObject({
        status: 200,
        body: { found: true, _source: { v: 'two' } },
      });
    });

    it('create on an existing _id answers item 409 version_conflict_engine_exception; the others still succeed', async () => {
      const index = indexName('conflict');
      await bulkOk(ndjson({ create: { _index: index, _id: 'dup' } }, { n: 1 }));
      const response = await bulkOk(
        ndjson(
          { create: { _index: index, _id: 'dup' } },
          { n: 2 },
          { create: { _index: index, _id: 'new' } },
          { n: 3 },
        ),
      );
      expect(response.errors).toBe(true);
      expect(outcomes(response)).toEqual([
        ['create', 409, 'version_conflict_engine_exception'],
        ['create', 201, 'created'],
      ]);
      expect(response.items[0]?.['create']?.error?.reason).toMatch(
        /\[dup\]: version conflict, document already exists/,
      );
      expect((await getDoc(index, 'dup')).body._source).toEqual({ n: 1 });
    });

    it('index with op_type create behaves as create and answers under "create"', async () => {
      const index = indexName('optype');
      await bulkOk(ndjson({ index: { _index: index, _id: 'o' } }, { n: 1 }));
      const response = await bulkOk(
        ndjson({ index: { _index: index, _id: 'o', op_type: 'create' } }, { n: 2 }),
      );
      expect(outcomes(response)).toEqual([['create', 409, 'version_conflict_engine_exception']]);
    });

    it('update merges a partial doc, answers 404 document_missing_exception for a missing doc, upserts with doc_as_upsert', async () => {
      const index = indexName('update');
      await bulkOk(ndjson({ index: { _index: index, _id: 'u' } }, { a: 1, nested: { x: 1 } }));
      const response = await bulkOk(
        ndjson(
          { update: { _index: index, _id: 'u' } },
          { doc: { nested: { y: 2 } } },
          { update: { _index: index, _id: 'missing' } },
          { doc: { a: 1 } },
          { update: { _index: index, _id: 'upserted' } },
          { doc: { a: 5 }, doc_as_upsert: true },
        ),
      );
      expect(outcomes(response)).toEqual([
        ['update', 200, 'updated'],
        ['update', 404, 'document_missing_exception'],
        ['update', 201, 'created'],
      ]);
      expect((await getDoc(index, 'u')).body._source).toEqual({ a: 1, nested: { x: 1, y: 2 } });
    });

    it('update that changes nothing answers result "noop"', async () => {
      const index = indexName('noop');
      await bulkOk(ndjson({ index: { _index: index, _id: 'n' } }, { a: 1 }));
      const response = await bulkOk(ndjson({ update: { _index: index, _id: 'n' } }, { doc: { a: 1 } }));
      expect(outcomes(response)).toEqual([['update', 200, 'noop']]);
    });

    it('delete answers 200 deleted, then 404 not_found, which is not an error', async () => {
      const index = indexName('delete');
      await bulkOk(ndjson({ index: { _index: index, _id: 'd' } }, { a: 1 }));
      const response = await bulkOk(
        ndjson({ delete: { _index: index, _id: 'd' } }, { delete: { _index: index, _id: 'd' } }),
      );
      expect(outcomes(response)).toEqual([
        ['delete', 200, 'deleted'],
        ['delete', 404, 'not_found'],
      ]);
      expect(response.errors).toBe(false);
    });

    it('uses the index in the URL for actions that name none', async () => {
      const index = indexName('url-default');
      const other = indexName('explicit');
      const response = await bulkOk(
        ndjson({ index: { _id: '1' } }, { a: 1 }, { index: { _index: other, _id: '1' } }, { a: 2 }),
        `/${index}/_bulk`,
      );
      expect(response.items.map((i) => Object.values(i)[0]?._index)).toEqual([index, other]);
    });

    it('auto-generates a 20-character _id when none is given', async () => {
      const response = await bulkOk(ndjson({ index: { _index: indexName('autoid') } }, { a: 1 }));
      expect(response.items[0]?.['index']?._id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    });

    it('refuses an uppercase index name per item with invalid_index_name_exception', async () => {
      const response = await bulkOk(
        ndjson(
          { index: { _index: 'Ledgerhub-Upper', _id: '1' } },
          { a: 1 },
          { index: { _index: indexName('ok') } },
          { a: 1 },
        ),
      );
      expect(outcomes(response)).toEqual([
        ['index', 400, 'invalid_index_name_exception'],
        ['index', 201, 'created'],
      ]);
      expect(response.items[0]?.['index']?.error?.reason).toBe(
        'Invalid index name [Ledgerhub-Upper], must be lowercase',
      );
    });

    it('answers 409 when if_seq_no / if_primary_term do not match the document', async () => {
      const index = indexName('cas');
      const created = await bulkOk(ndjson({ index: { _index: index, _id: 'c' } }, { a: 1 }));
      const seqNo = created.items[0]?.['index']?._seq_no as number;
      const response = await bulkOk(
        ndjson(
          { index: { _index: index, _id: 'c', if_seq_no: seqNo + 5, if_primary_term: 1 } },
          { a: 2 },
          { index: { _index: index, _id: 'c', if_seq_no: seqNo, if_primary_term: 1 } },
          { a: 3 },
        ),
      );
      expect(outcomes(response)).toEqual([
        ['index', 409, 'version_conflict_engine_exception'],
        ['index', 200, 'updated'],
      ]);
    });

    it('answers item 400 for an ingest pipeline that does not exist', async () => {
      const response = await bulkOk(
        ndjson({ index: { _index: indexName('pipeline'), pipeline: 'no-such-pipeline' } }, { a: 1 }),
      );
      expect(outcomes(response)).toEqual([['index', 400, 'illegal_argument_exception']]);
    });

    it('applies filter_path to the response', async () => {
      const index = indexName('filter');
      const res = await bulk(ndjson({ index: { _index: index } }, { a: 1 }), {
        path: '/_bulk?filter_path=errors,items.*.status',
      });
      expect(res.json()).toEqual({ errors: false, items: [{ index: { status: 201 } }] });
    });
  });

  describe('dynamic mapping', () => {
    it('refuses a value that conflicts with the type a field was first mapped as (document_parsing_exception)', async () => {
      const index = indexName('dyn-long');
      await bulkOk(ndjson({ index: { _index: index, _id: '1' } }, { attempts: 3 }));
      const response = await bulkOk(
        ndjson(
          { index: { _index: index, _id: '2' } },
          { attempts: 'three' },
          { index: { _index: index, _id: '3' } },
          { attempts: '4' },
        ),
      );
      expect(outcomes(response)).toEqual([
        ['index', 400, 'document_parsing_exception'],
        ['index', 201, 'created'],
      ]);
    });

    it('refuses a non-date string in a field that date detection mapped as a date', async () => {
      const index = indexName('dyn-date');
      await bulkOk(ndjson({ index: { _index: index, _id: '1' } }, { seen: '2024-01-16T03:53:51.123Z' }));
      const response = await bulkOk(ndjson({ index: { _index: index, _id: '2' } }, { seen: 'yesterday' }));
      expect(outcomes(response)).toEqual([['index', 400, 'document_parsing_exception']]);
    });

    it('refuses a concrete value where an object was mapped, and an object where a value was', async () => {
      const index = indexName('dyn-object');
      await bulkOk(ndjson({ index: { _index: index, _id: '1' } }, { user: { id: 'u1' }, action: 'login' }));
      const response = await bulkOk(
        ndjson(
          { index: { _index: index, _id: '2' } },
          { user: 'u2' },
          { index: { _index: index, _id: '3' } },
          { action: { name: 'login' } },
        ),
      );
      expect(outcomes(response)).toEqual([
        ['index', 400, 'document_parsing_exception'],
        ['index', 400, 'document_parsing_exception'],
      ]);
    });
  });

  describe.runIf(target.dataStream)('data streams', () => {
    const dataStream = target.dataStream ?? '';

    it('accepts create with @timestamp and answers with the .ds- backing index', async () => {
      const response = await bulkOk(
        ndjson(
          { create: { _index: dataStream, _id: randomUUID() } },
          { '@timestamp': new Date().toISOString(), a: 1 },
        ),
      );
      expect(outcomes(response)).toEqual([['create', 201, 'created']]);
      expect(response.items[0]?.['create']?._index).toMatch(
        new RegExp(`^\\.ds-${dataStream}-\\d{4}\\.\\d{2}\\.\\d{2}-\\d{6}$`),
      );
    });

    it('refuses index, update and delete on a data stream: only op_type create is allowed', async () => {
      const now = new Date().toISOString();
      const response = await bulkOk(
        ndjson(
          { index: { _index: dataStream } },
          { '@timestamp': now },
          { update: { _index: dataStream, _id: 'x' } },
          { doc: { a: 1 } },
          { delete: { _index: dataStream, _id: 'x' } },
        ),
      );
      expect(outcomes(response)).toEqual([
        ['index', 400, 'illegal_argument_exception'],
        ['update', 400, 'illegal_argument_exception'],
        ['delete', 400, 'illegal_argument_exception'],
      ]);
      expect(response.items[0]?.['index']?.error?.reason).toBe(
        'only write ops with an op_type of create are allowed in data streams',
      );
    });

    it('refuses a document without @timestamp with document_parsing_exception', async () => {
      const response = await bulkOk(ndjson({ create: { _index: dataStream } }, { a: 1 }));
      expect(outcomes(response)).toEqual([['create', 400, 'document_parsing_exception']]);
      expect(response.items[0]?.['create']?.error?.reason).toMatch(
        /data stream timestamp field \[@timestamp\] is missing/,
      );
    });
  });
});

describe.runIf(local)('Elasticsearch stand-in: inspection', () => {
  let receiver: ElasticsearchReceiver;
  beforeAll(() => {
    receiver = target.receiver();
    receiver.clear();
  });
  afterEach(async () => {
    await receiver.faults.reset();
    receiver.clear();
  });

  it('records documents by index and id, and each bulk request with its items', async () => {
    await bulkOk(
      ndjson(
        { index: { _index: 'audit', _id: 'a1' } },
        { who: 'u1' },
        { create: { _index: 'audit', _id: 'a1' } },
        { who: 'u2' },
      ),
    );
    const docs = await receiver.waitForDocuments('audit', 1);
    expect(docs.map((d) => [d.id, d.source, d.version])).toEqual([['a1', { who: 'u1' }, 1]]);
    expect(receiver.document('audit', 'a1')?.seqNo).toBe(0);
    expect(
      receiver
        .bulkRequests()
        .map((r) => [r.status, r.errors, r.items.map((i) => [i.op, i.status, i.errorType])]),
    ).toEqual([
      [
        200,
        true,
        [
          ['index', 201, undefined],
          ['create', 409, 'version_conflict_engine_exception'],
        ],
      ],
    ]);
  });

  it('checks configured field types: a field mapped as date must parse', async () => {
    const response = await bulkOk(
      ndjson(
        { index: { _index: 'typed-audit', _id: '1' } },
        { event: { created: 'not a date' } },
        { index: { _index: 'typed-audit', _id: '2' } },
        { 'event.created': 1705377231000, attempts: '2' },
      ),
    );
    expect(outcomes(response)).toEqual([
      ['index', 400, 'document_parsing_exception'],
      ['index', 201, 'created'],
    ]);
    expect(response.items[0]?.['index']?.error?.reason).toMatch(
      /failed to parse field \[event\.created\] of type \[date\]/,
    );
    expect(receiver.mapping('typed-audit')).toMatchObject({ 'event.created': 'date', attempts: 'long' });
  });

  it('stores data-stream documents under the backing index and finds them by data stream name', async () => {
    await bulkOk(
      ndjson(
        { create: { _index: 'logs-ledgerhub-app', _id: 'e1' } },
        { '@timestamp': '2024-01-16T03:53:51Z' },
      ),
    );
    expect(
      receiver
        .documents('logs-ledgerhub-app')
        .map((d) => [d.id, d.dataStream, d.index.startsWith('.ds-logs-ledgerhub-app-')]),
    ).toEqual([['e1', 'logs-ledgerhub-app', true]]);
  });

  it("validationFailures: 'item' answers only the offending items with action_request_validation_exception", async () => {
    const lenient = await startElasticsearch({ apiKeys: ['k:v'], validationFailures: 'item' });
    try {
      const res = await send(target.dispatcher, `${lenient.url}/_bulk`, {
        method: 'POST',
        headers: { authorization: lenient.authorization, 'content-type': 'application/x-ndjson' },
        body: ndjson({ index: { _id: '1' } }, { a: 1 }, { index: { _index: 'fine' } }, { a: 2 }),
      });
      expect(outcomes(res.json<BulkResponse>())).toEqual([
        ['index', 400, 'action_request_validation_exception'],
        ['index', 201, 'created'],
      ]);
    } finally {
      await lenient.stop();
    }
  });

  it('answers 413 with an empty body for a request over maxContentLength', async () => {
    const small = await startElasticsearch({ apiKeys: ['k:v'], maxContentLength: 512 });
    try {
      const res = await send(target.dispatcher, `${small.url}/_bulk`, {
        method: 'POST',
        headers: { authorization: small.authorization, 'content-type': 'application/x-ndjson' },
        body: ndjson({ index: { _index: 'big' } }, { blob: 'x'.repeat(1000) }),
      });
      expect([res.status, res.text]).toEqual([413, '']);
      expect(small.count('big')).toBe(0);
    } finally {
      await small.stop();
    }
  });

  it('keeps at most maxStoredDocuments documents, evicting the oldest and counting them', async () => {
    const capped = await startElasticsearch({ apiKeys: ['k:v'], maxStoredDocuments: 2 });
    try {
      await send(target.dispatcher, `${capped.url}/_bulk`, {
        method: 'POST',
        headers: { authorization: capped.authorization, 'content-type': 'application/x-ndjson' },
        body: ndjson(...['1', '2', '3'].flatMap((id) => [{ index: { _index: 'capped', _id: id } }, { id }])),
      });
      expect(capped.documents('capped').map((d) => d.id)).toEqual(['2', '3']);
      expect(capped.droppedDocuments).toBe(1);
    } finally {
      await capped.stop();
    }
  });

  it('refuses items that would create an index beyond maxIndices (the shard limit)', async () => {
    const few = await startElasticsearch({ apiKeys: ['k:v'], maxIndices: 1 });
    try {
      const res = await send(target.dispatcher, `${few.url}/_bulk`, {
        method: 'POST',
        headers: { authorization: few.authorization, 'content-type': 'application/x-ndjson' },
        body: ndjson({ index: { _index: 'first' } }, { a: 1 }, { index: { _index: 'second' } }, { a: 1 }),
      });
      expect(outcomes(res.json<BulkResponse>())).toEqual([
        ['index', 201, 'created'],
        ['index', 400, 'validation_exception'],
      ]);
      expect(few.indexNames()).toEqual(['first']);
    } finally {
      await few.stop();
    }
  });

  it('waitForDocuments fails after its deadline, saying how many documents the index holds', async () => {
    await expect(receiver.waitForDocuments('nothing-here', 1, 50)).rejects.toThrow(
      /waiting for 1 documents in nothing-here, it holds 0/,
    );
  });
});

describe.runIf(local)('Elasticsearch stand-in: fault switches', () => {
  let receiver: ElasticsearchReceiver;
  beforeAll(() => {
    receiver = target.receiver();
    receiver.clear();
  });
  afterEach(async () => {
    await receiver.faults.reset();
    receiver.clear();
  });
  const oneDoc = (id: string) => ndjson({ index: { _index: 'faults', _id: id } }, { id });

  it('down() refuses connections; up() serves again on the same port', async () => {
    await receiver.faults.down();
    const fresh = wireDispatcher();
    const code = await connectionErrorOf(
      send(fresh, `${target.url()}/_bulk`, {
        method: 'POST',
        headers: { authorization: target.authorization, 'content-type': 'application/x-ndjson' },
        body: oneDoc('lost'),
      }),
    );
    await fresh.close();
    await receiver.faults.up();
    await bulkOk(oneDoc('back'));
    expect(code).toBe('ECONNREFUSED');
    expect(receiver.documents('faults').map((d) => d.id)).toEqual(['back']);
  });

  it('slow(ms) makes a client with a shorter timeout give up while the documents are still indexed', async () => {
    receiver.faults.slow(400);
    const code = await connectionErrorOf(
      es('/_bulk', {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: oneDoc('slow'),
        timeoutMs: 100,
      }),
    );
    expect(code).toBe('TimeoutError');
    expect((await receiver.waitForDocuments('faults', 1)).map((d) => d.id)).toEqual(['slow']);
  });

  it('failNext(n, 429) rejects whole requests with es_rejected_execution_exception and Retry-After', async () => {
    receiver.faults.failNext(1, { status: 429, retryAfter: 3 });
    const rejected = await bulk(oneDoc('r'));
    const accepted = await bulk(oneDoc('r'));
    expect([rejected.status, rejected.headers['retry-after'], rejected.json<EsError>().error.type]).toEqual([
      429,
      '3',
      'es_rejected_execution_exception',
    ]);
    expect(accepted.status).toBe(200);
    expect(receiver.count('faults')).toBe(1);
  });

  it('partial({items}) fails chosen items of the next bulk with 429 or 400 and executes the rest', async () => {
    receiver.faults.partial({ items: { 0: 429, 2: 400 } });
    const body = ndjson(
      ...['a', 'b', 'c'].flatMap((id) => [{ index: { _index: 'faults', _id: id } }, { id }]),
    );
    const first = await bulkOk(body);
    const retry = await bulkOk(body);
    expect(outcomes(first)).toEqual([
      ['index', 429, 'es_rejected_execution_exception'],
      ['index', 201, 'created'],
      ['index', 400, 'document_parsing_exception'],
    ]);
    expect(outcomes(retry).map(([, status]) => status)).toEqual([201, 200, 201]);
  });

  it('badCredentials() makes the working API key fail with 401 until reset()', async () => {
    receiver.faults.badCredentials();
    const refused = await bulk(oneDoc('x'));
    await receiver.faults.reset();
    const accepted = await bulk(oneDoc('x'));
    expect([refused.status, refused.json<EsError>().error.type, accepted.status]).toEqual([
      401,
      'security_exception',
      200,
    ]);
  });

  it('rotateApiKey(old, new) retires the old key and accepts the new one', async () => {
    const old = Buffer.from(target.authorization.slice('ApiKey '.length), 'base64').toString();
    receiver.faults.rotateApiKey(old, 'rotated:new-secret');
    const withOld = await bulk(oneDoc('x'));
    const withNew = await bulk(oneDoc('y'), {
      headers: { authorization: `ApiKey ${Buffer.from('rotated:new-secret').toString('base64')}` },
    });
    expect([withOld.status, withNew.status]).toEqual([401, 200]);
  });

  it('counts requests, request-body bytes and answers by status', async () => {
    const body = oneDoc('counted');
    await bulk(body);
    await bulk(body, { headers: { authorization: '' } });
    expect(receiver.traffic.snapshot()).toEqual({
      requests: 2,
      bytes: 2 * Buffer.byteLength(body),
      responsesByStatus: { 200: 1, 401: 1 },
    });
  });
});
