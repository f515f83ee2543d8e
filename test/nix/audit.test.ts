import { describe, expect, it } from 'vitest';
import { AUDIT_STATUSES } from '../../src/api/answers.js';
import { compareAudits } from '../../src/nix/audit-compare.js';
import {
  audit,
  AuditError,
  readAuditDocument,
  readAuditDocumentText,
  type Audit,
  type AuditRow,
} from '../../src/nix/audit.js';
import { MAX_DOCUMENT_LENGTH } from '../../src/nix/document.js';
import { LockFileError, readLockFileText } from '../../src/nix/lockfile.js';
import { OVERRIDE_LAYER_NAME, withOverrides } from '../../src/nix/overrides.js';
import { ManifestError, readProfileManifestText } from '../../src/nix/profile.js';
import { BASE, base, CHANNEL_UNSTABLE, fixture, fixtureText, REV } from './audit-helpers.js';
import { layer, type E } from './lookup-helpers.js';

/** `id: status` for every row, with the changed attributes of a redirect. */
function statuses(a: Audit): string[] {
  return a.rows.map((r) => `${r.id}: ${statusText(r)}`);
}

function statusText(r: AuditRow): string {
  const s = r.status;
  switch (s.kind) {
    case 'redirected':
      return `redirected (${s.changes.map((c) => `${c.attribute} ${String(c.from)} → ${String(c.to)}`).join(', ')})`;
    case 'pinned':
      return `pinned by ${s.by}`;
    case 'error':
      return `error ${s.error}: ${s.message}`;
    case 'not-found':
      return `not-found: ${s.message}`;
    default:
      return s.kind;
  }
}

const row = (a: Audit, id: string): AuditRow | undefined => a.rows.find((r) => r.id === id);

