// bench:retention — N realistic signed events over 60 days, stored exactly as the worker stores them
// (prepareEvent + extendChains, COPYed with their commit log, id registry and chain heads, ingested
// shortly after they occurred). Then, in one run on one Postgres (fsync on):
//   drop:    `ledgerhub retention` removing the 30 oldest days by partition (the phase that takes the
//            rows out of the ledger: per partition a signed tombstone and the SECURITY DEFINER detach,
//            in one transaction under the commit lock);
//   delete:  DELETE of the same rows from a copy of the ledger: one unpartitioned table with the same
//            indexes, the design that retention by DELETE implies;
//   export:  `ledgerhub export` of the remaining days to a directory, NDJSON.gz + OCSF Parquet;
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
import { runExport } from '../ledger/export.ts';
import { FileDestination } from '../ledger/export-destination.ts';
import { TrustedKeys } from '../ledger/integrity-signature.ts';
import { runRetention } from '../ledger/retention.ts';
import { hmacKeyFromBytes } from '../ledger/stream-codec.ts';
import { verifyLedger } from '../ledger/verify-store.ts';
import { benchArgs, benchStack, progress, result } from './harness.ts';
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
  const signer = checkpointSigner(parseCheckpointPrivateKey(generateCheckpointKeyPair().privateKeyPem));
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
    { ceilingDays: DAYS - DROP_DAYS, partitionAheadDays: 7, pruneBatch: 50_000 },
  );
  const dropped = retention.dropped.reduce((s, d) => s + d.event_count, 0);
  const dropS = retention.timings.drop_ms / 1000;
  progress(
    `  dropped ${retention.dropped.length} partitions (${dropped} rows): drop ${dropS.toFixed(3)} s; ` +
      `tombstone preparation ${(retention.timings.prepare_ms / 1000).toFixed(2)} s, reclaim (DROP of the ` +
      `${retention.tables_reclaimed} retired tables) ${(retention.timings.reclaim_ms / 1000).toFixed(2)} s, id-registry prune ` +
      `${(retention.timings.prune_ms / 1000).toFixed(2)} s, whole run ${(retention.timings.total_ms / 1000).toFixed(2)} s`,
  );

  progress('DELETE of the same rows from the copy');
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

  progress('export of the remaining days to a directory (NDJSON.gz + Parquet)');
  const dir = mkdtempSync(join(tmpdir(), 'lh-bench-export-'));
  const e0 = performance.now();
  const exported = await runExport(
    { pool, destination: new FileDestination(dir), signer },
    {
      formats: ['ndjson', 'parquet'],
      prefix: 'audit/',
      graceSecs: 0,
      maxHours: 100_000,
      maxObjectEvents: 200_000,
      gzipLevel: 4,
      onProgress: () => {},
    },
  );
  const exportS = (performance.now() - e0) / 1000;
  const exportEps = exported.events / exportS;
  progress(
    `  ${exported.events} events in ${exported.hours.length} hours, ${exported.objects_written} objects, ${exportS.toFixed(1)} s`,
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
    drop_s: dropS.toFixed(3),
    delete_s: deleteS.toFixed(2),
    drop_speedup: (deleteS / dropS).toFixed(1),
    export_eps: Math.round(exportEps),
    verify_eps: Math.round(verifyEps),
  });
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
