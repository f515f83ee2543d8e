import { mulberry32 } from '../../scripts/bench/prng.js';

/**
 * Generators of malformed and hostile flake refs for the `/resolve` test: random
 * bytes and code units, control characters, odd percent-encoding, overlong refs,
 * huge query strings, every scheme with garbage, valid refs with a byte flipped.
 */
type Random = () => number;
const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
const repeat = (r: Random, n: number, part: (r: Random) => string) => Array.from({ length: n }, () => part(r)).join('');

const SCHEMES = [
  'flake:',
  'github:',
  'gitlab:',
  'sourcehut:',
  'git+https://',
  'git+http://',
  'git+ssh://',
  'git+file://',
  'git+file:',
  'git:',
  'git+',
  'hg+https://',
  'hg+file://',
  'path:',
  'path://',
  'tarball+https://',
  'tarball+file://',
  'file+https://',
  'file+file://',
  'file://',
  'file:',
  'https://',
  'http://',
  'ftp://',
  'indirect:',
  'mercurial:',
  'file+git:',
  'git+git://',
  'x-y+z.w:',
  ':',
  '::',
  'a:',
  'FLAKE:',
  'GitHub:',
];

const VALID = [
  'nixpkgs',
  'nixpkgs/nixos-24.05',
  'nixpkgs/nixos-unstable',
  'home-manager',
  'flake:nixpkgs',
  'flake:home-manager/release-24.05',
  'github:NixOS/nixpkgs/nixos-unstable',
  'github:NixOS/nix/2.18.0',
  'gitlab:veloren/veloren',
  'sourcehut:~sircmpwn/hare',
  'git+https://example.org/a.git?ref=main',
  'git+file:///srv/a?dir=sub',
  'https://example.org/x.tar.gz',
  'path:/srv/p',
  '/srv/p',
  'nixpkgs/0123456789abcdef0123456789abcdef01234567',
  'github:o/r?dir=sub&rev=0123456789abcdef0123456789abcdef01234567',
];

const PERCENT = [
  '%',
  '%z',
  '%%',
  '%00',
  '%C0%AF',
  '%c0%ae',
  '%ff',
  '%FE%FF',
  '%2',
  '%2F',
  '%2f%2e%2e',
  '%u0041',
  '%E2%82',
  '%F0%9F%98',
  '%ED%A0%80',
  '%EF%BF%BF',
  '%F4%90%80%80',
  '%25',
  '%2525',
  '%0A',
  '%0D%0A',
  '%23',
  '%3F',
  '%26',
];

/** Any UTF-16 code unit, lone surrogates, NUL and the other controls included. */
const anyUnit = (r: Random) => String.fromCharCode(int(r, 0, 0xffff));
const control = (r: Random) => String.fromCharCode(pick(r, [0, 1, 7, 8, 9, 10, 13, 27, 31, 127, 0x85, 0x2028, 0xfeff]));
const asciiByte = (r: Random) => String.fromCharCode(int(r, 0, 127));
const urlish = (r: Random) =>
  pick(r, ['/', '?', '#', '&', '=', '@', ':', '.', '..', '%', '+', '~', ' ', '"', "'", '\\', '<', '>']);
const garbage = (r: Random): string => {
  switch (int(r, 0, 4)) {
    case 0:
      return repeat(r, int(r, 0, 60), asciiByte);
    case 1:
      return repeat(r, int(r, 0, 40), anyUnit);
    case 2:
      return repeat(r, int(r, 1, 20), (q) => pick(q, PERCENT));
    case 3:
      return repeat(r, int(r, 1, 30), urlish);
    default:
      return repeat(r, int(r, 1, 10), control);
  }
};
const params = (r: Random, n: number) =>
  Array.from(
    { length: n },
    (_, i) =>
      `${pick(r, ['a', 'ref', 'rev', 'dir', 'narHash', `p${i}`, ''])}=${pick(r, ['', '1', 'x', '%', '%00', garbage(r)])}`,
  ).join('&');