describe('audit: every status against the registry the fixtures were locked through', () => {
  it('audits a version 7 lock: same source, follows, direct, pinned by the original or the registry, not found', () => {
    expect(statuses(audit(fixture('lock-v7.json'), [base()]))).toEqual([
      'data: same-source',
      'flake-utils: same-source',
      'flake-utils/systems: direct',
      "gone: not-found: cannot find flake 'flake:gone' in the flake registries",
      'home-manager: direct',
      'home-manager/nixpkgs: same-source',
      'nixpkgs: same-source',
      'nixpkgs-stable: same-source',
      'pinned: pinned by original',
      'self-ref: direct',
      'tools: same-source',
      'utils-pinned: pinned by registry',
    ]);
  });

  it('audits a version 6 lock: redirects, a cycle, a ref the target cannot take, an unverifiable tarball', () => {
    expect(statuses(audit(fixture('lock-v6.json'), [base()]))).toEqual([
      `channel: unverifiable`,
      "cyclic: error cycle: cycle detected in flake registry for 'flake:loop-a'",
      'home-manager: same-source',
      'home-manager/nixpkgs: same-source',
      'mylib: redirected (owner old-owner → example)',
      'nixpkgs: same-source',
      'stable-tools: redirected (ref release-1 → stable)',
      `wrongref: error override: don't know how to set branch/tag name of input '${CHANNEL_UNSTABLE}' to 'dev'`,
    ]);
  });

  it('audits a version 5 lock, passing the original’s branch on as Nix does', () => {
    const a = audit(fixture('lock-v5.json'), [base()]);
    expect(statuses(a)).toEqual(['nixpkgs: same-source', 'tools: same-source']);
    expect(row(a, 'tools')?.resolved?.url).toBe('git+https://git.example.org/tools.git?ref=dev');
  });

  it.each([
    ['manifest-v1.json', ['cowsay: not-from-flake', 'hello: same-source']],
    [
      'manifest-v2.json',
      [
        'flake:mylib#packages.x86_64-linux.default: redirected (owner old-owner → example)',
        'home-manager: direct',
        'jq: pinned by original',
        'ripgrep: same-source',
        'ripgrep-1: same-source',
      ],
    ],
    [
      'manifest-v3.json',
      [
        'channel-hello: same-source',
        'cowsay: not-from-flake',
        "gone-tool: not-found: cannot find flake 'flake:gone' in the flake registries",
        'hello: same-source',
        "loop: error cycle: cycle detected in flake registry for 'flake:loop-a'",
      ],
    ],
  ])('audits %s', (name, expected) => {
    const a = audit(fixture(name), [base()]);
    expect(a.document).toBe('manifest.json');
    expect(statuses(a)).toEqual(expected);
  });

  // Written from Nix's writers and readers (src/nix/profile.cc): version 1 as the first
  // `nix profile` wrote it (`uri`, `originalUri`, no priority), 2 as 2.8 writes it (2.9's
  // `priority` and `outputs` on one element), 3 as current Nix writes it (keyed by name,
  // narHash in the locked URL).
  it.each([
    [
      'manifest-v1-statuses.json',
      [
        'cowsay: not-from-flake',
        'firefox: unverifiable',
        "gone: not-found: cannot find flake 'flake:gone' in the flake registries",
        'hello: same-source',
        'home-manager: direct',
        'jq: pinned by original',
        "loop: error cycle: cycle detected in flake registry for 'flake:loop-a'",
        'mylib: redirected (owner old-owner → example)',
      ],
    ],
    [
      'manifest-v2-statuses.json',
      [
        'cowsay: not-from-flake',
        'firefox: unverifiable',
        "gone: not-found: cannot find flake 'flake:gone' in the flake registries",
        'hello: same-source',
        'home-manager: direct',
        'mylib: redirected (owner old-owner → example)',
        'utils: pinned by registry',
        `wrongref: error override: don't know how to set branch/tag name of input '${CHANNEL_UNSTABLE}' to 'dev'`,
      ],
    ],
    [
      'manifest-v3-statuses.json',
      [
        'cowsay: not-from-flake',
        'firefox: unverifiable',
        "gone: not-found: cannot find flake 'flake:gone' in the flake registries",
        'hello: same-source',
        'home-manager: direct',
        'jq: pinned by original',
        "loop: error cycle: cycle detected in flake registry for 'flake:loop-a'",
        'mylib: redirected (owner old-owner → example)',
      ],
    ],
  ])('gives every status to the elements of %s', (name, expected) => {
    const a = audit(fixture(name), [base()]);
    expect(a.version).toBe(Number(/v(\d)/.exec(name)?.[1]));
    expect(statuses(a)).toEqual(expected);
    expect(new Set(a.rows.map((r) => r.status.kind))).toEqual(new Set(AUDIT_STATUSES));
  });

  it('reports what each row is locked to, what it resolves to and the lookup’s steps', () => {
    const a = audit(fixture('lock-v7.json'), [base(4)]);
    expect(a.registries).toEqual([{ name: 'global', version: 4 }]);
    const r = row(a, 'home-manager/nixpkgs');
    expect(r).toMatchObject({ kind: 'input', node: 'nixpkgs', follows: 'nixpkgs', flake: true });
    expect(r?.original?.url).toBe('flake:nixpkgs');
    expect(r?.locked?.url).toMatch(new RegExp(`^github:NixOS/nixpkgs/${REV[0]}\\?`));
    expect(r?.resolved?.url).toBe('github:NixOS/nixpkgs/nixpkgs-unstable');
    expect(r?.steps?.map((s) => [s.registry, s.version, s.index])).toEqual([['global', 4, 1]]);
    expect(row(a, 'data')?.flake).toBe(false);
    expect([row(a, 'pinned')?.pinsRev, row(a, 'nixpkgs')?.pinsRev]).toEqual([true, false]);
    expect(row(a, 'self-ref')).toEqual({
      kind: 'input',
      id: 'self-ref',
      node: 'root',
      follows: '',
      status: { kind: 'direct' },
    });
  });

  it('names the entry whose target cannot take the ref, with the steps before it', () => {
    const r = row(audit(fixture('lock-v6.json'), [base()]), 'wrongref');
    expect(r?.entry).toMatchObject({ registry: 'global', index: BASE.findIndex(([from]) => from === 'chan') });
    expect(r?.steps).toEqual([]);
  });

  it('lists a tarball whose lock holds another URL, with both URLs', () => {
    expect(row(audit(fixture('lock-v6.json'), [base()]), 'channel')?.status).toEqual({
      kind: 'unverifiable',
      lockedUrl: 'https://releases.example.org/nixos/unstable/nixos-25.11pre1234.abcdef/nixexprs.tar.xz',
      resolvedUrl: CHANNEL_UNSTABLE,
    });
  });

  it('carries the lock’s warnings', () => {
    const lock = {
      version: 7,
      root: 'r',
      nodes: {
        r: { inputs: { p: 'p' } },
        p: {
          locked: { type: 'github', owner: 'o', repo: 'p', narHash: 'sha256-x' },
          original: { type: 'indirect', id: 'p' },
        },
      },
    };
    expect(audit(lock, [base()]).warnings).toEqual([
      "Lock file entry 'github:o/p?narHash=sha256-x' is unlocked (e.g. lacks a Git revision) but is checked by NAR hash. This is not reproducible and will break after garbage collection or when shared.",
    ]);
  });
});

