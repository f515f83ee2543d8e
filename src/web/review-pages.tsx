/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import type { ProposalAuditAnswer } from '../api/answers.js';
import type { ProposalSummary, ProposalView, ThresholdView } from '../writer/contract.js';
import type { VersionRecord } from '../protocol/record.js';
import type { ChangeSummary } from '../nix/diff.js';
import { signatureForm, signatureLabel } from '../protocol/signatures.js';
import { Badge, Page, Pager, Shown, Time, VERIFY_SCRIPT } from './html.js';
import { DiffList, diffLines } from './registry-pages.js';

/** A registry's history, its proposals, and one proposal as a reviewer reads it. */

/** `alice:BASE64` as the name it signed under. A Nix signature's or a key's name; an SSH signature names no key, so its key's fingerprint. */
const signerOf = (signature: string) =>
  signatureForm(signature) === 'ssh'
    ? signatureLabel(signature)
    : signature.slice(0, Math.max(0, signature.indexOf(':'))) || signature;

/**
 * A message someone wrote: its lines kept, every character shown. The block is left to right
 * whatever the message holds, and each line is isolated on its own (`<bdi>`, its direction
 * from its own first letter): a message that starts in Hebrew or Arabic cannot turn the lines
 * after it, or the page around it, right to left.
 */
const Message: FC<{ text: string }> = ({ text }) => (
  <blockquote class="message" dir="ltr">
    {text.split('\n').map((line, i) => (
      <>
        {i > 0 ? '\n' : ''}
        <Shown text={line} />
      </>
    ))}
  </blockquote>
);

export interface HistoryProps {
  readonly registry: string;
  readonly latest: number;
  readonly records: readonly VersionRecord[];
  /** The next (older) page, if any. */
  readonly older?: string;
  readonly newer?: string;
}

/**
 * The history's verification in the browser: the page's script fetches every version and runs
 * the verifier `flake-registry verify` runs (src/served/history.ts). Its controls are hidden
 * until the script shows them; without script the section says what it needs.
 */
const VerifySection: FC<{ registry: string; latest: number }> = ({ registry, latest }) => (
  <section class="verify" id="verify" aria-labelledby="verify-title" data-registry={registry}>
    <h2 id="verify-title">Verify this history</h2>
    <p>
      Your browser can fetch all {latest} version{latest === 1 ? '' : 's'} (record and file, exact bytes) and check them
      as <code>flake-registry verify</code> does: every hash link, each file as Nix reads it, the signatures under the
      policy in force, each proposal replayed; then the transparency log against the history.
    </p>
    <noscript>
      <p class="muted">
        Verification needs script, which is off in this browser:{' '}
        <code>flake-registry verify --registry {registry}</code> runs the same checks from a shell.
      </p>
    </noscript>
    <div class="verify-controls" id="verify-controls" hidden>
      <button type="button" id="verify-button">
        Verify this history
      </button>
      <progress id="verify-progress" max={1} value={0} aria-label="Verification progress" hidden></progress>
      <span class="muted" id="verify-step"></span>
    </div>
    <div id="verify-result" role="status" aria-live="polite" tabindex={-1}></div>
  </section>
);

/** Change lines a version shows on the history page; a whole-file upload can change thousands. */
export const HISTORY_CHANGE_LINES = 50;

const VersionChanges: FC<{ registry: string; version: number; changes: ChangeSummary }> = (p) => {
  const lines = diffLines(p.changes);
  if (lines.length <= HISTORY_CHANGE_LINES) return <DiffList lines={lines} />;
  const more = lines.length - HISTORY_CHANGE_LINES;
  return (
    <>
      <DiffList lines={lines.slice(0, HISTORY_CHANGE_LINES)} />
      <p class="muted">
        {`… and ${more} more change${more === 1 ? '' : 's'} (${lines.length} in all): `}
        <a href={`/registries/${p.registry}/versions/${p.version}`}>version {p.version}'s record</a> lists every one.
      </p>
    </>
  );
};

