import { formatPublicKey, formatSignature, generateSecretKey, sign, verify } from '../../src/crypto/keys.js';
import { sha256HexSync } from '../../src/crypto/sha256.js';
import { lintRegistry } from '../../src/nix/lint.js';
import { readRegistry, writeRegistry, type Registry } from '../../src/nix/registry.js';
import { readPolicy } from '../../src/protocol/policy.js';
import type { Proposal } from '../../src/protocol/proposal.js';
import { recordText, type VersionRecord } from '../../src/protocol/record.js';
import { review, type ReviewHead } from '../../src/protocol/review.js';
import { nextVersion } from '../../src/protocol/versions.js';
import { attributeSignatures } from '../../src/protocol/signatures.js';
import { proposalBytes, signingMessage } from '../../src/protocol/signing.js';
import { prepareSeed } from '../../src/store/seed.js';
import {
  DEFAULT_VERSION_BYTES,
  INDEX_BYTES_PER_FILE_BYTE,
  KvRegistryStore,
  type KvReader,
} from '../../src/store/store.js';
import { kvKeys } from '../../src/store/layout.js';
import { generateRegistry } from './generate.js';
import { median } from './stats.js';

type Log = (line: string) => void;

export interface WriteOptions {
  readonly entries: number;
  /** Registry sizes the merge is measured at, with the merges at each (fewer for the largest). */
  readonly mergeSizes: readonly { readonly entries: number; readonly merges: number }[];
  readonly verifyMs: number;
  readonly versions: number;
}

/** CPU milliseconds (user + system) that `f` takes. */
function cpu<T>(f: () => T): [T, number] {
  const start = process.cpuUsage();
  const value = f();
  const used = process.cpuUsage(start);
  return [value, (used.user + used.system) / 1000];
}

/**
 * What the writer does inside its transaction for one merge, with the same code:
 * review (merge, lint, impact) against a head kept parsed with its findings,
 * then the new version's file, record and hashes. Each merge adds an entry at the
 * start of the head the previous one made, as a stream of proposals would.
 */
export function benchMerges(options: { readonly entries: number; readonly merges: number }): number[] {
  const policy = { keys: ['k:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='], threshold: 1 };
  const seed = prepareSeed({
    name: 'bench',
    file: generateRegistry(options.entries).file,
    policy,
    created: '2026-01-01T00:00:00Z',
  });
  let registry: Registry = readRegistry(seed.body);
  let head: ReviewHead & { record: VersionRecord; hash: string } = {
    version: 1,
    registry,
    findings: lintRegistry(registry),
    record: seed.record,
    hash: sha256HexSync(recordText(seed.record)),
  };
  const times: number[] = [];
  for (let n = 0; n < options.merges; n++) {
    const proposal: Proposal = {
      registry: 'bench',
      base: head.version,
      changes: [
        {
          op: 'set',
          entry: { from: { type: 'indirect', id: `new-${n}` }, to: { type: 'github', owner: 'o', repo: `new-${n}` } },
          position: 'start',
        },
      ],
      message: 'bench',
      created: '2026-01-01T00:00:00Z',
      expires: '2026-01-02T00:00:00Z',
    };
    const [next, ms] = cpu(() => {
      const reviewed = review(head.registry, head, proposal);
      if (!reviewed.ok) throw new Error(`merge ${n} refused: ${reviewed.reason}`);
      const version = nextVersion({
        parent: head.record,
        parentHash: head.hash,
        policySha256: head.record.policy,
        id: sha256HexSync(proposalBytes(proposal)),
        proposal,
        signatures: [],
        registry: reviewed.registry,
        summary: reviewed.summary,
        created: '2026-01-01T00:00:00Z',
      });
      return { reviewed, version, hash: sha256HexSync(recordText(version.record)) };
    });
    times.push(ms);
    registry = next.reviewed.registry;
    head = {
      version: next.version.record.version,
      registry,
      findings: next.reviewed.resultFindings,
      record: next.version.record,
      hash: next.hash,
    };
  }
  return times;
}

/** The merge's target at 10,000 entries, in CPU milliseconds. */
const MERGE_TARGET_MS = 25;

/** Merge CPU at each size, and how it grows against the smallest. */
function benchMergeSizes(options: WriteOptions, log: Log): void {
  log('  merge of a one-entry proposal (review + the new version), CPU per merge:');
  let smallest: number | undefined;
  for (const size of options.mergeSizes) {
    const times = benchMerges(size);
    const m = median(times);
    smallest ??= m;
    const target =
      size.entries === 10_000
        ? ` (target: under ${MERGE_TARGET_MS} ms: ${m < MERGE_TARGET_MS ? 'met' : 'NOT met'})`
        : '';
    log(
      `    ${size.entries.toLocaleString('en-US').padStart(7)} entries: median ${m.toFixed(1)} ms, fastest ${Math.min(...times).toFixed(1)}, slowest ${Math.max(...times).toFixed(1)} over ${times.length} merges; ${(m / smallest).toFixed(1)}x the ${options.mergeSizes[0]?.entries ?? 0}-entry figure${target}`,
    );
  }
}

