import { describe, expect, it } from 'vitest';
import { formatSignature, parseSecretKey, sign, type SecretKey } from '../../src/crypto/keys.js';
import type { Change } from '../../src/protocol/changes.js';
import { readPolicy, PolicyError } from '../../src/protocol/policy.js';
import { proposalSchema } from '../../src/protocol/proposal.js';
import {
  attributeSignatures,
  signatureForm,
  signatureIdentity,
  signatureLabel,
} from '../../src/protocol/signatures.js';
import { proposalBytes, signingMessage } from '../../src/protocol/signing.js';
import { verifyHistory } from '../../src/protocol/verify.js';
import {
  ed25519Blob,
  keyLine,
  sigBlob,
  armor,
  signEd25519,
  signSk,
  skBlob,
  testKey,
  type TestKey,
  SK_TYPE,
  str,
} from '../crypto/ssh-vectors.js';
import { KEYS } from '../worker/fixtures.js';
import { History } from './history.js';

/**
 * SSH keys in policies and SSH signatures over proposals, at the protocol's level: what the
 * writer and the offline verifier both decide (signatures.ts, policy.ts). Keys and
 * signatures are built from OpenSSH's documents in test/crypto/ssh-vectors.ts.
 */

const sshEntry = (name: string, key: TestKey, comment = `${name}@laptop`): string =>
  `${name}:${keyLine('ssh-ed25519', ed25519Blob(key.publicBytes), comment)}`;
const skEntry = (name: string, key: TestKey, application = 'ssh:'): string =>
  `${name}:${keyLine(SK_TYPE, skBlob(key.publicBytes, application))}`;
const nixEntry = (name: string, key: TestKey): string => `${name}:${key.publicBytes.toString('base64')}`;

