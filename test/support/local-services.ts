// Local Redis and Postgres from the system binaries: throwaway servers on free loopback ports for a
// test run, persistent ones under ./data for `ledgerhub dev`. Reuses REDIS_URL / DATABASE_URL when
// they answer; otherwise says which binary is missing and which Debian package provides it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Errors, LedgerhubError } from '../../ledger/errors.ts';

export interface RunningService {
  url: string;
  /** Started by us (false when an existing server was reused). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Data directory; created when missing. */
  dir: string;
  /** Loopback port; 0 picks a free one. */
  port?: number;
  /** Durable settings (fsync, AOF) for a persistent stack; off for throwaway test servers. */
  durable?: boolean;
  log?: (line: string) => void;
}

const START_DEADLINE_MS = 60_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    sock.setTimeout(500);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.connect(port, '127.0.0.1');
  });
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  child?: ChildProcess,
): Promise<T> {
  const deadline = Date.now() + START_DEADLINE_MS;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    }
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready within ${START_DEADLINE_MS / 1000}s: ${String(lastErr)}`);
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** The directory holding initdb and postgres: the newest /usr/lib/postgresql/<v>/bin, else PATH. */
export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  const onPath = which('postgres');
  if (onPath && which('initdb')) return onPath.replace(/\/postgres$/, '');
  throw new LedgerhubError(
    Errors.dependencyMissing,
    'Postgres server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH: ' +
      'install the Debian package postgresql-15 (apt-get install postgresql-15), or set DATABASE_URL to a running server',
  );
}

export function findRedisServer(): string {
  const p =
    which('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
  if (!p) {
    throw new LedgerhubError(
      Errors.dependencyMissing,
      'redis-server not found on PATH: install the Debian package redis-server (apt-get install redis-server), ' +
        'or set REDIS_URL to a running server',
    );
  }
  return p;
}

/** Postgres refuses to run as root; when we are root, run it as the `postgres` user. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    throw new LedgerhubError(
      Errors.dependencyMissing,
      'running as root, but there is no `postgres` user to run the server as: install postgresql-15 or run as a normal user',
    );
  }
}

export async function pgAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1500,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export async function startPostgres(opts: ServiceOptions): Promise<RunningService> {
  const bin = findPostgresBin();
  const user = postgresUser();
  mkdirSync(opts.dir, { recursive: true });
  if (user) chownSync(opts.dir, user.uid, user.gid);
  const spawnAs = user ? { uid: user.uid, gid: user.gid } : {};
  if (!existsSync(join(opts.dir, 'PG_VERSION'))) {
    opts.log?.(`initialising Postgres in ${opts.dir}`);
    try {
      execFileSync(
        join(bin, 'initdb'),
        ['-D', opts.dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
        { ...spawnAs, stdio: 'pipe' },
      );
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? '');
      throw new Error(`initdb failed in ${opts.dir}: ${stderr.trim() || (err as Error).message}`);
    }
  }
  // a server left behind by a killed run still owns the directory: stop it first
  const pidFile = join(opts.dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    try {
      execFileSync(join(bin, 'pg_ctl'), ['-D', opts.dir, 'stop', '-m', 'fast', '-w'], {
        ...spawnAs,
        stdio: 'pipe',
      });
    } catch {
      rmSync(pidFile, { force: true });
    }
  }
  await ensurePortFree(opts.port ?? 0, 'Postgres');
  const port = opts.port || (await freePort());
  const settings = opts.durable
    ? []
    : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      opts.dir,
      '-p',
      String(port),
      '-k',
      opts.dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'max_wal_size=2GB',
      '-c',
      'log_min_messages=warning',
      ...settings,
    ],
    { ...spawnAs, stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  track(child, 'SIGINT');
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 50) stderr.shift();
  });
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitFor('postgres', async () => ((await pgAnswers(adminUrl)) ? true : undefined), child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr.join('')}`);
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/ledgerhub`,
    owned: true,
    stop: () => stopChild(child, 'SIGINT'),
  };
}

export async function startRedis(opts: ServiceOptions): Promise<RunningService> {
  const bin = findRedisServer();
  mkdirSync(opts.dir, { recursive: true });
  await ensurePortFree(opts.port ?? 0, 'Redis');
  const port = opts.port || (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    opts.dir,
    '--save',
    '',
    '--appendonly',
    opts.durable ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  const child = track(spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] }), 'SIGTERM');
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('redis-server', async () => ((await redisAnswers(url)) ? true : undefined), child);
  return { url, owned: true, stop: () => stopChild(child, 'SIGTERM') };
}

/** Servers this process started: stopped when it exits, however it exits (short of SIGKILL). */
const started = new Map<ChildProcess, NodeJS.Signals>();
process.once('exit', () => {
  for (const [child, signal] of started) if (child.exitCode === null) child.kill(signal);
});

function track(child: ChildProcess, stopSignal: NodeJS.Signals): ChildProcess {
  started.set(child, stopSignal);
  child.once('exit', () => started.delete(child));
  return child;
}

/** A clear error when a fixed port is taken, instead of the server's own start-up failure. */
async function ensurePortFree(port: number, what: string): Promise<void> {
  if (port && (await portOpen(port))) {
    throw new LedgerhubError(
      Errors.unavailable,
      `port ${port} for ${what} is in use: is another \`npm start\` running, or a server left behind? ` +
        `(find it with: ss -ltnp 'sport = :${port}')`,
    );
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Creates the database named in `url` when it does not exist. */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1)) || 'ledgerhub';
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

