// Where export objects go and where verify-export reads them: a directory (a mounted volume) or an
// S3-compatible bucket. Both write only if the key is free, so a re-run never overwrites evidence.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type PutOutcome, S3Client, type S3Location } from './s3-client.ts';

export interface ExportDestination {
  /** Stable name, the key of the destination's export watermark (`fs:<dir>`, `s3:<bucket>`). */
  readonly name: string;
  /** Writes `body` at `key` unless the key exists. */
  putIfAbsent(key: string, body: Buffer, contentType: string): Promise<PutOutcome>;
  get(key: string): Promise<Buffer | null>;
  /** Every key under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Makes everything written so far durable (called before the watermark moves). */
  flush(): Promise<void>;
}

const TEMP_PREFIX = '.ledgerhub-tmp-';

/**
 * A directory. Objects are written to a temporary file, fsynced, then hard-linked to their key: link()
 * fails if the key exists, which is the filesystem's If-None-Match. Temporary files left by a killed
 * run are never taken for objects and are removed by the next run.
 */
export class FileDestination implements ExportDestination {
  readonly name: string;
  readonly root: string;
  readonly #unsyncedDirs = new Set<string>();

  constructor(root: string) {
    this.root = root;
    this.name = `fs:${root}`;
  }

  #path(key: string): string {
    if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new Error(`unsafe object key: ${key}`);
    }
    return join(this.root, ...key.split('/'));
  }

  async putIfAbsent(key: string, body: Buffer): Promise<PutOutcome> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, path);
      this.#unsyncedDirs.add(dirname(path));
      return 'created';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.#path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string) => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const name of names) {
        if (name.startsWith(TEMP_PREFIX)) continue;
        const p = join(dir, name);
        if ((await stat(p)).isDirectory()) await walk(p);
        else {
          const key = relative(this.root, p).split(sep).join('/');
          if (key.startsWith(prefix)) out.push(key);
        }
      }
    };
    await walk(this.root);
    return out.sort();
  }

  async flush(): Promise<void> {
    for (const dir of this.#unsyncedDirs) await syncDir(dir);
    this.#unsyncedDirs.clear();
  }

  /** Removes temporary files a killed run left behind; returns how many. */
  async removeTemporaryFiles(): Promise<number> {
    let removed = 0;
    const walk = async (dir: string) => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const p = join(dir, name);
        if (name.startsWith(TEMP_PREFIX)) {
          await unlink(p).catch(() => {});
          removed++;
        } else if ((await stat(p)).isDirectory()) await walk(p);
      }
    };
    await walk(this.root);
    return removed;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class S3Destination implements ExportDestination {
  readonly name: string;
  readonly client: S3Client;

  constructor(loc: S3Location) {
    this.client = new S3Client(loc);
    this.name = `s3:${loc.bucket}`;
  }

  putIfAbsent(key: string, body: Buffer, contentType: string): Promise<PutOutcome> {
    return this.client.putIfAbsent(key, body, contentType);
  }

  get(key: string): Promise<Buffer | null> {
    return this.client.get(key);
  }

  async list(prefix: string): Promise<string[]> {
    return (await this.client.list(prefix)).sort();
  }

  /** S3 acknowledges a PUT once the object is durable. */
  async flush(): Promise<void> {}
}
