import { duplicateMember } from '../../../src/protocol/json-members.js';
import { MAX_BODY_BYTES } from '../../../src/api/limits.js';
import { SHA256_HEX } from '../../../src/protocol/names.js';
import { showInvisibleInLine } from '../../../src/protocol/text.js';
import { AuditError, readAuditDocumentText } from '../../../src/nix/audit.js';
import { LockFileError } from '../../../src/nix/lockfile-error.js';
import { ManifestError } from '../../../src/nix/profile.js';
import {
  auditSchema,
  proposalAuditSchema,
  type AuditAnswer,
  type ProposalAuditAnswer,
} from '../../../src/api/answers.js';
import { seg, type Client } from '../client.js';
import { stringOption, type Args, type Command, type Context } from '../command.js';
import { CliError, FindingsError, UsageError } from '../errors.js';
import { readInputUpTo } from '../files.js';
import { LAYER_OPTIONS } from './read.js';

/**
 * `flake-registry audit FILE`: what the hosted registries do to a `flake.lock` or a profile's
 * `manifest.json` (POST /audit), or what a proposal would change of that
 * (POST /registries/NAME/proposals/ID/audit). docs/audit.md has the statuses; the exit status
 * lets CI gate on them (EXIT_FINDINGS).
 */

type Row = AuditAnswer['rows'][number];
type Status = Row['status'];
type Delta = ProposalAuditAnswer['changed'][number];

/** The statuses that mean the next update fetches something else than the lock, or fails. */
const FLAGGED: readonly Status['kind'][] = ['redirected', 'not-found', 'error'];

const value = (v: string | number | boolean | null): string => (v === null ? '(none)' : String(v));

/** A status as one phrase: `redirected (owner: NixOS -> me)`, `pinned by original`. */
export function statusText(status: Status): string {
  switch (status.kind) {
    case 'redirected':
      return `redirected (${status.changes.map((c) => `${c.attribute}: ${value(c.from)} -> ${value(c.to)}`).join(', ')})`;
    case 'pinned':
      return `pinned by ${status.by}`;
    case 'unverifiable':
      return `unverifiable (locked ${status.lockedUrl}, the registries give ${status.resolvedUrl})`;
    case 'not-found':
    case 'error':
      return `${status.kind}: ${status.message}`;
    case 'same-source':
    case 'direct':
    case 'not-from-flake':
      return status.kind;
  }
}

/**
 * A profile element whose indirect original names a rev: `nix profile upgrade` skips an element
 * whose original `isLocked()`, which through Nix 2.20 meant "names a rev or narHash"; since
 * 2.21 an indirect ref is never locked, so it is resolved again (src/nix/profile.cc). Its row
 * is what 2.21 and later do; the text says what older Nix does.
 */
const skippedByOldNix = (row: Pick<Row, 'kind' | 'pinsRev' | 'status'> | undefined): boolean =>
  row?.kind === 'element' && row.pinsRev === true && row.status.kind !== 'direct';
const OLD_NIX_SKIPS = 'Nix 2.8 to 2.20 never upgrade it: its original names a rev';

/** `home-manager/nixpkgs (follows nixpkgs)`, or an element's name. */
const rowName = (row: Pick<Row, 'id' | 'follows'>): string =>
  row.follows === undefined ? row.id : `${row.id} (follows ${row.follows === '' ? 'the root' : row.follows})`;

/**
 * Rows as aligned columns: what, the original ref, and the rest. Names come from the file, so
 * every cell is escaped (a newline too: a name cannot forge a line) and padded as escaped.
 */
function table(rows: readonly (readonly [string, string, string])[]): string[] {
  const shown = rows.map((r) => r.map(showInvisibleInLine));
  const w0 = Math.max(0, ...shown.map((r) => (r[0] ?? '').length));
  const w1 = Math.max(0, ...shown.map((r) => (r[1] ?? '').length));
  return shown.map(([a = '', b = '', c = '']) => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd());
}

/** Ids named in the last line, escaped as in the table. */
const idList = (ids: readonly string[]): string => ids.map(showInvisibleInLine).join(', ');

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
const things = (a: AuditAnswer, n: number): string =>
  a.document === 'flake.lock' ? plural(n, 'input', 'inputs') : plural(n, 'element', 'elements');

const searchedText = (a: AuditAnswer): string =>
  [
    ...(a.overrides === undefined
      ? []
      : [plural(a.overrides.length, '--override-flake pair', '--override-flake pairs')]),
    ...a.registries.map((r) => `${r.name}@${r.version}`),
  ].join(', ');

function counts(rows: readonly { status: Status }[]): string {
  const n = new Map<string, number>();
  for (const r of rows) n.set(r.status.kind, (n.get(r.status.kind) ?? 0) + 1);
  return [...n].map(([kind, count]) => `${count} ${kind}`).join(', ');
}