export interface LocalStack {
  redisUrl: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Persistent data folder (dev) or undefined for a throwaway temp directory (tests). */
  dataDir?: string;
  redisPort?: number;
  pgPort?: number;
  env?: Record<string, string | undefined>;
  /** Production durability (fsync, AOF); defaults to on for a persistent data folder. */
  durable?: boolean;
  log?: (line: string) => void;
}

/**
 * Redis and Postgres for a run: REDIS_URL / DATABASE_URL when set and answering, otherwise servers
 * started here. Throwaway servers live in a temp directory removed on stop.
 */
export async function startLocalStack(opts: StackOptions = {}): Promise<LocalStack> {
  const env = opts.env ?? process.env;
  const persistent = opts.dataDir !== undefined;
  const durable = opts.durable ?? persistent;
  const root = opts.dataDir ?? join(tmpdir(), `ledgerhub-${process.pid}-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  const stops: (() => Promise<void>)[] = [];

  let redisUrl = env.REDIS_URL;
  if (redisUrl && (await redisAnswers(redisUrl))) {
    opts.log?.(`using Redis at ${redisUrl} (REDIS_URL)`);
  } else {
    if (redisUrl) opts.log?.(`REDIS_URL=${redisUrl} does not answer; starting a local redis-server`);
    const redis = await startRedis({
      dir: join(root, 'redis'),
      port: opts.redisPort ?? 0,
      durable,
    });
    redisUrl = redis.url;
    stops.push(redis.stop);
  }

  let databaseUrl = env.DATABASE_URL;
  if (databaseUrl && (await pgAnswers(databaseUrl.replace(/\/[^/]*$/, '/postgres')))) {
    opts.log?.(`using Postgres at ${redact(databaseUrl)} (DATABASE_URL)`);
  } else {
    if (databaseUrl)
      opts.log?.(`DATABASE_URL=${redact(databaseUrl)} does not answer; starting a local postgres`);
    const pgServer = await startPostgres({
      dir: join(root, 'postgres'),
      port: opts.pgPort ?? 0,
      durable,
    });
    databaseUrl = pgServer.url;
    stops.push(pgServer.stop);
  }
  await ensureDatabase(databaseUrl);

  return {
    redisUrl,
    databaseUrl,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      if (!persistent) rmSync(root, { recursive: true, force: true });
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/** Writes where the stack listens, so other commands in other terminals find it. */
export function writeStackFile(path: string, stack: { redisUrl: string; databaseUrl: string }): void {
  writeFileSync(
    path,
    `${JSON.stringify({ redisUrl: stack.redisUrl, databaseUrl: stack.databaseUrl }, null, 2)}\n`,
  );
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export { portOpen };
