import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../scripts/dev-server.js';

/**
 * The web pages in a real browser (Debian's chromium, driven by playwright-core)
 * against a local `wrangler dev`: every page loads under its Content-Security-Policy
 * with no console error and no failed request, the script's filter and resolve box
 * agree with `/resolve`, a proposal made with the command is reviewed and merged,
 * hostile text stays text, the reading pages work without JavaScript, the history page
 * verifies the whole history and its log and names a version whose stored file was altered,
 * and axe-core finds nothing serious. Screenshots of the main pages go to docs/screenshots/.
 */

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'scripts', 'cli', 'bin.mjs');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(root, 'docs', 'screenshots');
const HOSTILE = 'Pin 25.05 <script>alert(1)</script> <img src=x onerror=alert(1)>';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Locally the browser is optional; CI installs it (.ci/run) and must not skip.
const available = existsSync(CHROMIUM) || process.env['CI'] === 'true';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe.skipIf(!available)('the web pages in a browser', () => {
  let work: string;
  let server: DevServer;
  let browser: Browser;
  let scripted: BrowserContext;
  let plain: BrowserContext;
  let env: Record<string, string | undefined>;
  let proposalId = '';
  let serverArgs: string[] = [];
  /** What went wrong on any page: console errors, failed requests, dialogs. */
  const troubles: string[] = [];

  function cli(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, ...args], { cwd: work, env }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
      child.stdin?.end();
    });
  }

  async function ok(...args: string[]): Promise<string> {
    const r = await cli(...args);
    expect(r.stderr, `flake-registry ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  }

  function watch(context: BrowserContext): void {
    context.on('page', (page) => {
      page.on('console', (m) => {
        if (m.type() === 'error') troubles.push(`console error on ${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => troubles.push(`script error on ${page.url()}: ${e.message}`));
      page.on('requestfailed', (r) => troubles.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
      page.on('response', (r) => {
        if (r.status() >= 400) troubles.push(`${r.status()} for ${r.url()}`);
      });
      page.on('dialog', (d) => {
        troubles.push(`a dialog opened: ${d.message()}`);
        void d.dismiss();
      });
    });
  }

  /** Opens `path` and checks that it loaded whole and cleanly. */
  async function open(context: BrowserContext, path: string): Promise<Page> {
    const page = await context.newPage();
    const before = troubles.length;
    const res = await page.goto(`${server.origin}${path}`, { waitUntil: 'load' });
    expect(res?.status(), path).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForLoadState('networkidle');
    expect(troubles.slice(before), path).toEqual([]);
    return page;
  }

  /** axe-core's serious and critical findings on the page (run through the DevTools protocol: the CSP allows no injected script). */
  async function accessibility(page: Page): Promise<string[]> {
    await page.evaluate(axeSource);
    const violations: { id: string; impact: string; targets: string[] }[] = await page.evaluate(
      `axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })))`,
    );
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.targets.slice(0, 3).join(', ')}`);
  }

  /** The id of the element that has the focus. */
  const focused = (page: Page): Promise<string | undefined> =>
    page.evaluate<string | undefined, undefined>('document.activeElement?.id', undefined);

  /** The entries a reader sees: rows the filter has not hidden. */
  const visibleIndexes = (page: Page): Promise<number[]> =>
    page.evaluate<number[], undefined>(
      `[...document.querySelectorAll('tr[data-entry]')].filter((r) => !r.hidden).map((r) => Number(r.id.slice(6)))`,
      undefined,
    );

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flake-registry-browser-'));
    env = { ...process.env, FLAKE_REGISTRY_URL: undefined };
    for (const name of ['alice', 'bob']) await ok('keygen', '--name', name, '--out', `${name}.sec`);
    const keys = await Promise.all(['alice', 'bob'].map(async (n) => (await ok('pubkey', `${n}.sec`)).trim()));
    await ok('keygen', '--name', 'localhost', '--out', 'log.sec');
    const logKey = readFileSync(join(work, 'log.sec'), 'utf8').trim();
    serverArgs = ['--var', `DEV_TRUSTED_KEYS:${keys.join(' ')}`, '--var', `LOG_SIGNING_KEY:${logKey}`];
    server = await startDevServer({
      root,
      persistTo: join(work, 'state'),
      args: [...serverArgs, '--log-level', 'warn'],
    });
    env = { ...env, FLAKE_REGISTRY_URL: server.origin };
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
    scripted = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    plain = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    watch(scripted);
    watch(plain);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('filters the entries as one types, finding the entry /resolve names', async () => {
    const page = await open(scripted, '/r/global');
    const all = await visibleIndexes(page);
    expect(all.length).toBeGreaterThan(10);
    await page.screenshot({ path: join(SCREENSHOTS, 'registry.png') });
    const found = await fetch(`${server.origin}/resolve?ref=home-manager`);
    const answer = await found.json<{ steps: { index: number }[] }>();
    await page.getByLabel('Filter entries').pressSequentially('home-manager');
    const shown = await visibleIndexes(page);
    expect(shown).toContain(answer.steps[0]?.index);
    expect(shown.length).toBeLessThan(all.length);
    for (const i of shown) expect(await page.locator(`#entry-${i}`).innerText()).toContain('home-manager');
    // What it counts is said: the rows of this page, which here are all the entries.
    await expect
      .poll(() => page.locator('#filter-count').innerText())
      .toBe(`${shown.length} of the ${all.length} entries on this page match “home-manager”.`);
    await page.getByLabel('Filter entries').fill('');
    await page.getByLabel('Filter entries').press('Backspace');
    expect(await visibleIndexes(page)).toEqual(all);
    expect(await page.locator('#filter-count').innerText()).toBe(
      `Entries 1 to ${all.length} of ${all.length} on this page.`,
    );
    expect(await accessibility(page)).toEqual([]);
  });

  it('highlights the entry a step links to (its #fragment)', async () => {
    const page = await open(scripted, '/r/global#entry-2');
    const backgrounds = await page.evaluate<string[], undefined>(
      `['entry-2', 'entry-3'].map((id) => getComputedStyle(document.querySelector('#' + id + ' td')).backgroundColor)`,
      undefined,
    );
    expect(backgrounds[0]).not.toBe(backgrounds[1]);
    expect(backgrounds[0]).toBe('rgb(255, 243, 176)');
    await page.close();
  });

  it('answers the resolve box without a reload, as /resolve does', async () => {
    const page = await open(scripted, '/r/global/resolve');
    await page.evaluate(() => ((globalThis as unknown as { stayed: boolean }).stayed = true));
    for (const ref of ['nixpkgs/nixos-25.05', 'home-manager', 'nope']) {
      const res = await fetch(`${server.origin}/resolve?ref=${encodeURIComponent(ref)}&registry=global`);
      const json = await res.json<{ resolved?: { url: string }; detail?: string; steps: unknown[] }>();
      await page.getByLabel('Flake ref').fill(ref);
      await page.getByRole('button', { name: 'Resolve' }).press('Enter');
      if (res.status === 200) {
        await expect.poll(() => page.locator('#resolve-result .resolved').innerText()).toBe(json.resolved?.url);
      } else {
        await expect.poll(() => page.locator('#resolve-result .nix-error').innerText()).toBe(json.detail);
      }
      expect(await page.locator('#resolve-result ol.steps li').count()).toBe(json.steps.length);
      expect(page.url()).toBe(`${server.origin}/r/global/resolve?ref=${encodeURIComponent(ref)}&registry=global`);
    }
    // Nix's "not found" is a 404 from /resolve, which the browser itself logs (a page cannot stop
    // it): the one trouble expected here, its answer and chromium's line for it, nothing the script wrote.
    const expected = troubles.splice(0);
    expect(expected).toHaveLength(2);
    expect(expected[0]).toMatch(/^404 for .*\/resolve\?ref=nope&registry=global$/);
    expect(expected[1]).toContain('the server responded with a status of 404');
    expect(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).toBe(true);
    // A question whose URL the service would refuse is not asked, and not put in the address bar.
    const before = page.url();
    await page.getByLabel('Flake ref').fill(`github:acme/${'a'.repeat(17_000)}`);
    await page.getByLabel('Flake ref').press('Enter');
    expect(await page.locator('#resolve-refused').innerText()).toMatch(
      /^This question makes a URL of \d+ characters; the service takes at most 16384\./,
    );
    expect(page.url()).toBe(before);
    expect(troubles).toEqual([]);
    // The service's own refusal is not put in Nix's mouth.
    await page.getByLabel('Flake ref').fill('nixpkgs');
    await page.getByLabel('Registries, searched in order').fill('nope');
    await page.getByLabel('Flake ref').press('Enter');
    await expect
      .poll(() => page.locator('#resolve-result .service-error').innerText())
      .toBe("no registry named 'nope' is hosted here");
    expect(await page.locator('#resolve-result').innerText()).toContain('Unknown registry: ');
    expect(await page.locator('#resolve-result .nix-error').count()).toBe(0);
    expect(troubles.splice(0).filter((t) => !t.includes('404'))).toEqual([]);
    await page.getByLabel('Registries, searched in order').fill('global');
    await page.getByLabel('Flake ref').fill('nixpkgs/nixos-25.05');
    await page.getByLabel('Flake ref').press('Enter');
    await page.locator('#resolve-result .resolved').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'resolve.png') });
    expect(await accessibility(page)).toEqual([]);
  });

  it('shows a proposal made with the command: its diff, impact and signatures, its message inert', async () => {
    const view = JSON.parse(
      await ok(
        'propose',
        'set',
        'nixpkgs/nixos-25.05',
        'github:NixOS/nixpkgs/release-25.05',
        '--exact',
        '--before',
        'nixpkgs',
        '--registry',
        'global',
        '--key',
        'alice.sec',
        '--message',
        HOSTILE,
        '--json',
      ),
    ) as { id: string };
    proposalId = view.id;
    const list = await open(scripted, '/r/global/proposals');
    expect(await list.getByRole('heading', { name: 'Open (1)' }).count()).toBe(1);
    await list.screenshot({ path: join(SCREENSHOTS, 'proposals.png') });
    await list.getByRole('link', { name: `${proposalId.slice(0, 12)}…` }).click();
    await list.waitForURL(`**/r/global/proposals/${proposalId}`);
    const page = await open(scripted, `/r/global/proposals/${proposalId}`);
    expect(await page.locator('blockquote.message').innerText()).toBe(HOSTILE);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.locator('ul.diff').innerText()).toContain('flake:nixpkgs/nixos-25.05 (exact)');
    const impact = await page.locator('table:below(#impact)').first().innerText();
    expect(impact).toContain('github:NixOS/nixpkgs/nixos-25.05');
    expect(impact).toContain('github:NixOS/nixpkgs/release-25.05');
    expect(await page.locator('p.threshold').innerText()).toMatch(/: 1 of 2 \(signed by alice\); 1 more from /);
    expect(await page.locator('#approve-command').innerText()).toBe(
      `flake-registry approve ${proposalId} --registry global --key YOUR.sec`,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'proposal.png'), fullPage: true });
    expect(await accessibility(page)).toEqual([]);
    expect(troubles).toEqual([]);
  });

  it('shows the new version in the history once approved', async () => {
    expect(await ok('approve', proposalId, '--registry', 'global', '--key', 'bob.sec', '--yes')).toContain(
      'merged as version 2',
    );
    const page = await open(scripted, '/r/global/history');
    expect(await page.getByRole('heading', { name: 'Version 2', exact: true }).count()).toBe(1);
    const version = page.locator('#version-2');
    expect(await version.locator('blockquote.message').innerText()).toBe(HOSTILE);
    expect(await version.innerText()).toContain('alice, bob');
    expect(await version.locator('ul.diff').innerText()).toContain('flake:nixpkgs/nixos-25.05 (exact)');
    await page.screenshot({ path: join(SCREENSHOTS, 'history.png') });
    expect(await accessibility(page)).toEqual([]);
    const merged = await open(scripted, `/r/global/proposals/${proposalId}`);
    expect(await merged.locator('.badge.status-merged').count()).toBe(1);
  });

  it('keeps a proposal of one long unbroken URL and message within the width of the window', async () => {
    const url = `https://example.org/${'a'.repeat(3_000)}.tar.gz`;
    const id = (
      await ok(
        'propose',
        'set',
        'long-url',
        url,
        '--registry',
        'global',
        '--key',
        'alice.sec',
        '--message',
        `Long ${'b'.repeat(2_000)}`,
        '--id-only',
      )
    ).trim();
    for (const path of [`/r/global/proposals/${id}`, '/r/global/proposals']) {
      const page = await open(scripted, path);
      expect(await page.locator('main').innerText()).toContain('b'.repeat(50));
      const width = await page.evaluate<{ page: number; window: number }, undefined>(
        '({ page: document.documentElement.scrollWidth, window: window.innerWidth })',
        undefined,
      );
      expect(width.page, path).toBeLessThanOrEqual(width.window);
      await page.close();
    }
  });

  it('lays a message that starts right to left out left to right, each line in its own direction', async () => {
    const message = 'עדכון חבילות\nUpdate nixpkgs to 25.05.';
    const id = (
      await ok(
        'propose',
        'set',
        'rtl-message',
        'github:acme/rtl',
        '--registry',
        'global',
        '--key',
        'alice.sec',
        '--message',
        message,
        '--id-only',
      )
    ).trim();
    const page = await open(scripted, `/r/global/proposals/${id}`);
    const directions = await page.evaluate<string[], undefined>(
      `[document.querySelector('blockquote.message'), ...document.querySelectorAll('blockquote.message > bdi')].map((e) => getComputedStyle(e).direction)`,
      undefined,
    );
    expect(directions).toEqual(['ltr', 'rtl', 'ltr']);
    expect(await page.locator('blockquote.message').innerText()).toBe(message);
    await page.close();
  });

  it('audits a pasted flake.lock against a proposal from a plain form, without script', async () => {
    const id = (
      await ok(
        'propose',
        'set',
        'browser-audit',
        'github:acme/audited',
        '--registry',
        'global',
        '--key',
        'alice.sec',
        '--message',
        'Audit me',
        '--id-only',
      )
    ).trim();
    const rev = 'e5d3f4a7b39d433d2fa8ef32901f05d6a0ab3ad8';
    const lock = {
      version: 7,
      root: 'root',
      nodes: {
        root: { inputs: { tool: 'tool' } },
        tool: {
          original: { type: 'indirect', id: 'browser-audit' },
          locked: {
            type: 'github',
            owner: 'acme',
            repo: 'audited',
            rev,
            narHash: 'sha256-l1xj7nFbi1mhSzgnqHWhkEzN2d+OqDkVNkHFwg+Ah3A=',
            lastModified: 1,
          },
        },
      },
    };
    const res = await fetch(`${server.origin}/registries/global/proposals/${id}/audit`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(lock),
    });
    const api = await res.json<{
      changed: { id: string; before: { status: { kind: string } }; after: { status: { kind: string } } }[];
    }>();
    expect(api.changed).toHaveLength(1);
    const page = await open(plain, `/r/global/proposals/${id}`);
    await page.getByLabel('flake.lock or manifest.json').fill(JSON.stringify(lock, null, 2), { timeout: 15_000 });
    await page.getByRole('button', { name: 'Audit', exact: true }).click({ timeout: 15_000 });
    await page.locator('#audit-result').waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${server.origin}/r/global/proposals/${id}/audit#audit-result`);
    const row = page.locator('table.audit-rows tbody tr');
    expect(await row.count()).toBe(1);
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[0]).toBe('tool');
    expect(cells[1]).toBe('flake:browser-audit');
    expect(cells[2]).toContain(api.changed[0]?.before.status.kind);
    expect(cells[3]).toContain(api.changed[0]?.after.status.kind);
    expect(cells[3]).toContain('github:acme/audited');
    expect(await page.getByLabel('flake.lock or manifest.json').inputValue()).toBe(JSON.stringify(lock, null, 2));
    expect(troubles).toEqual([]);
    await page.close();
  });

  it('loads every page cleanly, and axe finds nothing serious on any', async () => {
    for (const path of [
      '/',
      '/r/global',
      '/r/global/resolve?ref=nixpkgs',
      '/r/global/history',
      '/r/global/proposals',
    ]) {
      const page = await open(scripted, path);
      expect(await page.locator('h1').count(), path).toBe(1);
      expect(await accessibility(page), path).toEqual([]);
      if (path === '/') await page.screenshot({ path: join(SCREENSHOTS, 'home.png') });
      await page.close();
    }
    expect(troubles).toEqual([]);
  });

  it('works without JavaScript: reading, filtering and resolving are plain pages and forms', async () => {
    for (const path of [
      '/',
      '/r/global',
      '/r/global/history',
      '/r/global/proposals',
      `/r/global/proposals/${proposalId}`,
    ]) {
      const page = await open(plain, path);
      expect(await page.locator('h1').count(), path).toBe(1);
      await page.close();
    }
    const history = await open(plain, '/r/global/history');
    expect(await history.locator('#verify').innerText()).toContain('Verification needs script');
    expect(await history.getByRole('button', { name: 'Verify this history' }).isVisible()).toBe(false);
    const entries = await open(plain, '/r/global');
    await entries.getByLabel('Filter entries').fill('home-manager');
    await entries.getByRole('button', { name: 'Filter all entries' }).click();
    await entries.waitForURL('**/r/global?q=home-manager');
    const shown = await visibleIndexes(entries);
    expect(shown.length).toBeGreaterThan(0);
    for (const i of shown) expect(await entries.locator(`#entry-${i}`).innerText()).toContain('home-manager');
    const resolve = await open(plain, '/r/global/resolve');
    await resolve.getByLabel('Flake ref').fill('nixpkgs/nixos-25.05');
    await resolve.getByRole('button', { name: 'Resolve' }).click();
    await resolve.waitForURL('**/r/global/resolve?ref=*');
    const res = await fetch(`${server.origin}/resolve?ref=nixpkgs/nixos-25.05`);
    const json = await res.json<{ resolved: { url: string } }>();
    expect(await resolve.locator('.resolved').innerText()).toBe(json.resolved.url);
    expect(troubles).toEqual([]);
  });

  it('answers a ref typed with spaces and pluses the same without script as with it', async () => {
    const ref = 'git+https://example.org/a b?ref=c+d';
    const api = await fetch(`${server.origin}/resolve?ref=${encodeURIComponent(ref)}&registry=global`);
    const json = await api.json<{ resolved?: { url: string }; detail?: string }>();
    const scriptedPage = await open(scripted, '/r/global/resolve');
    await scriptedPage.getByLabel('Flake ref').fill(ref);
    await scriptedPage.getByLabel('Flake ref').press('Enter');
    const result = scriptedPage.locator('#resolve-result');
    await result.locator('h3').waitFor();
    const withScript = await result.innerText();
    expect(withScript).toContain(api.status === 200 ? json.resolved?.url : json.detail);
    const plainPage = await open(plain, '/r/global/resolve');
    await plainPage.getByLabel('Flake ref').fill(ref);
    await plainPage.getByRole('button', { name: 'Resolve' }).click();
    // The browser's form encoding: the space as +, the + as %2B, and the form's mark.
    await plainPage.waitForURL('**/r/global/resolve?ref=*');
    expect(plainPage.url()).toContain('ref=git%2Bhttps%3A%2F%2Fexample.org%2Fa+b%3Fref%3Dc%2Bd');
    expect(plainPage.url()).toMatch(/&form=1$/);
    expect(await plainPage.locator('#resolve-result').innerText()).toBe(withScript);
    expect(await plainPage.getByLabel('Flake ref').inputValue()).toBe(ref);
    // The answers' status (and chromium's line for it) are the only troubles, once for each context.
    const expected = troubles.splice(0).filter((t) => !t.includes(String(api.status)));
    expect(expected).toEqual([]);
    await scriptedPage.close();
    await plainPage.close();
  });

  /** The size of the log's checkpoint as served now. */
  async function checkpointSize(): Promise<number> {
    const res = await fetch(`${server.origin}/registries/global/log/checkpoint`);
    return Number((await res.text()).split('\n')[1]);
  }

  /** Clicks "Verify this history" and waits for its outcome. */
  async function verifyHistory(page: Page): Promise<string> {
    await page.getByRole('button', { name: 'Verify this history' }).click();
    const result = page.locator('#verify-result');
    await result.locator('p').waitFor();
    await expect.poll(() => result.getAttribute('aria-busy')).toBeNull();
    return result.innerText();
  }

  it('verifies the whole history and its log in the browser, as flake-registry verify does', async () => {
    for (const [id, to] of [
      ['browser-one', 'github:acme/one'],
      ['browser-two', 'github:acme/two'],
    ] as const) {
      const made = (
        await ok('propose', 'set', id, to, '--registry', 'global', '--key', 'alice.sec', '--id-only')
      ).trim();
      await ok('approve', made, '--registry', 'global', '--key', 'bob.sec', '--yes');
    }
    // The checkpoint follows a merge within about a second.
    for (let i = 0; i < 40 && (await checkpointSize()) < 4; i++) await sleep(250);
    expect(await checkpointSize()).toBe(4);
    const page = await open(scripted, '/r/global/history');
    const text = await verifyHistory(page);
    // What the command says of the same history.
    const command = JSON.parse(await ok('verify', '--registry', 'global', '--json')) as {
      versions: number;
      head: { version: number; sha256: string };
      policy: { threshold: number; keys: string[] };
      log: { size: number };
    };
    expect(command).toMatchObject({ versions: 4, head: { version: 4 }, log: { size: 4 } });
    const names = command.policy.keys.map((k) => k.split(':')[0]).join(', ');
    expect(text).toContain('All 4 versions verified.');
    expect(text).toContain(`head version 4, sha256 ${command.head.sha256}`);
    expect(text).toContain(
      `policy in force: ${command.policy.threshold} of ${command.policy.keys.length} keys (${names})`,
    );
    expect(text).toContain(
      'log: 4 leaves verified against the history, checkpoint signed by localhost with the key the server gives: this proves only that the log and this history agree',
    );
    const bar = page.locator('#verify-progress');
    expect(await bar.getAttribute('max')).toBe('8');
    expect(await page.evaluate<number, undefined>(`document.getElementById('verify-progress').value`, undefined)).toBe(
      8,
    );
    expect(await page.getByRole('button', { name: 'Verify again' }).isEnabled()).toBe(true);
    // The button was disabled while it had the focus: the focus is on the outcome, not lost to the page.
    expect(await focused(page)).toBe('verify-result');
    await page.screenshot({ path: join(SCREENSHOTS, 'history-verified.png') });
    expect(await accessibility(page)).toEqual([]);
    expect(troubles).toEqual([]);
  });

  it('says "no log" when the service answers that it has no log key', async () => {
    const page = await open(scripted, '/r/global/history');
    await page.route('**/registries/global/log/checkpoint', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'urn:flake-registry:problem:no-log-key',
          title: 'No log key',
          status: 404,
          detail: 'no log key is configured',
        }),
      }),
    );
    const text = await verifyHistory(page);
    expect(text).toContain('All 4 versions verified.');
    expect(text).toContain('no log: the service keeps no transparency log: no log key is configured');
    // The 404 the browser logs is the one trouble expected here.
    const expected = troubles.splice(0);
    expect(expected.filter((t) => !t.includes('404'))).toEqual([]);
  });

  it('reports a request that stalls as a failure after 30 s, the progress bar gone, the focus on the outcome', async () => {
    const page = await scripted.newPage();
    // The page's own clock, moved on by hand: the test waits for no real 30 s.
    await page.clock.install();
    await page.goto(`${server.origin}/r/global/history`, { waitUntil: 'networkidle' });
    // The head's number, asked after the log's checkpoint and key and before anything else: no
    // other request is under way when the clock moves on.
    const stalled = '**/registries/global/versions?limit=1';
    // Never answered: the request hangs as one to a stalled service would.
    await page.route(stalled, () => undefined);
    const asked = page.waitForRequest(stalled);
    await page.getByRole('button', { name: 'Verify this history' }).click();
    await asked;
    expect(await page.locator('#verify-result').getAttribute('aria-busy')).toBe('true');
    await page.clock.fastForward(31_000);
    const result = page.locator('#verify-result');
    await expect.poll(() => result.getAttribute('aria-busy')).toBeNull();
    expect(await result.innerText()).toBe(
      'The history could not be verified: GET /registries/global/versions?limit=1 did not answer within 30 s',
    );
    expect(await page.locator('#verify-progress').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Verify again' }).isEnabled()).toBe(true);
    expect(await focused(page)).toBe('verify-result');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // The aborted request is the one trouble expected here.
    expect(troubles.splice(0).filter((t) => !t.includes('versions?limit=1'))).toEqual([]);
    await page.close();
  });

  it('names the request the service dropped (its connection closed), the bar gone, the focus on the outcome', async () => {
    const page = await open(scripted, '/r/global/history');
    const dropped = '**/registries/global/versions/1';
    await page.route(dropped, (route) => route.abort('connectionclosed'));
    const text = await verifyHistory(page);
    expect(text).toMatch(
      /^The history could not be verified: GET \/registries\/global\/versions\/1 got no answer: the connection failed or was closed \(.+\)$/,
    );
    expect(await page.locator('#verify-progress').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Verify again' }).isEnabled()).toBe(true);
    expect(await focused(page)).toBe('verify-result');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    // The dropped request is the one trouble expected here, and chromium's line for it (which names no URL).
    expect(
      troubles.splice(0).filter((t) => !t.includes('/versions/1') && !t.includes('net::ERR_CONNECTION_CLOSED')),
    ).toEqual([]);
    await page.close();
  });

  it("names version 2 when one byte of its stored file is altered in the server's storage", async () => {
    const original = await (await fetch(`${server.origin}/registries/global/versions/2/flake-registry.json`)).text();
    const at = original.indexOf('"NixOS"') + 5;
    expect(original[at]).toBe('S');
    const altered = `${original.slice(0, at)}s${original.slice(at + 1)}`;
    const file = join(work, 'altered.json');
    writeFileSync(file, altered);
    // A fresh server on the same storage: the Worker keeps the versions it read in memory.
    await server.stop();
    const put = await new Promise<Run>((resolve) => {
      execFile(
        join(root, 'node_modules', '.bin', 'wrangler'),
        ['kv', 'key', 'put', '--local', '--persist-to', join(work, 'state'), '--binding', 'REGISTRY_KV'].concat([
          'registry/global/version/0000000002/file',
          '--path',
          file,
        ]),
        { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(put.code, put.stderr).toBe(0);
    server = await startDevServer({
      root,
      persistTo: join(work, 'state'),
      args: [...serverArgs, '--log-level', 'warn'],
    });
    const served = await (await fetch(`${server.origin}/registries/global/versions/2/flake-registry.json`)).text();
    expect(served).toBe(altered);
    const page = await open(scripted, '/r/global/history');
    const text = await verifyHistory(page);
    expect(text).toMatch(/^Version 2 fails: .+ \(file-hash-mismatch\)\. See version 2\.$/);
    // The check stopped at version 2: no bar left part full.
    expect(await page.locator('#verify-progress').isVisible()).toBe(false);
    expect(await page.getByRole('link', { name: 'See version 2' }).getAttribute('href')).toBe('?before=3#version-2');
    expect(await accessibility(page)).toEqual([]);
    expect(troubles).toEqual([]);
  });
});
