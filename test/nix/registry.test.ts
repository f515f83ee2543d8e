import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NixError } from '../../src/nix/errors.js';
import { isWrittenAs, readRegistry, readRegistryAsNix, writeRegistry } from '../../src/nix/registry.js';
import type { Registry } from '../../src/nix/registry.js';
import { sortAttrs } from '../../src/nix/attrs.js';
import { generateRegistry } from '../../scripts/bench/generate.js';
import { officialRegistryPath } from './official-registry.js';

const A = (id: string) => ({ from: { type: 'indirect', id }, to: { type: 'github', owner: 'o', repo: id } });
const file = (flakes: unknown, extra: object = {}) => JSON.stringify({ version: 2, flakes, ...extra });

/** What Nix reports and keeps for a file, and what the strict reader says. */
function strictError(text: string): NixError {
  try {
    readRegistry(text);
  } catch (e) {
    if (e instanceof NixError) return e;
    throw e;
  }
  throw new Error('readRegistry accepted the file');
}

describe('readRegistry', () => {
  it('keeps entries in file order with from, to and exact', () => {
    const reg = readRegistry(file([{ ...A('a'), exact: true }, { ...A('b'), exact: false }, A('c')]));
    expect(reg.entries.map((e) => [e.from['id'], e.to['repo'], e.exact])).toEqual([
      ['a', 'a', true],
      ['b', 'b', false],
      ['c', 'c', false],
    ]);
  });

  it('reads a file without flakes, or with flakes null as Nix writes it, as empty', () => {
    expect(readRegistry('{"version":2}').entries).toEqual([]);
    expect(readRegistry('{"version":2,"flakes":null}').entries).toEqual([]);
  });

  it('ignores unknown top-level and entry keys', () => {
    const reg = readRegistry(file([{ ...A('a'), comment: 'x', exact: true }], { owner: 'me' }));
    expect(reg.entries).toEqual([{ from: { type: 'indirect', id: 'a' }, to: A('a').to, exact: true }]);
  });

  it("moves to.dir into the entry's dir, an empty dir included", () => {
    const withDir = { from: A('a').from, to: { ...A('a').to, dir: 'sub' } };
    const emptyDir = { from: A('b').from, to: { ...A('b').to, dir: '' } };
    const [a, b] = readRegistry(file([withDir, emptyDir])).entries;
    expect(a).toEqual({ from: A('a').from, to: A('a').to, dir: 'sub', exact: false });
    expect(b?.dir).toBe('');
  });

  it("names the entry and gives Nix's text for a non-boolean exact", () => {
    const err = strictError(file([A('a'), { ...A('x'), exact: 1 }]));
    expect(err.kind).toBe('invalid-registry');
    expect(err.message).toBe(
      "invalid flake registry entry 1 (from 'flake:x'): [json.exception.type_error.302] type must be boolean, but is number",
    );
  });

  it.each([
    ['null', null],
    ['an array', ['x']],
    ['an object', { a: 1 }],
  ])('refuses an attribute value that is %s', (_, value) => {
    const err = strictError(file([{ from: A('x').from, to: { ...A('x').to, repo: value } }]));
    expect(err.message).toContain('entry 0');
    expect(err.message).toContain('unsupported input attribute type in lock file');
  });

  it.each([
    ['fractional', 1.5],
    ['negative', -1],
    ['beyond 2^53', 2 ** 60],
  ])('refuses a %s number', (_, n) => {
    expect(() =>
      readRegistry(file([{ from: A('p').from, to: { type: 'path', path: '/p', lastModified: n } }])),
    ).toThrow(NixError);
  });

  it('refuses an indirect id that does not match [a-zA-Z][a-zA-Z0-9_-]*', () => {
    const err = strictError(file([{ from: { type: 'indirect', id: '1x' }, to: A('a').to }]));
    expect(err.message).toMatch(/^invalid flake registry entry 0 \(from .*1x.*\): .*1x/);
  });

  it('refuses from.dir, a non-string to.dir and a missing to', () => {
    expect(() => readRegistry(file([{ from: { ...A('x').from, dir: 'd' }, to: A('x').to }]))).toThrow(/entry 0/);
    expect(() => readRegistry(file([{ from: A('x').from, to: { ...A('x').to, dir: 5 } }]))).toThrow(
      "invalid flake registry entry 0 (from 'flake:x'): input attribute 'dir' is not a string",
    );
    expect(() => readRegistry(file([{ from: A('x').from }]))).toThrow(/entry 0 \(from 'flake:x'\)/);
  });

  it.each([
    ['version 3', '{"version":3,"flakes":[]}', /unsupported version 3/],
    ['no version', '{"flakes":[]}', /unsupported version 0/],
    ['version "2"', '{"version":"2"}', /type must be number, but is string/],
    ['version 2.5', '{"version":2.5}', /'version'/],
    ['invalid JSON', '{"version":2,', /invalid JSON/],
    ['an array', '[1]', /cannot use value\(\) with array/],
    ['flakes as an object', '{"version":2,"flakes":{}}', /'flakes'/],
    ['flakes as a string', '{"version":2,"flakes":"x"}', /with string/],
    ['an entry that is a string', '{"version":2,"flakes":["x"]}', /entry 0 .*with string/],
  ])('refuses %s', (_, text, message) => {
    const err = strictError(text);
    expect(err.kind).toBe('invalid-registry');
    expect(err.message).toMatch(message);
  });
});

