// `npm start`: the service on the embedded registries, under a local `wrangler dev`
// with local KV and Durable Objects in .wrangler/state. Quiet by design: no banner or
// update check, no attempt to fetch `Request.cf` from the network (which prints a
// stack trace offline), and no line per request unless asked with --log-requests.
// Every other argument goes to `wrangler dev` as is (`npm start -- --port 8799`).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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
const origin = `http://${option('--ip', '127.0.0.1')}:${option('--port', '8787')}`;

const child = spawn(
  join(root, 'node_modules', '.bin', 'wrangler'),
  ['dev', ...(passed.includes('--log-level') ? [] : ['--log-level', logRequests ? 'info' : 'warn']), ...passed],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      WRANGLER_HIDE_BANNER: 'true',
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    },
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

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
