/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Hono, type Context } from 'hono';
import * as z from '../nix/zod.js';
import { resolutionSchema, searchedSchema, stepSchema } from '../api/answers.js';

import { PROBLEMS, problemType } from '../api/problems.js';
import { isNixErrorKind } from '../nix/errors.js';
import { flakeRefToString } from '../nix/flakeref.js';
import { inputToURL } from '../nix/input.js';
import type { RegistryEntry } from '../nix/registry.js';
import type { VersionRecord } from '../protocol/record.js';
import { ConfigurationError, StorageError } from '../store/errors.js';
import type { VersionEntries } from '../store/store.js';
import type { AppEnv } from '../http/env.js';
import { etagFor, parseEntityTags } from '../http/conditional.js';
import { toProblem } from '../http/errors.js';
import { Problem } from '../http/problem.js';
import { respondWith } from '../http/representation.js';
import { staticAsset } from '../http/static-assets.js';
import { decimalParam, latestRecord, pinnedRecord, queryParams, registryName } from '../http/params.js';
import { call, proposalId, proposalView, writerOf } from '../http/routes/proposals.js';
import { OVERRIDE_PARAM, parseOverrides, resolveRef } from '../http/routes/resolve.js';
import { auditDocumentOf, auditProposal, proposalLayers } from '../http/routes/audit.js';
import { parseJson, readTextBody } from '../http/body.js';
import type { Json } from '../nix/document.js';
import { changeLine } from './changes.js';
import { ASSETS, ENTRIES_PER_PAGE, SECURITY_HEADERS, htmlResponse, type Rendered } from './html.js';
import { errorPage } from './errors.js';
import {
  EntriesPage,
  HomePage,
  ResolvePage,
  type EntryRow,
  type HostedRow,
  type ResolveView,
} from './registry-pages.js';
import {
  HistoryPage,
  PROPOSAL_LISTS,
  ProposalPage,
  ProposalsPage,
  proposalListPages,
  type ProposalPages,
} from './review-pages.js';

/**
 * The registry's web pages: HTML rendered here from what the JSON routes read
 * (the store, the resolve code, the writer's proposal views), on paths of
 * their own (`/`, `/r/NAME/...`, `/assets/...`), so no JSON route changes.
 */

const VERSIONS_PER_PAGE = 50;
const PROPOSALS_LISTED = 100;

/** Each entry's row, made once per entry kept in memory. */
const rowOf = new WeakMap<RegistryEntry, Omit<EntryRow, 'index'>>();

function target(entry: RegistryEntry): string {
  try {
    return flakeRefToString({ input: entry.to, dir: entry.dir ?? '' });
  } catch {
    return JSON.stringify(entry.to);
  }
}

function source(entry: RegistryEntry): string {
  try {
    return inputToURL(entry.from);
  } catch {
    return JSON.stringify(entry.from);
  }
}

/** Entries as rows, numbered from `start`. */
function entryRows(entries: readonly RegistryEntry[], start: number): EntryRow[] {
  return entries.map((entry, i) => {
    let row = rowOf.get(entry);
    if (!row) {
      const from = source(entry);
      const to = target(entry);
      row = { from, to, exact: entry.exact, haystack: `${from} ${to}`.toLowerCase() };
      rowOf.set(entry, row);
    }
    return { index: start + i, ...row };
  });
}

/**
 * A page's query, checked as the API checks its own (an unknown or repeated parameter, or bad
 * percent-encoding, is a 400 that names it) and read as a browser's form sends it: `+` is a space.
 */
const pageQuery = <K extends string>(c: Context<AppEnv>, allowed: readonly K[]) =>
  queryParams(c.req.url, allowed, [], { form: true });

/** A page rendered with a status of its own: one that shows an error beside its form. */
interface WithStatus {
  readonly page: Rendered;
  readonly status: number;
}

