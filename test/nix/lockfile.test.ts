import { describe, expect, it } from 'vitest';
import type { Json, JsonObject } from '../../src/nix/document.js';
import { MAX_FOLLOWS_CHAIN, MAX_INPUT_DEPTH } from '../../src/nix/lockfile-inputs.js';
import {
  LockFileError,
  MAX_LOCK_NODES,
  readLockFile,
  readLockFileText,
  type LockFile,
  type LockFileErrorCode,
} from '../../src/nix/lockfile.js';
import { fixture, REV } from './audit-helpers.js';

const NAR = 'sha256-OwiJl/4IDo/wnjcFirVy9sx7U34jO5jmWTM1VOu/lDI=';
const gh = (repo: string, rev: string = REV[0]): JsonObject => ({
  type: 'github',
  owner: 'o',
  repo,
  rev,
  narHash: NAR,
});
const node = (repo: string, inputs?: JsonObject): JsonObject => ({
  ...(inputs === undefined ? {} : { inputs }),
  locked: gh(repo),
  original: { type: 'indirect', id: repo },
});

/** A version 7 lock file whose root has `rootInputs`. */
function lock(rootInputs: JsonObject, nodes: JsonObject = {}, extra: JsonObject = {}): Json {
  return { version: 7, root: 'root', nodes: { root: { inputs: rootInputs }, ...nodes }, ...extra };
}

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

