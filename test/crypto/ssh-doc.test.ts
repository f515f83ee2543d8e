import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { parseSshPublicKey } from '../../src/crypto/ssh-keys.js';
import { fidoSignedData, parseSshSignature, sshSignedData } from '../../src/crypto/ssh-signature.js';
import { verifySshSignature } from '../../src/crypto/ssh-verify.js';
import { proposalBytes, signingMessage } from '../../src/protocol/signing.js';
import { armor, ed25519Blob, sha, sigBlob, SK_TYPE, skBlob, str, u32 } from './ssh-vectors.js';
import { hex, RFC8032_VECTORS } from './vectors.js';

/** docs/protocol.md's worked example proposal, whose signing message docs/ssh.md signs. */
const proposal = {
  registry: 'global',
  base: 3,
  changes: [
    {
      op: 'set',
      entry: {
        from: { type: 'indirect', id: 'nixpkgs' },
        to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-24.05' },
      },
    },
  ],
  message: 'Pin nixpkgs to 24.05 \u2713',
  created: '2026-03-01T12:00:00Z',
  expires: '2026-03-15T12:00:00Z',
};

/** The code blocks of the worked example of docs/ssh.md, in order. */
function blocks(): string[] {
  const doc = readFileSync(new URL('../../docs/ssh.md', import.meta.url), 'utf8');
  const section = doc.split('### Worked example')[1]?.split(/\n## /)[0] ?? '';
  return [...section.matchAll(/```\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');
}

const v = RFC8032_VECTORS[0]!;
const seedKey = createPrivateKey({
  key: {
    kty: 'OKP',
    crv: 'Ed25519',
    d: Buffer.from(hex(v.seed)).toString('base64url'),
    x: Buffer.from(hex(v.publicKey)).toString('base64url'),
  },
  format: 'jwk',
});
const message = signingMessage(proposalBytes(proposal));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe("docs/ssh.md's worked example", () => {
  const [keyLine, hashes, armored, skLine, fido, skArmored] = blocks();

  it('has six blocks', () => {
    expect(blocks()).toHaveLength(6);
  });

  it("names the RFC 8032 TEST 1 key, with the id of maintainer-1's key in Nix's format", () => {
    const key = parseSshPublicKey(keyLine ?? '', 'maintainer-1');
    expect(key.comment).toBe('maintainer-1');
    expect(key.bytes).toEqual(hex(v.publicKey));
    expect(key.id).toBe(parsePublicKey('maintainer-1:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=').id);
    expect(keyLine).toBe(`ssh-ed25519 ${ed25519Blob(hex(v.publicKey)).toString('base64')} maintainer-1`);
  });

  it('prints the SHA-512 of the message and the signed data the code builds', () => {
    const [digest, signed] = (hashes ?? '').split('\n');
    expect(digest).toBe(sha('sha512', message).toString('hex'));
    expect(signed).toBe(toHex(sshSignedData('flake-registry', 'sha512', sha('sha512', message))));
  });

  it('prints the signature the key makes, laid out as ssh-keygen writes it, and it verifies', async () => {
    const signed = sshSignedData('flake-registry', 'sha512', sha('sha512', message));
    const signature = nodeSign(null, signed, seedKey);
    const expected = armor(
      sigBlob({
        keyBlob: ed25519Blob(hex(v.publicKey)),
        signature: Buffer.concat([str('ssh-ed25519'), str(signature)]),
      }),
    );
    expect(`${armored}\n`).toBe(expected);
    const key = parseSshPublicKey(keyLine ?? '', 'maintainer-1');
    const result = await verifySshSignature(message, armored ?? '', { namespace: 'flake-registry', keys: [key] });
    expect(result.ok).toBe(true);
  });

  it('prints the security-key form, its FIDO signed data and its signature, which verifies', async () => {
    const key = parseSshPublicKey(skLine ?? '', 'maintainer-1');
    expect(key).toMatchObject({
      kind: 'sk-ssh-ed25519',
      application: 'ssh:',
      id: parseSshPublicKey(keyLine ?? '', 'm').id,
    });
    expect(skLine).toBe(`${SK_TYPE} ${skBlob(hex(v.publicKey)).toString('base64')} maintainer-1`);
    const signed = sshSignedData('flake-registry', 'sha512', sha('sha512', message));
    const data = fidoSignedData('ssh:', 0x01, 1, signed);
    expect(fido).toBe(toHex(data));
    const signature = nodeSign(null, data, seedKey);
    const sigField = Buffer.concat([str(SK_TYPE), str(signature), Buffer.from([1]), u32(1)]);
    expect(`${skArmored}\n`).toBe(armor(sigBlob({ keyBlob: skBlob(hex(v.publicKey)), signature: sigField })));
    const result = await verifySshSignature(message, skArmored ?? '', { namespace: 'flake-registry', keys: [key] });
    expect(result.ok).toBe(true);
    expect(parseSshSignature(skArmored ?? '')).toMatchObject({ flags: 1, counter: 1 });
  });
});
