import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KeyError } from '../../src/crypto/keys.js';
import { isSshKeyTypeName, parseSshPublicKey, SSH_NAMESPACE, type SshPublicKey } from '../../src/crypto/ssh-keys.js';
import { parseSshSignature, SshSignatureError, type SshHash } from '../../src/crypto/ssh-signature.js';
import { CliError } from './errors.js';
import { fileProblem } from './files.js';
import type { Io } from './io.js';
import { explainSshKeygenFailure } from './ssh-failures.js';

/**
 * Signing with an SSH key through OpenSSH's own ssh-keygen, as git does (gpg-interface.c
 * `sign_buffer_ssh`): the message goes to a file in a private temporary directory, and
 * `ssh-keygen -Y sign -n flake-registry -f KEY FILE` writes FILE.sig. So whatever
 * ssh-keygen can sign with works unchanged: a key in ssh-agent (KEY may be its .pub), a
 * passphrase-protected key, a security key that asks for a touch or a PIN.
 *
 * The message is a file rather than stdin so that ssh-keygen's stdin can stay the user's
 * terminal: with stdin a pipe, ssh-keygen (readpass.c) asks for a passphrase through
 * ssh-askpass whenever DISPLAY is set, and fails when none is installed. When the command's
 * own stdin is not a terminal, ssh-keygen gets /dev/null, so it can never read a passphrase
 * from data meant for the command. Its stderr (the "Confirm user presence" line, its errors)
 * is passed on as it comes; a failure is then one line saying what to do.
 */

/** What running ssh-keygen needs of the command's Io. */
export type SshIo = Pick<Io, 'err' | 'env' | 'cwd' | 'interactive'>;

export interface SshKeygenOptions {
  /** The ssh-keygen to run: `ssh-keygen` on PATH unless given. */
  readonly program?: string;
}

export interface SshSignOptions extends SshKeygenOptions {
  /** ssh-keygen's default is sha512 (sshsig.c HASHALG_DEFAULT). */
  readonly hash?: SshHash;
}

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Keeps ssh-keygen's complaints for the explanation, not a runaway stream. */
const STDERR_KEPT = 64 * 1024;

