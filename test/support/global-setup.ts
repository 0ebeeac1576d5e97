// Vitest global setup: one throwaway Redis and Postgres for the whole run, and a migrated template
// database that each test file clones (CREATE DATABASE ... TEMPLATE is a file copy, so it is quick).
import type { TestProject } from 'vitest/node';
import { connectClient } from '../../ledger/db.ts';
import { migrate } from '../../ledger/migrate.ts';
import { startLocalStack } from './local-services.ts';

export const TEMPLATE_DB = 'ledgerhub_template';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack({ env: {} });
  const adminUrl = stack.databaseUrl.replace(/\/[^/]*$/, '/postgres');
  const admin = await connectClient({ databaseUrl: adminUrl });
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const template = await connectClient({
    databaseUrl: stack.databaseUrl.replace(/\/[^/]*$/, `/${TEMPLATE_DB}`),
  });
  await migrate(template);
  await template.end();
  project.provide('pgAdminUrl', adminUrl);
  project.provide('redisUrl', stack.redisUrl);
  return () => stack.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    redisUrl: string;
  }
}
