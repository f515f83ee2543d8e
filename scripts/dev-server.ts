import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A local `wrangler dev` of this checkout, in its own process group so stopping it stops workerd too. */
export interface DevServer {
  readonly origin: string;
  /** The process group: wrangler (or npm) and its workerd children. */
  readonly pgid: number | undefined;
  /** The server's own output (the last 16 KB), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  /** The repository root. */
  readonly root: string;
  /** Local KV and Durable Object state. */
  readonly persistTo: string;
  /** How to start it: `wrangler dev` by default, or e.g. `['npm', 'start', '--']` as the README says. */
  readonly command?: readonly string[];
  /** More `wrangler dev` arguments (`-c CONFIG`, `--log-level error`). */
  readonly args?: readonly string[];
  /** How long the first start may take: bundling and booting workerd on a cold machine. */
  readonly timeoutMs?: number;
}

export function freePort(): Promise<number> {
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

/** Whether nothing listens on `port` of `host`. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** Starts the server on a free port and waits for `GET /healthz` to answer 200. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = await freePort();
  // Other wrangler dev sessions may run on this machine: never the default inspector port.
  const inspectorPort = await freePort();
  const [command, ...commandArgs] = options.command ?? [join(options.root, 'node_modules', '.bin', 'wrangler'), 'dev'];
  if (command === undefined) throw new Error('no command to start the dev server');
  const args = [
    ...commandArgs,
    ...(options.args ?? []),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    options.persistTo,
    '--show-interactive-dev-session=false',
  ];
  const child = spawn(command, args, {
    cwd: options.root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    // eslint-disable-next-line no-control-regex -- wrangler colours its output regardless of NO_COLOR
    output = (output + chunk.toString().replace(/\x1b\[[0-9;]*m/g, '')).slice(-16_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const server: DevServer = {
    origin: `http://127.0.0.1:${port}`,
    pgid: child.pid,
    log: () => output,
    stop: async () => {
      await stopGroup(child);
      // `npm start` runs wrangler in a process group of its own, which it stops when told to:
      // done only once nothing listens on the port any more.
      for (let i = 0; i < 60 && !(await portFree(port)); i++) await sleep(250);
    },
  };
  try {
    await waitHealthy(server, child, options.timeoutMs ?? 120_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

async function waitHealthy(server: DevServer, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${server.log()}`);
    // wrangler dev keeps running after a failed build, waiting for a fix: fail now.
    if (server.log().includes('Build failed')) throw new Error(`wrangler dev could not build:\n${server.log()}`);
    try {
      const res = await fetch(`${server.origin}/healthz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`wrangler dev did not answer GET /healthz with 200 within ${timeoutMs} ms:\n${server.log()}`);
}

/** Ends the whole process group: wrangler (or npm) and workerd, which may outlive its parent. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pid, s);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) signal('SIGKILL');
  await sleep(200);
  signal('SIGKILL');
}
