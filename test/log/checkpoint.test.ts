import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../src/crypto/base64.js';
import { generateSecretKey, sign, type SecretKey } from '../../src/crypto/keys.js';
import {
  formatCheckpoint,
  MAX_FUTURE_MS,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  type Checkpoint,
} from '../../src/log/checkpoint.js';
import { cosignatureTimestamp, cosignedMessage } from '../../src/log/cosignature.js';
import { LogError } from '../../src/log/errors.js';
import { EMPTY_ROOT } from '../../src/log/merkle.js';
import { keyId, signNote, signatureLine } from '../../src/log/note.js';
import { formatVerifierKey, verifierKey } from '../../src/log/vkey.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return error instanceof LogError ? error.code : `not a LogError: ${String(error)}`;
  }
  return undefined;
};

async function failure(promise: Promise<unknown>): Promise<LogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof LogError)) throw new Error(`expected a LogError, got ${String(error)}`);
  return error;
}

// The example of c2sp.org/tlog-checkpoint.
const SPEC_BODY = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

describe('checkpoint bodies', () => {
  it("reads the spec's example and writes it back byte for byte", () => {
    const checkpoint = parseCheckpoint(SPEC_BODY);
    expect(checkpoint.origin).toBe('example.com/behind-the-sofa');
    expect(checkpoint.size).toBe(20852163);
    expect(encodeBase64(checkpoint.root)).toBe('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    expect(checkpoint.extensions).toEqual([]);
    expect(formatCheckpoint(checkpoint)).toBe(SPEC_BODY);
  });

  it('round-trips extension lines and the empty tree', () => {
    const withExtensions = `${SPEC_BODY}one extension\n— another\n`;
    expect(parseCheckpoint(withExtensions).extensions).toEqual(['one extension', '— another']);
    expect(formatCheckpoint(parseCheckpoint(withExtensions))).toBe(withExtensions);
    const empty = `log\n0\n${encodeBase64(EMPTY_ROOT)}\n`;
    expect(formatCheckpoint(parseCheckpoint(empty))).toBe(empty);
  });

  const root = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';
  it.each([
    ['no final newline', SPEC_BODY.slice(0, -1), /does not end in a newline/],
    ['two lines', 'example.com/log\n5\n', /it has 2 lines, expected at least 3/],
    ['an empty origin', `\n5\n${root}\n`, /origin line is empty/],
    ['a size with a leading zero', `o\n05\n${root}\n`, /not decimal digits without leading zeros/],
    ['a negative size', `o\n-5\n${root}\n`, /not decimal digits/],
    ['a size with a plus sign', `o\n+5\n${root}\n`, /not decimal digits/],
    ['a size in exponent form', `o\n1e3\n${root}\n`, /not decimal digits/],
    ['a size with a space', `o\n 5\n${root}\n`, /not decimal digits/],
    ['a size past 2^53', `o\n9007199254740993\n${root}\n`, /larger than this client can count/],
    ['a root that is not base64', `o\n5\n${root.replace('C', '!')}\n`, /invalid base64/],
    ['a root of 31 bytes', `o\n5\n${encodeBase64(new Uint8Array(31))}\n`, /31 bytes, not 32/],
    ['an unpadded root', `o\n5\n${root.slice(0, -1)}\n`, /not padded standard base64/],
    ['a blank extension line', `${SPEC_BODY}\n`, /extension line 1 is empty/],
    ['a blank line among extensions', `${SPEC_BODY}a\n\nb\n`, /extension line 2 is empty/],
    ['size 0 with another root', `o\n0\n${root}\n`, /size is 0 but its root is not the empty tree/],
    ['a control character', `o\x01\n5\n${root}\n`, /control character/],
  ])('refuses a checkpoint with %s', (_, text, message) => {
    expect(code(() => parseCheckpoint(text))).toBe('malformed-checkpoint');
    expect(() => parseCheckpoint(text)).toThrow(message);
  });

  it('refuses to write what it would refuse to read', () => {
    const good: Checkpoint = { origin: 'o', size: 1, root: new Uint8Array(32), extensions: [] };
    expect(code(() => formatCheckpoint({ ...good, origin: 'a\nb' }))).toBe('malformed-checkpoint');
    expect(code(() => formatCheckpoint({ ...good, origin: '' }))).toBe('malformed-checkpoint');
    expect(code(() => formatCheckpoint({ ...good, size: -1 }))).toBe('malformed-checkpoint');
    expect(code(() => formatCheckpoint({ ...good, root: new Uint8Array(33) }))).toBe('malformed-checkpoint');
    expect(code(() => formatCheckpoint({ ...good, extensions: [''] }))).toBe('malformed-checkpoint');
  });
});

const ORIGIN = 'registry.example.org/registries/global/log';
const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const HOUR = 3600 * 1000;

let key: Promise<SecretKey> | undefined;
const logKey = (): Promise<SecretKey> => (key ??= generateSecretKey(ORIGIN));
const checkpoint = (size: number, fill = size): Checkpoint => ({
  origin: ORIGIN,
  size,
  root: new Uint8Array(32).fill(fill),
  extensions: [],
});

/** tlog-cosignature read again with node:crypto: 0x04 key id, then u64 time, then Ed25519 over the message. */
function independentCosignatureTime(note: string, name: string, publicKey: Uint8Array): number | undefined {
  const split = note.lastIndexOf('\n\n');
  const body = note.slice(0, split + 1);
  const id = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([0x04]), Buffer.from(publicKey)]))
    .digest()
    .subarray(0, 4);
  const spki = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]),
    format: 'der',
    type: 'spki',
  });
  for (const line of note.slice(split + 2).split('\n')) {
    const bytes = Buffer.from(line.slice(`\u2014 ${name} `.length), 'base64');
    if (!line.startsWith(`\u2014 ${name} `) || !bytes.subarray(0, 4).equals(id) || bytes.length !== 76) continue;
    const time = bytes.readBigUInt64BE(4);
    const message = Buffer.from(`cosignature/v1\ntime ${time}\n${body}`, 'utf8');
    if (nodeVerify(null, message, spki, bytes.subarray(12))) return Number(time);
  }
  return undefined;
}

