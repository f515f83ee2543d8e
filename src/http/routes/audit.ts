import { Hono, type Context } from 'hono';
import { compareAudits } from '../../nix/audit-compare.js';
import { AuditError, auditDocument, readAuditDocument, type Audit, type AuditDocument } from '../../nix/audit.js';
import type { Json } from '../../nix/document.js';
import { LockFileError } from '../../nix/lockfile.js';
import { RegistryIndex, type LayerRef } from '../../nix/lookup.js';
import { ManifestError } from '../../nix/profile.js';
import { replay } from '../../protocol/review.js';
import type { AuditAnswer, ProposalAuditAnswer } from '../../api/answers.js';
import { readJsonBody } from '../body.js';
import { cacheControl } from '../caching.js';
import type { AppEnv } from '../env.js';
import { latest, pinnedVersion, queryParams, registryName } from '../params.js';
import { Problem } from '../problem.js';
import { proposalId, proposalView, writerOf } from './proposals.js';
import {
  OVERRIDE_PARAM,
  entryJson,
  loadLayers,
  parseLayers,
  parseOverrides,
  stepJson,
  type LayerSpec,
} from './resolve.js';

/**
 * `POST /audit`: what the registries would do to a `flake.lock` or a profile's `manifest.json`
 * (docs/audit.md), and `POST /registries/NAME/proposals/ID/audit`: what a proposal would change
 * of that. Nothing is stored; the body is read, audited and dropped.
 */

/** The body as an audit document, or a 422 that says what is wrong with it (400 for what is not JSON). */
async function documentOf(request: Request): Promise<AuditDocument> {
  return auditDocumentOf((await readJsonBody(request)) as Json);
}

/** A JSON value as an audit document, or a 422 `invalid-document` that says what is wrong with it and where. */
export function auditDocumentOf(json: Json): AuditDocument {
  try {
    return readAuditDocument(json);
  } catch (error) {
    if (error instanceof AuditError) throw new Problem('invalid-document', error.message, { code: error.code });
    if (error instanceof LockFileError) {
      throw new Problem('invalid-document', error.message, {
        code: error.code,
        ...(error.node === undefined ? {} : { node: error.node }),
      });
    }
    if (error instanceof ManifestError) {
      throw new Problem('invalid-document', error.message, {
        code: error.code,
        ...(error.element === undefined ? {} : { element: error.element }),
      });
    }
    throw error;
  }
}

/** An audit as the API answers it: steps and failed entries as URLs, as `/resolve` gives them. */
function auditJson(audit: Audit, overrides: readonly { original: string; resolved: string }[]): AuditAnswer {
  return {
    ...audit,
    ...(overrides.length === 0 ? {} : { overrides: overrides.map((o) => ({ ...o })) }),
    rows: audit.rows.map((row) => ({
      ...row,
      ...(row.steps === undefined ? {} : { steps: row.steps.map(stepJson) }),
      ...(row.entry === undefined ? {} : { entry: entryJson(row.entry) }),
    })),
  } as AuditAnswer;
}

function layersQuery(c: Context<AppEnv>) {
  const query = queryParams(c.req.url, ['registry'], [OVERRIDE_PARAM]);
  return { registry: query.registry, overrides: parseOverrides(query[OVERRIDE_PARAM]) };
}

export const auditRoutes = new Hono<AppEnv>()
  .post('/audit', async (c) => {
    const { registry, overrides } = layersQuery(c);
    const specs = parseLayers(registry);
    const doc = await documentOf(c.req.raw);
    const layers = await loadLayers(c.var.store, specs, 'file');
    const searched: LayerRef[] = overrides.layer ? [overrides.layer, ...layers] : layers;
    const audit = auditDocument(doc, searched);
    c.header('Cache-Control', cacheControl.none);
    return c.json(
      auditJson({ ...audit, registries: layers.map((l) => ({ name: l.name, version: l.version })) }, overrides.pairs),
    );
  })
  .post('/registries/:name/proposals/:id/audit', async (c) => {
    const name = registryName(c.req.param('name'));
    const id = proposalId(c.req.param('id'));
    const { registry, overrides } = layersQuery(c);
    const specs = proposalLayers(name, registry);
    const doc = await documentOf(c.req.raw);
    c.header('Cache-Control', cacheControl.none);
    return c.json(await auditProposal(c, name, id, doc, specs, overrides));
  });

