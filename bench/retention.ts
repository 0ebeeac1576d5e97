// bench:retention — N realistic signed events over 60 days, stored exactly as the worker stores them
// (prepareEvent + extendChains, COPYed with their commit log, id registry and chain heads, ingested
// shortly after they occurred). Then, in one run on one Postgres (fsync on):
//   drop:    `ledgerhub retention` removing the 30 oldest days by partition (the phase that takes the
//            rows out of the ledger: per partition a signed tombstone and the SECURITY DEFINER detach,
//            in one transaction under the commit lock);
//   delete:  DELETE of the same rows from a copy of the ledger: one unpartitioned table with the same
//            indexes, the design that retention by DELETE implies;
//   export:  `ledgerhub export` of the remaining days to a directory, NDJSON.gz + OCSF Parquet, run as
//            the export CronJob runs it (compiled CLI, the image's Node options and role flags);
//   verify:  `ledgerhub verify` of the remaining ledger (chains, HMACs, tombstones, checkpoints), on
//            two threads as the command runs it by default.
// Tombstone preparation, id-registry pruning and the freeing of disk space on both sides (the DROP of
// the retired tables, the VACUUM after the DELETE) are timed and printed on stderr, outside the ratio:
// neither side needs them to remove the rows, and both cost about the same per GB on this disk.
//
// Last line: bench:retention rows=<N> drop_s=<..> delete_s=<..> drop_speedup=<delete/drop>
//            export_eps=<..> verify_eps=<..>
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import {
  checkpointSigner,
  generateCheckpointKeyPair,
  parseCheckpointPrivateKey,
} from '../ledger/checkpoint-key.ts';
import { writeCheckpoint } from '../ledger/checkpoint-store.ts';
import { connectClient, createPool } from '../ledger/db.ts';
import type { ExportReport } from '../ledger/export.ts';
import { TrustedKeys } from '../ledger/integrity-signature.ts';
import { runRetention } from '../ledger/retention.ts';
import { hmacKeyFromBytes } from '../ledger/stream-codec.ts';
import { verifyLedger } from '../ledger/verify-store.ts';
import type { LocalStack } from '../test/support/local-services.ts';
import { benchArgs, benchStack, progress, result, spawnAsDeployed, watchProcess } from './harness.ts';
import { loadLedger } from './ledger-data.ts';

const args = benchArgs({ events: '2000000', days: '60', 'drop-days': '30', zones: '8' });
const N = Number(args.events);
const DAYS = Number(args.days);
const DROP_DAYS = Number(args['drop-days']);
const DAY_MS = 86_400_000;

