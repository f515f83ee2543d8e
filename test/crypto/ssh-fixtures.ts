import { parseSshPublicKey, type SshPublicKey } from '../../src/crypto/ssh-keys.js';
import type { SshSignatureProblemKind } from '../../src/crypto/ssh-signature.js';
import { verifySshSignature, type SshVerifyResult, type TrustedKey } from '../../src/crypto/ssh-verify.js';
import {
  armor,
  ed25519Blob,
  keyLine,
  sigBlob,
  signedData,
  SK_TYPE,
  skBlob,
  str,
  testKey,
  type TestKey,
} from './ssh-vectors.js';

/** Keys and helpers shared by the SSH signature tests: alice signs, the verifier answers. */

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const MESSAGE = utf8('flake-registry/proposal/v1\n{"base":3}');
export const NS = 'flake-registry';

export const alice = testKey();
export const bob = testKey();
export const aliceKey = (): SshPublicKey =>
  parseSshPublicKey(keyLine('ssh-ed25519', ed25519Blob(alice.publicBytes)), 'alice');
export const skKey = (key: TestKey, application = 'ssh:'): SshPublicKey =>
  parseSshPublicKey(keyLine(SK_TYPE, skBlob(key.publicBytes, application)), 'alice-sk');

export const check = (
  armored: string,
  keys: readonly TrustedKey[] = [aliceKey()],
  message = MESSAGE,
): Promise<SshVerifyResult> => verifySshSignature(message, armored, { namespace: NS, keys });

export async function refusal(
  armored: string,
  keys?: readonly TrustedKey[],
  message?: Uint8Array,
): Promise<[SshSignatureProblemKind, string]> {
  const result = await check(armored, keys, message);
  if (result.ok) throw new Error('expected a refusal');
  return [result.problem.kind, result.problem.message];
}

/** An ssh-ed25519 SSHSIG by alice with its fields as given (and signed as given). */
export function aliceSig(
  fields: {
    version?: number;
    namespace?: string;
    reserved?: Uint8Array;
    hash?: string;
    sigType?: string;
    trailing?: Uint8Array;
    signature?: Uint8Array;
  } = {},
): string {
  const signedHash = fields.hash === 'sha256' ? 'sha256' : 'sha512';
  const signature = fields.signature ?? alice.sign(signedData(fields.namespace ?? NS, signedHash, MESSAGE));
  return armor(
    sigBlob({
      keyBlob: ed25519Blob(alice.publicBytes),
      signature: Buffer.concat([str(fields.sigType ?? 'ssh-ed25519'), str(signature)]),
      ...(fields.version === undefined ? {} : { version: fields.version }),
      ...(fields.namespace === undefined ? {} : { namespace: fields.namespace }),
      ...(fields.reserved === undefined ? {} : { reserved: fields.reserved }),
      ...(fields.hash === undefined ? {} : { hash: fields.hash }),
      ...(fields.trailing === undefined ? {} : { trailing: fields.trailing }),
    }),
  );
}
