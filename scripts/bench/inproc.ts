import type { FlakeRef } from '../../src/nix/attrs.js';
import { parseFlakeRef } from '../../src/nix/flakeref.js';
import { RegistryIndex, resolve, type LayerRef } from '../../src/nix/lookup.js';
import { readRegistry } from '../../src/nix/registry.js';
import { generateRegistry } from './generate.js';
import { formatRate, formatRatio, median, nowMs, table } from './stats.js';

/**
 * Lookup cost against registry size. The index groups entries by `from` minus
 * ref/rev, so every case should cost the same at 100 and at 100,000 entries;
 * a scan would make `last` and `missing` grow linearly.
 */

export interface InprocOptions {
  readonly sizes: readonly number[];
  readonly runs: number;
  /** Minimum measuring time of one cell in one run. */
  readonly cellMs: number;
  readonly warmupMs: number;
}

type CaseName = 'first' | 'last' | 'missing' | 'chain';
const CASES: readonly CaseName[] = ['first', 'last', 'missing', 'chain'];

interface Cell {
  readonly size: number;
  readonly name: CaseName;
  readonly text: string;
  readonly resolveOnly: () => unknown;
  readonly parseAndResolve: () => unknown;
  readonly resolveRuns: number[];
  readonly parseRuns: number[];
}

// Results land here so the JIT cannot drop the calls as dead code.
let sink: unknown;

/** CPU milliseconds used by this process so far (user + system). */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Operations per CPU-second of `fn`, run in batches until it has had `minMs` of
 * CPU. CPU time rather than wall time: on a shared machine, time spent
 * descheduled would otherwise count as lookup cost.
 */
function rate(fn: () => unknown, minMs: number): number {
  let batch = 1;
  // Grow the batch until one takes ~5 ms, so timer reads do not count.
  for (;;) {
    const start = nowMs();
    for (let i = 0; i < batch; i++) sink = fn();
    if (nowMs() - start >= 5 || batch >= 1 << 24) break;
    batch *= 2;
  }
  let ops = 0;
  const start = cpuMs();
  let used = 0;
  while (used < minMs) {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    used = cpuMs() - start;
  }
  return (ops / used) * 1000;
}

function check(name: CaseName, text: string, result: ReturnType<typeof resolve>): void {
  const hops = name === 'chain' ? 2 : 1;
  const ok =
    name === 'missing' ? !result.ok && result.error.kind === 'not-found' : result.ok && result.steps.length === hops;
  if (!ok) throw new Error(`benchmark case '${name}' (${text}) did not resolve as expected: ${JSON.stringify(result)}`);
}

function prepare(size: number, log: (line: string) => void): Cell[] {
  const generated = generateRegistry(size);
  const json = JSON.stringify(generated.file);
  const t0 = nowMs();
  const registry = readRegistry(json);
  const t1 = nowMs();
  const index = new RegistryIndex(registry);
  const t2 = nowMs();
  log(
    `  ${size.toLocaleString('en-US')} entries (${(json.length / 1024).toFixed(0)} KiB): ` +
      `readRegistry ${(t1 - t0).toFixed(1)} ms, RegistryIndex ${(t2 - t1).toFixed(1)} ms`,
  );
  const layers: LayerRef[] = [{ name: 'bench', version: 1, index }];
  const texts: Record<CaseName, string> = {
    first: generated.firstId,
    last: generated.lastId,
    missing: generated.missingId,
    chain: generated.chainId,
  };
  return CASES.map((name) => {
    const text = texts[name];
    const query: FlakeRef = parseFlakeRef(text);
    check(name, text, resolve(query, layers));
    return {
      size,
      name,
      text,
      resolveOnly: () => resolve(query, layers),
      parseAndResolve: () => resolve(parseFlakeRef(text), layers),
      resolveRuns: [],
      parseRuns: [],
    };
  });
}

export function runInproc(options: InprocOptions, log: (line: string) => void): void {
  log(
    `In-process lookup (operations per CPU-second; median of ${options.runs} interleaved runs, ` +
      `>= ${options.cellMs} ms of CPU per cell and run)`,
  );
  const cells = options.sizes.flatMap((size) => prepare(size, log));
  for (const cell of cells) {
    rate(cell.resolveOnly, options.warmupMs);
    rate(cell.parseAndResolve, options.warmupMs);
  }
  // Runs interleave every cell, so drift (JIT, GC, a noisy neighbour) hits all of them alike.
  for (let run = 0; run < options.runs; run++) {
    for (const cell of cells) {
      cell.resolveRuns.push(rate(cell.resolveOnly, options.cellMs));
      cell.parseRuns.push(rate(cell.parseAndResolve, options.cellMs));
    }
  }

  const resolveRate = (size: number, name: CaseName) =>
    median(cells.find((c) => c.size === size && c.name === name)?.resolveRuns ?? []);
  const parseRate = (size: number, name: CaseName) =>
    median(cells.find((c) => c.size === size && c.name === name)?.parseRuns ?? []);
  const smallest = options.sizes[0] ?? 0;
  const largest = options.sizes[options.sizes.length - 1] ?? 0;
  const rows = cells.map((c) => {
    const r = median(c.resolveRuns);
    const spread = `${formatRate(Math.min(...c.resolveRuns))}–${formatRate(Math.max(...c.resolveRuns))}`;
    return [
      `${c.size.toLocaleString('en-US')} ${c.name}`,
      c.text,
      formatRate(r),
      spread,
      formatRate(median(c.parseRuns)),
      formatRatio(r / resolveRate(c.size, 'first')),
      formatRatio(r / resolveRate(smallest, c.name)),
    ];
  });
  log('');
  log(
    table(
      [
        'size / case',
        'ref',
        'resolve/s',
        'min–max',
        'parse+resolve/s',
        'vs first',
        `vs ${smallest.toLocaleString('en-US')}`,
      ],
      rows,
    ),
  );
  log('');
  const ratioRows = options.sizes.map((size) => [
    size.toLocaleString('en-US'),
    formatRatio(resolveRate(size, 'last') / resolveRate(size, 'first')),
    formatRatio(parseRate(size, 'last') / parseRate(size, 'first')),
  ]);
  log(table(['size', 'last/first (resolve)', 'last/first (parse+resolve)'], ratioRows));
  log('');
  const growthRows = CASES.map((name) => [
    name,
    formatRatio(resolveRate(largest, name) / resolveRate(smallest, name)),
    formatRatio(parseRate(largest, name) / parseRate(smallest, name)),
  ]);
  log(
    table(
      [
        'case',
        `${largest.toLocaleString('en-US')}/${smallest.toLocaleString('en-US')} (resolve)`,
        `${largest.toLocaleString('en-US')}/${smallest.toLocaleString('en-US')} (parse+resolve)`,
      ],
      growthRows,
    ),
  );
  log('(ratios are of rates: 1.00x = same speed; below 1 = slower at the larger size / for the last entry)');
  if (sink === Symbol.for('never')) log('');
}
