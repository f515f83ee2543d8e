import { nameProblem } from '../../../src/protocol/text.js';
import { chmod, open, readFile, writeFile } from 'node:fs/promises';
import { noteKeyNameProblem } from '../../../src/log/note.js';
import { readLogKey } from '../../../src/log/origin.js';
import { formatVerifierKey, verifierKey } from '../../../src/log/vkey.js';
import { setDevVar } from '../../dev-vars.js';
import { join, resolve } from 'node:path';
import {
  formatPublicKey,
  formatSecretKey,
  generateSecretKey,
  KeyError,
  type PublicKey,
} from '../../../src/crypto/keys.js';
import { flag, requiredOption, stringOption, type Command } from '../command.js';
import { addTrustedKeys } from '../devvars.js';
import { CliError, UsageError } from '../errors.js';
import { fileProblem, parsePublicKeyArg, readPublicKeyFile, readSecretKey } from '../files.js';

/** Keys in Nix's format: making them, their public form, trusting them locally. */

export const keygen: Command = {
  name: 'keygen',
  summary:
    "Make a new Ed25519 key pair in Nix's format: the secret key goes to FILE (mode 0600), the public key to stdout.",
  usage: '--name NAME --out FILE',
  description: [
    'FILE must not exist: a key file is never overwritten. The same as `nix key generate-secret --key-name NAME > FILE`.',
  ],
  positionals: { min: 0, max: 0, names: '' },
  options: {
    name: { type: 'string', value: 'NAME', description: 'the key name, e.g. alice-2026 (no spaces or colons)' },
    out: { type: 'string', value: 'FILE', description: 'where the secret key is written' },
  },
  examples: ['flake-registry keygen --name alice --out alice.sec'],
  json: true,
  server: false,
  run: async (ctx, args) => {
    const name = requiredOption(args, 'name', 'keygen');
    const problem = nameProblem(name);
    if (problem) throw new UsageError(`--name ${problem}`, 'keygen');
    const out = requiredOption(args, 'out', 'keygen');
    if (out === '-') throw new UsageError('--out must be a file: a secret key is never printed', 'keygen');
    let key;
    try {
      key = await generateSecretKey(name);
    } catch (error) {
      if (error instanceof KeyError) throw new CliError(error.message);
      throw error;
    }
    const path = resolve(ctx.io.cwd, out);
    let handle;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'EEXIST') throw new CliError(`'${out}' already exists; a key file is never overwritten`);
      if (code === 'ENOENT') throw new CliError(`cannot create '${out}': its directory does not exist`);
      throw new CliError(`cannot create '${out}': ${fileProblem(error).replace(/^cannot be read: /, '')}`);
    }
    try {
      await handle.writeFile(formatSecretKey(key));
    } finally {
      await handle.close();
    }
    const publicKey = formatPublicKey(key.publicKey);
    ctx.say(publicKey);
    ctx.data({ name, publicKey, secretKeyFile: out });
  },
};

export const pubkey: Command = {
  name: 'pubkey',
  summary: 'Print the public key of a secret key file (as `nix key convert-secret-to-public`).',
  usage: 'KEYFILE|- [--vkey]',
  description: [
    'With --vkey, print it as the verifier key (vkey) of signed notes instead: how a log key (LOG_SIGNING_KEY) is given to clients, e.g. to `flake-registry sync --log-key`.',
  ],
  positionals: { min: 1, max: 1, names: 'KEYFILE (or - for stdin)' },
  options: {
    vkey: {
      type: 'boolean',
      description: "print the key as a signed-note verifier key (NAME+ID+KEY), a log key's public form",
    },
  },
  examples: [
    'flake-registry pubkey alice.sec',
    'flake-registry pubkey - < alice.sec',
    'flake-registry pubkey --vkey log.sec',
  ],
  json: true,
  server: false,
  run: async (ctx, args) => {
    const key = await readSecretKey(ctx.io, args.positionals[0] ?? '-');
    const publicKey = formatPublicKey(key.publicKey);
    if (flag(args, 'vkey')) {
      const why = noteKeyNameProblem(key.name);
      if (why !== undefined) {
        throw new CliError(
          `the key's name '${key.name}' ${why}, so it cannot sign notes: make a log key with another name`,
        );
      }
      const vkey = formatVerifierKey(verifierKey(key.publicKey));
      ctx.say(vkey);
      ctx.data({ name: key.name, publicKey, vkey });
      return;
    }
    ctx.say(publicKey);
    ctx.data({ name: key.name, publicKey });
  },
};