describe('audit with overrides above the registries', () => {
  const fork = [{ original: 'nixpkgs', resolved: 'github:example-fork/nixpkgs' }];

  it('redirects every input the override reaches, through follows too, and says so in the steps', () => {
    const a = audit(fixture('lock-v7.json'), withOverrides(fork, [base()]));
    const changed = statuses(a).filter((s) => s.includes('redirected'));
    expect(changed).toEqual([
      'home-manager/nixpkgs: redirected (owner NixOS → example-fork)',
      'nixpkgs: redirected (owner NixOS → example-fork)',
      'nixpkgs-stable: redirected (host null → github.com, owner null → example-fork, repo null → nixpkgs, type tarball → github, url https://channels.example.org/nixos-24.05/nixexprs.tar.xz → null)',
      'pinned: redirected (owner NixOS → example-fork)',
    ]);
    expect(row(a, 'pinned')?.resolved?.url).toBe(`github:example-fork/nixpkgs/${REV[4]}`);
    expect(row(a, 'nixpkgs')?.steps?.map((s) => [s.registry, s.index])).toEqual([[OVERRIDE_LAYER_NAME, 0]]);
    expect(a.registries[0]).toEqual({ name: OVERRIDE_LAYER_NAME, version: 0 });
  });

  it('finds an input the registries lack when an override names it', () => {
    const a = audit(
      fixture('lock-v7.json'),
      withOverrides([{ original: 'gone', resolved: 'github:example/gone' }], [base()]),
    );
    expect(statusText(row(a, 'gone') as AuditRow)).toBe('same-source');
  });

  it('never looks up a direct original, even when an override matches it (Nix fetches it as written)', () => {
    const a = audit(
      fixture('lock-v7.json'),
      withOverrides([{ original: 'github:nix-community/home-manager', resolved: 'github:other/hm' }], [base()]),
    );
    expect(statusText(row(a, 'home-manager') as AuditRow)).toBe('direct');
  });
});

