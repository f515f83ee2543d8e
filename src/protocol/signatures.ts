import { encodeBase64 } from '../crypto/base64.js';
import { KeyError, parseSignature, verify, type Signature } from '../crypto/keys.js';
import { SSH_NAMESPACE, sshFingerprint } from '../crypto/ssh-keys.js';
import { dearmorSshSignature, isArmorLine, parseSshSignature, SshSignatureError } from '../crypto/ssh-signature.js';
import { verifySshSignature, type SshSignatureProblem } from '../crypto/ssh-verify.js';
import { isSshKey, type TrustedKey } from '../crypto/trusted-key.js';
import type { Policy } from './policy.js';

/**
 * A signature over a proposal comes in one of two forms, over the same message
 * (signing.ts `signingMessage`):
 *
 *   nix  NAME:BASE64(R || S), Ed25519 over the message (src/crypto/keys.ts)
 *   ssh  the armored text `ssh-keygen -Y sign -n flake-registry` writes for a file holding
 *        the message (-----BEGIN SSH SIGNATURE-----, PROTOCOL.sshsig; src/crypto/ssh-verify.ts)
 *
 * A text that starts (after whitespace) with five dashes and BEGIN or END, in any case, is
 * read as the second, anything else as the first: an armor with a retyped header is refused
 * as an armor (saying which header it must have), never as a Nix signature with an odd name.
 * Either way the key is found among the trusted ones by its bytes, and a key counts once
 * whichever forms it signs in.
 */
export type SignatureForm = 'nix' | 'ssh';

export const signatureForm = (text: string): SignatureForm => (isArmorLine(text.trimStart()) ? 'ssh' : 'nix');

/** A signature with the key that made it: the key is found by its bytes, the name is only a hint. */
export interface Attributed {
  readonly text: string;
  readonly form: SignatureForm;
  readonly key: TrustedKey;
}

export type SignatureProblem =
  | { readonly kind: 'malformed-signature'; readonly signature: string; readonly detail: string }
  /**
   * No key the registry trusts made it, and none is named like it. `name` is the signature's
   * name, or for an SSH signature its key's fingerprint; `detail` says more when there is more.
   */
  | { readonly kind: 'untrusted-key'; readonly signature: string; readonly name: string; readonly detail?: string }
  /** A trusted key has its name but no trusted key made it: a tampered proposal, or the wrong one. */
  | { readonly kind: 'bad-signature'; readonly signature: string; readonly name: string; readonly detail?: string }
  /** Two signatures of one key (under two names, in two forms, or twice). */
  | { readonly kind: 'duplicate-signer'; readonly signatures: readonly [string, string]; readonly key: string };

export type Attribution =
  | { readonly ok: true; readonly signatures: readonly Attributed[] }
  | { readonly ok: false; readonly problem: SignatureProblem };

type One = { readonly ok: true; readonly key: TrustedKey } | { readonly ok: false; readonly problem: SignatureProblem };

/**
 * A signature as messages show it, never its bytes: `'alice:…'`, or for an SSH signature
 * `SSH signature by SHA256:…` (the fingerprint ssh-keygen -l prints).
 */
export function signatureLabel(text: string): string {
  if (signatureForm(text) === 'nix') return `'${text.trim().split(':')[0] ?? ''}:…'`;
  try {
    return `SSH signature by ${sshFingerprint(parseSshSignature(text).key)}`;
  } catch {
    return 'SSH signature';
  }
}

/**
 * What makes two signature texts the same signature: the bytes of a Nix signature, the
 * SSHSIG blob of an SSH one (so line breaks and a final newline do not matter), or the text
 * itself when it is malformed (then it matches only itself).
 */
export function signatureIdentity(text: string): string {
  try {
    if (signatureForm(text) === 'ssh') return `ssh:${encodeBase64(dearmorSshSignature(text))}`;
    return `nix:${encodeBase64(parseSignature(text).bytes)}`;
  } catch (error) {
    if (error instanceof KeyError || error instanceof SshSignatureError) return `malformed:${text}`;
    throw error;
  }
}

/**
 * A Nix-format signature: the key named like it is tried first, then every other candidate,
 * so a trusted key counts under any name it signs with. A security key never makes a plain
 * Ed25519 signature (its token signs FIDO data only), so it is never tried here.
 */
async function attributeNix(message: Uint8Array, text: string, candidates: readonly TrustedKey[]): Promise<One> {
  let sig: Signature;
  try {
    sig = parseSignature(text);
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    return { ok: false, problem: { kind: 'malformed-signature', signature: text, detail: error.message } };
  }
  const plain = candidates.filter((k) => !isSshKey(k) || k.kind === 'ssh-ed25519');
  const named = plain.filter((k) => k.name === sig.name);
  const others = plain.filter((k) => k.name !== sig.name);
  for (const candidate of [...named, ...others]) {
    if (await verify(candidate, message, sig)) return { ok: true, key: candidate };
  }
  const security = candidates.find((k) => k.name === sig.name && isSshKey(k) && k.kind === 'sk-ssh-ed25519');
  if (security) {
    const detail = `'${sig.name}' is a security key (sk-ssh-ed25519@openssh.com), which signs only SSH signatures (ssh-keygen -Y sign -n ${SSH_NAMESPACE}), never Nix-format ones`;
    return { ok: false, problem: { kind: 'bad-signature', signature: text, name: sig.name, detail } };
  }
  const kind = named.length > 0 ? 'bad-signature' : 'untrusted-key';
  return { ok: false, problem: { kind, signature: text, name: sig.name } };
}

