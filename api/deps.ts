// What the API's routes need, created once by startApi and passed to each route module.
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { DeadLetterStore } from '../ledger/dlq-store.ts';
import type { Logger } from '../ledger/runtime/log.ts';
import type { HmacKey } from '../ledger/stream-codec.ts';
import type { ApiMetrics } from './metrics.ts';
import type { TailHub } from './tail-hub.ts';

export interface ApiDeps {
  pool: pg.Pool;
  redis: Redis;
  hmacKey: HmacKey | null;
  deadLetters: DeadLetterStore;
  tail: TailHub;
  metrics: ApiMetrics;
  log: Logger;
  retentionCeilingDays: number;
}