/** A key given on the command line must be public: a secret one there would be in shell history. */
function publicKeyArg(text: string, index: number): PublicKey {
  if (/^[^:]+:[A-Za-z0-9+/]{86}(==)?\s*$/.test(text)) {
    throw new CliError(
      `argument ${index + 1} is a secret key, which must never be given as an argument: give its public key (flake-registry pubkey FILE) or --key FILE`,
    );
  }
  return parsePublicKeyArg(text);
}

export const trustLocal: Command = {
  name: 'trust-local',
  summary:
    'Trust public keys on the local development server: adds them to DEV_TRUSTED_KEYS in .dev.vars of this checkout (--log-key sets the key that signs its logs).',
  usage: 'PUBKEY... | --key FILE | --log-key SECRET_FILE',
  description: [
    "Other lines of .dev.vars are kept, and a key already listed (as bytes, whatever its name) is not added twice. The keys join a registry's genesis policy only when the registry is first created, so reset the local state for them to take effect: rm -rf .wrangler/state, then restart npm start.",
  ],
  positionals: { min: 0, max: Number.POSITIVE_INFINITY, names: 'PUBKEY' },
  options: {
    key: {
      type: 'string',
      value: 'FILE',
      description: 'take the key from a key file (public or secret; only its public key is written)',
    },
    'log-key': {
      type: 'string',
      value: 'SECRET_FILE',
      description:
        "sign the local registries' transparency logs with this secret key: sets LOG_SIGNING_KEY (restart npm start)",
    },
  },
  examples: [
    'flake-registry trust-local "$(flake-registry pubkey alice.sec)" "$(flake-registry pubkey bob.sec)"',
    'flake-registry trust-local --key alice.sec',
    'flake-registry keygen --name localhost --out log.sec && flake-registry trust-local --log-key log.sec',
  ],
  json: true,
  server: false,
  run: async (ctx, args) => {
    const keys = args.positionals.map(publicKeyArg);
    const file = stringOption(args, 'key');
    if (file !== undefined) keys.push(await readPublicKeyFile(ctx.io, file));
    const logKeyFile = stringOption(args, 'log-key');
    const logKey = logKeyFile === undefined ? undefined : await readSecretKey(ctx.io, logKeyFile);
    if (logKey) {
      const read = await readLogKey(formatSecretKey(logKey));
      if (read && 'problem' in read)
        throw new CliError(read.problem.replace(/^LOG_SIGNING_KEY/, `--log-key ${logKeyFile}`));
    }
    if (keys.length === 0 && !logKey) {
      throw new UsageError('give at least one public key, --key FILE or --log-key SECRET_FILE', 'trust-local');
    }
    if (ctx.io.root === undefined) {
      throw new CliError(
        'trust-local edits .dev.vars in a checkout of flake-registry-service, and this flake-registry is a copy outside one: run `npx flake-registry trust-local` in the checkout',
      );
    }
    const path = join(ctx.io.root, '.dev.vars');
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw new CliError(`${path} ${fileProblem(error)}`);
    }
    const update = keys.length === 0 ? undefined : addTrustedKeys(text, keys);
    let written = update?.text ?? text;
    if (logKey) written = setDevVar(written, 'LOG_SIGNING_KEY', formatSecretKey(logKey).trim());
    try {
      await writeFile(path, written ?? '', { mode: 0o600 });
      await chmod(path, 0o600);
    } catch (error) {
      throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
    }
    if (logKey) {
      const vkey = formatVerifierKey(verifierKey(logKey.publicKey));
      ctx.say(
        `set LOG_SIGNING_KEY in ${path}: the local registries' logs are signed by '${logKey.name}' (vkey ${vkey})`,
      );
      ctx.say('Restart npm start for it to take effect (the registries and their history stay).');
      if (!update) {
        ctx.data({ file: path, logKey: vkey });
        return;
      }
    }
    if (!update) return;
    const names = update.added.map((k) => k.name).join(', ');
    ctx.say(
      update.added.length === 0
        ? `${path} already trusts ${keys.length === 1 ? 'this key' : 'these keys'} (${update.keys.length} trusted for local development)`
        : `added ${names} to DEV_TRUSTED_KEYS in ${path} (${update.keys.length} trusted for local development)`,
    );
    ctx.say(
      "The keys join a registry's trust policy only when it is first created: reset the local state for them to take effect:\n  rm -rf .wrangler/state && npm start",
    );
    ctx.data({
      file: path,
      keys: update.keys.map(formatPublicKey),
      added: update.added.map(formatPublicKey),
      ...(logKey ? { logKey: formatVerifierKey(verifierKey(logKey.publicKey)) } : {}),
    });
  },
};
