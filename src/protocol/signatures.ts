import { KeyError, parseSignature, verify, type PublicKey, type Signature } from '../crypto/keys.js';
import type { Policy } from './policy.js';

/** A signature with the key that made it: the key is found by its bytes, the name is only a hint. */
export interface Attributed {
  readonly text: string;
  readonly key: PublicKey;
}

export type SignatureProblem =
  | { readonly kind: 'malformed-signature'; readonly signature: string; readonly detail: string }
  /** No key the registry trusts made it, and none is named like it. */
  | { readonly kind: 'untrusted-key'; readonly signature: string; readonly name: string }
  /** A trusted key has its name but no trusted key made it: a tampered proposal, or the wrong one. */
  | { readonly kind: 'bad-signature'; readonly signature: string; readonly name: string }
  /** Two signatures of one key (under two names, or twice). */
  | { readonly kind: 'duplicate-signer'; readonly signatures: readonly [string, string]; readonly key: string };

export type Attribution =
  | { readonly ok: true; readonly signatures: readonly Attributed[] }
  | { readonly ok: false; readonly problem: SignatureProblem };

/**
 * Finds which of `candidates` made each signature over `message`. The key named
 * like the signature is tried first, then every other candidate, so a trusted key
 * counts under any name it signs with. Every signature must be good: one bad
 * signature refuses the lot, so a request either counts wholly or changes nothing.
 */
export async function attributeSignatures(
  message: Uint8Array,
  texts: readonly string[],
  candidates: readonly PublicKey[],
): Promise<Attribution> {
  const found: Attributed[] = [];
  for (const text of texts) {
    let sig: Signature;
    try {
      sig = parseSignature(text);
    } catch (error) {
      if (!(error instanceof KeyError)) throw error;
      return { ok: false, problem: { kind: 'malformed-signature', signature: text, detail: error.message } };
    }
    const named = candidates.filter((k) => k.name === sig.name);
    const others = candidates.filter((k) => k.name !== sig.name);
    let key: PublicKey | undefined;
    for (const candidate of [...named, ...others]) {
      if (await verify(candidate, message, sig)) {
        key = candidate;
        break;
      }
    }
    if (!key) {
      const kind = named.length > 0 ? 'bad-signature' : 'untrusted-key';
      return { ok: false, problem: { kind, signature: text, name: sig.name } };
    }
    const twin = found.find((f) => f.key.id === key.id);
    if (twin) {
      return { ok: false, problem: { kind: 'duplicate-signer', signatures: [twin.text, text], key: key.name } };
    }
    found.push({ text, key });
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
export function candidateKeys(inForce: Policy, proposed: Policy | undefined): PublicKey[] {
  const keys = [...inForce.keys];
  for (const key of proposed?.keys ?? []) if (!keys.some((k) => k.id === key.id)) keys.push(key);
  return keys;
}
