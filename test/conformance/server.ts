import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
/** A copy of the last run's registry, for starting the same server by hand (see wrangler.toml). */
export const WORK_DIR = join(here, '.work');

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => ok(port));
    });
  });
}

export interface RunningServer {
  readonly url: string;
  /** The server's own output, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A copy of test/conformance/wrangler.toml in `dir` for one run: its entry point and
 * its `conformance-registry` alias as absolute paths, the alias to `registryFile`.
 */
function writeRunConfig(dir: string, registryFile: string): string {
  const base = readFileSync(join(here, 'wrangler.toml'), 'utf8');
  let replaced = 0;
  const config = base
    .replace(/^main = .*$/m, () => (replaced++, `main = ${JSON.stringify(join(here, 'worker.ts'))}`))
    .replace(
      /^"conformance-registry" = .*$/m,
      () => (replaced++, `"conformance-registry" = ${JSON.stringify(registryFile)}`),
    );
  if (replaced !== 2) throw new Error('test/conformance/wrangler.toml: no `main` or no `conformance-registry` alias');
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, config);
  return path;
}

/**
 * `wrangler dev` on a per-run copy of test/conformance/wrangler.toml serving
 * `registryFile`, with local KV and Durable Object state in `dir` (fresh), in its own
 * process group so stopping it also stops workerd.
 */
export async function startWrangler(dir: string, registryFile: string): Promise<RunningServer> {
  const configPath = writeRunConfig(dir, registryFile);
  const port = await freePort();
  // Other wrangler dev sessions may run on this machine: never use the default 9229.
  const inspectorPort = await freePort();
  const bin = join(REPO_ROOT, 'node_modules', '.bin', 'wrangler');
  const child = spawn(
    bin,
    [
      'dev',
      '-c',
      configPath,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      join(dir, 'state'),
      '--show-interactive-dev-session=false',
    ],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  );
  let output = '';
  // eslint-disable-next-line no-control-regex -- wrangler colours its output regardless of NO_COLOR
  const append = (d: Buffer): void => void (output += d.toString().replace(/\x1b\[[0-9;]*m/g, ''));
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const url = `http://127.0.0.1:${port}`;
  const server: RunningServer = { url, log: () => output, stop: () => stopGroup(child) };
  try {
    await waitHealthy(url, child, () => output);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  // First start bundles the Worker and boots workerd; on a cold CI machine that can
  // take tens of seconds.
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${log()}`);
    // wrangler dev keeps running after a failed build, waiting for a fix: fail now.
    if (log().includes('Build failed')) throw new Error(`wrangler dev could not build the Worker:\n${log()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer GET /healthz with 200 within 90 s:\n${log()}`);
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly status: number;
  readonly responseHeaders: IncomingHttpHeaders;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  stop(): Promise<void>;
}

/** A pass-through HTTP proxy that records what Nix sends and what it gets back. */
export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const exchanges: Exchange[] = [];
  const server: Server = createServer((req, res) => {
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upRes) => {
        exchanges.push({
          method: req.method ?? '',
          path: req.url ?? '',
          requestHeaders: req.headers,
          status: upRes.statusCode ?? 0,
          responseHeaders: upRes.headers,
        });
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