describe('signed and cosigned checkpoints', () => {
  const options = async (now = NOW, maxAgeMs = HOUR) => ({
    key: formatVerifierKey(verifierKey((await logKey()).publicKey)),
    origin: ORIGIN,
    now,
    maxAgeMs,
  });

  it('signs with the log key and cosigns with it at the given time, as node:crypto reads the spec', async () => {
    const k = await logKey();
    const note = await signCheckpoint(checkpoint(5), k, NOW + 999);
    expect(note.startsWith(`${formatCheckpoint(checkpoint(5))}\n`)).toBe(true);
    expect(note.split('\n\u2014 ')).toHaveLength(3);
    expect(independentCosignatureTime(note, ORIGIN, k.publicKey.bytes)).toBe(NOW / 1000);
    const opened = await openCheckpoint(note, await options());
    expect(opened.timestamp).toBe(NOW / 1000);
    expect(opened.checkpoint).toEqual(checkpoint(5));
  });

  it('keeps the log signature and renews only the cosignature when it re-cosigns later', async () => {
    const k = await logKey();
    const [first, later] = await Promise.all([
      signCheckpoint(checkpoint(5), k, NOW),
      signCheckpoint(checkpoint(5), k, NOW + HOUR),
    ]);
    const lines = (note: string): string[] => note.split('\n').filter((l) => l.startsWith('\u2014'));
    expect(lines(later)[0]).toBe(lines(first)[0]);
    expect(lines(later)[1]).not.toBe(lines(first)[1]);
    expect((await openCheckpoint(later, await options(NOW + HOUR))).timestamp).toBe(NOW / 1000 + 3600);
  });

  it('exposes the timestamp carried in the cosignature bytes', async () => {
    const k = await logKey();
    const note = await signCheckpoint(checkpoint(1), k, NOW);
    const line = note.trimEnd().split('\n').at(-1)!;
    const bytes = decodeBase64(line.split(' ')[2]!);
    expect(cosignatureTimestamp(bytes.subarray(4))).toBe(NOW / 1000);
    expect(code(() => cosignatureTimestamp(bytes.subarray(5)))).toBe('bad-signature');
  });

  it('refuses a cosignature taken from another checkpoint', async () => {
    const k = await logKey();
    const [a, b] = await Promise.all([signCheckpoint(checkpoint(5), k, NOW), signCheckpoint(checkpoint(6), k, NOW)]);
    const cosignatureOfA = a.trimEnd().split('\n').at(-1)!;
    const bWithA = `${b.trimEnd().split('\n').slice(0, -1).join('\n')}\n${cosignatureOfA}\n`;
    expect((await failure(openCheckpoint(bWithA, await options()))).code).toBe('bad-signature');
  });

  it('refuses a checkpoint cosigned longer ago than the client accepts, and takes one just within', async () => {
    const note = await signCheckpoint(checkpoint(5), await logKey(), NOW);
    expect((await openCheckpoint(note, await options(NOW + HOUR))).timestamp).toBe(NOW / 1000);
    const error = await failure(openCheckpoint(note, await options(NOW + HOUR + 1000)));
    expect(error.code).toBe('stale');
    expect(error.message).toBe(
      'the checkpoint was cosigned at 2026-03-01T12:00:00Z, 3601 s ago, longer ago than the 3600 s accepted',
    );
  });

  it('refuses a cosignature dated further ahead than clocks drift', async () => {
    const k = await logKey();
    const ahead = await signCheckpoint(checkpoint(5), k, NOW + MAX_FUTURE_MS + 1000);
    expect((await failure(openCheckpoint(ahead, await options()))).code).toBe('future');
    const slightly = await signCheckpoint(checkpoint(5), k, NOW + MAX_FUTURE_MS);
    expect((await openCheckpoint(slightly, await options())).timestamp).toBe((NOW + MAX_FUTURE_MS) / 1000);
  });

  it('refuses an age limit that would accept anything', async () => {
    const note = await signCheckpoint(checkpoint(5), await logKey(), NOW);
    await expect(openCheckpoint(note, await options(NOW, Number.NaN))).rejects.toThrow(RangeError);
    await expect(openCheckpoint(note, await options(NOW, -1))).rejects.toThrow(RangeError);
    await expect(openCheckpoint(note, await options(Number.NaN))).rejects.toThrow(RangeError);
  });

  it("refuses another log's checkpoint", async () => {
    const note = await signCheckpoint(
      { ...checkpoint(5), origin: 'registry.example.org/registries/team/log' },
      await logKey(),
      NOW,
    );
    const error = await failure(openCheckpoint(note, await options()));
    expect(error.code).toBe('wrong-origin');
    expect(error.message).toContain('"registry.example.org/registries/team/log"');
  });

  it('refuses a checkpoint the log signed but did not cosign, or cosigned but did not sign', async () => {
    const k = await logKey();
    const body = formatCheckpoint(checkpoint(5));
    const signedOnly = await signNote(body, k);
    const error = await failure(openCheckpoint(signedOnly, await options()));
    expect(error.code).toBe('missing-signature');
    expect(error.message).toMatch(/not cosigned \(timestamped\)/);
    const full = await signCheckpoint(checkpoint(5), k, NOW);
    const lines = full.split('\n');
    const cosignedOnly = [...lines.slice(0, 4), ...lines.slice(5)].join('\n');
    expect((await failure(openCheckpoint(cosignedOnly, await options()))).message).toMatch(/not signed by the log key/);
  });

  it('refuses a checkpoint signed by another key', async () => {
    const other = await generateSecretKey(ORIGIN);
    const note = await signCheckpoint(checkpoint(5), other, NOW);
    expect((await failure(openCheckpoint(note, await options()))).code).toBe('unknown-key');
  });

  it('refuses a cosigner vkey (type 0x04) as the pinned log key', async () => {
    const k = await logKey();
    const note = await signCheckpoint(checkpoint(5), k, NOW);
    const cosignerKey = formatVerifierKey(verifierKey(k.publicKey, 0x04));
    const error = await failure(openCheckpoint(note, { ...(await options()), key: cosignerKey }));
    expect(error.code).toBe('malformed-key');
  });

  it('refuses a cosignature whose timestamp is past 2^63 - 1, though its signature is the key’s', async () => {
    const k = await logKey();
    const body = formatCheckpoint(checkpoint(5));
    const time = 2n ** 63n;
    const signature = await sign(k, cosignedMessage(new TextEncoder().encode(body), time));
    const bytes = new Uint8Array(72);
    new DataView(bytes.buffer).setBigUint64(0, time);
    bytes.set(signature.bytes, 8);
    const logLine = (await signNote(body, k)).slice(body.length + 1);
    const note = `${body}\n${logLine}${signatureLine(ORIGIN, keyId(ORIGIN, 0x04, k.publicKey.bytes), bytes)}`;
    expect((await failure(openCheckpoint(note, await options()))).code).toBe('bad-signature');
  });

  it('signs the message tlog-cosignature defines: header, time line, then the checkpoint', () => {
    const message = cosignedMessage(new TextEncoder().encode(SPEC_BODY), 1679315147);
    expect(new TextDecoder().decode(message)).toBe(`cosignature/v1\ntime 1679315147\n${SPEC_BODY}`);
  });
});
