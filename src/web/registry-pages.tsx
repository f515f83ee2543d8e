/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { StepAnswer } from '../api/answers.js';
import type { ChangeSummary } from '../protocol/record.js';
import { ENTRIES_PER_PAGE, Page, Pager, Shown, Time, Url } from './html.js';

/** The hosted registries, one registry's entries, and the resolve box. */

export type HostedRow =
  | {
      readonly name: string;
      readonly version: number;
      readonly entries: number;
      readonly created: string;
      readonly sha256: string;
    }
  | { readonly name: string; readonly error: string };

export const HomePage: FC<{ registries: readonly HostedRow[] }> = ({ registries }) => {
  const first = registries.find((r) => !('error' in r))?.name;
  return (
    <Page title="Hosted registries">
      <p>
        Nix flake registries, each version at an immutable URL. Pick one to browse its entries in the order Nix searches
        them, resolve a ref as Nix would, read its history or review its open proposals.
      </p>
      <table>
        <caption class="muted">Every registry this service hosts, at its latest version</caption>
        <thead>
          <tr>
            <th scope="col">Registry</th>
            <th scope="col">Version</th>
            <th scope="col">Entries</th>
            <th scope="col">Published</th>
            <th scope="col">SHA-256 of the file</th>
          </tr>
        </thead>
        <tbody>
          {registries.map((r) =>
            'error' in r ? (
              <tr>
                <th scope="row">{r.name}</th>
                <td colspan={4} class="error">
                  cannot be published: <Shown text={r.error} />
                </td>
              </tr>
            ) : (
              <tr>
                <th scope="row">
                  <a href={`/r/${r.name}`}>{r.name}</a>
                </th>
                <td class="num">{r.version}</td>
                <td class="num">{r.entries}</td>
                <td>
                  <Time at={r.created} />
                </td>
                <td class="mono">{r.sha256.slice(0, 16)}…</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
      {first === undefined ? null : (
        <>
          <h2 id="resolve">Resolve a ref</h2>
          <ResolveForm registry={first} layers="" ref="" />
        </>
      )}
    </Page>
  );
};

export interface EntryRow {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly exact: boolean;
  /** What the filter matches: `from` and `to`, lowercased. */
  readonly haystack: string;
}

export interface EntriesProps {
  readonly registry: string;
  readonly version: number;
  readonly created: string;
  readonly sha256: string;
  readonly total: number;
  readonly origin: string;
  /** The entries of this page (filtered by `query`, if any) and how many match in all. */
  readonly rows: readonly EntryRow[];
  readonly matching: number;
  readonly page: number;
  readonly query: string;
}

const pageHref = (registry: string, page: number, query: string) =>
  `/r/${registry}?${query === '' ? '' : `q=${encodeURIComponent(query)}&`}page=${page}`;

// The first, the last, and a few around this one: a 10,000-entry registry has 50 pages.
const EntriesPager: FC<{ registry: string; page: number; pages: number; query: string }> = ({
  registry,
  page,
  pages,
  query,
}) => <Pager label="Pages of entries" page={page} pages={pages} href={(n) => pageHref(registry, n, query)} />;

/**
 * What the rows shown are, in words that count exactly what they say: all the entries, or those
 * matching the filter across every page, and which of them this page holds.
 */
function entriesCount(p: EntriesProps, first: number, pages: number): string {
  const shown = p.rows.length === 0 ? 'none' : `${first + 1} to ${first + p.rows.length}`;
  const paged = pages > 1 ? ` (page ${p.page} of ${pages})` : '';
  if (p.query === '') return `Entries ${shown} of ${p.total} on this page${paged}.`;
  if (p.matching === 0) return `None of the ${p.total} entries match “${p.query}”.`;
  const of = p.matching === 1 ? '1 of the' : `${p.matching} of the`;
  return `${of} ${p.total} entries match “${p.query}”, on every page; ${shown} of them on this page${paged}.`;
}

export const EntriesPage: FC<EntriesProps> = (p) => {
  const latestUrl = `${p.origin}/registries/${p.registry}/flake-registry.json`;
  const pinnedUrl = `${p.origin}/registries/${p.registry}/versions/${p.version}/flake-registry.json`;
  const pages = Math.max(1, Math.ceil(p.matching / ENTRIES_PER_PAGE));
  const first = (p.page - 1) * ENTRIES_PER_PAGE;
  return (
    <Page title={`Registry ${p.registry}`} registry={p.registry}>
      <dl class="facts">
        <dt>Version</dt>
        <dd>
          {p.version}, published <Time at={p.created} />
        </dd>
        <dt>Entries</dt>
        <dd>{p.total}</dd>
        <dt>SHA-256</dt>
        <dd class="mono">{p.sha256}</dd>
        <dt>This version's file</dt>
        <dd>
          <a href={pinnedUrl}>{pinnedUrl}</a> <span class="muted">(immutable)</span>
        </dd>
      </dl>
      <h2 id="use">Use it</h2>
      <p>
        In <code>nix.conf</code>, to follow the latest version:
      </p>
      <pre class="copy" id="nix-conf">{`flake-registry = ${latestUrl}`}</pre>
      <p>To freeze what every indirect ref means, this version:</p>
      <pre class="copy" id="nix-conf-pinned">{`flake-registry = ${pinnedUrl}`}</pre>
      <h2 id="entries">Entries, in the order Nix searches them</h2>
      <form class="inline" method="get" action={`/r/${p.registry}`} role="search">
        <label for="entry-filter">
          Filter entries
          <input type="search" id="entry-filter" name="q" value={p.query} autocomplete="off" spellcheck={false} />
        </label>
        <button type="submit">Filter all entries</button>
      </form>
      <p
        id="filter-count"
        class="muted"
        aria-live="polite"
        data-total={String(p.total)}
        data-query={p.query}
        data-pages={String(pages)}
      >
        {entriesCount(p, first, pages)}
      </p>
      <EntriesPager registry={p.registry} page={p.page} pages={pages} query={p.query} />
      <table id="entry-table">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Exact</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((row) => (
            <tr data-entry={row.haystack} id={`entry-${row.index}`}>
              <td class="num">{row.index}</td>
              <td class="mono">
                <a
                  href={`/r/${p.registry}/resolve?ref=${encodeURIComponent(refOf(row.from))}`}
                  title="Resolve this ref"
                >
                  <Shown text={row.from} />
                </a>
              </td>
              <td class="mono">
                <Url url={row.to} />
              </td>
              <td>{row.exact ? <span class="badge">exact</span> : <span class="muted">no</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <EntriesPager registry={p.registry} page={p.page} pages={pages} query={p.query} />
    </Page>
  );
};

/** `flake:nixpkgs` as the ref one types: `nixpkgs`. */
const refOf = (from: string) => from.replace(/^flake:/, '');

export interface ResolveFormProps {
  readonly registry: string;
  readonly layers: string;
  readonly ref: string;
  /** `override-flake` values as given, ORIGINAL then RESOLVED in turn: kept for the next question. */
  readonly overrides?: readonly string[];
}

export const ResolveForm: FC<ResolveFormProps> = ({ registry, layers, ref, overrides = [] }) => (
  <form
    class="inline"
    id="resolve-form"
    method="get"
    action={`/r/${registry}/resolve`}
    data-registry={registry}
    role="search"
  >
    <label for="resolve-ref">
      Flake ref
      <input
        type="text"
        id="resolve-ref"
        name="ref"
        value={ref}
        placeholder="nixpkgs/nixos-25.05"
        required
        autocomplete="off"
        spellcheck={false}
      />
    </label>
    <label for="resolve-registry">
      Registries, searched in order
      <input
        type="text"
        id="resolve-registry"
        name="registry"
        value={layers === '' ? registry : layers}
        aria-describedby="resolve-registry-help"
        autocomplete="off"
        spellcheck={false}
      />
    </label>
    {overrides.map((value) => (
      <input type="hidden" name="override-flake" value={value} />
    ))}
    {/* The page reads a query with this mark as form data (`+` a space): see the resolve route. */}
    <input type="hidden" name="form" value="1" />
    <button type="submit">Resolve</button>
    {overrides.length === 0 ? null : (
      <div class="overrides">
        <p>Overrides, searched before every registry (Nix's --override-flake):</p>
        <ul>
          {Array.from({ length: Math.ceil(overrides.length / 2) }, (_, i) => (
            <li class="mono">
              <Shown text={overrides[2 * i] ?? ''} />
              {' → '}
              <Shown text={overrides[2 * i + 1] ?? '(missing)'} />
            </li>
          ))}
        </ul>
      </div>
    )}
    <p id="resolve-registry-help" class="muted">
      Names separated by commas, each optionally pinned: <code>NAME@VERSION</code>, as <code>/resolve</code> takes them.
    </p>
  </form>
);

/** A step as `/resolve` answers it (src/api/answers.ts). */
export type StepView = StepAnswer;

/** What `/resolve` answered, as the page shows it. */
export type ResolveView =
  | {
      readonly ok: true;
      readonly resolved: string;
      readonly steps: readonly StepView[];
      readonly registries: readonly { name: string; version: number }[];
    }
  | {
      readonly ok: false;
      readonly status: number;
      /** Nix's own error (its text is Nix's), or the service's refusal of the question. */
      readonly byNix: boolean;
      readonly title: string;
      readonly detail: string;
      readonly steps: readonly StepView[];
      readonly registries?: readonly { name: string; version: number }[];
    };

export const ResolvePage: FC<ResolveFormProps & { answer?: ResolveView }> = ({
  registry,
  ref,
  layers,
  overrides = [],
  answer,
}) => (
  <Page title={`Resolve a ref in ${registry}`} registry={registry}>
    <p>
      What Nix would resolve a flake ref to, by Nix's own matching rules, with every step it takes. The same answer as{' '}
      <code>GET /resolve</code>.
    </p>
    <ResolveForm registry={registry} layers={layers} ref={ref} overrides={overrides} />
    <section id="resolve-result" aria-live="polite">
      {answer === undefined ? null : <Answer answer={answer} registry={registry} />}
    </section>
  </Page>
);

const Answer: FC<{ answer: ResolveView; registry: string }> = ({ answer }) => (
  <>
    <h2 id="answer">Answer</h2>
    {answer.ok ? (
      <p>
        Resolves to{' '}
        <code class="resolved">
          <Shown text={answer.resolved} />
        </code>
      </p>
    ) : answer.byNix ? (
      <p class="error">
        Nix says:{' '}
        <code class="nix-error">
          <Shown text={answer.detail} />
        </code>
      </p>
    ) : (
      <p class="error">
        <strong>{answer.title}:</strong>{' '}
        <span class="service-error">
          <Shown text={answer.detail} />
        </span>
      </p>
    )}
    <h3>Steps</h3>
    {answer.steps.length === 0 ? (
      <p class="muted">No entry matched.</p>
    ) : (
      <ol class="steps">
        {answer.steps.map((s) => (
          <li>
            <a href={`/r/${s.registry}?page=${Math.floor(s.index / ENTRIES_PER_PAGE) + 1}#entry-${s.index}`}>
              {`${s.registry} version ${s.version}, entry ${s.index}${s.exact ? ' (exact)' : ''}`}
            </a>
            {': '}
            <Shown text={s.from} />
            {' → '}
            <Shown text={s.to} />
            {s.dir === undefined ? null : (
              <>
                {' (dir '}
                <Shown text={s.dir} />
                {')'}
              </>
            )}
          </li>
        ))}
      </ol>
    )}
    {answer.registries === undefined ? null : (
      <p class="muted searched">
        Searched: {answer.registries.map((r) => `${r.name} version ${r.version}`).join(', ')}
      </p>
    )}
  </>
);

/** One line of a diff: its sign, what happened, the entry's label and its class. */
export type DiffLine = readonly [sign: string, what: string, label: string, cls: string];

/** Entries added, removed, changed and moved, by label, in that order. */
export const diffLines = (changes: ChangeSummary): DiffLine[] => [
  ...changes.added.map((l): DiffLine => ['+', 'added', l, 'diff-add']),
  ...changes.removed.map((l): DiffLine => ['−', 'removed', l, 'diff-remove']),
  ...changes.changed.map((l): DiffLine => ['~', 'changed', l, '']),
  ...changes.moved.map((l): DiffLine => ['↕', 'moved', l, '']),
];

/** Lines of a diff (all of them, or one page's). */
export const DiffList: FC<{ lines: readonly DiffLine[] }> = ({ lines }) => {
  if (lines.length === 0) return <p class="muted">No entry changes.</p>;
  return (
    <ul class="diff">
      {lines.map(([sign, what, label, cls]) => (
        <li class={cls}>
          <span aria-hidden="true">{sign} </span>
          <span class="mono">
            <Shown text={label} />
          </span>{' '}
          <span class="muted">({what})</span>
        </li>
      ))}
    </ul>
  );
};
