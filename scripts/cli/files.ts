import { duplicateMember } from '../../src/protocol/json-members.js';
import { lstat, open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KeyError, parsePublicKey, parseSecretKey, type PublicKey, type SecretKey } from '../../src/crypto/keys.js';
import { isSshKeyTypeName } from '../../src/crypto/ssh-keys.js';
import { CliError } from './errors.js';
import type { Io } from './io.js';

/**
 * Files the user names: key files, registry files, proposal files. Each
 * failure names the file and what is wrong with it; a secret key's text is
 * never repeated.
 */

/** Reads FILE, or stdin for `-`; `what` names it in errors (`key file`, `registry file`). */
export async function readInput(io: Io, path: string, what: string): Promise<string> {
  if (path === '-') return io.readStdin();
  try {
    return await readFile(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(`${what} '${path}' ${fileProblem(error)}`, { cause: error });
  }
}

/**
 * At most `maxBytes` of FILE, or of stdin for `-`: no more is read, so `/dev/zero` or an endless
 * pipe ends there. Asking one byte more than a limit tells a file over it.
 */
export async function readInputUpTo(io: Io, path: string, what: string, maxBytes: number): Promise<Uint8Array> {
  if (path === '-') return io.readStdinUpTo(maxBytes);
  try {
    const file = await open(resolve(io.cwd, path), 'r');
    try {
      const buffer = Buffer.alloc(maxBytes);
      let size = 0;
      while (size < maxBytes) {
        const { bytesRead } = await file.read(buffer, size, maxBytes - size, null);
        if (bytesRead === 0) break;
        size += bytesRead;
      }
      return buffer.subarray(0, size);
    } finally {
      await file.close();
    }
  } catch (error) {
    throw new CliError(`${what} '${path}' ${fileProblem(error)}`, { cause: error });
  }
}

export function fileProblem(error: unknown): string {
  switch ((error as { code?: string }).code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read: permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return `cannot be read: ${(error as Error).message}`;
  }
}

function keySource(path: string): string {
  return path === '-' ? 'the key on stdin' : `key file '${path}'`;
}

/** A secret key from FILE or stdin (`-`), with a clear line for every way it can be wrong. */
export async function readSecretKey(io: Io, path: string): Promise<SecretKey> {
  // Typed at a terminal, a secret would show on the screen as it is typed.
  if (path === '-' && io.interactive) {
    throw new CliError('--key -: stdin is a terminal; give the key on a pipe (--key - < alice.sec) or as a file');
  }
  const text = await readInput(io, path, 'key file');
  refuseSshKey(text, keySource(path));
  // A public key given by mistake is told as such; a secret one is used only from a protected file.
  if (path !== '-' && !isPublicKey(text)) await checkProtected(io, path);
  return parseSecretKeyText(text, keySource(path));
}

/**
 * Refuses a secret key file others may read, or one reached through a symbolic
 * link (which could point anywhere, or be swapped), as OpenSSH refuses an
 * unprotected private key: the key is not used, and the fix is named.
 */
async function checkProtected(io: Io, path: string): Promise<void> {
  const full = resolve(io.cwd, path);
  let stat;
  try {
    stat = await lstat(full);
  } catch (error) {
    throw new CliError(`key file '${path}' ${fileProblem(error)}`, { cause: error });
  }
  if (stat.isSymbolicLink()) {
    throw new CliError(`key file '${path}' is a symbolic link; give the key file itself`);
  }
  if (!stat.isFile()) return;
  // Windows has no such mode bits.
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new CliError(
      `UNPROTECTED PRIVATE KEY FILE: '${path}' has permissions ${mode}, so others may ${(stat.mode & 0o044) !== 0 ? 'read' : 'change'} the key, which is not used; fix it with: chmod 600 ${path}`,
    );
  }
}

export async function parseSecretKeyText(text: string, source: string): Promise<SecretKey> {
  if (text.trim() === '') throw new CliError(`${source} is empty; it should hold a secret key (NAME:BASE64)`);
  if (text.trim().split(/\s+/).length > 1) {
    throw new CliError(`${source} holds more than one line of text; it should hold one secret key (NAME:BASE64)`);
  }
  try {
    return await parseSecretKey(text);
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    if (isPublicKey(text)) {
      throw new CliError(
        `${source} holds a public key; signing needs the secret key (made by \`flake-registry keygen\` or \`nix key generate-secret\`)`,
      );
    }
    throw new CliError(`${source} is not a usable secret key: ${error.message}`, { cause: error });
  }
}

/**
 * Where only a key in Nix's format can serve (`pubkey`, `trust-local`, a log key, or an SSH key
 * given on stdin), an SSH key is told as such rather than as a malformed Nix key.
 */
function refuseSshKey(text: string, source: string): void {
  const first = text.trimStart().split('\n', 1)[0]?.trim() ?? '';
  const ssh =
    /^-----BEGIN [A-Z ]*PRIVATE KEY-----$/.test(first) ||
    first
      .split(/[ \t]+/)
      .slice(0, 3)
      .some((field) => isSshKeyTypeName(field));
  if (!ssh) return;
  throw new CliError(
    `${source} holds an SSH key: here only a key in Nix's format serves (made by \`flake-registry keygen\`); SSH keys sign from a file with propose, upload, approve and sign, and a policy lists one as NAME: followed by its .pub line`,
  );
}

function isPublicKey(text: string): boolean {
  try {
    parsePublicKey(text);
    return true;
  } catch {
    return false;
  }
}

/** A public key given as text, or read from a file holding a public or a secret key. */
export async function readPublicKeyFile(io: Io, path: string): Promise<PublicKey> {
  const text = await readInput(io, path, 'key file');
  refuseSshKey(text, keySource(path));
  try {
    return parsePublicKey(text);
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    if (path !== '-') await checkProtected(io, path);
    return (await parseSecretKeyText(text, keySource(path))).publicKey;
  }
}

export function parsePublicKeyArg(text: string): PublicKey {
  try {
    return parsePublicKey(text);
  } catch (error) {
    if (error instanceof KeyError) throw new CliError(error.message, { cause: error });
    throw error;
  }
}

/** A JSON file, with the file named when it is not JSON. */
export async function readJsonFile(io: Io, path: string, what: string): Promise<unknown> {
  const text = await readInput(io, path, what);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    // JSON.parse quotes the text it met, and the file may be a secret key given by mistake.
    const hint = /^\s*[^\s:]+:[A-Za-z0-9+/]{40,}={0,2}\s*$/.test(text) ? ' (it looks like a key file)' : '';
    throw new CliError(`${what} '${path}' is not JSON${hint}`, { cause: error });
  }
  const twice = duplicateMember(text);
  if (twice !== undefined) {
    // The service refuses such a body; and a member named twice reads differently in other tools.
    throw new CliError(`${what} '${path}' names the member '${twice}' twice in one object`);
  }
  return value;
}