/** A page, or the error that stopped it as a page of its own with the problem's status. */
async function page(c: Context<AppEnv>, make: () => Promise<Rendered | WithStatus>): Promise<Response> {
  try {
    const made = await make();
    const status = 'status' in made ? made.status : 200;
    // A page has no entity-tag (it follows the latest version and is never stored), so no
    // If-Match but `*` can hold: 412 rather than a 200 the client did not ask for. Checked
    // once the page exists, as only a 2xx answer's preconditions count (RFC 9110 §13.2.1).
    const ifMatch = c.req.header('If-Match');
    if (status === 200 && ifMatch !== undefined && parseEntityTags(ifMatch) !== '*') {
      throw new Problem(
        'precondition-failed',
        'a page has no entity-tag (pages are never cached), so If-Match cannot match it',
      );
    }
    return 'status' in made ? await htmlResponse(made.page, made.status) : await htmlResponse(made);
  } catch (error) {
    const problem = toProblem(error);
    // A link that picked up a parameter on its way (?utm_source=...) is one click from the page.
    const url = new URL(c.req.url);
    const bare =
      problem.kind === 'invalid-request' && url.search !== ''
        ? { href: url.pathname, text: 'This page without its query' }
        : undefined;
    return errorPage(problem, {}, bare);
  }
}

/** What an error answer of `/resolve` carries beside its detail (its lookup's context, when it has one). */
const resolveFailureSchema = z.object({
  type: z.string(),
  title: z.string(),
  detail: z.string(),
  steps: z.optional(z.array(stepSchema)),
  registries: z.optional(searchedSchema),
});

const PROBLEM_TYPE_PREFIX = problemType('internal').replace(/internal$/, '');

/** The JSON `/resolve` answered, read back for the page through the API's own schemas. */
function resolveView(status: number, body: string): ResolveView {
  const json: unknown = JSON.parse(body);
  if (status === 200) {
    const answer = resolutionSchema.parse(json);
    return { ok: true, resolved: answer.resolved.url, steps: answer.steps, registries: answer.registries };
  }
  const failure = resolveFailureSchema.parse(json);
  return {
    ok: false,
    status,
    byNix: isNixErrorKind(failure.type.replace(PROBLEM_TYPE_PREFIX, '')),
    title: failure.title,
    detail: failure.detail,
    steps: failure.steps ?? [],
    ...(failure.registries === undefined ? {} : { registries: failure.registries }),
  };
}

/** The hidden field of the resolve form: its query was written by a browser's form, not by hand or by the script. */
export const FORM_MARK = 'form';

/**
 * The resolve page's query: the parameters of `/resolve`, read as it reads them (`+` stays `+`,
 * flake refs are full of it; an unknown or repeated parameter is refused rather than dropped).
 * When the form's own mark is there (`form=1`, a hidden field), a browser wrote the query as
 * form data, where a typed space is `+` and a typed `+` is %2B: it is read that way instead, so
 * the same question typed in the box is the same question with script or without.
 */
function resolveQuery(url: string) {
  const start = url.indexOf('?');
  const pairs = start < 0 ? [] : url.slice(start + 1).split('&');
  const isMark = (pair: string) => pair === FORM_MARK || pair.startsWith(`${FORM_MARK}=`);
  const marks = pairs.filter(isMark);
  if (marks.length > 1 || (marks.length === 1 && marks[0] !== `${FORM_MARK}=1`)) {
    throw new Problem(
      'invalid-request',
      `query parameter '${FORM_MARK}': the form's mark, given once as ${FORM_MARK}=1`,
      {
        parameter: FORM_MARK,
      },
    );
  }
  // The rest is `/resolve`'s query, refused in its words.
  const rest = `?${pairs.filter((pair) => !isMark(pair)).join('&')}`;
  return queryParams(rest, ['ref', 'registry'], [OVERRIDE_PARAM], { form: marks.length === 1 });
}

