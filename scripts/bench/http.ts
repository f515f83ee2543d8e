import { Agent, request } from 'node:http';
import { startBenchServer } from './server.js';
import { formatRate, formatRatio, median, nowMs, table } from './stats.js';

/**
 * Requests per second of the local `wrangler dev` server, route by route, with
 * a fixed number of keep-alive connections. Rounds interleave the routes, each
 * starting at a different one, so each ratio to `/healthz` compares figures
 * taken moments apart. The server's own CPU time per request is measured too:
 * on a shared machine it is far steadier than a rate.
 */

export interface HttpOptions {
  readonly root: string;
  readonly concurrency: number;
  readonly rounds: number;
  readonly roundMs: number;
  readonly warmupMs: number;
}

interface Route {
  readonly label: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly target?: number;
  /** Per round: requests per second, mean latency (ms), server CPU per request (µs). */
  readonly rates: number[];
  readonly latencies: number[];
  readonly cpu: number[];
}

interface Load {
  readonly requests: number;
  readonly elapsedMs: number;
  readonly unexpected: Map<string, number>;
}

function once(agent: Agent, origin: URL, route: Route): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: origin.hostname, port: origin.port, path: route.path, headers: route.headers, agent },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** `concurrency` request loops over one keep-alive agent, for `ms` milliseconds. */
async function load(agent: Agent, origin: URL, route: Route, concurrency: number, ms: number): Promise<Load> {
  const unexpected = new Map<string, number>();
  let requests = 0;
  const start = nowMs();
  const end = start + ms;
  const loop = async () => {
    while (nowMs() < end) {
      let outcome: string | undefined;
      try {
        const status = await once(agent, origin, route);
        if (status !== route.status) outcome = `status ${status}`;
      } catch (error) {
        outcome = error instanceof Error ? error.message : String(error);
      }
      if (outcome === undefined) requests++;
      else unexpected.set(outcome, (unexpected.get(outcome) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { requests, elapsedMs: nowMs() - start, unexpected };
}

const route = (
  label: string,
  path: string,
  status: number,
  headers: Record<string, string> = {},
  target?: number,
): Route => ({
  label,
  path,
  headers,
  status,
  ...(target === undefined ? {} : { target }),
  rates: [],
  latencies: [],
  cpu: [],
});

const at = (values: readonly number[], i: number) => values[i] ?? Number.NaN;

export async function runHttp(options: HttpOptions, log: (line: string) => void): Promise<void> {
  log(
    `HTTP (wrangler dev; ${options.concurrency} keep-alive connections; ${options.rounds} interleaved rounds of ` +
      `${options.roundMs} ms per route; medians)`,
  );
  const server = await startBenchServer(options.root, log);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    const origin = new URL(server.origin);
    const first = await fetch(`${server.origin}/flake-registry.json`);
    await first.arrayBuffer();
    const etag = first.headers.get('ETag');
    if (first.status !== 200 || etag === null) {
      throw new Error(`/flake-registry.json answered ${first.status} with ETag ${String(etag)}`);
    }
    const healthz = route('/healthz', '/healthz', 200);
    const routes: Route[] = [
      healthz,
      route('/flake-registry.json (200)', '/flake-registry.json', 200),
      route('/flake-registry.json (304)', '/flake-registry.json', 304, { 'If-None-Match': etag }, 0.9),
      route('/resolve?ref=nixpkgs/nixos-unstable', '/resolve?ref=nixpkgs%2Fnixos-unstable', 200, {}, 0.9),
      route('/resolve?ref=home-manager', '/resolve?ref=home-manager', 200, {}, 0.9),
      // The registry's web page, rendered on the server: about the cost of a warm /resolve.
      route('/r/global (page)', '/r/global', 200),
    ];
    for (const r of routes) {
      const res = await fetch(`${server.origin}${r.path}`, { headers: r.headers });
      await res.arrayBuffer();
      if (res.status !== r.status) throw new Error(`${r.label} answered ${res.status}, expected ${r.status}`);
    }
    // Warm-up: JIT in workerd and in this client, memory caches, connection pool.
    for (const r of routes) await load(agent, origin, r, options.concurrency, options.warmupMs);

    const problems = new Map<string, number>();
    log(`  req/s per round: ${routes.map((r) => r.label).join(' | ')}`);
    for (let round = 0; round < options.rounds; round++) {
      // Each round starts at a different route, so no route always follows the same one.
      for (let i = 0; i < routes.length; i++) {
        const r = routes[(i + round) % routes.length] as Route;
        const cpuBefore = server.cpuSeconds();
        const result = await load(agent, origin, r, options.concurrency, options.roundMs);
        const cpuAfter = server.cpuSeconds();
        r.rates.push((result.requests / result.elapsedMs) * 1000);
        // Mean time per request with `concurrency` of them in flight (Little's law).
        r.latencies.push((options.concurrency * result.elapsedMs) / result.requests);
        r.cpu.push(
          cpuBefore === undefined || cpuAfter === undefined
            ? Number.NaN
            : ((cpuAfter - cpuBefore) * 1e6) / result.requests,
        );
        for (const [what, n] of result.unexpected) {
          const key = `${r.label}: ${what}`;
          problems.set(key, (problems.get(key) ?? 0) + n);
        }
      }
      log(`  round ${round + 1}/${options.rounds}: ${routes.map((r) => formatRate(at(r.rates, round))).join(' | ')}`);
    }

    const rounds = Array.from({ length: options.rounds }, (_, i) => i);
    const misses: string[] = [];
    const rows = routes.map((r) => {
      // Ratios are taken within a round, then the median over rounds.
      const ratio = median(rounds.map((i) => at(r.rates, i) / at(healthz.rates, i)));
      const cpuRatio = median(rounds.map((i) => at(healthz.cpu, i) / at(r.cpu, i)));
      const met = ratio >= (r.target ?? 0);
      if (!met) misses.push(r.label);
      return [
        r.label,
        formatRate(median(r.rates)),
        `${formatRate(Math.min(...r.rates))}–${formatRate(Math.max(...r.rates))}`,
        median(r.latencies).toFixed(2),
        formatRatio(ratio),
        r.target === undefined ? '' : `>= ${r.target.toFixed(1)}x ${met ? 'met' : 'MISSED'}`,
        formatRate(median(r.cpu)),
        formatRatio(cpuRatio),
      ];
    });
    log('');
    log(
      table(
        ['route', 'req/s', 'min–max', 'mean ms', 'vs /healthz', 'target', 'server µs/req', 'CPU vs /healthz'],
        rows,
      ),
    );
    log("vs /healthz: median over rounds of the route's req/s divided by /healthz's req/s in the same round.");
    log('server µs/req: CPU time of the wrangler and workerd processes per request; CPU vs /healthz is');
    log("/healthz's µs/req divided by the route's in the same round (above 1.00x: cheaper than /healthz).");
    if (problems.size > 0) {
      log('');
      log('Unexpected answers (not counted in req/s):');
      for (const [what, n] of problems) log(`  ${what} × ${n}`);
    }
    if (misses.length > 0) log(`\nTargets missed: ${misses.join(', ')}`);
  } finally {
    agent.destroy();
    await server.stop();
  }
}