/** The same key as a Nix secret key: seed and public half. */
async function nixSecret(name: string, key: TestKey): Promise<SecretKey> {
  const seed = Buffer.from(key.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  return parseSecretKey(`${name}:${Buffer.concat([seed, key.publicBytes]).toString('base64')}`);
}

const proposal = proposalSchema.parse({
  registry: 'team',
  base: 1,
  changes: [{ op: 'remove', from: { type: 'indirect', id: 'x' } }],
  message: 'drop x',
  created: '2026-03-01T12:00:00Z',
  expires: '2026-03-08T12:00:00Z',
});
const message = signingMessage(proposalBytes(proposal));

describe('a policy with OpenSSH keys', () => {
  const erin = testKey();
  const frank = testKey();

  it('reads NAME: and an authorized_keys, .pub or allowed_signers line beside NAME:BASE64 keys', () => {
    const policy = readPolicy({
      keys: [
        KEYS.alice.public,
        sshEntry('erin', erin),
        skEntry('frank', frank),
        `grace:grace@example.org namespaces="flake-registry" ${keyLine('ssh-ed25519', ed25519Blob(testKey().publicBytes))}`,
      ],
      threshold: 2,
    });
    expect(policy.keys.map((k) => k.name)).toEqual(['alice', 'erin', 'frank', 'grace']);
    expect(policy.keys[1]?.id).toBe(erin.publicBytes.toString('base64'));
    expect(policy.keys[2]).toMatchObject({ kind: 'sk-ssh-ed25519', application: 'ssh:' });
  });

  it('refuses the same Ed25519 key in Nix form and in SSH form as one key listed twice', () => {
    expect(() => readPolicy({ keys: [nixEntry('erin', erin), sshEntry('erin-ssh', erin)], threshold: 1 })).toThrow(
      /'erin-ssh' and 'erin' are the same key \(one in Nix's format, one as an SSH key/,
    );
  });

  it.each([
    [
      'RSA',
      'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob@laptop',
      /RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519@openssh.com/,
    ],
    [
      'ECDSA',
      'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=',
      /ECDSA keys .* only ssh-ed25519 and sk-ssh-ed25519/,
    ],
    ['a certificate', 'ssh-ed25519-cert-v01@openssh.com AAAA', /certificates/],
    ['a private key', '-----BEGIN OPENSSH PRIVATE KEY-----', /is a private key or PEM block/],
  ])('refuses %s with a message that names what is accepted', (_, line, expected) => {
    expect(() => readPolicy({ keys: [`bob:${line}`], threshold: 1 })).toThrow(PolicyError);
    expect(() => readPolicy({ keys: [`bob:${line}`], threshold: 1 })).toThrow(expected);
  });

  it('refuses an allowed_signers line that keeps the key to another namespace', () => {
    const line = `erin@example.org namespaces="git" ${keyLine('ssh-ed25519', ed25519Blob(erin.publicBytes))}`;
    expect(() => readPolicy({ keys: [`erin:${line}`], threshold: 1 })).toThrow(/namespace/);
  });
});

describe('SSH signatures over a proposal', () => {
  const erin = testKey();
  const frank = testKey();
  const policy = readPolicy({
    keys: [KEYS.alice.public, sshEntry('erin', erin), skEntry('frank', frank)],
    threshold: 2,
  });

  it('attributes an ssh-ed25519 signature to its trusted key, beside a Nix signature', async () => {
    const alice = await parseSecretKey(KEYS.alice.secret);
    const nix = formatSignature(await sign(alice, message));
    const ssh = signEd25519(erin, message);
    const result = await attributeSignatures(message, [nix, ssh], policy.keys);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.signatures.map((s) => [s.key.name, s.form])).toEqual([
      ['alice', 'nix'],
      ['erin', 'ssh'],
    ]);
  });

  it('attributes an SSH signature to a key the policy lists in Nix form, and a Nix signature to one it lists as SSH', async () => {
    const nixPolicy = readPolicy({ keys: [nixEntry('erin', erin)], threshold: 1 });
    expect(await attributeSignatures(message, [signEd25519(erin, message)], nixPolicy.keys)).toMatchObject({
      ok: true,
    });
    const secret = await nixSecret('erin', erin);
    const nix = formatSignature(await sign(secret, message));
    expect(await attributeSignatures(message, [nix], policy.keys)).toMatchObject({ ok: true });
  });

  it('refuses the same key twice in two forms as two signatures', async () => {
    const nix = formatSignature(await sign(await nixSecret('erin', erin), message));
    const result = await attributeSignatures(message, [nix, signEd25519(erin, message)], policy.keys);
    expect(result).toMatchObject({ ok: false, problem: { kind: 'duplicate-signer', key: 'erin' } });
  });

  it('accepts an sk-ssh-ed25519 signature made with the user present', async () => {
    const result = await attributeSignatures(
      message,
      [signSk(frank, message, { flags: 0x05, counter: 42 })],
      policy.keys,
    );
    expect(result).toMatchObject({ ok: true, signatures: [{ key: { name: 'frank' }, form: 'ssh' }] });
  });

  it.each([
    [
      'with user presence cleared',
      () => signSk(frank, message, { flags: 0x04 }),
      'bad-signature',
      /without the user's touch/,
    ],
    [
      'for another application',
      () => signSk(frank, message, { signedApplication: 'ssh:other' }),
      'bad-signature',
      /does not verify/,
    ],
    [
      'with its counter changed',
      () => signSk(frank, message, { counter: 7, writtenCounter: 8 }),
      'bad-signature',
      /does not verify/,
    ],
    [
      'by a security key of another application',
      () => signSk(frank, message, { application: 'ssh:other' }),
      'untrusted-key',
      /not a trusted key/,
    ],
    [
      'in another namespace',
      () => signEd25519(erin, message, { namespace: 'git' }),
      'bad-signature',
      /namespace "git"/,
    ],
    ['over other bytes', () => signEd25519(erin, new TextEncoder().encode('other')), 'bad-signature', /other bytes/],
    ['by an untrusted key', () => signEd25519(testKey(), message), 'untrusted-key', /not a trusted key/],
    ['truncated', () => signEd25519(erin, message).split('\n').slice(0, 3).join('\n'), 'malformed-signature', /./],
    [
      'whose armor header is in lower case',
      () => signEd25519(erin, message).replace('BEGIN SSH SIGNATURE', 'begin ssh signature'),
      'malformed-signature',
      /the armor header must be exactly -----BEGIN SSH SIGNATURE-----/,
    ],
    [
      'whose armor lines are all in lower case, as if it were another kind of text',
      () => signEd25519(erin, message).replace(/-----(BEGIN|END) SSH SIGNATURE-----/g, (m) => m.toLowerCase()),
      'malformed-signature',
      /the armor header must be exactly -----BEGIN SSH SIGNATURE-----/,
    ],
    [
      'cut inside its base64',
      () => signEd25519(erin, message).replace(/[A-Za-z0-9+/=]{20}\n-----END/, '\n-----END'),
      'malformed-signature',
      /./,
    ],
  ])('refuses a signature %s', async (_, make, kind, detail) => {
    const result = await attributeSignatures(message, [make()], policy.keys);
    expect(result).toMatchObject({ ok: false, problem: { kind } });
    if (result.ok) return;
    expect('detail' in result.problem ? result.problem.detail : '').toMatch(detail);
  });

  it('refuses a signature by an RSA key as malformed, naming what is accepted', async () => {
    const rsaBlob = Buffer.concat([str('ssh-rsa'), str(Buffer.from([1, 0, 1])), str(Buffer.alloc(64, 7))]);
    const armored = armor(
      sigBlob({ keyBlob: rsaBlob, signature: Buffer.concat([str('rsa-sha2-512'), str(Buffer.alloc(64))]) }),
    );
    const result = await attributeSignatures(message, [armored], policy.keys);
    expect(result).toMatchObject({ ok: false, problem: { kind: 'malformed-signature' } });
    if (result.ok || result.problem.kind !== 'malformed-signature') return;
    expect(result.problem.detail).toMatch(/RSA keys \(ssh-rsa\) are not accepted; only ssh-ed25519 and sk-ssh-ed25519/);
  });

  it('never attributes a plain Ed25519 signature to a security key, which cannot make one', async () => {
    const secret = await nixSecret('frank', frank);
    const nix = formatSignature(await sign(secret, message));
    expect(await attributeSignatures(message, [nix], policy.keys)).toMatchObject({
      ok: false,
      problem: { kind: 'bad-signature', name: 'frank' },
    });
  });

  it.each([
    ['-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----', 'ssh'],
    ['-----begin ssh signature-----\nAAAA', 'ssh'],
    ['  -----Begin PGP Signature-----', 'ssh'],
    ['-----END SSH SIGNATURE-----', 'ssh'],
    ['-----end', 'ssh'],
    ['alice:AAAA', 'nix'],
    ['----- begin', 'nix'],
    ['-----x:AAAA', 'nix'],
  ])('reads %j as a signature in the %s form', (text, form) => {
    expect(signatureForm(text)).toBe(form);
  });

  it('labels an SSH signature by its fingerprint and identifies it by its blob, line breaks aside', () => {
    const armored = signEd25519(erin, message);
    expect(signatureLabel(armored)).toMatch(/^SSH signature by SHA256:[A-Za-z0-9+/]{43}$/);
    expect(signatureLabel('alice:AAAA')).toBe("'alice:…'");
    const rewrapped = armored.replace(/\n(?!-----)/g, '\r\n').trim();
    expect(signatureIdentity(rewrapped)).toBe(signatureIdentity(armored));
  });
});

describe('the offline verifier and SSH signatures', () => {
  const erin = testKey();
  const policy = { keys: [KEYS.alice.public, KEYS.bob.public, sshEntry('erin', erin)], threshold: 2 };
  const file = {
    version: 2,
    flakes: [{ from: { type: 'indirect', id: 'x' }, to: { type: 'github', owner: 'o', repo: 'x' } }],
  };
  const change: Change[] = [
    { op: 'set', entry: { from: { type: 'indirect', id: 'y' }, to: { type: 'github', owner: 'o', repo: 'y' } } },
  ];

  it('verifies a history whose version was signed by a Nix key and an SSH key', async () => {
    const history = History.seed(file, policy);
    await history.merge(change, { signers: ['alice', (m) => signEd25519(erin, m)] });
    expect(await verifyHistory(history.versions)).toMatchObject({ ok: true, policy: { threshold: 2 } });
  });

  it('refuses a version whose SSH signature was made in another namespace', async () => {
    const history = History.seed(file, policy);
    await history.merge(change, { signers: ['alice', (m) => signEd25519(erin, m, { namespace: 'file' })] });
    const result = await verifyHistory(history.versions);
    expect(result).toMatchObject({ ok: false, version: 2, code: 'signature-bad' });
    if (!result.ok) expect(result.reason).toMatch(/SSH signature by SHA256:.* namespace "file"/);
  });

  it('refuses a version counting one key twice, once in each form', async () => {
    const history = History.seed(file, { keys: [KEYS.alice.public, nixEntry('erin', erin)], threshold: 2 });
    const secret = await nixSecret('erin', erin);
    await history.merge(change, { signers: [secret, (m) => signEd25519(erin, m)] });
    expect(await verifyHistory(history.versions)).toMatchObject({ ok: false, version: 2, code: 'signature-duplicate' });
  });
});
