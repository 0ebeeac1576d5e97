// Redis connections: RESP2 replies (the shapes stream code and BullMQ expect), bounded retries per
// command, reconnection with capped back-off, and errors surfaced through commands, not events.
import { Redis, type RedisOptions } from 'ioredis';

export function createRedis(url: string, name: string, extra: RedisOptions = {}): Redis {
  const r = new Redis(url, {
    protocol: 2,
    connectionName: name,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    enableReadyCheck: true,
    ...extra,
  });
  r.on('error', () => {});
  return r;
}
