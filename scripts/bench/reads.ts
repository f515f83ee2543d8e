import { sha256HexSync } from '../../src/crypto/sha256.js';
import { createApp } from '../../src/http/app.js';
import { readRegistry, readRegistryAsNix, writeRegistry } from '../../src/nix/registry.js';
import { recordText, type VersionRecord } from '../../src/protocol/record.js';
import { kvKeys } from '../../src/store/layout.js';
import { deriveLookupForm } from '../../src/store/lookup-form.js';
import { KvRegistryStore, type KvReader } from '../../src/store/store.js';
import { generateRegistry, type GeneratedRegistry } from './generate.js';
import { formatRatio, median, table } from './stats.js';

type Log = (line: string) => void;

export interface ReadsOptions {
  readonly sizes: readonly number[];
  /** Cold requests per cell: each on an isolate of its own (a new store and app). */
  readonly coldRuns: number;
  /** Warm requests per sample, and samples per cell. */
  readonly warmRequests: number;
  readonly warmSamples: number;
}

/** The Free plan's CPU limit per request. */
const FREE_PLAN_MS = 10;
const NAME = 'bench';
const encoder = new TextEncoder();

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** KV as the read side sees it, in memory: values kept as text and as bytes, so neither is converted per read. */
function memoryKv(values: ReadonlyMap<string, string>): KvReader {
  const bytes = new Map<string, Uint8Array>();
  for (const [key, value] of values) bytes.set(key, encoder.encode(value));
  const get = (key: string, type: 'text' | 'arrayBuffer') => {
    const value = values.get(key);
    if (value === undefined) return Promise.resolve(null);
    // KV hands each read its own copy.
    return Promise.resolve(type === 'text' ? value : (bytes.get(key) as Uint8Array).slice().buffer);
  };
  return { get } as KvReader;
}

interface Published {
  /** The ids the cells look up; not the generated registry, whose objects would swell the heap every collection walks. */
  readonly generated: Pick<GeneratedRegistry, 'firstId' | 'lastId' | 'chainId'>;
  readonly kv: KvReader;
  readonly fileBytes: number;
  readonly shards: number;
}

/** Version 1 of a registry of `size` entries as the writer publishes it: file, record, lookup form, head. */
function published(size: number, withForm: boolean): Published {
  const generated = generateRegistry(size);
  const body = writeRegistry(readRegistry(JSON.stringify(generated.file)));
  const sha256 = sha256HexSync(body);
  const created = '2026-01-01T00:00:00.000Z';
  const record: VersionRecord = {
    registry: NAME,
    version: 1,
    sha256,
    parent: null,
    policy: '0'.repeat(64),
    created,
    entries: size,
    source: { kind: 'embedded', policy: { keys: [], threshold: 1 } },
    changes: { added: [], removed: [], changed: [], moved: [] },
  };
  const values = new Map<string, string>([
    [kvKeys.versionFile(NAME, 1), body],
    [kvKeys.versionRecord(NAME, 1), recordText(record)],
    [kvKeys.head(NAME), JSON.stringify({ version: 1, sha256, created })],
  ]);
  const form = deriveLookupForm(NAME, 1, sha256, readRegistryAsNix(body).registry);
  if (withForm) {
    form.shards.forEach((text, i) => values.set(kvKeys.lookupShard(NAME, 1, i), text));
    form.blocks.forEach((text, i) => values.set(kvKeys.lookupBlock(NAME, 1, i), text));
    values.set(kvKeys.lookupManifest(NAME, 1), form.manifest);
  }
  const { firstId, lastId, chainId } = generated;
  return {
    generated: { firstId, lastId, chainId },
    kv: memoryKv(values),
    fileBytes: encoder.encode(body).byteLength,
    shards: form.shards.length,
  };
}

