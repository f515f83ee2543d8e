import { describe, expect, it } from 'vitest';
import { generateRegistry } from '../../scripts/bench/generate.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import type { Attrs } from '../../src/nix/attrs.js';
import { RegistryIndex } from '../../src/nix/lookup.js';
import { readRegistryAsNix, type Registry } from '../../src/nix/registry.js';
import {
  blockCount,
  deriveLookupForm,
  ENTRIES_PER_SHARD,
  LookupFormError,
  readBlock,
  readManifest,
  readShard,
  shardCount,
  ShardedLookup,
  ShardNeeded,
  type LookupManifest,
} from '../../src/store/lookup-form.js';

const REV = 'a'.repeat(40);

/** A generated registry, plus entries that share a key, pin refs and revs, and are not indirect. */
function mixedFile(size: number): string {
  const { file } = generateRegistry(size);
  const flakes: unknown[] = [
    { from: { type: 'indirect', id: 'dup' }, to: { type: 'github', owner: 'first', repo: 'dup' } },
    { from: { type: 'github', owner: 'o', repo: 'r' }, to: { type: 'github', owner: 'fork', repo: 'r' } },
    { from: { type: 'indirect', id: 'pin', rev: REV }, to: { type: 'github', owner: 'p', repo: 'pin', rev: REV } },
    { from: { type: 'indirect', id: 'pin' }, to: { type: 'github', owner: 'p', repo: 'pin', dir: 'sub' } },
    ...file.flakes,
    { from: { type: 'indirect', id: 'dup' }, to: { type: 'github', owner: 'second', repo: 'dup' } },
    { from: { type: 'indirect', id: 'ex', ref: 'v1' }, to: { type: 'github', owner: 'e', repo: 'x' }, exact: true },
    { from: { type: 'indirect', id: 'ex' }, to: { type: 'github', owner: 'e', repo: 'x', ref: 'main' } },
  ];
  return JSON.stringify({ flakes, version: 2 });
}

function formOf(text: string, name = 'team', version = 3) {
  const registry = readRegistryAsNix(text).registry;
  const sha256 = sha256HexSync(text);
  const form = deriveLookupForm(name, version, sha256, registry);
  const expected = { registry: name, version, sha256, entries: registry.entries.length };
  return { registry, sha256, form, expected, manifest: readManifest(form.manifest, expected) };
}

/** A lookup with every shard loaded. */
function loaded(manifest: LookupManifest, shards: readonly string[]): ShardedLookup {
  const lookup = new ShardedLookup(manifest);
  shards.forEach((text, i) => lookup.add(i, readShard(manifest, i, text), text.length));
  return lookup;
}

/** What `run` throws, or undefined. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Every entry's `from`, with a ref and a rev added, and ids no entry has. */
function queries(registry: Registry): Attrs[] {
  const out: Attrs[] = [];
  for (const { from } of registry.entries) {
    out.push(from, { ...from, ref: 'v1' }, { ...from, rev: REV }, { ...from, ref: 'release-24.05' });
  }
  out.push(
    { type: 'indirect', id: 'no-such-flake' },
    { type: 'github', owner: 'o', repo: 'other' },
    { type: 'gitlab', owner: 'o', repo: 'r' },
    { type: 'path', path: '/srv/x' },
  );
  return out;
}

