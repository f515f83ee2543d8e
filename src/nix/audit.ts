/**
 * What a registry change would do to a user's lock files and profiles: for every input of a
 * `flake.lock` and every element of a profile's `manifest.json`, what it is locked to, what
 * the registries resolve its original ref to now, and what the next `nix flake update` or
 * `nix profile upgrade` therefore fetches. docs/audit.md states each status and its rule.
 *
 * Nix looks an input up only when its original is indirect (`InputCache::getAccessor` in
 * src/libfetchers/input-cache.cc, `fetchOrSubstituteTree` in 2.8): a direct original is
 * fetched as written, whatever the registries say. The layers are searched as given, the
 * overrides first (overrides.ts); which of Nix's registries they stand for is the caller's
 * choice (for lock files, current Nix searches only the flag and global registries).
 */
import type { Json } from './document.js';
import { isObject, parseJsonText, refOfView, refView, type RefView } from './document.js';
import type { NixErrorKind } from './errors.js';
import type { LockFile } from './lockfile.js';
import { readLockFile } from './lockfile.js';
import type { FailedEntry, LayerRef, ResolveResult, Step } from './lookup.js';
import { resolve } from './lookup.js';
import type { ProfileManifest } from './profile.js';
import { readProfileManifest } from './profile.js';
import type { AttrChange } from './source-compare.js';
import { compareSource } from './source-compare.js';

export type { AttrChange } from './source-compare.js';

export type AuditStatus =
  /** The next update fetches the newest revision of the source the lock came from. */
  | { readonly kind: 'same-source' }
  /** The registries send it elsewhere: another type, host, owner, repository, URL, path, branch, subdirectory or pinned revision. */
  | { readonly kind: 'redirected'; readonly changes: readonly AttrChange[] }
  /** The resolved ref pins the locked revision (by the original's rev, or the registry entry's): no update changes it. */
  | { readonly kind: 'pinned'; readonly by: 'original' | 'registry' }
  /** A tarball whose lock holds another URL than the registries give; the lock may hold the immutable URL the same source answered with. */
  | { readonly kind: 'unverifiable'; readonly lockedUrl: string; readonly resolvedUrl: string }
  /** Nix would fail: `cannot find flake '…' in the flake registries`. */
  | { readonly kind: 'not-found'; readonly message: string }
  /** Nix would fail otherwise: a cycle, or a ref or rev the target cannot take (Nix's text). */
  | { readonly kind: 'error'; readonly error: Exclude<NixErrorKind, 'not-found'>; readonly message: string }
  /** The original is direct (or the input follows the root): the registries are never asked. */
  | { readonly kind: 'direct' }
  /** A profile element installed from store paths, not from a flake: nothing to upgrade. */
  | { readonly kind: 'not-from-flake' };

export type AuditStatusKind = AuditStatus['kind'];

export interface AuditRow {
  /** `input`: a lock file's input; `element`: a profile's element. */
  readonly kind: 'input' | 'element';
  /** The input path (`home-manager/nixpkgs`) or the element's name. */
  readonly id: string;
  /** Lock files: the node the input is (after follows); the root's key when it follows the root. */
  readonly node?: string;
  /** Lock files: the follows path as Nix prints it, when the input is one. */
  readonly follows?: string;
  /** Lock files: false for `flake = false` inputs. */
  readonly flake?: boolean;
  /** Profiles: the attribute path the element was installed from. */
  readonly attrPath?: string;
  readonly original?: RefView;
  /** The original names a rev (Nix 2.8's `nix profile upgrade` skips such an element). */
  readonly pinsRev?: boolean;
  readonly locked?: RefView;
  /** What the registries resolve the original to now. */
  readonly resolved?: RefView;
  /** The lookup's steps, also those taken before a failure. */
  readonly steps?: readonly Step[];
  /** The entry whose target could not take the ref or rev. */
  readonly entry?: FailedEntry;
  readonly status: AuditStatus;
}

export interface Audit {
  readonly document: 'flake.lock' | 'manifest.json';
  readonly version: number;
  /** The layers searched, in order. */
  readonly registries: readonly { readonly name: string; readonly version: number }[];
  readonly rows: readonly AuditRow[];
  readonly warnings: readonly string[];
}

export type AuditDocument =
  | { readonly kind: 'flake.lock'; readonly lock: LockFile }
  | { readonly kind: 'manifest.json'; readonly manifest: ProfileManifest };

export type AuditErrorCode = 'not-json' | 'too-large' | 'unrecognised' | 'different-documents';

