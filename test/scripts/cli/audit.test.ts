import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareAudits } from '../../../src/nix/audit-compare.js';
import { audit, type Audit } from '../../../src/nix/audit.js';
import type { Json } from '../../../src/nix/document.js';
import type { LayerRef } from '../../../src/nix/lookup.js';
import { withOverrides } from '../../../src/nix/overrides.js';
import { entryJson, stepJson } from '../../../src/http/routes/resolve.js';
import { layer, type E } from '../../nix/lookup-helpers.js';
import { cli, tempDir } from './helpers.js';

const { dir, remove } = tempDir();
afterAll(remove);

const FIXTURES = join(import.meta.dirname, '..', '..', 'nix', 'fixtures');
const REV = '644fe7bb85b6752185b840254c7a541ee64761c7';
const NAR = 'sha256-OwiJl/4IDo/wnjcFirVy9sx7U34jO5jmWTM1VOu/lDI=';
const ID = 'ab'.repeat(32);

/** A version 7 lock: nixpkgs and tool through the registry, direct not. */
const LOCK = {
  version: 7,
  root: 'root',
  nodes: {
    root: { inputs: { nixpkgs: 'nixpkgs', tool: 'tool', direct: 'direct', utils: ['nixpkgs'] } },
    nixpkgs: {
      original: { type: 'indirect', id: 'nixpkgs' },
      locked: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', rev: REV, narHash: NAR, lastModified: 1 },
    },
    tool: {
      original: { type: 'indirect', id: 'tool' },
      locked: { type: 'github', owner: 'acme', repo: 'tool', rev: REV, narHash: NAR, lastModified: 1 },
    },
    direct: {
      original: { type: 'github', owner: 'o', repo: 'r' },
      locked: { type: 'github', owner: 'o', repo: 'r', rev: REV, narHash: NAR, lastModified: 1 },
    },
  },
};

const SAME: readonly E[] = [
  ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable'],
  ['tool', '→', 'github:acme/tool'],
];
const MOVED: readonly E[] = [
  ['nixpkgs', '→', 'github:me/nixpkgs'],
  ['tool', '→', 'github:acme/tool'],
];
const GONE: readonly E[] = [['nixpkgs', '→', 'github:NixOS/nixpkgs/nixpkgs-unstable']];

/** An audit as the service answers it (src/http/routes/audit.ts): steps and entries as URLs. */
function answerOf(a: Audit): Json {
  return JSON.parse(
    JSON.stringify({
      ...a,
      rows: a.rows.map((r) => ({
        ...r,
        ...(r.steps === undefined ? {} : { steps: r.steps.map(stepJson) }),
        ...(r.entry === undefined ? {} : { entry: entryJson(r.entry) }),
      })),
    }),
  ) as Json;
}

interface Asked {
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
}

/**
 * A service that audits what it is sent with the core against `entries` as `global`, and for a
 * proposal between `entries` and `proposed`; it keeps what it was asked.
 */