describe('readLockFile: refusals, each naming what is wrong', () => {
  const nodes = (n: JsonObject): Json => lock({ a: 'a' }, { a: n });
  it.each<[string, Json, LockFileErrorCode, string]>([
    ['an array', [], 'not-object', "lock file 'flake.lock' is array, not an object"],
    [
      'version 4',
      { version: 4, root: 'root', nodes: {} },
      'unsupported-version',
      "lock file 'flake.lock' has unsupported version 4",
    ],
    [
      'version 8',
      { version: 8, root: 'root', nodes: {} },
      'unsupported-version',
      "lock file 'flake.lock' has unsupported version 8",
    ],
    [
      'no version',
      { root: 'root', nodes: {} },
      'unsupported-version',
      "lock file 'flake.lock' has unsupported version 0",
    ],
    ['a version string', { version: '7', root: 'root', nodes: {} }, 'unsupported-version', 'not an integer: "7"'],
    ['no root', { version: 7, nodes: {} }, 'missing-root', "lock file 'flake.lock' has no 'root' naming its root node"],
    [
      'a root naming no node',
      { version: 7, root: 'r', nodes: {} },
      'missing-root',
      "the root node 'r' is not among its nodes",
    ],
    [
      'a root named __proto__',
      { version: 7, root: '__proto__', nodes: {} },
      'missing-root',
      "the root node '__proto__'",
    ],
    ['no nodes', { version: 7, root: 'root' }, 'missing-nodes', "lock file 'flake.lock' has no 'nodes' object"],
    [
      'a node without original',
      nodes({ locked: gh('a') }),
      'missing-attribute',
      "lock file node 'a': attribute 'original' missing in lock file",
    ],
    [
      'a node without locked',
      nodes({ original: { type: 'indirect', id: 'a' } }),
      'missing-attribute',
      "lock file node 'a': attribute 'locked' missing in lock file",
    ],
    [
      'a node that is a string',
      nodes('a' as unknown as JsonObject),
      'invalid-node',
      "lock file node 'a' is string, not an object",
    ],
    [
      'an info that is no object',
      nodes({ ...node('a'), info: 1 }),
      'invalid-node',
      "lock file node 'a': 'info' is number, not an object",
    ],
    [
      'a null attribute',
      nodes({ ...node('a'), locked: { ...gh('a'), ref: null } }),
      'invalid-node',
      "'locked.ref': unsupported input attribute type in lock file",
    ],
    [
      'a negative number',
      nodes({ ...node('a'), locked: { ...gh('a'), lastModified: -1 } }),
      'invalid-node',
      "'locked.lastModified': unsupported input attribute type",
    ],
    [
      'an unknown input type',
      nodes({ ...node('a'), locked: { type: 'svn', url: 'x' } }),
      'invalid-ref',
      "lock file node 'a': 'locked': cannot show unsupported input",
    ],
    [
      'an attribute the type does not take',
      nodes({ ...node('a'), original: { type: 'indirect', id: 'a', url: 'x' } }),
      'invalid-ref',
      "input attribute 'url' not supported by scheme 'indirect'",
    ],
    [
      'a __final attribute',
      nodes({ ...node('a'), locked: { ...gh('a'), __final: true } }),
      'invalid-node',
      "'locked' has the attribute '__final'",
    ],
    [
      'an unlocked input',
      nodes({ ...node('a'), locked: { type: 'github', owner: 'o', repo: 'a' } }),
      'unlocked',
      `Lock file contains unlocked input '{"owner":"o","repo":"a","type":"github"}'. Use '--allow-dirty-locks' to accept this lock file.`,
    ],
    [
      'an indirect locked ref',
      nodes({ ...node('a'), locked: { type: 'indirect', id: 'a', rev: REV[0] } }),
      'unlocked',
      'Lock file contains unlocked input',
    ],
    [
      'flake that is no Boolean',
      nodes({ ...node('a'), flake: 'no' }),
      'invalid-node',
      "lock file node 'a': 'flake' is string, not a Boolean",
    ],
    [
      'inputs that are a list',
      nodes({ ...node('a'), inputs: ['b'] }),
      'invalid-node',
      "lock file node 'a': 'inputs' is array, not an object",
    ],
    [
      'an input that is a number',
      lock({ a: 1 }),
      'invalid-node',
      "input 'a' is number, neither a node name nor a follows list",
    ],
    ['a follows list with a number', lock({ a: ['b', 2] }), 'invalid-node', "input 'a' is array, neither a node name"],
    ['an input naming a missing node', lock({ a: 'nope' }), 'missing-node', "lock file references missing node 'nope'"],
    [
      'an input naming the root',
      lock({ a: 'x' }, { x: node('x', { back: 'root' }) }),
      'cycle-to-root',
      'lock file contains cycle to root node',
    ],
    [
      'a parent that is no list',
      nodes({ ...node('a'), parent: 'x' }),
      'invalid-node',
      "'parent' is not a list of input names",
    ],
  ])('refuses %s', (_, json, code, message) => {
    let error: unknown;
    try {
      readLockFile(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockFileError);
    expect((error as LockFileError).code).toBe(code);
    expect((error as LockFileError).message).toContain(message);
  });

  it('reports the first problem on Nix’s walk: depth first, in input-name order', () => {
    const json = lock({ a: 'x', b: 'bad2' }, { x: node('x', { c: 'bad1' }), bad1: { locked: gh('q') }, bad2: {} });
    expect(() => readLockFile(json)).toThrow("lock file node 'bad1': attribute 'original' missing");
  });

  it('refuses text that is not JSON, naming the file', () => {
    expect(() => readLockFileText('{"version": 7,', 'my/flake.lock')).toThrow(/^could not parse 'my\/flake.lock': /);
    expect(() => readLockFileText('"\\ud800"')).toThrow('unpaired UTF-16 surrogate');
  });
});

describe('readLockFile: caps', () => {
  it(`refuses more than ${MAX_LOCK_NODES} nodes`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_LOCK_NODES }, (_, i) => [`n${i}`, {}]));
    expect(() => readLockFile(lock({}, many))).toThrow(`has ${MAX_LOCK_NODES + 1} nodes; at most ${MAX_LOCK_NODES}`);
  });

  it(`refuses inputs nested deeper than ${MAX_INPUT_DEPTH}, and reads ${MAX_INPUT_DEPTH}`, () => {
    const chain = (n: number): Json => {
      const nodes: JsonObject = {};
      for (let i = 0; i < n; i++) nodes[`n${i}`] = node(`n${i}`, i + 1 < n ? { next: `n${i + 1}` } : undefined);
      return lock({ next: 'n0' }, nodes);
    };
    expect(readLockFile(chain(MAX_INPUT_DEPTH)).inputs).toHaveLength(MAX_INPUT_DEPTH);
    expect(() => readLockFile(chain(MAX_INPUT_DEPTH + 1))).toThrow(`is nested deeper than ${MAX_INPUT_DEPTH}`);
  });

  it(`refuses a follows that leads through more than ${MAX_FOLLOWS_CHAIN} others`, () => {
    const n = MAX_FOLLOWS_CHAIN + 1;
    const inputs: JsonObject = { end: 'x' };
    for (let i = 0; i < n; i++) inputs[`f${i}`] = [i + 1 < n ? `f${i + 1}` : 'end'];
    expect(() => readLockFile(lock(inputs, { x: node('x') }))).toThrow(`more than ${MAX_FOLLOWS_CHAIN} others`);
  });
});