export class AuditError extends Error {
  override readonly name = 'AuditError';
  constructor(
    readonly code: AuditErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Recognises the file by its content: a lock has `nodes` and `root`, a manifest `elements`.
 * Throws AuditError when it is neither (or both), LockFileError or ManifestError when it is
 * one that Nix would refuse.
 */
export function readAuditDocument(json: Json): AuditDocument {
  const has = (key: string): boolean => isObject(json) && Object.hasOwn(json, key);
  const lock = has('nodes') && has('root');
  const manifest = has('elements');
  if (lock === manifest)
    throw new AuditError(
      'unrecognised',
      lock
        ? "the file has both 'nodes' and 'root' (a flake.lock) and 'elements' (a profile manifest)"
        : "the file is neither a flake.lock (an object with 'nodes' and 'root') nor a profile manifest (an object with 'elements')",
    );
  return lock
    ? { kind: 'flake.lock', lock: readLockFile(json) }
    : { kind: 'manifest.json', manifest: readProfileManifest(json) };
}

export function readAuditDocumentText(text: string): AuditDocument {
  const parsed = parseJsonText(text);
  if (!parsed.ok && parsed.tooLarge === true)
    throw new AuditError('too-large', `the file is too large: ${parsed.reason}`);
  if (!parsed.ok) throw new AuditError('not-json', `the file is not JSON: ${parsed.reason}`);
  return readAuditDocument(parsed.json);
}

type Answer = Pick<AuditRow, 'resolved' | 'steps' | 'entry' | 'status'>;

/** Resolves each distinct original once; rows sharing one share the lookup. */
function lookups(layers: readonly LayerRef[]) {
  const cache = new Map<string, ResolveResult>();
  return (original: RefView): ResolveResult => {
    const key = JSON.stringify(original.attrs);
    let r = cache.get(key);
    if (r === undefined) cache.set(key, (r = resolve(refOfView(original), layers)));
    return r;
  };
}

function answer(
  original: RefView,
  locked: RefView,
  pinsRev: boolean,
  lookup: (original: RefView) => ResolveResult,
): Answer {
  if (original.attrs['type'] !== 'indirect') return { status: { kind: 'direct' } };
  const r = lookup(original);
  if (!r.ok) {
    const failed = { steps: r.steps, ...(r.entry === undefined ? {} : { entry: r.entry }) };
    const { kind, message } = r.error;
    if (kind === 'not-found') return { ...failed, status: { kind: 'not-found', message } };
    return { ...failed, status: { kind: 'error', error: kind, message } };
  }
  const resolved = refView(r.resolved);
  const c = compareSource(resolved.attrs, locked.attrs);
  const status: AuditStatus =
    c.kind === 'same'
      ? { kind: 'same-source' }
      : c.kind === 'pinned'
        ? { kind: 'pinned', by: pinsRev ? 'original' : 'registry' }
        : c.kind === 'changed'
          ? { kind: 'redirected', changes: c.changes }
          : { kind: 'unverifiable', lockedUrl: c.lockedUrl, resolvedUrl: c.resolvedUrl };
  return { resolved, steps: r.steps, status };
}

function lockRows(lock: LockFile, layers: readonly LayerRef[]): AuditRow[] {
  const nodes = new Map(lock.nodes.map((n) => [n.key, n]));
  const lookup = lookups(layers);
  return lock.inputs.map((input): AuditRow => {
    const follows = input.follows === undefined ? {} : { follows: input.follows.join('/') };
    const node = nodes.get(input.node);
    const base = { kind: 'input' as const, id: input.input, node: input.node, ...follows };
    if (node === undefined) return { ...base, status: { kind: 'direct' } };
    const found = answer(node.original, node.locked, node.pinsRev, lookup);
    const { flake, original, pinsRev, locked } = node;
    return { ...base, flake, original, pinsRev, locked, ...found };
  });
}

function profileRows(manifest: ProfileManifest, layers: readonly LayerRef[]): AuditRow[] {
  const lookup = lookups(layers);
  return manifest.elements.map((e): AuditRow => {
    const base = { kind: 'element' as const, id: e.name };
    const s = e.source;
    if (s === undefined) return { ...base, status: { kind: 'not-from-flake' } };
    const found = answer(s.original, s.locked, s.pinsRev, lookup);
    return { ...base, attrPath: s.attrPath, original: s.original, pinsRev: s.pinsRev, locked: s.locked, ...found };
  });
}

export function auditDocument(doc: AuditDocument, layers: readonly LayerRef[]): Audit {
  const registries = layers.map((l) => ({ name: l.name, version: l.version }));
  if (doc.kind === 'flake.lock')
    return {
      document: doc.kind,
      version: doc.lock.version,
      registries,
      rows: lockRows(doc.lock, layers),
      warnings: doc.lock.warnings,
    };
  return {
    document: doc.kind,
    version: doc.manifest.version,
    registries,
    rows: profileRows(doc.manifest, layers),
    warnings: [],
  };
}

/** Reads parsed JSON (a lock file or a manifest) and audits it against `layers`. */
export function audit(json: Json, layers: readonly LayerRef[]): Audit {
  return auditDocument(readAuditDocument(json), layers);
}