function runSshKeygen(io: SshIo, args: readonly string[], options: SshKeygenOptions, guard: Guard): Promise<Ran> {
  const program = options.program ?? 'ssh-keygen';
  return new Promise((done, fail) => {
    const child = spawn(program, [...args], {
      cwd: io.cwd,
      env: io.env,
      stdio: [io.interactive ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    });
    guard.running(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      io.err(chunk);
      if (stderr.length < STDERR_KEPT) stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        fail(
          new CliError(
            `${program} was not found; SSH keys sign through OpenSSH's ssh-keygen (8.2 or newer: apt-get install openssh-client)`,
          ),
        );
      } else {
        fail(new CliError(`${program} could not be started: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

async function checkReadable(io: SshIo, keyPath: string): Promise<string> {
  const path = resolve(io.cwd, keyPath);
  try {
    // As for a key in Nix's format (files.ts): a link could point anywhere, or be swapped.
    if ((await lstat(path)).isSymbolicLink()) {
      throw new CliError(`key file '${keyPath}' is a symbolic link; give the key file itself`);
    }
    const info = await stat(path);
    if (info.isDirectory()) throw new CliError(`key file '${keyPath}' is a directory`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`key file '${keyPath}' ${fileProblem(error)}`, { cause: error });
  }
  return path;
}

/** The signals that end the command (Ctrl-C, kill, a closed terminal), as their default actions do. */
const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * How long ssh-keygen has to end after the signal is passed on (readpass.c restores the
 * terminal's echo, then re-raises it) before it is killed: a child that ignores it must not
 * keep the terminal after the command is gone.
 */
const CHILD_GRACE_MS = 2000;

/** While ssh-keygen may wait for a passphrase or a touch: what a signal must end first. */
interface Guard {
  readonly running: (child: ChildProcess) => void;
  readonly stop: () => void;
}

/**
 * A signal's default action ends node at once, leaving `cleanup` undone and ssh-keygen
 * waiting on the terminal (a SIGTERM or SIGHUP sent to the command reaches no one else).
 * While watching, such a signal is passed on to the running ssh-keygen, which gets a moment
 * to end (then SIGKILL); then `cleanup` runs and the command exits as the signal would have
 * (128 + its number). A second signal meanwhile changes nothing.
 */
function endOnSignal(cleanup: () => void): Guard {
  let child: ChildProcess | undefined;
  let ending = false;
  const handlers = ENDING_SIGNALS.map((signal) => {
    const handler = (): void => {
      if (ending) return;
      ending = true;
      const end = (): void => {
        cleanup();
        process.exit(128 + constants.signals[signal]);
      };
      const waiting = child;
      if (waiting === undefined || waiting.exitCode !== null || waiting.signalCode !== null) return end();
      waiting.once('exit', end);
      waiting.kill(signal);
      setTimeout(() => {
        waiting.kill('SIGKILL');
        // Not reaped after SIGKILL either (a process stuck in the kernel): end without it.
        setTimeout(end, CHILD_GRACE_MS);
      }, CHILD_GRACE_MS);
    };
    process.on(signal, handler);
    return () => process.removeListener(signal, handler);
  });
  return {
    running: (started) => (child = started),
    stop: () => handlers.forEach((stop) => stop()),
  };
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * The armored signature (`-----BEGIN SSH SIGNATURE-----`…) of `message` by the SSH key at
 * `keyPath`, made in the namespace flake-registry. Throws CliError with one line on failure.
 */
export async function sshSign(
  io: SshIo,
  keyPath: string,
  message: Uint8Array,
  options: SshSignOptions = {},
): Promise<string> {
  const path = await checkReadable(io, keyPath);
  // Refuse an RSA or ECDSA key before ssh-keygen asks for its passphrase or a touch.
  const publicPath = path.endsWith('.pub') ? path : `${path}.pub`;
  if (await exists(publicPath)) await readPublicKeyFile(publicPath, publicPath === path ? keyPath : `${keyPath}.pub`);

  const dir = await mkdtemp(join(tmpdir(), 'flake-registry-sign-'));
  const guard = endOnSignal(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const file = join(dir, 'message');
    await writeFile(file, message, { mode: 0o600 });
    const hash = options.hash === undefined ? [] : ['-O', `hashalg=${options.hash}`];
    const args = ['-q', '-Y', 'sign', '-n', SSH_NAMESPACE, '-f', path, ...hash, file];
    const ran = await runSshKeygen(io, args, options, guard);
    if (ran.code !== 0) throw new CliError(explainSshKeygenFailure(ran, keyPath, io.env));
    let armored: string;
    try {
      armored = await readFile(`${file}.sig`, 'utf8');
    } catch {
      throw new CliError(`ssh-keygen said it signed with '${keyPath}' but wrote no signature`);
    }
    try {
      parseSshSignature(armored);
    } catch (error) {
      if (error instanceof SshSignatureError) throw new CliError(`'${keyPath}' cannot sign here: ${error.message}`);
      throw error;
    }
    return armored;
  } finally {
    await rm(dir, { recursive: true, force: true });
    guard.stop();
  }
}

export type KeyFileKind = 'ssh-private-key' | 'ssh-public-key' | 'other';

const PRIVATE_KEY_BLOCK = /^-----BEGIN (OPENSSH |RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----$/;

/**
 * What a --key file holds, told from its first line: an SSH private key (OpenSSH's format,
 * or the PEM forms ssh-keygen also reads), an SSH public key line (a `.pub` file or an
 * allowed_signers line), or something else (a key in Nix's format, or nothing usable).
 */
export function keyTextKind(text: string): KeyFileKind {
  const first = text.trimStart().split('\n', 1)[0]?.trim() ?? '';
  if (PRIVATE_KEY_BLOCK.test(first)) return 'ssh-private-key';
  const fields = first.split(/[ \t]+/);
  if (fields.slice(0, 3).some((field) => isSshKeyTypeName(field))) return 'ssh-public-key';
  return 'other';
}

/** keyTextKind of the file at `keyPath`; a `.pub` name counts as a public key whatever it holds. */
export async function keyFileKind(io: Pick<Io, 'cwd'>, keyPath: string): Promise<KeyFileKind> {
  if (keyPath === '-') return 'other';
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, keyPath), 'utf8');
  } catch (error) {
    throw new CliError(`key file '${keyPath}' ${fileProblem(error)}`, { cause: error });
  }
  return keyPath.endsWith('.pub') ? 'ssh-public-key' : keyTextKind(text);
}

async function readPublicKeyFile(path: string, shown: string, name = 'key'): Promise<SshPublicKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`key file '${shown}' ${fileProblem(error)}`, { cause: error });
  }
  return parsePublicKeyText(text, shown, name);
}

function parsePublicKeyText(text: string, shown: string, name: string): SshPublicKey {
  try {
    return parseSshPublicKey(text, name);
  } catch (error) {
    if (error instanceof KeyError) {
      const message = error.message.replace(`SSH public key '${name}'`, `the SSH public key in '${shown}'`);
      throw new CliError(message, { cause: error });
    }
    throw error;
  }
}

/**
 * The public key of the SSH key at `keyPath`, named `name`: read from a public key file, from
 * the `.pub` beside a private key (the one ssh-keygen -Y sign itself looks for in the agent),
 * or else from `ssh-keygen -y -f KEY`, which asks for the passphrase of an encrypted key.
 */
export async function sshPublicKeyOf(
  io: SshIo,
  keyPath: string,
  name: string,
  options: SshKeygenOptions = {},
): Promise<SshPublicKey> {
  const path = await checkReadable(io, keyPath);
  const kind = await keyFileKind(io, keyPath);
  if (kind === 'ssh-public-key') return readPublicKeyFile(path, keyPath, name);
  if (kind === 'other') {
    throw new CliError(
      `key file '${keyPath}' is not an SSH key: expected a private key made by ssh-keygen, or its .pub`,
    );
  }
  if (await exists(`${path}.pub`)) return readPublicKeyFile(`${path}.pub`, `${keyPath}.pub`, name);
  // ssh-keygen -y asks for the passphrase of an encrypted key: a signal must not leave it asking.
  const guard = endOnSignal(() => undefined);
  let ran: Ran;
  try {
    ran = await runSshKeygen(io, ['-y', '-f', path], options, guard);
  } finally {
    guard.stop();
  }
  if (ran.code !== 0) throw new CliError(explainSshKeygenFailure(ran, keyPath, io.env));
  return parsePublicKeyText(ran.stdout, keyPath, name);
}
