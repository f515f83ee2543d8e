import { formatPublicKey, generateSecretKey } from '../../src/crypto/keys.js';
import type { Change } from '../../src/protocol/changes.js';
import { verifyHistory } from '../../src/protocol/verify.js';
import { generateRegistry } from './generate.js';
import { HistoryBuilder } from './history.js';

type Log = (line: string) => void;

export interface VerifyBenchOptions {
  readonly entries: number;
  /** Versions in the history, version 1 included. */
  readonly versions: number;
}

/** What `flake-registry verify`, `sync`'s first run and the history page must do within, for 1,000 versions. */
const TARGET_MS_PER_1000 = 10_000;

/**
 * Verifying a long history as `flake-registry verify` does (verifyHistory, every check):
 * a registry of `entries` entries, then proposals signed by two of three keys, each a change
 * of one entry as maintainers make them (an entry added at the start, one changed, one
 * removed, in turn), merged as the writer merges them. Only the verification is timed, in
 * CPU of this process; building the history is not.
 */
export async function runVerify(options: VerifyBenchOptions, log: Log): Promise<void> {
  const keys = await Promise.all(['alice', 'bob', 'carol'].map((n) => generateSecretKey(n)));
  const policy = { keys: keys.map((k) => formatPublicKey(k.publicKey)), threshold: 2 };
  const generated = generateRegistry(options.entries);
  const history = new HistoryBuilder('bench', generated.file, policy, '2026-01-01T00:00:00Z');
  const built = Date.now();
  for (let n = 2; n <= options.versions; n++) {
    const id = `added-${n}`;
    const changes: Change[] =
      n % 3 === 2
        ? [
            {
              op: 'set',
              entry: { from: { type: 'indirect', id }, to: { type: 'github', owner: 'o', repo: id } },
              position: 'start',
            },
          ]
        : n % 3 === 0
          ? [
              {
                op: 'set',
                entry: {
                  from: { type: 'indirect', id: `added-${n - 1}` },
                  to: { type: 'github', owner: 'p', repo: id },
                },
              },
            ]
          : [{ op: 'remove', from: { type: 'indirect', id: `added-${n - 2}` } }];
    await history.merge(changes, { signers: [keys[n % 3], keys[(n + 1) % 3]].filter((k) => k !== undefined) });
  }
  log(
    `verifying a history: ${options.versions} versions of a ${options.entries.toLocaleString('en')}-entry registry (built in ${((Date.now() - built) / 1000).toFixed(1)} s)`,
  );
  const start = process.cpuUsage();
  const result = await verifyHistory(history.versions);
  const used = process.cpuUsage(start);
  if (!result.ok) throw new Error(`the benchmark's history does not verify: ${result.reason}`);
  const ms = (used.user + used.system) / 1000;
  const perVersion = ms / options.versions;
  const per1000 = perVersion * 1000;
  log(`  verify: ${(ms / 1000).toFixed(2)} s of CPU, ${perVersion.toFixed(2)} ms a version`);
  log(
    `  1,000 versions at that rate: ${(per1000 / 1000).toFixed(1)} s, ${(per1000 / TARGET_MS_PER_1000).toFixed(2)}x the ${TARGET_MS_PER_1000 / 1000} s target`,
  );
}
