/**
 * Just enough edwards25519 arithmetic (RFC 8032 section 5.1) to refuse, before WebCrypto
 * checks the signature equation, what libsodium's crypto_sign_verify_detached refuses and
 * OpenSSL and BoringSSL do not. Nix verifies with libsodium, whose checks (ref10 open.c) are:
 * S < L; R not of small order; the public key A canonical (y < p) and not of small order.
 * Without them the identity key (y = 1) verifies R = identity, S = 0 on any message.
 *
 * Plain BigInt, not constant time: it only ever sees public keys and signatures.
 */

const P = (1n << 255n) - 19n;
/** The order of the prime-order subgroup: S must be below it. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const Y_MASK = (1n << 255n) - 1n;

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

const inverse = (a: bigint): bigint => pow(a, P - 2n);

const D = mod(-121665n * inverse(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** A square root of `a` mod p (RFC 8032 section 5.1.3, step 2), or undefined if there is none. */
function sqrt(a: bigint): bigint | undefined {
  let x = pow(a, (P + 3n) / 8n);
  if ((x * x) % P === mod(a)) return x;
  x = (x * SQRT_M1) % P;
  return (x * x) % P === mod(a) ? x : undefined;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The little-endian integer in 32 bytes. */
export function littleEndian(bytes: Uint8Array): bigint {
  let hex = '0x';
  for (let i = bytes.length - 1; i >= 0; i--) hex += HEX[bytes[i] as number];
  return BigInt(hex);
}

export interface Point {
  readonly x: bigint;
  readonly y: bigint;
}

export type DecodeResult =
  | { readonly ok: true; readonly point: Point }
  | { readonly ok: false; readonly reason: 'non-canonical' | 'not-on-curve' };

/** RFC 8032 section 5.1.3, refusing y >= p and a sign bit on x = 0 (both non-canonical). */
export function decodePoint(bytes: Uint8Array): DecodeResult {
  const n = littleEndian(bytes);
  const y = n & Y_MASK;
  const negative = n >> 255n === 1n;
  if (y >= P) return { ok: false, reason: 'non-canonical' };
  const yy = (y * y) % P;
  const x0 = sqrt(mod((yy - 1n) * inverse(D * yy + 1n)));
  if (x0 === undefined) return { ok: false, reason: 'not-on-curve' };
  if (x0 === 0n && negative) return { ok: false, reason: 'non-canonical' };
  const x = ((x0 & 1n) === 1n) === negative ? x0 : mod(-x0);
  return { ok: true, point: { x, y } };
}

/**
 * Whether [8]P is the identity: P lies in the torsion subgroup and carries no secret.
 * Three doublings in projective coordinates (a = -1, "dbl-2008-bbjlp"), so no inversions.
 */
export function isSmallOrder(point: Point): boolean {
  let [x, y, z] = [point.x, point.y, 1n];
  for (let i = 0; i < 3; i++) {
    const b = (x + y) ** 2n % P;
    const c = (x * x) % P;
    const d = (y * y) % P;
    const f = mod(d - c);
    const j = mod(f - 2n * ((z * z) % P));
    [x, y, z] = [mod((b - c - d) * j), mod(f * (-c - d)), (f * j) % P];
  }
  return x === 0n && y === z;
}

/**
 * The y coordinates of the eight points of order dividing 8: 1 (the identity), p - 1
 * (order 2), 0 (the two of order 4), and ±y8 for the four of order 8. A point of order 8
 * doubles to one with y = 0, which with the curve equation -x² + y² = 1 + d·x²·y² gives
 * x² = -y² and d·y⁴ + 2y² - 1 = 0, so y² = (-1 ± √(1 + d)) / d.
 */
const SMALL_ORDER_Y: ReadonlySet<bigint> = (() => {
  const root = sqrt(1n + D);
  if (root === undefined) throw new Error('edwards25519: 1 + d has no square root');
  for (const y2 of [mod((-1n + root) * inverse(D)), mod((-1n - root) * inverse(D))]) {
    const y8 = sqrt(y2);
    if (y8 !== undefined && sqrt(mod(-y2)) !== undefined) return new Set([1n, P - 1n, 0n, y8, P - y8]);
  }
  throw new Error('edwards25519: no point of order 8 found');
})();

/**
 * libsodium's two encoding checks without decoding (no square root, so cheap per
 * signature): y below p, and y not that of a small-order point. Equivalent to decoding
 * and testing [8]P, except that a point off the curve passes; the signature check
 * refuses those anyway (R can never equal an encoded point, WebCrypto cannot decode A).
 * The only encodings with x = 0 have y = ±1, so the sign-bit case is covered too.
 */
export function isCanonicalAndNotSmallOrder(bytes: Uint8Array): boolean {
  const y = littleEndian(bytes) & Y_MASK;
  return y < P && !SMALL_ORDER_Y.has(y);
}

/** Whether 32 bytes are a scalar below L, as RFC 8032 section 5.1.7 requires of S. */
export function isCanonicalScalar(bytes: Uint8Array): boolean {
  return littleEndian(bytes) < L;
}
