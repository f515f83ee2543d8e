import { createHash, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';

/**
 * SSH keys and SSHSIG signatures built here from OpenSSH's documents (PROTOCOL.sshsig,
 * PROTOCOL.u2f, RFC 4251), with node:crypto and Buffer only: nothing of src/crypto, so a
 * mistake in the code under test cannot cancel out against the same mistake here. No
 * security key is at hand, so sk-ssh-ed25519 signatures are made this way too.
 */

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** RFC 4251 string. */
export const str = (data: string | Uint8Array): Buffer => {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return Buffer.concat([u32(bytes.length), bytes]);
};

export const sha = (algorithm: 'sha256' | 'sha512', data: string | Uint8Array): Buffer =>
  createHash(algorithm).update(data).digest();

export const SK_TYPE = 'sk-ssh-ed25519@openssh.com';

export interface TestKey {
  readonly publicBytes: Buffer;
  readonly privateKey: KeyObject;
  sign(data: Uint8Array): Buffer;
}

export function testKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const publicBytes = Buffer.from(jwk.x ?? '', 'base64url');
  return { publicBytes, privateKey, sign: (data) => nodeSign(null, data, privateKey) };
}

export const ed25519Blob = (publicBytes: Uint8Array): Buffer => Buffer.concat([str('ssh-ed25519'), str(publicBytes)]);

export const skBlob = (publicBytes: Uint8Array, application = 'ssh:'): Buffer =>
  Buffer.concat([str(SK_TYPE), str(publicBytes), str(application)]);

/** A public key line: TYPE BASE64 [COMMENT]. */
export const keyLine = (type: string, blob: Uint8Array, comment = ''): string =>
  `${type} ${Buffer.from(blob).toString('base64')}${comment === '' ? '' : ` ${comment}`}`;

export interface SigFields {
  readonly version?: number;
  readonly keyBlob: Uint8Array;
  readonly namespace?: string;
  readonly reserved?: Uint8Array;
  readonly hash?: string;
  readonly signature: Uint8Array;
  readonly trailing?: Uint8Array;
}

/** The SSHSIG blob (PROTOCOL.sshsig section 2), any field as given. */
export const sigBlob = (f: SigFields): Buffer =>
  Buffer.concat([
    Buffer.from('SSHSIG'),
    u32(f.version ?? 1),
    str(f.keyBlob),
    str(f.namespace ?? 'flake-registry'),
    str(f.reserved ?? new Uint8Array(0)),
    str(f.hash ?? 'sha512'),
    str(f.signature),
    Buffer.from(f.trailing ?? new Uint8Array(0)),
  ]);

/** Armored as sshsig.c writes it: 70 characters a line, a final newline. */
export function armor(blob: Uint8Array, width = 70): string {
  const b64 = Buffer.from(blob).toString('base64');
  const lines = b64.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join('\n')}\n-----END SSH SIGNATURE-----\n`;
}

/** The signed data of PROTOCOL.sshsig section 3. */
export const signedData = (namespace: string, hash: 'sha256' | 'sha512', message: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from('SSHSIG'), str(namespace), str(''), str(hash), str(sha(hash, message))]);

export interface SignOptions {
  readonly namespace?: string;
  readonly hash?: 'sha256' | 'sha512';
}

/** An ssh-ed25519 SSHSIG over `message`, as ssh-keygen -Y sign makes it. */
export function signEd25519(key: TestKey, message: Uint8Array, o: SignOptions = {}): string {
  const namespace = o.namespace ?? 'flake-registry';
  const hash = o.hash ?? 'sha512';
  const signature = key.sign(signedData(namespace, hash, message));
  return armor(
    sigBlob({
      keyBlob: ed25519Blob(key.publicBytes),
      namespace,
      hash,
      signature: Buffer.concat([str('ssh-ed25519'), str(signature)]),
    }),
  );
}

export interface SkOptions extends SignOptions {
  /** The key's application, in its blob. */
  readonly application?: string;
  /** The application whose hash the authenticator signed; the key's unless given. */
  readonly signedApplication?: string;
  readonly flags?: number;
  /** The counter signed, and the one written after the signature unless `writtenCounter`. */
  readonly counter?: number;
  readonly writtenCounter?: number;
  /** Changes the 64 signature bytes before they are written. */
  readonly tamper?: (signature: Buffer) => Buffer;
}

/**
 * An sk-ssh-ed25519 SSHSIG: the authenticator signs SHA-256(application) || flags ||
 * uint32 counter || SHA-256(signed data) (PROTOCOL.u2f), and the signature field is
 * string type, string signature, byte flags, uint32 counter.
 */
export function signSk(key: TestKey, message: Uint8Array, o: SkOptions = {}): string {
  const namespace = o.namespace ?? 'flake-registry';
  const hash = o.hash ?? 'sha512';
  const application = o.application ?? 'ssh:';
  const flags = o.flags ?? 0x01;
  const counter = o.counter ?? 7;
  const fido = Buffer.concat([
    sha('sha256', o.signedApplication ?? application),
    Buffer.from([flags]),
    u32(counter),
    sha('sha256', signedData(namespace, hash, message)),
  ]);
  const raw = key.sign(fido);
  const signature = o.tamper ? o.tamper(raw) : raw;
  return armor(
    sigBlob({
      keyBlob: skBlob(key.publicBytes, application),
      namespace,
      hash,
      signature: Buffer.concat([str(SK_TYPE), str(signature), Buffer.from([flags]), u32(o.writtenCounter ?? counter)]),
    }),
  );
}