function service(entries: readonly E[], proposed: readonly E[] = entries, has: readonly string[] = ['global']) {
  const asked: Asked[] = [];
  const sent: string[] = [];
  const answer = (input: RequestInfo | URL, init?: RequestInit): Response => {
    const url = input instanceof Request ? input.url : input.toString();
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Json) : undefined;
    asked.push({ method, url, body });
    if (typeof init?.body === 'string') sent.push(init.body);
    const path = new URL(url).pathname;
    const proposal = /^\/registries\/([^/]+)\/proposals\/([0-9a-f]{64})(\/audit)?$/.exec(path);
    if (method === 'GET' && proposal) {
      return has.includes(proposal[1] ?? '')
        ? Response.json({})
        : Response.json(
            {
              type: 'urn:flake-registry:problem:unknown-proposal',
              title: 'Unknown proposal',
              status: 404,
              detail: 'x',
            },
            { status: 404, headers: { 'Content-Type': 'application/problem+json' } },
          );
    }
    const values = new URL(url).searchParams.getAll('override-flake');
    const overrides = values.flatMap((v, i) => (i % 2 === 0 ? [{ original: v, resolved: values[i + 1] ?? '' }] : []));
    const before: LayerRef[] = withOverrides(overrides, [layer('global', entries, 3)]);
    if (path === '/audit') {
      const answer = answerOf({ ...audit(body as Json, before), registries: [{ name: 'global', version: 3 }] });
      return Response.json(overrides.length === 0 ? answer : { ...(answer as object), overrides });
    }
    if (proposal?.[3] !== undefined) {
      const after: LayerRef[] = [layer('global', proposed, 4)];
      const [b, a] = [audit(body as Json, before), audit(body as Json, after)];
      const c = compareAudits(b, a);
      return Response.json({
        registry: proposal[1],
        proposal: proposal[2],
        status: 'open',
        from: 3,
        to: 4,
        before: answerOf(b),
        after: answerOf(a),
        changed: c.changed,
        unchanged: c.unchanged,
      });
    }
    return new Response('no', { status: 404 });
  };
  const fetch: typeof globalThis.fetch = (input, init) => Promise.resolve(answer(input, init));
  return { asked, sent, fetch };
}

writeFileSync(join(dir, 'flake.lock'), JSON.stringify(LOCK, null, 2));

