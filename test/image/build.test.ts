import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  IMAGE_CLI,
  IMAGE_ENV,
  IMAGE_NODE_OPTIONS,
  ROLE_NODE_FLAGS,
} from '../../ledger/runtime/node-options.ts';

const root = new URL('../..', import.meta.url).pathname;

describe('the production build (what the image runs)', () => {
  it('compiles to JavaScript that starts every command without type stripping', () => {
    execFileSync(process.execPath, ['scripts/build.ts'], { cwd: root, stdio: 'pipe' });
    for (const f of [
      'dist/cli/ledgerhub.js',
      'dist/worker/classify-thread.js',
      'dist/ledger/migrations/0001_ledger.sql',
      'dist/api/console/index.html',
    ]) {
      expect(existsSync(`${root}${f}`), f).toBe(true);
    }
    const r = spawnSync(
      process.execPath,
      [
        '--no-experimental-strip-types',
        ...new Set(Object.values(ROLE_NODE_FLAGS).flat()),
        'dist/cli/ledgerhub.js',
        '--help',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: IMAGE_NODE_OPTIONS },
      },
    );
    expect(r.status).toBe(0);
    for (const command of [
      'worker',
      'forwarder',
      'api',
      'operator',
      'retention',
      'export',
      'verify',
      'migrate',
    ]) {
      expect(r.stdout).toContain(`  ${command} `);
    }
  }, 120_000);

  it('runs with the Node options the Dockerfile sets', () => {
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(dockerfile).toContain(`NODE_OPTIONS="${IMAGE_NODE_OPTIONS}"`);
    for (const [name, value] of Object.entries(IMAGE_ENV)) expect(dockerfile).toContain(`${name}=${value} `);
    // the operator runs roles with node flags as `node <flags> IMAGE_CLI <role>`
    expect(dockerfile).toContain(`ln -s ${IMAGE_CLI} /usr/local/bin/ledgerhub`);
    expect(dockerfile).toMatch(/FROM \$\{NODE_IMAGE\} AS runtime/);
    expect(readFileSync(`${root}.dockerignore`, 'utf8')).toContain('!tsconfig.build.json');
  });
});
