import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/nix/document.js';
import { LockFileError, readLockFile, type LockFile, type LockFileErrorCode } from '../../src/nix/lockfile.js';
import { fixture, lock, NAR, node, REV } from './audit-helpers.js';

const paths = (l: LockFile): [string, string, string | undefined][] =>
  l.inputs.map((i) => [i.input, i.node, i.follows?.join('/')]);

describe('readLockFile: versions 5, 6 and 7 (src/libflake/lockfile.cc)', () => {
  it('lists every input of a version 7 lock by path, follows resolved to their node', () => {
    const l = readLockFile(fixture('lock-v7.json'));
    expect(l.version).toBe(7);
    expect(paths(l)).toEqual([
      ['data', 'data', undefined],
      ['flake-utils', 'flake-utils', undefined],
      ['flake-utils/systems', 'systems', undefined],
      ['gone', 'gone', undefined],
      ['home-manager', 'home-manager', undefined],
      ['home-manager/nixpkgs', 'nixpkgs', 'nixpkgs'],
      ['nixpkgs', 'nixpkgs', undefined],
      ['nixpkgs-stable', 'nixpkgs_2', undefined],
      ['pinned', 'pinned', undefined],
      ['self-ref', 'root', ''],
      ['tools', 'tools', undefined],
      ['utils-pinned', 'utils-pinned', undefined],
    ]);
    expect(l.warnings).toEqual([]);
  });

  it('reads each node’s original and locked refs, flake = false, and whether the original is indirect or pins a rev', () => {
    const l = readLockFile(fixture('lock-v7.json'));
    const byKey = new Map(l.nodes.map((n) => [n.key, n]));
    const show = (key: string) => {
      const n = byKey.get(key);
      return n && [n.original.url, n.locked.url, n.flake, n.indirect, n.pinsRev];
    };
    expect(show('nixpkgs_2')).toEqual([
      'flake:nixpkgs/nixos-24.05',
      'https://channels.example.org/nixos-24.05/nixexprs.tar.xz?narHash=sha256-pAHcUC0Kbi5wsJOK1e4isB4ua%2Br0RYrtpfLnSzsg8Bc%3D',
      true,
      true,
      false,
    ]);
    expect(show('pinned')?.slice(2)).toEqual([true, true, true]);
    expect(show('home-manager')?.slice(0, 1)).toEqual(['github:nix-community/home-manager']);
    expect(show('home-manager')?.slice(3)).toEqual([false, false]);
    expect(show('data')?.slice(2, 3)).toEqual([false]);
    expect(byKey.get('tools')?.locked.attrs).toEqual({
      lastModified: 1767657600,
      narHash: 'sha256-kZGm1MAXMdHj3sVM09SdMN5LhgWyEjvJVUAWyp7WIn4=',
      ref: 'main',
      rev: REV[5],
      revCount: 45,
      type: 'git',
      url: 'https://git.example.org/tools.git',
    });
  });

  it('builds only the nodes reachable from the root, as Nix does (a broken unreachable node is no error)', () => {
    const l = readLockFile(fixture('lock-v7.json'));
    expect(l.nodes.map((n) => n.key)).not.toContain('unreachable');
    expect(l.nodes).toHaveLength(10);
  });

  it('lists a version 6 shared node under each path that reaches it, without a follows', () => {
    const l = readLockFile(fixture('lock-v6.json'));
    expect(l.version).toBe(6);
    expect(paths(l).filter(([p]) => p.includes('nixpkgs'))).toEqual([
      ['home-manager/nixpkgs', 'nixpkgs', undefined],
      ['nixpkgs', 'nixpkgs', undefined],
    ]);
  });

  it('merges a version 5 node’s info into its locked attributes', () => {
    const l = readLockFile(fixture('lock-v5.json'));
    const tools = l.nodes.find((n) => n.key === 'tools');
    expect(l.version).toBe(5);
    expect(tools?.locked.attrs).toMatchObject({ ref: 'dev', rev: REV[5], revCount: 45, lastModified: 1767657600 });
    expect(tools?.original.url).toBe('flake:tools/dev');
  });

  it('reads a fractional version or number as Nix 2.8 does, the fraction cut off', () => {
    const json = fixture('lock-v5.json') as { [key: string]: Json };
    const l = readLockFile({ ...json, version: 7.5 });
    expect(l.version).toBe(7);
    const nodes = json['nodes'] as { [key: string]: { [key: string]: Json } };
    const tools = nodes['tools'] as { [key: string]: Json };
    const info = { ...(tools['info'] as object), revCount: 1.5 };
    const read = readLockFile({ ...json, nodes: { ...nodes, tools: { ...tools, info } } });
    expect(read.nodes.find((n) => n.key === 'tools')?.locked.attrs).toMatchObject({ revCount: 1 });
  });

  it('keeps a current-Nix parent path of a relative path input', () => {
    const l = readLockFile(
      lock(
        { sub: 'sub' },
        { sub: { locked: { type: 'path', path: './sub' }, original: { type: 'path', path: './sub' }, parent: [] } },
      ),
    );
    expect(l.nodes[0]?.parent).toEqual([]);
    expect(l.nodes[0]?.indirect).toBe(false);
  });

  it('expands a node’s inputs once, under the first path in input-name order (getAllInputs)', () => {
    const l = readLockFile(
      lock(
        { a: 'x', b: 'y' },
        { x: node('x', { c: 'z' }), y: node('y', { c: 'z' }), z: node('z', { d: 'w' }), w: node('w') },
      ),
    );
    expect(paths(l).map(([p]) => p)).toEqual(['a', 'a/c', 'a/c/d', 'b', 'b/c']);
  });

  it('accepts cycles between nodes without follows (the lock is a graph)', () => {
    const l = readLockFile(lock({ a: 'x' }, { x: node('x', { b: 'y' }), y: node('y', { a: 'x' }) }));
    expect(paths(l).map(([p]) => p)).toEqual(['a', 'a/b', 'a/b/a']);
  });

  it('sorts paths as Nix’s std::map does: bytes, a parent before its children', () => {
    const l = readLockFile(
      lock({ B: 'x', a: 'y', 'a-b': 'z' }, { x: node('x'), y: node('y', { c: 'z' }), z: node('z') }),
    );
    expect(paths(l).map(([p]) => p)).toEqual(['B', 'a', 'a/c', 'a-b']);
  });

  it('warns, as current Nix does, about an input locked by its narHash alone', () => {
    const l = readLockFile(
      lock(
        { p: 'p' },
        {
          p: {
            locked: { type: 'github', owner: 'o', repo: 'p', narHash: NAR },
            original: { type: 'indirect', id: 'p' },
          },
        },
      ),
    );
    expect(l.warnings).toEqual([
      `Lock file entry 'github:o/p?narHash=${NAR.replace('=', '%3D')}' is unlocked (e.g. lacks a Git revision) but is checked by NAR hash. This is not reproducible and will break after garbage collection or when shared.`,
    ]);
  });
});

