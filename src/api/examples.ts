/**
 * One example answer of each kind, for the OpenAPI document. They are the
 * worked example of docs/protocol.md (maintainer-1's proposal to pin nixpkgs),
 * and a unit test checks each against the schema it illustrates.
 */

const PROPOSAL = {
  registry: 'global',
  base: 3,
  changes: [
    {
      op: 'set',
      entry: {
        from: { type: 'indirect', id: 'nixpkgs' },
        to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' },
      },
    },
  ],
  message: 'Pin nixpkgs to 24.05 ✓',
  created: '2026-03-01T12:00:00Z',
  expires: '2026-03-15T12:00:00Z',
} as const;

const ID = '13e73aeb6c02a1c2479083b0f515a3c653acfbc127c6ed02a63c23012d84dc29';
const SIGNATURE =
  'maintainer-1:cBn6abEIdUP78tarTKhDS8wX47G/x5pjtZpRGdwSLqqcwCxw0VHtLiZokTLZNDtvOg7doRlh5sYsT8eFfQ79Aw==';
const KEY = 'maintainer-1:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
const HASH = (c: string) => c.repeat(64);

const NIXPKGS = 'flake:nixpkgs';

export const EXAMPLES = {
  /** docs/log.md's worked example (the test there checks it): registry `global`'s log at size 3. */
  checkpoint: [
    'registry.example.org/registries/global/log',
    '3',
    '/0Lkgus/3wiYHn5VWzSnhqMxUvw2hNWHaguSkDjIfRY=',
    '',
    '— registry.example.org vltrI0gwMuqRsK+mtf8aqGJhRR9T29i3SgBPWnXkkuX3KX3U0farRkrb52E1ISkRUeuUvC5jvUyjcG8rC6rca4AD+QI=',
    '— registry.example.org jz3hcgAAAABppCpAmE6eOBFpF8wALAl+RzdZcw2GfqQ72ZCdKxHu5gfh0OD2/a2d7dPiSdnc4ylaeJxYV6fyvGUXY0B9bF22qur3Ag==',
    '',
  ].join('\n'),
  vkey: 'registry.example.org+be5b6b23+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea',
  registryFile: {
    version: 2,
    flakes: [
      {
        from: { type: 'indirect', id: 'nixpkgs' },
        to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixpkgs-unstable' },
      },
    ],
  },
  registryList: {
    registries: [
      {
        name: 'global',
        version: 3,
        entries: 39,
        sha256: HASH('a'),
        created: '2026-03-01T11:00:00.000Z',
        url: '/registries/global/versions/3/flake-registry.json',
      },
    ],
  },
  versionRecord: {
    registry: 'global',
    version: 4,
    sha256: HASH('b'),
    parent: HASH('c'),
    policy: HASH('d'),
    created: '2026-03-01T12:05:00.000Z',
    entries: 39,
    source: { kind: 'proposal', id: ID, proposal: PROPOSAL, signatures: [SIGNATURE] },
    changes: { added: [], removed: [], changed: [NIXPKGS], moved: [] },
  },
  get versionPage() {
    return {
      registry: 'global',
      latest: 4,
      versions: [EXAMPLES.versionRecord],
      next: '/registries/global/versions?before=4&limit=1',
    };
  },
  resolution: {
    ref: { url: 'flake:nixpkgs/master', attrs: { id: 'nixpkgs', ref: 'master', type: 'indirect' } },
    resolved: {
      url: 'github:NixOS/nixpkgs/master',
      attrs: { owner: 'NixOS', ref: 'master', repo: 'nixpkgs', type: 'github' },
    },
    steps: [
      {
        registry: 'global',
        version: 1,
        index: 32,
        exact: false,
        from: NIXPKGS,
        to: 'github:NixOS/nixpkgs/master',
      },
    ],
    registries: [{ name: 'global', version: 1 }],
  },
  auditLock: {
    version: 7,
    root: 'root',
    nodes: {
      root: { inputs: { nixpkgs: 'nixpkgs' } },
      nixpkgs: {
        original: { type: 'indirect', id: 'nixpkgs' },
        locked: {
          type: 'github',
          owner: 'NixOS',
          repo: 'nixpkgs',
          rev: 'a3a3dda3bacf61e8a39258a0ed9c924eeca8e293',
          narHash: 'sha256-A1ODnuHCsGcT1ofM/hNwiw7gbDBHVkN6eT2W5D8HKkE=',
          lastModified: 1717179513,
        },
      },
    },
  },
  audit: {
    document: 'flake.lock',
    version: 7,
    registries: [{ name: 'global', version: 1 }],
    rows: [
      {
        kind: 'input',
        id: 'nixpkgs',
        node: 'nixpkgs',
        flake: true,
        original: { url: 'flake:nixpkgs', attrs: { id: 'nixpkgs', type: 'indirect' } },
        pinsRev: false,
        locked: {
          url: 'github:NixOS/nixpkgs/a3a3dda3bacf61e8a39258a0ed9c924eeca8e293?narHash=sha256-A1ODnuHCsGcT1ofM/hNwiw7gbDBHVkN6eT2W5D8HKkE%3D',
          attrs: {
            lastModified: 1717179513,
            narHash: 'sha256-A1ODnuHCsGcT1ofM/hNwiw7gbDBHVkN6eT2W5D8HKkE=',
            owner: 'NixOS',
            repo: 'nixpkgs',
            rev: 'a3a3dda3bacf61e8a39258a0ed9c924eeca8e293',
            type: 'github',
          },
        },
        resolved: {
          url: 'github:NixOS/nixpkgs/nixpkgs-unstable',
          attrs: { owner: 'NixOS', ref: 'nixpkgs-unstable', repo: 'nixpkgs', type: 'github' },
        },
        steps: [
          {
            registry: 'global',
            version: 1,
            index: 32,
            exact: false,
            from: NIXPKGS,
            to: 'github:NixOS/nixpkgs/nixpkgs-unstable',
          },
        ],
        status: { kind: 'same-source' },
      },
    ],
    warnings: [],
  },
  submission: { proposal: PROPOSAL, signatures: [SIGNATURE] },
  proposalView: {
    id: ID,
    registry: 'global',
    status: 'open',
    proposal: PROPOSAL,
    submitted: '2026-03-01T12:00:05.000Z',
    signatures: [{ key: KEY, signature: SIGNATURE, added: '2026-03-01T12:00:05.000Z', counted: true }],
    approvals: {
      policy: { have: 1, need: 2, signers: ['maintainer-1'], remaining: ['maintainer-2'], sha256: HASH('d'), since: 1 },
      missing: 1,
    },
    review: {
      base: { version: 3, changes: { added: [], removed: [], changed: [NIXPKGS], moved: [] } },
      head: 3,
      changes: { added: [], removed: [], changed: [NIXPKGS], moved: [] },
      lint: [],
      impact: [
        {
          ref: NIXPKGS,
          before: {
            url: 'github:NixOS/nixpkgs/nixpkgs-unstable',
            attrs: { owner: 'NixOS', ref: 'nixpkgs-unstable', repo: 'nixpkgs', type: 'github' },
          },
          after: {
            url: 'github:NixOS/nixpkgs/nixos-24.05',
            attrs: { owner: 'NixOS', ref: 'nixos-24.05', repo: 'nixpkgs', type: 'github' },
          },
          changed: true,
          text: 'nixpkgs: github:NixOS/nixpkgs/nixpkgs-unstable -> github:NixOS/nixpkgs/nixos-24.05',
        },
      ],
    },
  },
  proposalList: {
    registry: 'global',
    proposals: [
      {
        id: ID,
        status: 'open',
        base: 3,
        message: PROPOSAL.message,
        submitted: '2026-03-01T12:00:05.000Z',
        expires: PROPOSAL.expires,
        signatures: 1,
      },
    ],
  },
  policy: {
    registry: 'global',
    keys: [KEY, 'maintainer-2:yercPjq+p0IHEq5Fo5Z/e88GRiLG4p8fJcg1HOmAqfo='],
    threshold: 2,
    sha256: HASH('d'),
    since: 1,
  },
} as const;

/** Members an example problem of each kind carries besides the standard ones (those its kind requires). */
export const PROBLEM_EXAMPLES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'invalid-proposal': { errors: [{ path: 'proposal.message', message: 'must say why (in words)' }] },
  'duplicate-signer': { key: 'maintainer-1' },
  'bad-signature': { name: 'maintainer-1' },
  conflict: { entries: [NIXPKGS] },
  'not-open': { proposalStatus: 'merged' },
  'invalid-change': { change: 0 },
  'invalid-document': { code: 'follows-cycle', node: 'home-manager' },
  'lint-failed': {
    findings: [
      {
        severity: 'error',
        kind: 'cycle',
        entry: 3,
        from: 'flake:a',
        exact: false,
        message: "cycle detected in flake registry for 'flake:b'",
      },
    ],
  },
};
