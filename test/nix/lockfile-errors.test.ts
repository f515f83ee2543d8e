import { describe, expect, it } from 'vitest';
import type { Json, JsonObject } from '../../src/nix/document.js';
import { MAX_FOLLOWS_CHAIN, MAX_INPUT_DEPTH } from '../../src/nix/lockfile-inputs.js';
import {
  LockFileError,
  MAX_LOCK_NODES,
  readLockFile,
  readLockFileText,
  type LockFileErrorCode,
} from '../../src/nix/lockfile.js';
import { gh, lock, node, REV } from './audit-helpers.js';

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
    ['a version string', { version: '7', root: 'root', nodes: {} }, 'unsupported-version', 'not a number: "7"'],
    [
      'a fractional version Nix cuts to 4',
      { version: 4.9, root: 'root', nodes: {} },
      'unsupported-version',
      "lock file 'flake.lock' has unsupported version 4",
    ],
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
      'a negative number, which Nix wraps to 2^64 - 1',
      nodes({ ...node('a'), locked: { ...gh('a'), lastModified: -1 } }),
      'invalid-node',
      "'locked.lastModified' is -1: Nix reads a number as an unsigned 64-bit integer (a negative one wraps around), and the audit reads only 0 to 2^53-1",
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
