import { existsSync, readFileSync } from 'node:fs';
import { SHA256_HEX } from '../../../src/protocol/names.js';
import { join } from 'node:path';
import { NixError } from '../../../src/nix/errors.js';
import { diffRegistries, type ChangeSummary } from '../../../src/nix/diff.js';
import { readRegistry, writeRegistry, type Registry } from '../../../src/nix/registry.js';
import { formatImpact } from '../../../src/nix/impact.js';
import { readPolicy } from '../../../src/protocol/policy.js';
import type { VersionRecord } from '../../../src/protocol/record.js';
import {
  PROPOSAL_STATUSES,
  policyAnswerSchema,
  proposalListSchema,
  proposalViewSchema,
  registryListSchema,
  resolutionSchema,
  versionPageSchema,
  type VersionPage,
} from '../../../src/api/answers.js';
import { seg } from '../client.js';
import { numberOption, stringOption, type Command, type Context, type OptionDef } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { fetchLatest, fetchVersion, type ServedVersion } from '../served.js';
import { countSummary, diffText, entryDiff, proposalLine, proposalText } from '../show.js';

/** Reading the service: proposals, history, diffs, resolution, status. */

const REGISTRY: OptionDef = { type: 'string', value: 'NAME', description: 'the registry (default: global)' };
const registryOf = (value: string | undefined): string => value ?? 'global';

/** How `resolve` and `audit` choose what to search, as /resolve takes it: registries, then overrides. */
export const LAYER_OPTIONS: Readonly<Record<'registry' | 'override-flake', OptionDef>> = {
  registry: {
    type: 'string',
    value: 'LIST',
    description: 'registries to search in order, each optionally pinned to a version (default: global)',
  },
  'override-flake': {
    type: 'pair',
    value: 'ORIGINAL RESOLVED',
    description: 'resolve ORIGINAL to RESOLVED first, as Nix does (repeatable)',
  },
};

const STATUSES: readonly string[] = PROPOSAL_STATUSES;

export const show: Command = {
  name: 'show',
  summary:
    'Show a proposal with its changes, resolution impact, lint and signatures; without ID, list the open proposals.',
  usage: '[ID] [--registry NAME]',
  positionals: { min: 0, max: 1, names: 'ID' },
  options: { registry: REGISTRY },
  examples: [
    'flake-registry show 13e73aeb6c02a1c2479083b0f515a3c653acfbc127c6ed02a63c23012d84dc29',
    'flake-registry show --registry global',
  ],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = registryOf(stringOption(args, 'registry'));
    const [id] = args.positionals;
    if (id === undefined) {
      // One line each: a proposal in full can be thousands of lines (`show ID` gives it).
      const list = await ctx
        .client()
        .getJson(`/registries/${seg(name)}/proposals?status=open&limit=100`, proposalListSchema);
      ctx.data(list.proposals);
      if (list.proposals.length === 0) ctx.say(`registry '${name}' has no open proposals`);
      for (const p of list.proposals) ctx.say(proposalLine(p));
      if (list.proposals.length > 0) ctx.say('flake-registry show ID shows one in full');
      return;
    }
    if (!SHA256_HEX.test(id)) throw new UsageError(`a proposal id is 64 lowercase hex digits, got '${id}'`, 'show');
    const view = await ctx.client().getJson(`/registries/${seg(name)}/proposals/${id}`, proposalViewSchema);
    ctx.say(proposalText(view));
    ctx.data(view);
  },
};

