import { fileURLToPath } from 'node:url';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runBundle } from './bundle.js';
import { runHttp } from './http.js';
import { runInproc } from './inproc.js';
import { runReads } from './reads.js';
import { runVerify } from './verify.js';
import { runWrite } from './write.js';

/**
 * `npm run bench [-- --quick] [-- --only write|verify|bundle|reads|inproc|http]`: the write path's
 * CPU and memory figures, lookup cost against registry size in process, then
 * request rates of the local dev server. A
 * benchmark, not a test: it prints figures and ratios and fails only when it
 * cannot measure.
 */

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
  },
});

const only = values.only;
if (only !== undefined && !['inproc', 'http', 'write', 'verify', 'bundle', 'reads'].includes(only)) {
  console.error(`--only takes 'write', 'verify', 'bundle', 'reads', 'inproc' or 'http', not '${only}'`);
  process.exit(2);
}
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`--concurrency takes a positive whole number, not '${values.concurrency}'`);
  process.exit(2);
}

const log = (line: string) => console.log(line);
// Other work on the machine moves every figure; the load average at least says whether there was any.
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
const root = fileURLToPath(new URL('../..', import.meta.url));
const quick = values.quick;

log(
  `flake-registry-service benchmark${quick ? ' (quick)' : ''}: Node ${process.version}, ${process.platform}/${process.arch}, ` +
    `${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${load()}`,
);
log('');

if (only === undefined || only === 'write') {
  await runWrite(
    quick
      ? {
          entries: 10_000,
          mergeSizes: [
            { entries: 100, merges: 20 },
            { entries: 10_000, merges: 20 },
            { entries: 100_000, merges: 5 },
          ],
          verifyMs: 500,
          versions: 12,
        }
      : {
          entries: 10_000,
          mergeSizes: [
            { entries: 100, merges: 100 },
            { entries: 10_000, merges: 100 },
            { entries: 100_000, merges: 20 },
          ],
          verifyMs: 3000,
          versions: 24,
        },
    log,
  );
  log(`(${load()})`);
  log('');
}

if (only === undefined || only === 'verify') {
  await runVerify(quick ? { entries: 1_000, versions: 100 } : { entries: 1_000, versions: 1_000 }, log);
  log(`(${load()})`);
  log('');
}

if (only === undefined || only === 'bundle') {
  runBundle({ root, runs: quick ? 5 : 21 }, log);
  log(`(${load()})`);
  log('');
}

if (only === undefined || only === 'reads') {
  await runReads(
    quick
      ? { sizes: [100, 10_000, 100_000], coldRuns: 5, warmRequests: 200, warmSamples: 3 }
      : { sizes: [100, 1_000, 10_000, 100_000], coldRuns: 15, warmRequests: 1_000, warmSamples: 7 },
    log,
  );
  log(`(${load()})`);
  log('');
}

if (only === undefined || only === 'inproc') {
  runInproc(
    quick
      ? { sizes: [100, 10_000, 100_000], runs: 3, cellMs: 100, warmupMs: 50 }
      : { sizes: [100, 10_000, 100_000], runs: 7, cellMs: 500, warmupMs: 300 },
    log,
  );
  log(`(${load()})`);
  log('');
}

if (only === undefined || only === 'http') {
  await runHttp(
    quick
      ? { root, concurrency, rounds: 3, roundMs: 700, warmupMs: 500 }
      : { root, concurrency, rounds: 12, roundMs: 1500, warmupMs: 2000 },
    log,
  );
  log(`(${load()})`);
}
