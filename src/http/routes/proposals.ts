import { Hono, type Context } from 'hono';
import { firstIssue } from '../../protocol/issues.js';
import { SHA256_HEX } from '../../protocol/names.js';
import type * as z from '../../nix/zod.js';
import { approvalSchema, submissionSchema } from '../../protocol/proposal.js';
import { StorageError, writerFailure } from '../../store/errors.js';
import { StoredVersion } from '../../store/version.js';
import {
  PROPOSAL_STATUSES,
  type ProposalStatus,
  type ProposalView,
  type WriteOutcome,
  type WriteProblem,
  type WriterRpc,
} from '../../writer/contract.js';
import { readJsonBody } from '../body.js';
import { cacheControl } from '../caching.js';
import type { AppEnv } from '../env.js';
import { decimalParam, queryParams, registryName } from '../params.js';
import { Problem } from '../problem.js';

/** The registry's writer, after making sure the registry is hosted and seeded (404 otherwise): its head suffices. */
export async function writerOf(c: Context<AppEnv>, name: string): Promise<WriterRpc> {
  if (!(await c.var.store.head(name)))
    throw new Problem('unknown-registry', `no registry named '${name}' is hosted here`);
  return c.env.REGISTRY_WRITER.get(c.env.REGISTRY_WRITER.idFromName(name));
}

/** A call to the writer; everything a client sends is checked before it gets there. */
export async function call<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (cause) {
    throw writerFailure(name, cause);
  }
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new Problem('invalid-proposal', firstIssue(result.error.issues), { errors });
}

export function proposalId(value: string): string {
  if (!SHA256_HEX.test(value)) {
    throw new Problem('invalid-request', `proposal id: must be 64 lowercase hex digits, got '${value}'`);
  }
  return value;
}

/** The proposal `id` of registry `name` as its writer shows it, or 404 unknown-proposal. */
export async function proposalView(writer: WriterRpc, name: string, id: string): Promise<ProposalView> {
  const view = await call(name, () => writer.proposal(id));
  if (!view) {
    throw new Problem(
      'unknown-proposal',
      `registry '${name}' has no proposal ${id} (open proposals leave once expired)`,
    );
  }
  return view;
}

/** A writer's refusal as the problem its kind is; the members were typed for that kind by the writer. */
const problemOf = (p: WriteProblem): Problem => new Problem(p.kind, p.detail, (p.extensions ?? {}) as never);

/** An outcome as HTTP: the proposal (201 new, 200 known) or the writer's refusal as problem+json. */
function answer(c: Context<AppEnv>, name: string, outcome: WriteOutcome): Response {
  if (!outcome.ok) throw problemOf(outcome.problem);
  const { view, merged, created } = outcome;
  if (merged) {
    // This isolate serves the new version at once; elsewhere KV brings it within its propagation delay.
    c.var.store.learnVersion(StoredVersion.fromText(merged.record, merged.body));
    c.var.store.learnHead(name, merged.head);
  }
  c.header('Cache-Control', cacheControl.none);
  c.header('Location', `/registries/${name}/proposals/${view.id}`);
  return c.json(view, created ? 201 : 200);
}

/** Signed proposals: submit, list, read, approve; and the trust policy in force. */
export const proposalRoutes = new Hono<AppEnv>()
  .post('/registries/:name/proposals', async (c) => {
    const name = registryName(c.req.param('name'));
    queryParams(c.req.url, []);
    const writer = await writerOf(c, name);
    const submission = parse(submissionSchema, await readJsonBody(c.req.raw));
    if (submission.proposal.registry !== name) {
      throw new Problem(
        'wrong-registry',
        `the proposal is for registry '${submission.proposal.registry}', not '${name}'; signatures cover the registry name`,
      );
    }
    return answer(c, name, await call(name, () => writer.submit(submission.proposal, submission.signatures)));
  })
  .get('/registries/:name/proposals', async (c) => {
    const name = registryName(c.req.param('name'));
    const query = queryParams(c.req.url, ['status', 'limit']);
    const status = query.status;
    if (status !== undefined && !(PROPOSAL_STATUSES as readonly string[]).includes(status)) {
      throw new Problem('invalid-request', `status: must be one of ${PROPOSAL_STATUSES.join(', ')}`, {
        parameter: 'status',
      });
    }
    const limit = decimalParam('limit', query.limit, 1, 100) ?? 50;
    const writer = await writerOf(c, name);
    const proposals = await call(name, () => writer.proposals(status as ProposalStatus | undefined, limit));
    c.header('Cache-Control', cacheControl.none);
    return c.json({ registry: name, proposals });
  })
  .get('/registries/:name/proposals/:id', async (c) => {
    const name = registryName(c.req.param('name'));
    const id = proposalId(c.req.param('id'));
    queryParams(c.req.url, []);
    const writer = await writerOf(c, name);
    const view = await proposalView(writer, name, id);
    c.header('Cache-Control', cacheControl.none);
    return c.json(view);
  })
  .post('/registries/:name/proposals/:id/approvals', async (c) => {
    const name = registryName(c.req.param('name'));
    const id = proposalId(c.req.param('id'));
    queryParams(c.req.url, []);
    const writer = await writerOf(c, name);
    const approval = parse(approvalSchema, await readJsonBody(c.req.raw));
    const outcome = await call(name, () => writer.approve(id, approval.signature));
    return answer(c, name, outcome);
  })
  .get('/registries/:name/policy', async (c) => {
    const name = registryName(c.req.param('name'));
    queryParams(c.req.url, []);
    const writer = await writerOf(c, name);
    const policy = await call(name, () => writer.policy());
    if (!policy) throw new StorageError(`the writer of registry '${name}' has no policy`);
    c.header('Cache-Control', cacheControl.none);
    return c.json({ registry: name, ...policy });
  });
