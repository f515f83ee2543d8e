import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSecretKey } from '../../../src/crypto/keys.js';
import { formatVerifierKey, verifierKey } from '../../../src/log/vkey.js';
import { cli, TEST_PUBLIC, TEST_SECRET, tempDir } from './helpers.js';

const { dir, remove } = tempDir();
afterAll(remove);
const run = (argv: string[], stdin?: string) => cli(argv, { cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
const write = (name: string, text: string, mode = 0o600): string => {
  writeFileSync(join(dir, name), text, { mode });
  chmodSync(join(dir, name), mode);
  return name;
};

describe('keygen and pubkey', () => {
  it("writes a secret key in Nix's format with mode 0600 and prints its public key", async () => {
    const r = await run(['keygen', '--name', 'alice', '--out', 'alice.sec']);
    expect(r.code).toBe(0);
    const secret = readFileSync(join(dir, 'alice.sec'), 'utf8');
    expect(statSync(join(dir, 'alice.sec')).mode & 0o777).toBe(0o600);
    const key = await parseSecretKey(secret);
    expect(key.name).toBe('alice');
    expect(r.stdout).toMatch(/^alice:[A-Za-z0-9+/]{43}=\n$/);
    expect(r.stdout).not.toContain(secret.split(':')[1]);
    expect((await run(['pubkey', 'alice.sec'])).stdout).toBe(r.stdout);
  });

  it('never overwrites an existing file', async () => {
    write('taken.sec', 'precious');
    const r = await run(['keygen', '--name', 'x', '--out', 'taken.sec']);
    expect(r).toMatchObject({
      code: 1,
      stderr: "flake-registry: 'taken.sec' already exists; a key file is never overwritten\n",
    });
    expect(readFileSync(join(dir, 'taken.sec'), 'utf8')).toBe('precious');
  });

  it('prints the public form of a secret key, as nix key convert-secret-to-public, from a file or stdin', async () => {
    expect((await run(['pubkey', write('t.sec', `${TEST_SECRET}\n`)])).stdout).toBe(`${TEST_PUBLIC}\n`);
    expect((await run(['pubkey', '-'], TEST_SECRET)).stdout).toBe(`${TEST_PUBLIC}\n`);
    const json = await run(['pubkey', 't.sec', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'maintainer-1', publicKey: TEST_PUBLIC });
  });
});

describe('bad key files: one line naming the file and what is wrong, never the secret', () => {
  const data = TEST_SECRET.split(':')[1] ?? '';
  // The seed of TEST 1 with another key's public half.
  const mismatched = `m:${Buffer.concat([Buffer.from(data, 'base64').subarray(0, 32), Buffer.alloc(32, 7)]).toString('base64')}`;
  mkdirSync(join(dir, 'adir'));

  it.each([
    ['missing.sec', undefined, "key file 'missing.sec' does not exist"],
    ['adir', undefined, "key file 'adir' is a directory"],
    ['empty.sec', '', "key file 'empty.sec' is empty; it should hold a secret key (NAME:BASE64)"],
    ['pub.sec', TEST_PUBLIC, "key file 'pub.sec' holds a public key; signing needs the secret key"],
    ['b64.sec', 'k:not*base64!', "key file 'b64.sec' is not a usable secret key: secret key 'k':"],
    ['short.sec', 'k:AAAA', "key file 'short.sec' is not a usable secret key: secret key 'k' is 3 bytes, expected 64"],
    ['halves.sec', mismatched, "key file 'halves.sec' is not a usable secret key: secret key 'm' is inconsistent"],
    ['noname.sec', data, "key file 'noname.sec' is not a usable secret key: secret key is not NAME:BASE64 (no ':')"],
    ['two.sec', `${TEST_SECRET}\n${TEST_SECRET}\n`, "key file 'two.sec' holds more than one line"],
  ])('%s', async (name, text, message) => {
    if (text !== undefined) write(name, text);
    const r = await run(['pubkey', name]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toContain(`flake-registry: ${message}`);
    expect(r.stderr).not.toContain(data.slice(0, 20));
    expect(r.stdout).toBe('');
  });

  it.skipIf(process.getuid?.() === 0)('a key file that cannot be read', async () => {
    write('locked.sec', TEST_SECRET);
    chmodSync(join(dir, 'locked.sec'), 0o000);
    const r = await run(['pubkey', 'locked.sec']);
    expect(r).toMatchObject({
      code: 1,
      stderr: "flake-registry: key file 'locked.sec' cannot be read: permission denied\n",
    });
  });

  it.each([
    ['0644', 0o644],
    ['0640', 0o640],
    ['0604', 0o604],
  ])('a secret key file readable by others (%s), refused as OpenSSH refuses it, with the fix', async (shown, mode) => {
    const name = write(`open-${shown}.sec`, TEST_SECRET, mode);
    for (const argv of [
      ['pubkey', name],
      ['sign', 'p.json', '--key', name],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `flake-registry: UNPROTECTED PRIVATE KEY FILE: '${name}' has permissions ${shown}, so others may read the key, which is not used; fix it with: chmod 600 ${name}\n`,
      );
    }
  });

  it('a secret key file others may change, named as such', async () => {
    const name = write('open-0620.sec', TEST_SECRET, 0o620);
    const r = await run(['pubkey', name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'open-0620.sec' has permissions 0620, so others may change the key");
  });

  it('a secret key reached through a symbolic link', async () => {
    write('real.sec', TEST_SECRET);
    symlinkSync(join(dir, 'real.sec'), join(dir, 'link.sec'));
    const r = await run(['pubkey', 'link.sec']);
    expect(r).toMatchObject({
      code: 1,
      stderr: "flake-registry: key file 'link.sec' is a symbolic link; give the key file itself\n",
    });
  });

  it('a secret key on stdin that is not one', async () => {
    const r = await run(['pubkey', '-'], TEST_PUBLIC);
    expect(r.stderr).toBe(
      'flake-registry: the key on stdin holds a public key; signing needs the secret key (made by `flake-registry keygen` or `nix key generate-secret`)\n',
    );
  });
});

describe('trust-local', () => {
  it('writes DEV_TRUSTED_KEYS to .dev.vars in the checkout and says to reset the local state', async () => {
    const root = join(dir, 'checkout');
    mkdirSync(root);
    writeFileSync(join(root, '.dev.vars'), 'OTHER=1\n');
    const r = await cli(['trust-local', TEST_PUBLIC, '--key', 'alice.sec'], { cwd: dir, root });
    expect(r.code).toBe(0);
    const text = readFileSync(join(root, '.dev.vars'), 'utf8');
    expect(text).toMatch(
      new RegExp(`^OTHER=1\\nDEV_TRUSTED_KEYS="${TEST_PUBLIC.replaceAll('+', '\\+')} alice:[^"]+"\\n$`),
    );
    expect(text).not.toContain(readFileSync(join(dir, 'alice.sec'), 'utf8').split(':')[1]);
    expect(r.stdout).toContain('rm -rf .wrangler/state');
    const again = await cli(['trust-local', TEST_PUBLIC], { cwd: dir, root });
    expect(again.stdout).toContain('already trusts this key (2 trusted');
    expect(readFileSync(join(root, '.dev.vars'), 'utf8')).toBe(text);
  });

  it('refuses a secret key given as an argument without repeating it', async () => {
    const r = await cli(['trust-local', TEST_SECRET], { cwd: dir, root: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('argument 1 is a secret key, which must never be given as an argument');
    expect(r.stderr).not.toContain(data());
  });
});

const data = () => TEST_SECRET.split(':')[1] ?? '';

describe('log keys', () => {
  it('pubkey --vkey prints the signed-note verifier key of a secret key', async () => {
    const r = await run(['pubkey', write('log.sec', `${TEST_SECRET}\n`), '--vkey']);
    expect(r.code).toBe(0);
    const key = await parseSecretKey(TEST_SECRET);
    expect(r.stdout).toBe(`${formatVerifierKey(verifierKey(key.publicKey))}\n`);
    expect(r.stdout).toMatch(new RegExp(`^${key.name}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}\\n$`));
  });

  it('trust-local --log-key sets LOG_SIGNING_KEY in .dev.vars, once, keeping the other lines', async () => {
    const root = join(dir, 'checkout-log');
    mkdirSync(root);
    writeFileSync(join(root, '.dev.vars'), 'OTHER=1\nLOG_SIGNING_KEY="old"\n');
    const r = await cli(['trust-local', '--log-key', write('log2.sec', `${TEST_SECRET}\n`)], { cwd: dir, root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, '.dev.vars'), 'utf8')).toBe(`OTHER=1\nLOG_SIGNING_KEY="${TEST_SECRET}"\n`);
    expect(statSync(join(root, '.dev.vars')).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('Restart npm start');
    expect(r.stdout).not.toContain(data());
  });

  it('trust-local --log-key refuses a key whose name a note cannot carry, changing nothing', async () => {
    const root = join(dir, 'checkout-log-bad');
    mkdirSync(root);
    const made = await run(['keygen', '--name', 'log+1', '--out', 'plus.sec']);
    expect(made.code).toBe(0);
    const r = await cli(['trust-local', '--log-key', 'plus.sec'], { cwd: dir, root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flake-registry: --log-key plus\.sec's name 'log\+1' .*signed note cannot carry\n$/);
    expect(existsSync(join(root, '.dev.vars'))).toBe(false);
  });
});
