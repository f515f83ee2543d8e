import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { NixError } from '../../src/nix/errors.js';
import { readRegistry, type Registry } from '../../src/nix/registry.js';
import type { Proposal } from '../../src/protocol/proposal.js';
import { proposalViewSchema, type ProposalView } from '../../src/api/answers.js';
import { seg, type Client } from './client.js';
import type { Context, OptionDef } from './command.js';
import { CliError } from './errors.js';
import { fileProblem } from './files.js';
import { signatureLines } from './show.js';
import { fileText, idOf, signedProposal } from './wire.js';
import type { Signer } from './signer.js';

/** Registry versions as served, and sending what the CLI signs. */

export interface ServedVersion {
  readonly version: number;
  readonly text: string;
  readonly registry: Registry;
}

/** A registry file the service served (or a base file given offline), read as Nix reads it. */
export function readServedFile(text: string, where: string): Registry {
  try {
    return readRegistry(text);
  } catch (error) {
    if (error instanceof NixError) throw new CliError(`${where}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The latest version of a registry: its file and its number (`X-Registry-Version`). */
export async function fetchLatest(client: Client, name: string): Promise<ServedVersion> {
  const res = await client.get(`/registries/${seg(name)}/flake-registry.json`);
  const version = Number(res.headers.get('X-Registry-Version'));
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new CliError(`${client.base} served registry '${name}' without its version (X-Registry-Version)`);
  }
  return { version, text: res.text, registry: readServedFile(res.text, `version ${version} of registry '${name}'`) };
}

export async function fetchVersion(client: Client, name: string, version: number): Promise<ServedVersion> {
  const res = await client.get(`/registries/${seg(name)}/versions/${version}/flake-registry.json`);
  return { version, text: res.text, registry: readServedFile(res.text, `version ${version} of registry '${name}'`) };
}

/** Options every command that signs a new proposal takes. */
export const PROPOSAL_OPTIONS: Readonly<Record<string, OptionDef>> = {
  registry: { type: 'string', value: 'NAME', description: 'the registry to change (e.g. global)' },
  key: {
    type: 'string',
    value: 'KEY_FILE',
    description:
      "your key: a secret key file in Nix's format (- reads it from stdin), an SSH private key, or the .pub of an SSH key in ssh-agent",
  },
  message: { type: 'string', value: 'TEXT', description: 'why (default: a description of the change)' },
  'expires-in': {
    type: 'string',
    value: 'DURATION',
    description: 'how long it stays open: 30m, 12h, 7d (default 7d, at most 90d)',
  },
  base: {
    type: 'string',
    value: 'N',
    description: 'the version it is written against (default: the latest; with --out, no server is asked)',
  },
  out: {
    type: 'string',
    value: 'FILE',
    description: 'write the signed proposal to FILE instead of sending it (send later with `submit`)',
  },
  'id-only': { type: 'boolean', description: "print only the proposal's id, for scripts: ID=$(flake-registry ...)" },
};

/** The answer to a submission or an approval, as text. */
export function outcomeText(view: ProposalView, known: boolean): string {
  const lines = [`proposal ${view.id}: ${view.status}${known ? ' (already known: it was submitted before)' : ''}`];
  lines.push(...signatureLines(view).map((l) => `  ${l}`));
  if (view.status === 'open') {
    lines.push(`  others approve with: flake-registry approve ${view.id} --registry ${view.registry} --key KEY_FILE`);
  }
  return lines.join('\n');
}

/** Writes JSON the CLI made to a file the user named (not a secret: overwriting is fine). */
export async function writeOut(ctx: Context, path: string, value: unknown, replace = false): Promise<string> {
  // `-` is stdout, as everywhere; a file is created, never overwritten (it may hold signatures).
  if (path === '-') {
    ctx.io.out(fileText(value));
    return path;
  }
  const full = resolve(ctx.io.cwd, path);
  try {
    await writeFile(full, fileText(value), { flag: replace ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`'${path}' exists already: choose another --out file, or remove it first`, { cause: error });
    }
    throw new CliError(`cannot write '${path}': ${fileProblem(error).replace(/^cannot be read: /, '')}`, {
      cause: error,
    });
  }
  return full;
}

/** Signs `proposal` and sends it, or writes it to `out`. */
export async function deliverProposal(
  ctx: Context,
  proposal: Proposal,
  key: Signer,
  out: string | undefined,
  idOnly = false,
): Promise<void> {
  const submission = await signedProposal(key, proposal);
  const id = await idOf(proposal);
  if (out !== undefined) {
    await writeOut(ctx, out, submission);
    if (out === '-') return;
    if (idOnly) {
      ctx.io.out(`${id}\n`);
      return;
    }
    ctx.say(`wrote proposal ${id}, signed by ${key.name}, to ${out}`);
    ctx.say(`send it with: flake-registry submit ${out}`);
    ctx.data({ id, out, ...submission });
    return;
  }
  const { status, body } = await ctx
    .client()
    .postJson(`/registries/${seg(proposal.registry)}/proposals`, submission, proposalViewSchema);
  if (idOnly) {
    ctx.io.out(`${body.id}\n`);
    return;
  }
  ctx.say(outcomeText(body, status === 200));
  ctx.data(body);
}

/** Asks before signing, unless --yes; never waits when nobody can answer. */
export async function confirmOrStop(ctx: Context, yes: boolean, question: string, keyOnStdin: boolean): Promise<void> {
  if (yes) return;
  if (keyOnStdin) throw new CliError('the key was read from stdin, so nothing can be confirmed there: add --yes');
  if (!ctx.io.interactive) throw new CliError('stdin is not a terminal, so nothing can be confirmed: add --yes');
  if (!(await ctx.io.confirm(question))) throw new CliError('stopped: nothing was signed or sent');
}
