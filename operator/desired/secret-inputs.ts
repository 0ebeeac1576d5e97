// Which Secret keys each role of a policy needs, and how it receives them: keys the roles declare secret
// are mounted as files and named by `<KEY>_FILE`; the others (REDIS_URL, DATABASE_URL, the S3 key id)
// come as env from a secretKeyRef. Files follow the forwarder's layout `<dir>/<secret>/<key>`.
import type { KeyDef, Keys } from '../../ledger/config/keys.ts';
import { secretPath } from '../../ledger/sinks/secret-source.ts';
import type { AuditSinkSpec, SecretKeyRef } from '../../ledger/sinks/spec.ts';
import type { AuditPolicySpec } from '../api/audit-policy.ts';
import { ROLE_KEYS, type Role, SECRETS_DIR } from './role-env.ts';

export interface SecretInput {
  /** The variable the role reads (KeyDef.env). */
  env: string;
  /** Mounted as a file (`<env>_FILE`) rather than set as env. */
  file: boolean;
  ref: SecretKeyRef;
}

/** Config fields filled from Secrets, and where the policy names each Secret. */
function policySecretFields(spec: AuditPolicySpec): [field: string, ref: SecretKeyRef | undefined][] {
  const s3 = spec.export?.destination.s3;
  return [
    ['redisUrl', spec.ledger.redisUrl],
    ['databaseUrl', spec.ledger.postgresUrl],
    ['hmacKey', spec.ledger.hmacKey],
    ['metricsBearer', spec.metricsBearer],
    ['apiTokens', spec.api.tokens],
    ['checkpointKey', spec.integrity.checkpointKey],
    ['checkpointPublicKey', spec.integrity.checkpointPublicKey],
    ['s3AccessKeyId', s3?.accessKeyId],
    ['s3SecretAccessKey', s3?.secretAccessKey],
  ];
}

/** The Secret keys a role reads, for the fields its key set has. */
export function roleSecretInputs(spec: AuditPolicySpec, role: Role): SecretInput[] {
  const keys = ROLE_KEYS[role] as Keys;
  const out: SecretInput[] = [];
  for (const [field, ref] of policySecretFields(spec)) {
    const def: KeyDef<unknown> | undefined = keys[field];
    if (!ref || !def) continue;
    out.push({ env: def.env, file: def.secret, ref });
  }
  return out;
}

/** Every Secret key a sink refers to (credentials, signing secrets, TLS material). */
export function sinkSecretRefs(spec: AuditSinkSpec): SecretKeyRef[] {
  const refs: (SecretKeyRef | undefined)[] = [
    spec.splunkHec?.token,
    spec.elasticsearch?.apiKey,
    spec.elasticsearch?.password,
    spec.webhook?.signingSecret,
    ...Object.values(spec.webhook?.secretHeaders ?? {}),
    spec.tls.ca,
    spec.tls.clientCert,
    spec.tls.clientKey,
  ];
  return refs.filter((r): r is SecretKeyRef => r !== undefined);
}

/** Every Secret key a policy's own roles refer to. */
export function policySecretRefs(spec: AuditPolicySpec): SecretKeyRef[] {
  return policySecretFields(spec)
    .map(([, ref]) => ref)
    .filter((r): r is SecretKeyRef => r !== undefined);
}

export function refKey(ref: SecretKeyRef): string {
  return `${ref.name}/${ref.key}`;
}

/** Unique refs, ordered by secret then key (stable volume items). */
export function uniqueRefs(refs: SecretKeyRef[]): SecretKeyRef[] {
  const byKey = new Map(refs.map((r) => [refKey(r), r]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** The container env entries of a role's Secret inputs. */
export function secretEnv(inputs: SecretInput[]): Record<string, unknown>[] {
  return inputs.map((input) =>
    input.file
      ? { name: `${input.env}_FILE`, value: secretPath(input.ref, SECRETS_DIR) }
      : { name: input.env, valueFrom: { secretKeyRef: { name: input.ref.name, key: input.ref.key } } },
  );
}