/** The Worker's app over `kv`, as a fresh isolate has it: nothing in memory. */
function isolate(kv: KvReader) {
  const store = new KvRegistryStore({
    kv,
    names: [NAME],
    headTtlMs: 30_000,
    seed: () => Promise.reject(new Error('the benchmark publishes version 1 itself')),
  });
  const app = createApp(() => store);
  const env = {} as Env;
  return async (path: string): Promise<number> => {
    const res = await app.fetch(new Request(`http://127.0.0.1${path}`), env);
    // A ref Nix cannot resolve is answered too (404, 422); only a failure is not.
    if (res.status >= 500) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    // The body is made; what the runtime spends sending it is not the Worker's code.
    await res.body?.cancel();
    return res.status;
  };
}

/**
 * CPU of one request on a fresh isolate, the median of `runs`, after `warmups` untimed ones:
 * the code is hot in an isolate that has served for a while; only its data is cold.
 */
async function cold(kv: KvReader, path: string, runs: number, warmups = 50): Promise<number> {
  const samples: number[] = [];
  // The garbage of earlier cells collected first, then the warm-up: a forced collection
  // drops compiled code too, which a serving isolate never sees.
  await collectGarbage();
  for (let i = 0; i < warmups; i++) await isolate(kv)(path);
  for (let i = 0; i < runs; i++) {
    const fetch = isolate(kv);
    const start = cpuMs();
    await fetch(path);
    samples.push(cpuMs() - start);
  }
  slowest.set(path, Math.max(...samples));
  return median(samples);
}

/** The slowest cold sample of each path, for the 10 ms table. */
const slowest = new Map<string, number>();

/** CPU per request once the isolate has served `paths` once, the median over samples. */
async function warm(kv: KvReader, paths: readonly string[], options: ReadsOptions): Promise<number> {
  const fetch = isolate(kv);
  for (const path of paths) await fetch(path);
  const samples: number[] = [];
  for (let s = 0; s < options.warmSamples; s++) {
    const start = cpuMs();
    for (let i = 0; i < options.warmRequests; i++) await fetch(paths[i % paths.length] as string);
    samples.push((cpuMs() - start) / options.warmRequests);
  }
  return median(samples);
}

/**
 * Collects the garbage of earlier samples, and waits for V8's helper threads to finish
 * sweeping: `process.cpuUsage` counts every thread of the process, and that work would
 * otherwise land in the next sample.
 */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench does)');
  gc();
  await new Promise((resolve) => setTimeout(resolve, 30));
}

const ms = (value: number) => `${value.toFixed(3)} ms`;
const resolvePath = (id: string) => `/resolve?ref=${id}&registry=${NAME}`;