async function main() {
  const stack = await benchStack();
  const pool = createPool({ databaseUrl: stack.databaseUrl, dbMaxConns: 6 });
  const admin = await connectClient({ databaseUrl: stack.databaseUrl, applicationName: 'bench-retention' });
  const key = hmacKeyFromBytes(Buffer.alloc(32, 7));
  const keyPem = generateCheckpointKeyPair().privateKeyPem;
  const signer = checkpointSigner(parseCheckpointPrivateKey(keyPem));
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const first = today - DAYS * DAY_MS;
  const zones = Array.from({ length: Number(args.zones) }, (_, i) => `zone-bench-${i}`);

  await admin.query('SELECT ledgerhub_ensure_partitions($1::date, $2)', [
    new Date(first).toISOString().slice(0, 10),
    DAYS + 2,
  ]);
  progress(
    `loading ${N} events over ${DAYS} days (${zones.length} zones), chained as the worker chains them`,
  );
  const t0 = performance.now();
  await loadLedger(admin, key, {
    first,
    days: DAYS,
    events: N,
    zones,
    onDay: (d, n) => d % 10 === 9 && progress(`  day ${d + 1}/${DAYS}: ${n} events`),
  });
  progress(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; VACUUM ANALYZE`);
  await admin.query('VACUUM ANALYZE audit_events');
  await admin.query('VACUUM ANALYZE audit_event_ids');
  await writeCheckpoint(pool, signer);

  // the DELETE baseline: a copy of the ledger as one table, with audit_events' indexes
  const dropBoundary = new Date(first + DROP_DAYS * DAY_MS).toISOString();
  progress('copying the ledger into one unpartitioned table for the DELETE baseline');
  await copyForDelete(admin);
  await admin.query('CHECKPOINT');

  progress('retention: dropping by partition');
  const retention = await runRetention(
    { pool, signer },
    {
      ceilingDays: DAYS - DROP_DAYS,
      partitionAheadDays: 7,
      pruneBatch: 50_000,
      // the timed retire starts from a checkpoint, as the DELETE does below
      onPrepared: async () => {
        await admin.query('CHECKPOINT');
      },
    },
  );
  const dropped = retention.dropped.reduce((s, d) => s + d.event_count, 0);
  const dropS = retention.timings.drop_ms / 1000;
  progress(
    `  dropped ${retention.dropped.length} partitions (${dropped} rows): drop ${dropS.toFixed(4)} s; ` +
      `tombstone preparation ${(retention.timings.prepare_ms / 1000).toFixed(2)} s, reclaim (DROP of the ` +
      `${retention.tables_reclaimed} retired tables) ${(retention.timings.reclaim_ms / 1000).toFixed(2)} s, id-registry prune ` +
      `${(retention.timings.prune_ms / 1000).toFixed(2)} s, whole run ${(retention.timings.total_ms / 1000).toFixed(2)} s`,
  );

  progress('DELETE of the same rows from the copy');
  await admin.query('CHECKPOINT');
  const d0 = performance.now();
  const deleted = await admin.query('DELETE FROM bench_delete_copy WHERE occurred_at < $1', [dropBoundary]);
  const deleteS = (performance.now() - d0) / 1000;
  progress(`  deleted ${deleted.rowCount} rows in ${deleteS.toFixed(2)} s`);
  if (deleted.rowCount !== dropped)
    throw new Error(`DELETE removed ${deleted.rowCount} rows, the drop ${dropped}`);
  const v0 = performance.now();
  await admin.query('VACUUM bench_delete_copy');
  progress(`  (VACUUM to reclaim them: ${((performance.now() - v0) / 1000).toFixed(2)} s more)`);
  await admin.query('DROP TABLE bench_delete_copy');

  progress('export of the remaining days to a directory (NDJSON.gz + Parquet), as the CronJob runs it');
  const dir = mkdtempSync(join(tmpdir(), 'lh-bench-export-'));
  const exported = await exportAsDeployed(stack, keyPem, dir);
  const exportEps = exported.events / (exported.duration_ms / 1000);
  progress(
    `  ${exported.events} events in ${exported.hours} hours, ${exported.objects_written} objects, ` +
      `${(exported.duration_ms / 1000).toFixed(1)} s; CPU ${exported.cpuUsPerEvent.toFixed(1)} µs per event ` +
      `(all threads), peak RSS ${exported.peakRssMb} MB`,
  );
  rmSync(dir, { recursive: true, force: true });

  progress('verify of the remaining ledger');
  const report = await verifyLedger(pool, {
    key,
    publicKeys: new TrustedKeys([signer.publicKey]),
    concurrency: 2,
    threads: 2,
    db: { databaseUrl: stack.databaseUrl },
  });
  if (!report.ok) throw new Error(`verify found faults: ${JSON.stringify(report.faults.slice(0, 3))}`);
  const verifyEps = report.checked / (report.duration_ms / 1000);
  progress(
    `  ${report.checked} rows (${report.tombstoned} explained by tombstones) in ${(report.duration_ms / 1000).toFixed(1)} s`,
  );

  await admin.end();
  await pool.end();
  await stack.stop();
  result('bench:retention', {
    rows: N,
    drop_s: dropS.toFixed(4),
    delete_s: deleteS.toFixed(2),
    drop_speedup: (deleteS / dropS).toFixed(1),
    export_eps: Math.round(exportEps),
    verify_eps: Math.round(verifyEps),
  });
}

/**
 * `ledgerhub export` in a child process exactly as the export CronJob runs it: the compiled CLI, the
 * image's Node options and the role's node flags (BENCH_EXPORT_NODE_ARGS overrides them), the image's
 * environment, the maintainer role. Its own report gives the duration (process start-up excluded);
 * CPU and peak RSS come from /proc.
 */
async function exportAsDeployed(stack: LocalStack, keyPem: string, dir: string) {
  const child = spawnAsDeployed(
    'export',
    ['--json'],
    {
      DATABASE_URL: stack.databaseUrl,
      REDIS_URL: stack.redisUrl,
      LEDGERHUB_DB_ROLE: 'ledgerhub_maintainer',
      LEDGERHUB_CHECKPOINT_KEY: keyPem,
      AUDIT_EXPORT_DIR: dir,
      AUDIT_EXPORT_GRACE_SECS: '0',
      AUDIT_EXPORT_MAX_HOURS: '100000',
      AUDIT_EXPORT_GZIP_LEVEL: '4',
      LOG_LEVEL: 'warn',
    },
    { nodeArgsOverride: process.env.BENCH_EXPORT_NODE_ARGS, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  // its progress (a line per hour) is kept for a failure only
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 40) stderr.shift();
  });
  const watch = watchProcess(child.pid!);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const { peakRssMb, cpuSeconds } = watch.stop();
  if (code !== 0) throw new Error(`ledgerhub export exited with ${code}:\n${stderr.join('')}`);
  const [report] = JSON.parse(stdout) as ExportReport[];
  if (!report) throw new Error('ledgerhub export printed no report');
  return {
    events: report.events,
    hours: report.hours.length,
    objects_written: report.objects_written,
    duration_ms: report.duration_ms,
    cpuUsPerEvent: (cpuSeconds * 1e6) / report.events,
    peakRssMb,
  };
}

/** audit_events' columns and indexes on one unpartitioned table, filled with all of its rows. */
async function copyForDelete(c: pg.Client) {
  await c.query('CREATE TABLE bench_delete_copy (LIKE audit_events INCLUDING DEFAULTS)');
  await c.query('INSERT INTO bench_delete_copy SELECT * FROM audit_events');
  for (const ddl of [
    'ALTER TABLE bench_delete_copy ADD PRIMARY KEY (id, occurred_at)',
    'CREATE INDEX ON bench_delete_copy (request_id) WHERE request_id IS NOT NULL',
    'CREATE INDEX ON bench_delete_copy (zone_id, chain_seq DESC)',
    'CREATE INDEX ON bench_delete_copy (zone_id, occurred_at DESC, id DESC)',
    "CREATE INDEX ON bench_delete_copy ((metadata_json->>'agent_session_id')) WHERE metadata_json ? 'agent_session_id'",
    "CREATE INDEX ON bench_delete_copy ((metadata_json->>'session_id')) WHERE metadata_json ? 'session_id'",
    "CREATE INDEX ON bench_delete_copy USING gin ((metadata_json->'agent_labels'))",
    'CREATE INDEX ON bench_delete_copy USING brin (ledger_seq) WITH (pages_per_range = 16)',
    'CREATE INDEX ON bench_delete_copy USING brin (ingested_at)',
  ]) {
    await c.query(ddl);
  }
  await c.query('VACUUM ANALYZE bench_delete_copy');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
