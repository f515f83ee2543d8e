/**
 * One line for each way ssh-keygen (OpenSSH 8.2 to 10) fails to sign or to print a public
 * key, told from what it wrote to stderr (ssh-keygen.c, sshsig.c, authfile.c, ssherr.c).
 * The user has seen ssh-keygen's own lines already; this says what to do about them.
 */

import { statSync } from 'node:fs';

export interface SshKeygenFailure {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

type Env = Readonly<Record<string, string | undefined>>;

interface Rule {
  readonly when: RegExp;
  readonly say: (key: string, env: Env) => string;
}

/** Why no agent signed: none is set, nothing or no socket is at SSH_AUTH_SOCK, or the agent lacks the key. */
function noAgent(env: Env): string {
  const socket = env['SSH_AUTH_SOCK'];
  if (!socket) return 'no agent is running (SSH_AUTH_SOCK is not set)';
  let info;
  try {
    info = statSync(socket);
  } catch {
    return `there is no agent at SSH_AUTH_SOCK ('${socket}': nothing is there)`;
  }
  if (!info.isSocket()) return `there is no agent at SSH_AUTH_SOCK ('${socket}' is not a socket)`;
  return 'the agent at SSH_AUTH_SOCK does not hold it';
}

/** First match wins: the more specific causes come before the errors they lead to. */
const RULES: readonly Rule[] = [
  {
    when: /usage: ssh-keygen|(unknown|illegal|invalid) option -- Y/i,
    say: () => 'this ssh-keygen cannot sign files: -Y sign needs OpenSSH 8.2 or newer',
  },
  {
    when: /Invalid option "hashalg=/,
    say: () => 'this ssh-keygen cannot choose the hash (-O hashalg): that needs OpenSSH 8.9 or newer',
  },
  {
    when: /UNPROTECTED PRIVATE KEY FILE|bad permissions/,
    say: (key) => `ssh-keygen refuses '${key}': others can read it (chmod 600 '${key}')`,
  },
  {
    when: /ssh_askpass: (exec|fork)/,
    say: (key) =>
      `ssh-keygen could not ask for the passphrase of '${key}': no terminal, and SSH_ASKPASS cannot run (add the key to ssh-agent, or run on a terminal)`,
  },
  {
    when: /incorrect passphrase supplied/,
    say: (key) => `wrong passphrase for '${key}' (or none was given)`,
  },
  {
    when: /No private key found for public key/,
    say: (key, env) =>
      `'${key}' is a public key, ${noAgent(env)}, and no private key is beside it: ssh-add the key, or give the private key file`,
  },
  {
    when: /doesn't match private/,
    say: (key) => `'${key}' and the private key beside it are different keys; give the private key itself`,
  },
  {
    when: /agent refused operation/,
    say: (key) =>
      `ssh-agent refused to sign with '${key}' (a confirmation was declined, or the security key was not touched)`,
  },
  {
    when: /communication with agent failed|agent not present/,
    say: () => 'ssh-agent did not answer (is SSH_AUTH_SOCK the socket of a running agent?)',
  },
  {
    when: /device not found/,
    say: (key) => `no security key answered for '${key}': plug it in and try again`,
  },
  {
    when: /Couldn't load public key .*: (No such file or directory|invalid format)|No private key found for "|Load key "[^"]*": (invalid format|error in libcrypto)/,
    say: (key) => `'${key}' is not an SSH key ssh-keygen can read: give a private key made by ssh-keygen, or its .pub`,
  },
];

function lastLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/\r$/, '').trim())
    .filter((line) => line !== '' && !/^@+$/.test(line));
  return lines.at(-1) ?? '';
}

/** The one line a failed run of ssh-keygen on `key` becomes. */
export function explainSshKeygenFailure(ran: SshKeygenFailure, key: string, env: Env): string {
  if (ran.signal !== null) return `signing with '${key}' was cancelled (ssh-keygen stopped by ${ran.signal})`;
  for (const rule of RULES) if (rule.when.test(ran.stderr)) return rule.say(key, env);
  const last = lastLine(ran.stderr);
  const said = last === '' ? `exit status ${ran.code ?? 'unknown'}` : last.slice(0, 200);
  return `ssh-keygen failed with '${key}': ${said}`;
}
