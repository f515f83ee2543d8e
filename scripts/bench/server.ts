import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../dev-server.js';

/** A `wrangler dev` server of this checkout on a free port, with state in a fresh temporary directory. */
export interface BenchServer {
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

/** The server for the HTTP benchmark: state in a fresh temporary directory, removed on stop. */
export async function startBenchServer(root: string, log: (line: string) => void): Promise<BenchServer> {
  const persist = await mkdtemp(join(tmpdir(), 'flake-registry-bench-'));
  // `--log-level error`: wrangler dev otherwise prints a line per request through its Node
  // process, which costs more CPU than most routes themselves and is absent in production.
  log(`Starting wrangler dev --log-level error --persist-to ${persist}`);
  let server: DevServer;
  try {
    server = await startDevServer({ root, persistTo: persist, args: ['--log-level', 'error'] });
  } catch (error) {
    await rm(persist, { recursive: true, force: true });
    throw error;
  }
  const ticks = clockTicks();
  const pgid = server.pgid;
  return {
    origin: server.origin,
    cpuSeconds: () => (pgid === undefined ? undefined : groupCpuSeconds(pgid, ticks)),
    stop: async () => {
      await server.stop();
      await rm(persist, { recursive: true, force: true });
    },
  };
}
