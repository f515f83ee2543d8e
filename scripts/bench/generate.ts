import type { Attrs } from '../../src/nix/attrs.js';
import { mulberry32 } from './prng.js';

/**
 * Generated registries for the lookup benchmark: distinct flake ids, targets
 * mixed roughly as in real registries (mostly GitHub, some git, tarball,
 * GitLab), and some ids preceded by a ref-pinned `from` (half of them exact),
 * as the global registry does for `nixpkgs/nixos-24.05`. Deterministic, so
 * runs compare.
 */

export interface RegistryFile {
  readonly version: 2;
  readonly flakes: { from: Attrs; to: Attrs; exact?: boolean }[];
}

export interface GeneratedRegistry {
  readonly file: RegistryFile;
  /** The id of the first and of the last entry, both plain (`from` has no ref). */
  readonly firstId: string;
  readonly lastId: string;
  /** An id whose entry points at another indirect id, which points at a direct target. */
  readonly chainId: string;
  /** An id no entry has. */
  readonly missingId: string;
}

const REV = (n: number) => n.toString(16).padStart(8, '0').repeat(5);

function target(id: string, n: number, pick: number): Attrs {
  if (pick < 0.7) return { type: 'github', owner: `owner${n % 997}`, repo: id };
  if (pick < 0.8) return { type: 'github', owner: `owner${n % 997}`, repo: id, ref: 'main' };
  if (pick < 0.88) return { type: 'git', url: `https://git.example.org/${id}.git` };
  if (pick < 0.94) return { type: 'tarball', url: `https://releases.example.org/${id}/latest.tar.gz` };
  if (pick < 0.97) return { type: 'gitlab', owner: `group${n % 101}`, repo: id };
  return { type: 'github', owner: `owner${n % 997}`, repo: id, rev: REV(n) };
}

/** A registry of exactly `size` entries (size ≥ 4). */
export function generateRegistry(size: number, seed = 1): GeneratedRegistry {
  const random = mulberry32(seed);
  const flakes: RegistryFile['flakes'] = [];
  const id = (n: number) => `flake-${n.toString(36)}`;
  let n = 0;
  // The chain sits in the middle: position does not matter to an indexed lookup.
  const chainAt = Math.floor(size / 2);
  let chainId = '';
  while (flakes.length < size) {
    const name = id(n);
    const remaining = size - flakes.length;
    if (chainId === '' && flakes.length >= chainAt && remaining >= 3) {
      chainId = `${name}-chain`;
      flakes.push({ from: { type: 'indirect', id: chainId }, to: { type: 'indirect', id: name } });
      flakes.push({ from: { type: 'indirect', id: name }, to: target(name, n, random()) });
      n++;
      continue;
    }
    // A pinned entry before the plain one, never as the first or the last entry.
    if (flakes.length > 0 && remaining > 2 && random() < 0.1) {
      const exact = random() < 0.5;
      flakes.push({
        from: { type: 'indirect', id: name, ref: 'release-24.05' },
        to: exact
          ? { type: 'tarball', url: `https://releases.example.org/${name}/24.05.tar.gz` }
          : { type: 'github', owner: `owner${n % 997}`, repo: name, ref: 'release-24.05' },
        ...(exact ? { exact: true } : {}),
      });
    }
    flakes.push({ from: { type: 'indirect', id: name }, to: target(name, n, random()) });
    n++;
  }
  const first = flakes[0]?.from.id;
  const last = flakes[flakes.length - 1]?.from.id;
  if (typeof first !== 'string' || typeof last !== 'string' || chainId === '') {
    throw new Error(`cannot generate a registry of ${size} entries`);
  }
  return { file: { version: 2, flakes }, firstId: first, lastId: last, chainId, missingId: 'no-such-flake' };
}
