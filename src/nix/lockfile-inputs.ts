/**
 * A lock file's inputs by path: `LockFile::getAllInputs`, `LockFile::check` and
 * `LockFile::findInput` of current Nix (src/libflake/lockfile.cc).
 *
 * - Listing: depth first from the root in input-name order; a node's own inputs are listed
 *   once, under the first path that reaches it (a shared node reached again gets a row, its
 *   inputs do not). Rows are then sorted by path, as Nix's `std::map<InputAttrPath, …>`.
 * - A `follows` is a path from the root. `check` resolves each, in row order, and the first
 *   that leads nowhere fails the file: `input 'a/b' follows a non-existent input 'x'`.
 *   An empty `follows` (`inputs.x.follows = ""`) is the root itself.
 * - Cycles: `findInput` records every path it resolves during one call, nested follows
 *   included, and fails on meeting one again: `follow cycle detected: [a -> b -> a]`. The
 *   record is never unwound, so Nix also refuses a few lock files in which two follows of
 *   one resolution merely pass through the same path; this module refuses the same ones.
 *   Nix 2.8 has no such check: a cycle of follows makes it recurse until it crashes.
 */
import { compareKeys } from './attrs.js';
import { LockFileError } from './lockfile-error.js';

/** An input is a node's key, or a follows path from the root. */
export type Edge = { readonly node: string } | { readonly follows: readonly string[] };

export interface LockInput {
  /** The input names from the root: `['home-manager', 'nixpkgs']`. */
  readonly path: readonly string[];
  /** As Nix prints it: `home-manager/nixpkgs`. */
  readonly input: string;
  /** The node this input is, following `follows`; the root's key when it follows the root. */
  readonly node: string;
  /** The follows path as written, when the input is one. */
  readonly follows?: readonly string[];
}

/** Input paths nest no deeper than this; real flakes stay within a handful. */
export const MAX_INPUT_DEPTH = 32;
/** Path elements stepped through while resolving all follows of one file. */
export const MAX_FOLLOWS_WORK = 1_000_000;
/** Follows resolved inside one another (a chain a → b → c … counts its length). */
export const MAX_FOLLOWS_CHAIN = 256;

const print = (path: readonly string[]): string => path.join('/');

function comparePaths(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const c = compareKeys(a[i] as string, b[i] as string);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** `getAllInputs`, unsorted. */
function allInputs(root: string, edges: ReadonlyMap<string, readonly [string, Edge][]>): [string[], Edge][] {
  const out: [string[], Edge][] = [];
  const done = new Set<string>();
  const visit = (prefix: string[], node: string): void => {
    if (done.has(node)) return;
    done.add(node);
    for (const [name, edge] of edges.get(node) ?? []) {
      const path = [...prefix, name];
      if (path.length > MAX_INPUT_DEPTH)
        throw new LockFileError('too-large', `input '${print(path)}' is nested deeper than ${MAX_INPUT_DEPTH}`, node);
      out.push([path, edge]);
      if ('node' in edge) visit(path, edge.node);
    }
  };
  visit([], root);
  return out;
}

class FollowsResolver {
  readonly #root: string;
  readonly #edges = new Map<string, ReadonlyMap<string, Edge>>();
  #work = 0;

  constructor(root: string, edges: ReadonlyMap<string, readonly [string, Edge][]>) {
    this.#root = root;
    for (const [node, list] of edges) this.#edges.set(node, new Map(list));
  }

  /** `findInput`: the node at `path`, or undefined when some step names no input. */
  find(path: readonly string[]): string | undefined {
    const visited: string[][] = [];
    const seen = new Map<string, number>();
    const doFind = (p: readonly string[]): string | undefined => {
      const key = JSON.stringify(p);
      const at = seen.get(key);
      if (at !== undefined) {
        const cycle = [...visited.slice(at), p].map(print).join(' -> ');
        throw new LockFileError('follows-cycle', `follow cycle detected: [${cycle}]`);
      }
      seen.set(key, visited.length);
      visited.push([...p]);
      if (visited.length > MAX_FOLLOWS_CHAIN)
        throw new LockFileError('too-large', `a follows leads through more than ${MAX_FOLLOWS_CHAIN} others`);
      let pos = this.#root;
      for (const elem of p) {
        if (++this.#work > MAX_FOLLOWS_WORK)
          throw new LockFileError('too-large', `resolving the follows takes more than ${MAX_FOLLOWS_WORK} steps`);
        const edge = this.#edges.get(pos)?.get(elem);
        if (edge === undefined) return undefined;
        if ('node' in edge) pos = edge.node;
        else {
          const target = doFind(edge.follows);
          if (target === undefined) return undefined;
          pos = target;
        }
      }
      return pos;
    };
    return doFind(path);
  }
}

/** Every input path, sorted, each follows resolved to its node (`check`'s order decides which error wins). */
export function listInputs(root: string, edges: ReadonlyMap<string, readonly [string, Edge][]>): LockInput[] {
  const rows = allInputs(root, edges).sort(([a], [b]) => comparePaths(a, b));
  const resolver = new FollowsResolver(root, edges);
  return rows.map(([path, edge]): LockInput => {
    if ('node' in edge) return { path, input: print(path), node: edge.node };
    if (edge.follows.length > MAX_INPUT_DEPTH)
      throw new LockFileError('too-large', `input '${print(path)}' follows a path longer than ${MAX_INPUT_DEPTH}`);
    const node = resolver.find(edge.follows);
    if (node === undefined)
      throw new LockFileError(
        'follows-missing',
        `input '${print(path)}' follows a non-existent input '${print(edge.follows)}'`,
      );
    return { path, input: print(path), node, follows: edge.follows };
  });
}
