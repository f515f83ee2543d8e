import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey, parseSecretKey } from '../../../src/crypto/keys.js';
import { signCheckpoint } from '../../../src/log/checkpoint.js';
import { logOrigin } from '../../../src/log/origin.js';
import { COSIGNATURE_V1 } from '../../../src/log/note.js';
import { formatVerifierKey, verifierKey } from '../../../src/log/vkey.js';
import { NOW, TEST_SECRET, cli, tempDir } from './helpers.js';

const { dir, remove } = tempDir();
afterAll(remove);
const run = (...argv: string[]) => cli(['sync', ...argv], { cwd: dir, env: { HOME: dir } });
const base = ['--registry', 'global', '--to', 'out/global.json'];

describe('sync: what it refuses before asking any server', () => {
  it('names each bad argument, as a usage error, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--to', 'x.json'], /--registry/],
      [['--registry', 'global'], /--to/],
      [['--registry', 'Global!', '--to', 'x.json'], /--registry 'Global!' is not a registry name/],
      [[...base, '--trust', 'ABC'], /--trust takes the SHA-256 of version 1's record, 64 hex digits/],
      [[...base, '--trust', 'g'.repeat(64)], /--trust takes/],
      [[...base, '--log-key', 'nonsense'], /^flake-registry: --log-key: /],
      [[...base, '--max-age', '0s'], /--max-age: '0s' is no time at all: give a whole number of seconds \(s\)/],
      [[...base, '--max-age', '400d'], /--max-age: '400d' is longer than 365d/],
      [[...base, '--max-age', '5y'], /--max-age: '5y' is not a duration/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('needs a state directory: XDG_STATE_HOME, HOME or --state', async () => {
    const r = await cli(['sync', ...base], { cwd: dir, env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('neither XDG_STATE_HOME nor HOME is set: give --state DIR');
  });

  it('refuses a state file that is not its own, and an unreachable server is an ordinary failure', async () => {
    const state = join(dir, 'state');
    mkdirSync(state);
    writeFileSync(join(state, 'global.json'), '{"format": 1, "registry": "other"}');
    const bad = await run(...base, '--state', state);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/global\.json is not a sync state \(it is registry 'other's\); move it away/);
    const none = await run(...base, '--state', join(dir, 'fresh'));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:8787/);
    expect(none.stderr).not.toContain('SECURITY');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

const home = { HOME: join(dir, 'home') };
const exact = (...argv: string[]) => cli(['sync', ...argv], { cwd: dir, env: home });
const file = ['--registry', 'global', '--to', 'global.json'];

describe('sync: its messages, word for word', () => {
  it.each([
    [['--to', 'f.json'], 'missing --registry'],
    [['--registry', 'global'], 'missing --to'],
    [['--registry', '../etc', '--to', 'f.json'], "--registry '../etc' is not a registry name"],
    [[...file, '--trust', 'ABC'], "--trust takes the SHA-256 of version 1's record, 64 hex digits, got 'abc'"],
    [
      [...file, '--log-key', 'example.org+00000000'],
      "--log-key: not a verifier key (NAME+KEYID+BASE64): it does not have three parts separated by '+'",
    ],
    [
      [...file, '--max-age', '1w'],
      "--max-age: '1w' is not a duration: give a whole number of seconds (s), minutes (m), hours (h), days (d) from 1s to 365d, like 90s, 30m, 12h, 7d",
    ],
    [
      [...file, '--max-age', '400d'],
      "--max-age: '400d' is longer than 365d, a view older than a year proves nothing recent",
    ],
    [
      [...file, '--max-age', '0s'],
      "--max-age: '0s' is no time at all: give a whole number of seconds (s), minutes (m), hours (h), days (d) from 1s to 365d, like 90s, 30m, 12h, 7d",
    ],
    [[...file, 'extra'], "unexpected argument 'extra'"],
  ])('%j is a usage error naming what it takes', async (argv, line) => {
    const r = await exact(...argv);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `flake-registry: ${line} (see flake-registry sync --help)\n` });
  });

  it('an unreachable server is an ordinary failure, and --json says so', async () => {
    const r = await exact(...file, '--url', 'http://127.0.0.1:9', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { error: { message: string } };
    expect(out).toEqual({
      error: { kind: 'unreachable', code: 'unreachable', message: out.error.message, evidence: [] },
    });
    expect(out.error.message).toMatch(/^cannot reach the service at http:\/\/127\.0\.0\.1:9: connection refused/);
    expect(r.stderr).toMatch(/^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:9: /);
  });

  it('refuses a state file it did not write, before asking the server anything', async () => {
    const state = join(dir, 'state-of-nothing');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'global.json'), '{"format": 1, "registry": "global"}\n');
    const r = await exact(...file, '--state', state);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `flake-registry: ${join(state, 'global.json')} is not a sync state (no anchor); move it away to start again from a new anchor (--trust pins the old one)\n`,
    );
  });

  it("a witness's cosigner key as --log-key is a usage error, for sync and verify, before any request", async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const key = verifierKey(parsePublicKey(`witness.example:${raw.toString('base64')}`), COSIGNATURE_V1);
    const vkey = formatVerifierKey(key);
    const id = vkey.split('+')[1] ?? '';
    for (const command of ['sync', 'verify']) {
      const argv = command === 'sync' ? [...file, '--log-key', vkey] : ['--registry', 'global', '--log-key', vkey];
      const r = await cli([command, ...argv, '--url', 'http://127.0.0.1:9'], { cwd: dir, env: home });
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: `flake-registry: --log-key: witness.example+${id} is a cosigner's key (type 0x04); give the log's own key (type 0x01), as \`flake-registry pubkey --vkey\` prints it or /registries/NAME/log/key serves it (see flake-registry ${command} --help)\n`,
      });
    }
  });

  describe('a state that is not what it wrote, named with its file, before asking the server anything', () => {
    const publicKeyText = (name: string): string => {
      const { publicKey } = generateKeyPairSync('ed25519');
      return `${name}:${publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64')}`;
    };
    const logKey = (): string => formatVerifierKey(verifierKey(parsePublicKey(publicKeyText('registry.example'))));
    // A checkpoint really signed by the log key the state pins, cosigned a minute before the test's clock.
    const TIME = Math.floor(NOW.getTime() / 1000) - 60;
    let note = '';
    let signer = '';
    beforeAll(async () => {
      const key = await parseSecretKey(TEST_SECRET);
      signer = formatVerifierKey(verifierKey(key.publicKey));
      const root = new Uint8Array(32);
      note = await signCheckpoint(
        { origin: logOrigin(key.name, 'global'), size: 2, root, extensions: [] },
        key,
        TIME * 1000,
      );
    });
    const good = () => ({
      format: 1,
      registry: 'global',
      anchor: 'a'.repeat(64),
      logKey: signer,
      version: 2,
      record: 'b'.repeat(64),
      file: 'c'.repeat(64),
      policy: { keys: [publicKeyText('alice')], threshold: 1 },
      policySince: 1,
      checkpoint: { size: 2, root: Buffer.alloc(32).toString('base64'), time: TIME, note },
    });
    it.each([
      [() => ({ checkpoint: { ...good().checkpoint, size: 1 } }), 'its checkpoint is of size 1, not of its version 2'],
      [
        () => ({ checkpoint: { ...good().checkpoint, root: 'AAAA' } }),
        'its checkpoint root is not a base64 SHA-256 hash',
      ],
      [() => ({ checkpoint: { ...good().checkpoint, time: -5 } }), 'no checkpoint time'],
      [() => ({ logKey: 'registry.example+00000000+AQ==' }), 'its log key: not a verifier key (NAME+KEYID+BASE64): '],
      [() => ({ logKey: 12 }), 'no log key'],
      [() => ({ policySince: 4 }), 'no policy version'],
      [() => ({ logKey: logKey() }), 'its checkpoint note: no known key signed the note'],
      [() => ({ checkpoint: { ...good().checkpoint, note: 'x' } }), 'its checkpoint note: '],
      [
        () => ({ checkpoint: { ...good().checkpoint, time: TIME + 365 * 86400 } }),
        `its checkpoint note was cosigned at ${TIME}, not at ${TIME + 365 * 86400}`,
      ],
      [
        () => ({ checkpoint: { ...good().checkpoint, root: Buffer.alloc(32, 1).toString('base64') } }),
        'its checkpoint note has another root',
      ],
    ])('%s', async (change, why) => {
      const state = join(dir, `state-${Math.random().toString(16).slice(2)}`);
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, 'global.json'), JSON.stringify({ ...good(), ...change() }));
      const r = await exact(...file, '--state', state, '--url', 'http://127.0.0.1:9');
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`flake-registry: ${join(state, 'global.json')} is not a sync state (${why}`);
      expect(r.stderr).toMatch(/; move it away to start again from a new anchor \(--trust pins the old one\)\n$/);
    });
    it('and the state it would read passes that far: to the server', async () => {
      const state = join(dir, 'state-good');
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, 'global.json'), JSON.stringify(good()));
      const r = await exact(...file, '--state', state, '--url', 'http://127.0.0.1:9');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:9: /);
    });
  });

  it('--help names the checks, the state, the timeout and each exit status', async () => {
    const r = await exact('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: flake-registry sync --registry NAME --to FILE /);
    for (const text of [
      '--max-age DURATION',
      'default 24h',
      'Each request times out after 30 s.',
      'Exit status: 0 up to date or updated; 1 an ordinary failure',
      '3 SECURITY ERROR',
      '$XDG_STATE_HOME/flake-registry',
      'examples:\n  flake-registry sync --registry global --to /var/lib/flake-registry/global.json',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
});
