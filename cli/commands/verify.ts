// `ledgerhub verify`: recomputes stored chains, checks signed checkpoints and tombstones and producer
// sequences, and reports every fault by zone, chain_seq and kind.
import { loadConfig } from '../../ledger/config/keys.ts';
import { ledgerVerifyKeys, trustedPublicKeys } from '../../ledger/config/maintenance.ts';
import { createPool } from '../../ledger/db.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { ExitCode, parseOptions } from '../exit.ts';
import { trustedKeysWithFiles } from '../public-keys.ts';

export const summary =
  'verify chains, HMACs, checkpoints, tombstones and producer sequences; non-zero exit with a precise report';

const help = `usage: ledgerhub verify [--zone Z] [--from-seq N] [--to-seq N] [--since T] [--until T]
                       [--public-key FILE]... [--json]

Recomputes content hashes, chain links and chain HMACs (AUDIT_HMAC_KEY) for every zone, or one zone,
over a chain_seq range or the chain range spanning an occurred_at window, and checks that each chain
reaches its recorded head and every row its signed checkpoints name. Gaps are accepted only where a
signed retention tombstone removed exactly those rows. A full run also checks per-producer sequence
numbers (metadata_json.producer_id / producer_seq) for gaps.
Checkpoint and tombstone signatures are checked with LEDGERHUB_CHECKPOINT_PUBLIC_KEY (or the public
half of LEDGERHUB_CHECKPOINT_KEY) and any --public-key PEM files.
Progress goes to stderr; the report to stdout.
Exit codes: 0 verified, 1 faults found (each printed as zone, chain_seq, kind, event id, detail).`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      help: { type: 'boolean', short: 'h' },
      zone: { type: 'string' },
      'from-seq': { type: 'string' },
      'to-seq': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean' },
      'public-key': { type: 'string', multiple: true },
    },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const config = loadConfig('verify', ledgerVerifyKeys);
  const keys = trustedKeysWithFiles(trustedPublicKeys(config), values['public-key']);
  const concurrency = config.verifyConcurrency;
  const pool = createPool({ ...config, dbMaxConns: concurrency + 1, applicationName: 'ledgerhub-verify' });
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  try {
    const report = await verifyLedger(pool, {
      key: config.hmacKey,
      publicKeys: keys,
      concurrency,
      // the zones are shared out between threads, so hashing uses as many cores as connections
      threads: concurrency,
      db: { databaseUrl: config.databaseUrl, dbRole: config.dbRole },
      zone: values.zone,
      fromSeq: values['from-seq'] ? Number(values['from-seq']) : undefined,
      toSeq: values['to-seq'] ? Number(values['to-seq']) : undefined,
      since: values.since,
      until: values.until,
      onProgress: (checked, zone) => {
        const now = Date.now();
        if (now - lastPrint < 1000) return;
        lastPrint = now;
        process.stderr.write(`${tty ? '\r' : ''}verified ${checked} rows (zone ${zone})${tty ? '' : '\n'}`);
      },
    });
    if (tty && lastPrint > 0) process.stderr.write('\n');
    if (values.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(
        `${report.ok ? 'OK' : 'FAILED'}: ${report.checked} rows in ${report.zones.length} zone(s) checked in ${report.duration_ms} ms` +
          (config.hmacKey ? '' : ' (no AUDIT_HMAC_KEY: chain HMACs not checked)'),
      );
      console.log(
        `  evidence: ${report.tombstones} tombstone(s) explaining ${report.tombstoned} row(s) dropped by policy, ` +
          `${report.checkpoints} checkpoint(s) with ${report.checkpoint_claims_checked} claim(s) checked, ` +
          `${report.producers} producer sequence(s)` +
          (report.signatures_checked ? '' : ' (no checkpoint public key: signatures not checked)'),
      );
      for (const f of report.faults) {
        console.log(
          `  zone=${f.zone_id} chain_seq=${f.chain_seq} kind=${f.kind} event=${f.event_id ?? '-'}: ${f.detail}`,
        );
      }
      if (report.truncated) console.log('  (more faults not shown)');
    }
    return report.ok ? ExitCode.ok : ExitCode.failed;
  } finally {
    await pool.end();
  }
}
