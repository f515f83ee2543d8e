import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portFree } from '../../scripts/dev-server.js';
import { copySourceTree } from '../../scripts/source-tree.js';
import { nixRunner } from '../conformance/nix.js';
import { opensshVersion } from '../crypto/openssh.js';

const root = join(import.meta.dirname, '..', '..');

/** The README's walkthrough: each `sh` block after a `<!-- walkthrough:KIND -->` marker, in order. */
interface Block {
  readonly kind: 'server' | 'run';
  readonly script: string;
}

function walkthrough(): Block[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks: Block[] = [];
  for (const match of readme.matchAll(/<!-- walkthrough:(server|run) -->\s*```sh\n([\s\S]*?)```/g)) {
    blocks.push({ kind: match[1] as Block['kind'], script: match[2] ?? '' });
  }
  return blocks;
}

const hasNix = (() => {
  try {
    execFileSync('nix', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasNix && process.env['CI']) throw new Error('the walkthrough runs real Nix: install nix (Debian: nix-bin)');
// A maintainer in the walkthrough signs with a key made by OpenSSH's ssh-keygen.
const hasSsh = opensshVersion() !== undefined;
if (!hasSsh && process.env['CI']) throw new Error('the walkthrough runs ssh-keygen: install openssh-client');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The README's maintainer walkthrough, run literally in a copy of this checkout (the files a
 * clone holds, with node_modules linked: `npm install` is what CI's `npm ci` did) as a
 * new maintainer would: the server blocks in the background, every other block in bash.
 * The only edits are the port (a free one for 8787) and `-- --port` on `npm start`. Then
 * what the README does not show: real Nix fetching a new entry, and `verify` catching a
 * version altered in local KV.
 */
describe.skipIf(!hasNix || !hasSsh)('the README walkthrough', { timeout: 180_000 }, () => {
  let work: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess | undefined;
  let serverLog = '';
  const blocks = walkthrough();

  const local = (script: string) => script.replaceAll('127.0.0.1:8787', `127.0.0.1:${port}`);

  function bash(script: string): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(
        'bash',
        ['--norc', '--noprofile', '-euo', 'pipefail', '-c', local(script)],
        { cwd: work, env, timeout: 120_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
  }

  async function startServer(script: string): Promise<void> {
    await stopServer();
    const command = local(script)
      .replace('npm install && ', '')
      .replace(/npm start\s*$/m, `npm start -- --port ${port}`);
    serverLog = '';
    server = spawn('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', command], {
      cwd: work,
      env,
      detached: true,
    });
    const keep = (chunk: Buffer) => (serverLog = (serverLog + chunk.toString()).slice(-8000));
    server.stdout?.on('data', keep);
    server.stderr?.on('data', keep);
    for (let i = 0; i < 240; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.ok) return;
      } catch {
        // Not up yet.
      }
      if (server.exitCode !== null) break;
      await sleep(250);
    }
    throw new Error(`the server did not start:\n${serverLog}`);
  }

  async function stopServer(): Promise<void> {
    const pid = server?.pid;
    if (!server || pid === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await Promise.race([exited, sleep(10_000)]);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
    // The group is gone only once nothing listens on the port any more (workerd is the last to go).
    for (let i = 0; i < 120 && !(await portFree(port)); i++) await sleep(250);
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-walkthrough-'));
    copySourceTree(root, work);
    symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
    port = await freePort();
    const nix = nixRunner(join(work, '.nix'), `http://127.0.0.1:${port}/flake-registry.json`);
    await nix.init();
    // Nix with a store of its own; the README's commands give their own flake-registry option.
    env = { ...nix.env(join(work, '.home')), FLAKE_REGISTRY_URL: `http://127.0.0.1:${port}`, NIX_CONFIG: undefined };
    const nixEnv = nix.env(join(work, '.home'));
    env['NIX_CONFIG'] = (nixEnv['NIX_CONFIG'] ?? '')
      .split('\n')
      .filter((l) => !l.startsWith('flake-registry') && !l.startsWith('experimental-features'))
      .join('\n');
  });

  afterAll(async () => {
    await stopServer();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('has the blocks the walkthrough is made of', () => {
    expect(blocks.map((b) => b.kind)).toEqual([
      'server',
      'run',
      'run',
      'server',
      'run',
      'run',
      'run',
      'run',
      'run',
      'run',
      'run',
    ]);
  });

  it('runs every block as written, and each shows what the README says it does', async () => {
    const outputs: string[] = [];
    for (const block of blocks) {
      if (block.kind === 'server') {
        await startServer(block.script);
        continue;
      }
      const run = await bash(block.script);
      expect(
        run.code,
        `${block.script}\n--- stdout:\n${run.stdout}\n--- stderr:\n${run.stderr}\n--- server:\n${serverLog}`,
      ).toBe(0);
      outputs.push(run.stdout);
    }
    const [keys, trust, proposeApprove, served, upload, verify, synced, sshPolicy, sshApprove] = outputs;
    expect(keys).toMatch(/^alice:[A-Za-z0-9+/]{43}=\n/);
    expect(trust).toContain('.dev.vars');
    expect(proposeApprove).toMatch(/merged/);
    expect(served).toContain('"url":"github:example/my-tool"');
    expect(served).toContain('flake:my-tool');
    expect(upload).toMatch(/merged/);
    expect(verify).toMatch(/3 versions/);
    expect(trust).toContain('LOG_SIGNING_KEY');
    expect(verify).toMatch(/^log: \d leaves verified against the history, checkpoint signed by localhost/m);
    expect(synced).toMatch(/^global: version 3 \(sha256 [0-9a-f]{64}\) written to .*global-verified\.json\n/);
    expect(synced).toContain('flake:my-tool');
    expect(readFileSync(join(work, 'global-verified.json'), 'utf8')).toBe(
      await (await fetch(`http://127.0.0.1:${port}/registries/global/versions/3/flake-registry.json`)).text(),
    );
    // carol's ssh-keygen key joins the policy, then approves alice's proposal: version 5, which verifies.
    expect(sshPolicy).toMatch(/merged as version 4/);
    expect(sshApprove).toMatch(/merged as version 5/);
    expect(sshApprove).toMatch(/5 versions/);
    const record = await (await fetch(`http://127.0.0.1:${port}/registries/global/versions/5`)).text();
    expect(record).toContain('-----BEGIN SSH SIGNATURE-----');
    const policy = await (await fetch(`http://127.0.0.1:${port}/registries/global/policy`)).text();
    expect(policy).toContain('carol:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5');
    const file = await (await fetch(`http://127.0.0.1:${port}/flake-registry.json`)).text();
    expect(file).toContain('"owner": "example-org",\n        "repo": "my-tool"');
    expect(file).toContain('"owner": "example-org",\n        "repo": "agenix"');
  });

  it('lets real Nix fetch an entry merged through the command', async () => {
    const repo = join(work, 'local-flake');
    mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    git('init', '-q', '-b', 'main');
    execFileSync('bash', ['-c', `echo '{ outputs = _: { }; }' > flake.nix`], { cwd: repo });
    git('add', 'flake.nix');
    git('commit', '-q', '-m', 'init');
    const run = await bash(
      `ID=$(npx flake-registry propose set local-flake git+file://${repo} --registry global --key alice.sec --id-only)\n` +
        `npx flake-registry approve "$ID" --registry global --key bob.sec --yes\n` +
        `nix --extra-experimental-features 'nix-command flakes' --option flake-registry http://127.0.0.1:8787/flake-registry.json --option tarball-ttl 0 flake metadata --json local-flake`,
    );
    expect(run.code, run.stderr).toBe(0);
    const metadata = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as {
      resolvedUrl?: string;
      resolved?: { url?: string };
    };
    expect(metadata.resolved?.url ?? metadata.resolvedUrl).toBe(`file://${repo}`);
  });

  it('has verify name the version whose file was altered in local KV', async () => {
    await stopServer();
    const altered = await bash(
      'npx wrangler kv key put --binding REGISTRY_KV --local registry/global/version/0000000002/file \'{"version":2,"flakes":[]}\'',
    );
    expect(altered.code, altered.stderr).toBe(0);
    await startServer('npm start');
    const run = await bash('npx flake-registry verify --registry global');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/version 2/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