export async function runReads(options: ReadsOptions, log: Log): Promise<void> {
  log("Reads in process (CPU per request of the Worker's own code, KV answered from memory):");
  const rows: string[][] = [];
  const coldResolve = new Map<number, number>();
  const warmResolve = new Map<number, number>();
  const warmFile = new Map<number, { ms: number; floor: number }>();
  let healthz = 0;
  for (const size of options.sizes) {
    const withForm = published(size, true);
    const fileOnly = published(size, false);
    const { lastId, firstId, chainId } = withForm.generated;
    const refs = [firstId, lastId, chainId, `${lastId}/some-branch`, 'no-such-flake'];
    // Many different refs, so that a warm request computes its answer (the answer cache misses).
    const many = Array.from({ length: 200 }, (_, i) => resolvePath(`flake-${((i * 7919) % size).toString(36)}`));
    const c = await cold(withForm.kv, resolvePath(lastId), options.coldRuns);
    // Reading the whole file takes up to a second at 100,000 entries: fewer runs there.
    const cFile = await cold(fileOnly.kv, resolvePath(lastId), size >= 100_000 ? 3 : 7, size >= 10_000 ? 1 : 10);
    const w = await warm(withForm.kv, refs.map(resolvePath), options);
    const wMany = await warm(withForm.kv, many, { ...options, warmRequests: Math.min(options.warmRequests, 200) });
    const fileCold = await cold(withForm.kv, `/registries/${NAME}/versions/1/flake-registry.json`, options.coldRuns);
    const fileWarm = await warm(withForm.kv, [`/registries/${NAME}/flake-registry.json`], options);
    healthz = await warm(withForm.kv, ['/healthz'], options);
    warmFile.set(size, { ms: fileWarm, floor: bareResponse(withForm.fileBytes, options) });
    coldResolve.set(size, c);
    warmResolve.set(size, w);
    rows.push([
      size.toLocaleString('en-US'),
      `${(withForm.fileBytes / 1024 / 1024).toFixed(1)} MB, ${withForm.shards} shards`,
      ms(c),
      ms(cFile),
      ms(w),
      ms(wMany),
      ms(fileCold),
      ms(fileWarm),
    ]);
  }
  log(
    table(
      [
        'entries',
        'file, lookup form',
        'cold /resolve',
        'cold, file only',
        'warm /resolve',
        'warm, 200 refs',
        'cold file',
        'warm file',
      ],
      rows,
    ),
  );
  const small = Math.min(...options.sizes);
  const large = Math.max(...options.sizes);
  log(
    `  cold /resolve at ${large.toLocaleString('en-US')} entries against ${small.toLocaleString('en-US')}: ` +
      `${formatRatio((coldResolve.get(large) ?? NaN) / (coldResolve.get(small) ?? NaN))} (target: within 2x)`,
  );
  log(
    `  warm /resolve at ${large.toLocaleString('en-US')} entries against /healthz (${ms(healthz)}): ` +
      `${formatRatio((warmResolve.get(large) ?? NaN) / healthz)}`,
  );
  const file = warmFile.get(large);
  if (file) {
    log(
      `  warm file at ${large.toLocaleString('en-US')} entries against a bare Response of as many bytes (${ms(file.floor)}): ` +
        `${formatRatio(file.ms / file.floor)} (the runtime copies a body it is given; the Worker adds the rest)`,
    );
  }
  await perRequestAt1000(options, log);
}

/** What the runtime alone spends on a response of `bytes` bytes held in memory: the floor of a warm file. */
function bareResponse(bytes: number, options: ReadsOptions): number {
  const body = new Uint8Array(bytes);
  const samples: number[] = [];
  for (let s = 0; s < options.warmSamples; s++) {
    const runs = Math.max(1, Math.min(options.warmRequests, Math.floor(200_000_000 / Math.max(bytes, 1))));
    const start = cpuMs();
    for (let i = 0; i < runs; i++) void new Response(body).body?.cancel();
    samples.push((cpuMs() - start) / runs);
  }
  return median(samples);
}

/** Every read route on a 1,000-entry registry, cold and warm, against the Free plan's 10 ms. */
async function perRequestAt1000(options: ReadsOptions, log: Log): Promise<void> {
  const { kv, generated } = published(1_000, true);
  const paths = [
    `/registries/${NAME}/flake-registry.json`,
    `/registries/${NAME}/versions/1/flake-registry.json`,
    resolvePath(generated.lastId),
    resolvePath('no-such-flake'),
    `/registries/${NAME}/versions/1`,
    `/registries/${NAME}/versions`,
    `/registries`,
    `/r/${NAME}`,
    `/r/${NAME}?page=5`,
    `/r/${NAME}/history`,
    `/r/${NAME}/resolve?ref=${generated.lastId}`,
  ];
  const rows: string[][] = [];
  let worst = 0;
  for (const path of paths) {
    const c = await cold(kv, path, options.coldRuns);
    const top = slowest.get(path) ?? NaN;
    const w = await warm(kv, [path], options);
    worst = Math.max(worst, c, w);
    rows.push([path, ms(c), formatRatio(c / FREE_PLAN_MS), ms(top), ms(w), formatRatio(w / FREE_PLAN_MS)]);
  }
  log("  every read route on a 1,000-entry registry, CPU per request against the Free plan's 10 ms:");
  log(table(['route', 'cold', 'of 10 ms', 'slowest cold', 'warm', 'of 10 ms'], rows));
  log(`  the most any median took: ${ms(worst)} (${formatRatio(worst / FREE_PLAN_MS)} of 10 ms)`);
}