export const proposals: Command = {
  name: 'proposals',
  summary: 'List proposals, newest first, one line each.',
  usage: '[--status open|merged|conflict|failed] [--limit N] [--registry NAME]',
  positionals: { min: 0, max: 0, names: '' },
  options: {
    registry: REGISTRY,
    status: { type: 'string', value: 'STATUS', description: 'only open, merged, conflict or failed ones' },
    limit: { type: 'string', value: 'N', description: 'at most N (1 to 100, default 50)' },
  },
  examples: ['flake-registry proposals --status open'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = registryOf(stringOption(args, 'registry'));
    const status = stringOption(args, 'status');
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`, 'proposals');
    }
    const limit = numberOption(args, 'limit', 'proposals') ?? 50;
    if (limit > 100) throw new UsageError('--limit is at most 100', 'proposals');
    const query = `?limit=${limit}${status === undefined ? '' : `&status=${status}`}`;
    const list = await ctx.client().getJson(`/registries/${seg(name)}/proposals${query}`, proposalListSchema);
    ctx.data(list.proposals);
    if (list.proposals.length === 0)
      ctx.say(`registry '${name}' has no${status === undefined ? '' : ` ${status}`} proposals`);
    for (const p of list.proposals) ctx.say(proposalLine(p));
  },
};

function historyLine(r: VersionRecord): string {
  const source =
    r.source.kind === 'embedded'
      ? 'embedded registry (genesis)'
      : `proposal ${r.source.id.slice(0, 12)} ${JSON.stringify(r.source.proposal['message'] ?? '')}`;
  return `version ${r.version}  ${r.created}  ${source}  ${countSummary(r.changes)}; ${r.entries} entries`;
}

export const history: Command = {
  name: 'history',
  summary: "A registry's versions, newest first: time, the proposal that made each, what changed.",
  usage: '[--limit N] [--registry NAME]',
  positionals: { min: 0, max: 0, names: '' },
  options: {
    registry: REGISTRY,
    limit: { type: 'string', value: 'N', description: 'at most N versions (default 20)' },
  },
  examples: ['flake-registry history --limit 5'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = registryOf(stringOption(args, 'registry'));
    const limit = numberOption(args, 'limit', 'history') ?? 20;
    const records: VersionRecord[] = [];
    let path: string | null = `/registries/${seg(name)}/versions?limit=${Math.min(limit, 100)}`;
    while (path !== null && records.length < limit) {
      const page: VersionPage = await ctx.client().getJson(path, versionPageSchema);
      records.push(...page.versions.slice(0, limit - records.length));
      path = page.next;
    }
    ctx.data(records);
    for (const r of records) ctx.say(historyLine(r));
  },
};

function versionArg(text: string): number {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) < 1)
    throw new UsageError(`'${text}' is not a version number`, 'diff');
  return Number(text);
}

export const diff: Command = {
  name: 'diff',
  summary: 'What changed between two versions of a registry: entries (with targets) and resolution impact.',
  usage: 'A B [--registry NAME]',
  positionals: { min: 2, max: 2, names: 'versions A and B' },
  options: { registry: REGISTRY },
  examples: ['flake-registry diff 1 3 --registry global'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = registryOf(stringOption(args, 'registry'));
    const [a = '', b = ''] = args.positionals;
    const [va, vb] = [versionArg(a), versionArg(b)];
    const [before, after] = await Promise.all([
      fetchVersion(ctx.client(), name, va),
      fetchVersion(ctx.client(), name, vb),
    ]);
    const d = entryDiff(before.registry, after.registry);
    ctx.say(`registry '${name}', version ${va} -> ${vb}:`);
    ctx.say(diffText(d));
    ctx.data({
      registry: name,
      from: va,
      to: vb,
      changes: d.summary,
      impact: d.impact.map((row) => ({ ...row, text: formatImpact(row) })),
    });
  },
};

export const resolve: Command = {
  name: 'resolve',
  summary:
    'Resolve a flake ref through the hosted registries as Nix would, and print the result as `nix registry resolve` does.',
  usage: 'REF [--registry NAME[@N][,NAME[@N]...]] [--override-flake ORIGINAL RESOLVED]...',
  description: [
    "--override-flake is Nix's: ORIGINAL resolves to RESOLVED before any registry is searched, the first of several for one ref wins, and a ref or rev in REF passes on to RESOLVED as through any entry that is not exact. Repeat it as Nix takes it.",
  ],
  positionals: { min: 1, max: 1, names: 'REF' },
  options: LAYER_OPTIONS,
  examples: [
    'flake-registry resolve nixpkgs/nixos-25.05',
    'flake-registry resolve nixpkgs --registry team,global@3',
    'flake-registry resolve nixpkgs --override-flake nixpkgs github:me/nixpkgs',
  ],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const [ref = ''] = args.positionals;
    const registries = stringOption(args, 'registry');
    const overrides = (args.pairs?.['override-flake'] ?? []).flatMap(
      ([original, resolved]) =>
        `&override-flake=${encodeURIComponent(original)}&override-flake=${encodeURIComponent(resolved)}`,
    );
    const query = `?ref=${encodeURIComponent(ref)}${registries === undefined ? '' : `&registry=${encodeURIComponent(registries)}`}${overrides.join('')}`;
    const answer = await ctx.client().getJson(`/resolve${query}`, resolutionSchema);
    ctx.say(answer.resolved.url);
    ctx.data(answer);
  },
};

export const status: Command = {
  name: 'status',
  summary:
    "The hosted registries: versions, open proposals, and whether this checkout's registries/NAME.json differs from what is served.",
  usage: '',
  positionals: { min: 0, max: 0, names: '' },
  options: {},
  examples: ['flake-registry status --url http://127.0.0.1:8787'],
  json: true,
  server: true,
  run: async (ctx) => {
    const client = ctx.client();
    const listing = await client.getJson('/registries', registryListSchema);
    const rows = [];
    for (const r of listing.registries) {
      if ('error' in r) {
        ctx.say(`${r.name}: cannot be served: ${r.error.detail}`);
        rows.push({ name: r.name, error: r.error.detail });
        continue;
      }
      const [open, latest] = await Promise.all([
        client.getJson(`/registries/${seg(r.name)}/proposals?status=open&limit=100`, proposalListSchema),
        fetchLatest(client, r.name),
      ]);
      const local = await checkoutFile(ctx, r.name, latest);
      ctx.say(
        `${r.name}: version ${latest.version}, ${r.entries} entries, ${open.proposals.length} open proposal${open.proposals.length === 1 ? '' : 's'}`,
      );
      for (const line of checkoutLines(local, r.name, latest.version)) ctx.say(`  ${line}`);
      const policy = await checkoutPolicy(ctx, r.name);
      if (policy.state === 'differs') {
        ctx.say(
          `  ${policy.path} differs from the policy in force (set by version ${policy.since}): editing it changes nothing once the registry exists; change keys with flake-registry propose policy FILE`,
        );
      }
      rows.push({
        name: r.name,
        version: latest.version,
        entries: r.entries,
        open: open.proposals.length,
        checkout: local,
        policy,
      });
    }
    ctx.data(rows);
  },
};

type CheckoutState =
  | { state: 'absent' }
  | { state: 'same'; path: string }
  /** The file is version 1 as embedded, and merges made the live registry newer. */
  | { state: 'older'; path: string }
  /**
   * The file differs from the live registry. `edits`: entries it changes against
   * version 1 (what someone edited in the checkout); `reverts`: entries the live
   * registry changed since version 1 that uploading the file would set back.
   */
  | { state: 'differs'; path: string; edits: string[]; reverts: string[]; clashes: string[] }
  | { state: 'unreadable'; path: string; detail: string };

const labels = (s: ChangeSummary): string[] => [...new Set([...s.added, ...s.removed, ...s.changed, ...s.moved])];

/** How registries/NAME.json in the checkout stands against the live registry, and which side is newer. */
async function checkoutFile(ctx: Context, name: string, latest: ServedVersion): Promise<CheckoutState> {
  const root = ctx.io.root;
  const path = join('registries', `${name}.json`);
  const full = root === undefined ? undefined : join(root, path);
  if (full === undefined || !existsSync(full)) return { state: 'absent' };
  let local: Registry;
  try {
    local = readRegistry(readFileSync(full, 'utf8'), path);
  } catch (error) {
    if (error instanceof NixError) return { state: 'unreadable', path, detail: error.message };
    throw new CliError(`${path} cannot be read: ${(error as Error).message}`);
  }
  if (writeRegistry(local) === latest.text) return { state: 'same', path };
  const seed = latest.version === 1 ? latest : await fetchVersion(ctx.client(), name, 1);
  if (writeRegistry(local) === seed.text) return { state: 'older', path };
  const edits = new Set(labels(diffRegistries(seed.registry, local).summary));
  const merged = new Set(labels(diffRegistries(seed.registry, latest.registry).summary));
  const upload = labels(diffRegistries(latest.registry, local).summary);
  return {
    state: 'differs',
    path,
    edits: [...edits],
    // What merged since version 1 and an upload would undo: set back to version 1 ...
    reverts: upload.filter((l) => merged.has(l) && !edits.has(l)),
    // ... or overwritten with the checkout's own edit of the same entry.
    clashes: upload.filter((l) => merged.has(l) && edits.has(l)),
  };
}

/** Whether registries/NAME.policy.json in the checkout is the policy in force (as bytes of keys and threshold). */
async function checkoutPolicy(
  ctx: Context,
  name: string,
): Promise<{ state: 'absent' } | { state: 'same' | 'differs'; path: string; since: number }> {
  const root = ctx.io.root;
  const path = join('registries', `${name}.policy.json`);
  if (root === undefined || !existsSync(join(root, path))) return { state: 'absent' };
  const live = await ctx.client().getJson(`/registries/${seg(name)}/policy`, policyAnswerSchema);
  let same = false;
  try {
    // Compared as policies: the same keys (by bytes) under the same names, and threshold.
    same = readPolicy(JSON.parse(readFileSync(join(root, path), 'utf8'))).sha256 === live.sha256;
  } catch {
    same = false;
  }
  return { state: same ? 'same' : 'differs', path, since: live.since };
}

function checkoutLines(local: CheckoutState, name: string, version: number): string[] {
  switch (local.state) {
    case 'absent':
    case 'same':
      return [];
    case 'older':
      return [
        `${local.path} is version 1 as embedded; the live registry (version ${version}) is newer. Nothing to publish: editing the file changes nothing once the registry exists.`,
      ];
    case 'unreadable':
      return [`${local.path} cannot be published: ${local.detail}`];
    case 'differs': {
      const lines = [
        `${local.path} differs from version ${version}, the live registry: it edits ${local.edits.length} entr${local.edits.length === 1 ? 'y' : 'ies'} against version 1${local.edits.length > 0 ? ` (${local.edits.join(', ')})` : ''}.`,
      ];
      const entries = (n: number) => `${n} entr${n === 1 ? 'y' : 'ies'}`;
      if (local.reverts.length > 0) {
        lines.push(
          `Uploading it as it is would also revert ${entries(local.reverts.length)} merged since version 1: ${local.reverts.join(', ')}.`,
        );
      }
      if (local.clashes.length > 0) {
        lines.push(
          `It edits ${entries(local.clashes.length)} that merged changes since version 1 changed too; uploading it would overwrite them: ${local.clashes.join(', ')}.`,
        );
      }
      if (local.reverts.length + local.clashes.length === 0) {
        lines.push(`To publish it: flake-registry upload ${local.path} --registry ${name} --key SECRET_FILE`);
      } else {
        lines.push(
          `Propose the edits alone (flake-registry propose set ...), or start from the live file (flake-registry diff, or GET /registries/${name}/flake-registry.json).`,
        );
      }
      return lines;
    }
  }
}
