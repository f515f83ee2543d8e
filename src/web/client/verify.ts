// The history page's "Verify this history": the same fetch-and-check `flake-registry verify`
// runs (src/served/history.ts), from this page's own origin, with its progress and outcome.
import type { LogResult } from '../../served/log.js';
import { verifyServedHistory, type ServedProgress, type ServedVerification } from '../../served/history.js';
import { ServedError, fetchSource } from '../../served/source.js';
import { el, shown } from './dom.js';

/** A key as its name: `alice:BASE64` is alice. */
const keyName = (key: string): string => key.slice(0, Math.max(0, key.indexOf(':'))) || key;

const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;

/** What the log's check proves, said beside its outcome. */
function logLine(registry: string, log: LogResult, latest: number): HTMLLIElement {
  if ('absent' in log) return el('li', {}, 'no log: ', shown(log.absent));
  if ('code' in log) throw new Error('a failed log check is shown as a failure');
  const keyUrl = `/registries/${encodeURIComponent(registry)}/log/key`;
  const lag = latest - log.size;
  return el(
    'li',
    {},
    `log: ${log.size === 1 ? '1 leaf' : `${log.size} leaves`} verified against the history, checkpoint signed by `,
    shown(log.key),
    ' with ',
    el('a', { href: keyUrl }, 'the key the server gives'),
    ': this proves only that the log and this history agree, not whose log it is (pin a key published elsewhere with ',
    el('code', {}, 'flake-registry verify --log-key'),
    ')',
    lag > 0 ? `; the ${plural(lag, 'newest version')} ${lag === 1 ? 'is' : 'are'} not in its checkpoint yet` : '',
  );
}

function outcome(registry: string, checked: ServedVerification): Node[] {
  const { history, log, latest } = checked;
  if (!history.ok) {
    const reason = history.reason.replace(/^version \d+: /, '');
    return [
      el(
        'p',
        { class: 'error' },
        `Version ${history.version} fails: `,
        shown(reason),
        ` (${history.code}). `,
        el(
          'a',
          { href: `?before=${history.version + 1}#version-${history.version}` },
          `See version ${history.version}`,
        ),
        '.',
      ),
    ];
  }
  if (log && 'code' in log) {
    return [
      el(
        'p',
        { class: 'error' },
        `${plural(history.versions, 'version')} verified, but the log fails: `,
        shown(log.reason),
        ` (${log.code})`,
      ),
    ];
  }
  const { policy } = history;
  return [
    el('p', { class: 'verified' }, `All ${plural(history.versions, 'version')} verified.`),
    el(
      'ul',
      {},
      el('li', {}, `head version ${history.head.version}, sha256 `, el('code', {}, history.head.sha256)),
      el(
        'li',
        {},
        `policy in force: ${policy.threshold} of ${plural(policy.keys.length, 'key')} (`,
        ...policy.keys.flatMap((k, i) => (i === 0 ? [shown(keyName(k))] : [', ', shown(keyName(k))])),
        ')',
      ),
      ...(log ? [logLine(registry, log, latest)] : []),
    ),
  ];
}

function failure(error: unknown): Node[] {
  const why =
    error instanceof ServedError
      ? error.message
      : error instanceof TypeError
        ? 'the service did not answer; try again'
        : String(error);
  return [el('p', { class: 'error' }, 'The history could not be verified: ', shown(why))];
}

/** Whether the outcome is a failure: the history's, or the log's once the history verifies. */
const failed = (checked: ServedVerification): boolean =>
  !checked.history.ok || (checked.log !== undefined && 'code' in checked.log);

async function run(section: HTMLElement, button: HTMLButtonElement): Promise<void> {
  const registry = section.dataset['registry'] ?? '';
  const bar = section.querySelector('progress');
  const step = section.querySelector('#verify-step');
  const result = section.querySelector<HTMLElement>('#verify-result');
  if (!bar || !step || !result) return;
  const counts = { fetched: 0, verified: 0 };
  const onProgress = (p: ServedProgress): void => {
    counts[p.step] = p.done;
    bar.max = 2 * p.total;
    bar.value = counts.fetched + counts.verified;
    step.textContent = `${p.step} ${p.done} of ${plural(p.total, 'version')}`;
  };
  button.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  result.replaceChildren();
  result.setAttribute('aria-busy', 'true');
  let ok = false;
  try {
    // Every answer from the service itself, never the browser's cache: the version URLs are
    // immutable, so a cached copy would hide bytes changed in storage since. Each answer has
    // the command's 30 s (fetchSource): a stalled request ends as a failure, not a wait.
    const source = fetchSource((path, signal) => fetch(path, { cache: 'no-store', signal }));
    const checked = await verifyServedHistory(source, { registry, onProgress });
    ok = !failed(checked);
    result.replaceChildren(...outcome(registry, checked));
  } catch (error) {
    result.replaceChildren(...failure(error));
  } finally {
    step.textContent = '';
    // A bar left part full would say the check is still going: after a failure it goes.
    if (!ok) {
      bar.value = 0;
      bar.hidden = true;
    }
    result.removeAttribute('aria-busy');
    button.disabled = false;
    button.textContent = 'Verify again';
    // The button had the focus and was disabled meanwhile, which drops it to the page:
    // it goes to the outcome instead, which keyboard and screen reader users read next.
    result.focus();
  }
}

/** Shows the section's controls (hidden without script) and runs the verification on a click. */
export function verifyButton(section: HTMLElement): void {
  const controls = section.querySelector<HTMLElement>('#verify-controls');
  const button = section.querySelector('#verify-button');
  if (!controls || !(button instanceof HTMLButtonElement)) return;
  controls.hidden = false;
  button.addEventListener('click', () => void run(section, button));
}
