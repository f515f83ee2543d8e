import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';
import { fileProblem } from './files.js';

/**
 * Files replaced so that a reader sees the old bytes or the new ones, never half of them, and
 * several of them replaced together as far as a file system allows: every new file is written
 * and flushed first (`stage`), and only once all are on disk are they renamed into place
 * (`commit`), in order. Nothing is renamed when any of them cannot be written. A process killed
 * between writing and renaming leaves a temporary file `.NAME.HEX.tmp` beside NAME, which the
 * next `stage` of NAME removes once it is STALE_MS old.
 */

/** How old a temporary file must be before another run takes it for one a killed run left. */
export const STALE_MS = 10 * 60 * 1000;

const MAX_LINKS = 40;

/**
 * The file `path` names, with symbolic links followed (a link to the file is kept, and the file
 * it points to is replaced); refuses a directory or a device. A path that does not exist is
 * itself, and so is a link to a file that does not exist yet: the file is made where it points.
 */
export async function targetOf(path: string): Promise<string> {
  let at = resolve(path);
  for (let links = 0; links <= MAX_LINKS; links++) {
    let info;
    try {
      info = await lstat(at);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return at;
      throw new CliError(`${at} ${fileProblem(error)}`);
    }
    if (info.isSymbolicLink()) {
      at = resolve(dirname(at), await readlink(at));
      continue;
    }
    if (!info.isFile()) {
      throw new CliError(`${path} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}: give a file's path`);
    }
    return at;
  }
  throw new CliError(`${path}: more than ${MAX_LINKS} symbolic links in a row`);
}

export interface Staged {
  /** Renames the new bytes into place and flushes the directory. */
  commit(): Promise<void>;
  /** Removes the new bytes, leaving the file as it was. */
  abort(): Promise<void>;
}

/** Writes `bytes` beside `path` (made with `dirMode` if missing) and flushes them, to be committed later. */
export async function stage(path: string, bytes: Uint8Array | string, mode: number, dirMode: number): Promise<Staged> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: dirMode });
  await removeStale(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.chmod(mode); // whatever the umask
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return {
    commit: async () => {
      await rename(temp, path);
      // The rename survives a crash once the directory is on disk too (where it can be opened).
      const parent = await open(dir, 'r').catch(() => undefined);
      if (parent) {
        await parent.sync().catch(() => undefined);
        await parent.close();
      }
    },
    abort: () => rm(temp, { force: true }),
  };
}

/** Temporary files of `path` that a run killed before its rename left, once they are STALE_MS old. */
async function removeStale(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{12}\.tmp$/.test(name.slice(prefix.length))) continue;
    const at = join(dir, name);
    const info = await stat(at).catch(() => undefined);
    if (info?.isFile() && now - info.mtimeMs > STALE_MS) await rm(at, { force: true });
  }
}

/** How long a run waits for another one holding the lock, and when a lock is taken for a crashed run's. */
export const LOCK_WAIT_MS = 60_000;
export const LOCK_STALE_MS = 60 * 60 * 1000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as { code?: string }).code === 'EPERM';
  }
};

/**
 * Runs `work` holding the lock file `path` (made with `wx`, holding this process's pid): one
 * run at a time per lock. Another run's lock is waited for up to LOCK_WAIT_MS; a lock whose
 * process is gone (killed) or that is older than LOCK_STALE_MS is taken over.
 */
export async function withLock<T>(path: string, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST')
        throw new CliError(`cannot lock ${path}: ${fileProblem(error)}`);
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    const info = await stat(path).catch(() => undefined);
    const pid = Number(text.trim());
    const stale =
      info === undefined ||
      !Number.isSafeInteger(pid) ||
      pid <= 0 ||
      !alive(pid) ||
      Date.now() - info.mtimeMs > LOCK_STALE_MS;
    if (stale) {
      // Only the lock read above: another run may have taken it over since.
      if ((await readFile(path, 'utf8').catch(() => '')) === text) await rm(path, { force: true });
      continue;
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new CliError(
        `${what} is locked by another run (pid ${pid}, ${path}) for more than ${LOCK_WAIT_MS / 1000} s; if no such run is going on, remove the lock`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
