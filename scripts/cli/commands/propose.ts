import type { Registry } from '../../../src/nix/registry.js';
import type { Change } from '../../../src/protocol/changes.js';
import { PolicyError, readPolicy } from '../../../src/protocol/policy.js';
import {
  checkAnchor,
  checkNamed,
  describeChange,
  fromAttrs,
  moveChange,
  positionFrom,
  removeChange,
  setChange,
} from '../changes.js';
import {
  flag,
  numberOption,
  requiredOption,
  stringOption,
  type Args,
  type Command,
  type Context,
  type OptionDef,
} from '../command.js';
import { DEFAULT_EXPIRY, parseDuration } from '../duration.js';
import { CliError, UsageError } from '../errors.js';
import { readJsonFile } from '../files.js';
import { readSigner } from '../signer.js';
import { deliverProposal, fetchLatest, PROPOSAL_OPTIONS } from '../served.js';
import { makeProposal } from '../wire.js';

/** `propose set|remove|move|policy`: a proposal of one change, signed and sent (or written out). */

const EXACT: OptionDef = { type: 'boolean', description: 'the exact entry of FROM_URL (matches only that ref)' };
const PLACE: Readonly<Record<string, OptionDef>> = {
  before: { type: 'string', value: 'FROM_URL', description: 'place it before the entry with this from' },
  after: { type: 'string', value: 'FROM_URL', description: 'place it after the entry with this from' },
  start: { type: 'boolean', description: 'place it first' },
  end: { type: 'boolean', description: 'place it last' },
  'anchor-exact': { type: 'boolean', description: 'the --before/--after entry is the exact one of its from' },
  'anchor-non-exact': { type: 'boolean', description: 'the --before/--after entry is the non-exact one of its from' },
};

interface Plan {
  readonly change: (live: Registry | undefined) => Change;
}

/** The parts every propose subcommand shares: registry, key, base, expiry, message, sending. */
async function propose(ctx: Context, args: Args, command: string, plan: Plan): Promise<void> {
  const registry = requiredOption(args, 'registry', command);
  const keyPath = requiredOption(args, 'key', command);
  const lifetimeMs = lifetime(args, command);
  const out = stringOption(args, 'out');
  let base = numberOption(args, 'base', command);
  const key = await readSigner(ctx.io, keyPath);
  // The URLs are checked before any server is asked.
  plan.change(undefined);
  // Offline (--base with --out) nothing is checked against the live registry: the server checks on submission.
  let live: Registry | undefined;
  if (base === undefined || out === undefined) {
    const latest = await fetchLatest(ctx.client(), registry);
    live = base === undefined || base === latest.version ? latest.registry : undefined;
    base ??= latest.version;
  }
  const change = plan.change(live);
  const proposal = makeProposal({
    registry,
    base,
    changes: [change],
    message: stringOption(args, 'message') ?? describeChange(change),
    now: ctx.io.now(),
    lifetimeMs,
  });
  await deliverProposal(ctx, proposal, key, out, flag(args, 'id-only'));
}

export function lifetime(args: Args, command: string): number {
  try {
    return parseDuration(stringOption(args, 'expires-in') ?? DEFAULT_EXPIRY);
  } catch (error) {
    throw new UsageError(`--expires-in: ${(error as Error).message}`, command);
  }
}

function placeFlags(args: Args) {
  return {
    before: stringOption(args, 'before'),
    after: stringOption(args, 'after'),
    start: flag(args, 'start'),
    end: flag(args, 'end'),
    anchorExact: flag(args, 'anchor-exact'),
    anchorNonExact: flag(args, 'anchor-non-exact'),
  };
}

const COMMON = PROPOSAL_OPTIONS;

