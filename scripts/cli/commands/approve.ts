import { parseTrustedKey } from '../../../src/crypto/trusted-key.js';
import { SHA256_HEX } from '../../../src/protocol/names.js';
import type { Proposal, Submission } from '../../../src/protocol/proposal.js';
import { proposalViewSchema } from '../../../src/api/answers.js';
import { describeChange } from '../changes.js';
import { seg } from '../client.js';
import { flag, requiredOption, stringOption, type Command, type Context } from '../command.js';
import { CliError, UsageError } from '../errors.js';
import { readJsonFile } from '../files.js';
import { readSigner, signedAlready } from '../signer.js';
import { confirmOrStop, outcomeText, writeOut } from '../served.js';
import { proposalText, quotedText } from '../show.js';
import { idOf, readWireFile, type ApprovalFile } from '../wire.js';

/** `approve`, `sign` and `submit`: adding signatures, online or through files. */

function checkId(id: string, command: string): void {
  if (!SHA256_HEX.test(id)) throw new UsageError(`a proposal id is 64 lowercase hex digits, got '${id}'`, command);
}

/** The proposal from a wire-form file (offline approval). */
async function proposalFromFile(ctx: Context, path: string): Promise<Submission> {
  const wire = readWireFile(await readJsonFile(ctx.io, path, 'proposal file'), `proposal file '${path}'`);
  if (wire.kind !== 'proposal') throw new CliError(`'${path}' is an approval, not a proposal`);
  return wire.submission;
}

/** A proposal's changes, for reviewing a proposal file without a server. */
function offlineText(id: string, p: Proposal): string {
  return [
    `proposal ${id}`,
    `  registry ${p.registry}, base version ${p.base}`,
    '  message:',
    ...quotedText(p.message).map((line) => `  ${line}`),
    `  created ${p.created}, expires ${p.expires}`,
    'changes:',
    ...p.changes.map((c) => `  ${describeChange(c)}`),
  ].join('\n');
}

/** Whether a key the service shows (`name:base64`, `name:TYPE BASE64`) is `id`. */
function isKey(text: string, id: string): boolean {
  try {
    return parseTrustedKey(text).id === id;
  } catch {
    return false;
  }
}

export const approve: Command = {
  name: 'approve',
  summary: 'Review an open proposal and add your signature to it.',
  usage: 'ID --registry NAME --key KEY_FILE [--yes] [--proposal FILE] [--out FILE]',
  description: [
    'Shows the proposal as the service reviewed it (changes, resolution impact, lint, signatures), asks, then signs the proposal exactly as served, after checking that it hashes to ID.',
    'Offline: --proposal FILE (a signed proposal file) --out OUT writes the approval {"registry", "id", "signature"} without asking any server; `submit OUT` sends it.',
  ],
  positionals: { min: 1, max: 1, names: 'ID' },
  options: {
    registry: { type: 'string', value: 'NAME', description: 'the registry the proposal is for' },
    key: {
      type: 'string',
      value: 'KEY_FILE',
      description:
        "your key: a secret key file in Nix's format (- reads it from stdin), an SSH private key, or the .pub of an SSH key in ssh-agent",
    },
    proposal: { type: 'string', value: 'FILE', description: 'take the proposal from a signed proposal file' },
    out: { type: 'string', value: 'FILE', description: 'write the approval to FILE instead of sending it' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
  },
  examples: [
    'flake-registry approve 13e73aeb6c02a1c2479083b0f515a3c653acfbc127c6ed02a63c23012d84dc29 --registry global --key bob.sec',
  ],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const [id = ''] = args.positionals;
    checkId(id, 'approve');
    const registry = requiredOption(args, 'registry', 'approve');
    const keyPath = requiredOption(args, 'key', 'approve');
    const key = await readSigner(ctx.io, keyPath);
    const file = stringOption(args, 'proposal');
    const out = stringOption(args, 'out');

    let proposal: Proposal;
    let signatures: readonly string[];
    /** Keys whose signatures the service holds but no longer counts (online only). */
    let uncounted: readonly string[] = [];
    if (file !== undefined) {
      const submission = await proposalFromFile(ctx, file);
      proposal = submission.proposal;
      signatures = submission.signatures;
      if (proposal.registry !== registry) {
        throw new CliError(`proposal file '${file}' is for registry '${proposal.registry}', not '${registry}'`);
      }
      if ((await idOf(proposal)) !== id)
        throw new CliError(`proposal file '${file}' holds another proposal than ${id}`);
      ctx.say(offlineText(id, proposal));
    } else {
      const view = await ctx.client().getJson(`/registries/${seg(registry)}/proposals/${id}`, proposalViewSchema);
      if ((await idOf(view.proposal)) !== id) {
        throw new CliError(
          `the service served another proposal than ${id} (its bytes hash to something else); nothing was signed`,
        );
      }
      if (view.status !== 'open')
        throw new CliError(`proposal ${id} is ${view.status}, not open: there is nothing to approve`);
      proposal = view.proposal;
      signatures = view.signatures.map((s) => s.signature);
      uncounted = view.signatures.filter((s) => !s.counted).map((s) => s.key);
      ctx.say(proposalText(view));
    }
    if (await signedAlready(key, proposal, signatures)) {
      const mine = uncounted.some((k) => isKey(k, key.key.id));
      throw new CliError(
        mine
          ? `proposal ${id} carries a signature by this key ('${key.name}') already, but it no longer counts: the policy in force does not trust this key`
          : `proposal ${id} already carries a signature by this key ('${key.name}')`,
      );
    }
    await confirmOrStop(
      ctx,
      flag(args, 'yes'),
      `Approve proposal ${id.slice(0, 12)}… as ${key.name}?`,
      keyPath === '-',
    );
    const signature = await key.signProposal(proposal);
    if (out !== undefined) {
      const approval: ApprovalFile = { registry, id, signature };
      await writeOut(ctx, out, approval);
      if (out === '-') return;
      ctx.say(`wrote an approval of proposal ${id} by ${key.name} to ${out}`);
      ctx.say(`send it with: flake-registry submit ${out}`);
      ctx.data(approval);
      return;
    }
    await sendApproval(ctx, { registry, id, signature });
  },
};

