// `npm start`: the service on the embedded registries, under a local `wrangler dev`
// with local KV and Durable Objects in .wrangler/state. Quiet by design: no banner or
// update check, no attempt to fetch `Request.cf` from the network (which prints a
// stack trace offline), and no line per request unless asked with --log-requests.
// Every other argument goes to `wrangler dev` as is (`npm start -- --port 8799`).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCheckout } from './check-registries.js';
import { portFree } from './dev-server.js';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const logRequests = args.includes('--log-requests');
const passed = args.filter((a) => a !== '--log-requests');

function option(name: string, fallback: string): string {
  const i = passed.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return fallback;
  const arg = passed[i] ?? '';
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (passed[i + 1] ?? fallback);
}

// The defaults of wrangler.toml's [dev] table.
const ip = option('--ip', '127.0.0.1');
const port = option('--port', '8787');
const origin = `http://${ip}:${port}`;

// Refused before wrangler starts, so the reason is the only thing printed.
const problems = checkCheckout(root);
if (problems.length > 0) {
  for (const line of problems) console.error(`flake-registry-service: ${line}`);
  process.exit(1);
}

// Another server on the port would answer the readiness check below for this one.
const free = await portFree(Number(port), ip);
if (!free) {
  console.error(
    `flake-registry-service: ${ip}:${port} is in use (another npm start?); stop it or pick another port with npm start -- --port N`,
  );
  process.exit(1);
}

const child = spawn(
  join(root, 'node_modules', '.bin', 'wrangler'),
  ['dev', ...(passed.includes('--log-level') ? [] : ['--log-level', logRequests ? 'info' : 'warn']), ...passed],
  {
    cwd: root,
    stdio: 'inherit',
    // Its own process group, so that stopping this stops wrangler and workerd with it.
    detached: true,
    env: {
      ...process.env,
      WRANGLER_HIDE_BANNER: 'true',
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    },
  },
);
function stop(signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// npm passes a SIGTERM to the shell it started, which does not pass it on: when the
// process that started this one is gone, stop too rather than leave the server running.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop('SIGTERM');
}, 500).unref();

const deadline = Date.now() + 120_000;
while (Date.now() < deadline && child.exitCode === null) {
  try {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    if (res.ok) {
      console.log(`flake-registry-service: serving the embedded registries on ${origin} (Ctrl-C stops)`);
      break;
    }
  } catch {
    // Not listening yet.
  }
  await sleep(250);
}
