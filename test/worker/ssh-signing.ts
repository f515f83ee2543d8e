/**
 * SSH keys and SSHSIG signatures for the Worker tests, built in workerd from OpenSSH's
 * documents (PROTOCOL.sshsig, PROTOCOL.u2f, RFC 4251) with WebCrypto alone: nothing of
 * src/crypto, so a mistake in the code under test cannot cancel out against the same
 * mistake here. (test/crypto/ssh-vectors.ts does the same in Node with node:crypto.)
 */

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const u32 = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
export const str = (data: string | Uint8Array): Uint8Array => {
  const bytes = typeof data === 'string' ? utf8(data) : data;
  return concat(u32(bytes.length), bytes);
};

export const base64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

async function digest(name: 'SHA-256' | 'SHA-512', data: Uint8Array | string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(name, typeof data === 'string' ? utf8(data) : data));
}

export const SK_TYPE = 'sk-ssh-ed25519@openssh.com';

export interface SshTestKey {
  readonly publicBytes: Uint8Array;
  /** The key in Nix's secret format, NAME:base64(seed || public key): the same key, the other form. */
  nixSecret(name: string): Promise<string>;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export async function sshTestKey(): Promise<SshTestKey> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const publicBytes = new Uint8Array((await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer);
  return {
    publicBytes,
    nixSecret: async (name) => {
      // An Ed25519 PKCS#8 PrivateKeyInfo ends with the 32-byte seed (RFC 8410).
      const pkcs8 = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer);
      return `${name}:${base64(concat(pkcs8.slice(-32), publicBytes))}`;
    },
    sign: async (data) => new Uint8Array(await crypto.subtle.sign('Ed25519', pair.privateKey, data)),
  };
}

export const ed25519Blob = (key: SshTestKey): Uint8Array => concat(str('ssh-ed25519'), str(key.publicBytes));
export const skBlob = (key: SshTestKey, application = 'ssh:'): Uint8Array =>
  concat(str(SK_TYPE), str(key.publicBytes), str(application));

/** A policy entry `NAME:TYPE BASE64 COMMENT`, as a .pub file's line after the name. */
export const sshEntry = (name: string, key: SshTestKey): string =>
  `${name}:ssh-ed25519 ${base64(ed25519Blob(key))} ${name}@laptop`;
export const skEntry = (name: string, key: SshTestKey, application = 'ssh:'): string =>
  `${name}:${SK_TYPE} ${base64(skBlob(key, application))}`;
export const nixEntry = (name: string, key: SshTestKey): string => `${name}:${base64(key.publicBytes)}`;

/** Armored as sshsig.c writes it: 70 characters a line, a final newline. */
export function armor(blob: Uint8Array): string {
  const lines = base64(blob).match(/.{1,70}/g) ?? [];
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join('\n')}\n-----END SSH SIGNATURE-----\n`;
}

export const sigBlob = (keyBlob: Uint8Array, namespace: string, hash: string, signature: Uint8Array): Uint8Array =>
  concat(utf8('SSHSIG'), u32(1), str(keyBlob), str(namespace), str(''), str(hash), str(signature));

async function signedData(namespace: string, message: Uint8Array): Promise<Uint8Array> {
  return concat(utf8('SSHSIG'), str(namespace), str(''), str('sha512'), str(await digest('SHA-512', message)));
}

/** An ssh-ed25519 SSHSIG over `message`, as `ssh-keygen -Y sign -n NAMESPACE` makes it. */
export async function sshSignature(
  key: SshTestKey,
  message: Uint8Array,
  namespace = 'flake-registry',
): Promise<string> {
  const signature = await key.sign(await signedData(namespace, message));
  return armor(sigBlob(ed25519Blob(key), namespace, 'sha512', concat(str('ssh-ed25519'), str(signature))));
}

export interface SkOptions {
  readonly application?: string;
  /** The application whose hash the authenticator signed; the key's unless given. */
  readonly signedApplication?: string;
  readonly flags?: number;
  readonly counter?: number;
  /** The counter written after the signature, when it is not the one signed. */
  readonly writtenCounter?: number;
}

/**
 * An sk-ssh-ed25519 SSHSIG: the token signs SHA-256(application) || flags || uint32 counter ||
 * SHA-256(signed data), and the signature field is string type, string signature, byte flags,
 * uint32 counter (PROTOCOL.u2f).
 */
export async function skSignature(key: SshTestKey, message: Uint8Array, o: SkOptions = {}): Promise<string> {
  const application = o.application ?? 'ssh:';
  const flags = o.flags ?? 0x01;
  const counter = o.counter ?? 1;
  const fido = concat(
    await digest('SHA-256', o.signedApplication ?? application),
    new Uint8Array([flags]),
    u32(counter),
    await digest('SHA-256', await signedData('flake-registry', message)),
  );
  const signature = await key.sign(fido);
  const field = concat(str(SK_TYPE), str(signature), new Uint8Array([flags]), u32(o.writtenCounter ?? counter));
  return armor(sigBlob(skBlob(key, application), 'flake-registry', 'sha512', field));
}

/** A well-formed SSHSIG by an RSA key (its signature bytes are never reached). */
export function rsaSignature(): string {
  const keyBlob = concat(str('ssh-rsa'), str(new Uint8Array([1, 0, 1])), str(new Uint8Array(256).fill(0xa5)));
  return armor(
    sigBlob(keyBlob, 'flake-registry', 'sha512', concat(str('rsa-sha2-512'), str(new Uint8Array(256).fill(7)))),
  );
}