describe('readRegistryAsNix', () => {
  it('keeps the entries before the first bad one and warns as Nix 2.8 does', () => {
    const { registry, warnings } = readRegistryAsNix(
      file([A('a'), { from: A('x').from, to: { ...A('x').to, repo: null } }, A('b')]),
      '/r.json',
    );
    expect(registry.entries.map((e) => e.from['id'])).toEqual(['a']);
    expect(warnings).toEqual([
      "cannot read flake registry '/r.json': error: unsupported input attribute type in lock file",
    ]);
  });

  it('stops at a non-boolean exact with the nlohmann text', () => {
    const { registry, warnings } = readRegistryAsNix(file([A('a'), { ...A('x'), exact: null }]), '/r.json');
    expect(registry.entries).toHaveLength(1);
    expect(warnings).toEqual([
      "cannot parse flake registry '/r.json': [json.exception.type_error.302] type must be boolean, but is null",
    ]);
  });

  it.each([
    ['{"version":3,"flakes":[]}', 'read', "error: flake registry '/r.json' has unsupported version 3"],
    ['{"flakes":[]}', 'read', "error: flake registry '/r.json' has unsupported version 0"],
    ['{"version":true}', 'read', "error: flake registry '/r.json' has unsupported version 1"],
    ['{"version":null}', 'parse', '[json.exception.type_error.302] type must be number, but is null'],
    ['[1]', 'parse', '[json.exception.type_error.306] cannot use value() with array'],
    [
      '{"version":2,"flakes":"x"}',
      'parse',
      '[json.exception.type_error.305] cannot use operator[] with a string argument with string',
    ],
  ])('reads %s as an empty registry with a warning', (text, verb, detail) => {
    const { registry, warnings } = readRegistryAsNix(text, '/r.json');
    expect(registry.entries).toEqual([]);
    expect(warnings).toEqual([`cannot ${verb} flake registry '/r.json': ${detail}`]);
  });

  it('takes version 2.5 for 2, truncates fractions and iterates a flakes object in key order', () => {
    const flakes = { z: A('z'), a: { from: A('a').from, to: { type: 'path', path: '/p', lastModified: 1.7 } } };
    const { registry, warnings } = readRegistryAsNix(JSON.stringify({ version: 2.5, flakes }));
    expect(warnings).toEqual([]);
    expect(registry.entries.map((e) => e.from['id'])).toEqual(['a', 'z']);
    expect(registry.entries[0]?.to['lastModified']).toBe(1);
  });

  // Nix 2.8: "invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF".
  it('drops the whole file for an unpaired surrogate escape, as nlohmann refuses to parse it', () => {
    const text = file([A('a'), { from: A('x').from, to: { ...A('x').to, owner: '\\ud800' } }]).replace('\\\\', '\\');
    const { registry, warnings } = readRegistryAsNix(text, '/r.json');
    expect(registry.entries).toEqual([]);
    expect(warnings[0]).toMatch(/^cannot parse flake registry '\/r.json': invalid JSON/);
    expect(readRegistryAsNix(file([{ from: A('x').from, to: { ...A('x').to, owner: '\u{1F600}' } }])).warnings).toEqual(
      [],
    );
  });

  it('reads a null flakes as empty without a warning', () => {
    expect(readRegistryAsNix('{"version":2,"flakes":null}')).toEqual({ registry: { entries: [] }, warnings: [] });
  });
});

