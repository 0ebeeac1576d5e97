import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, renderEnv } from '../../ledger/config/keys.ts';
import { workerKeys } from '../../ledger/config/roles.ts';
import { isLedgerhubError } from '../../ledger/errors.ts';

function failure(env: Record<string, string>): string {
  try {
    loadConfig('worker', workerKeys, env);
  } catch (err) {
    if (!isLedgerhubError(err)) throw err;
    expect(err.code).toBe('config_invalid');
    return err.message;
  }
  throw new Error('expected a config error');
}

describe('role configuration', () => {
  it('applies documented defaults', () => {
    const c = loadConfig('worker', workerKeys, {});
    expect(c.stream).toBe('caracal.audit.events');
    expect(c.maxDeliveries).toBe(8);
    expect(c.claimIdleSecs).toBe(30);
    expect(c.maxMessageBytes).toBe(1_048_576);
    expect(c.hmacKey).toBeNull();
  });

  it('names the key, the value and what was expected', () => {
    expect(failure({ AUDIT_MAX_DELIVERIES: 'eight' })).toBe(
      'worker: AUDIT_MAX_DELIVERIES="eight" is not valid: expected an integer from 1 to 1000',
    );
    expect(failure({ REDIS_URL: 'http://x' })).toMatch(
      /REDIS_URL="http:\/\/x" is not valid: expected a URL \(redis:\/\/ or rediss:\/\/\)/,
    );
    expect(failure({ LOG_LEVEL: 'loud' })).toMatch(/expected one of trace, debug/);
  });

  it('never echoes a secret value in an error', () => {
    const msg = failure({ AUDIT_HMAC_KEY: 'not-hex-secret-value' });
    expect(msg).toContain('AUDIT_HMAC_KEY=<redacted>');
    expect(msg).not.toContain('not-hex-secret-value');
  });

  it('reads secrets from <KEY>_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lh-'));
    writeFileSync(join(dir, 'key'), `${'cd'.repeat(32)}\n`);
    const c = loadConfig('worker', workerKeys, { AUDIT_HMAC_KEY_FILE: join(dir, 'key') });
    expect(c.hmacKey?.symmetricKeySize).toBe(32);
    expect(() => loadConfig('worker', workerKeys, { AUDIT_HMAC_KEY_FILE: join(dir, 'missing') })).toThrow(
      /AUDIT_HMAC_KEY_FILE=.*cannot be read/,
    );
  });

  it('renders configuration back to environment variables, leaving secrets out', () => {
    const env = renderEnv(workerKeys, { batchSize: 250, hmacKey: null, metricsBearer: 'shh' });
    expect(env).toEqual({ AUDIT_BATCH_SIZE: '250' });
  });
});
