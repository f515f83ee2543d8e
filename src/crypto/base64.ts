/**
 * Standard base64 (RFC 4648 section 4, `+` and `/`), the alphabet Nix uses for keys and
 * signatures. Encoding always pads, as Nix's encoder does.
 *
 * Decoding is strict where Nix is lenient, so that every accepted text means one byte
 * string and nothing else: Nix's decoder (`base64Decode` in 2.8's src/libutil/util.cc,
 * `base64::decode` in current src/libutil/base-n.cc) skips `\n` anywhere, stops at the
 * first `=` and ignores whatever follows it, and drops leftover bits without looking at
 * them. Here padding may be left out, but when present it must be exactly right and end
 * the text, and the leftover bits must be zero. Every text Nix's encoder writes decodes.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

const DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const left = bytes.length - i;
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63);
    out += left > 1 ? ALPHABET.charAt((n >> 6) & 63) : '=';
    out += left > 2 ? ALPHABET.charAt(n & 63) : '=';
  }
  return out;
}

/** Thrown by `decodeBase64`; the message says what is wrong and where. */
export class Base64Error extends Error {
  override readonly name = 'Base64Error';
}

export function decodeBase64(text: string): Uint8Array {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d /* = */) end--;
  const padding = text.length - end;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || DECODE[c] === -1) {
      const shown = c === 0x3d ? "'=' before the end" : `character ${JSON.stringify(text[i])}`;
      throw new Base64Error(`invalid base64: ${shown} at position ${i}`);
    }
  }
  const tail = end % 4;
  if (tail === 1) throw new Base64Error(`invalid base64: ${end} characters cannot encode whole bytes`);
  if (padding > 0 && padding !== (4 - tail) % 4) {
    throw new Base64Error(`invalid base64: ${padding} '=' after ${end} characters, expected ${(4 - tail) % 4}`);
  }

  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    acc = ((acc << 6) | (DECODE[text.charCodeAt(i)] as number)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new Base64Error('invalid base64: the last character has bits set beyond the data (not canonical)');
  }
  return out;
}
