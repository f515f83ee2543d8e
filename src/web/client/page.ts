// The pages' script, served from a versioned URL: it filters a registry's entries as one
// types and answers the resolve box without a reload, from the JSON `/resolve`. Every page
// works without it; nothing here builds markup from text (textContent only). The history
// page's verification is a script of its own (history.ts): it carries the verifier.
import { isNixErrorKind } from '../../nix/errors.js';
import { el, shown } from './dom.js';

const PROBLEM_TYPE_PREFIX = 'urn:flake-registry:problem:';

interface Step {
  readonly registry: string;
  readonly version: number;
  readonly index: number;
  readonly exact: boolean;
  readonly from: string;
  readonly to: string;
  readonly dir?: string;
}

interface Answer {
  readonly resolved?: { readonly url: string };
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly steps?: readonly Step[];
  readonly registries?: readonly { readonly name: string; readonly version: number }[];
}

/**
 * Hides the rows of this page that do not match, and says what it counted: the rows of this
 * page alone. The text the server wrote (its own filter, over every page) comes back when the
 * field is empty or holds that filter again.
 */
function filterEntries(input: HTMLInputElement, count: HTMLElement, server: string): void {
  const rows = document.querySelectorAll<HTMLTableRowElement>('tr[data-entry]');
  const needle = input.value.trim().toLowerCase();
  const query = (count.dataset['query'] ?? '').trim().toLowerCase();
  let showing = 0;
  for (const row of rows) {
    const hit = needle === '' || (row.dataset['entry'] ?? '').includes(needle);
    row.hidden = !hit;
    if (hit) showing++;
  }
  if (needle === '' || needle === query) {
    count.textContent = server;
    return;
  }
  const total = count.dataset['total'] ?? '';
  const paged = Number(count.dataset['pages'] ?? '1') > 1 || query !== '';
  const these = query === '' ? 'entries on this page' : `entries on this page (those matching “${query}”)`;
  count.textContent =
    `${showing} of the ${rows.length} ${these} match “${input.value.trim()}”` +
    (paged ? `; “Filter all entries” searches all ${total}.` : '.');
}

function stepItem(step: Step, registry: string): HTMLLIElement {
  const where = `${step.registry} version ${step.version}, entry ${step.index}${step.exact ? ' (exact)' : ''}`;
  const link = el(
    'a',
    { href: `/r/${step.registry}?page=${Math.floor(step.index / PAGE) + 1}#entry-${step.index}` },
    where,
  );
  const item = el('li', {}, link, ': ', shown(step.from), ' → ', shown(step.to));
  if (step.dir !== undefined) item.append(' (dir ', shown(step.dir), ')');
  if (step.registry !== registry) item.dataset['layer'] = step.registry;
  return item;
}

const PAGE = Number(document.documentElement.dataset['page'] ?? '200');

function render(target: HTMLElement, status: number, answer: Answer, registry: string): void {
  const steps = answer.steps ?? [];
  const parts: Node[] = [el('h2', { id: 'answer' }, 'Answer')];
  if (status === 200 && answer.resolved) {
    parts.push(el('p', {}, 'Resolves to ', el('code', { class: 'resolved' }, shown(answer.resolved.url))));
  } else if (isNixErrorKind((answer.type ?? '').replace(PROBLEM_TYPE_PREFIX, ''))) {
    // Only Nix's own errors are Nix's words; the service's refusals are said as its own.
    parts.push(
      el('p', { class: 'error' }, 'Nix says: ', el('code', { class: 'nix-error' }, shown(answer.detail ?? ''))),
    );
  } else {
    parts.push(
      el(
        'p',
        { class: 'error' },
        el('strong', {}, `${answer.title ?? `HTTP ${status}`}:`),
        ' ',
        el('span', { class: 'service-error' }, shown(answer.detail ?? '')),
      ),
    );
  }
  parts.push(el('h3', {}, 'Steps'));
  parts.push(
    steps.length === 0
      ? el('p', { class: 'muted' }, 'No entry matched.')
      : el('ol', { class: 'steps' }, ...steps.map((s) => stepItem(s, registry))),
  );
  if (answer.registries) {
    const searched = answer.registries.map((r) => `${r.name} version ${r.version}`).join(', ');
    parts.push(el('p', { class: 'muted searched' }, `Searched: ${searched}`));
  }
  target.replaceChildren(...parts);
}

/** The longest URL the service takes (src/http/params.ts MAX_URL_LENGTH): longer ones are refused unread. */
const MAX_URL = Number(document.documentElement.dataset['maxUrl'] ?? '16384');

/**
 * The form's fields as `/resolve` reads its query: every value percent-encoded (`+` as %2B, a
 * space as %20, never form encoding, so without the form's `form=1` mark), the overrides kept
 * in order, and the page's registry when the field is left empty, as the page's own route takes it.
 */
function resolveQuery(form: HTMLFormElement): string {
  const pairs: string[] = [];
  for (const [name, value] of new FormData(form)) {
    // The mark that says a browser form-encoded the query: this one is percent-encoded.
    if (typeof value !== 'string' || name === 'form') continue;
    const given = name === 'registry' ? value.trim() || (form.dataset['registry'] ?? '') : value;
    pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(given)}`);
  }
  return pairs.join('&');
}

async function resolveBox(form: HTMLFormElement, event: SubmitEvent): Promise<void> {
  const target = document.getElementById('resolve-result');
  if (!target) return;
  event.preventDefault();
  const query = resolveQuery(form);
  const pageUrl = new URL(`${form.action}?${query}`, location.href).href;
  const apiUrl = new URL(`/resolve?${query}`, location.href).href;
  // The service refuses such a URL before reading it: say so here, and put nothing in the address bar.
  if (Math.max(pageUrl.length, apiUrl.length) > MAX_URL) {
    target.replaceChildren(
      el('h2', { id: 'answer' }, 'Answer'),
      el(
        'p',
        { class: 'error', id: 'resolve-refused' },
        `This question makes a URL of ${Math.max(pageUrl.length, apiUrl.length)} characters; the service takes at most ${MAX_URL}. Shorten the ref or the registries.`,
      ),
    );
    return;
  }
  target.setAttribute('aria-busy', 'true');
  try {
    const res = await fetch(apiUrl, { headers: { Accept: 'application/json' } });
    render(target, res.status, (await res.json()) as Answer, form.dataset['registry'] ?? '');
    history.replaceState(null, '', pageUrl);
  } catch {
    target.replaceChildren(el('p', { class: 'error' }, 'The service did not answer; try again.'));
  } finally {
    target.removeAttribute('aria-busy');
  }
}

const filter = document.getElementById('entry-filter');
const count = document.getElementById('filter-count');
if (filter instanceof HTMLInputElement && count) {
  const server = count.textContent ?? '';
  filter.addEventListener('input', () => filterEntries(filter, count, server));
  // A field the browser refilled (back, forward) filters the rows it says.
  if (filter.value !== '') filterEntries(filter, count, server);
}

const form = document.getElementById('resolve-form');
if (form instanceof HTMLFormElement) {
  form.addEventListener('submit', (event) => void resolveBox(form, event));
}
