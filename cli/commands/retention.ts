// `ledgerhub retention`: one retention run (a CronJob in Kubernetes): keeps partitions created ahead,
// drops whole daily partitions past retention with a signed tombstone each, records the run.
import { checkpointSigner } from '../../ledger/checkpoint-key.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { retentionKeys } from '../../ledger/config/maintenance.ts';
import { createPool } from '../../ledger/db.ts';
import { createRedis } from '../../ledger/redis.ts';
import { runRetention } from '../../ledger/retention.ts';
import { createLogger } from '../../ledger/runtime/log.ts';
import { ExitCode, parseOptions } from '../exit.ts';

export const summary = 'drop daily partitions past retention, each with a signed tombstone (--dry-run)';

const help = `usage: ledgerhub retention [--dry-run] [--json]

  --dry-run   say which partitions would be created and dropped (with their event counts); change nothing
  --json      print the run's report as JSON

Retention is min(AUDIT_RETENTION_DAYS, the setting of PUT /v1/audit-retention). Daily partitions
(UTC) whose whole day is older than that are dropped through a SECURITY DEFINER function, after the
tombstone (per zone: chain_seq runs removed, boundary hashes, count; the policy; the time) is signed
with LEDGERHUB_CHECKPOINT_KEY and recorded. Partitions for today + LEDGERHUB_PARTITION_AHEAD_DAYS are
created. The run is recorded as a ledgerhub.retention.run event. A run that finds another one holding
the lock does nothing and exits 0. Progress on stderr; the report on stdout.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    { help: { type: 'boolean', short: 'h' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const config = loadConfig('retention', retentionKeys);
  const log = createLogger('retention', config.logLevel);
  const pool = createPool({ ...config, dbMaxConns: 2, applicationName: 'ledgerhub-retention' });
  const redis = values['dry-run'] ? null : createRedis(config.redisUrl, 'ledgerhub-retention');
  try {
    const report = await runRetention(
      { pool, signer: config.checkpointKey ? checkpointSigner(config.checkpointKey) : null },
      {
        ceilingDays: config.retentionCeilingDays,
        partitionAheadDays: config.partitionAheadDays,
        pruneBatch: config.pruneBatch,
        dryRun: values['dry-run'] === true,
        selfAudit: redis
          ? { redis, stream: config.stream, hmacKey: config.hmacKey, zone: config.systemZone }
          : undefined,
        onProgress: (line) => process.stderr.write(`retention: ${line}\n`),
      },
    );
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      const verb = report.dry_run ? 'would drop' : 'dropped';
      console.log(
        report.ran
          ? `${report.dry_run ? 'DRY RUN' : 'OK'}: retention ${report.policy.retention_days} day(s) (${report.policy.source}), ` +
              `${verb} ${report.dropped.length} partition(s) with ${report.dropped.reduce((s, d) => s + d.event_count, 0)} event(s), ` +
              `${report.partitions_created} partition(s) ${report.dry_run ? 'to create' : 'created'}, ${report.ids_pruned} id(s) pruned`
          : 'SKIPPED: another retention run holds the lock',
      );
      for (const d of report.dropped) {
        console.log(
          `  ${d.partition}: ${d.event_count} event(s) in ${d.zones} zone(s)${d.tombstone_id ? ` tombstone ${d.tombstone_id}` : ''}`,
        );
      }
    }
    if (!values.json) log.info({ ...report, dropped: report.dropped.length }, 'retention run finished');
    return ExitCode.ok;
  } finally {
    redis?.disconnect();
    await pool.end();
  }
}
