import { describe, expect, it } from 'vitest';
import { diffRegistries } from '../../src/nix/diff.js';
import { formatImpact, resolutionImpact } from '../../src/nix/impact.js';
import { readRegistry } from '../../src/nix/registry.js';
import type { ImpactRow } from '../../src/nix/impact.js';
import type { E } from './lookup-helpers.js';
import { CHANNEL_LAYOUT, chan, reg } from './edit-helpers.js';

function impact(before: E[], after: E[]): string[] {
  const [b, a] = [reg(before), reg(after)];
  return resolutionImpact(b, a, diffRegistries(b, a).summary).map(formatImpact);
}

const UNSTABLE: E = ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'];
const STABLE: E = ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixos-25.05'];

describe('resolutionImpact', () => {
  it('shows what the bare id resolved to before and after', () => {
    expect(impact([UNSTABLE], [STABLE])).toEqual([
      'nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05',
    ]);
  });

  it('shows every from-form of a touched id, unchanged ones included', () => {
    const after = CHANNEL_LAYOUT.map((e) => (e[0] === 'nixpkgs' ? STABLE : e));
    expect(impact(CHANNEL_LAYOUT, after)).toEqual([
      'nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05',
      `nixpkgs/nixos-25.05: ${chan('nixos-25.05')} (unchanged)`,
      `nixpkgs/nixos-25.11: ${chan('nixos-25.11')} (unchanged)`,
      `nixpkgs/nixos-unstable: ${chan('nixos-unstable')} (unchanged)`,
    ]);
  });

  it('shows entries that chain through a touched id, and only when they change', () => {
    const chain: E[] = [
      ['mine', '→', 'flake:nixpkgs'],
      ['other', '→', 'github:o/other'],
      ['deeper', '→', 'flake:mine'],
    ];
    expect(impact([...chain, UNSTABLE], [...chain, STABLE])).toEqual([
      'nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05',
      'mine: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05',
      'deeper: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-25.05',
    ]);
  });

  it("gives Nix's error text for an id that no longer resolves, and keeps dir apart", () => {
    const rows = resolutionImpact(reg([['x', '→', 'github:o/x?dir=sub']]), reg([]), {
      added: [],
      removed: ['flake:x'],
      changed: [],
      moved: [],
    });
    expect(rows).toEqual<ImpactRow[]>([
      {
        ref: 'flake:x',
        before: { url: 'github:o/x?dir=sub', dir: 'sub', attrs: { owner: 'o', repo: 'x', type: 'github' } },
        after: { error: "cannot find flake 'flake:x' in the flake registries" },
        changed: true,
      },
    ]);
    expect(rows.map(formatImpact)).toEqual([
      "x: github:o/x?dir=sub -> error: cannot find flake 'flake:x' in the flake registries",
    ]);
  });

  it('shows a new pinned channel, in file order, and the bare id it does not change', () => {
    const channel: E = ['flake:nixpkgs/nixos-26.11', '⇒', chan('nixos-26.11')];
    const at = CHANNEL_LAYOUT.findIndex((e) => e[0] === 'nixpkgs');
    const after = [...CHANNEL_LAYOUT.slice(0, at), channel, ...CHANNEL_LAYOUT.slice(at)];
    expect(impact(CHANNEL_LAYOUT, after)).toEqual([
      'nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable (unchanged)',
      `nixpkgs/nixos-25.05: ${chan('nixos-25.05')} (unchanged)`,
      `nixpkgs/nixos-25.11: ${chan('nixos-25.11')} (unchanged)`,
      `nixpkgs/nixos-unstable: ${chan('nixos-unstable')} (unchanged)`,
      `nixpkgs/nixos-26.11: github:NixOS/nixpkgs/nixos-26.11 -> ${chan('nixos-26.11')}`,
    ]);
  });
});

describe('resolutionImpact of attributes a URL does not show', () => {
  it('says which attributes changed instead of calling the ref unchanged', () => {
    const git = (extra: Record<string, unknown>) =>
      readRegistry(
        JSON.stringify({
          version: 2,
          flakes: [
            {
              from: { type: 'indirect', id: 'g' },
              to: { type: 'git', url: 'https://example.org/x', ref: 'main', ...extra },
            },
          ],
        }),
      );
    const [b, a] = [git({}), git({ narHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', allRefs: true })];
    const rows = resolutionImpact(b, a, diffRegistries(b, a).summary).map(formatImpact);
    expect(rows[0]).toMatch(
      /^g: git\+https:\/\/example\.org\/x\?ref=main, attributes changed \(allRefs: \(none\) -> true; narHash: \(none\) -> sha256-A+=\)$/,
    );
  });
});