export const HistoryPage: FC<HistoryProps> = ({ registry, latest, records, older, newer }) => (
  <Page title={`History of ${registry}`} registry={registry} scripts={[VERIFY_SCRIPT]}>
    <p>
      Every version, newest first ({latest} in all). Each record carries the hash of its file, of its parent's record
      and of the trust policy in force: <code>flake-registry verify</code> checks them all offline.
    </p>
    <VerifySection registry={registry} latest={latest} />
    {records.map((r) => (
      <article class="version" id={`version-${r.version}`} aria-labelledby={`version-${r.version}-title`}>
        <h2 id={`version-${r.version}-title`}>Version {r.version}</h2>
        <dl class="facts">
          <dt>Published</dt>
          <dd>
            <Time at={r.created} />
          </dd>
          <dt>Entries</dt>
          <dd>{r.entries}</dd>
          <dt>SHA-256</dt>
          <dd class="mono">{r.sha256}</dd>
          {r.source.kind === 'embedded' ? (
            <>
              <dt>Source</dt>
              <dd>
                the embedded registry the service started with (its genesis policy: {r.source.policy.threshold} of{' '}
                {r.source.policy.keys.length} keys)
              </dd>
            </>
          ) : (
            <>
              <dt>Proposal</dt>
              <dd class="mono">{r.source.id}</dd>
              <dt>Signed by</dt>
              <dd>
                {r.source.signatures.length === 0
                  ? 'nobody'
                  : r.source.signatures.map((s, i) => (
                      <>
                        {i > 0 ? ', ' : ''}
                        <Shown text={signerOf(s)} />
                      </>
                    ))}
              </dd>
            </>
          )}
          <dt>Files</dt>
          <dd>
            <a href={`/registries/${registry}/versions/${r.version}/flake-registry.json`}>version {r.version}'s file</a>
            {' · '}
            <a href={`/registries/${registry}/versions/${r.version}`}>its record</a>
          </dd>
        </dl>
        {r.source.kind === 'proposal' ? (
          <Message text={typeof r.source.proposal['message'] === 'string' ? r.source.proposal['message'] : ''} />
        ) : null}
        {r.version === 1 ? null : (
          <>
            <h3>Against version {r.version - 1}</h3>
            <VersionChanges registry={registry} version={r.version} changes={r.changes} />
          </>
        )}
      </article>
    ))}
    <nav class="pages" aria-label="Pages of history">
      <ul>
        {newer === undefined ? null : (
          <li>
            <a href={newer} rel="prev">
              ← newer versions
            </a>
          </li>
        )}
        {older === undefined ? null : (
          <li>
            <a href={older} rel="next">
              older versions →
            </a>
          </li>
        )}
      </ul>
    </nav>
  </Page>
);

const firstLine = (text: string) => {
  const line = text.split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
};

export const ProposalsPage: FC<{ registry: string; proposals: readonly ProposalSummary[] }> = ({
  registry,
  proposals,
}) => {
  // Open ones first, each group newest first, as the service lists them.
  const open = proposals.filter((p) => p.status === 'open');
  const closed = proposals.filter((p) => p.status !== 'open');
  return (
    <Page title={`Proposals for ${registry}`} registry={registry}>
      <p>
        Signed changes to the registry. One merges into a new version once enough trusted keys have signed it. Make one
        with <code>flake-registry propose</code>.
      </p>
      <ProposalTable title="Open" id="open" proposals={open} registry={registry} />
      <ProposalTable title="Closed" id="closed" proposals={closed} registry={registry} />
    </Page>
  );
};

