import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

type Log = (line: string) => void;

/** What issue-free cold starts need: the script's gzip size under this many KiB. */
const TARGET_GZIP_KIB = 100;

/**
 * The Worker as `wrangler deploy --dry-run --minify` builds it, and what an isolate spends
 * before its first request: V8 parses the module and runs its top level (schemas built,
 * routes registered). Timed in a child Node process with the module loaded through
 * `node:vm` (its platform import `cloudflare:workers` given a stand-in, a `node:` one Node's own module), the median of
 * `runs` fresh contexts: a stand-in for workerd's own cold start, which compiles the same code
 * with the same V8.
 */
export function runBundle(options: { readonly root: string; readonly runs: number }, log: Log): void {
  const out = mkdtempSync(join(tmpdir(), 'flake-registry-bundle-'));
  try {
    execFileSync(
      join(options.root, 'node_modules', '.bin', 'wrangler'),
      ['deploy', '--dry-run', '--minify', '--outdir', out],
      { cwd: options.root, stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
    );
    const file = readdirSync(out).find((f) => f.endsWith('.js'));
    if (file === undefined) throw new Error('wrangler deploy --dry-run wrote no script');
    const code = readFileSync(join(out, file));
    const gzip = gzipSync(code, { level: 9 }).length;
    log('The Worker script (wrangler deploy --dry-run --minify):');
    log(
      `  ${(code.length / 1024).toFixed(1)} KiB, ${(gzip / 1024).toFixed(1)} KiB gzip: ${(gzip / 1024 / TARGET_GZIP_KIB).toFixed(2)}x the ${TARGET_GZIP_KIB} KiB target`,
    );
    const timed = execFileSync(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--no-warnings',
        '--input-type=module',
        '-e',
        COLD_START,
        join(out, file),
        String(options.runs),
      ],
      { encoding: 'utf8' },
    );
    const result = JSON.parse(timed) as { parse: number; evaluate: number } | { error: string };
    if ('error' in result) throw new Error(`the Worker script did not load outside workerd: ${result.error}`);
    const { parse, evaluate } = result;
    log(`  cold start (median of ${options.runs}): parse ${parse.toFixed(1)} ms, top level ${evaluate.toFixed(1)} ms`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The child's program: parse and evaluate the script in fresh contexts, print the medians. */
const COLD_START = `
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
const [file, runs] = process.argv.slice(1);
const code = readFileSync(file, 'utf8');
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const parse = [], evaluate = [];
for (let i = 0; i < Number(runs); i++) {
  // The platform's globals a Worker sees (TextEncoder, crypto, URL, Response, ...), console silenced.
  // Only what a fresh context lacks: its own Object, Array, ... stay its own.
  const context = vm.createContext({ console: { log() {}, error() {}, warn() {} } });
  const own = new Set(vm.runInContext('Object.getOwnPropertyNames(globalThis)', context));
  for (const n of Object.getOwnPropertyNames(globalThis)) if (!own.has(n)) context[n] = globalThis[n];
  let started = performance.now();
  const mod = new vm.SourceTextModule(code, { context, identifier: 'worker.js' });
  parse.push(performance.now() - started);
  await mod.link(async (specifier) => {
    // A Node built-in (nodejs_compat: node:crypto's hash) is Node's own module.
    if (specifier.startsWith('node:')) {
      const real = await import(specifier);
      const names = Object.keys(real);
      return new vm.SyntheticModule(names, function () {
        for (const n of names) this.setExport(n, real[n]);
      }, { context });
    }
    const names = specifier === 'cloudflare:workers' ? ['DurableObject', 'WorkerEntrypoint', 'env'] : [];
    return new vm.SyntheticModule(names, function () {
      for (const n of names) this.setExport(n, class {});
    }, { context });
  });
  started = performance.now();
  try {
    await mod.evaluate();
  } catch (error) {
    console.log(JSON.stringify({ error: String(error) }));
    process.exit(0);
  }
  evaluate.push(performance.now() - started);
}
console.log(JSON.stringify({ parse: median(parse), evaluate: median(evaluate) }));
`;