/** How ssh-verify.ts's refusals are told among the signature problems. */
const SSH_PROBLEM_KINDS: Readonly<
  Record<SshSignatureProblem['kind'], 'malformed-signature' | 'untrusted-key' | 'bad-signature'>
> = {
  'malformed-armor': 'malformed-signature',
  'unsupported-version': 'malformed-signature',
  'unsupported-key-type': 'malformed-signature',
  'unsupported-hash': 'malformed-signature',
  'wrong-namespace': 'bad-signature',
  'unknown-key': 'untrusted-key',
  'bad-signature': 'bad-signature',
  'user-presence-missing': 'bad-signature',
};

/**
 * An SSH signature, in the namespace flake-registry, by one of the candidates. A refusal
 * names the trusted key with the signer's bytes, or else the signer's fingerprint.
 */
async function attributeSsh(message: Uint8Array, text: string, candidates: readonly TrustedKey[]): Promise<One> {
  const result = await verifySshSignature(message, text, { namespace: SSH_NAMESPACE, keys: candidates });
  if (result.ok) return { ok: true, key: result.key };
  const { kind, message: detail } = result.problem;
  const mapped = SSH_PROBLEM_KINDS[kind];
  if (mapped === 'malformed-signature') return { ok: false, problem: { kind: mapped, signature: text, detail } };
  // The armor was read already: only a well-formed signature gets here.
  const signer = parseSshSignature(text).key;
  const id = encodeBase64(signer.bytes);
  const listed = mapped === 'untrusted-key' ? undefined : candidates.find((k) => k.id === id);
  const name = listed?.name ?? sshFingerprint(signer);
  return { ok: false, problem: { kind: mapped, signature: text, name, detail } };
}

/** Whether `text` is a good signature of `message` by `key`, in either form. */
export async function signedBy(message: Uint8Array, text: string, key: TrustedKey): Promise<boolean> {
  const one = signatureForm(text) === 'ssh' ? attributeSsh : attributeNix;
  return (await one(message, text, [key])).ok;
}

/**
 * Finds which of `candidates` made each signature over `message`, in either form. Every
 * signature must be good: one bad signature refuses the lot, so a request either counts
 * wholly or changes nothing. Two signatures by one key (the same key in two forms too) are
 * refused together: a request that counts a key twice is a mistake worth telling.
 */
export async function attributeSignatures(
  message: Uint8Array,
  texts: readonly string[],
  candidates: readonly TrustedKey[],
): Promise<Attribution> {
  const found: Attributed[] = [];
  for (const text of texts) {
    const form = signatureForm(text);
    const one = await (form === 'ssh' ? attributeSsh : attributeNix)(message, text, candidates);
    if (!one.ok) return one;
    const key = one.key;
    const twin = found.find((f) => f.key.id === key.id);
    if (twin) {
      return { ok: false, problem: { kind: 'duplicate-signer', signatures: [twin.text, text], key: key.name } };
    }
    found.push({ text, form, key });
  }
  return { ok: true, signatures: found };
}

/** How far a set of signatures is towards one policy's threshold. */
export interface Tally {
  readonly have: number;
  readonly need: number;
  /** Names, as the policy lists them, of its keys that signed. */
  readonly signers: string[];
  /** Names of its keys that have not signed: who can still help meet the threshold. */
  readonly remaining: string[];
}

/** `keyIds`: the ids (PublicKey.id) of the keys that signed. */
export function tally(policy: Policy, keyIds: Iterable<string>): Tally {
  const ids = new Set(keyIds);
  const signers = policy.keys.filter((k) => ids.has(k.id)).map((k) => k.name);
  const remaining = policy.keys.filter((k) => !ids.has(k.id)).map((k) => k.name);
  return { have: signers.length, need: policy.threshold, signers, remaining };
}

/**
 * How many more distinct keys must sign at the least so that both thresholds are
 * met: the policy in force's and, for a policy change, the new one's. A key both
 * list counts for both, so the shortfall is met with shared keys first; the rest
 * must come from keys only one of them lists. 0 when both are met.
 */
export function shortfall(inForce: Policy, proposed: Policy | undefined, keyIds: Iterable<string>): number {
  const ids = new Set(keyIds);
  const old = Math.max(0, inForce.threshold - tally(inForce, ids).have);
  if (!proposed) return old;
  const fresh = Math.max(0, proposed.threshold - tally(proposed, ids).have);
  const inNew = new Set(proposed.keys.map((k) => k.id));
  const shared = inForce.keys.filter((k) => inNew.has(k.id) && !ids.has(k.id)).length;
  const both = Math.min(shared, Math.max(old, fresh));
  return both + Math.max(0, old - both) + Math.max(0, fresh - both);
}

export const met = (t: Tally): boolean => t.have >= t.need;

/** Every key either policy lists, once each: what a proposal's signatures are checked against. */
export function candidateKeys(inForce: Policy, proposed: Policy | undefined): TrustedKey[] {
  const keys = [...inForce.keys];
  for (const key of proposed?.keys ?? []) if (!keys.some((k) => k.id === key.id)) keys.push(key);
  return keys;
}
