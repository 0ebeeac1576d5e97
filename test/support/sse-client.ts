// A server-sent-events client for tests: parses the stream as it arrives and lets a test await the
// next event matching a predicate, or pause reading to play a slow consumer.
import { type IncomingMessage, request } from 'node:http';

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  comment?: string;
}

export interface SseClient {
  status: number;
  events: SseEvent[];
  next(predicate: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  pause(): void;
  resume(): void;
  ended: Promise<void>;
  close(): void;
}

export function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { accept: 'text/event-stream', ...headers } },
      (res: IncomingMessage) => {
        const events: SseEvent[] = [];
        const waiters: { predicate: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
        let buffer = '';
        let seen = 0;
        const dispatch = () => {
          for (; seen < events.length; seen++) {
            const e = events[seen]!;
            for (const w of [...waiters]) {
              if (w.predicate(e)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(e);
              }
            }
          }
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let sep = buffer.indexOf('\n\n');
          while (sep !== -1) {
            const block = buffer.slice(0, sep);
            buffer = buffer.slice(sep + 2);
            const e: SseEvent = { event: 'message', data: '' };
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) e.comment = line.slice(1).trim();
              else if (line.startsWith('id: ')) e.id = line.slice(4);
              else if (line.startsWith('event: ')) e.event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            e.data = data.join('\n');
            if (e.comment !== undefined && data.length === 0) e.event = 'comment';
            events.push(e);
            sep = buffer.indexOf('\n\n');
          }
          dispatch();
        });
        const ended = new Promise<void>((r) => res.once('close', () => r()));
        resolve({
          status: res.statusCode ?? 0,
          events,
          next(predicate, timeoutMs = 20_000) {
            const already = events.find(predicate);
            if (already) return Promise.resolve(already);
            return new Promise((res2, rej) => {
              const timer = setTimeout(
                () => rej(new Error(`no matching event within ${timeoutMs} ms`)),
                timeoutMs,
              );
              waiters.push({
                predicate: (e) => predicate(e),
                resolve: (e) => {
                  clearTimeout(timer);
                  res2(e);
                },
              });
            });
          },
          pause: () => res.pause(),
          resume: () => res.resume(),
          ended,
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
