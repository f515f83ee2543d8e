import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The files a fresh clone of this repository holds, found without git: a release tarball
 * (`git archive`) has no .git, and the tests that copy the checkout as a new user has it must
 * work there too. That is every file under the root except .git and what the root .gitignore
 * names: node_modules, .wrangler state, .dev.vars, dist/ and test output are made by `npm ci`
 * and the tests, and never committed.
 *
 * Only the part of gitignore(5) this repository uses is read: `#` comments, `*` and `?`, a
 * leading or inner `/` anchoring a pattern to the root, a trailing `/` for directories. Any
 * other form is refused rather than read differently from git.
 */

export class SourceTreeError extends Error {
  override readonly name = 'SourceTreeError';
}

export interface IgnoreRule {
  /** The line as written, for messages. */
  readonly pattern: string;
  /** Matches a whole path from the root when anchored, else one name at any depth. */
  readonly regex: RegExp;
  readonly anchored: boolean;
  readonly directoryOnly: boolean;
}

/** The rules of a .gitignore's text; refuses negation, escapes, character classes and `**`. */
export function ignoreRules(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/ +$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const unsupported = /^!|\\|\[|\*\*/.exec(line);
    if (unsupported) {
      throw new SourceTreeError(
        `.gitignore line ${index + 1} ('${line}') uses '${unsupported[0]}', which this reader does not follow`,
      );
    }
    const directoryOnly = line.endsWith('/');
    const body = directoryOnly ? line.slice(0, -1) : line;
    const anchored = body.includes('/');
    const glob = body.replace(/^\//, '');
    if (glob === '') throw new SourceTreeError(`.gitignore line ${index + 1} ('${line}') names no file`);
    const source = glob
      .split('')
      .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|\\]/g, '\\$&')))
      .join('');
    rules.push({ pattern: line, regex: new RegExp(`^${source}$`), anchored, directoryOnly });
  }
  return rules;
}

/** Whether `path` (from the root, `/`-separated) is ignored by `rules`; its parents are not asked. */
export function ignored(rules: readonly IgnoreRule[], path: string, directory: boolean): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return rules.some((rule) => (directory || !rule.directoryOnly) && rule.regex.test(rule.anchored ? path : name));
}

/** The files of a fresh clone under `root`, as `/`-separated paths from it, sorted. */
export function sourceFiles(root: string): string[] {
  let text = '';
  try {
    text = readFileSync(join(root, '.gitignore'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const rules = ignoreRules(text);
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.name === '.git') continue; // a clone's repository, or a worktree's pointer to one
      if (entry.name === '.gitignore' && dir !== '') {
        throw new SourceTreeError(`${path} is not read: only the root .gitignore is`);
      }
      if (entry.isSymbolicLink()) {
        // A link counts as what it points to, so that a linked node_modules is left out too.
        if (ignored(rules, path, statSync(join(root, path)).isDirectory())) continue;
        throw new SourceTreeError(`${path} is a symbolic link, which is not copied as a clone's file`);
      }
      if (ignored(rules, path, entry.isDirectory())) continue;
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.isFile()) {
        files.push(path);
      }
    }
  };
  walk('');
  return files.sort();
}

/** Copies the files of a fresh clone under `root` into `to`, keeping their modes; returns them. */
export function copySourceTree(root: string, to: string): string[] {
  const files = sourceFiles(root);
  for (const file of files) {
    const target = join(to, file);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(root, file), target);
    chmodSync(target, statSync(join(root, file)).mode);
  }
  return files;
}
