// `ledgerhub verify-export`: checks an export offline (a file, a directory or s3://bucket/prefix)
// against its signed manifests, the chain and the exported checkpoints; says exactly what is wrong.
import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadConfig } from '../../ledger/config/keys.ts';
import { trustedPublicKeys, verifyExportKeys } from '../../ledger/config/maintenance.ts';
import { type ExportDestination, FileDestination, S3Destination } from '../../ledger/export-destination.ts';
import { MANIFEST_SUFFIX } from '../../ledger/export-plan.ts';
import { verifyExport } from '../../ledger/export-verify.ts';
import { parseS3Url } from '../../ledger/s3-client.ts';
import { ExitCode, parseOptions, UsageError } from '../exit.ts';
import { trustedKeysWithFiles } from '../public-keys.ts';

export const summary =
  'check an export (file, directory or s3://bucket/prefix) against its manifests and chain';

const help = `usage: ledgerhub verify-export <file | directory | s3://bucket/prefix> [--public-key FILE]... [--json]

Checks each export object against its signed manifest (<object>.manifest.json): the signature and key
fingerprint, the object's location, size and SHA-256, its rows, zones and chain runs; recomputes every
row's content hash and chain link (and chain HMAC when AUDIT_HMAC_KEY is set); checks rows against the
signed checkpoints exported under <prefix>evidence/; and checks that the objects of each format tile
the ledger's commit order and continue each zone's chain. Needs only the public key:
LEDGERHUB_CHECKPOINT_PUBLIC_KEY and/or --public-key FILE (PEM). For S3: AUDIT_EXPORT_S3_ENDPOINT,
AUDIT_EXPORT_S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
Exit codes: 0 verified, 1 faults found (each: object, kind, zone, chain_seq, detail).`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      'public-key': { type: 'string', multiple: true },
    },
    help,
    true,
  );
  if (values.help) {
    console.log(help);
    return ExitCode.ok;
  }
  const target = positionals[0];
  if (!target || positionals.length > 1)
    throw new UsageError(`expected one file, directory or s3:// URL\n\n${help}`);
  const config = loadConfig('verify-export', verifyExportKeys);
  const keys = trustedKeysWithFiles(trustedPublicKeys(config), values['public-key']);
  let source: ExportDestination;
  let prefix = '';
  const s3 = parseS3Url(target);
  if (s3) {
    source = new S3Destination({
      endpoint: config.s3Endpoint,
      bucket: s3.bucket,
      region: config.s3Region,
      credentials: {
        accessKeyId: config.s3AccessKeyId,
        secretAccessKey: config.s3SecretAccessKey,
        sessionToken: config.s3SessionToken || undefined,
      },
    });
    prefix = s3.prefix;
  } else {
    const path = resolve(target);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new UsageError(`${target}: no such file or directory`);
    }
    if (isDir) source = new FileDestination(path);
    else {
      // one object: its folder is the source, its name (without a manifest suffix) the prefix
      source = new FileDestination(dirname(path));
      prefix = basename(path).replace(MANIFEST_SUFFIX, '');
    }
  }
  const tty = process.stderr.isTTY;
  const report = await verifyExport(source, prefix, {
    keys,
    hmacKey: config.hmacKey,
    onProgress: (done, total, key) => {
      if (done % 25 === 0)
        process.stderr.write(`${tty ? '\r' : ''}verifying ${done}/${total} ${key}${tty ? '' : '\n'}`);
    },
  });
  if (tty) process.stderr.write('\n');
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      `${report.ok ? 'OK' : 'FAILED'}: ${report.objects.length} object(s), ${report.events} event(s), ` +
        `${report.checkpoints} checkpoint(s), ${report.tombstones} tombstone(s) checked in ${report.duration_ms} ms` +
        (report.signatures_checked ? '' : ' (no public key: signatures not checked)') +
        (report.hmac_checked ? '' : ' (no AUDIT_HMAC_KEY: chain HMACs not checked)'),
    );
    for (const f of report.faults) {
      console.log(
        `  object=${f.object} kind=${f.kind}` +
          (f.zone_id !== null ? ` zone=${f.zone_id} chain_seq=${f.chain_seq}` : '') +
          `: ${f.detail}`,
      );
    }
  }
  return report.ok ? ExitCode.ok : ExitCode.failed;
}
