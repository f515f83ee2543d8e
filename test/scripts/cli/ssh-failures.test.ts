import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSshKeygenFailure } from '../../../scripts/cli/ssh-failures.js';

/** A socket that is there (an agent's place), and a path where nothing is. */
const dir = mkdtempSync(join(tmpdir(), 'ssh-failures-'));
const agentSocket = join(dir, 'agent.sock');
let agent: Server;
beforeAll(async () => {
  agent = createServer();
  await new Promise<void>((done) => agent.listen(agentSocket, done));
});
afterAll(async () => {
  await new Promise<void>((done) => agent.close(() => done()));
  rmSync(dir, { recursive: true, force: true });
});

/** What ssh-keygen 9.2 writes to stderr in each case (captured from it), and the line it becomes. */
const CASES: readonly [string, string, Record<string, string>, RegExp][] = [
  [
    'a private key file that is not a key (ssh-keygen -y)',
    'Load key "notakey": error in libcrypto\n',
    {},
    /^'k' is not an SSH key ssh-keygen can read/,
  ],
  [
    'a file that is not a key',
    "Couldn't load public key notakey: No such file or directory\n",
    {},
    /^'k' is not an SSH key ssh-keygen can read: give a private key made by ssh-keygen, or its .pub$/,
  ],
  [
    'a public key alone, no agent',
    'No private key found for public key "lonely/plain.pub"\n',
    {},
    /^'k' is a public key, no agent is running \(SSH_AUTH_SOCK is not set\), and no private key is beside it/,
  ],
  [
    'a public key alone, an agent without it',
    'No private key found for public key "lonely/plain.pub"\n',
    { SSH_AUTH_SOCK: agentSocket },
    /the agent at SSH_AUTH_SOCK does not hold it/,
  ],
  [
    'a public key alone, SSH_AUTH_SOCK naming nothing',
    'No private key found for public key "lonely/plain.pub"\n',
    { SSH_AUTH_SOCK: join(dir, 'gone.sock') },
    /there is no agent at SSH_AUTH_SOCK \('.*gone\.sock': nothing is there\)/,
  ],
  [
    'a wrong passphrase',
    'Load key "enc": incorrect passphrase supplied to decrypt private key\n',
    {},
    /^wrong passphrase for 'k' \(or none was given\)$/,
  ],
  [
    'a passphrase prompt that could not run',
    'ssh_askpass: exec(/usr/bin/ssh-askpass): No such file or directory\nLoad key "enc": incorrect passphrase supplied to decrypt private key\n',
    {},
    /^ssh-keygen could not ask for the passphrase of 'k': no terminal, and SSH_ASKPASS cannot run/,
  ],
  [
    'a private key others can read',
    '@@@@@@@@\n@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\n@@@@@@@@\nPermissions 0644 for \'open\' are too open.\nNo private key found for "open"\n',
    {},
    /^ssh-keygen refuses 'k': others can read it \(chmod 600 'k'\)$/,
  ],
  [
    'a .pub that is not the private key beside it',
    "Public key plain2 doesn't match private plain2\n",
    {},
    /^'k' and the private key beside it are different keys/,
  ],
  [
    'an agent that refused (ssh-add -c, declined)',
    "Couldn't sign message (signer): agent refused operation\nSigning msg failed: agent refused operation\n",
    {},
    /^ssh-agent refused to sign with 'k' \(a confirmation was declined, or the security key was not touched\)$/,
  ],
  [
    'a security key that is not plugged in',
    "Couldn't sign message: device not found\nSigning (stdin) failed: device not found\n",
    {},
    /^no security key answered for 'k': plug it in and try again$/,
  ],
  [
    'an ssh-keygen older than -Y sign',
    'ssh-keygen: illegal option -- Y\nusage: ssh-keygen [-q] [-b bits] ...\n',
    {},
    /-Y sign needs OpenSSH 8.2 or newer/,
  ],
  [
    'an ssh-keygen older than -O hashalg',
    'Invalid option "hashalg=sha256"\n',
    {},
    /-O hashalg\): that needs OpenSSH 8.9 or newer/,
  ],
  [
    'anything else, by its last line',
    "Couldn't sign message: requested feature not supported\nSigning /tmp/m failed: requested feature not supported\n\n",
    {},
    /^ssh-keygen failed with 'k': Signing \/tmp\/m failed: requested feature not supported$/,
  ],
];

describe('what a failed ssh-keygen becomes', () => {
  it.each(CASES)('says what to do about %s', (_, stderr, env, expected) => {
    const line = explainSshKeygenFailure({ code: 255, signal: null, stderr }, 'k', env);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
  });

  it('says the signing was cancelled when ssh-keygen was stopped by a signal', () => {
    expect(explainSshKeygenFailure({ code: null, signal: 'SIGINT', stderr: '' }, 'k', {})).toBe(
      "signing with 'k' was cancelled (ssh-keygen stopped by SIGINT)",
    );
  });

  it('names the exit status when ssh-keygen said nothing', () => {
    expect(explainSshKeygenFailure({ code: 3, signal: null, stderr: '' }, 'k', {})).toBe(
      "ssh-keygen failed with 'k': exit status 3",
    );
  });
});