export const proposeSet: Command = {
  name: 'propose set',
  summary: 'Propose to add an entry, or to replace the entry with the same from (and exactness).',
  usage: 'FROM_URL TARGET_URL --registry NAME --key KEY_FILE [--exact] [--before|--after FROM_URL | --start | --end]',
  description: [
    'FROM_URL is what the entry matches (usually an indirect ref like nixpkgs or nixpkgs/nixos-25.05); TARGET_URL what it resolves to, where a ?dir= goes into the target. Without a position a new entry goes last and a replaced one stays where it is.',
  ],
  positionals: { min: 2, max: 2, names: 'FROM_URL and TARGET_URL' },
  options: { exact: EXACT, ...PLACE, ...COMMON },
  examples: [
    'flake-registry propose set nixpkgs/nixos-25.05 github:NixOS/nixpkgs/nixos-25.05 --exact --before nixpkgs --registry global --key alice.sec',
  ],
  json: true,
  server: true,
  run: (ctx, args) => {
    const [from = '', target = ''] = args.positionals;
    return propose(ctx, args, 'propose set', {
      change: (live) => {
        const position = positionFrom(placeFlags(args), live, 'propose set');
        if (live) checkAnchor(live, position);
        return setChange(from, target, flag(args, 'exact'), position);
      },
    });
  },
};

export const proposeRemove: Command = {
  name: 'propose remove',
  summary: 'Propose to remove the entry with this from (the non-exact one, or the exact one with --exact).',
  usage: 'FROM_URL --registry NAME --key KEY_FILE [--exact]',
  positionals: { min: 1, max: 1, names: 'FROM_URL' },
  options: { exact: EXACT, ...COMMON },
  examples: ['flake-registry propose remove templates --registry global --key alice.sec'],
  json: true,
  server: true,
  run: (ctx, args) => {
    const [from = ''] = args.positionals;
    const exact = flag(args, 'exact');
    return propose(ctx, args, 'propose remove', {
      change: (live) => {
        if (live) checkNamed(live, fromAttrs(from, 'from'), exact, 'remove');
        return removeChange(from, exact);
      },
    });
  },
};

export const proposeMove: Command = {
  name: 'propose move',
  summary: 'Propose to move an entry: order decides which entry Nix uses first.',
  usage: 'FROM_URL (--before|--after FROM_URL | --start | --end) --registry NAME --key KEY_FILE [--exact]',
  positionals: { min: 1, max: 1, names: 'FROM_URL' },
  options: { exact: EXACT, ...PLACE, ...COMMON },
  examples: ['flake-registry propose move nixpkgs --exact --start --registry global --key alice.sec'],
  json: true,
  server: true,
  run: (ctx, args) => {
    const [from = ''] = args.positionals;
    const exact = flag(args, 'exact');
    return propose(ctx, args, 'propose move', {
      change: (live) => {
        const position = positionFrom(placeFlags(args), live, 'propose move');
        if (position === undefined) {
          throw new UsageError('say where to: --before FROM_URL, --after FROM_URL, --start or --end', 'propose move');
        }
        if (live) {
          checkNamed(live, fromAttrs(from, 'from'), exact, 'move');
          checkAnchor(live, position);
        }
        return moveChange(from, exact, position);
      },
    });
  },
};

export const proposePolicy: Command = {
  name: 'propose policy',
  summary: 'Propose a new trust policy: the maintainer keys and how many must sign.',
  usage: 'FILE --registry NAME --key KEY_FILE',
  description: [
    'FILE is {"keys": ["name:base64-public-key", ...], "threshold": K}, as registries/NAME.policy.json. It needs the threshold of the policy in force and of the new one.',
    'A key is a Nix public key (name:base64), or name: followed by an OpenSSH .pub line (name:ssh-ed25519 AAAA... comment, or sk-ssh-ed25519@openssh.com for a security key).',
  ],
  positionals: { min: 1, max: 1, names: 'FILE' },
  options: COMMON,
  examples: ['flake-registry propose policy new-policy.json --registry global --key alice.sec'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const [path = ''] = args.positionals;
    const json = await readJsonFile(ctx.io, path, 'policy file');
    let policy;
    try {
      policy = readPolicy(json);
    } catch (error) {
      if (error instanceof PolicyError) throw new CliError(`policy file '${path}': ${error.message}`);
      throw error;
    }
    return propose(ctx, args, 'propose policy', { change: () => ({ op: 'policy', policy: policy.json }) });
  },
};
