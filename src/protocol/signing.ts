import { concatBytes } from '../crypto/bytes.js';
import { sign, verify, type PublicKey, type SecretKey, type Signature } from '../crypto/keys.js';
import { sha256Hex } from '../crypto/sha256.js';
import { canonicalJson } from './canonical.js';

/**
 * What a proposal signature covers, whatever the proposal says:
 *
 *   bytes    = UTF-8 of the RFC 8785 canonical JSON of the proposal
 *   id       = lowercase hex SHA-256 of bytes
 *   message  = "flake-registry/proposal/v1" 0x0A bytes
 *   signature = Ed25519 (Nix's key format) over message
 *
 * The prefix separates domains: a Nix store path signature covers a fingerprint that
 * starts with "1;/" (ValidPathInfo::fingerprint), so neither kind of signature can be
 * passed off as the other, and a later format gets a new prefix.
 */
export const SIGNING_DOMAIN = 'flake-registry/proposal/v1';

const encoder = new TextEncoder();
const PREFIX = encoder.encode(`${SIGNING_DOMAIN}\n`);

/** The canonical bytes of a proposal; throws CanonicalJsonError for what JSON cannot hold. */
export function proposalBytes(proposal: unknown): Uint8Array {
  return encoder.encode(canonicalJson(proposal));
}

/** A proposal's id: the lowercase hex SHA-256 of its canonical bytes. */
export async function proposalId(bytes: Uint8Array): Promise<string> {
  return sha256Hex(bytes);
}

/** The exact bytes a proposal signature signs: the domain, a newline, the canonical bytes. */
export function signingMessage(bytes: Uint8Array): Uint8Array {
  return concatBytes(PREFIX, bytes);
}

export async function signProposal(key: SecretKey, proposal: unknown): Promise<Signature> {
  return sign(key, signingMessage(proposalBytes(proposal)));
}

/**
 * Whether `sig` signs `proposal` with `key`: false for any bad signature; rejects only when
 * `proposal` is not JSON data (CanonicalJsonError).
 */
export async function verifyProposalSignature(key: PublicKey, proposal: unknown, sig: Signature): Promise<boolean> {
  return verify(key, signingMessage(proposalBytes(proposal)), sig);
}