export function auditLines(a: AuditAnswer): string[] {
  const lines = [`${a.document} version ${a.version}, through ${searchedText(a)}:`];
  lines.push(
    ...table(
      a.rows.map(
        (r) =>
          [
            rowName(r),
            r.original?.url ?? '-',
            `${statusText(r.status)}${skippedByOldNix(r) ? ` (${OLD_NIX_SKIPS})` : ''}`,
          ] as const,
      ),
    ),
    ...a.warnings.map((w) => `warning: ${showInvisibleInLine(w)}`),
    `${things(a, a.rows.length)}${a.rows.length === 0 ? '' : `: ${counts(a.rows)}`}`,
  );
  return lines;
}

const sideText = (side: Delta['before']): string => {
  const target = side.target !== null && 'url' in side.target ? ` ${side.target.url}` : '';
  // A failure's text is its target: said once.
  return side.status.kind === 'not-found' || side.status.kind === 'error'
    ? statusText(side.status)
    : `${statusText(side.status)}${target === '' ? '' : ` to${target}`}`;
};

export function proposalAuditLines(p: ProposalAuditAnswer): string[] {
  const original = new Map(p.before.rows.map((r) => [r.id, r]));
  const lines = [
    `proposal ${p.proposal} (${p.status}) of registry '${p.registry}', version ${p.from} -> ${p.to}, on ${p.before.document} version ${p.before.version}:`,
  ];
  if (p.changed.length === 0) lines.push('  it changes nothing here');
  for (const d of p.changed) {
    const row = original.get(d.id);
    lines.push(
      ...table([[row === undefined ? d.id : rowName(row), row?.original?.url ?? '-', sideText(d.before)]]),
      `    -> ${showInvisibleInLine(sideText(d.after))}`,
      ...(skippedByOldNix(row) ? [`    (${OLD_NIX_SKIPS}; 2.21 and later resolve it again)`] : []),
    );
  }
  const total = p.changed.length + p.unchanged;
  lines.push(
    `${p.changed.length} of ${things(p.before, total)} move${p.changed.length === 1 ? 's' : ''}${p.changed.length === 0 ? '' : `: ${counts(p.changed.map((d) => d.after))} after it`}`,
  );
  return lines;
}

/**
 * What the proposal would redirect or break: a row it moves that is then `redirected`,
 * `not-found` or `error`; one that is then `unverifiable` at another URL than before (the
 * next update fetches that URL and locks whatever it serves, which nothing here can check
 * against the lock); or one that follows another URL under the same status (a github branch
 * moved, a pinned rev's repository changed), which one audit cannot see. A row moved back
 * onto its lock's source (to `same-source` or `pinned`) is not one.
 */
export function proposalFinding(d: Delta): string | undefined {
  const after = d.after.status.kind;
  if (FLAGGED.includes(after)) return after;
  if (!d.targetChanged) return undefined;
  if (after === 'unverifiable') return 'unverifiable at a new URL';
  return d.statusChanged ? undefined : `${after} to another URL`;
}

export const proposalFindings = (p: ProposalAuditAnswer): Delta[] =>
  p.changed.filter((d) => proposalFinding(d) !== undefined);

const tooLarge = (name: string): CliError =>
  new CliError(
    `${name} cannot be audited: it is larger than ${MAX_BODY_BYTES} bytes (1 MiB), the most the service takes`,
  );

/**
 * FILE read and checked here first, as the service would read it: a bad file needs no server.
 * No more than the service takes is read (one byte more tells a file too large), and the text
 * is sent as it is, so the service counts the bytes counted here.
 */
async function readDocument(ctx: Context, path: string): Promise<string> {
  const name = path === '-' ? 'stdin' : `'${path}'`;
  const bytes = await readInputUpTo(ctx.io, path, 'file', MAX_BODY_BYTES + 1);
  if (bytes.length > MAX_BODY_BYTES) throw tooLarge(name);
  const text = Buffer.from(bytes).toString('utf8');
  // Bytes that are not UTF-8 are read as U+FFFD, which takes up to three bytes once sent.
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge(name);
  try {
    readAuditDocumentText(text);
  } catch (error) {
    if (error instanceof AuditError || error instanceof LockFileError || error instanceof ManifestError) {
      // JSON.parse quotes the text it met, which may be anything (a key file given by mistake).
      const why =
        error instanceof AuditError && error.code === 'not-json'
          ? 'it is not JSON'
          : error.message.replace(/\s*\n\s*/g, ' ');
      throw new CliError(`${name} cannot be audited: ${why}`, { cause: error });
    }
    throw error;
  }
  const twice = duplicateMember(text);
  if (twice !== undefined) throw new CliError(`${name} names the member '${twice}' twice in one object`);
  return text;
}

/** `team,global@3` as names, without their versions: the ones a proposal can be of. */
const latestNames = (list: string): string[] =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.includes('@'));

/**
 * The registry among `--registry` that holds proposal `id`: the one registry at its latest, or,
 * with several, the one that answers for it (an id is the hash of a proposal naming its registry).
 */
