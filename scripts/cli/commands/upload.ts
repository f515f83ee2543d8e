import { showInvisible } from '../../../src/protocol/text.js';
import { NixError } from '../../../src/nix/errors.js';
import { readRegistry, writeRegistry, type Registry } from '../../../src/nix/registry.js';
import { flag, numberOption, requiredOption, stringOption, type Command } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { readInput } from '../files.js';
import { readSigner } from '../signer.js';
import {
  confirmOrStop,
  deliverProposal,
  fetchLatest,
  fetchVersion,
  PROPOSAL_OPTIONS,
  readServedFile,
  type ServedVersion,
} from '../served.js';
import { diffText, entryDiff } from '../show.js';
import { makeProposal } from '../wire.js';
import { lifetime } from './propose.js';

/** `upload FILE`: a whole registry file as one signed proposal, after showing what it changes. */
export const upload: Command = {
  name: 'upload',
  summary:
    'Propose a whole registry file: shows its diff and resolution impact against the live version, then signs and sends it.',
  usage: 'FILE --registry NAME --key KEY_FILE [--yes] [options]',
  description: [
    'FILE is read as Nix reads a registry file; a file Nix would read only in part is refused, naming the entry. A file identical to the live version sends nothing.',
    'Offline: --base N --base-file FILE --out OUT diffs against a copy of version N and writes the signed proposal without asking any server.',
  ],
  positionals: { min: 1, max: 1, names: 'FILE' },
  options: {
    ...PROPOSAL_OPTIONS,
    'base-file': {
      type: 'string',
      value: 'FILE',
      description: "version N's file (with --base N), to work without a server",
    },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
  },
  examples: ['flake-registry upload registries/global.json --registry global --key alice.sec'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const [path = ''] = args.positionals;
    const name = requiredOption(args, 'registry', 'upload');
    const keyPath = requiredOption(args, 'key', 'upload');
    const lifetimeMs = lifetime(args, 'upload');
    const baseNumber = numberOption(args, 'base', 'upload');
    const baseFile = stringOption(args, 'base-file');
    if (baseFile !== undefined && baseNumber === undefined) {
      throw new UsageError('--base-file needs --base N: the version the file is', 'upload');
    }
    const local = readLocal(await readInput(ctx.io, path, 'registry file'), path);
    const key = await readSigner(ctx.io, keyPath);

    let base: ServedVersion;
    if (baseFile !== undefined && baseNumber !== undefined) {
      const text = await readInput(ctx.io, baseFile, 'base file');
      base = { version: baseNumber, text, registry: readServedFile(text, `base file '${baseFile}'`) };
    } else if (baseNumber !== undefined) {
      base = await fetchVersion(ctx.client(), name, baseNumber);
    } else {
      base = await fetchLatest(ctx.client(), name);
    }

    // With --id-only, stdout is the id alone: what a person should read goes to stderr.
    const tell = flag(args, 'id-only')
      ? (text: string) => ctx.io.err(`${showInvisible(text)}\n`)
      : (text: string) => ctx.say(text);
    if (writeRegistry(local) === writeRegistry(base.registry)) {
      tell(`nothing to change: ${path} has the entries of version ${base.version} of registry '${name}'`);
      ctx.data({ registry: name, base: base.version, changed: false });
      return;
    }
    const diff = entryDiff(base.registry, local);
    tell(`${path} against version ${base.version} of registry '${name}':`);
    tell(diffText(diff));
    await confirmOrStop(
      ctx,
      flag(args, 'yes'),
      `Sign and ${stringOption(args, 'out') === undefined ? 'send' : 'write'} this proposal as ${key.name}?`,
      keyPath === '-',
    );
    const proposal = makeProposal({
      registry: name,
      base: base.version,
      changes: [{ op: 'file', file: JSON.parse(writeRegistry(local)) as { version: 2 } }],
      message: stringOption(args, 'message') ?? `Upload ${path.split('/').at(-1) ?? path}`,
      now: ctx.io.now(),
      lifetimeMs,
    });
    await deliverProposal(ctx, proposal, key, stringOption(args, 'out'), flag(args, 'id-only'));
  },
};

/** The file to upload, whole as Nix reads it or refused naming the entry. */
function readLocal(text: string, path: string): Registry {
  try {
    return readRegistry(text, path);
  } catch (error) {
    if (error instanceof NixError) throw new CliError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
