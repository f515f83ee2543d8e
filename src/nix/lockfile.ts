/**
 * Reading a `flake.lock` as Nix does (`LockFile::LockFile` and `LockedNode::LockedNode`,
 * src/libflake/lockfile.cc; src/libexpr/flake/lockfile.cc in 2.8), then listing its inputs
 * as `LockFile::getAllInputs` does and resolving `follows` as `LockFile::findInput` does.
 *
 * Versions 5, 6 and 7 are read, by 2.8 and current Nix alike, and all three the same way:
 * - 5 (March 2020): the lock became a graph, `nodes` keyed by name with `root` naming the
 *   root; `narHash`, `lastModified` and `revCount` were kept apart in a node's `info`.
 * - 6 (May 2020): `info` folded into `locked`. Nix still merges an `info` into `locked` in
 *   every version.
 * - 7 (June 2020): a `follows` is written as the list of input names it points at, from the
 *   root, instead of a copy of the node. Nix reads such lists in every version.
 * Nix writes version 7 since then. Current Nix also writes `parent` (the input path that a
 * relative `path:` input is relative to); 2.8 ignores it.
 *
 * Nix builds only the nodes reachable from the root, in input-name order, depth first, so an
 * unreachable broken node is no error, and the first problem on that walk is the one reported.
 */
import type { AttrValue, Attrs, FlakeRef } from './attrs.js';
import { compareKeys as compareNames } from './attrs.js';
import type { Json, JsonObject, RefView } from './document.js';
import { isObject, jsonToAttrs, parseJsonText, refView, typeName } from './document.js';
import { NixError } from './errors.js';
import { flakeRefFromAttrs } from './flakeref.js';
import { getRev } from './input.js';
import { LockFileError, type LockFileErrorCode } from './lockfile-error.js';
import { listInputs, type Edge, type LockInput } from './lockfile-inputs.js';
import { attrsToJSON } from './schemes/common.js';

export { LockFileError, type LockFileErrorCode } from './lockfile-error.js';
export type { LockInput } from './lockfile-inputs.js';

export const LOCK_VERSIONS: readonly number[] = [5, 6, 7];
/** Nodes in the file, reachable or not. The lock of a large NixOS configuration has a few hundred. */
export const MAX_LOCK_NODES = 5_000;
/** Input edges of reachable nodes, follows included. */
export const MAX_LOCK_INPUTS = 20_000;

export interface LockNode {
  readonly key: string;
  /** The ref flake.nix gave when the input was locked. */
  readonly original: RefView;
  readonly locked: RefView;
  /** `flake: false`: a plain source tree, fetched (and looked up) the same way. */
  readonly flake: boolean;
  /** The original is indirect: locking it again goes through the registries. */
  readonly indirect: boolean;
  /** The original names a rev. */
  readonly pinsRev: boolean;
  /** Current Nix: the input path a relative `path:` input is relative to. */
  readonly parent?: readonly string[];
}

export interface LockFile {
  readonly version: number;
  readonly root: string;
  /** The nodes reachable from the root, in the order Nix builds them. */
  readonly nodes: readonly LockNode[];
  /** Every input path, sorted as Nix's `getAllInputs` map is. */
  readonly inputs: readonly LockInput[];
  /** What Nix would warn about while reading (unlocked inputs it accepts by their narHash). */
  readonly warnings: readonly string[];
}

function fail(code: LockFileErrorCode, message: string, node?: string): never {
  throw new LockFileError(code, message, node);
}