/** The layers a proposal of `name` is audited in: `registry=` as given, which must hold `name` at its latest. */
export function proposalLayers(name: string, registry: string | undefined): LayerSpec[] {
  const specs = parseLayers(registry ?? name);
  const at = specs.findIndex((s) => s.name === name);
  if (at < 0 || specs[at]?.version !== undefined) {
    throw new Problem(
      'invalid-request',
      `registry: must name '${name}' at its latest (the proposal changes it), as in '${name}' or 'team,${name}'`,
      { parameter: 'registry' },
    );
  }
  return specs;
}

/**
 * What proposal `id` of `name` would change of `doc` (or changed, once merged): the document
 * audited before and after it, and the rows it moves. `POST /registries/NAME/proposals/ID/audit`
 * answers it as JSON, and the proposal's page as rows.
 */
export async function auditProposal(
  c: Context<AppEnv>,
  name: string,
  id: string,
  doc: AuditDocument,
  specs: readonly LayerSpec[],
  overrides: ReturnType<typeof parseOverrides>,
): Promise<ProposalAuditAnswer> {
  const at = specs.findIndex((s) => s.name === name);
  const writer = await writerOf(c, name);
  const view = await proposalView(writer, name, id);
  // A merged proposal is audited between the version before it and the one it made; an open
  // one between the head and the head with its changes, as it would merge now.
  let fromVersion: number;
  let proposed: RegistryIndex;
  if (view.version !== undefined) {
    fromVersion = view.version - 1;
    proposed = c.var.store.indexOf(await pinnedVersion(c.var.store, name, view.version));
  } else {
    const head = (await latest(c.var.store, name)).version;
    const base = await pinnedVersion(c.var.store, name, view.proposal.base);
    const merged = replay(
      c.var.store.indexOf(base),
      base.number,
      { version: head.number, registry: c.var.store.indexOf(head) },
      view.proposal,
    );
    if (!merged.ok) {
      throw new Problem(
        'conflict',
        merged.reason === 'conflict'
          ? `proposal ${id} no longer merges onto version ${head.number}: its entries changed since version ${view.proposal.base}`
          : `proposal ${id} cannot be applied to version ${head.number}: ${merged.error.detail}`,
        { entries: merged.reason === 'conflict' ? merged.entries : [] },
      );
    }
    fromVersion = head.number;
    proposed = new RegistryIndex(merged.registry);
  }
  const layers = await loadLayers(
    c.var.store,
    specs.map((s, i) => (i === at ? { name, version: fromVersion } : s)),
    'file',
  );
  const afterLayers = layers.map((l, i) => (i === at ? { name, version: fromVersion + 1, index: proposed } : l));
  const top = (ls: readonly LayerRef[]): LayerRef[] => (overrides.layer ? [overrides.layer, ...ls] : [...ls]);
  const before = auditDocument(doc, top(layers));
  const after = auditDocument(doc, top(afterLayers));
  const searched = (ls: readonly LayerRef[]) => ls.map((l) => ({ name: l.name, version: l.version }));
  const comparison = compareAudits(before, after);
  return {
    registry: name,
    proposal: id,
    status: view.status,
    from: fromVersion,
    to: fromVersion + 1,
    before: auditJson({ ...before, registries: searched(layers) }, overrides.pairs),
    after: auditJson({ ...after, registries: searched(afterLayers) }, overrides.pairs),
    changed: comparison.changed as ProposalAuditAnswer['changed'],
    unchanged: comparison.unchanged,
  };
}
