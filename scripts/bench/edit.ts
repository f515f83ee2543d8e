/**
 * CPU cost of merging a one-entry proposal into a large registry.
 * `npx tsx scripts/bench/edit.ts [entries] [runs]` prints two tables:
 *
 * - `benchWriterMerge`: what the writer (a Durable Object that keeps the head
 *   parsed and its lint findings in memory) spends per merge, step by step and
 *   in total, as CPU time (process.cpuUsage). Each run merges a new entry into
 *   the head the previous run made, as a stream of proposals would.
 * - the cost of each piece from scratch (a head read from its file, nothing cached).
 */
import { fileURLToPath } from 'node:url';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { diffRegistries } from '../../src/nix/diff.js';
import { applyChanges } from '../../src/nix/edit.js';
import { resolutionImpact } from '../../src/nix/impact.js';
import { lintRegistry, newFindings } from '../../src/nix/lint.js';
import type { Finding } from '../../src/nix/lint.js';
import { mergeChanges } from '../../src/nix/merge.js';
import type { Registry } from '../../src/nix/registry.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import type { EntryChange as Change } from '../../src/nix/changes.js';
import { generateRegistry } from './generate.js';

type Log = (line: string) => void;

const newEntry = (n: number): Change => ({
  op: 'set',
  entry: { from: { type: 'indirect', id: `brand-new-${n}` }, to: { type: 'github', owner: 'o', repo: `new-${n}` } },
  position: 'start',
});

/** CPU milliseconds (user + system) that `f` takes. */
function cpu<T>(f: () => T): [T, number] {
  const start = process.cpuUsage();
  const value = f();
  const used = process.cpuUsage(start);
  return [value, (used.user + used.system) / 1000];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const STEPS = [
  'mergeChanges (apply + summary)',
  'lintRegistry of the result',
  'newFindings against the head',
  'resolutionImpact',
  'writeRegistry',
  'sha256HexSync of the text',
] as const;

/**
 * Median CPU per step and per merge of a one-entry `set` (at the start, so
 * every later entry moves) into a head of `size` entries kept parsed, with its
 * findings cached. Returns the median total in milliseconds.
 */
export function benchWriterMerge(size: number, runs: number, log: Log): number {
  let head: Registry = readRegistry(JSON.stringify(generateRegistry(size).file));
  let findings: Finding[] = lintRegistry(head);
  // The writer has written the head before: its entries' texts are known.
  writeRegistry(head);
  const times: Record<(typeof STEPS)[number] | 'total', number[]> = {
    'mergeChanges (apply + summary)': [],
    'lintRegistry of the result': [],
    'newFindings against the head': [],
    resolutionImpact: [],
    writeRegistry: [],
    'sha256HexSync of the text': [],
    total: [],
  };
  let hash = '';
  for (let n = 0; n < runs; n++) {
    const [merged, tMerge] = cpu(() => mergeChanges(head, head, [newEntry(n)], true));
    if (!merged.ok) throw new Error(`merge ${n} failed: ${merged.reason}`);
    const [after, tLint] = cpu(() => lintRegistry(merged.registry));
    const [, tNew] = cpu(() => newFindings(findings, after));
    const [, tImpact] = cpu(() => resolutionImpact(head, merged.registry, merged.summary));
    const [text, tWrite] = cpu(() => writeRegistry(merged.registry));
    // As nextVersion hashes it: the text itself, encoded by the native hash.
    const [digest, tHash] = cpu(() => sha256HexSync(text));
    hash = digest;
    const steps = [tMerge, tLint, tNew, tImpact, tWrite, tHash];
    STEPS.forEach((name, i) => times[name].push(steps[i] as number));
    times.total.push(steps.reduce((a, b) => a + b, 0));
    head = merged.registry;
    findings = after;
  }
  log(`writer merge of a one-entry set into ${size} entries, head kept parsed: median CPU of ${runs} merges`);
  for (const name of [...STEPS, 'total'] as const)
    log(`  ${name.padEnd(34)} ${median(times[name]).toFixed(2).padStart(7)} ms`);
  log(`  (last version ${head.entries.length} entries, sha256 ${hash.slice(0, 16)}…)`);
  return median(times.total);
}

/** Each piece from scratch, the head read from its file and nothing cached beforehand. */
function benchPieces(size: number, runs: number, log: Log): void {
  const text = JSON.stringify(generateRegistry(size).file);
  const change = newEntry(0);
  const fresh = () => readRegistry(text);
  const head = fresh();
  const after = applyChanges(head, [change]);
  if (!after.ok) throw new Error(after.error.detail);
  const summary = diffRegistries(head, after.registry).summary;
  const lintBefore = lintRegistry(head);
  const measure = (f: (h: Registry) => unknown) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const h = fresh();
      ms.push(cpu(() => f(h))[1]);
    }
    return median(ms);
  };
  const rows: [string, number][] = [
    ['readRegistry', measure(() => fresh())],
    ['applyChanges (1 set)', measure((h) => applyChanges(h, [change]))],
    ['diffRegistries', measure((h) => diffRegistries(h, after.registry))],
    ['lintRegistry', measure((h) => lintRegistry(h))],
    ['newFindings (incl. lint)', measure((h) => newFindings(lintBefore, lintRegistry(h)))],
    ['resolutionImpact', measure(() => resolutionImpact(head, after.registry, summary))],
    ['writeRegistry', measure((h) => writeRegistry(h))],
    ['mergeChanges, base = head', measure((h) => mergeChanges(h, h, [change], true))],
    [
      'mergeChanges, base behind head',
      measure((h) => mergeChanges({ entries: h.entries.slice(1) }, h, [change], false)),
    ],
  ];
  log(`each piece from scratch, ${size} entries: median CPU of ${runs} runs`);
  for (const [name, ms] of rows) log(`  ${name.padEnd(34)} ${ms.toFixed(2).padStart(7)} ms`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = Number(process.argv[2] ?? 10_000);
  const runs = Number(process.argv[3] ?? 200);
  const log = (line: string) => console.log(line);
  benchWriterMerge(size, runs, log);
  log('');
  benchPieces(size, Math.min(runs, 30), log);
}