// Written by `nix registry add` (Nix 2.8.0) from a file holding only the exact
// entry, adding the other four one by one.
const NIX_WRITTEN = `{
  "flakes": [
    {
      "exact": true,
      "from": {
        "id": "nixpkgs",
        "ref": "nixos-25.05",
        "type": "indirect"
      },
      "to": {
        "type": "tarball",
        "url": "https://channels.nixos.org/nixos-25.05/nixexprs.tar.xz"
      }
    },
    {
      "from": {
        "id": "blender",
        "type": "indirect"
      },
      "to": {
        "dir": "blender",
        "owner": "edolstra",
        "repo": "nix-warez",
        "type": "github"
      }
    },
    {
      "from": {
        "id": "mygit",
        "type": "indirect"
      },
      "to": {
        "ref": "main",
        "submodules": true,
        "type": "git",
        "url": "https://example.org/repo"
      }
    },
    {
      "from": {
        "id": "p",
        "type": "indirect"
      },
      "to": {
        "lastModified": 12345,
        "path": "/srv/p",
        "type": "path"
      }
    },
    {
      "from": {
        "id": "gh",
        "ref": "nixos-24.11",
        "type": "indirect"
      },
      "to": {
        "owner": "NixOS",
        "repo": "nixpkgs",
        "type": "github"
      }
    }
  ],
  "version": 2
}`;