describe('compareAudits: a proposal’s effect on one file', () => {
  const after: E[] = BASE.map(([from, arrow, to]): E => {
    if (from === 'nixpkgs') return [from, arrow, 'github:NixOS/nixpkgs/nixos-unstable'];
    if (from === 'tools') return [from, arrow, 'git+https://git.example.org/tools.git?ref=develop'];
    return [from, arrow, to];
  });
  const withGone: E[] = [...after, ['gone', '→', 'github:example/gone']];

  it('lists the rows whose status or target moves, branch changes on github included', () => {
    const file = fixture('lock-v7.json');
    const c = compareAudits(audit(file, [base(1)]), audit(file, [layer('global', withGone, 2)]));
    expect(
      c.changed.map((d) => [d.id, d.before.status.kind, d.after.status.kind, d.statusChanged, d.targetChanged]),
    ).toEqual([
      ['gone', 'not-found', 'same-source', true, true],
      ['home-manager/nixpkgs', 'same-source', 'same-source', false, true],
      ['nixpkgs', 'same-source', 'same-source', false, true],
      ['tools', 'same-source', 'redirected', true, true],
    ]);
    expect(c.unchanged).toBe(8);
    expect(c.changed[2]?.before.target).toEqual({ url: 'github:NixOS/nixpkgs/nixpkgs-unstable' });
    expect(c.changed[2]?.after.target).toEqual({ url: 'github:NixOS/nixpkgs/nixos-unstable' });
    expect(c.changed[0]?.before.target).toEqual({ error: "cannot find flake 'flake:gone' in the flake registries" });
  });

  it('finds nothing changed between two audits against the same registries', () => {
    const file = fixture('manifest-v3.json');
    const c = compareAudits(audit(file, [base(1)]), audit(file, [base(2)]));
    expect(c).toEqual({ changed: [], unchanged: 5 });
  });

  it('refuses to compare audits of two different files', () => {
    expect(() =>
      compareAudits(audit(fixture('lock-v7.json'), [base()]), audit(fixture('lock-v6.json'), [base()])),
    ).toThrow(
      new AuditError('different-documents', 'the two audits are not of the same file: their inputs or elements differ'),
    );
  });
});

describe('readAuditDocument: the file is recognised by its content', () => {
  it('recognises a lock by nodes and root, a manifest by elements', () => {
    expect(readAuditDocument(fixture('lock-v6.json')).kind).toBe('flake.lock');
    expect(readAuditDocumentText(fixtureText('manifest-v2.json')).kind).toBe('manifest.json');
  });

  it.each([
    ['an empty object', '{}', 'unrecognised', 'neither a flake.lock'],
    ['a list', '[]', 'unrecognised', 'neither a flake.lock'],
    ['both shapes at once', '{"nodes":{},"root":"r","elements":[]}', 'unrecognised', 'has both'],
    ['text that is not JSON', 'version = 7', 'not-json', 'the file is not JSON: '],
  ])('refuses %s', (_, text, code, message) => {
    expect(() => readAuditDocumentText(text)).toThrow(AuditError);
    expect(() => readAuditDocumentText(text)).toThrow(message);
    try {
      readAuditDocumentText(text);
    } catch (e) {
      expect((e as AuditError).code).toBe(code);
    }
  });

  it(`refuses text longer than ${MAX_DOCUMENT_LENGTH} characters before parsing it, as too large, JSON or not`, () => {
    const valid = `{"nodes": {}, "root": "r"}${' '.repeat(MAX_DOCUMENT_LENGTH)}`;
    const message = `the file is too large: it is longer than ${MAX_DOCUMENT_LENGTH} characters, the most read`;
    for (const text of [valid, ' '.repeat(MAX_DOCUMENT_LENGTH + 1)]) {
      expect(() => readAuditDocumentText(text)).toThrow(message);
      expect(() => readAuditDocumentText(text)).toThrow(expect.objectContaining({ code: 'too-large' }));
    }
    expect(() => readLockFileText(valid)).toThrow(expect.objectContaining({ code: 'too-large' }));
    expect(() => readProfileManifestText(valid)).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('passes on the reader’s own error for a lock or manifest Nix would refuse', () => {
    expect(() => readAuditDocument({ version: 9, nodes: {}, root: 'r' })).toThrow(LockFileError);
    expect(() => readAuditDocument({ version: 9, elements: [] })).toThrow(ManifestError);
  });
});
