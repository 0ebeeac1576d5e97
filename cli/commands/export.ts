// `ledgerhub export`: exports every completed hour after the watermark to the configured destinations
// (S3-compatible bucket and/or a directory), NDJSON.gz and OCSF Parquet, each with a signed manifest.
import { checkpointSigner } from '../../ledger/checkpoint-key.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { exportKeys } from '../../ledger/config/maintenance.ts';
import { createPool } from '../../ledger/db.ts';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';
import { type ExportReport, runExport } from '../../ledger/export.ts';
import { type ExportDestination, FileDestination, S3Destination } from '../../ledger/export-destination.ts';
import { createRedis } from '../../ledger/redis.ts';
import { ExitCode, parseOptions } from '../exit.ts';

export const summary =
  'export completed hours (NDJSON.gz + OCSF Parquet, signed manifests) to S3 or a directory';

const help = `usage: ledgerhub export [--dry-run] [--json] [--max-hours N]

  --dry-run      list the hours and ledger_seq ranges that would be exported; write nothing
  --json         print the report(s) as JSON
  --max-hours N  export at most N hours in this run (default AUDIT_EXPORT_MAX_HOURS)

Destinations: AUDIT_EXPORT_S3_BUCKET (with AUDIT_EXPORT_S3_ENDPOINT, AUDIT_EXPORT_S3_REGION,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and/or AUDIT_EXPORT_DIR. Objects are written with
If-None-Match (never overwritten), so a re-run is harmless; the watermark of each destination moves
only after an hour's objects are written. Manifests are signed with LEDGERHUB_CHECKPOINT_KEY.
Check an export with \`ledgerhub verify-export\`.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      help: { type: 'boolean', short: 'h' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      'max-hours': { type: 'string' },
    },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const config = loadConfig('export', exportKeys);
  const destinations: ExportDestination[] = [];
  if (config.s3Bucket) {
    destinations.push(
      new S3Destination({
        endpoint: config.s3Endpoint,
        bucket: config.s3Bucket,
        region: config.s3Region,
        credentials: {
          accessKeyId: config.s3AccessKeyId,
          secretAccessKey: config.s3SecretAccessKey,
          sessionToken: config.s3SessionToken || undefined,
        },
      }),
    );
  }
  if (config.exportDir) destinations.push(new FileDestination(config.exportDir));
  if (destinations.length === 0) {
    throw new LedgerhubError(
      Errors.configInvalid,
      'export: no destination: set AUDIT_EXPORT_S3_BUCKET and/or AUDIT_EXPORT_DIR',
      { key: 'AUDIT_EXPORT_S3_BUCKET' },
    );
  }
  const maxHours = values['max-hours'] ? Number(values['max-hours']) : config.exportMaxHours;
  const pool = createPool({ ...config, dbMaxConns: 2, applicationName: 'ledgerhub-export' });
  const redis = values['dry-run'] ? null : createRedis(config.redisUrl, 'ledgerhub-export');
  const reports: ExportReport[] = [];
  try {
    for (const destination of destinations) {
      reports.push(
        await runExport(
          { pool, destination, signer: config.checkpointKey ? checkpointSigner(config.checkpointKey) : null },
          {
            formats: config.exportFormats,
            prefix: config.exportPrefix,
            graceSecs: config.exportGraceSecs,
            maxHours,
            maxObjectEvents: config.exportMaxObjectEvents,
            gzipLevel: config.exportGzipLevel,
            encodeHeapMb: config.exportThreadHeapMb,
            dryRun: values['dry-run'] === true,
            selfAudit: redis
              ? { redis, stream: config.stream, hmacKey: config.hmacKey, zone: config.systemZone }
              : undefined,
            onProgress: (line) => process.stderr.write(`export ${destination.name}: ${line}\n`),
          },
        ),
      );
    }
  } finally {
    redis?.disconnect();
    await pool.end();
  }
  if (values.json) console.log(JSON.stringify(reports, null, 2));
  else {
    for (const r of reports) {
      console.log(
        r.ran
          ? `${r.dry_run ? 'DRY RUN' : 'OK'}: ${r.destination}: ${r.hours.length} hour(s), ${r.events} event(s), ` +
              `${r.objects_written} object(s) written, ${r.objects_existing} already present, ` +
              `${r.evidence_written} evidence document(s), backlog ${r.backlog_hours} hour(s), ${r.duration_ms} ms`
          : `SKIPPED: ${r.destination}: another export holds the lock`,
      );
    }
  }
  return ExitCode.ok;
}
