import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copySourceTree, ignored, ignoreRules, sourceFiles } from '../../scripts/source-tree.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'flake-registry-source-tree-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A fresh directory under `work` holding `files` (path to contents). */
function tree(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('reading .gitignore as git does', () => {
  it.each([
    // pattern, path, is a directory, ignored
    ['node_modules/', 'node_modules', true, true],
    ['node_modules/', 'node_modules', false, false],
    ['node_modules/', 'test/fixture/node_modules', true, true],
    ['.dev.vars', '.dev.vars', false, true],
    ['.dev.vars', 'sub/.dev.vars', false, true],
    ['*.sec', 'alice.sec', false, true],
    ['*.sec', 'keys/alice.sec', false, true],
    ['*.sec', 'alice.sec.json', false, false],
    ['*.log', 'a/b.log', false, true],
    ['test/conformance/.work/', 'test/conformance/.work', true, true],
    ['test/conformance/.work/', 'other/test/conformance/.work', true, false],
    ['/dist', 'dist', true, true],
    ['/dist', 'src/dist', true, false],
    ['a?c', 'abc', false, true],
    ['a?c', 'a/c', false, false],
    ['a*c', 'ab/c', false, false],
    ['x.json', 'xyjson', false, false],
  ] as const)("'%s' on %s (directory: %s) ignores it: %s", (pattern, path, directory, expected) => {
    expect(ignored(ignoreRules(pattern), path, directory)).toBe(expected);
  });

  it('skips comments and blank lines', () => {
    expect(ignoreRules('# dist/\n\n   \nnode_modules/\n').map((r) => r.pattern)).toEqual(['node_modules/']);
  });

  it.each([
    ['!keep.sec', "'!'"],
    ['\\#file', "'\\'"],
    ['*.[ch]', "'['"],
    ['**/build', "'**'"],
    ['/', 'names no file'],
  ])("refuses '%s', which it would read differently from git, naming %s", (line, named) => {
    expect(() => ignoreRules(`a\n${line}\n`)).toThrow(`.gitignore line 2 ('${line}')`);
    expect(() => ignoreRules(line)).toThrow(named);
  });
});

describe('the files of a fresh clone', () => {
  it('are every file but .git and what the root .gitignore names', () => {
    const dir = tree('clone', {
      '.gitignore': 'node_modules/\n.dev.vars\n*.sec\ndist/\n',
      '.git': 'gitdir: /elsewhere\n',
      'package.json': '{}',
      '.dev.vars': 'DEV_TRUSTED_KEYS=""',
      'alice.sec': 'secret',
      'node_modules/zod/index.js': '',
      'dist/flake-registry.mjs': '',
      'src/a.ts': '',
      'src/dist.ts': '',
    });
    symlinkSync(join(dir, 'node_modules'), join(dir, 'src', 'node_modules'));
    expect(sourceFiles(dir)).toEqual(['.gitignore', 'package.json', 'src/a.ts', 'src/dist.ts']);
  });

  it('are copied with their modes', () => {
    const dir = tree('modes', { 'bin/run': '#!/bin/sh\n', 'README.md': 'hi', '.gitignore': 'out/\n', 'out/x': '' });
    execFileSync('chmod', ['755', join(dir, 'bin', 'run')]);
    const to = join(work, 'modes-copy');
    expect(copySourceTree(dir, to)).toEqual(['.gitignore', 'README.md', 'bin/run']);
    expect(statSync(join(to, 'bin', 'run')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(to, 'README.md'), 'utf8')).toBe('hi');
  });

  it('refuse a symbolic link that is not ignored, and a .gitignore below the root', () => {
    const linked = tree('linked', { 'a.txt': '' });
    symlinkSync(join(linked, 'a.txt'), join(linked, 'b.txt'));
    expect(() => sourceFiles(linked)).toThrow('b.txt is a symbolic link');
    const nested = tree('nested', { 'sub/.gitignore': '*.tmp\n' });
    expect(() => sourceFiles(nested)).toThrow('sub/.gitignore is not read: only the root .gitignore is');
  });

  it("are those of this repository's .gitignore", () => {
    expect(() => ignoreRules(readFileSync(join(root, '.gitignore'), 'utf8'))).not.toThrow();
  });
});

const inClone = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: root, encoding: 'utf8' }).trim() === root;
  } catch {
    return false; // no git, or a copy without .git (a release tarball)
  }
})();

describe.skipIf(!inClone)('in a clone', () => {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '');

  it('lists every file git tracks and none that git ignores', () => {
    const files = new Set(sourceFiles(root));
    const deleted = new Set(git('ls-files', '-z', '--deleted'));
    for (const file of git('ls-files', '-z')) if (!deleted.has(file)) expect(files, file).toContain(file);
    const ignoredByGit = git('ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory');
    for (const path of ignoredByGit) {
      for (const file of files) expect(file.startsWith(path) && file, path).toBe(false);
    }
  });
});
