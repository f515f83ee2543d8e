import { describe, expect, it } from 'vitest';
import { generateSecretKey, type SecretKey } from '../../src/crypto/keys.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { followLog, readVersionLeaves, type KeptCheckpoint } from '../../src/log/client.js';
import { LogError } from '../../src/log/errors.js';
import { leafData, type Leaf } from '../../src/log/leaf.js';
import { MerkleTree, leafHash } from '../../src/log/merkle.js';
import { bundlePath, formatBundle, newTiles, tileBytes, tilePath } from '../../src/log/tiles.js';
import { formatVerifierKey, verifierKey } from '../../src/log/vkey.js';

const ORIGIN = 'registry.example.org/registries/global/log';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const HOUR = 3600 * 1000;
const hash = (n: number, salt = ''): string =>
  Array.from(`${salt}${n}`.padEnd(32, '.'), (c) => c.charCodeAt(0).toString(16).padStart(2, '0'))
    .join('')
    .slice(0, 64);

/** A registry's log as the service keeps it: a leaf per version, every tile served, a signed checkpoint. */
class Log {
  readonly tree = new MerkleTree();
  readonly leaves: Uint8Array[] = [];
  readonly files = new Map<string, Uint8Array>();

  constructor(
    readonly key: SecretKey,
    readonly salt = '',
  ) {}

  append(count: number, leaf: (version: number) => Leaf = (v) => this.#leaf(v)): this {
    const old = this.tree.size;
    for (let i = 0; i < count; i++) {
      const data = leafData(leaf(this.tree.size + 1));
      this.leaves.push(data);
      this.tree.append(leafHash(data));
    }
    const { tiles, bundles } = newTiles(old, this.tree.size);
    for (const t of tiles) this.files.set(tilePath(t), tileBytes(this.tree, t));
    for (const b of bundles)
      this.files.set(bundlePath(b), formatBundle(this.leaves.slice(b.index * 256, b.index * 256 + b.width)));
    return this;
  }

  #leaf(version: number): Leaf {
    return { registry: 'global', version, record: hash(version, this.salt), file: hash(-version, this.salt) };
  }

  checkpoint(now = NOW): Promise<string> {
    return signCheckpoint(
      { origin: ORIGIN, size: this.tree.size, root: this.tree.root(), extensions: [] },
      this.key,
      now,
    );
  }

  kept(): KeptCheckpoint {
    return { size: this.tree.size, root: this.tree.root() };
  }

  fetchTile = (path: string): Promise<Uint8Array> => {
    const bytes = this.files.get(path);
    return bytes ? Promise.resolve(bytes) : Promise.reject(new Error(`404 ${path}`));
  };
}

let key: Promise<SecretKey> | undefined;
const logKey = (): Promise<SecretKey> => (key ??= generateSecretKey(ORIGIN));

async function follow(log: Log, kept?: KeptCheckpoint, note?: string, now = NOW) {
  return followLog(note ?? (await log.checkpoint()), {
    key: formatVerifierKey(verifierKey((await logKey()).publicKey)),
    origin: ORIGIN,
    now,
    maxAgeMs: HOUR,
    fetchTile: log.fetchTile,
    ...(kept ? { kept } : {}),
  });
}

async function failure(promise: Promise<unknown>): Promise<LogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LogError)) throw new Error(`expected a LogError, got ${String(error)}`);
  return error;
}

describe('following a log', () => {
  it('takes the first checkpoint it sees and reads every version leaf', async () => {
    const log = new Log(await logKey()).append(300);
    const { checkpoint, reader } = await follow(log);
    expect(checkpoint.size).toBe(300);
    const leaves = await readVersionLeaves(reader, 'global', 1, 300);
    expect(leaves.map((l) => l.version)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(leaves[4]!.record).toBe(hash(5));
  });

  it('takes a larger tree that extends the one it kept', async () => {
    const log = new Log(await logKey()).append(40);
    const kept = log.kept();
    log.append(700);
    const { checkpoint, reader } = await follow(log, kept);
    expect(checkpoint.size).toBe(740);
    expect((await readVersionLeaves(reader, 'global', 41, 740))[0]!.version).toBe(41);
    expect(await readVersionLeaves(reader, 'global', 41, 40)).toEqual([]);
  });

  it('takes the same tree again', async () => {
    const log = new Log(await logKey()).append(5);
    expect((await follow(log, log.kept())).checkpoint.size).toBe(5);
  });

  it('refuses a smaller tree than the one it kept (rollback)', async () => {
    const log = new Log(await logKey()).append(10);
    const old = await log.checkpoint();
    const kept = log.append(1).kept();
    const error = await failure(follow(log, kept, old));
    expect(error.code).toBe('rollback');
  });

  it('refuses a tree that does not extend the one it kept (a fork)', async () => {
    const k = await logKey();
    const shown = new Log(k).append(300);
    const other = new Log(k, 'x').append(300).append(10);
    const error = await failure(follow(other, shown.kept()));
    expect(error.code).toBe('inconsistent');
    expect(error.message).toMatch(
      /^the log forked: its tree of 310 versions has root .* at size 300, but the checkpoint kept/,
    );
  });

  it('refuses another tree of the same size as the one it kept', async () => {
    const k = await logKey();
    const kept = new Log(k).append(8).kept();
    expect((await failure(follow(new Log(k, 'y').append(8), kept))).code).toBe('inconsistent');
  });

  it('refuses a tile changed on the way while checking consistency', async () => {
    const log = new Log(await logKey()).append(100);
    const kept = log.kept();
    log.append(500);
    log.files.get('tile/0/000')![5]! ^= 1;
    expect((await failure(follow(log, kept))).code).toBe('tile-mismatch');
  });

  it('refuses a checkpoint older than it accepts (a stale view)', async () => {
    const log = new Log(await logKey()).append(3);
    expect((await failure(follow(log, undefined, await log.checkpoint(NOW - 2 * HOUR)))).code).toBe('stale');
  });

  it("refuses a leaf that is another version's or another registry's", async () => {
    const k = await logKey();
    const skipped = new Log(k).append(3, (v) => ({
      registry: 'global',
      version: v === 2 ? 3 : v,
      record: hash(v),
      file: hash(v),
    }));
    const error = await failure(follow(skipped).then(({ reader }) => readVersionLeaves(reader, 'global', 1, 3)));
    expect(error.code).toBe('malformed-leaf');
    expect(error.message).toBe("leaf 1 is version 3 of 'global', not version 2 of 'global'");
    const team = new Log(k).append(2, (v) => ({ registry: 'team', version: v, record: hash(v), file: hash(v) }));
    const other = await failure(follow(team).then(({ reader }) => readVersionLeaves(reader, 'global', 1, 2)));
    expect(other.message).toMatch(/of 'team', not version 1 of 'global'/);
  });
});
