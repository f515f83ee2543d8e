/**
 * CPU cost of merging a one-entry proposal into a large registry, step by
 * step: read the head file, apply, lint before and after, impact, write.
 * `npx tsx scripts/bench/edit.ts [entries]`; prints the median of 30 runs.
 */
import { diffRegistries } from '../../src/nix/diff.js';
import { applyChanges } from '../../src/nix/edit.js';
import { resolutionImpact } from '../../src/nix/impact.js';
import { lintRegistry, newFindings } from '../../src/nix/lint.js';
import { mergeChanges } from '../../src/nix/merge.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import type { Change } from '../../src/protocol/changes.js';
import { generateRegistry } from './generate.js';

const size = Number(process.argv[2] ?? 10_000);
const text = JSON.stringify(generateRegistry(size).file);
const change: Change = {
  op: 'set',
  entry: { from: { type: 'indirect', id: 'brand-new' }, to: { type: 'github', owner: 'o', repo: 'brand-new' } },
  position: 'start',
};

function median(f: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[15] as number;
}

const head = readRegistry(text);
const after = applyChanges(head, [change]);
if (!after.ok) throw new Error(after.error.detail);
const summary = diffRegistries(head, after.registry).summary;
const lintBefore = lintRegistry(head);
const behind = { entries: head.entries.slice(1) };

const rows: [string, number][] = [
  ['readRegistry', median(() => readRegistry(text))],
  ['applyChanges (1 set)', median(() => applyChanges(head, [change]))],
  ['diffRegistries', median(() => diffRegistries(head, after.registry))],
  ['lintRegistry', median(() => lintRegistry(after.registry))],
  ['newFindings', median(() => newFindings(lintBefore, lintRegistry(after.registry)))],
  ['resolutionImpact', median(() => resolutionImpact(head, after.registry, summary))],
  ['writeRegistry', median(() => writeRegistry(after.registry))],
  ['mergeChanges, base = head', median(() => mergeChanges(head, head, [change], true))],
  ['mergeChanges, base behind head', median(() => mergeChanges(behind, head, [change], false))],
  [
    'whole merge (read, merge, lint x2, impact, write)',
    median(() => {
      const h = readRegistry(text);
      const m = mergeChanges(h, h, [change], true);
      if (!m.ok) throw new Error(m.reason);
      newFindings(lintRegistry(h), lintRegistry(m.registry));
      resolutionImpact(h, m.registry, m.summary);
      writeRegistry(m.registry);
    }),
  ],
];
console.log(`${size} entries, median of 30 runs`);
for (const [name, ms] of rows) console.log(`${name.padEnd(50)} ${ms.toFixed(2)} ms`);