async function proposalRegistry(client: Client, list: string, id: string): Promise<string> {
  const names = latestNames(list);
  if (names.length === 0) {
    throw new UsageError(
      `--proposal needs the proposal's registry in --registry at its latest version (as in 'global', not 'global@3')`,
      'audit',
    );
  }
  if (names.length === 1) return names[0] as string;
  for (const name of names) {
    const { status } = await client.raw(`/registries/${seg(name)}/proposals/${id}`, 1024 * 1024);
    if (status === 200) return name;
  }
  throw new CliError(`none of the registries ${names.join(', ')} has a proposal ${id}`);
}

function query(registries: string, args: Args): string {
  const overrides = (args.pairs?.['override-flake'] ?? []).flatMap(([original, resolved]) => [
    `&override-flake=${encodeURIComponent(original)}`,
    `&override-flake=${encodeURIComponent(resolved)}`,
  ]);
  return `?registry=${encodeURIComponent(registries)}${overrides.join('')}`;
}

export const audit: Command = {
  name: 'audit',
  summary:
    "Audit a flake.lock or a profile's manifest.json: what the hosted registries resolve each input or element to now, or, with --proposal, what a proposal would change.",
  usage: 'FILE [--registry NAME[@N][,NAME[@N]...]] [--override-flake ORIGINAL RESOLVED]... [--proposal ID]',
  description: [
    'FILE is read by its content, whatever its name (`-` reads stdin): an object with `nodes` and `root` is a flake.lock (versions 5 to 7), one with `elements` a profile manifest (versions 1 to 3, as in ~/.nix-profile/manifest.json). It is checked here, then sent to the service; nothing is stored.',
    'Each input or element gets a line: its path or name, its original ref, and its status (same-source, redirected with each changed attribute, pinned, unverifiable, not-found, error, direct, not-from-flake; docs/audit.md). For a lock file read by Nix 2.26 or later, give only the registries standing for the global one: those Nix versions take no user or system registry for lock files.',
    '--proposal ID shows the rows the proposal moves, before -> after; its registry must be in --registry at its latest.',
    'Exit status: 0 when nothing is redirected, not found or in error (with --proposal: when the proposal redirects or breaks nothing); 4 when something is, so CI can gate on it; 1 for a file that cannot be audited, a refusal or an unreachable server; 2 for a wrong command line.',
  ],
  positionals: { min: 1, max: 1, names: 'FILE' },
  options: {
    ...LAYER_OPTIONS,
    proposal: { type: 'string', value: 'ID', description: 'show what this open or merged proposal changes' },
  },
  examples: [
    'flake-registry audit flake.lock',
    'flake-registry audit ~/.nix-profile/manifest.json --registry team,global',
    'flake-registry audit flake.lock --proposal 13e73aeb6c02a1c2479083b0f515a3c653acfbc127c6ed02a63c23012d84dc29',
  ],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const [path = ''] = args.positionals;
    const registries = stringOption(args, 'registry') ?? 'global';
    const id = stringOption(args, 'proposal');
    if (id !== undefined && !SHA256_HEX.test(id)) {
      throw new UsageError(`a proposal id is 64 lowercase hex digits, got '${id}'`, 'audit');
    }
    if (registries.trim() === '') throw new UsageError('--registry names no registry', 'audit');
    for (const [original, resolved] of args.pairs?.['override-flake'] ?? []) {
      // A query drops an empty value, so the service would count one value too few.
      const empty = original === '' ? 'ORIGINAL' : resolved === '' ? 'RESOLVED' : undefined;
      if (empty !== undefined) {
        throw new UsageError(`--override-flake ORIGINAL RESOLVED: ${empty} is empty; give a flake ref`, 'audit');
      }
    }
    const body = await readDocument(ctx, path);
    const client = ctx.client();
    if (id === undefined) {
      const { body: answer } = await client.postJsonText(`/audit${query(registries, args)}`, body, auditSchema);
      ctx.data(answer);
      for (const line of auditLines(answer)) ctx.say(line);
      const flagged = answer.rows.filter((r) => FLAGGED.includes(r.status.kind));
      if (flagged.length > 0) {
        throw new FindingsError(
          `${things(answer, flagged.length)} ${flagged.length === 1 ? 'is' : 'are'} redirected, not found or in error: ${idList(flagged.map((r) => r.id))}`,
        );
      }
      return;
    }
    const name = await proposalRegistry(client, registries, id);
    const { body: answer } = await client.postJsonText(
      `/registries/${seg(name)}/proposals/${id}/audit${query(registries, args)}`,
      body,
      proposalAuditSchema,
    );
    ctx.data(answer);
    for (const line of proposalAuditLines(answer)) ctx.say(line);
    const flagged = proposalFindings(answer);
    const rows = new Map(answer.before.rows.map((r) => [r.id, r]));
    if (flagged.length > 0) {
      throw new FindingsError(
        `the proposal redirects or breaks ${things(answer.before, flagged.length)}: ${idList(flagged.map((d) => `${d.id} (${proposalFinding(d) ?? ''}${skippedByOldNix(rows.get(d.id)) ? ', with Nix 2.21 and later' : ''})`))}`,
      );
    }
  },
};
