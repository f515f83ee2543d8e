import type { Attrs } from '../../src/nix/attrs.js';

/**
 * Entry targets that no client should be able to slip past the checks: every input
 * type, with every string attribute it takes set in turn to text that URLs, refs and
 * terminals choke on (spaces, controls, escapes, bad percent-encoding, bidi overrides),
 * and every number to one Nix cannot hold. Shared by the core's unit test and the
 * Worker's HTTP test: each target must be refused with a 4xx naming the change, or
 * accepted and reviewed without the core throwing.
 */

const NASTY = [
  ' ',
  'a b',
  '\x07',
  '\x1b[31m',
  '\n',
  '\r\n',
  '\0',
  '%zz',
  '%',
  '?',
  '#',
  '..',
  '\u202e',
  '\u2028',
  '\ud800',
  '',
  'x'.repeat(5000),
];

const URLS = (scheme: string) => [
  ...NASTY,
  ...NASTY.map((s) => `${scheme}://example.org/a${s}.tar.gz`),
  `${scheme}://exa mple.org/x.tar.gz`,
  `${scheme}://[::1/x.tar.gz`,
  `${scheme}:///`,
  'not a url',
];

const NUMBERS = [-1, 1.5, 2 ** 53, 1e300];

interface Shape {
  readonly type: string;
  readonly base: Attrs;
  readonly strings: Readonly<Record<string, readonly string[]>>;
  readonly numbers?: readonly string[];
}

const SHAPES: readonly Shape[] = [
  { type: 'indirect', base: { id: 'x' }, strings: { id: NASTY, ref: NASTY, rev: NASTY } },
  {
    type: 'github',
    base: { owner: 'o', repo: 'r' },
    strings: { owner: NASTY, repo: NASTY, ref: NASTY, rev: NASTY, host: NASTY },
  },
  {
    type: 'gitlab',
    base: { owner: 'o', repo: 'r' },
    strings: { owner: NASTY, repo: NASTY, ref: NASTY, rev: NASTY, host: NASTY },
  },
  {
    type: 'sourcehut',
    base: { owner: '~o', repo: 'r' },
    strings: { owner: NASTY, repo: NASTY, ref: NASTY, rev: NASTY, host: NASTY },
  },
  {
    type: 'git',
    base: { url: 'https://example.org/r' },
    strings: { url: URLS('https'), ref: NASTY, rev: NASTY },
    numbers: ['revCount', 'lastModified'],
  },
  { type: 'hg', base: { url: 'https://example.org/r' }, strings: { url: URLS('https'), ref: NASTY, rev: NASTY } },
  {
    type: 'path',
    base: { path: '/srv/x' },
    strings: { path: NASTY.map((s) => `/srv/${s}`), narHash: NASTY },
    numbers: ['revCount', 'lastModified'],
  },
  {
    type: 'tarball',
    base: { url: 'https://example.org/x.tar.gz' },
    strings: { url: URLS('https'), narHash: NASTY, rev: NASTY, name: NASTY },
    numbers: ['revCount', 'lastModified'],
  },
  {
    type: 'file',
    base: { url: 'https://example.org/x.tar.gz' },
    strings: { url: [...URLS('https'), ...URLS('file')], narHash: NASTY, name: NASTY },
  },
];

export interface HostileTarget {
  readonly label: string;
  readonly to: Attrs;
}

export function hostileTargets(): HostileTarget[] {
  const out: HostileTarget[] = [];
  const labels = new Set<string>();
  const push = (target: HostileTarget): void => {
    if (labels.has(target.label)) return;
    labels.add(target.label);
    out.push(target);
  };
  for (const shape of SHAPES) {
    for (const [attr, values] of Object.entries(shape.strings)) {
      for (const value of values) {
        push({
          label: `${shape.type}.${attr}=${JSON.stringify(value).slice(0, 40)}`,
          to: { type: shape.type, ...shape.base, [attr]: value },
        });
      }
    }
    for (const attr of shape.numbers ?? []) {
      for (const n of NUMBERS)
        push({ label: `${shape.type}.${attr}=${n}`, to: { type: shape.type, ...shape.base, [attr]: n } });
    }
    push({ label: `${shape.type} with dir`, to: { type: shape.type, ...shape.base, dir: 'a b\x1b' } });
  }
  return out;
}