const ProposalTable: FC<{ title: string; id: string; proposals: readonly ProposalSummary[]; registry: string }> = ({
  title,
  id,
  proposals,
  registry,
}) => (
  <section aria-labelledby={id}>
    <h2 id={id}>
      {title} ({proposals.length})
    </h2>
    {proposals.length === 0 ? (
      <p class="muted">None.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th scope="col">Proposal</th>
            <th scope="col">Status</th>
            <th scope="col">Message</th>
            <th scope="col">Base</th>
            <th scope="col">Signatures</th>
            <th scope="col">Expires</th>
          </tr>
        </thead>
        <tbody>
          {proposals.map((p) => (
            <tr>
              <td class="mono">
                <a href={`/r/${registry}/proposals/${p.id}`}>{p.id.slice(0, 12)}…</a>
              </td>
              <td>
                <Badge status={p.status} />
                {p.version === undefined ? null : <> as version {p.version}</>}
              </td>
              <td>
                <Shown text={firstLine(p.message)} />
              </td>
              <td class="num">{p.base}</td>
              <td class="num">{p.signatures}</td>
              <td>
                <Time at={p.expires} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
);

const Threshold: FC<{ name: string; t: ThresholdView }> = ({ name, t }) => (
  <p class="threshold">
    <strong>
      {name}: {t.have} of {t.need}
    </strong>{' '}
    {t.signers.length === 0 ? (
      '(no signers yet)'
    ) : (
      <>
        (signed by{' '}
        {t.signers.map((s, i) => (
          <>
            {i > 0 ? ', ' : ''}
            <Shown text={s} />
          </>
        ))}
        )
      </>
    )}
    {t.have < t.need && t.remaining.length > 0 ? (
      <>
        ; {t.need - t.have} more from{' '}
        {t.remaining.map((s, i) => (
          <>
            {i > 0 ? ', ' : ''}
            <Shown text={s} />
          </>
        ))}
      </>
    ) : null}
  </p>
);

export interface ChangeLine {
  readonly op: string;
  readonly text: string;
}

/** A pasted document's audit: what the proposal would change of it, or why it could not be read. */
export interface AuditView {
  /** The document as pasted, kept in the form. */
  readonly text: string;
  readonly result?: ProposalAuditAnswer;
  readonly problem?: { readonly title: string; readonly detail: string };
}

/** Rows of each of a proposal's long lists shown at once: a 10,000-entry proposal's first view stays far under 100 KB. */
export const PROPOSAL_ROWS_PER_PAGE = 100;

/** A proposal's long lists, each paged on its own by the query parameter of its name (`?impact=3`). */
export const PROPOSAL_LISTS = ['diff', 'proposed', 'impact', 'lint'] as const;
export type ProposalList = (typeof PROPOSAL_LISTS)[number];
export type ProposalPages = Readonly<Record<ProposalList, number>>;

/** How many pages each list of a proposal's page has (at least one). */
export function proposalListPages(view: ProposalView, changes: readonly ChangeLine[]): ProposalPages {
  const pages = (rows: number) => Math.max(1, Math.ceil(rows / PROPOSAL_ROWS_PER_PAGE));
  return {
    diff: pages(diffLines(view.review.changes).length),
    proposed: pages(changes.length),
    impact: pages(view.review.impact.length),
    lint: pages(view.review.lint.length),
  };
}

const FIRST_PAGES: ProposalPages = { diff: 1, proposed: 1, impact: 1, lint: 1 };

/** This page of a list's rows. */
const pageOf = <T,>(rows: readonly T[], page: number): readonly T[] =>
  rows.slice((page - 1) * PROPOSAL_ROWS_PER_PAGE, page * PROPOSAL_ROWS_PER_PAGE);

/** A list's pager and what its page holds, when it has more than one page; the other lists keep their page. */
const ListPager: FC<{
  view: ProposalView;
  pages: ProposalPages;
  of: ProposalPages;
  list: ProposalList;
  rows: number;
}> = ({ view, pages, of, list, rows }) => {
  if (of[list] <= 1) return null;
  const page = pages[list];
  const href = (n: number) => {
    const query = PROPOSAL_LISTS.map((l) => [l, l === list ? n : pages[l]] as const)
      .filter(([, v]) => v !== 1)
      .map(([l, v]) => `${l}=${v}`)
      .join('&');
    return `/r/${view.registry}/proposals/${view.id}${query === '' ? '' : `?${query}`}#${list}`;
  };
  const first = (page - 1) * PROPOSAL_ROWS_PER_PAGE;
  return (
    <>
      <p class="muted">
        Rows {first + 1} to {Math.min(rows, first + PROPOSAL_ROWS_PER_PAGE)} of {rows} (page {page} of {of[list]}).
      </p>
      <Pager label={`Pages of ${LIST_NAMES[list]}`} page={page} pages={of[list]} href={href} />
    </>
  );
};

const LIST_NAMES: Readonly<Record<ProposalList, string>> = {
  diff: 'changes against the head',
  proposed: 'changes as proposed',
  impact: 'resolution impact',
  lint: 'lint findings',
};

export const ProposalPage: FC<{
  view: ProposalView;
  changes: readonly ChangeLine[];
  audit?: AuditView;
  pages?: ProposalPages;
}> = ({ view, changes, audit, pages = FIRST_PAGES }) => {
  const p = view.proposal;
  const review = view.review;
  const of = proposalListPages(view, changes);
  const diff = diffLines(review.changes);
  const command = `flake-registry approve ${view.id} --registry ${view.registry} --key YOUR.sec`;
  return (
    <Page title={`Proposal ${view.id.slice(0, 12)}…`} registry={view.registry}>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <Badge status={view.status} />
          {view.version === undefined ? null : (
            <>
              {' '}
              merged as <a href={`/r/${view.registry}/history#version-${view.version}`}>version {view.version}</a>
            </>
          )}
          {view.outcome === undefined ? null : (
            <>
              {' '}
              — <Shown text={view.outcome.detail} />
            </>
          )}
        </dd>
        <dt>Id</dt>
        <dd class="mono">{view.id}</dd>
        <dt>Base version</dt>
        <dd>{p.base}</dd>
        <dt>Created</dt>
        <dd>
          <Time at={p.created} />
        </dd>
        <dt>Submitted</dt>
        <dd>
          <Time at={view.submitted} />
        </dd>
        <dt>Expires</dt>
        <dd>
          <Time at={p.expires} />
        </dd>
      </dl>
      <h2 id="message">Message</h2>
      <Message text={p.message} />

      <h2 id="diff">Changes against version {review.head}</h2>
      {review.base.version === review.head ? null : <p class="muted">Written against version {review.base.version}.</p>}
      <ListPager view={view} pages={pages} of={of} list="diff" rows={diff.length} />
      <DiffList lines={pageOf(diff, pages.diff)} />
      <h3 id="proposed">As proposed</h3>
      <ListPager view={view} pages={pages} of={of} list="proposed" rows={changes.length} />
      <ol class="changes" start={(pages.proposed - 1) * PROPOSAL_ROWS_PER_PAGE + 1}>
        {pageOf(changes, pages.proposed).map((c) => (
          <li class="mono">
            <Shown text={c.text} />
          </li>
        ))}
      </ol>
      {review.policy === undefined ? null : (
        <>
          <h3>Policy change</h3>
          <p>
            Threshold {review.policy.threshold.from} → {review.policy.threshold.to}
          </p>
          <KeyList title="Adds" keys={review.policy.added} />
          <KeyList title="Removes (their signatures stop counting)" keys={review.policy.removed} />
          <KeyList title="Renames" keys={review.policy.renamed.map((r) => `${r.from} → ${r.to}`)} />
        </>
      )}

      <h2 id="impact">Resolution impact</h2>
      {review.impact.length === 0 ? (
        <p class="muted">No ref resolves differently.</p>
      ) : (
        <>
          <ListPager view={view} pages={pages} of={of} list="impact" rows={review.impact.length} />
          <table>
            <thead>
              <tr>
                <th scope="col">Ref</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
                <th scope="col">Changed</th>
              </tr>
            </thead>
            <tbody>
              {pageOf(review.impact, pages.impact).map((row) => (
                <tr class={row.changed ? 'changed' : ''}>
                  <td class="mono">
                    <Shown text={row.ref} />
                  </td>
                  <td class="mono">
                    <Outcome o={row.before} />
                  </td>
                  <td class="mono">
                    <Outcome o={row.after} />
                  </td>
                  <td>{row.changed ? <strong>yes</strong> : <span class="muted">no</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {review.impactOmitted === undefined ? null : (
        <p class="muted">… and {review.impactOmitted} more rows the service left out.</p>
      )}

      <AuditSection view={view} {...(audit === undefined ? {} : { audit })} />

      <h2 id="lint">Lint</h2>
      {review.lint.length === 0 ? (
        <p class="muted">No findings.</p>
      ) : (
        <>
          <ListPager view={view} pages={pages} of={of} list="lint" rows={review.lint.length} />
          <ul class="lint">
            {pageOf(review.lint, pages.lint).map((f) => (
              <li>
                <span class={f.severity === 'error' ? 'badge error' : 'badge'}>{f.severity}</span>{' '}
                <Shown text={f.message} />
              </li>
            ))}
          </ul>
        </>
      )}
      {review.lintOmitted === undefined ? null : (
        <p class="muted">… and {review.lintOmitted} more findings the service left out.</p>
      )}

      <h2 id="signatures">Signatures</h2>
      <Threshold
        name={`${view.status === 'merged' ? 'Policy that merged it' : 'Policy in force'} (set by version ${view.approvals.policy.since})`}
        t={view.approvals.policy}
      />
      {view.approvals.newPolicy === undefined ? null : <Threshold name="New policy" t={view.approvals.newPolicy} />}
      <p class="needs">
        {view.status === 'open'
          ? `${view.approvals.missing} more approval${view.approvals.missing === 1 ? '' : 's'} needed`
          : view.status === 'merged'
            ? 'Merged: no more approvals needed.'
            : 'Can no longer merge.'}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Signed</th>
            <th scope="col">Counted</th>
          </tr>
        </thead>
        <tbody>
          {view.signatures.map((s) => (
            <tr>
              <td class="mono">
                <Shown text={signerOf(s.key)} />
              </td>
              <td>
                <Time at={s.added} />
              </td>
              <td>{s.counted ? 'yes' : 'no (a key the policy no longer trusts)'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.status === 'open' ? (
        <>
          <h2 id="approve">Approve</h2>
          <p>
            With your maintainer key, after reading the above (the command shows the same review and asks before it
            signs):
          </p>
          <pre class="copy" id="approve-command">
            {command}
          </pre>
        </>
      ) : null}
    </Page>
  );
};

const Outcome: FC<{ o: ProposalView['review']['impact'][number]['before'] }> = ({ o }) =>
  'error' in o ? (
    <span class="error">
      <Shown text={o.error} />
    </span>
  ) : (
    <Shown text={o.dir === undefined ? o.url : `${o.url} (dir ${o.dir})`} />
  );

const KeyList: FC<{ title: string; keys: readonly string[] }> = ({ title, keys }) =>
  keys.length === 0 ? null : (
    <>
      <p>{title}:</p>
      <ul>
        {keys.map((k) => (
          <li class="mono">
            <Shown text={k} />
          </li>
        ))}
      </ul>
    </>
  );

type AuditTarget = ProposalAuditAnswer['changed'][number]['before'];

/** A row's status and where it resolves, as one cell. */
const AuditSide: FC<{ side: AuditTarget }> = ({ side }) => (
  <>
    <span class="badge">{side.status.kind}</span>{' '}
    {side.target === null ? null : 'url' in side.target ? (
      <Shown text={side.target.url} />
    ) : (
      <span class="error">
        <Shown text={side.target.error} />
      </span>
    )}
  </>
);

const attrValue = (v: unknown): string => (v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** What the proposal does to a pasted lock file or manifest: the same as its JSON audit route. */
const AuditSection: FC<{ view: ProposalView; audit?: AuditView }> = ({ view, audit }) => {
  const result = audit?.result;
  const original = (kind: string, id: string) =>
    result?.before.rows.find((r) => r.kind === kind && r.id === id)?.original?.url;
  const what = result?.before.document === 'manifest.json' ? 'element' : 'input';
  return (
    <section aria-labelledby="audit">
      <h2 id="audit">Audit a lock file or profile</h2>
      <p>
        Paste a <code>flake.lock</code> or a profile's <code>manifest.json</code> to see which of its inputs or elements
        this proposal would send elsewhere, as{' '}
        <code>
          POST /registries/{view.registry}/proposals/{view.id.slice(0, 12)}…/audit
        </code>{' '}
        answers. Nothing is stored.
      </p>
      <form method="post" action={`/r/${view.registry}/proposals/${view.id}/audit#audit-result`} class="audit">
        <label for="audit-document">flake.lock or manifest.json</label>
        <textarea id="audit-document" name="document" rows={8} required spellcheck={false} autocomplete="off">
          {audit?.text ?? ''}
        </textarea>
        <button type="submit">Audit</button>
      </form>
      {audit === undefined ? null : (
        <div id="audit-result" tabindex={-1}>
          {audit.problem !== undefined ? (
            <p class="error">
              <strong>{audit.problem.title}:</strong> <Shown text={audit.problem.detail} />
            </p>
          ) : result === undefined ? null : result.changed.length === 0 ? (
            <p class="audit-none">
              Nothing changes: none of the {result.unchanged} {what}
              {result.unchanged === 1 ? '' : 's'} of this {result.before.document} resolves differently with version{' '}
              {result.to} than with version {result.from}.
            </p>
          ) : (
            <>
              <p>
                {result.changed.length} of the {result.changed.length + result.unchanged} {what}s of this{' '}
                {result.before.document} change between version {result.from} and version {result.to}:
              </p>
              <table class="audit-rows">
                <thead>
                  <tr>
                    <th scope="col">{what === 'input' ? 'Input' : 'Element'}</th>
                    <th scope="col">Original ref</th>
                    <th scope="col">Before</th>
                    <th scope="col">After</th>
                    <th scope="col">Changed attributes</th>
                  </tr>
                </thead>
                <tbody>
                  {result.changed.map((row) => {
                    const moved = row.after.status.kind === 'redirected' ? row.after.status.changes : [];
                    return (
                      <tr>
                        <td class="mono">
                          <Shown text={row.id} />
                        </td>
                        <td class="mono">
                          <Shown text={original(row.kind, row.id) ?? ''} />
                        </td>
                        <td class="mono">
                          <AuditSide side={row.before} />
                        </td>
                        <td class="mono">
                          <AuditSide side={row.after} />
                        </td>
                        <td class="mono">
                          {moved.length === 0 ? (
                            <span class="muted">none</span>
                          ) : (
                            <ul>
                              {moved.map((m) => (
                                <li>
                                  <Shown text={`${m.attribute}: ${attrValue(m.from)} → ${attrValue(m.to)}`} />
                                </li>
                              ))}
                            </ul>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </>
          )}
        </div>
      )}
    </section>
  );
};