async function sendApproval(ctx: Context, approval: ApprovalFile): Promise<void> {
  const { body } = await ctx
    .client()
    .postJson(
      `/registries/${seg(approval.registry)}/proposals/${approval.id}/approvals`,
      { signature: approval.signature },
      proposalViewSchema,
    );
  ctx.say(outcomeText(body, false));
  ctx.data(body);
  // Signed, but the proposal can no longer merge: not a success for whoever scripted it.
  if (body.status === 'conflict' || body.status === 'failed') {
    throw new CliError(
      `proposal ${body.id} is ${body.status === 'conflict' ? 'in conflict' : 'failed'}: it will not merge`,
    );
  }
}

export const submit: Command = {
  name: 'submit',
  summary: 'Send a signed proposal file or an approval file written with --out.',
  usage: 'FILE',
  description: [
    'A signed proposal {"proposal", "signatures"} goes to POST /registries/NAME/proposals; an approval {"registry", "id", "signature"} to POST /registries/NAME/proposals/ID/approvals.',
  ],
  positionals: { min: 1, max: 1, names: 'FILE' },
  options: {},
  examples: ['flake-registry submit proposal.json'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const [path = ''] = args.positionals;
    const wire = readWireFile(await readJsonFile(ctx.io, path, 'file'), `'${path}'`);
    if (wire.kind === 'approval') return sendApproval(ctx, wire.approval);
    const { status, body } = await ctx
      .client()
      .postJson(`/registries/${seg(wire.submission.proposal.registry)}/proposals`, wire.submission, proposalViewSchema);
    ctx.say(outcomeText(body, status === 200));
    ctx.data(body);
  },
};

export const sign: Command = {
  name: 'sign',
  summary: "Add your signature to a signed proposal file (another maintainer's, or your own on an air-gapped machine).",
  usage: 'FILE --key KEY_FILE [--out FILE]',
  description: [
    'Without --out the file is rewritten in place with the signature added. Nothing is sent: `submit` does that.',
  ],
  positionals: { min: 1, max: 1, names: 'FILE' },
  options: {
    key: {
      type: 'string',
      value: 'KEY_FILE',
      description:
        "your key: a secret key file in Nix's format (- reads it from stdin), an SSH private key, or the .pub of an SSH key in ssh-agent",
    },
    out: { type: 'string', value: 'FILE', description: 'write the result here instead of over FILE' },
  },
  examples: ['flake-registry sign proposal.json --key bob.sec'],
  json: true,
  server: false,
  run: async (ctx, args) => {
    const [path = ''] = args.positionals;
    const key = await readSigner(ctx.io, requiredOption(args, 'key', 'sign'));
    const submission = await proposalFromFile(ctx, path);
    const id = await idOf(submission.proposal);
    if (await signedAlready(key, submission.proposal, submission.signatures)) {
      throw new CliError(`proposal file '${path}' already carries a signature by this key ('${key.name}')`);
    }
    const signed: Submission = {
      proposal: submission.proposal,
      signatures: [...submission.signatures, await key.signProposal(submission.proposal)],
    };
    const out = stringOption(args, 'out') ?? path;
    // In place by default: the file gains a signature; a separate --out file is new.
    await writeOut(ctx, out, signed, out === path);
    if (out === '-') return;
    ctx.say(`added a signature by ${key.name} to proposal ${id} (${signed.signatures.length} signatures) in ${out}`);
    ctx.data({ id, out, ...signed });
  },
};
