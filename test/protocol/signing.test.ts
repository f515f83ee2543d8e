import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../../src/crypto/base64.js';
import { concatBytes } from '../../src/crypto/bytes.js';
import {
  formatPublicKey,
  formatSecretKey,
  formatSignature,
  generateSecretKey,
  parseSecretKey,
  verify,
} from '../../src/crypto/keys.js';
import { proposalSchema } from '../../src/protocol/proposal.js';
import {
  proposalBytes,
  proposalId,
  SIGNING_DOMAIN,
  signingMessage,
  signProposal,
  verifyProposalSignature,
} from '../../src/protocol/signing.js';
import { hex, RFC8032_VECTORS } from '../crypto/vectors.js';

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

const CANONICAL =
  '{"base":3,"changes":[{"entry":{"from":{"id":"nixpkgs","type":"indirect"},' +
  '"to":{"owner":"NixOS","ref":"nixos-24.05","repo":"nixpkgs","type":"github"}},"op":"set"}],' +
  '"created":"2026-03-01T12:00:00Z","expires":"2026-03-15T12:00:00Z",' +
  '"message":"Pin nixpkgs to 24.05 \u2713","registry":"global"}';

const rfcKey = (): ReturnType<typeof parseSecretKey> => {
  const v = RFC8032_VECTORS[0]!;
  return parseSecretKey(`maintainer-1:${encodeBase64(concatBytes(hex(v.seed), hex(v.publicKey)))}`);
};

describe('proposal signing', () => {
  it('takes the UTF-8 of the canonical JSON as the proposal bytes', () => {
    expect(new TextDecoder().decode(proposalBytes(proposal))).toBe(CANONICAL);
    expect(proposalBytes(proposal)).toEqual(new Uint8Array(Buffer.from(CANONICAL, 'utf8')));
  });

  it('names a proposal by the SHA-256 of its canonical bytes, in lowercase hex', async () => {
    const id = await proposalId(proposalBytes(proposal));
    expect(id).toBe(createHash('sha256').update(CANONICAL, 'utf8').digest('hex'));
    expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same id and bytes whatever order the members were written in', async () => {
    const { registry, base, ...rest } = proposal;
    const reordered = { ...rest, base, registry };
    expect(await proposalId(proposalBytes(reordered))).toBe(await proposalId(proposalBytes(proposal)));
  });

  it("signs 'flake-registry/proposal/v1', a newline, then the canonical bytes", () => {
    expect(SIGNING_DOMAIN).toBe('flake-registry/proposal/v1');
    const message = signingMessage(new TextEncoder().encode('{}'));
    expect(Buffer.from(message).toString('hex')).toBe(
      Buffer.from('flake-registry/proposal/v1\n{}', 'ascii').toString('hex'),
    );
    expect(message.length).toBe(26 + 1 + 2);
  });

  it('makes the signature an independent Ed25519 implementation (node:crypto) makes', async () => {
    const key = await rfcKey();
    const sig = await signProposal(key, proposal);
    expect(sig.name).toBe('maintainer-1');
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(key.seed)]);
    const nodeKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const expected = nodeSign(null, Buffer.from(`flake-registry/proposal/v1\n${CANONICAL}`, 'utf8'), nodeKey);
    expect(Buffer.from(sig.bytes).equals(expected)).toBe(true);
    expect(await verifyProposalSignature(key.publicKey, proposal, sig)).toBe(true);
  });

  it('refuses a signature over a changed proposal', async () => {
    const key = await generateSecretKey('alice');
    const sig = await signProposal(key, proposal);
    expect(await verifyProposalSignature(key.publicKey, { ...proposal, base: 4 }, sig)).toBe(false);
    expect(await verifyProposalSignature(key.publicKey, { ...proposal, extra: null }, sig)).toBe(false);
  });

  it('keeps proposal signatures apart from plain signatures of the same bytes', async () => {
    const key = await generateSecretKey('alice');
    const bytes = proposalBytes(proposal);
    const sig = await signProposal(key, proposal);
    expect(await verify(key.publicKey, signingMessage(bytes), sig)).toBe(true);
    expect(await verify(key.publicKey, bytes, sig)).toBe(false);
  });

  it('refuses to sign or verify what JSON cannot hold', async () => {
    const key = await generateSecretKey('alice');
    await expect(signProposal(key, { when: new Date(0) })).rejects.toThrow(/not plain JSON data/);
    const sig = await signProposal(key, {});
    await expect(verifyProposalSignature(key.publicKey, { n: NaN }, sig)).rejects.toThrow(/NaN is not a JSON number/);
  });

  it('pins the worked example of docs/protocol.md: every value printed there is what the code makes', async () => {
    const example = workedExample();
    const key = await rfcKey();
    expect(formatSecretKey(key)).toBe(example.secret);
    expect(formatPublicKey(key.publicKey)).toBe(example.public);
    expect(proposalSchema.safeParse(example.proposal).success).toBe(true);
    expect(example.proposal).toEqual(proposal);
    expect(new TextDecoder().decode(proposalBytes(example.proposal))).toBe(example.canonical);
    expect(example.canonical).toBe(CANONICAL);
    expect(await proposalId(proposalBytes(example.proposal))).toBe(example.id);
    expect(formatSignature(await signProposal(key, example.proposal))).toBe(example.signature);
  });
});

/** The values printed in the worked example of docs/protocol.md, in the order they appear. */
function workedExample() {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
  const section = doc.split('### Worked example')[1]?.split(/\n## /)[0] ?? '';
  const blocks = [...section.matchAll(/```(?:json)?\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');
  expect(blocks).toHaveLength(4);
  const [keys = '', json = '', canonical = '', values = ''] = blocks;
  const field = (text: string, name: string): string => {
    const match = new RegExp(`^${name} +(\\S+)$`, 'm').exec(text);
    expect(match, `${name} is printed`).not.toBeNull();
    return match?.[1] ?? '';
  };
  return {
    secret: field(keys, 'secret key'),
    public: field(keys, 'public key'),
    proposal: JSON.parse(json) as unknown,
    canonical,
    id: field(values, 'id'),
    signature: field(values, 'signature'),
  };
}
