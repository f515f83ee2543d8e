import { concatBytes } from './bytes.js';

/**
 * The SSH wire encoding (RFC 4251 section 5) that SSH keys, SSHSIG blobs and their signatures
 * are written in: `byte`, `uint32` (big-endian) and `string` (a uint32 length, then that many
 * bytes). Nothing else of RFC 4251 (mpint, name-list) is needed for Ed25519.
 *
 * Reading is bounds-checked and strict: a length that runs past the end, a text field that is
 * not UTF-8 or holds a NUL, and bytes left over after a structure are all refused. OpenSSH's
 * `sshbuf_get_cstring` lets one NUL end a string ("ssh:\0" reads as "ssh:"); here it is
 * refused, so each field has one encoding.
 */

export class SshWireError extends Error {
  override readonly name = 'SshWireError';
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Reads one structure; `what` names it in errors ("the public key blob"). */
export class SshReader {
  readonly #bytes: Uint8Array;
  readonly #what: string;
  #offset = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#what = what;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #take(n: number, field: string): Uint8Array {
    if (n > this.remaining) {
      throw new SshWireError(
        `${this.#what} is truncated: ${field} needs ${n} bytes at offset ${this.#offset}, ${this.remaining} remain`,
      );
    }
    const out = this.#bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  /** `n` raw bytes, such as a magic preamble. */
  fixed(n: number, field: string): Uint8Array {
    return this.#take(n, field);
  }

  byte(field: string): number {
    return this.#take(1, field)[0] as number;
  }

  uint32(field: string): number {
    const b = this.#take(4, field);
    return (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  }

  /** A `string` as bytes (a subarray of the input: copy it before changing it). */
  string(field: string): Uint8Array {
    const at = this.#offset;
    const length = this.uint32(`the length of ${field}`);
    if (length > this.remaining) {
      throw new SshWireError(
        `${this.#what} is truncated: ${field} at offset ${at} says ${length} bytes, ${this.remaining} remain`,
      );
    }
    return this.#take(length, field);
  }

  /** A `string` that holds text: UTF-8, no NUL. */
  text(field: string): string {
    const bytes = this.string(field);
    if (bytes.includes(0)) throw new SshWireError(`${this.#what}: ${field} contains a NUL byte`);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new SshWireError(`${this.#what}: ${field} is not UTF-8`);
    }
  }

  /** Refuses bytes left after the structure: two encodings must never mean one thing. */
  end(): void {
    if (this.remaining !== 0) {
      throw new SshWireError(`${this.#what} has ${this.remaining} bytes after its last field`);
    }
  }
}

export function sshByte(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`not a byte: ${value}`);
  return new Uint8Array([value]);
}

export function sshUint32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a uint32: ${value}`);
  return new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

/** A `string` holding `data`, or the UTF-8 of `data` when it is text. */
export function sshString(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? utf8.encode(data) : data;
  return concatBytes(sshUint32(bytes.length), bytes);
}
