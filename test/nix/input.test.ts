import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../src/nix/attrs.js';
import { NixError } from '../../src/nix/errors.js';
import { applyOverrides, getRef, getRev, inputFromAttrs, inputToURL, isDirect } from '../../src/nix/input.js';
import { isLegalRefName } from '../../src/nix/schemes/common.js';

const REV = 'a5d3c1e9b7f20468ace13579bdf02468ace13579';
const A = { type: 'git', url: 'file:///srv/a' };

function nixError(f: () => unknown): NixError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NixError);
    return e as NixError;
  }
  throw new Error('expected a NixError');
}

describe('isLegalRefName follows git (libgit2) ref-name rules', () => {
  it.each([
    'main',
    'nixos-24.05',
    'release/24.05',
    'HEAD',
    'refs/heads/main',
    'v1.2.3',
    'foo./bar',
    'x@y',
    'c++',
    'fuß',
    'branch#',
    '$1',
    'foo.locke',
    '-foo/bar',
    'FOO/bar',
  ])('accepts %j', (ref) => {
    expect(isLegalRefName(ref)).toBe(true);
  });
  it.each([
    '',
    '@',
    'a..b',
    '.hidden',
    'a/.b',
    'foo.lock',
    'foo.lock/bar',
    'a//b',
    '/a',
    'a/',
    'a.',
    'a b',
    'a~b',
    'a^b',
    'a:b',
    'a?b',
    'a*b',
    'a[b',
    'a\\b',
    'x@{y',
    '-foo',
    'a\x7f',
    'a\tb',
  ])('refuses %j', (ref) => {
    expect(isLegalRefName(ref)).toBe(false);
  });
});

describe('inputFromAttrs', () => {
  it.each<[string, Attrs, Attrs, string]>([
    ['indirect', { type: 'indirect', id: 'nixpkgs' }, { type: 'indirect', id: 'nixpkgs' }, 'flake:nixpkgs'],
    [
      'indirect with ref and an uppercase rev',
      { type: 'indirect', id: 'n', ref: 'dev', rev: REV.toUpperCase() },
      { type: 'indirect', id: 'n', ref: 'dev', rev: REV },
      `flake:n/dev/${REV}`,
    ],
    [
      'github with host and narHash',
      { type: 'github', owner: 'o', repo: 'r', host: 'git.example.org', narHash: 'sha256-x' },
      { type: 'github', owner: 'o', repo: 'r', host: 'git.example.org', narHash: 'sha256-x' },
      'github:o/r?host=git.example.org&narHash=sha256-x',
    ],
    [
      'gitlab with rev',
      { type: 'gitlab', owner: 'o', repo: 'r', rev: REV },
      { type: 'gitlab', owner: 'o', repo: 'r', rev: REV },
      `gitlab:o/r/${REV}`,
    ],
    [
      'sourcehut',
      { type: 'sourcehut', owner: '~o', repo: 'r' },
      { type: 'sourcehut', owner: '~o', repo: 'r' },
      'sourcehut:~o/r',
    ],
    [
      'git with a git+ url and booleans',
      { type: 'git', url: 'git+https://e.org/r', shallow: true, submodules: false, allRefs: true, lfs: true },
      { type: 'git', url: 'https://e.org/r', shallow: true, submodules: false, allRefs: true, lfs: true },
      'git+https://e.org/r?lfs=1&shallow=1',
    ],
    [
      'git with an absolute path url',
      { type: 'git', url: '/srv/repo' },
      { type: 'git', url: 'file:///srv/repo' },
      'git+file:///srv/repo',
    ],
    [
      'git with scp syntax',
      { type: 'git', url: 'git@github.com:o/r.git' },
      { type: 'git', url: 'ssh://git@github.com/o/r.git' },
      'git+ssh://git@github.com/o/r.git',
    ],
    ['git with a rev but no ref', { ...A, rev: REV }, { ...A, rev: REV }, `git+file:///srv/a?rev=${REV}`],
    [
      'hg',
      { type: 'hg', url: 'https://h.org/r', ref: 'default' },
      { type: 'hg', url: 'https://h.org/r', ref: 'default' },
      'hg+https://h.org/r?ref=default',
    ],
    [
      'path with integers',
      { type: 'path', path: '/p', revCount: 3, lastModified: 17 },
      { type: 'path', path: '/p', revCount: 3, lastModified: 17 },
      'path:/p?lastModified=17&revCount=3',
    ],
    [
      'tarball',
      { type: 'tarball', url: 'https://e.org/x.tar.gz', narHash: 'sha256-y' },
      { type: 'tarball', url: 'https://e.org/x.tar.gz', narHash: 'sha256-y' },
      'https://e.org/x.tar.gz?narHash=sha256-y',
    ],
    [
      'file',
      { type: 'file', url: 'https://e.org/f.txt' },
      { type: 'file', url: 'https://e.org/f.txt' },
      'https://e.org/f.txt',
    ],
  ])('accepts %s and prints it', (_name, attrs, normalised, url) => {
    const input = inputFromAttrs(attrs);
    expect(input).toEqual(normalised);
    expect(inputToURL(input)).toBe(url);
  });

  it.each<[Attrs, string]>([
    [{ id: 'x' }, "'type' attribute to specify input scheme is required but not provided"],
    [{ type: 'svn', url: 'x' }, `cannot show unsupported input '{"type":"svn","url":"x"}'`],
    [{ type: 'indirect', id: '1x' }, "'1x' is not a valid flake ID"],
    [{ type: 'indirect', id: 'x', url: 'y' }, "input attribute 'url' not supported by scheme 'indirect'"],
    [{ type: 'indirect' }, "input attribute 'id' is missing"],
    [{ type: 'indirect', id: 'x', ref: 5 }, "input attribute 'ref' is not a string"],
    [{ type: 'indirect', id: 'x', rev: 'abc' }, "hash 'abc' has wrong length for hash algorithm 'sha1'"],
    [{ type: 'github', owner: 'o' }, "input attribute 'repo' is missing"],
    [
      { type: 'github', owner: 'o', repo: 'r', ref: 'a', rev: REV },
      "contains both a commit hash ('" + REV + "') and a branch/tag name ('a')",
    ],
    [{ type: 'github', owner: 'o', repo: 'r', ref: 'a..b' }, 'contains an invalid branch/tag name'],
    [{ type: 'github', owner: 'o', repo: 'r', host: 'a_b' }, 'contains an invalid instance host'],
    [{ type: 'github', owner: 'o', repo: 'r', dir: 'x' }, "input attribute 'dir' not supported by scheme 'github'"],
    [{ type: 'git', url: 'https://e.org/r', ref: 'a..b' }, "invalid Git branch/tag name 'a..b'"],
    [{ type: 'git', url: 'https://e.org/r', shallow: 'yes' }, "input attribute 'shallow' is not a Boolean"],
    [
      { type: 'git', url: 'https://e.org/r', verifyCommit: true },
      "experimental Nix feature 'verified-fetches' is disabled",
    ],
    [{ type: 'git' }, "input attribute 'url' is missing"],
    [{ type: 'git', url: 'https://e.org/r', revCount: -1 }, "input attribute 'revCount' is not an integer"],
    [{ type: 'git', url: 'https://e.org/r', revCount: 1.5 }, "input attribute 'revCount' is not an integer"],
    [{ type: 'hg', url: 'https://h.org/r', ref: 'a b' }, "invalid Mercurial branch/tag name 'a b'"],
    [{ type: 'path', path: '/p', foo: 'x' }, "input attribute 'foo' not supported by scheme 'path'"],
    [{ type: 'path' }, "input attribute 'path' is missing"],
    [
      { type: 'tarball', url: 'https://e.org/x.tgz', ref: 'x' },
      "input attribute 'ref' not supported by scheme 'tarball'",
    ],
  ])('refuses %j', (attrs, message) => {
    const e = nixError(() => inputFromAttrs(attrs));
    expect(e.kind).toBe('invalid-ref');
    expect(e.message).toContain(message);
  });
});

