// `ledgerhub sweep`: the integrity sweeper (full sweep at start, rolling sweep hourly, signed
// checkpoints at an interval, caracal_audit_tamper_* metrics); `--once` runs one pass and exits.
import { checkpointSigner } from '../../ledger/checkpoint-key.ts';
import { writeCheckpoint } from '../../ledger/checkpoint-store.ts';
import { loadConfig } from '../../ledger/config/keys.ts';
import { integrityKeys, trustedPublicKeys } from '../../ledger/config/maintenance.ts';
import { createPool } from '../../ledger/db.ts';
import { startIntegrityService } from '../../ledger/integrity-service.ts';
import { TrustedKeys } from '../../ledger/integrity-signature.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { ExitCode, parseOptions } from '../exit.ts';
import { runUntilSignalled } from '../role.ts';

export const summary = 'integrity sweeper: full then rolling tamper sweeps and signed checkpoints (--once)';

const help = `usage: ledgerhub sweep [--once] [--json]

Without --once: runs until SIGTERM. Signs a checkpoint of every changed zone head every
LEDGERHUB_CHECKPOINT_INTERVAL_SECS (needs LEDGERHUB_CHECKPOINT_KEY), sweeps the whole ledger at start
and the last AUDIT_TAMPER_ROLLING_HOURS every LEDGERHUB_SWEEP_INTERVAL_SECS, and serves /health,
/ready and /metrics (caracal_audit_tamper_*) on PORT.
With --once: signs one checkpoint, runs one full sweep, prints the report, exits 1 on faults.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    { help: { type: 'boolean', short: 'h' }, once: { type: 'boolean' }, json: { type: 'boolean' } },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const config = loadConfig('sweep', integrityKeys);
  if (!values.once) return runUntilSignalled(await startIntegrityService(config));

  const pool = createPool({
    ...config,
    dbMaxConns: config.verifyConcurrency + 1,
    applicationName: 'ledgerhub-sweep',
  });
  try {
    const written = config.checkpointKey
      ? await writeCheckpoint(pool, checkpointSigner(config.checkpointKey))
      : null;
    const report = await verifyLedger(pool, {
      key: config.hmacKey,
      publicKeys: new TrustedKeys(trustedPublicKeys(config)),
      concurrency: config.verifyConcurrency,
    });
    if (values.json)
      console.log(JSON.stringify({ checkpoint: written?.checkpoint_no ?? null, ...report }, null, 2));
    else {
      console.log(
        `${report.ok ? 'OK' : 'FAILED'}: ${report.checked} rows swept in ${report.duration_ms} ms` +
          (written ? `; checkpoint ${written.checkpoint_no} signed (${written.zones} zone(s))` : ''),
      );
      for (const f of report.faults) {
        console.log(
          `  zone=${f.zone_id} chain_seq=${f.chain_seq} kind=${f.kind} event=${f.event_id ?? '-'}: ${f.detail}`,
        );
      }
    }
    return report.ok ? ExitCode.ok : ExitCode.failed;
  } finally {
    await pool.end();
  }
}
