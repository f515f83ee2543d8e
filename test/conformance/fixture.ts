import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything Nix can fetch without a network: git repositories reached by
 * `git+file://` and plain directories reached by `path:`, all created under one
 * fresh temporary directory, with the revisions read back from git.
 */
export interface Fixture {
  readonly root: string;
  /** `git+file` target with branches main (HEAD) and dev, and a flake in `sub/`. */
  readonly repoA: string;
  readonly revAMain: string;
  readonly revADev: string;
  /** A second git repository (main and dev) so first-match tests see a different target. */
  readonly repoB: string;
  readonly revBMain: string;
  /** A `path:` flake (not a git repository), with a flake in `sub/`. */
  readonly pathP: string;
  /** The modification time of everything under pathP: Nix's `lastModified` for it. */
  readonly pathMtime: number;
}

// A flake with no inputs, and the lock file Nix would write for it: committing the
// lock keeps `nix flake metadata` from touching the fixture (2.8 writes lock files
// next to local flakes).
const FLAKE_NIX = '{ outputs = _: { }; }\n';
const FLAKE_LOCK = '{\n  "nodes": {\n    "root": {}\n  },\n  "root": "root",\n  "version": 7\n}\n';

// The identity git needs to commit, and nothing from the caller's git config.
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'conformance',
  GIT_AUTHOR_EMAIL: 'conformance@example.invalid',
  GIT_COMMITTER_NAME: 'conformance',
  GIT_COMMITTER_EMAIL: 'conformance@example.invalid',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

function writeFlake(dir: string, marker: string): void {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (const d of [dir, join(dir, 'sub')]) {
    writeFileSync(join(d, 'flake.nix'), FLAKE_NIX);
    writeFileSync(join(d, 'flake.lock'), FLAKE_LOCK);
  }
  writeFileSync(join(dir, 'marker'), `${marker}\n`);
}

function setMtimes(dir: string, seconds: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) setMtimes(join(dir, e.name), seconds);
    else utimesSync(join(dir, e.name), seconds, seconds);
  }
  utimesSync(dir, seconds, seconds);
}

function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

export function buildFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'flake-registry-conformance-'));

  const repoA = join(root, 'repos', 'a');
  mkdirSync(repoA, { recursive: true });
  git(repoA, 'init', '-q', '-b', 'main');
  writeFlake(repoA, 'a main');
  const revAMain = commitAll(repoA, 'a: main');
  git(repoA, 'checkout', '-q', '-b', 'dev');
  writeFileSync(join(repoA, 'marker'), 'a dev\n');
  const revADev = commitAll(repoA, 'a: dev');
  // Leave HEAD on main so an unpinned `git+file` ref sees the main tree.
  git(repoA, 'checkout', '-q', 'main');

  const repoB = join(root, 'repos', 'b');
  mkdirSync(repoB, { recursive: true });
  git(repoB, 'init', '-q', '-b', 'main');
  writeFlake(repoB, 'b main');
  const revBMain = commitAll(repoB, 'b: main');
  git(repoB, 'branch', 'dev');

  const pathP = join(root, 'paths', 'p');
  writeFlake(pathP, 'p');
  // A path input's lastModified is the newest mtime in its tree; fix it so a registry
  // entry can carry it (Nix checks it after fetching).
  const pathMtime = 1_767_225_600; // 2026-01-01T00:00:00Z
  setMtimes(pathP, pathMtime);

  return { root, repoA, revAMain, revADev, repoB, revBMain, pathP, pathMtime };
}

/**
 * Removes a directory made by the suite. Nix makes store paths read-only, and
 * without root a read-only directory cannot be emptied: make everything writable first.
 */
export function removeTree(dir: string): void {
  const makeWritable = (d: string): void => {
    chmodSync(d, 0o755);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) makeWritable(join(d, e.name));
  };
  try {
    makeWritable(dir);
  } catch {
    // already gone, or not ours to change: rmSync reports what matters
  }
  rmSync(dir, { recursive: true, force: true });
}
