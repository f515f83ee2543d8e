import { basename } from 'node:path';
import { formatSignature, sign } from '../../src/crypto/keys.js';
import { sshFingerprint } from '../../src/crypto/ssh-keys.js';
import type { TrustedKey } from '../../src/crypto/trusted-key.js';
import { signedBy, type SignatureForm } from '../../src/protocol/signatures.js';
import { proposalBytes, signingMessage } from '../../src/protocol/signing.js';
import { CliError } from './errors.js';
import { readInput, readSecretKey } from './files.js';
import type { Io } from './io.js';
import { keyFileKind, keyTextKind, sshPublicKeyOf, sshSign } from './ssh-sign.js';

/**
 * What `--key PATH` signs with: a secret key in Nix's format (a file, or `-` for stdin), or an
 * SSH key, told from the file (ssh-sign.ts `keyFileKind`): an SSH private key, or an SSH public
 * key whose secret is in ssh-agent. An SSH key signs through `ssh-keygen -Y sign`, so a
 * passphrase, an agent or a security key's touch work as they do for git.
 */
export interface Signer {
  /** How messages name the signer: a Nix key's name; an SSH key's comment (or file) and fingerprint. */
  readonly name: string;
  readonly key: TrustedKey;
  readonly form: SignatureForm;
  /** A signature of the proposal's signing message (docs/protocol.md), in this signer's form. */
  signProposal(proposal: unknown): Promise<string>;
}

/** A key name for an SSH key, never shown: an SSH signature is found by its key's bytes. */
const SSH_KEY_NAME = 'ssh-key';

export async function readSigner(io: Io, path: string): Promise<Signer> {
  // Told by what the file holds: a Nix public key saved as NAME.pub is a Nix key given by mistake.
  if (
    path !== '-' &&
    (await keyFileKind(io, path)) !== 'other' &&
    keyTextKind(await readInput(io, path, 'key file')) !== 'other'
  ) {
    return sshSigner(io, path);
  }
  const secret = await readSecretKey(io, path);
  return {
    name: secret.name,
    key: secret.publicKey,
    form: 'nix',
    signProposal: async (proposal) => formatSignature(await sign(secret, signingMessage(proposalBytes(proposal)))),
  };
}

async function sshSigner(io: Io, path: string): Promise<Signer> {
  const key = await sshPublicKeyOf(io, path, SSH_KEY_NAME);
  const label = key.comment === '' ? basename(path).replace(/\.pub$/, '') : key.comment;
  const name = `${label} (${sshFingerprint(key)})`;
  return {
    name,
    key,
    form: 'ssh',
    signProposal: async (proposal) => {
      const message = signingMessage(proposalBytes(proposal));
      const armored = await sshSign(io, path, message);
      // ssh-keygen signs with what the agent or the file holds: make sure it is the key we named.
      if (!(await signedBy(message, armored, key))) {
        throw new CliError(`ssh-keygen made a signature that is not by ${name} over this proposal; nothing was sent`);
      }
      return armored;
    },
  };
}

/** Whether one of `signatures` over `proposal` is by `signer`'s key, in either form. */
export async function signedAlready(
  signer: Signer,
  proposal: unknown,
  signatures: readonly string[],
): Promise<boolean> {
  const message = signingMessage(proposalBytes(proposal));
  for (const text of signatures) if (await signedBy(message, text, signer.key)) return true;
  return false;
}
