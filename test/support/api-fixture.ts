// An API for one test file: a ledger fixture, a worker storing into it, and the API with a read-only
// and an admin token; shortcuts to call routes and to seed events and wait until they are stored.
import { request } from 'undici';
import { newToken } from '../../api/auth.ts';
import { type ApiHandle, startApi } from '../../api/main.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { apiKeys } from '../../ledger/config/roles.ts';
import type { AuditEventInput } from '../../ledger/event.ts';
import { waitForIngested } from '../../ledger/ingestion-watermark.ts';
import { startWorker, type WorkerHandle } from '../../worker/main.ts';
import { createLedgerFixture, type LedgerFixture } from './ledger-fixture.ts';

export interface ApiFixture {
  fx: LedgerFixture;
  worker: WorkerHandle;
  api: ApiHandle;
  readToken: string;
  adminToken: string;
  get(
    path: string,
    opts?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Record<string, unknown>; body: unknown; text: string }>;
  post(
    path: string,
    opts?: { token?: string | null; body?: unknown },
  ): Promise<{ status: number; body: unknown }>;
  seed(events: AuditEventInput[]): Promise<void>;
  close(): Promise<void>;
}

export async function createApiFixture(label: string, env: Record<string, string> = {}): Promise<ApiFixture> {
  const fx = await createLedgerFixture(label);
  const worker = await startWorker(fx.workerConfig({ AUDIT_BATCH_SIZE: '500' }));
  const read = newToken('reader', ['audit:read']);
  const admin = newToken('admin', ['audit:admin']);
  const config = loadConfig('api', apiKeys, {
    ...fx.env,
    PORT: '0',
    LEDGERHUB_API_HOST: '127.0.0.1',
    LEDGERHUB_DB_ROLE: 'ledgerhub_reader',
    LEDGERHUB_API_TOKENS: JSON.stringify([read.entry, admin.entry]),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const api = await startApi(config);
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    token: string | null | undefined,
    headers: Record<string, string> = {},
    body?: unknown,
  ) => {
    const res = await request(`${api.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token ?? read.token}` }),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (CSV)
    }
    return { status: res.statusCode, headers: res.headers as Record<string, unknown>, body: parsed, text };
  };
  return {
    fx,
    worker,
    api,
    readToken: read.token,
    adminToken: admin.token,
    get: (path, opts = {}) => call('GET', path, opts.token, opts.headers),
    post: async (path, opts = {}) => {
      const r = await call('POST', path, opts.token, {}, opts.body);
      return { status: r.status, body: r.body };
    },
    async seed(events) {
      for (const e of events) await fx.xadd(e);
      const found = await waitForIngested(
        fx.db.pool,
        events.map((e) => e.id),
        30_000,
      );
      if (found.size !== events.length) throw new Error(`only ${found.size}/${events.length} events stored`);
    },
    async close() {
      await api.stop();
      await worker.stop();
      await fx.close();
    },
  };
}
