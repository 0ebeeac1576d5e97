// The cursor never skips an event that committed late: with several ingestion workers committing at
// once, and with one commit held open while other writers queue behind it, the sink gets every ledger
// seq, and the dispatcher never plans past what is committed.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwarderHandle } from '../../forwarder/main.ts';
import { appendBatch } from '../../ledger/append-batch.ts';
import { prepareEvent } from '../../ledger/prepare-event.ts';
import { realisticEvents } from '../../ledger/scenarios.ts';
import { startWorker, type WorkerHandle } from '../../worker/main.ts';
import { type SplunkHecReceiver, startSplunkHec } from '../support/receivers/index.ts';
import { waitFor } from '../support/wait.ts';
import {
  createForwarderFixture,
  type ForwarderFixture,
  hecSeqs,
  hecSinkEntry,
} from './support/forwarder-fixture.ts';

let fx: ForwarderFixture;
let hec: SplunkHecReceiver;
let forwarder: ForwarderHandle;

beforeAll(async () => {
  fx = await createForwarderFixture('late-commits');
  hec = await startSplunkHec();
  forwarder = await fx.start([
    hecSinkEntry(fx, hec, 'splunk', { spec: { batch: { events: 40, waitMs: 0 } } }),
  ]);
});
afterAll(async () => {
  await forwarder.stop();
  await fx.close();
  await hec.stop();
});

/** A client whose final statement of a batch (the one that COMMITs) waits until `release` resolves. */
function holdingCommit(client: pg.PoolClient, release: Promise<void>, held: () => void): pg.PoolClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      const query = (...args: unknown[]) =>
        (target.query as (...a: unknown[]) => unknown).apply(target, args);
      // COPY passes a stream object and needs the stream back, so only the COMMIT statement is wrapped
      return (...args: unknown[]) => {
        if (typeof args[0] !== 'string' || !/\bCOMMIT\s*$/.test(args[0])) return query(...args);
        held();
        return release.then(() => query(...args));
      };
    },
  });
}

function prepared(n: number, seed: number) {
  return realisticEvents(n, { seed }).map((e) => {
    const p = prepareEvent(JSON.stringify(e), null);
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });
}

describe('late commits', () => {
  it('delivers every seq when three ingestion workers commit concurrently', async () => {
    const workers: WorkerHandle[] = [];
    for (let i = 0; i < 3; i++) {
      workers.push(
        await startWorker(
          fx.ledger.workerConfig({
            HOSTNAME: `late-worker-${i}`,
            AUDIT_BATCH_SIZE: '25',
            AUDIT_CLASSIFY_THREAD: 'false',
          }),
        ),
      );
    }
    try {
      const events = realisticEvents(900, { seed: 21 });
      for (const e of events) await fx.ledger.xadd(e);
      await waitFor('stored', async () => (await fx.ledger.storedCount()) === events.length, 60_000);
      const { rows } = await fx.ledger.db.pool.query<{ n: number }>(
        'SELECT count(DISTINCT consumer)::int AS n FROM audit_commits',
      );
      expect(rows[0]!.n).toBeGreaterThan(1);
      await hec.waitForEvents(events.length, 60_000);
      const seqs = hecSeqs(hec).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      expect(new Set(hec.events().map((e) => (e.event as { id: string }).id))).toEqual(
        new Set(events.map((e) => e.id)),
      );
    } finally {
      for (const w of workers) await w.stop();
    }
  });

  it('never plans past a commit held open while other writers wait for the commit lock', async () => {
    const before = await fx.head();
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let isHeld = false;
    const slowClient = await fx.ledger.db.pool.connect();
    const slow = appendBatch(
      holdingCommit(slowClient, released, () => (isHeld = true)),
      prepared(30, 31),
      {
        hmacKey: null,
        consumer: 'slow-writer',
      },
    );
    await waitFor('slow commit holding the lock', () => isHeld);
    // other writers queue behind the commit lock while the slow batch is uncommitted
    const others = Promise.all([
      fx.commit(realisticEvents(20, { seed: 32 }), 10),
      fx.commit(realisticEvents(20, { seed: 33 }), 10),
    ]);
    const { rows } = await fx.ledger.db.pool.query<{ planned: number; head: number }>(
      `SELECT s.enqueued_through AS planned, l.last_ledger_seq AS head FROM forwarder_sinks s, audit_ledger_state l`,
    );
    expect(rows[0]!.head).toBe(before);
    expect(rows[0]!.planned).toBeLessThanOrEqual(before);

    release();
    const slowResult = await slow;
    slowClient.release();
    await others;
    expect(slowResult.firstSeq).toBe(before + 1);
    const head = await fx.head();
    expect(head).toBe(before + 70);
    await hec.waitForEvents(head, 30_000);
    const seqs = new Set(hecSeqs(hec));
    for (let seq = 1; seq <= head; seq++) expect(seqs.has(seq), `seq ${seq}`).toBe(true);
    await waitFor(
      'cursor at head',
      async () => (await fx.health('splunk')).deliveredThrough === head,
      20_000,
    );
  });
});
