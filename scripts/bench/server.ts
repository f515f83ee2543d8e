import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A `wrangler dev` server of this checkout on a free port, with state in a fresh temporary directory. */
export interface DevServer {
  readonly origin: string;
  /**
   * CPU seconds used so far by the server's whole process group (wrangler, workerd), or
   * undefined where /proc is not there. Unlike a request rate, it barely moves when
   * other work shares the machine.
   */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime + stime of every process in group `pgid`, from /proc/PID/stat (proc(5)). */
function groupCpuSeconds(pgid: number, ticks: number): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return undefined;
  }
  let total = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // Exited meanwhile.
    }
    // Fields after the parenthesised command name: state ppid pgrp ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    total += Number(fields[11]) + Number(fields[12]);
  }
  return total / ticks;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

async function healthy(origin: string): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Ends the whole process group: npx, wrangler and its workerd child. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
  if (timedOut) signal('SIGKILL');
  // workerd may outlive wrangler for a moment; make sure nothing in the group is left.
  await sleep(200);
  signal('SIGKILL');
}

export async function startDevServer(root: string, log: (line: string) => void): Promise<DevServer> {
  const port = await freePort();
  const persist = await mkdtemp(join(tmpdir(), 'flake-registry-bench-'));
  const origin = `http://127.0.0.1:${port}`;
  // `--log-level error`: wrangler dev otherwise prints a line per request through its Node
  // process, which costs more CPU than most routes themselves and is absent in production.
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--persist-to',
    persist,
    '--log-level',
    'error',
  ];
  log(`Starting npx ${args.join(' ')}`);
  const child = spawn('npx', args, {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: '1' },
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    await stopGroup(child);
    await rm(persist, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while (!(await healthy(origin))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not become healthy on ${origin}:\n${output}`);
    }
    await sleep(250);
  }
  const ticks = clockTicks();
  const pgid = child.pid;
  return { origin, stop, cpuSeconds: () => (pgid === undefined ? undefined : groupCpuSeconds(pgid, ticks)) };
}
