// `ledgerhub verify`: recomputes stored chains and reports every fault by zone, chain_seq and kind.
import { loadConfig } from '../../ledger/config/keys.ts';
import { verifyKeys } from '../../ledger/config/roles.ts';
import { createPool } from '../../ledger/db.ts';
import { verifyLedger } from '../../ledger/verify-store.ts';
import { ExitCode, parseOptions } from '../exit.ts';

export const summary = 'verify hash chains, HMACs and heads; non-zero exit with a precise report on failure';

const help = `usage: ledgerhub verify [--zone Z] [--from-seq N] [--to-seq N] [--since T] [--until T] [--json]

Recomputes content hashes, chain links and chain HMACs (AUDIT_HMAC_KEY) for every zone, or one zone,
over a chain_seq range or the chain range spanning an occurred_at window, and checks that each chain
reaches its recorded head. Progress goes to stderr; the report to stdout.
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
    },
    help,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const config = loadConfig('verify', verifyKeys);
  const pool = createPool({ ...config, dbMaxConns: 2, applicationName: 'ledgerhub-verify' });
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  try {
    const report = await verifyLedger(pool, {
      key: config.hmacKey,
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