describe('flake-registry audit FILE', () => {
  it('posts the file and prints a line per input and a summary; nothing redirected exits 0', async () => {
    const s = service(SAME);
    const r = await cli(['audit', 'flake.lock'], { cwd: dir, fetch: s.fetch });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'flake.lock version 7, through global@3:',
        '  direct                   github:o/r     direct',
        '  nixpkgs                  flake:nixpkgs  same-source',
        '  tool                     flake:tool     same-source',
        '  utils (follows nixpkgs)  flake:nixpkgs  same-source',
        '4 inputs: 1 direct, 3 same-source',
        '',
      ].join('\n'),
    );
    expect(s.asked).toEqual([{ method: 'POST', url: 'http://127.0.0.1:8787/audit?registry=global', body: LOCK }]);
  });

  it('names each redirected attribute, from -> to, and exits 4 naming the inputs', async () => {
    const s = service(MOVED);
    const r = await cli(['audit', 'flake.lock'], { cwd: dir, fetch: s.fetch });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('  nixpkgs                  flake:nixpkgs  redirected (owner: NixOS -> me)\n');
    expect(r.stdout).toContain('4 inputs: 1 direct, 2 redirected, 1 same-source\n');
    expect(r.stderr).toBe('flake-registry: 2 inputs are redirected, not found or in error: nixpkgs, utils\n');
  });

  it('exits 4 for an input the registries no longer have, with Nix’s text', async () => {
    const r = await cli(['audit', 'flake.lock'], { cwd: dir, fetch: service(GONE).fetch });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain(
      "  tool                     flake:tool     not-found: cannot find flake 'flake:tool' in the flake registries",
    );
    expect(r.stderr).toBe('flake-registry: 1 input is redirected, not found or in error: tool\n');
  });

  it('prints the service’s answer under --json, with the same exit status', async () => {
    const r = await cli(['audit', 'flake.lock', '--json'], { cwd: dir, fetch: service(MOVED).fetch });
    expect(r.code).toBe(4);
    const answer = JSON.parse(r.stdout) as { document: string; rows: { id: string; status: { kind: string } }[] };
    expect(answer.document).toBe('flake.lock');
    expect(answer.rows.map((row) => [row.id, row.status.kind])).toEqual([
      ['direct', 'direct'],
      ['nixpkgs', 'redirected'],
      ['tool', 'same-source'],
      ['utils', 'redirected'],
    ]);
  });

  it('sends --registry and each --override-flake pair in order, as /resolve takes them', async () => {
    const s = service(SAME);
    const r = await cli(
      ['audit', 'flake.lock', '--registry', 'team,global@3', '--override-flake', 'nixpkgs', 'github:me/nixpkgs'],
      { cwd: dir, fetch: s.fetch },
    );
    expect(s.asked.map((a) => a.url)).toEqual([
      'http://127.0.0.1:8787/audit?registry=team%2Cglobal%403&override-flake=nixpkgs&override-flake=github%3Ame%2Fnixpkgs',
    ]);
    expect(r.stdout).toMatch(/^flake\.lock version 7, through 1 --override-flake pair, global@3:\n/);
    expect(r.stdout).toContain('  nixpkgs                  flake:nixpkgs  redirected (owner: NixOS -> me)\n');
    expect(r.code).toBe(4);
  });

  it('reads stdin for -, and a profile manifest by its content whatever the file is called', async () => {
    const s = service(SAME);
    const fromStdin = await cli(['audit', '-'], { cwd: dir, fetch: s.fetch, stdin: JSON.stringify(LOCK) });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(s.asked[0]?.body).toEqual(LOCK);
    copyFileSync(join(FIXTURES, 'manifest-v1.json'), join(dir, 'profile.txt'));
    const profile = await cli(['audit', 'profile.txt'], { cwd: dir, fetch: service(SAME).fetch });
    expect(profile.code, profile.stderr).toBe(0);
    expect(profile.stdout).toBe(
      [
        'manifest.json version 1, through global@3:',
        '  cowsay  -              not-from-flake',
        '  hello   flake:nixpkgs  same-source',
        '2 elements: 1 not-from-flake, 1 same-source',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['{"nodes": ', "'bad.json' cannot be audited: it is not JSON\n"],
    ['not a lock\n', "'bad.json' cannot be audited: it is not JSON\n"],
    [
      JSON.stringify({ ...LOCK, version: 4 }),
      "'bad.json' cannot be audited: lock file 'flake.lock' has unsupported version 4",
    ],
    [JSON.stringify({ hello: 'world' }), "'bad.json' cannot be audited: the file is neither a flake.lock"],
    [
      JSON.stringify({
        version: 7,
        root: 'root',
        nodes: { root: { inputs: { x: 'x' } }, x: { locked: LOCK.nodes.tool.locked } },
      }),
      "'bad.json' cannot be audited: lock file node 'x': attribute 'original' missing",
    ],
    [JSON.stringify({ version: 3, elements: { x: 'nope' } }), "'bad.json' cannot be audited: "],
    ['{"version": 2, "elements": [], "version": 3}', "'bad.json' names the member 'version' twice in one object"],
  ])('refuses a file that cannot be audited with one line, exit 1, asking no server: %s', async (text, message) => {
    writeFileSync(join(dir, 'bad.json'), text);
    const s = service(SAME);
    const r = await cli(['audit', 'bad.json'], { cwd: dir, fetch: s.fetch });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`flake-registry: ${message}`), r.stderr).toBe(true);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(s.asked).toEqual([]);
  });

  it('escapes a newline or any other control character in a name, and aligns the columns as escaped', async () => {
    const forged = 'x\n  nixpkgs  flake:nixpkgs  same-source\r\u202e';
    const lock = { ...LOCK, nodes: { ...LOCK.nodes, root: { inputs: { [forged]: 'nixpkgs', tool: 'tool' } } } };
    writeFileSync(join(dir, 'forged.lock'), JSON.stringify(lock));
    const r = await cli(['audit', 'forged.lock'], { cwd: dir, fetch: service(MOVED).fetch });
    const shown = 'x\\u{A}  nixpkgs  flake:nixpkgs  same-source\\u{D}\\u{202E}';
    expect(r.stdout).toBe(
      [
        'flake.lock version 7, through global@3:',
        `  tool${' '.repeat(shown.length - 4)}  flake:tool     same-source`,
        `  ${shown}  flake:nixpkgs  redirected (owner: NixOS -> me)`,
        '2 inputs: 1 same-source, 1 redirected',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toBe(`flake-registry: 1 input is redirected, not found or in error: ${shown}\n`);

    const manifest = {
      version: 3,
      elements: {
        'a\nb': {
          active: true,
          attrPath: 'legacyPackages.x86_64-linux.hello',
          originalUrl: 'flake:nixpkgs',
          storePaths: ['/nix/store/y9sd8cbjdrq4kkq8qmgb5mxv9m4sb2cw-hello-2.12.1'],
          url: `github:NixOS/nixpkgs/${REV}`,
        },
      },
    };
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(manifest));
    const p = await cli(['audit', 'forged.json', '--proposal', ID], { cwd: dir, fetch: service(SAME, MOVED).fetch });
    expect(p.stdout.split('\n')).toContain(
      '  a\\u{A}b  flake:nixpkgs  same-source to github:NixOS/nixpkgs/nixpkgs-unstable',
    );
    expect(p.stderr).toBe('flake-registry: the proposal redirects or breaks 1 element: a\\u{A}b (redirected)\n');
  });

  it('refuses a file larger than the service takes (1 MiB) before asking it, reading no more than that', async () => {
    const message = 'cannot be audited: it is larger than 1048576 bytes (1 MiB), the most the service takes\n';
    const text = JSON.stringify(LOCK, null, 2);
    const padded = (size: number): string => `${text}${' '.repeat(size - text.length)}`;
    writeFileSync(join(dir, 'big.lock'), padded(1024 * 1024 + 1));
    for (const [argv, stdin, name] of [
      [['audit', 'big.lock'], '', "'big.lock'"],
      [['audit', '-'], padded(1024 * 1024 + 1), 'stdin'],
      // Endless: /dev/zero is read up to the limit, not to memory's end.
      [['audit', '/dev/zero'], '', "'/dev/zero'"],
    ] as const) {
      const s = service(SAME);
      const r = await cli(argv, { cwd: dir, fetch: s.fetch, stdin });
      expect(r).toEqual({ code: 1, stdout: '', stderr: `flake-registry: ${name} ${message}` });
      expect(s.asked).toEqual([]);
    }
    // 1 MiB exactly is taken, and sent byte for byte.
    writeFileSync(join(dir, 'full.lock'), padded(1024 * 1024));
    expect(statSync(join(dir, 'full.lock')).size).toBe(1024 * 1024);
    const s = service(SAME);
    const r = await cli(['audit', 'full.lock'], { cwd: dir, fetch: s.fetch });
    expect(r.code, r.stderr).toBe(0);
    expect(s.asked.map((a) => a.body)).toEqual([LOCK]);
    expect(s.sent).toEqual([padded(1024 * 1024)]);
  });

  it('names a file that does not exist, exit 1', async () => {
    const r = await cli(['audit', 'nope.lock'], { cwd: dir });
    expect(r).toEqual({ code: 1, stdout: '', stderr: "flake-registry: file 'nope.lock' does not exist\n" });
  });

  it('exits 1 naming the URL when no service answers', async () => {
    const r = await cli(['audit', 'flake.lock'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:8787: [^\n]*\n$/);
  });

  it.each([
    [['audit'], 'missing FILE'],
    [['audit', 'flake.lock', '--proposal', 'xyz'], "a proposal id is 64 lowercase hex digits, got 'xyz'"],
    [['audit', 'flake.lock', '--override-flake', 'nixpkgs'], "option '--override-flake' takes two values"],
    [['audit', 'flake.lock', '--override-flake', 'ta', ''], '--override-flake ORIGINAL RESOLVED: RESOLVED is empty'],
    [['audit', 'flake.lock', '--override-flake', '', 'ta'], '--override-flake ORIGINAL RESOLVED: ORIGINAL is empty'],
    [['audit', 'flake.lock', '--proposal', ID, '--registry', 'global@3'], '--proposal needs the proposal'],
  ])('%j is a usage error, exit 2', async (argv, message) => {
    const s = service(SAME);
    const r = await cli(argv, { cwd: dir, fetch: s.fetch });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('(see flake-registry audit --help)');
    expect(s.asked.filter((a) => a.method === 'POST')).toEqual([]);
  });

  it('--help states the exit statuses', async () => {
    const r = await cli(['audit', '--help'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: flake-registry audit FILE');
    expect(r.stdout).toContain('4 when something is, so CI can gate on it');
    expect(r.stdout).toContain('--override-flake ORIGINAL RESOLVED');
  });
});

describe('flake-registry audit FILE --proposal ID', () => {
  it('prints the rows the proposal moves, before -> after, and exits 4 when it redirects one', async () => {
    const s = service(SAME, MOVED);
    const r = await cli(['audit', 'flake.lock', '--proposal', ID], { cwd: dir, fetch: s.fetch });
    expect(r.stdout).toBe(
      [
        `proposal ${ID} (open) of registry 'global', version 3 -> 4, on flake.lock version 7:`,
        '  nixpkgs  flake:nixpkgs  same-source to github:NixOS/nixpkgs/nixpkgs-unstable',
        '    -> redirected (owner: NixOS -> me) to github:me/nixpkgs',
        '  utils (follows nixpkgs)  flake:nixpkgs  same-source to github:NixOS/nixpkgs/nixpkgs-unstable',
        '    -> redirected (owner: NixOS -> me) to github:me/nixpkgs',
        '2 of 4 inputs move: 2 redirected after it',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      'flake-registry: the proposal redirects or breaks 2 inputs: nixpkgs (redirected), utils (redirected)\n',
    );
    expect(s.asked.map((a) => [a.method, a.url])).toEqual([
      ['POST', `http://127.0.0.1:8787/registries/global/proposals/${ID}/audit?registry=global`],
    ]);
  });

  it('exits 0 when the proposal moves inputs back onto their locks’ sources', async () => {
    const r = await cli(['audit', 'flake.lock', '--proposal', ID], { cwd: dir, fetch: service(MOVED, SAME).fetch });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('    -> same-source to github:NixOS/nixpkgs/nixpkgs-unstable\n');
  });

  it('exits 4 when the proposal removes an entry an input needs, and 0 when it touches none', async () => {
    const gone = await cli(['audit', 'flake.lock', '--proposal', ID], { cwd: dir, fetch: service(SAME, GONE).fetch });
    expect(gone.code).toBe(4);
    expect(gone.stdout).toContain("    -> not-found: cannot find flake 'flake:tool' in the flake registries\n");
    const none = await cli(['audit', 'flake.lock', '--proposal', ID], { cwd: dir, fetch: service(SAME).fetch });
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('  it changes nothing here\n0 of 4 inputs move\n');
  });

  it('exits 4 when the proposal moves a github input to another branch, which one audit cannot see', async () => {
    const branch: readonly E[] = [
      ['nixpkgs', '→', 'github:NixOS/nixpkgs/nixos-unstable'],
      ['tool', '→', 'github:acme/tool'],
    ];
    const r = await cli(['audit', 'flake.lock', '--proposal', ID], { cwd: dir, fetch: service(SAME, branch).fetch });
    expect(r.stdout).toContain('    -> same-source to github:NixOS/nixpkgs/nixos-unstable\n');
    expect(r.code).toBe(4);
  });

  it('exits 4 when the proposal sends a tarball input to another URL, which nix flake update locks anew', async () => {
    const lock = {
      version: 7,
      root: 'root',
      nodes: {
        root: { inputs: { channel: 'channel' } },
        channel: {
          original: { type: 'indirect', id: 'channel' },
          locked: { type: 'tarball', url: 'https://e.org/a.tar.gz', narHash: NAR },
        },
      },
    };
    writeFileSync(join(dir, 'tarball.lock'), JSON.stringify(lock));
    const before: readonly E[] = [['channel', '→', 'https://e.org/a.tar.gz']];
    const after: readonly E[] = [['channel', '→', 'https://e.org/b.tar.gz']];
    const r = await cli(['audit', 'tarball.lock', '--proposal', ID], { cwd: dir, fetch: service(before, after).fetch });
    expect(r.stdout).toContain('  channel  flake:channel  same-source to https://e.org/a.tar.gz\n');
    expect(r.stdout).toContain(
      '    -> unverifiable (locked https://e.org/a.tar.gz, the registries give https://e.org/b.tar.gz) to https://e.org/b.tar.gz\n',
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      'flake-registry: the proposal redirects or breaks 1 input: channel (unverifiable at a new URL)\n',
    );
    // Moved back onto the lock's URL, the same row is good news.
    const back = await cli(['audit', 'tarball.lock', '--proposal', ID], {
      cwd: dir,
      fetch: service(after, before).fetch,
    });
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
  });

  it('says of a profile element whose original names a rev that Nix 2.8 to 2.20 never upgrade it', async () => {
    const manifest = {
      version: 3,
      elements: {
        tool: {
          active: true,
          attrPath: 'packages.x86_64-linux.tool',
          originalUrl: `flake:tp/${REV}`,
          storePaths: ['/nix/store/y9sd8cbjdrq4kkq8qmgb5mxv9m4sb2cw-tool-1.0'],
          url: `github:acme/tp/${REV}`,
        },
      },
    };
    writeFileSync(join(dir, 'pinned.json'), JSON.stringify(manifest));
    const before: readonly E[] = [['tp', '→', 'github:acme/tp']];
    const after: readonly E[] = [['tp', '→', 'github:me/tp']];
    const one = await cli(['audit', 'pinned.json'], { cwd: dir, fetch: service(before).fetch });
    expect(one.stdout).toContain(
      `  tool  flake:tp/${REV}  pinned by original (Nix 2.8 to 2.20 never upgrade it: its original names a rev)\n`,
    );
    expect(one.code).toBe(0);
    const p = await cli(['audit', 'pinned.json', '--proposal', ID], { cwd: dir, fetch: service(before, after).fetch });
    expect(p.stdout).toContain(
      '    (Nix 2.8 to 2.20 never upgrade it: its original names a rev; 2.21 and later resolve it again)\n',
    );
    // Nix 2.21 and later resolve it again, to the other repository: still a finding, said so.
    expect(p.code).toBe(4);
    expect(p.stderr).toBe(
      'flake-registry: the proposal redirects or breaks 1 element: tool (redirected, with Nix 2.21 and later)\n',
    );
  });

  it('finds the proposal’s registry among several in --registry', async () => {
    const s = service(SAME, MOVED, ['global']);
    const r = await cli(['audit', 'flake.lock', '--proposal', ID, '--registry', 'team,global'], {
      cwd: dir,
      fetch: s.fetch,
    });
    expect(r.code).toBe(4);
    expect(s.asked.map((a) => [a.method, a.url])).toEqual([
      ['GET', `http://127.0.0.1:8787/registries/team/proposals/${ID}`],
      ['GET', `http://127.0.0.1:8787/registries/global/proposals/${ID}`],
      ['POST', `http://127.0.0.1:8787/registries/global/proposals/${ID}/audit?registry=team%2Cglobal`],
    ]);
    const none = await cli(['audit', 'flake.lock', '--proposal', ID, '--registry', 'team,other'], {
      cwd: dir,
      fetch: service(SAME, MOVED, []).fetch,
    });
    expect(none).toMatchObject({
      code: 1,
      stderr: `flake-registry: none of the registries team, other has a proposal ${ID}\n`,
    });
  });
});
