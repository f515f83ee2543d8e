import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../src/crypto/base64.js';
import { concatBytes } from '../../src/crypto/bytes.js';
import { formatPublicKey, formatSecretKey, parseSecretKey } from '../../src/crypto/keys.js';
import { formatCheckpoint, openCheckpoint, signCheckpoint } from '../../src/log/checkpoint.js';
import { leafData } from '../../src/log/leaf.js';
import { MerkleTree, leafHash } from '../../src/log/merkle.js';
import { COSIGNATURE_V1, formatKeyId, keyId } from '../../src/log/note.js';
import { bundlePath, formatBundle, parseTilePath, tileBytes, tilePath } from '../../src/log/tiles.js';
import { formatVerifierKey, parseVerifierKey, verifierKey } from '../../src/log/vkey.js';
import { RFC8032_VECTORS, hex } from '../crypto/vectors.js';
import { toHex } from './vectors.js';

const NAME = 'registry.example.org';
const ORIGIN = 'registry.example.org/registries/global/log';

/** The values printed in the worked example of docs/log.md, in the order they appear. */
function workedExample() {
  const doc = readFileSync(new URL('../../docs/log.md', import.meta.url), 'utf8');
  const section = doc.split('## Worked example')[1]?.split(/\n## /)[0] ?? '';
  const blocks = [...section.matchAll(/```\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');
  expect(blocks).toHaveLength(5);
  const [keys = '', versions = '', leaf = '', hashes = '', note = ''] = blocks;
  const field = (text: string, name: string): string => {
    const match = new RegExp(`^${name} +(\\S+)$`, 'm').exec(text);
    expect(match, `${name} is printed`).not.toBeNull();
    return match?.[1] ?? '';
  };
  const rows = [...versions.matchAll(/^version (\d+) +record ([0-9a-f]{64}) +file ([0-9a-f]{64})$/gm)];
  expect(rows).toHaveLength(3);
  const prose = (pattern: RegExp): string => {
    const match = pattern.exec(section);
    expect(match, String(pattern)).not.toBeNull();
    return match?.[1] ?? '';
  };
  return {
    secret: field(keys, 'secret key'),
    public: field(keys, 'public key'),
    vkey: field(keys, 'vkey'),
    cosignerId: field(keys, 'cosigner id'),
    versions: rows.map((r) => ({ version: Number(r[1]), record: r[2] ?? '', file: r[3] ?? '' })),
    leaf: `${leaf}\n`,
    leafLength: Number(prose(/leaf is these (\d+) bytes/)),
    leafHashes: [0, 1, 2].map((i) => field(hashes, `leaf ${i}`)),
    roots: [1, 2, 3].map((n) => field(hashes, `root ${n}`)),
    tile: prose(/serves `(tile\/0\/[^`]+)` \(the three leaf hashes, \d+ bytes\)/),
    tileLength: Number(prose(/the three leaf hashes, (\d+) bytes/)),
    bundle: prose(/and `(tile\/entries\/[^`]+)`/),
    bundleLength: Number(prose(/the three leaves, (\d+) bytes/)),
    time: Number(prose(/POSIX time\n?\s*(\d+)\)/)),
    note: `${note}\n`,
    logKeyId: prose(/first signature starts with the key id `([0-9a-f]{8})`/),
    timeHex: prose(/then the time `([0-9a-f]{16})`/),
  };
}

describe('the worked example of docs/log.md', () => {
  const example = workedExample();
  const key = (): ReturnType<typeof parseSecretKey> => {
    const v = RFC8032_VECTORS[0]!;
    return parseSecretKey(`${NAME}:${encodeBase64(concatBytes(hex(v.seed), hex(v.publicKey)))}`);
  };

  it('prints the key, its vkey and both key ids as the code makes them', async () => {
    const k = await key();
    expect(example.secret).toBe(formatSecretKey(k));
    expect(example.public).toBe(formatPublicKey(k.publicKey));
    expect(example.vkey).toBe(formatVerifierKey(verifierKey(k.publicKey)));
    expect(formatKeyId(parseVerifierKey(example.vkey).keyId)).toBe(example.logKeyId);
    expect(example.cosignerId).toBe(formatKeyId(keyId(NAME, COSIGNATURE_V1, k.publicKey.bytes)));
  });

  it('prints the leaf bytes, leaf hashes and roots the code makes', () => {
    const leaves = example.versions.map((v) => leafData({ registry: 'global', ...v }));
    expect(new TextDecoder().decode(leaves[0])).toBe(example.leaf);
    expect(leaves[0]).toHaveLength(example.leafLength);
    const tree = MerkleTree.fromLeafHashes(leaves.map(leafHash));
    expect(leaves.map((l) => toHex(leafHash(l)))).toEqual(example.leafHashes);
    expect([1, 2, 3].map((n) => encodeBase64(tree.root(n)))).toEqual(example.roots);
    const tile = parseTilePath(example.tile);
    expect(tile.kind === 'tile' && tilePath(tile.tile)).toBe(example.tile);
    if (tile.kind !== 'tile') return;
    expect(toHex(tileBytes(tree, tile.tile))).toBe(example.leafHashes.join(''));
    expect(tileBytes(tree, tile.tile)).toHaveLength(example.tileLength);
    expect(bundlePath({ index: 0, width: 3 })).toBe(example.bundle);
    expect(formatBundle(leaves)).toHaveLength(example.bundleLength);
  });

  it('prints the note signCheckpoint makes at that time, which opens with the vkey', async () => {
    const k = await key();
    const root = decodeBase64(example.roots[2]!);
    const checkpoint = { origin: ORIGIN, size: 3, root, extensions: [] };
    expect(await signCheckpoint(checkpoint, k, example.time * 1000)).toBe(example.note);
    const opened = await openCheckpoint(example.note, {
      key: example.vkey,
      origin: ORIGIN,
      now: example.time * 1000,
      maxAgeMs: 60_000,
    });
    expect(opened.timestamp).toBe(example.time);
    expect(example.timeHex).toBe(example.time.toString(16).padStart(16, '0'));
  });

  it("has signatures node:crypto's Ed25519 accepts, over the text and the cosigned message", async () => {
    const k = await key();
    const spki = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(k.publicKey.bytes)]),
      format: 'der',
      type: 'spki',
    });
    const body = formatCheckpoint({ origin: ORIGIN, size: 3, root: decodeBase64(example.roots[2]!), extensions: [] });
    const [first = '', second = ''] = example.note
      .slice(body.length + 1)
      .trimEnd()
      .split('\n')
      .map((line) => line.split(' ')[2] ?? '');
    const log = Buffer.from(first, 'base64');
    const cosignature = Buffer.from(second, 'base64');
    expect(log.subarray(0, 4).toString('hex')).toBe(example.logKeyId);
    expect(nodeVerify(null, Buffer.from(body), spki, log.subarray(4))).toBe(true);
    expect(cosignature.subarray(0, 4).toString('hex')).toBe(example.cosignerId);
    expect(cosignature.subarray(4, 12).toString('hex')).toBe(example.timeHex);
    const message = Buffer.from(`cosignature/v1\ntime ${example.time}\n${body}`);
    expect(nodeVerify(null, message, spki, cosignature.subarray(12))).toBe(true);
  });
});