/** Each generator makes one kind of hostile ref; weights are how often each is drawn. */
const GENERATORS: readonly (readonly [name: string, weight: number, make: (r: Random) => string])[] = [
  ['random bytes', 10, (r) => repeat(r, int(r, 0, 300), asciiByte)],
  ['random unicode', 10, (r) => repeat(r, int(r, 1, 200), anyUnit)],
  ['lone surrogates', 4, (r) => pick(r, VALID) + pick(r, ['\ud800', '\udfff', '\udc00\ud800', '\ud83d']) + garbage(r)],
  [
    'control characters',
    6,
    (r) => pick(r, [...VALID, '']) + repeat(r, int(r, 1, 8), control) + pick(r, ['', ...VALID]),
  ],
  [
    'percent oddities',
    12,
    (r) =>
      pick(r, [...SCHEMES, '', 'nixpkgs/', 'github:o/r/']) +
      repeat(r, int(r, 1, 12), (q) => pick(q, [...PERCENT, 'a', '/'])),
  ],
  [
    'overlong',
    2,
    (r) =>
      pick(r, [...SCHEMES, '']) + pick(r, ['a', '/', '%', 'é', '\u0000', '../', '%00']).repeat(int(r, 4000, 100_000)),
  ],
  // Just over the limit, or a flake id just under it that no registry has.
  ['near the length limit', 4, (r) => pick(r, ['a', 'github:o/r/', 'git+https://h/']) + 'b'.repeat(int(r, 4086, 4100))],
  [
    'huge query string',
    6,
    (r) => pick(r, [...SCHEMES.map((s) => `${s}o/r`), 'nixpkgs', '/srv/p']) + '?' + params(r, int(r, 100, 3000)),
  ],
  ['scheme with garbage', 14, (r) => pick(r, SCHEMES) + garbage(r)],
  [
    'deep ../',
    3,
    (r) =>
      pick(r, ['path:', 'path:/', '', './', '/', 'git+file://', 'flake:', 'github:o/r/', 'nixpkgs/']) +
      '../'.repeat(int(r, 1, 1300)) +
      pick(r, ['', 'etc/passwd', '..', '%2e%2e/']),
  ],
  [
    'flake: with slashes',
    4,
    (r) =>
      pick(r, ['flake:', 'flake:/', 'nixpkgs', 'github:']) +
      '/'.repeat(int(r, 1000, 1500)) +
      pick(r, ['', 'x', '%', '..']),
  ],
  [
    'one byte flipped',
    5,
    (r) => {
      const s = pick(r, VALID);
      const at = int(r, 0, s.length - 1);
      return s.slice(0, at) + String.fromCharCode((s.charCodeAt(at) ^ (1 << int(r, 0, 7))) & 0xff) + s.slice(at + 1);
    },
  ],
  [
    'hostile attributes',
    3,
    (r) =>
      pick(r, [
        'github:o/r',
        'git+https://h/r',
        'https://h/x.tar.gz',
        'path:/p',
        'gitlab:o/r',
        'sourcehut:~o/r',
        'flake:nixpkgs',
      ]) +
      '?' +
      pick(r, [
        'rev=zz',
        'rev=0123',
        'ref=..',
        'ref=a..b',
        'ref=-x',
        'ref=x.lock',
        'ref=@{',
        'narHash=sha256-%',
        'lastModified=-1',
        'lastModified=1e999',
        'revCount=99999999999999999999999',
        'shallow=maybe',
        'dir=../..',
        'dir=%2F',
        'host=%00',
        'url=x',
        'type=path',
        'submodules=1&submodules=0',
        '&&&',
        '=',
        'ref&rev',
        'ref=main&rev=0123456789abcdef0123456789abcdef01234567',
      ]),
  ],
  [
    'fragments and separators',
    5,
    (r) =>
      pick(r, VALID) + pick(r, ['#', '#%', '#\u0000', '?#', '??', '#?', '&', '@', '//', '\\', ';', ' ']) + garbage(r),
  ],
];

export function generate(count: number, seed: number): { name: string; ref: string }[] {
  const r = mulberry32(seed);
  const total = GENERATORS.reduce((sum, [, weight]) => sum + weight, 0);
  return Array.from({ length: count }, () => {
    let x = r() * total;
    for (const [name, weight, make] of GENERATORS) {
      x -= weight;
      if (x < 0) return { name, ref: make(r) };
    }
    throw new Error('unreachable');
  });
}

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) is sent
 * as its WTF-8 bytes: percent-escapes that decode to no valid UTF-8.
 */
export function encodeRef(ref: string): string {
  try {
    return encodeURIComponent(ref);
  } catch {
    return Array.from(ref, (ch) => {
      const unit = ch.charCodeAt(0);
      if (ch.length > 1 || unit < 0xd800 || unit > 0xdfff) return encodeURIComponent(ch);
      return [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    }).join('');
  }
}

/** A short, copyable rendering of an input for a failure message. */
export function show(ref: string): string {
  const json = JSON.stringify(ref);
  return json.length <= 300 ? json : `${json.slice(0, 300)}… (${ref.length} chars)`;
}