describe('the lookup form', () => {
  it.each([10, 1_000, 3_000])('finds what the file finds, entry for entry, at %i entries', (size) => {
    const { registry, form, manifest } = formOf(mixedFile(size));
    expect(form.shards).toHaveLength(shardCount(registry.entries.length));
    expect(manifest.shards).toHaveLength(Math.max(1, Math.ceil(registry.entries.length / ENTRIES_PER_SHARD)));
    const index = new RegistryIndex(registry);
    const lookup = loaded(manifest, form.shards);
    for (const input of queries(registry)) expect(lookup.find(input)).toEqual(index.find(input));
  });

  it.each([10, 1_000, 2_345])('gives the entries in file order, any range, at %i entries', (size) => {
    const { registry, form, manifest } = formOf(mixedFile(size));
    expect(form.blocks).toHaveLength(blockCount(registry.entries.length));
    const lookup = new ShardedLookup(manifest);
    form.blocks.forEach((text, b) => lookup.addBlock(b, readBlock(manifest, b, text), text.length));
    const n = registry.entries.length;
    for (const [start, end] of [
      [0, n],
      [0, 1],
      [n - 1, n],
      [999, 1_001],
      [200, 400],
      [Math.floor(n / 2), n],
    ] as const) {
      if (start >= n) continue;
      expect(lookup.slice(start, Math.min(end, n))).toEqual(registry.entries.slice(start, end));
    }
  });

  it('reads no shard for a type no entry maps, and knows every type that one does', () => {
    const { form, manifest } = formOf(mixedFile(1_000));
    expect(manifest.fromTypes).toEqual(['github', 'indirect']);
    const lookup = new ShardedLookup(manifest);
    expect(lookup.find({ type: 'gitlab', owner: 'o', repo: 'r' })).toBeUndefined();
    expect(() => lookup.find({ type: 'github', owner: 'o', repo: 'r' })).toThrow(ShardNeeded);
    expect(form.shards.length).toBeGreaterThan(1);
  });

  it('is the same bytes whenever it is derived from the same file', () => {
    const text = mixedFile(600);
    expect(formOf(text).form).toEqual(formOf(text).form);
  });

  it('asks for the one shard a lookup needs, and for nothing once it has it', () => {
    const { registry, form, manifest } = formOf(mixedFile(2_000));
    const lookup = new ShardedLookup(manifest);
    const input = registry.entries[1_000]?.from as Attrs;
    const needed = thrownBy(() => lookup.find(input));
    expect(needed).toBeInstanceOf(ShardNeeded);
    const { shard } = needed as ShardNeeded;
    lookup.add(shard, readShard(manifest, shard, form.shards[shard] as string), 1);
    expect(lookup.find(input)).toEqual(new RegistryIndex(registry).find(input));
  });

  describe('refuses a form that disagrees with its version', () => {
    const { sha256, form, expected } = formOf(mixedFile(700));
    const manifestJson = JSON.parse(form.manifest) as Record<string, unknown>;
    const altered = (changes: Record<string, unknown>) => JSON.stringify({ ...manifestJson, ...changes });

    it.each([
      [
        'another file',
        { file: '0'.repeat(64) },
        `derived from a file with SHA-256 "${'0'.repeat(64)}", not "${sha256}"`,
      ],
      ['another entry count', { entries: expected.entries + 1 }, `counts ${expected.entries + 1} entries`],
      ['another version', { version: 4 }, 'is for "team" version 4'],
      ['another registry', { registry: 'global' }, 'is for "global" version 3'],
      ['an entry count as a string', { entries: String(expected.entries) }, `counts "${expected.entries}" entries`],
      ['another format', { format: 2 }, 'is not format 1'],
      ['a shard too few', { shards: (manifestJson['shards'] as string[]).slice(1) }, 'does not list 3 shard hashes'],
      ['no blocks', { blocks: [] }, 'does not list 1 block hashes'],
      ['no types', { fromTypes: 'indirect' }, 'does not list the types of its entries'],
    ])('a manifest for %s', (_, changes, message) => {
      expect(() => readManifest(altered(changes), expected)).toThrow(LookupFormError);
      expect(() => readManifest(altered(changes), expected)).toThrow(message);
    });

    it('a manifest that is not JSON', () => {
      expect(() => readManifest(form.manifest.slice(0, -1), expected)).toThrow('its manifest is not JSON');
    });

    it('a shard with one byte changed', () => {
      const manifest = readManifest(form.manifest, expected);
      const shard = form.shards[0] as string;
      const changed = shard.replace('"github"', '"gitlab"');
      expect(changed).not.toBe(shard);
      expect(() => readShard(manifest, 0, changed)).toThrow('its shard 0 does not hash to what its manifest says');
    });

    it('a block with one byte changed, or with an entry too few', () => {
      const manifest = readManifest(form.manifest, expected);
      const block = form.blocks[0] as string;
      expect(() => readBlock(manifest, 0, block.replace('"github"', '"gitlab"'))).toThrow(
        'its block 0 does not hash to what its manifest says',
      );
      const rows = (JSON.parse(block) as { entries: unknown[] }).entries;
      const short = JSON.stringify({ entries: rows.slice(1) });
      const blocks = [sha256HexSync(short)];
      const rehashed = readManifest(altered({ blocks }), expected);
      expect(() => readBlock(rehashed, 0, short)).toThrow(`its block 0 does not hold ${expected.entries} entries`);
    });

    it('a group moved into another shard', () => {
      const shard0 = JSON.parse(form.shards[0] as string) as { groups: Record<string, unknown> };
      const shard1 = JSON.parse(form.shards[1] as string) as { groups: Record<string, unknown> };
      const [key] = Object.keys(shard0.groups) as [string];
      shard1.groups[key] = shard0.groups[key];
      const text = JSON.stringify(shard1);
      const shards = [...(manifestJson['shards'] as string[])];
      shards[1] = sha256HexSync(text);
      const manifest = readManifest(altered({ shards }), expected);
      expect(() => readShard(manifest, 1, text)).toThrow('its shard 1 holds a group that belongs in shard 0');
    });

    /** A manifest and shard 0 rewritten together, so that the hash agrees: only the lookup's own checks remain. */
    function rewritten(edit: (groups: Record<string, unknown[][]>) => void): { lookup: ShardedLookup; key: Attrs } {
      const shard = JSON.parse(form.shards[0] as string) as { groups: Record<string, unknown[][]> };
      const [firstKey] = Object.keys(shard.groups);
      edit(shard.groups);
      const text = JSON.stringify(shard);
      const shards = [...(manifestJson['shards'] as string[])];
      shards[0] = sha256HexSync(text);
      const manifest = readManifest(altered({ shards }), expected);
      const lookup = new ShardedLookup(manifest);
      lookup.add(0, readShard(manifest, 0, text), text.length);
      const pairs = JSON.parse(firstKey as string) as [string, string | number | boolean][];
      return { lookup, key: Object.fromEntries(pairs) };
    }

    it.each([
      [
        'an entry filed under another key',
        (g: Record<string, unknown[][]>) => {
          const [k] = Object.keys(g);
          const row = g[k as string]?.[0] as unknown[];
          row[1] = { type: 'indirect', id: 'elsewhere' };
        },
        'under another key',
      ],
      [
        'entries out of file order',
        (g: Record<string, unknown[][]>) => {
          const [k] = Object.keys(g);
          const rows = g[k as string] as unknown[][];
          rows.push([...(rows[0] as unknown[])]);
        },
        'out of order',
      ],
      [
        'a position past the file',
        (g: Record<string, unknown[][]>) => {
          const [k] = Object.keys(g);
          (g[k as string]?.[0] as unknown[])[0] = expected.entries;
        },
        'out of order',
      ],
      [
        'a target Nix cannot read',
        (g: Record<string, unknown[][]>) => {
          const [k] = Object.keys(g);
          (g[k as string]?.[0] as unknown[])[2] = { type: 'nonsense' };
        },
        'that Nix cannot read',
      ],
      [
        'a malformed entry',
        (g: Record<string, unknown[][]>) => {
          const [k] = Object.keys(g);
          (g[k as string]?.[0] as unknown[])[3] = 'yes';
        },
        'malformed entry',
      ],
    ])('%s', (_, edit, message) => {
      const { lookup, key } = rewritten(edit);
      const thrown = thrownBy(() => lookup.find(key));
      expect(thrown).toBeInstanceOf(LookupFormError);
      expect((thrown as LookupFormError).message).toContain(message);
      expect((thrown as LookupFormError).lookup).toBe(lookup);
    });
  });
});
