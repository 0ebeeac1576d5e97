// The CLI's client for the ledgerhub API: JSON calls that turn API errors into catalogue errors, and a
// server-sent-events reader for the live tail.
import { request } from 'undici';
import { type ErrorSpec, Errors, LedgerhubError } from '../ledger/errors.ts';

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string): Promise<T>;
  events(
    path: string,
    onEvent: (id: string | undefined, data: string) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

function specFor(code: string, status: number): ErrorSpec {
  const known = Object.values(Errors).find((e) => e.code === code);
  return known ?? { code, status, summary: code };
}

export function apiClient(baseUrl: string, token: string): ApiClient {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const call = async <T>(method: 'GET' | 'POST', path: string): Promise<T> => {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${baseUrl}${path}`, {
        method,
        headers,
        headersTimeout: 30_000,
        bodyTimeout: 120_000,
      });
    } catch (err) {
      throw new LedgerhubError(
        Errors.unavailable,
        `cannot reach the API at ${baseUrl} (${(err as Error).message}); is it running? (npm start, or set LEDGERHUB_API_URL)`,
      );
    }
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (res.statusCode >= 400) {
      const b = body as { error?: string; message?: string };
      const hint =
        res.statusCode === 401 ? ' (set LEDGERHUB_TOKEN; `source data/dev.env` for the local stack)' : '';
      throw new LedgerhubError(
        specFor(b.error ?? 'internal', res.statusCode),
        `${b.message ?? text.slice(0, 200)}${hint}`,
      );
    }
    return body as T;
  };
  return {
    get: (path) => call('GET', path),
    post: (path) => call('POST', path),
    async events(path, onEvent, signal) {
      const res = await request(`${baseUrl}${path}`, {
        headers: { ...headers, accept: 'text/event-stream' },
        signal,
      }).catch((err: unknown) => {
        if (signal.aborted) return null;
        throw new LedgerhubError(
          Errors.unavailable,
          `cannot reach the API at ${baseUrl}: ${(err as Error).message}`,
        );
      });
      if (!res) return;
      if (res.statusCode !== 200) {
        const b = (await res.body.json().catch(() => ({}))) as { error?: string; message?: string };
        throw new LedgerhubError(
          specFor(b.error ?? 'internal', res.statusCode),
          b.message ?? `HTTP ${res.statusCode}`,
        );
      }
      let buffer = '';
      try {
        for await (const chunk of res.body) {
          buffer += chunk.toString();
          let sep = buffer.indexOf('\n\n');
          while (sep !== -1) {
            const block = buffer.slice(0, sep);
            buffer = buffer.slice(sep + 2);
            let id: string | undefined;
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (event === 'audit') onEvent(id, data.join('\n'));
            else if (event === 'error') {
              const e = JSON.parse(data.join('\n')) as { error: string; message: string };
              throw new LedgerhubError(specFor(e.error, 503), `the live tail ended: ${e.message}`);
            }
            sep = buffer.indexOf('\n\n');
          }
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      }
    },
  };
}
