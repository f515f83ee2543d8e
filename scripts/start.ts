// `npm start`: the service on the embedded registries, under a local `wrangler dev`
// with local KV and Durable Objects in .wrangler/state. Quiet by design: no banner or
// update check, no attempt to fetch `Request.cf` from the network (which prints a
// stack trace offline), and no line per request unless asked with --log-requests.
// Every other argument goes to `wrangler dev` as is (`npm start -- --port 8799`).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Transform } from 'node:stream';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkCheckout } from './check-registries.js';
import { portFree } from './dev-server.js';

const root = join(import.meta.dirname, '..');
// Found first: npm may be killed while this starts, and it must not leave a server behind.
const job = await jobOf();
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
const problems = await checkCheckout(root);
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

const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const wranglerArgs = [
  'dev',
  ...(passed.includes('--log-level') ? [] : ['--log-level', logRequests ? 'info' : 'warn']),
  ...passed,
];
// On Linux the kernel tells wrangler when this process dies, however it dies (SIGKILL
// included): setpriv sets its parent-death signal, and wrangler stops workerd on SIGTERM.
const setpriv =
  process.platform === 'linux' ? ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) : undefined;
const [command, ...commandArgs] = setpriv
  ? [setpriv, '--pdeathsig', 'TERM', '--', wrangler, ...wranglerArgs]
  : [wrangler, ...wranglerArgs];
const child = spawn(command, commandArgs, {
  cwd: root,
  stdio: ['inherit', 'pipe', 'pipe'],
  // In npm start's own process group (not detached): Ctrl-C and a signal to the group,
  // SIGKILL included, reach wrangler and workerd too.
  env: {
    ...process.env,
    WRANGLER_HIDE_BANNER: 'true',
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  },
});
child.stdout?.pipe(quietened()).pipe(process.stdout);
child.stderr?.pipe(quietened()).pipe(process.stderr);
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  // wrangler stops workerd on SIGTERM (on SIGKILL it could not); it exits, and so does this.
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
child.on('exit', (code, signal) => {
  // workerd outlives a wrangler killed outright; whatever it left in this job goes too.
  void leftovers().then((pids) => {
    for (const pid of pids) signalPid(pid, 'SIGKILL');
    if (signal === 'SIGKILL' && !stopping)
      console.error('flake-registry-service: wrangler was killed; stopped the rest');
    process.exit(code ?? (signal ? 1 : 0));
  });
});
// `npm start` runs this under npm, a shell and tsx, all in one process group: if any of
// them goes (npm killed alone does not pass anything on), stop too rather than leave the
// server running.
const watchOnce = (): void => {
  if (job.watched.some((pid) => !alive(pid))) stop();
};
watchOnce();
setInterval(watchOnce, 500).unref();

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

async function processTable(): Promise<Map<number, { ppid: number; pgid: number }>> {
  const rows = new Map<number, { ppid: number; pgid: number }>();
  try {
    const table = (await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=,pgid='])).stdout;
    for (const line of table.split('\n')) {
      const [pid, ppid, pgid] = line.trim().split(/\s+/).map(Number);
      if (pid !== undefined && ppid !== undefined && pgid !== undefined) rows.set(pid, { ppid, pgid });
    }
  } catch {
    // No ps: only the parent is watched.
  }
  return rows;
}

/**
 * This job: its process group, and the processes to watch, the ones above this in
 * it (npm, the shell it ran and tsx) and the group's leader (npm, when a shell runs
 * `npm start`), which may already be gone by the time this looks.
 */
async function jobOf(): Promise<{ group: number | undefined; watched: number[] }> {
  const rows = await processTable();
  const group = rows.get(process.pid)?.pgid;
  const watched: number[] = [];
  for (let pid = process.ppid; pid > 1 && rows.get(pid)?.pgid === group; pid = rows.get(pid)?.ppid ?? 0) {
    watched.push(pid);
  }
  if (group !== undefined && group !== process.pid && !watched.includes(group)) watched.push(group);
  return { group, watched: watched.length > 0 ? watched : [process.ppid] };
}

/** What is left in this job but this process and those above it: a killed wrangler's workerd. */
async function leftovers(): Promise<number[]> {
  if (job.group === undefined) return [];
  const rows = await processTable();
  return [...rows]
    .filter(([pid, row]) => row.pgid === job.group && pid !== process.pid && !job.watched.includes(pid))
    .map(([pid]) => pid);
}

/**
 * The local runtime reports a client that went away mid-request as an uncaught
 * "Network connection lost" of its own (the request proxy in front of the Worker,
 * which production does not have) or, when it left mid-answer, as a write to a
 * disconnected socket ("Broken pipe"), and a malformed Content-Length or chunk size as
 * an error with its stack: nothing went wrong in the service, so these lines and
 * the blank and stack lines around them are dropped. Everything else passes as is.
 */
function quietened(): Transform {
  const NOISE = [
    /^\s*✘ \[ERROR\] Uncaught Error: Network connection lost\.?\s*$/,
    // The same, seen by the runtime's socket: the client left while an answer was being written.
    /^\s*✘ \[ERROR\] kj::getCaughtExceptionAsKj\(\) = kj\/async-io-unix\.c\+\+:\d+: disconnected: ::(write|writev|send|sendmsg)\(.*\): (Broken pipe|Connection reset by peer)\s*$/,
    // A request whose Content-Length the runtime's own HTTP parser refuses (Cloudflare answers 400 then).
    /^\s*✘ \[ERROR\] Uncaught exception: kj\/compat\/http\.c\+\+:\d+: failed: invalid Content-Length header value/,
    // A chunked body whose chunk size it refuses (it answers 503 itself; Cloudflare's edge refuses such a body).
    /^\s*✘ \[ERROR\] e = kj\/compat\/http\.c\+\+:\d+: failed: invalid HTTP chunk size/,
  ];
  // eslint-disable-next-line no-control-regex -- colours are ANSI escapes
  const plain = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '');
  let pending = '';
  let blanks: string[] = [];
  let dropBlanks = 0;
  /** Whole lines, newline included; what they let through. */
  const pass = (lines: readonly string[]): string => {
    let out = '';
    for (const line of lines) {
      const bare = plain(line);
      if (bare.trim() === '' || (dropBlanks > 0 && /^\s+stack: /.test(bare))) {
        if (dropBlanks > 0) dropBlanks--;
        else blanks.push(line);
      } else if (NOISE.some((re) => re.test(bare))) {
        blanks = [];
        dropBlanks = 3;
      } else {
        dropBlanks = 0;
        out += blanks.join('') + line;
        blanks = [];
      }
    }
    return out;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const parts = (pending + chunk.toString('utf8')).split(/(?<=\n)/);
      pending = parts.at(-1)?.endsWith('\n') === true ? '' : (parts.pop() ?? '');
      done(null, pass(parts));
    },
    flush(done) {
      done(null, pass(pending === '' ? [] : [pending]) + blanks.join(''));
    },
  });
}
