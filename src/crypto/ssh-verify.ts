import { bytesEqual, ownBuffer } from './bytes.js';
import { verify } from './keys.js';
import { sha256Bytes } from './sha256.js';
import { isSshKey, type TrustedKey } from './trusted-key.js';
import { sameSshKey, sshFingerprint, sshKeyTypeName, type SshKeyData } from './ssh-keys.js';
import {
  fidoSignedData,
  parseSshSignature,
  SshSignatureError,
  sshSignedData,
  type SshHash,
  type SshSignature,
  type SshSignatureProblemKind,
} from './ssh-signature.js';

/**
 * Checks an SSH signature (`ssh-keygen -Y sign`) over a message against trusted keys, in the
 * order ssh-keygen -Y verify does: read the armor, compare the namespace, find the signing
 * key among the trusted ones, then check the signature over the bytes PROTOCOL.sshsig says.
 *
 * The Ed25519 check is `verify` from keys.ts, so SSH signatures are held to libsodium's rules
 * (S < L, R and the key canonical and not of small order) as Nix signatures are; OpenSSH's
 * own ed25519.c checks less. A security key's signature covers the FIDO signed data
 * (ssh-signature.ts `fidoSignedData`), and it counts only when the authenticator says the
 * user was present (flag 0x01): ssh-keygen -Y verify does not ask that, sshd does unless
 * `no-touch-required`, and a registry wants a person at the key.
 */

/** Security-key flag: the user touched the key (PROTOCOL.u2f; sk-api.h SSH_SK_USER_PRESENCE_REQD). */
export const USER_PRESENT = 0x01;

/**
 * Keys a signature may come from (trusted-key.ts). An SshPublicKey matches by type, bytes and
 * application; a key in Nix's format (no `kind`) is an Ed25519 key and matches an ssh-ed25519
 * signer with its bytes, since that is the same key.
 */
export type { TrustedKey };

export interface SshVerifyExpectation {
  readonly namespace: string;
  readonly keys: readonly TrustedKey[];
}

export interface SshSignatureProblem {
  readonly kind: SshSignatureProblemKind;
  readonly message: string;
}

export type SshVerifyResult =
  | { readonly ok: true; readonly key: TrustedKey; readonly signature: SshSignature }
  | { readonly ok: false; readonly problem: SshSignatureProblem };

const isSsh = isSshKey;

function matches(candidate: TrustedKey, signer: SshKeyData): boolean {
  if (isSsh(candidate)) return sameSshKey(candidate, signer);
  return signer.kind === 'ssh-ed25519' && bytesEqual(candidate.bytes, signer.bytes);
}

function describe(key: SshKeyData): string {
  const application = key.kind === 'sk-ssh-ed25519' ? ` (application ${JSON.stringify(key.application)})` : '';
  return `${sshKeyTypeName(key.kind)} key ${sshFingerprint(key)}${application}`;
}

async function digest(hash: SshHash, message: Uint8Array): Promise<Uint8Array> {
  if (hash === 'sha256') return sha256Bytes(message);
  return new Uint8Array(await crypto.subtle.digest('SHA-512', ownBuffer(message)));
}

const refuse = (kind: SshSignatureProblemKind, message: string): SshVerifyResult => ({
  ok: false,
  problem: { kind, message },
});

/** Never throws for bad input: every refusal is a problem with its kind. */
export async function verifySshSignature(
  message: Uint8Array,
  armored: string,
  expected: SshVerifyExpectation,
): Promise<SshVerifyResult> {
  let sig: SshSignature;
  try {
    sig = parseSshSignature(armored);
  } catch (error) {
    if (error instanceof SshSignatureError) return refuse(error.kind, error.message);
    throw error;
  }

  if (sig.namespace !== expected.namespace) {
    return refuse(
      'wrong-namespace',
      `the SSH signature was made for namespace ${JSON.stringify(sig.namespace.slice(0, 60))}, not ${JSON.stringify(expected.namespace)} (ssh-keygen -Y sign -n ${expected.namespace})`,
    );
  }

  const key = expected.keys.find((candidate) => matches(candidate, sig.key));
  if (key === undefined) {
    const twin = expected.keys.find((candidate) => bytesEqual(candidate.bytes, sig.key.bytes));
    const hint =
      twin === undefined
        ? ''
        : `; its 32 bytes are those of trusted key '${twin.name}', which is ${isSsh(twin) ? describe(twin) : 'an ssh-ed25519 key'}`;
    return refuse('unknown-key', `the SSH signature is by ${describe(sig.key)}, which is not a trusted key${hint}`);
  }

  const signed = sshSignedData(sig.namespace, sig.hash, await digest(sig.hash, message));
  const data =
    sig.kind === 'ssh-ed25519' ? signed : fidoSignedData(sig.key.application, sig.flags, sig.counter, signed);
  if (!(await verify(key, data, { name: key.name, bytes: sig.signature }))) {
    return refuse(
      'bad-signature',
      `the SSH signature by '${key.name}' does not verify: it was made over other bytes, or altered`,
    );
  }
  if (sig.kind === 'sk-ssh-ed25519' && (sig.flags & USER_PRESENT) === 0) {
    return refuse(
      'user-presence-missing',
      `the security key '${key.name}' signed without the user's touch (flags 0x${sig.flags.toString(16).padStart(2, '0')}); keys made with -O no-touch-required cannot sign here`,
    );
  }
  return { ok: true, key, signature: sig };
}