describe('readLockFile: follows (LockFile::check and findInput)', () => {
  it('resolves a follows through another follows', () => {
    const l = readLockFile(lock({ a: ['b'], b: ['c'], c: 'x' }, { x: node('x') }));
    expect(paths(l)).toEqual([
      ['a', 'x', 'b'],
      ['b', 'x', 'c'],
      ['c', 'x', undefined],
    ]);
  });

  it('resolves a follows into a nested input', () => {
    const l = readLockFile(
      lock({ hm: 'hm', np: ['hm', 'nixpkgs'] }, { hm: node('hm', { nixpkgs: 'n' }), n: node('n') }),
    );
    expect(paths(l)).toContainEqual(['np', 'n', 'hm/nixpkgs']);
  });

  it.each<[string, Json, string]>([
    ['a follows nothing', lock({ a: ['nope'] }), "input 'a' follows a non-existent input 'nope'"],
    [
      'a nested follows that leads nowhere',
      lock({ hm: 'hm' }, { hm: node('hm', { nixpkgs: ['nixpkgs'] }) }),
      "input 'hm/nixpkgs' follows a non-existent input 'nixpkgs'",
    ],
    ['a two-step cycle', lock({ a: ['b'], b: ['a'] }), 'follow cycle detected: [b -> a -> b]'],
    ['a self-loop', lock({ a: ['a'] }), 'follow cycle detected: [a -> a]'],
    [
      'a cycle through a nested input',
      lock({ x: 'x', y: ['x', 'b'] }, { x: node('x', { b: ['y'] }) }),
      'follow cycle detected: [y -> x/b -> y]',
    ],
    // findInput never forgets a path it resolved: [a, b] passes x twice (via a, then via y) and
    // current Nix calls that a cycle, though each follows ends. Nix 2.8 reads this file.
    [
      'a resolution passing one follows twice, as current Nix refuses it',
      lock({ a: ['x'], x: 'x', y: ['x'], z: ['a', 'b'] }, { x: node('x', { b: ['y'] }) }),
      'follow cycle detected: [x -> y -> x]',
    ],
  ])('refuses %s', (_, json, message) => {
    const code: LockFileErrorCode = message.startsWith('follow cycle') ? 'follows-cycle' : 'follows-missing';
    expect(() => readLockFile(json)).toThrow(new LockFileError(code, message));
  });
});
