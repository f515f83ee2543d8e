/**
 * The names current Nix gives profile elements that a version 1 or 2 manifest lists without
 * one (`ProfileManifest`'s reader and `addElement` in src/nix/profile.cc, `getNameFromURL` in
 * src/libflake/url-name.cc, `DrvName` in src/libstore/names.cc). Version 3 manifests key
 * elements by name, and Nix 2.8 had no names at all (elements were numbered).
 */
import { compareKeys } from './attrs.js';
import { parseURL } from './url.js';

/** What `ProfileElementSource::to_string` is made of. */
export interface NamedSource {
  /** The original ref as current Nix prints it. */
  readonly originalUrl: string;
  readonly attrPath: string;
  /** `null`: the default outputs; `['*']`: all of them. */
  readonly outputs: readonly string[] | null;
}

const ATTR = '[a-zA-Z0-9_-]+';
const LAST_ATTRIBUTE = new RegExp(`^((?:${ATTR}\\.)*)(${ATTR})(\\^.*)?$`);
const SEGMENT = '[a-zA-Z0-9_-]+';
const LAST_SEGMENT = new RegExp(`^.*/(${SEGMENT})$`);
const SECOND_SEGMENT = new RegExp(`^(?:${SEGMENT})/(${SEGMENT})(?:/.*)?$`);
const GIT_PROVIDER = /^(?:github|gitlab|sourcehut)$/;

/** `ExtendedOutputsSpec::to_string` after `^`, or '' for the default outputs. */
function outputsSuffix(outputs: readonly string[] | null): string {
  return outputs === null ? '' : `^${outputs.join(',')}`;
}

/** `ProfileElementSource::to_string`: `ORIGINAL#ATTRPATH[^OUTPUTS]`. */
export function sourceToString(source: NamedSource): string {
  return `${source.originalUrl}#${source.attrPath}${outputsSuffix(source.outputs)}`;
}

/** `getNameFromURL`. */
export function nameFromURL(text: string): string | undefined {
  let url;
  try {
    url = parseURL(text, true);
  } catch {
    // Nix fails to read such a manifest at all; a name from the identifier is kinder.
    return undefined;
  }
  const dir = url.query.get('dir');
  if (dir !== undefined) return dir;
  const m = LAST_ATTRIBUTE.exec(url.fragment);
  if (m !== null && m[1] !== 'defaultPackage.' && m[2] !== 'default') return m[2];
  const path = url.path.join('/');
  const provider = GIT_PROVIDER.test(url.scheme) ? SECOND_SEGMENT.exec(path) : null;
  if (provider !== null) return provider[1];
  // Nix tries git URLs, then every URL, for the same last path segment: one test does for both.
  return LAST_SEGMENT.exec(path)?.[1];
}

/** `DrvName(s).name`: everything before the first `-` that is not followed by a letter. */
export function drvName(s: string): string {
  for (let i = 0; i + 1 < s.length; i++) if (s[i] === '-' && !/[A-Za-z]/.test(s[i + 1] as string)) return s.slice(0, i);
  return s;
}

/** `identifier()` of an element without a source: the sorted names of its store paths. */
function storePathsIdentifier(storePaths: readonly string[]): string {
  const names = [...new Set(storePaths.map((p) => drvName(p.slice(p.lastIndexOf('/') + 1).replace(/^[^-]*-/, ''))))];
  // A std::set<std::string>: byte order; the empty name sorts first and is dropped.
  return names
    .sort(compareKeys)
    .filter((n, i) => !(i === 0 && n === ''))
    .join(', ');
}

/** The name `addElement` starts from for an element listed without one. */
export function elementNameCandidate(source: NamedSource | undefined, storePaths: readonly string[]): string {
  if (source === undefined) return storePathsIdentifier(storePaths);
  const text = sourceToString(source);
  return nameFromURL(text) ?? text;
}

/** `addElement`: a taken name gets `-1`, `-2`, … appended to the candidate. */
export function uniqueName(candidate: string, taken: ReadonlySet<string>): string {
  let name = candidate;
  for (let i = 1; taken.has(name); i++) name = `${candidate}-${i}`;
  return name;
}