export const webRoutes = new Hono<AppEnv>()
  .get('/', (c) =>
    page(c, async () => {
      pageQuery(c, []);
      const store = c.var.store;
      const registries: HostedRow[] = await Promise.all(
        store.names.map(async (name): Promise<HostedRow> => {
          try {
            const r = await latestRecord(store, name);
            return { name, version: r.version, entries: r.entries, created: r.created, sha256: r.sha256 };
          } catch (error) {
            if (!(error instanceof ConfigurationError)) throw error;
            return { name, error: error.message };
          }
        }),
      );
      return <HomePage registries={registries} />;
    }),
  )
  .get('/r/:name', (c) =>
    page(c, async () => {
      const name = registryName(c.req.param('name'));
      const query = pageQuery(c, ['q', 'page']);
      const latest = await latestRecord(c.var.store, name);
      const needle = (query.q ?? '').trim();
      // No entry holds a control character (lint refuses them), and the form would show it raw.
      const control = /\p{Cc}/u.exec(needle)?.[0];
      if (control !== undefined) {
        const cp = `U+${(control.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
        throw new Problem('invalid-request', `q: holds ${cp}, a control character, which no entry can hold`, {
          parameter: 'q',
        });
      }
      const lower = needle.toLowerCase();
      const entriesOf = async (start: number, end: number): Promise<VersionEntries> => {
        const found = await c.var.store.entries(name, latest.version, start, end);
        if (!found) throw new StorageError(`version ${latest.version} of registry '${name}' is not readable yet`);
        return found;
      };
      let version: VersionEntries;
      let matching: EntryRow[] | undefined;
      let n: number;
      if (lower === '') {
        // Only the page shown is read: its entries' block of the lookup form.
        n = decimalParam('page', query.page, 1, Math.max(1, Math.ceil(latest.entries / ENTRIES_PER_PAGE))) ?? 1;
        version = await entriesOf((n - 1) * ENTRIES_PER_PAGE, n * ENTRIES_PER_PAGE);
      } else {
        version = await entriesOf(0, Number.MAX_SAFE_INTEGER);
        matching = entryRows(version.entries, 0).filter((r) => r.haystack.includes(lower));
        const pages = Math.max(1, Math.ceil(matching.length / ENTRIES_PER_PAGE));
        n = decimalParam('page', query.page, 1, pages) ?? 1;
      }
      const rows =
        matching === undefined
          ? entryRows(version.entries, version.start)
          : matching.slice((n - 1) * ENTRIES_PER_PAGE, n * ENTRIES_PER_PAGE);
      return (
        <EntriesPage
          registry={name}
          version={version.record.version}
          created={version.record.created}
          sha256={version.record.sha256}
          total={version.total}
          origin={new URL(c.req.url).origin}
          rows={rows}
          matching={matching?.length ?? version.total}
          page={n}
          query={needle}
        />
      );
    }),
  )
  .get('/r/:name/resolve', (c) =>
    page(c, async () => {
      const name = registryName(c.req.param('name'));
      const query = resolveQuery(c.req.url);
      const overrides = query[OVERRIDE_PARAM] ?? [];
      // The registry must exist for its page to; the layers may name others.
      await latestRecord(c.var.store, name);
      const ref = query.ref;
      // The page's own registry when the field is left empty (`/resolve` alone defaults to `global`).
      const layers = (query.registry ?? '') === '' ? name : (query.registry as string);
      const form = { registry: name, ref: ref ?? '', layers, overrides };
      if (ref === undefined) {
        // Nothing asked yet: the form, with the overrides checked as `/resolve` would check them.
        parseOverrides(overrides);
        return <ResolvePage {...form} />;
      }
      let answer: ResolveView;
      try {
        const { answer: found } = await resolveRef(c.var.store, c.var.resolutions, ref, layers, overrides);
        answer = resolveView(found.status, found.body);
      } catch (error) {
        const problem = toProblem(error);
        if (problem.status >= 500) throw problem;
        answer = {
          ok: false,
          status: problem.status,
          byNix: isNixErrorKind(problem.kind),
          title: PROBLEMS[problem.kind].title,
          detail: problem.detail,
          steps: [],
        };
      }
      // The status `/resolve` gives the same question: a page of Nix's "not found" is a 404.
      return { page: <ResolvePage {...form} answer={answer} />, status: answer.ok ? 200 : answer.status };
    }),
  )
  .get('/r/:name/history', (c) =>
    page(c, async () => {
      const name = registryName(c.req.param('name'));
      const query = pageQuery(c, ['before']);
      const latest = (await latestRecord(c.var.store, name)).version;
      const before = decimalParam('before', query.before, 2, latest + 1) ?? latest + 1;
      const top = before - 1;
      const numbers = Array.from({ length: Math.min(VERSIONS_PER_PAGE, top) }, (_, i) => top - i);
      const records: VersionRecord[] = await Promise.all(numbers.map((n) => pinnedRecord(c.var.store, name, n)));
      const last = numbers.at(-1) ?? 1;
      const newerBefore = top + VERSIONS_PER_PAGE + 1;
      return (
        <HistoryPage
          registry={name}
          latest={latest}
          records={records}
          {...(last > 1 ? { older: `/r/${name}/history?before=${last}` } : {})}
          {...(top < latest
            ? { newer: newerBefore > latest ? `/r/${name}/history` : `/r/${name}/history?before=${newerBefore}` }
            : {})}
        />
      );
    }),
  )
  .get('/r/:name/proposals', (c) =>
    page(c, async () => {
      const name = registryName(c.req.param('name'));
      pageQuery(c, []);
      const writer = await writerOf(c, name);
      const [open, all] = await Promise.all([
        call(name, () => writer.proposals('open', PROPOSALS_LISTED)),
        call(name, () => writer.proposals(undefined, PROPOSALS_LISTED)),
      ]);
      // Every open one, then the newest of the rest.
      const proposals = [...open, ...all.filter((p) => p.status !== 'open')];
      return <ProposalsPage registry={name} proposals={proposals} />;
    }),
  )
  .post('/r/:name/proposals/:id/audit', (c) =>
    page(c, async () => {
      const name = registryName(c.req.param('name'));
      const id = proposalId(c.req.param('id'));
      pageQuery(c, []);
      const view = await proposalView(await writerOf(c, name), name, id);
      const changes = view.proposal.changes.map(changeLine);
      let text = '';
      try {
        // A plain form's fields (it works without script): `document`, once, and nothing else.
        const fields = new URLSearchParams(await readTextBody(c.req.raw, 'application/x-www-form-urlencoded'));
        const other = [...fields.keys()].find((key) => key !== 'document');
        if (other !== undefined) {
          throw new Problem('invalid-request', `unknown form field '${other}': the audit takes only 'document'`, {
            parameter: other,
          });
        }
        const documents = fields.getAll('document');
        if (documents.length !== 1) {
          throw new Problem('invalid-request', "the form field 'document' is required, once", {
            parameter: 'document',
          });
        }
        text = documents[0] ?? '';
        // The API's own reading and audit (src/http/routes/audit.ts), in the page's registry alone.
        const doc = auditDocumentOf(parseJson(text, 'the document') as Json);
        const result = await auditProposal(c, name, id, doc, proposalLayers(name, undefined), parseOverrides([]));
        return <ProposalPage view={view} changes={changes} audit={{ text, result }} />;
      } catch (error) {
        const problem = toProblem(error);
        if (problem.status >= 500) throw problem;
        const shown = { title: PROBLEMS[problem.kind].title, detail: problem.detail };
        return {
          page: <ProposalPage view={view} changes={changes} audit={{ text, problem: shown }} />,
          status: problem.status,
        };
      }
    }),
  )
  .get('/r/:name/proposals/:id', (c) =>
    page(c, async () => {
      const name = registryName(c.req.param('name'));
      const id = proposalId(c.req.param('id'));
      const query = pageQuery(c, PROPOSAL_LISTS);
      const writer = await writerOf(c, name);
      const view = await proposalView(writer, name, id);
      const changes = view.proposal.changes.map(changeLine);
      // Each long list is paged on its own; a page past a list's last is a 400, as for entries.
      const of = proposalListPages(view, changes);
      const pages = Object.fromEntries(
        PROPOSAL_LISTS.map((list) => [list, decimalParam(list, query[list], 1, of[list]) ?? 1]),
      ) as ProposalPages;
      return <ProposalPage view={view} changes={changes} pages={pages} />;
    }),
  );

// The stylesheet, the scripts and the icon, each at a path that names its bytes: cached for good,
// with that name as their strong entity-tag, so a client that kept one is answered 304. The
// bytes are the static assets' (src/http/static-assets.ts); the headers are these.
for (const asset of ASSETS) {
  const etag = etagFor(asset.path.split('/')[2] ?? '');
  webRoutes.get(asset.path, async (c) => {
    try {
      // Takes no query: each one would be one more copy of the same bytes in a cache.
      pageQuery(c, []);
      return respondWith(c.req.raw, {
        validators: { etag },
        bytes: await staticAsset(c.env.ASSETS, asset.path),
        contentType: asset.contentType,
        headers: { 'Cache-Control': 'public, max-age=31536000, immutable', ...SECURITY_HEADERS },
      });
    } catch (error) {
      return errorPage(toProblem(error));
    }
  });
}