/** `getFlakeRef`: `attr` as attributes, `info`'s merged over them (version 5). */
function readRef(json: JsonObject, key: string, attr: 'locked' | 'original'): FlakeRef {
  const where = `lock file node '${key}'`;
  const value = json[attr];
  if (value === undefined) fail('missing-attribute', `${where}: attribute '${attr}' missing in lock file`, key);
  const objects: [string, Json | undefined][] = [[attr, value]];
  if (attr === 'locked' && json['info'] !== undefined) objects.push(['info', json['info']]);
  const entries: [string, AttrValue][] = [];
  for (const [name, j] of objects) {
    if (!isObject(j)) return fail('invalid-node', `${where}: '${name}' is ${typeName(j)}, not an object`, key);
    const attrs = jsonToAttrs(j);
    if (!attrs.ok && attrs.number !== undefined)
      fail(
        'invalid-node',
        `${where}: '${name}.${attrs.key}' is ${attrs.number}: Nix reads a number as an unsigned 64-bit integer (a negative one wraps around), and the audit reads only 0 to 2^53-1`,
        key,
      );
    else if (!attrs.ok)
      fail('invalid-node', `${where}: '${name}.${attrs.key}': unsupported input attribute type in lock file`, key);
    else entries.push(...Object.entries(attrs.attrs));
  }
  // Later pairs win, as `insert_or_assign` lets `info` win; fromEntries keeps a `__proto__` key as data.
  const merged: Attrs = Object.fromEntries(entries);
  if ('__final' in merged)
    fail('invalid-node', `${where}: '${attr}' has the attribute '__final', which Nix adds itself`, key);
  try {
    return flakeRefFromAttrs(merged);
  } catch (e) {
    if (e instanceof NixError) return fail('invalid-ref', `${where}: '${attr}': ${e.message}`, key);
    throw e;
  }
}

/** Current Nix's `Input::isLocked`, with `trust-tarballs-from-git-forges` at its default (true). */
function isLocked(ref: FlakeRef): boolean {
  const { input } = ref;
  switch (input['type']) {
    case 'git':
    case 'hg':
    case 'github':
    case 'gitlab':
    case 'sourcehut':
      return input['rev'] !== undefined;
    case 'tarball':
    case 'file':
    case 'path':
      return input['narHash'] !== undefined;
    default:
      return false;
  }
}

const isRelative = (ref: FlakeRef): boolean =>
  ref.input['type'] === 'path' && !String(ref.input['path']).startsWith('/');

function readNode(json: Json | undefined, key: string, warnings: string[]): LockNode {
  if (!isObject(json)) return fail('invalid-node', `lock file node '${key}' is ${typeName(json)}, not an object`, key);
  // Member order of LockedNode: locked first, then original.
  const locked = readRef(json, key, 'locked');
  const original = readRef(json, key, 'original');
  const flake = json['flake'] ?? true;
  if (typeof flake !== 'boolean')
    fail('invalid-node', `lock file node '${key}': 'flake' is ${typeName(flake)}, not a Boolean`, key);
  const parent = json['parent'];
  if (parent !== undefined && !(Array.isArray(parent) && parent.every((p) => typeof p === 'string')))
    fail('invalid-node', `lock file node '${key}': 'parent' is not a list of input names`, key);
  if (!isLocked(locked) && !isRelative(locked)) {
    if (locked.input['narHash'] !== undefined)
      warnings.push(
        `Lock file entry '${refView(locked).url}' is unlocked (e.g. lacks a Git revision) but is checked by NAR hash. This is not reproducible and will break after garbage collection or when shared.`,
      );
    else
      fail(
        'unlocked',
        `Lock file contains unlocked input '${attrsToJSON(locked.input)}'. Use '--allow-dirty-locks' to accept this lock file.`,
        key,
      );
  }
  return {
    key,
    original: refView(original),
    locked: refView(locked),
    flake: flake !== false,
    indirect: original.input['type'] === 'indirect',
    pinsRev: getRev(original.input) !== undefined,
    ...(parent === undefined ? {} : { parent: parent }),
  };
}

function readEdges(json: JsonObject, key: string): [string, Edge][] {
  const inputs = json['inputs'];
  if (inputs === undefined) return [];
  if (!isObject(inputs))
    return fail('invalid-node', `lock file node '${key}': 'inputs' is ${typeName(inputs)}, not an object`, key);
  // nlohmann iterates an object in key order.
  return Object.keys(inputs)
    .sort(compareNames)
    .map((name): [string, Edge] => {
      const v = inputs[name];
      if (typeof v === 'string') return [name, { node: v }];
      if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return [name, { follows: v }];
      return fail(
        'invalid-node',
        `lock file node '${key}': input '${name}' is ${typeName(v)}, neither a node name nor a follows list of input names`,
        key,
      );
    });
}