/** Signature checks a second, raw and as the writer attributes a proposal's signatures. */
async function benchSignatures(options: WriteOptions, log: Log): Promise<void> {
  const keys = await Promise.all(['alice', 'bob', 'carol'].map((name) => generateSecretKey(name)));
  const message = new TextEncoder().encode('x'.repeat(1024));
  const [alice] = keys;
  if (!alice) throw new Error('no key');
  const sig = await sign(alice, message);
  let count = 0;
  const start = process.cpuUsage();
  const deadline = performance.now() + options.verifyMs;
  while (performance.now() < deadline) {
    if (!(await verify(alice.publicKey, message, sig))) throw new Error('verification failed');
    count++;
  }
  const used = process.cpuUsage(start);
  const perSecond = count / ((used.user + used.system) / 1e6);
  log(`  verify (1 KB message): ${Math.round(perSecond).toLocaleString('en-US')} per CPU-second`);

  // A two-signature proposal checked against a three-key policy, the second signer tried after the first.
  const proposal = { registry: 'bench', base: 1, changes: [], message: 'x', created: 'x', expires: 'x' };
  const bytes = signingMessage(proposalBytes(proposal));
  const texts = await Promise.all(keys.slice(1).map(async (k) => formatSignature(await sign(k, bytes))));
  const policy = readPolicy({ keys: keys.map((k) => formatPublicKey(k.publicKey)), threshold: 2 });
  let proposals = 0;
  const start2 = process.cpuUsage();
  const deadline2 = performance.now() + options.verifyMs;
  while (performance.now() < deadline2) {
    const result = await attributeSignatures(bytes, texts, policy.keys);
    if (!result.ok) throw new Error('attribution failed');
    proposals++;
  }
  const used2 = process.cpuUsage(start2);
  log(
    `  a 2-signature proposal against a 3-key policy: ${Math.round(proposals / ((used2.user + used2.system) / 1e6)).toLocaleString('en-US')} per CPU-second`,
  );
}

/** A KV namespace in memory: enough of the binding for the read-side store. */
function memoryKv(values: Map<string, string>): KvReader {
  const get = (key: string, type: 'text' | 'arrayBuffer') => {
    const value = values.get(key);
    if (value === undefined) return Promise.resolve(null);
    return Promise.resolve(type === 'text' ? value : new TextEncoder().encode(value).buffer);
  };
  return { get } as KvReader;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The read side's memory: many versions of a large registry loaded, served and
 * looked up through the store, whose cache is bounded by estimated bytes. The
 * heap must stay within that bound, and the estimate must not be below what a
 * version really takes.
 */
async function benchMemory(options: WriteOptions, log: Log): Promise<void> {
  const values = new Map<string, string>();
  const generated = generateRegistry(options.entries);
  const base = readRegistry(JSON.stringify(generated.file));
  for (let v = 1; v <= options.versions; v++) {
    // Every version differs (one entry renamed), so nothing is shared between them.
    const entries = base.entries.map((e, i) => (i === 0 ? { ...e, from: { type: 'indirect', id: `v${v}` } } : e));
    const body = writeRegistry({ entries });
    const record: VersionRecord = {
      registry: 'bench',
      version: v,
      sha256: sha256HexSync(body),
      parent: null,
      policy: '0'.repeat(64),
      created: '2026-01-01T00:00:00.000Z',
      entries: entries.length,
      source: { kind: 'embedded', policy: { keys: [], threshold: 1 } },
      changes: { added: [], removed: [], changed: [], moved: [] },
    };
    values.set(kvKeys.versionFile('bench', v), body);
    values.set(kvKeys.versionRecord('bench', v), recordText(record));
  }
  values.set(
    kvKeys.head('bench'),
    JSON.stringify({ version: options.versions, sha256: '0'.repeat(64), created: '2026-01-01T00:00:00.000Z' }),
  );
  const bodyChars = values.get(kvKeys.versionFile('bench', 1))?.length ?? 0;

  const store = new KvRegistryStore({
    kv: memoryKv(values),
    names: ['bench'],
    headTtlMs: 60_000,
    seed: () => Promise.reject(new Error('no seeding here')),
  });
  const before = heapAfterGc();
  // One version alone, to weigh it.
  const first = await store.version('bench', 1);
  if (!first) throw new Error('version 1 not loaded');
  void first.bytes.byteLength;
  void store.indexOf(first).find({ type: 'indirect', id: generated.lastId });
  const one = heapAfterGc() - before;
  let peak = 0;
  for (let v = 2; v <= options.versions; v++) {
    const version = await store.version('bench', v);
    if (!version) throw new Error(`version ${v} not loaded`);
    void version.bytes.byteLength;
    void store.indexOf(version).find({ type: 'indirect', id: generated.lastId });
    peak = Math.max(peak, heapAfterGc() - before);
  }
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  // The store weighs the file's bytes and, apart, its index.
  const estimated = first.estimatedBytes + first.bytes.byteLength * INDEX_BYTES_PER_FILE_BYTE + 1024;
  log(
    `  one version of ${options.entries.toLocaleString('en-US')} entries (${mb(bodyChars)} of JSON), served and indexed: ${mb(one)} of heap; estimated ${mb(estimated)} (${(estimated / one).toFixed(2)}x)`,
  );
  log(
    `  after loading ${options.versions} such versions: cache holds ${mb(store.cachedVersionBytes)} (bound ${mb(DEFAULT_VERSION_BYTES)}), heap grew at most ${mb(peak)} (${peak <= DEFAULT_VERSION_BYTES ? 'within' : 'OVER'} the bound; an isolate has 128 MB)`,
  );
}

export async function runWrite(options: WriteOptions, log: Log): Promise<void> {
  log('Write path (CPU-time figures):');
  benchMergeSizes(options, log);
  await benchSignatures(options, log);
  await benchMemory(options, log);
}
