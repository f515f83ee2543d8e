import { describe, expect, it } from 'vitest';
import type { Attrs } from '../../src/nix/attrs.js';
import { flakeRefToAttrs, parseFlakeRef } from '../../src/nix/flakeref.js';
import { compareSource, type SourceComparison } from '../../src/nix/source-compare.js';
import { REV } from './audit-helpers.js';

const NAR = 'sha256-OwiJl/4IDo/wnjcFirVy9sx7U34jO5jmWTM1VOu/lDI=';
const NAR2 = 'sha256-47v0skLjinPaWR3YKK5L91WEShWof1TV0cQRQNLrYU8=';
const attrs = (url: string): Attrs => flakeRefToAttrs(parseFlakeRef(url));
/** A lock's attributes: the ref with the fields a fetch adds. */
const locked = (url: string, extra: Attrs = {}): Attrs => ({ ...attrs(url), narHash: NAR, lastModified: 1, ...extra });

function show(c: SourceComparison): string {
  if (c.kind === 'changed')
    return c.changes.map((x) => `${x.attribute}: ${JSON.stringify(x.from)} → ${JSON.stringify(x.to)}`).join(', ');
  if (c.kind === 'unverifiable') return `unverifiable ${c.lockedUrl} / ${c.resolvedUrl}`;
  return c.kind;
}

describe('compareSource: what a lock keeps decides what can be compared', () => {
  it.each<[string, string, Attrs, string]>([
    // github: no branch in the lock, names compared as GitHub does.
    [
      'a github branch the lock cannot show',
      'github:NixOS/nixpkgs/nixos-unstable',
      locked(`github:NixOS/nixpkgs/${REV[0]}`),
      'same',
    ],
    ['github owner and repo in another case', 'github:nixos/NixPkgs', locked(`github:NixOS/nixpkgs/${REV[0]}`), 'same'],
    ['github.com written out as the host', 'github:o/r?host=GitHub.com', locked(`github:o/r/${REV[0]}`), 'same'],
    [
      'another github owner',
      'github:fork/nixpkgs',
      locked(`github:NixOS/nixpkgs/${REV[0]}`),
      'owner: "NixOS" → "fork"',
    ],
    [
      'another github host',
      'github:o/r?host=ghe.example.org',
      locked(`github:o/r/${REV[0]}`),
      'host: "github.com" → "ghe.example.org"',
    ],
    ['another subdirectory', 'github:o/r?dir=sub', locked(`github:o/r/${REV[0]}`), 'dir: "" → "sub"'],
    ['a gitlab repository in another case', 'gitlab:Team/Tool', locked(`gitlab:team/tool/${REV[0]}`), 'same'],
    [
      'a sourcehut owner in another case',
      'sourcehut:~Me/r',
      locked(`sourcehut:~me/r/${REV[0]}`),
      'owner: "~me" → "~Me"',
    ],
    // git: the lock keeps the branch.
    [
      'the git branch the lock has',
      'git+https://e.org/r?ref=main',
      locked(`git+https://e.org/r?ref=main&rev=${REV[0]}`),
      'same',
    ],
    [
      'the default branch as ls-remote names it',
      'git+https://e.org/r?ref=main',
      locked(`git+https://e.org/r?ref=refs/heads/main&rev=${REV[0]}`),
      'same',
    ],
    [
      'another git branch',
      'git+https://e.org/r?ref=stable',
      locked(`git+https://e.org/r?ref=main&rev=${REV[0]}`),
      'ref: "main" → "stable"',
    ],
    [
      'a git ref left to the default branch',
      'git+https://e.org/r',
      locked(`git+https://e.org/r?ref=dev&rev=${REV[0]}`),
      'same',
    ],
    [
      'another git URL',
      'git+https://e.org/s',
      locked(`git+https://e.org/r?ref=main&rev=${REV[0]}`),
      'url: "https://e.org/r" → "https://e.org/s"',
    ],
    [
      'git submodules asked for',
      'git+https://e.org/r?submodules=1',
      locked(`git+https://e.org/r?ref=main&rev=${REV[0]}`),
      'submodules: false → true',
    ],
    [
      'a shallow git clone (same content)',
      'git+https://e.org/r?shallow=1',
      locked(`git+https://e.org/r?ref=main&rev=${REV[0]}`),
      'same',
    ],
    [
      'another hg branch',
      'hg+https://e.org/r?ref=stable',
      locked(`hg+https://e.org/r?ref=default&rev=${REV[0]}`),
      'ref: "default" → "stable"',
    ],
    ['the same path', 'path:/srv/p', locked('path:/srv/p'), 'same'],
    ['another path', 'path:/srv/q', locked('path:/srv/p'), 'path: "/srv/p" → "/srv/q"'],
    // tarballs: the lock may hold the immutable URL the server gave.
    ['the same tarball URL', 'https://e.org/x.tar.gz', locked('https://e.org/x.tar.gz'), 'same'],
    [
      'another tarball URL',
      'https://e.org/x.tar.gz',
      locked('https://e.org/x-1234.tar.gz'),
      'unverifiable https://e.org/x-1234.tar.gz / https://e.org/x.tar.gz',
    ],
    [
      'a tarball whose narHash the registry pins and the lock has',
      `https://e.org/x.tar.gz?narHash=${encodeURIComponent(NAR)}`,
      locked('https://e.org/x-1234.tar.gz'),
      'pinned',
    ],
    // Across types every identifying attribute that differs is listed.
    [
      'a github repository turned into a tarball',
      'https://e.org/x.tar.gz',
      locked(`github:NixOS/nixpkgs/${REV[0]}`),
      'host: "github.com" → null, owner: "NixOS" → null, repo: "nixpkgs" → null, type: "github" → "tarball", url: null → "https://e.org/x.tar.gz"',
    ],
    [
      'a tarball turned into a github repository',
      'github:NixOS/nixpkgs/nixos-24.05',
      locked('https://e.org/x.tar.gz'),
      'host: null → "github.com", owner: null → "NixOS", repo: null → "nixpkgs", type: "tarball" → "github", url: "https://e.org/x.tar.gz" → null',
    ],
    [
      'a github repository moved to a git server',
      'git+https://e.org/nixpkgs',
      locked(`github:NixOS/nixpkgs/${REV[0]}`),
      'host: "github.com" → null, owner: "NixOS" → null, repo: "nixpkgs" → null, type: "github" → "git", url: null → "https://e.org/nixpkgs"',
    ],
    // Pins.
    ['the locked rev, pinned', `github:o/r/${REV[0]}`, locked(`github:o/r/${REV[0]}`), 'pinned'],
    ['another rev, pinned', `github:o/r/${REV[1]}`, locked(`github:o/r/${REV[0]}`), `rev: "${REV[0]}" → "${REV[1]}"`],
    [
      'another narHash, pinned',
      `path:/srv/p?narHash=${encodeURIComponent(NAR2)}`,
      locked('path:/srv/p'),
      `narHash: "${NAR}" → "${NAR2}"`,
    ],
  ])('%s', (_, resolved, lock, expected) => {
    expect(show(compareSource(attrs(resolved), lock))).toBe(expected);
  });
});
