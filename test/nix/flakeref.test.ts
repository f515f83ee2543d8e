import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../src/nix/attrs.js';
import { NixError } from '../../src/nix/errors.js';
import {
  flakeRefFromAttrs,
  flakeRefToAttrs,
  flakeRefToString,
  parseFlakeRef,
  parseFlakeRefWithFragment,
} from '../../src/nix/flakeref.js';

const REV = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c';

function parseError(text: string): NixError {
  try {
    parseFlakeRef(text);
  } catch (e) {
    expect(e).toBeInstanceOf(NixError);
    expect((e as NixError).kind).toBe('invalid-ref');
    return e as NixError;
  }
  throw new Error(`expected '${text}' to be refused`);
}

describe('flake reference forms (src/libflake/flakeref.cc, src/libflake-tests/flakeref.cc)', () => {
  it.each<[string, string, Attrs]>([
    ['nixpkgs', 'flake:nixpkgs', { type: 'indirect', id: 'nixpkgs' }],
    [
      `nixpkgs/nixos-24.05/${REV}`,
      `flake:nixpkgs/nixos-24.05/${REV}`,
      { type: 'indirect', id: 'nixpkgs', ref: 'nixos-24.05', rev: REV },
    ],
    [`nixpkgs/${REV.toUpperCase()}`, `flake:nixpkgs/${REV}`, { type: 'indirect', id: 'nixpkgs', rev: REV }],
    [
      `nixpkgs/${REV.slice(1)}`,
      `flake:nixpkgs/${REV.slice(1)}`,
      { type: 'indirect', id: 'nixpkgs', ref: REV.slice(1) },
    ],
    ['flake:nixpkgs?dir=sub', 'flake:nixpkgs?dir=sub', { type: 'indirect', id: 'nixpkgs', dir: 'sub' }],
    ['nixpkgs/branch////', 'flake:nixpkgs/branch', { type: 'indirect', id: 'nixpkgs', ref: 'branch' }],
    [
      'github:NixOS/nixpkgs?ref=nixos-24.05',
      'github:NixOS/nixpkgs/nixos-24.05',
      { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' },
    ],
    [
      'github:NixOS/nixpkgs/nixos-24.05?dir=lib',
      'github:NixOS/nixpkgs/nixos-24.05?dir=lib',
      { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05', dir: 'lib' },
    ],
    [
      'git+https://example.org/r?ref=x&ref=y',
      'git+https://example.org/r?ref=x',
      { type: 'git', url: 'https://example.org/r', ref: 'x' },
    ],
    [
      'git+file:///tmp/x?submodules=1',
      'git+file:///tmp/x?submodules=1',
      { type: 'git', url: 'file:///tmp/x', submodules: true },
    ],
  ])('%s prints as %s', (text, printed, attrs) => {
    const ref = parseFlakeRef(text);
    expect(flakeRefToString(ref)).toBe(printed);
    expect(flakeRefToAttrs(ref)).toEqual(attrs);
  });

  it.each([
    ['nixpkgs/release/foo', "'foo' is not a commit hash"],
    [
      `github:NixOS/nixpkgs/master?rev=${REV}`,
      `contains both a commit hash ('${REV}') and a branch/tag name ('master')`,
    ],
    ['git+https://example.org/r?ref=a..b', "invalid Git branch/tag name 'a..b'"],
    ['path:/p?foo=1', "path URL 'path:/p?foo=1' has unsupported parameter 'foo'"],
  ])('%s is refused: %s', (text, message) => {
    expect(parseError(text).message).toContain(message);
  });
});

describe('parseFlakeRef: every form', () => {
  it.each<[string, string, Attrs]>([
    // indirect
    ['flake:nixpkgs', 'flake:nixpkgs', { type: 'indirect', id: 'nixpkgs' }],
    ['flake:/nixpkgs///dev////', 'flake:nixpkgs/dev', { type: 'indirect', id: 'nixpkgs', ref: 'dev' }],
    [
      `flake:n/dev/${REV}?ref=ignored&rev=ignored`,
      `flake:n/dev/${REV}`,
      { type: 'indirect', id: 'n', ref: 'dev', rev: REV },
    ],
    [
      'home-manager/release-24.05',
      'flake:home-manager/release-24.05',
      { type: 'indirect', id: 'home-manager', ref: 'release-24.05' },
    ],
    [
      'my_flake/v1.0+build@x',
      'flake:my_flake/v1.0%2Bbuild@x',
      { type: 'indirect', id: 'my_flake', ref: 'v1.0+build@x' },
    ],
    ['flake:n/release%2F24.05', 'flake:n/release%2F24.05', { type: 'indirect', id: 'n', ref: 'release/24.05' }],
    ['n/HEAD', 'flake:n/HEAD', { type: 'indirect', id: 'n', ref: 'HEAD' }],
    // github, gitlab, sourcehut
    ['github:NixOS/nixpkgs', 'github:NixOS/nixpkgs', { type: 'github', owner: 'NixOS', repo: 'nixpkgs' }],
    [
      `github:NixOS/nixpkgs/${REV.toUpperCase()}`,
      `github:NixOS/nixpkgs/${REV}`,
      { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: REV },
    ],
    [
      `github:NixOS/nixpkgs?rev=${REV}`,
      `github:NixOS/nixpkgs/${REV}`,
      { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: REV },
    ],
    [
      'github:o/r/release/24.05',
      'github:o/r/release%2F24.05',
      { type: 'github', owner: 'o', repo: 'r', ref: 'release/24.05' },
    ],
    [
      'github:o/r/release%2F24.05',
      'github:o/r/release%2F24.05',
      { type: 'github', owner: 'o', repo: 'r', ref: 'release/24.05' },
    ],
    [
      'github:o/r?host=ghe.example.org&dir=a/b',
      'github:o/r?dir=a/b&host=ghe.example.org',
      { type: 'github', owner: 'o', repo: 'r', host: 'ghe.example.org', dir: 'a/b' },
    ],
    [
      'github:o/r?narHash=sha256-abc',
      'github:o/r?narHash=sha256-abc',
      { type: 'github', owner: 'o', repo: 'r', narHash: 'sha256-abc' },
    ],
    [
      'github:foo/bar/branch%23',
      'github:foo/bar/branch%23',
      { type: 'github', owner: 'foo', repo: 'bar', ref: 'branch#' },
    ],
    ['github://////ow%6Eer//repo///', 'github:owner/repo', { type: 'github', owner: 'owner', repo: 'repo' }],
    [
      'gitlab:o/r/v1?host=gitlab.example.org',
      'gitlab:o/r/v1?host=gitlab.example.org',
      { type: 'gitlab', owner: 'o', repo: 'r', ref: 'v1', host: 'gitlab.example.org' },
    ],
    ['gitlab:group%252Fsub/r', 'gitlab:group%252Fsub/r', { type: 'gitlab', owner: 'group%2Fsub', repo: 'r' }],
    [
      'sourcehut:~user/repo/main',
      'sourcehut:~user/repo/main',
      { type: 'sourcehut', owner: '~user', repo: 'repo', ref: 'main' },
    ],
    // git
    [
      'git+https://example.org/r.git',
      'git+https://example.org/r.git',
      { type: 'git', url: 'https://example.org/r.git' },
    ],
    [
      'git+http://example.org/r?ref=main',
      'git+http://example.org/r?ref=main',
      { type: 'git', url: 'http://example.org/r', ref: 'main' },
    ],
    [
      'git+ssh://git@github.com/o/r?ref=main',
      'git+ssh://git@github.com/o/r?ref=main',
      { type: 'git', url: 'ssh://git@github.com/o/r', ref: 'main' },
    ],
    [
      'git://example.org/r?ref=branch',
      'git://example.org/r?ref=branch',
      { type: 'git', url: 'git://example.org/r', ref: 'branch' },
    ],
    [
      `git+https://e.org/r?rev=${REV}&ref=main&shallow=1&lfs=1&exportIgnore=1`,
      `git+https://e.org/r?exportIgnore=1&lfs=1&ref=main&rev=${REV}&shallow=1`,
      { type: 'git', url: 'https://e.org/r', ref: 'main', rev: REV, shallow: true, lfs: true, exportIgnore: true },
    ],
    [
      'git+https://e.org/r?private=x&dir=d',
      'git+https://e.org/r?dir=d&private=x',
      { type: 'git', url: 'https://e.org/r?private=x', dir: 'd' },
    ],
    ['git+file:/srv/repo', 'git+file:/srv/repo', { type: 'git', url: 'file:/srv/repo' }],
    // mercurial
    [
      'hg+https://hg.example.org/r?ref=default',
      'hg+https://hg.example.org/r?ref=default',
      { type: 'hg', url: 'https://hg.example.org/r', ref: 'default' },
    ],
    [
      `hg+ssh://hg@h.org/r?rev=${REV}`,
      `hg+ssh://hg@h.org/r?rev=${REV}`,
      { type: 'hg', url: 'ssh://hg@h.org/r', rev: REV },
    ],
    ['hg+file:///srv/hg', 'hg+file:///srv/hg', { type: 'hg', url: 'file:///srv/hg' }],
    // path
    ['path:/srv/flake', 'path:/srv/flake', { type: 'path', path: '/srv/flake' }],
    ['path:///srv/flake', 'path:/srv/flake', { type: 'path', path: '/srv/flake' }],
    [
      `path:/nix/store/x-source?lastModified=1700000000&narHash=sha256-q&rev=${REV}&revCount=42`,
      `path:/nix/store/x-source?lastModified=1700000000&narHash=sha256-q&rev=${REV}&revCount=42`,
      {
        type: 'path',
        path: '/nix/store/x-source',
        lastModified: 1700000000,
        narHash: 'sha256-q',
        rev: REV,
        revCount: 42,
      },
    ],
    ['path:/p?dir=sub', 'path:/p?dir=sub', { type: 'path', path: '/p', dir: 'sub' }],
    ['path:rel/dir', 'path:rel/dir', { type: 'path', path: 'rel/dir' }],
    ['/srv/flake', 'path:/srv/flake', { type: 'path', path: '/srv/flake' }],
    [
      '/srv/flake?dir=sub&revCount=1',
      'path:/srv/flake?dir=sub&revCount=1',
      { type: 'path', path: '/srv/flake', revCount: 1, dir: 'sub' },
    ],
    [
      '/foo bar/baz?dir=bla space',
      'path:/foo%20bar/baz?dir=bla%20space',
      { type: 'path', path: '/foo bar/baz', dir: 'bla space' },
    ],
    ['/', 'path:/', { type: 'path', path: '/' }],
    // tarballs and files
    ['https://e.org/x.tar.gz', 'https://e.org/x.tar.gz', { type: 'tarball', url: 'https://e.org/x.tar.gz' }],
    [
      'https://e.org/archive/master',
      'https://e.org/archive/master',
      { type: 'tarball', url: 'https://e.org/archive/master' },
    ],
    ['tarball+https://e.org/dl?id=3', 'https://e.org/dl?id=3', { type: 'tarball', url: 'https://e.org/dl?id=3' }],
    ['file:///srv/x.zip', 'file:///srv/x.zip', { type: 'tarball', url: 'file:///srv/x.zip' }],
    [
      'http://localhost:8181/t/+3d.tar.gz',
      'http://localhost:8181/t/%2B3d.tar.gz',
      { type: 'tarball', url: 'http://localhost:8181/t/%2B3d.tar.gz' },
    ],
    [
      'https://e.org/x.tar.gz?q=a%2Bb%20c',
      'https://e.org/x.tar.gz?q=a%2Bb%20c',
      { type: 'tarball', url: 'https://e.org/x.tar.gz?q=a%2Bb%20c' },
    ],
    // fragments that are empty are no fragment
    ['nixpkgs#', 'flake:nixpkgs', { type: 'indirect', id: 'nixpkgs' }],
  ])('%s prints as %s', (text, printed, attrs) => {
    const ref = parseFlakeRef(text);
    expect(flakeRefToString(ref)).toBe(printed);
    expect(flakeRefToAttrs(ref)).toEqual(attrs);
    // Round trip: printing then parsing again gives the same reference.
    expect(parseFlakeRef(printed)).toEqual(ref);
  });
});

describe('parseFlakeRef: attributes that printing drops, as in Nix', () => {
  // Nix never prints allRefs, false booleans, a file input's `file+` prefix, or a tarball's
  // rev/revCount/lastModified; re-parsing the printed form therefore gives other attributes.
  it.each<[string, string, Attrs]>([
    ['git+https://e.org/r?allRefs=1', 'git+https://e.org/r', { type: 'git', url: 'https://e.org/r', allRefs: true }],
    [
      'git+https://e.org/r?submodules=true',
      'git+https://e.org/r',
      { type: 'git', url: 'https://e.org/r', submodules: false },
    ],
    ['file+https://e.org/f.tar.gz', 'https://e.org/f.tar.gz', { type: 'file', url: 'https://e.org/f.tar.gz' }],
    [
      'https://e.org/x.tgz?narHash=sha256-z&name=n&unpack=1&rev=' + REV + '&revCount=3&dir=d',
      'https://e.org/x.tgz?dir=d&narHash=sha256-z',
      { type: 'tarball', url: 'https://e.org/x.tgz', narHash: 'sha256-z', rev: REV, revCount: 3, dir: 'd' },
    ],
  ])('%s prints as %s', (text, printed, attrs) => {
    const ref = parseFlakeRef(text);
    expect(flakeRefToString(ref)).toBe(printed);
    expect(flakeRefToAttrs(ref)).toEqual(attrs);
    expect(flakeRefToString(parseFlakeRef(printed))).toBe(printed);
  });
});

describe('parseFlakeRef: refusals with Nix texts', () => {
  it.each([
    ['flake:nixpkgs/a/b/c', "GitHub URL 'flake:nixpkgs/a/b/c' is invalid"],
    ['flake:1abc', "'1abc' is not a valid flake ID"],
    ['flake:', "GitHub URL 'flake:' is invalid"],
    ['flake:n/a..b', "in flake URL 'flake:n/a..b', 'a..b' is not a commit hash or branch/tag name"],
    [`flake:n/a..b/${REV}`, "'a..b' is not a branch/tag name"],
    ['flake:n/%20', "' ' is not a commit hash or branch/tag name"],
    ['n/foo.lock', "'foo.lock' is not a commit hash or branch/tag name"],
    ['github:a', "URL 'github:a' is invalid"],
    [`github:o/r/${REV}?rev=${REV}`, 'contains multiple commit hashes'],
    ['github:o/r/main?ref=dev', 'contains multiple branch/tag names'],
    ['github:o/r?tag=v1', "URL 'github:o/r?tag=v1' contains unknown parameter 'tag'"],
    ['github:o/r?ref=a..b', 'contains an invalid branch/tag name'],
    ['github:o/r?host=a/b', 'contains an invalid instance host'],
    ['hg+https://h.org/r?ref=a%20b', "invalid Mercurial branch/tag name 'a b'"],
    ['path:/p?revCount=x', "path URL 'path:/p?revCount=x' has invalid parameter 'revCount'"],
    ['path://host/p', "path URL 'path://host/p' should not have an authority ('host')"],
    ['/p?narHash=x&bogus=1', "has unsupported parameter 'bogus'"],
    ['file://host/x.tar.gz', "file:// URL 'file://host/x.tar.gz' has unexpected authority 'host'"],
    ['foo:bar', "input 'foo:bar' is unsupported"],
    ['svn+https://e.org/r', "input 'svn+https://e.org/r' is unsupported"],
    ['file+git:///srv/r', "did you mean 'git+file' instead of 'file+git'?"],
    ['nixpkgs#hello', "unexpected fragment 'hello' in flake reference 'nixpkgs#hello'"],
    ['github:o/r#packages.x86_64-linux.default', "unexpected fragment 'packages.x86_64-linux.default'"],
    ['/srv/flake#x', "unexpected fragment 'x' in flake reference '/srv/flake#x'"],
    ['git+https://e.org/r#%22a%20b%22', `unexpected fragment '"a b"'`],
    ['./foo', "flake reference './foo' is not an absolute path"],
    ['foo/bar/baz', "in flake URL 'flake:foo/bar/baz', 'baz' is not a commit hash"],
    ['foo/bar baz', "flake reference 'foo/bar baz' is not an absolute path"],
    ['path:/a b', "'path:/a b' is not a valid URL"],
    ['', "flake reference '' is not an absolute path"],
    ['1nixpkgs', "flake reference '1nixpkgs' is not an absolute path"],
  ])('%s: %s', (text, message) => {
    expect(parseError(text).message).toContain(message);
  });
});

describe("parseFlakeRef: query parameters are checked in key order, as Nix's std::map", () => {
  // Nix keeps the query in a std::map, so each scheme meets its parameters sorted by key
  // (UTF-8 bytes: uppercase first), whatever the order typed; the first failing check wins.
  // Texts checked against Nix 2.8 (`nix flake metadata REF`), which quotes path: URLs re-printed
  // as here; for github: 2.8 quotes the URL as typed and ignores unknown parameters, so the
  // unknown-parameter rows follow current Nix's github.cc.
  it.each([
    ['path:/x?zzz=1&revCount=abc', "path URL 'path:/x?revCount=abc&zzz=1' has invalid parameter 'revCount'"],
    [
      'path:/x?zzz=1&lastModified=1&revCount=abc',
      "path URL 'path:/x?lastModified=1&revCount=abc&zzz=1' has invalid parameter 'revCount'",
    ],
    [
      'path:/x?revCount=abc&lastModified=abc',
      "path URL 'path:/x?lastModified=abc&revCount=abc' has invalid parameter 'lastModified'",
    ],
    ['path:/x?Zzz=1&revCount=abc', "path URL 'path:/x?Zzz=1&revCount=abc' has unsupported parameter 'Zzz'"],
    ['/x?zzz=1&revCount=abc', "path URL 'path:///x?revCount=abc&zzz=1' has invalid parameter 'revCount'"],
    // github: a second ref/rev is caught in the loop, so its place among the keys decides.
    ['github:o/r/main?zzz=1&ref=b', "URL 'github:o/r/main?ref=b&zzz=1' contains multiple branch/tag names"],
    ['gitlab:o/r/main?zzz=1&ref=b', "URL 'gitlab:o/r/main?ref=b&zzz=1' contains multiple branch/tag names"],
    [`github:o/r/${REV}?zzz=1&rev=${REV}`, `URL 'github:o/r/${REV}?rev=${REV}&zzz=1' contains multiple commit hashes`],
    ['github:o/r/main?aaa=1&ref=b', "URL 'github:o/r/main?aaa=1&ref=b' contains unknown parameter 'aaa'"],
    ['github:o/r/main?ref=b&Zzz=1', "URL 'github:o/r/main?Zzz=1&ref=b' contains unknown parameter 'Zzz'"],
    // Ref and rev together are refused only after the loop, so an unknown key anywhere wins.
    [`github:o/r?rev=${REV}&ref=b&zzz=1`, `URL 'github:o/r?ref=b&rev=${REV}&zzz=1' contains unknown parameter 'zzz'`],
  ])('%s: %s', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });

  it('keeps the first of duplicate keys before sorting', () => {
    expect(parseFlakeRef('path:/x?zzz&revCount=1&revCount=abc').input).toEqual({
      type: 'path',
      path: '/x',
      revCount: 1,
    });
    expect(() => parseFlakeRef('path:/x?revCount=abc&revCount=1')).toThrow("has invalid parameter 'revCount'");
  });
});

describe('parseFlakeRef: integer parameters (revCount, lastModified)', () => {
  const MAX = Number.MAX_SAFE_INTEGER;
  it.each([
    ['path:/x?revCount=0', 0],
    ['path:/x?revCount=007', 7],
    [`path:/x?revCount=${MAX}`, MAX],
    ['path:/x?revCount=0000000000000000000000000001', 1],
    ['https://e.org/x.tgz?revCount=007', 7],
    [`https://e.org/x.tgz?revCount=${MAX}`, MAX],
  ])('%s has revCount %d', (text, n) => {
    expect(parseFlakeRef(text).input['revCount']).toBe(n);
  });

  // Nix reads uint64: 2.8 accepts path:/x?revCount=99999999999999999. Attributes here are
  // JavaScript numbers, so a value Nix reads but above 2^53-1 is refused on every scheme.
  it.each([
    ['path:/x?revCount=99999999999999999', "path URL 'path:/x?revCount=99999999999999999'", 'revCount'],
    [
      'path:/x?lastModified=18446744073709551615',
      "path URL 'path:/x?lastModified=18446744073709551615'",
      'lastModified',
    ],
    [`path:/x?revCount=${MAX + 1}`, `path URL 'path:/x?revCount=${MAX + 1}'`, 'revCount'],
    [
      'https://e.org/x.tgz?revCount=99999999999999999',
      "URL 'https://e.org/x.tgz?revCount=99999999999999999'",
      'revCount',
    ],
    [
      'tarball+https://e.org/x?lastModified=18446744073709551615',
      "URL 'tarball+https://e.org/x?lastModified=18446744073709551615'",
      'lastModified',
    ],
    [
      'file+https://e.org/f?revCount=99999999999999999',
      "URL 'file+https://e.org/f?revCount=99999999999999999'",
      'revCount',
    ],
  ])('%s is refused, naming the parameter', (text, url, name) => {
    expect(parseError(text).message).toBe(
      `${url} has parameter '${name}' above 9007199254740991 (2^53-1), which is not supported`,
    );
  });

  // Beyond uint64 (or not decimal digits) Nix's string2Int fails: path: names the parameter,
  // tarballs drop it silently (tarball.cc), both as in Nix.
  it.each(['18446744073709551616', '99999999999999999999', '-1', '1.5', 'abc', ''])(
    'revCount=%j: invalid on path:, dropped on tarballs',
    (v) => {
      expect(parseError(`path:/x?revCount=${v}`).message).toBe(
        `path URL 'path:/x?revCount=${v}' has invalid parameter 'revCount'`,
      );
      expect(parseFlakeRef(`https://e.org/x.tgz?revCount=${v}`).input).toEqual({
        type: 'tarball',
        url: 'https://e.org/x.tgz',
      });
    },
  );
});

describe('parseFlakeRef: hostile input only ever raises NixError(invalid-ref)', () => {
  it.each([
    '%',
    '%zz',
    'github:o/r?ref=%zz',
    'github:o/r?ref=%',
    'github:o/%zz',
    'github:o/r#%zz',
    'nixpkgs#%zz',
    'nixpkgs/%41',
    'nixpkgs\u0000',
    'github:o/r\u0001',
    'github:o/r?ref=\u0007',
    'git+https://e.org/r?ref=%00',
    '/srv/\u0000x',
    'path:/a%00b',
    'github:o/r?ref=%ff',
    'https://e.org/%C3',
    'https://[zz]/x.tgz',
    'https://h:99999/x',
    'git+https://e.org/r?ref=a%0Ab',
    'github:o/r/\u00e9',
    '\u202e',
    'x'.repeat(5000),
    `nixpkgs/${'a'.repeat(5000)}`,
    'https://e.org/' + '%2F'.repeat(2000),
    'a:'.repeat(3000),
    '?'.repeat(100),
    '#'.repeat(100),
    ':',
    'git+:',
  ])('refuses %j', (text) => {
    parseError(text);
  });

  it('parses a long but valid ref up to the length limit', () => {
    const text = `github:o/r/${'a'.repeat(3000)}`;
    expect(flakeRefToString(parseFlakeRef(text))).toBe(text);
  });
});

describe('fragments, attributes and round trips', () => {
  it('returns the fragment separately when asked to', () => {
    const [ref, fragment] = parseFlakeRefWithFragment('github:o/r?dir=x#"name.with.dot"');
    expect(fragment).toBe('"name.with.dot"');
    expect(flakeRefToString(ref)).toBe('github:o/r?dir=x');
  });

  it.each<[Attrs, string]>([
    [{ type: 'indirect', id: 'nixpkgs', dir: 'lib' }, 'flake:nixpkgs?dir=lib'],
    [{ type: 'github', owner: 'o', repo: 'r', ref: 'x', dir: 'a b' }, 'github:o/r/x?dir=a%20b'],
    [{ type: 'git', url: 'https://e.org/r', ref: 'main', dir: 'sub' }, 'git+https://e.org/r?dir=sub&ref=main'],
    [{ type: 'path', path: '/p' }, 'path:/p'],
  ])('reads %j from attributes and prints %s', (attrs, printed) => {
    const ref = flakeRefFromAttrs(attrs);
    expect(flakeRefToString(ref)).toBe(printed);
    expect(flakeRefToAttrs(ref)).toEqual(attrs);
    expect(parseFlakeRef(printed)).toEqual(ref);
  });

  it('refuses a non-string dir attribute', () => {
    expect(() => flakeRefFromAttrs({ type: 'indirect', id: 'x', dir: 1 })).toThrow(
      "input attribute 'dir' is not a string",
    );
  });

  it.each([
    'nixpkgs/nixos-24.05',
    'github:NixOS/nixpkgs/nixos-unstable?dir=lib&host=x.org',
    'git+ssh://git@e.org:2222/r?ref=refs/heads/main&shallow=1',
    'hg+https://h.org/r?ref=stable',
    'path:/a%20b/c?revCount=2',
    'https://e.org/x.tar.xz?a=1&b=%2F',
    'gitlab:o/r/v2.0?dir=nested/dir',
  ])('printing is stable: print(parse(print(parse(%s)))) = print(parse(...))', (text) => {
    const once = flakeRefToString(parseFlakeRef(text));
    expect(flakeRefToString(parseFlakeRef(once))).toBe(once);
  });
});