describe('writeRegistry', () => {
  it('writes the bytes nix registry add writes', () => {
    const registry: Registry = {
      entries: [
        {
          exact: true,
          to: { url: 'https://channels.nixos.org/nixos-25.05/nixexprs.tar.xz', type: 'tarball' },
          from: { type: 'indirect', ref: 'nixos-25.05', id: 'nixpkgs' },
        },
        {
          from: { type: 'indirect', id: 'blender' },
          to: { type: 'github', repo: 'nix-warez', owner: 'edolstra' },
          dir: 'blender',
          exact: false,
        },
        {
          from: { type: 'indirect', id: 'mygit' },
          to: { url: 'https://example.org/repo', type: 'git', submodules: true, ref: 'main' },
          exact: false,
        },
        {
          from: { type: 'indirect', id: 'p' },
          to: { type: 'path', path: '/srv/p', lastModified: 12345 },
          exact: false,
        },
        {
          from: { type: 'indirect', id: 'gh', ref: 'nixos-24.11' },
          to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs' },
          exact: false,
        },
      ],
    };
    expect(writeRegistry(registry)).toBe(NIX_WRITTEN);
  });

  it('round-trips a Nix-written file byte for byte', () => {
    expect(writeRegistry(readRegistry(NIX_WRITTEN))).toBe(NIX_WRITTEN);
  });

  it('writes an empty registry with flakes null, as Nix does', () => {
    expect(writeRegistry({ entries: [] })).toBe('{\n  "flakes": null,\n  "version": 2\n}');
  });

  it('escapes strings as nlohmann does: control characters as \\u00xx, non-ASCII raw', () => {
    const out = writeRegistry({
      entries: [
        { from: { type: 'indirect', id: 'u' }, to: { type: 'github', owner: 'ü\u0001/"', repo: 'r' }, exact: false },
      ],
    });
    expect(out).toContain('"owner": "ü\\u0001/\\""');
  });

  it('leaves out exact when false and puts an empty dir back', () => {
    const out = writeRegistry({
      entries: [
        { from: { type: 'indirect', id: 'e' }, to: { type: 'github', owner: 'o', repo: 'r' }, dir: '', exact: false },
      ],
    });
    expect(out).not.toContain('exact');
    expect(out).toContain('"dir": "",');
  });

  it('writes the bytes of one dump(2) of the whole file, whether entries were written before or not', () => {
    const flakes = generateRegistry(300).file.flakes.map((f, i) => ({
      ...f,
      to: i % 7 === 0 ? { ...f.to, dir: `sub\n"${i}"` } : f.to,
    }));
    const registry = readRegistry(JSON.stringify({ version: 2, flakes }));
    // The straightforward writer: one JSON.stringify of the whole file.
    const dump = (r: Registry) =>
      JSON.stringify(
        {
          flakes: r.entries.map((e) => ({
            ...(e.exact ? { exact: true } : {}),
            from: sortAttrs(e.from),
            to: sortAttrs(e.dir === undefined ? e.to : { ...e.to, dir: e.dir }),
          })),
          version: 2,
        },
        null,
        2,
      );
    expect(writeRegistry(registry)).toBe(dump(registry));
    // A second version sharing the same entry objects, in another order.
    const reordered = { entries: [...registry.entries].reverse() };
    expect(writeRegistry(reordered)).toBe(dump(reordered));
  });

  // The official file is hand-edited (its exact entries put `exact` last), so
  // only its content, not its bytes, survives; the rewrite is then a fixed point.
  it.skipIf(officialRegistryPath === undefined)(
    'reads the official registry strictly and writes the same content canonically',
    () => {
      const official = readFileSync(officialRegistryPath ?? '', 'utf8');
      const registry = readRegistry(official);
      expect(registry.entries).toHaveLength(46);
      const written = writeRegistry(registry);
      expect(JSON.parse(written)).toEqual(JSON.parse(official));
      expect(writeRegistry(readRegistry(written))).toBe(written);
    },
  );
});

describe('isWrittenAs', () => {
  it('says whether a text is exactly what writeRegistry writes, without writing it', () => {
    const registry = readRegistry(JSON.stringify(generateRegistry(50).file));
    const text = writeRegistry(registry);
    expect(isWrittenAs(registry, text)).toBe(true);
    expect(isWrittenAs({ entries: [] }, writeRegistry({ entries: [] }))).toBe(true);
    const fewer = { entries: registry.entries.slice(1) };
    for (const other of [
      `${text}\n`,
      text.replace('"version": 2', '"version": 3'),
      text.replace(',\n    ', ',\n     '),
      text.slice(0, text.length - 1),
      writeRegistry(fewer),
      writeRegistry({ entries: [] }),
      text.replace(/"owner": "[^"]*"/, '"owner": "x"'),
    ]) {
      expect(isWrittenAs(registry, other)).toBe(false);
    }
    expect(isWrittenAs(fewer, text)).toBe(false);
    expect(isWrittenAs({ entries: [] }, text)).toBe(false);
  });
});

describe('registries/*.json', () => {
  const dir = fileURLToPath(new URL('../../registries/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.includes('policy'));

  it('includes the global registry', () => {
    expect(files).toContain('global.json');
  });

  it.each(files)('%s is read strictly and is already in canonical form', (name) => {
    const text = readFileSync(dir + name, 'utf8');
    expect(writeRegistry(readRegistry(text))).toBe(text);
  });
});

describe('readRegistry: entries nobody could ask for', () => {
  it('refuses a from longer than any flake reference a lookup takes, without repeating it', () => {
    const id = `a${'b'.repeat(100_000)}`;
    const text = JSON.stringify({
      version: 2,
      flakes: [{ from: { type: 'indirect', id }, to: { type: 'github', owner: 'o', repo: 'r' } }],
    });
    expect(() => readRegistry(text)).toThrow(/^invalid flake registry entry 0: its 'from' is 100007 characters/);
    try {
      readRegistry(text);
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(200);
    }
  });
});
