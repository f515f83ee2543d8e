import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, portFree, startDevServer, type DevServer } from '../../scripts/dev-server.js';

const root = join(import.meta.dirname, '..', '..');

/** Every process of this machine whose command line mentions `text`, with its pid. */
function processesWith(text: string): { pid: number; args: string }[] {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .flatMap((m) => (m ? [{ pid: Number(m[1]), args: m[2] ?? '' }] : []))
    .filter((p) => p.args.includes(text) && !p.args.startsWith('ps '));
}

/** The server's processes: npm, the shell, tsx, start.ts, wrangler and workerd. */
const serverProcesses = (server: DevServer) =>
  processesWith(`:${new URL(server.origin).port}`).concat(processesWith(`--port ${new URL(server.origin).port}`));

async function gone(server: DevServer): Promise<{ pid: number; args: string }[]> {
  const port = Number(new URL(server.origin).port);
  for (let i = 0; i < 60; i++) {
    if ((await portFree(port)) && serverProcesses(server).length === 0) return [];
    await sleep(250);
  }
  return serverProcesses(server);
}

const signal = (pid: number, s: NodeJS.Signals) => {
  try {
    process.kill(pid, s);
  } catch {
    // Already gone.
  }
};

// `npm start` must never leave a server behind, however it is stopped.
describe('npm start, stopped', () => {
  let state: string | undefined;
  let server: DevServer | undefined;

  afterEach(async () => {
    await server?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  async function start(): Promise<DevServer> {
    state = mkdtempSync(join(tmpdir(), 'flake-registry-signals-'));
    server = await startDevServer({ root, persistTo: state, command: ['npm', 'start', '--'] });
    return server;
  }

  const startScript = (s: DevServer) =>
    serverProcesses(s).find((p) => /node .*scripts\/start\.ts/.test(p.args) && !p.args.includes('tsx scripts'))?.pid;

  it.each([
    ['SIGKILL to its whole process group', 'group', 'SIGKILL'],
    ['SIGHUP to its whole process group (the terminal closed)', 'group', 'SIGHUP'],
    ['SIGINT to its whole process group (Ctrl-C)', 'group', 'SIGINT'],
    ['SIGKILL to npm alone', 'npm', 'SIGKILL'],
    ['SIGKILL to the start script alone', 'script', 'SIGKILL'],
    ['SIGKILL to wrangler itself (its workerd stays otherwise)', 'wrangler', 'SIGKILL'],
  ] as const)(
    'leaves no server behind after %s',
    async (_, target, sig) => {
      const s = await start();
      const pgid = s.pgid;
      if (pgid === undefined) throw new Error('no process group');
      if (target === 'group') signal(-pgid, sig);
      else if (target === 'npm') signal(pgid, sig);
      else {
        const pid = startScript(s);
        expect(pid, JSON.stringify(serverProcesses(s))).toBeDefined();
        signal(pid as number, sig);
      }
      expect(await gone(s)).toEqual([]);
    },
    60_000,
  );
});

describe('npm start, killed while it starts', () => {
  it.each([400, 1_500])(
    'leaves no server behind when npm is killed %i ms after it starts',
    async (ms) => {
      const port = await freePort();
      const state = mkdtempSync(join(tmpdir(), 'flake-registry-early-'));
      const npm = spawn('npm', ['start', '--', '--port', String(port), '--persist-to', state], {
        cwd: root,
        detached: true,
        stdio: 'ignore',
      });
      try {
        await sleep(ms);
        signal(npm.pid as number, 'SIGKILL');
        // Long enough for a start that was not stopped to be serving.
        await sleep(15_000);
        expect(processesWith(`--port ${port}`).concat(processesWith(`:${port} `))).toEqual([]);
        expect(await portFree(port)).toBe(true);
      } finally {
        signal(-(npm.pid as number), 'SIGKILL');
        rmSync(state, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
