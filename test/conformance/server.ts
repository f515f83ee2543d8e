import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
/** A copy of the last run's registry, for starting the same server by hand (see wrangler.toml). */
export const WORK_DIR = join(here, '.work');

/**
 * A copy of test/conformance/wrangler.toml in `dir` for one run: its entry point, its
 * static assets' directory and its `conformance-registry` alias as absolute paths, the
 * alias to `registryFile`.
 */
function writeRunConfig(dir: string, registryFile: string): string {
  const base = readFileSync(join(here, 'wrangler.toml'), 'utf8');
  let replaced = 0;
  const config = base
    .replace(/^main = .*$/m, () => (replaced++, `main = ${JSON.stringify(join(here, 'worker.ts'))}`))
    .replace(
      /^directory = .*$/m,
      () => (replaced++, `directory = ${JSON.stringify(join(REPO_ROOT, 'dist', 'public'))}`),
    )
    .replace(
      /^"conformance-registry" = .*$/m,
      () => (replaced++, `"conformance-registry" = ${JSON.stringify(registryFile)}`),
    );
  if (replaced !== 3) {
    throw new Error(
      'test/conformance/wrangler.toml: no `main`, no `[assets] directory` or no `conformance-registry` alias',
    );
  }
  const path = join(dir, 'wrangler.toml');
  writeFileSync(path, config);
  return path;
}

/**
 * `wrangler dev` on a per-run copy of test/conformance/wrangler.toml serving
 * `registryFile`, with local KV and Durable Object state in `dir` (fresh), in its own
 * process group so stopping it also stops workerd. `args` go to `wrangler dev` as well
 * (`--var DEV_TRUSTED_KEYS:…`).
 */
export function startWrangler(dir: string, registryFile: string, args: readonly string[] = []): Promise<DevServer> {
  return startDevServer({
    root: REPO_ROOT,
    persistTo: join(dir, 'state'),
    args: ['-c', writeRunConfig(dir, registryFile), ...args],
  });
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