/** Reads parsed JSON. `path` is the file name messages show. */
export function readLockFile(json: Json, path = 'flake.lock'): LockFile {
  if (!isObject(json)) return fail('not-object', `lock file '${path}' is ${typeName(json)}, not an object`);
  // `json.value("version", 0)` reads an int: a fraction is cut off, so 7.5 is version 7.
  const given = json['version'] ?? 0;
  if (typeof given !== 'number')
    fail('unsupported-version', `lock file '${path}' has a version that is not a number: ${JSON.stringify(given)}`);
  const version = Math.trunc(given);
  if (!LOCK_VERSIONS.includes(version))
    fail('unsupported-version', `lock file '${path}' has unsupported version ${version}`);
  const root = json['root'];
  if (typeof root !== 'string') return fail('missing-root', `lock file '${path}' has no 'root' naming its root node`);
  const nodesJson = json['nodes'];
  if (!isObject(nodesJson)) return fail('missing-nodes', `lock file '${path}' has no 'nodes' object`);
  const count = Object.keys(nodesJson).length;
  if (count > MAX_LOCK_NODES)
    fail('too-large', `lock file '${path}' has ${count} nodes; at most ${MAX_LOCK_NODES} are read`);
  const rootJson = Object.hasOwn(nodesJson, root) ? nodesJson[root] : undefined;
  // Nix reads a missing root node as one without inputs; no Nix writes such a file.
  if (!isObject(rootJson))
    return fail('missing-root', `lock file '${path}': the root node '${root}' is not among its nodes`);

  const warnings: string[] = [];
  const nodes = new Map<string, LockNode>();
  const edges = new Map<string, [string, Edge][]>();
  let edgeCount = 0;
  // Nix's recursive `getInputs`, with an explicit stack: a node is read when an edge first
  // names it, and its inputs are walked before the next edge of its parent.
  const walk = (key: string, j: JsonObject): Iterator<[string, Edge]> => {
    const list = readEdges(j, key);
    edgeCount += list.length;
    if (edgeCount > MAX_LOCK_INPUTS)
      fail('too-large', `lock file '${path}' has more than ${MAX_LOCK_INPUTS} inputs`, key);
    edges.set(key, list);
    return list[Symbol.iterator]();
  };
  const stack: Iterator<[string, Edge]>[] = [walk(root, rootJson)];
  while (stack.length > 0) {
    const next = (stack.at(-1) as Iterator<[string, Edge]>).next();
    if (next.done === true) {
      stack.pop();
      continue;
    }
    const edge = next.value[1];
    if (!('node' in edge)) continue;
    if (edge.node === root) fail('cycle-to-root', 'lock file contains cycle to root node', root);
    if (nodes.has(edge.node)) continue;
    const j = Object.hasOwn(nodesJson, edge.node) ? nodesJson[edge.node] : undefined;
    if (j === undefined) fail('missing-node', `lock file references missing node '${edge.node}'`, edge.node);
    nodes.set(edge.node, readNode(j, edge.node, warnings));
    stack.push(walk(edge.node, j as JsonObject));
  }

  const inputs = listInputs(root, edges);
  return { version, root, nodes: [...nodes.values()], inputs, warnings };
}

/** Reads a lock file's text: not JSON is a `not-json` error naming the parser's reason, text over the cap `too-large`. */
export function readLockFileText(text: string, path = 'flake.lock'): LockFile {
  const parsed = parseJsonText(text);
  if (!parsed.ok && parsed.tooLarge === true) return fail('too-large', `lock file '${path}': ${parsed.reason}`);
  if (!parsed.ok) return fail('not-json', `could not parse '${path}': ${parsed.reason}`);
  return readLockFile(parsed.json, path);
}