describe('accessors', () => {
  it('treats only indirect inputs as not direct', () => {
    expect(isDirect({ type: 'indirect', id: 'x' })).toBe(false);
    for (const type of ['github', 'git', 'path', 'tarball']) expect(isDirect({ type })).toBe(true);
  });
  it('reads ref and rev', () => {
    expect(getRef({ type: 'indirect', id: 'x', ref: 'main' })).toBe('main');
    expect(getRef({ type: 'indirect', id: 'x' })).toBeUndefined();
    expect(getRev({ type: 'indirect', id: 'x', rev: REV.toUpperCase() })).toBe(REV);
  });
});

describe('applyOverrides', () => {
  const gh: Attrs = { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixpkgs-unstable' };
  it.each<[string, Attrs, string | undefined, string | undefined, string]>([
    ['indirect takes both', { type: 'indirect', id: 'a' }, 'dev', REV, `flake:a/dev/${REV}`],
    ['github takes a rev and drops the ref', gh, undefined, REV, `github:NixOS/nixpkgs/${REV}`],
    ['github takes a ref and drops the rev', { ...withRev(gh) }, 'main', undefined, 'github:NixOS/nixpkgs/main'],
    ['git takes a ref', A, 'dev', undefined, 'git+file:///srv/a?ref=dev'],
    ['git takes ref and rev', A, 'main', REV, `git+file:///srv/a?ref=main&rev=${REV}`],
    [
      'git keeps its own ref under a rev',
      { ...A, ref: 'main' },
      undefined,
      REV,
      `git+file:///srv/a?ref=main&rev=${REV}`,
    ],
    ['hg takes a rev alone', { type: 'hg', url: 'https://h.org/r' }, undefined, REV, `hg+https://h.org/r?rev=${REV}`],
    ['path takes nothing, and nothing is asked', { type: 'path', path: '/p' }, undefined, undefined, 'path:/p'],
  ])('%s', (_name, input, ref, rev, url) => {
    expect(inputToURL(applyOverrides(input, ref, rev))).toBe(url);
  });

  it.each<[Attrs, string | undefined, string | undefined, string]>([
    [
      gh,
      'main',
      REV,
      `cannot apply both a commit hash (${REV}) and a branch/tag name ('main') to input 'github:NixOS/nixpkgs/nixpkgs-unstable'`,
    ],
    [A, undefined, REV, `Git input 'git+file:///srv/a?rev=${REV}' has a commit hash but no branch/tag name`],
    [{ ...A, rev: REV }, undefined, undefined, 'has a commit hash but no branch/tag name'],
    [
      { type: 'path', path: '/p' },
      'dev',
      undefined,
      "don't know how to set branch/tag name of input 'path:/p' to 'dev'",
    ],
    [
      { type: 'tarball', url: 'https://e.org/x.tgz' },
      undefined,
      REV,
      `don't know how to set revision of input 'https://e.org/x.tgz' to '${REV}'`,
    ],
    [{ type: 'file', url: 'https://e.org/f' }, 'x', REV, "don't know how to set branch/tag name"],
  ])('refuses %j with ref %j rev %j', (input, ref, rev, message) => {
    const e = nixError(() => applyOverrides(input, ref, rev));
    expect(e.kind).toBe('override');
    expect(e.message).toContain(message);
  });
});

function withRev(a: Attrs): Attrs {
  const { ref: _ref, ...rest } = a;
  return { ...rest, rev: REV };
}
