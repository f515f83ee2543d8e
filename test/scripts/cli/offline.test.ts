import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../../src/api/examples.js';
import { parseSecretKey, parseSignature, type SecretKey } from '../../../src/crypto/keys.js';
import { readRegistry, writeRegistry } from '../../../src/nix/registry.js';
import { submissionSchema, type Submission } from '../../../src/protocol/proposal.js';
import { proposalBytes, proposalId, verifyProposalSignature } from '../../../src/protocol/signing.js';
import { cli, TEST_SECRET, tempDir, type RunOptions } from './helpers.js';

/**
 * Keys on machines that never talk to the server: proposals and approvals
 * written to files with --out (no network at all: every fetch fails here),
 * signatures added with `sign`, files sent with `submit`.
 */

const { dir, remove } = tempDir();
afterAll(remove);
const run = (argv: string[], options: Partial<RunOptions> = {}) => cli(argv, { cwd: dir, ...options });
const read = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));

const BASE = writeRegistry(
  readRegistry(
    JSON.stringify({
      version: 2,
      flakes: [
        { from: { type: 'indirect', id: 'nixpkgs' }, to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs' } },
        { from: { type: 'indirect', id: 'templates' }, to: { type: 'github', owner: 'NixOS', repo: 'templates' } },
      ],
    }),
  ),
);

let alice: SecretKey;
let bob: SecretKey;

beforeAll(async () => {
  alice = await parseSecretKey(TEST_SECRET);
  expect((await run(['keygen', '--name', 'bob', '--out', 'bob.sec'])).code).toBe(0);
  bob = await parseSecretKey(readFileSync(join(dir, 'bob.sec'), 'utf8'));
  writeFileSync(join(dir, 'alice.sec'), TEST_SECRET, { mode: 0o600 });
  writeFileSync(join(dir, 'base.json'), BASE);
});

async function verifies(submission: Submission, key: SecretKey, index: number): Promise<boolean> {
  return verifyProposalSignature(
    key.publicKey,
    submission.proposal,
    parseSignature(submission.signatures[index] ?? ''),
  );
}

/** `upload edited.json` offline: against version 2 given as base.json, written to `out`. */
const offlineUpload = (out: string) => [
  'upload',
  'edited.json',
  '--registry',
  'global',
  '--key',
  'alice.sec',
  '--base',
  '2',
  '--base-file',
  'base.json',
  '--out',
  out,
];

describe('propose --base N --out FILE', () => {
  it('writes a signed proposal that verifies, without any server', async () => {
    const r = await run([
      'propose',
      'set',
      'nixpkgs/nixos-25.05',
      'github:NixOS/nixpkgs/nixos-25.05',
      '--exact',
      '--before',
      'nixpkgs',
      '--registry',
      'global',
      '--key',
      'alice.sec',
      '--base',
      '3',
      '--out',
      'p.json',
      '--expires-in',
      '12h',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const submission = submissionSchema.parse(read('p.json'));
    expect(submission.proposal).toEqual({
      registry: 'global',
      base: 3,
      changes: [
        {
          op: 'set',
          entry: {
            from: { id: 'nixpkgs', ref: 'nixos-25.05', type: 'indirect' },
            to: { owner: 'NixOS', ref: 'nixos-25.05', repo: 'nixpkgs', type: 'github' },
            exact: true,
          },
          position: { before: { id: 'nixpkgs', type: 'indirect' } },
        },
      ],
      message: 'Set flake:nixpkgs/nixos-25.05 (exact) to github:NixOS/nixpkgs/nixos-25.05 before flake:nixpkgs',
      created: '2026-03-01T12:00:00Z',
      expires: '2026-03-02T00:00:00Z',
    });
    expect(await verifies(submission, alice, 0)).toBe(true);
    const id = await proposalId(proposalBytes(submission.proposal));
    expect(r.stdout).toBe(
      `wrote proposal ${id}, signed by maintainer-1, to p.json\nsend it with: flake-registry submit p.json\n`,
    );
  });

  it('writes remove, move and policy proposals', async () => {
    const policy = {
      keys: [alice.publicKey, bob.publicKey].map((k) => `${k.name}:${Buffer.from(k.bytes).toString('base64')}`),
      threshold: 2,
    };
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    const common = ['--registry', 'global', '--key', 'alice.sec', '--base', '1', '--message', 'tidy'];
    for (const [argv, change] of [
      [['remove', 'templates'], { op: 'remove', from: { id: 'templates', type: 'indirect' } }],
      [
        ['move', 'templates', '--start'],
        { op: 'move', from: { id: 'templates', type: 'indirect' }, position: 'start' },
      ],
      [['policy', 'policy.json'], { op: 'policy', policy }],
    ] as const) {
      rmSync(join(dir, 'c.json'), { force: true });
      const r = await run(['propose', ...argv, ...common, '--out', 'c.json']);
      expect(r.code, r.stderr).toBe(0);
      const submission = submissionSchema.parse(read('c.json'));
      expect(submission.proposal.changes).toEqual([change]);
      expect(submission.proposal.message).toBe('tidy');
      expect(await verifies(submission, alice, 0)).toBe(true);
    }
  });

  it('refuses a policy file that could not be a policy', async () => {
    writeFileSync(join(dir, 'bad-policy.json'), JSON.stringify({ keys: [], threshold: 1 }));
    const r = await run([
      'propose',
      'policy',
      'bad-policy.json',
      '--registry',
      'global',
      '--key',
      'alice.sec',
      '--base',
      '1',
      '--out',
      'x.json',
    ]);
    expect(r).toMatchObject({
      code: 1,
      stderr: "flake-registry: policy file 'bad-policy.json': policy: lists no keys\n",
    });
  });
});

describe('upload --base N --base-file FILE --out FILE', () => {
  const edited = BASE.replace('"templates"', '"tmpl"');

  it('prints the diff with targets and the resolution impact, then writes a file change that verifies', async () => {
    writeFileSync(join(dir, 'edited.json'), edited);
    const r = await run([...offlineUpload('u.json'), '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("edited.json against version 2 of registry 'global':");
    expect(r.stdout).toContain('+ flake:tmpl -> github:NixOS/templates');
    expect(r.stdout).toContain('- flake:templates -> github:NixOS/templates');
    expect(r.stdout).toContain(
      "templates: github:NixOS/templates -> error: cannot find flake 'flake:templates' in the flake registries",
    );
    const submission = submissionSchema.parse(read('u.json'));
    expect(submission.proposal.base).toBe(2);
    expect(submission.proposal.changes).toEqual([{ op: 'file', file: JSON.parse(edited) as unknown }]);
    expect(await verifies(submission, alice, 0)).toBe(true);
  });

  it('sends nothing when the file has the same entries', async () => {
    writeFileSync(join(dir, 'same.json'), JSON.stringify(JSON.parse(BASE)));
    const r = await run([
      'upload',
      'same.json',
      '--registry',
      'global',
      '--key',
      'alice.sec',
      '--base',
      '2',
      '--base-file',
      'base.json',
      '--out',
      'none.json',
    ]);
    expect(r).toMatchObject({
      code: 0,
      stdout: "nothing to change: same.json has the entries of version 2 of registry 'global'\n",
    });
    expect(existsSync(join(dir, 'none.json'))).toBe(false);
  });

  it('never waits for an answer when stdin is not a terminal, and asks on one', async () => {
    const argv = [...offlineUpload('q.json')];
    const piped = await run(argv);
    expect(piped).toMatchObject({
      code: 1,
      stderr: 'flake-registry: stdin is not a terminal, so nothing can be confirmed: add --yes\n',
    });
    const declined = await run(argv, { interactive: true, answer: false });
    expect(declined).toMatchObject({ code: 1, stderr: 'flake-registry: stopped: nothing was signed or sent\n' });
    expect(existsSync(join(dir, 'q.json'))).toBe(false);
    expect((await run(argv, { interactive: true, answer: true })).code).toBe(0);
    expect(existsSync(join(dir, 'q.json'))).toBe(true);
  });

  it('refuses a file Nix would read only in part, naming the entry', async () => {
    writeFileSync(join(dir, 'partial.json'), BASE.replace('"to": {', '"exact": "yes", "to": {'));
    const r = await run([
      'upload',
      'partial.json',
      '--registry',
      'global',
      '--key',
      'alice.sec',
      '--base',
      '2',
      '--base-file',
      'base.json',
      '--out',
      'z.json',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "flake-registry: partial.json: invalid flake registry entry 0 (from 'flake:nixpkgs'): [json.exception.type_error.302] type must be boolean, but is string\n",
    );
  });

  it('refuses a file with a target Nix could not print, naming the entry, with no unexpected error', async () => {
    const file = JSON.parse(BASE) as { flakes: { to: unknown }[] };
    (file.flakes[1] as { to: unknown }).to = { type: 'tarball', url: 'https://example.org/a b.tar.gz' };
    writeFileSync(join(dir, 'space.json'), JSON.stringify(file));
    const r = await run([
      'upload',
      'space.json',
      '--registry',
      'global',
      '--key',
      'alice.sec',
      '--base',
      '2',
      '--base-file',
      'base.json',
      '--out',
      'z.json',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "flake-registry: space.json: invalid flake registry entry 1 (from 'flake:templates'): its 'to' cannot be written as a flake reference: 'https://example.org/a b.tar.gz' is not a valid URL: invalid path\n",
    );
  });
});

describe('approve --proposal FILE --out FILE, sign and submit', () => {
  it('writes an approval whose signature verifies over the proposal', async () => {
    const submission = submissionSchema.parse(read('p.json'));
    const id = await proposalId(proposalBytes(submission.proposal));
    const r = await run([
      'approve',
      id,
      '--registry',
      'global',
      '--key',
      'bob.sec',
      '--proposal',
      'p.json',
      '--out',
      'a.json',
      '--yes',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`proposal ${id}`);
    const approval = read('a.json') as { registry: string; id: string; signature: string };
    expect(approval).toMatchObject({ registry: 'global', id });
    expect(await verifyProposalSignature(bob.publicKey, submission.proposal, parseSignature(approval.signature))).toBe(
      true,
    );
  });

  it('refuses to approve another proposal than the id given, or one it already signed', async () => {
    const wrong = await run([
      'approve',
      '0'.repeat(64),
      '--registry',
      'global',
      '--key',
      'bob.sec',
      '--proposal',
      'p.json',
      '--out',
      'w.json',
      '--yes',
    ]);
    expect(wrong).toMatchObject({
      code: 1,
      stderr: `flake-registry: proposal file 'p.json' holds another proposal than ${'0'.repeat(64)}\n`,
    });
    const id = await proposalId(proposalBytes(submissionSchema.parse(read('p.json')).proposal));
    const twice = await run([
      'approve',
      id,
      '--registry',
      'global',
      '--key',
      'alice.sec',
      '--proposal',
      'p.json',
      '--out',
      'w.json',
      '--yes',
    ]);
    expect(twice.stderr).toBe(
      `flake-registry: proposal ${id} already carries a signature by this key ('maintainer-1')\n`,
    );
  });

  it('sign adds a second signature to a proposal file, once per key', async () => {
    const r = await run(['sign', 'p.json', '--key', 'bob.sec', '--out', 'p2.json']);
    expect(r.code, r.stderr).toBe(0);
    const signed = submissionSchema.parse(read('p2.json'));
    expect(signed.signatures).toHaveLength(2);
    expect(await verifies(signed, alice, 0)).toBe(true);
    expect(await verifies(signed, bob, 1)).toBe(true);
    const again = await run(['sign', 'p2.json', '--key', 'bob.sec']);
    expect(again).toMatchObject({
      code: 1,
      stderr: "flake-registry: proposal file 'p2.json' already carries a signature by this key ('bob')\n",
    });
  });

  it('submit sends a proposal file and an approval file to their routes', async () => {
    const requests: { url: string; body: unknown }[] = [];
    // What the service answers: a proposal view as the API describes it.
    const view = (id: string) => ({ ...EXAMPLES.proposalView, id });
    const fetchFn = ((url: string, init: RequestInit) => {
      const body = JSON.parse(init.body as string) as Record<string, unknown>;
      requests.push({ url, body });
      return Promise.resolve(Response.json(view('f'.repeat(64)), { status: 201 }));
    }) as typeof fetch;
    const options = { fetch: fetchFn, env: { FLAKE_REGISTRY_URL: 'http://registry.test:8080/' } };
    expect((await run(['submit', 'p2.json'], options)).code).toBe(0);
    const approve = await run(['submit', 'a.json'], options);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain('1 more approval needed');
    const approval = read('a.json') as { id: string; signature: string };
    expect(requests).toEqual([
      { url: 'http://registry.test:8080/registries/global/proposals', body: read('p2.json') },
      {
        url: `http://registry.test:8080/registries/global/proposals/${approval.id}/approvals`,
        body: { signature: approval.signature },
      },
    ]);
  });

  it('says in one line when a server answers in a form the API does not describe', async () => {
    const fetchFn = (() =>
      Promise.resolve(Response.json({ id: 'x', status: 'open' }, { status: 201 }))) as typeof fetch;
    const r = await run(['submit', 'p2.json'], {
      fetch: fetchFn,
      env: { FLAKE_REGISTRY_URL: 'http://registry.test:8080' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^flake-registry: http:\/\/registry\.test:8080 answered POST \/registries\/global\/proposals in a form this command does not know \(at id: [^)]*\): not a flake-registry-service, or another version\n$/,
    );
  });

  it('submit refuses a file that is neither', async () => {
    writeFileSync(join(dir, 'neither.json'), '{"hello": 1}');
    const r = await run(['submit', 'neither.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'neither.json' is neither a signed proposal");
  });
});

describe('talking to the service', () => {
  it('names the URL of a service it cannot reach', async () => {
    const r = await run(['history', '--url', 'http://127.0.0.1:9']);
    expect(r).toMatchObject({
      code: 1,
      stderr:
        'flake-registry: cannot reach the service at http://127.0.0.1:9: connection refused (is the server running? `npm start` starts one)\n',
    });
  });

  it('shows a problem answer as title: detail', async () => {
    const fetchFn = (() =>
      Promise.resolve(
        new Response(
          JSON.stringify({
            type: 'urn:flake-registry:problem:untrusted-key',
            title: 'Key not trusted',
            status: 403,
            detail: 'no signature by a trusted key',
          }),
          {
            status: 403,
            headers: { 'Content-Type': 'application/problem+json' },
          },
        ),
      )) as typeof fetch;
    const r = await run(['submit', 'p.json'], { fetch: fetchFn });
    expect(r).toMatchObject({ code: 1, stderr: 'flake-registry: Key not trusted: no signature by a trusted key\n' });
  });

  it('needs no server to check the key before asking one', async () => {
    const r = await run(['propose', 'remove', 'x', '--registry', 'global', '--key', 'missing.sec']);
    expect(r).toMatchObject({ code: 1, stderr: "flake-registry: key file 'missing.sec' does not exist\n" });
  });

  it('never overwrites an --out file, and writes to stdout for --out -', async () => {
    const args = ['propose', 'remove', 'templates', '--registry', 'global', '--key', 'alice.sec', '--base', '1'];
    expect((await run([...args, '--out', 'once.json'])).code).toBe(0);
    const first = readFileSync(join(dir, 'once.json'), 'utf8');
    const again = await run([...args, '--out', 'once.json']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists already/);
    expect(readFileSync(join(dir, 'once.json'), 'utf8')).toBe(first);
    const out = await run([...args, '--out', '-']);
    expect(out.code).toBe(0);
    expect(submissionSchema.parse(JSON.parse(out.stdout)).proposal.changes).toHaveLength(1);
  });

  it('does not repeat a file it cannot read as JSON: it may be a secret key given by mistake', async () => {
    const r = await run(['submit', 'alice.sec']);
    expect(r.code).toBe(1);
    const secret = readFileSync(join(dir, 'alice.sec'), 'utf8').trim();
    expect(r.stderr).toContain('looks like a key file');
    expect(r.stderr).not.toContain(secret.slice(secret.indexOf(':') + 1, secret.indexOf(':') + 9));
  });
});
