import { describe, expect, it } from 'vitest';
import assets from '../../src/web/assets.json';
import { Problem } from '../../src/http/problem.js';
import { errorTitle } from '../../src/web/errors.js';
import { CREATED, TEST_POLICY, teamRegistry } from './fixtures.js';
import { publish, serve, uniqueName, type TestService } from './helpers.js';
import { approve, idOf, proposal, settle, submit, team } from './signing.js';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** A page as a browser asks for it: 200 HTML under the policy, with no inline script or style. */
async function page(service: TestService, path: string, status = 200, init: RequestInit = {}): Promise<string> {
  const res = await service.fetch(path, { ...init, headers: { Accept: 'text/html', ...init.headers } });
  const html = await res.text();
  expect(res.status, `${path}: ${html.slice(0, 300)}`).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('Content-Security-Policy')).toBe(CSP);
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  expect(html.startsWith('<!DOCTYPE html><html lang="en"')).toBe(true);
  // Every script has a src, and no element carries style or an event handler.
  expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
  expect(html).not.toContain('<style');
  for (const tag of html.match(/<[a-z][^>]*>/g) ?? []) expect(tag).not.toMatch(/\s(style|on[a-z]+)=/i);
  expect(html).toContain(`<script type="module" src="${assets.script.path}"></script>`);
  expect(html).toContain(`<link rel="stylesheet" href="${assets.style.path}"/>`);
  return html;
}

/** Text as JSX escapes it. */
const escaped = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&#39;')
    .replace(/"/g, '&quot;');

/** The text of every `<tr data-entry>` row's index cell, in order. */
const rowIndexes = (html: string) =>
  [...html.matchAll(/<tr data-entry="[^"]*" id="entry-(\d+)"/g)].map((m) => Number(m[1]));

describe('the web pages', () => {
  it('lists the hosted registries with links to each', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const html = await page(service, '/');
    expect(html).toContain('<h1>Hosted registries</h1>');
    expect(html).toContain(`<a href="/r/${name}">${name}</a>`);
    expect(html).toMatch(
      new RegExp(`${name}</a></th><td class="num">1</td><td class="num">${teamRegistry.flakes.length}</td>`),
    );
  });

  it("shows a registry's entries in file order, exact marked, with its immutable URL and nix.conf line", async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const html = await page(service, `/r/${name}`);
    expect(rowIndexes(html)).toEqual(teamRegistry.flakes.map((_, i) => i));
    const first = /<tr data-entry="[^"]*" id="entry-0">.*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(first).toContain('flake:nixpkgs/nixos-24.05');
    expect(first).toContain('<span class="badge">exact</span>');
    // An http(s) target is a link; no other scheme is.
    expect(first).toContain(
      '<a href="https://channels.example.org/nixos-24.05/nixexprs.tar.xz" rel="noreferrer nofollow">',
    );
    expect(html).not.toContain('href="file:');
    const second = /<tr data-entry="[^"]*" id="entry-1">.*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(second).toContain('github:NixOS/nixpkgs/nixpkgs-unstable');
    expect(second).toContain('<span class="muted">no</span>');
    const pinned = `http://registry.test/registries/${name}/versions/1/flake-registry.json`;
    expect(html).toContain(`<a href="${pinned}">${pinned}</a>`);
    expect(html).toContain(`flake-registry = http://registry.test/registries/${name}/flake-registry.json`);
    expect(html).toContain(`flake-registry = ${pinned}`);
    // The filter without script: the same rows, matched on the server.
    const filtered = await page(service, `/r/${name}?q=NIXPKGS`);
    expect(rowIndexes(filtered)).toEqual([0, 1]);
    expect(filtered).toContain(
      `2 of the ${teamRegistry.flakes.length} entries match “NIXPKGS”, on every page; 1 to 2 of them on this page.`,
    );
    expect(await page(service, `/r/${name}`)).toContain(
      `Entries 1 to ${teamRegistry.flakes.length} of ${teamRegistry.flakes.length} on this page.`,
    );
    expect(await page(service, `/r/${name}?q=zzz`)).toContain(
      `None of the ${teamRegistry.flakes.length} entries match “zzz”.`,
    );
  });

  it('pages a registry of 10,000 entries: the first view stays under 100 KB', async () => {
    const name = uniqueName('big');
    const flakes = Array.from({ length: 10_000 }, (_, i) => ({
      from: { type: 'indirect', id: `tool-${i}` },
      to: { type: 'github', owner: 'example-organisation', repo: `tool-${i}` },
    }));
    const service = serve([{ name, file: { version: 2, flakes }, policy: TEST_POLICY, created: CREATED }]);
    const res = await service.fetch(`/r/${name}`);
    const bytes = (await res.arrayBuffer()).byteLength;
    expect(bytes).toBeLessThan(100_000);
    const html = await page(service, `/r/${name}`);
    expect(rowIndexes(html)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(html).toContain(`<a href="/r/${name}?page=50">page 50</a>`);
    expect(html).toContain(`<a href="/r/${name}?page=2" rel="next">`);
    const last = await page(service, `/r/${name}?page=50`);
    expect(rowIndexes(last)).toEqual(Array.from({ length: 200 }, (_, i) => 9_800 + i));
    // A filter matches across every page, not only the one shown.
    const found = await page(service, `/r/${name}?q=tool-9999`);
    expect(rowIndexes(found)).toEqual([9_999]);
    // The count says what it counts: every match, and which of them this page holds.
    expect(last).toContain('Entries 9801 to 10000 of 10000 on this page (page 50 of 50).');
    const ones = await page(service, `/r/${name}?q=tool-1&page=2`);
    expect(rowIndexes(ones)).toHaveLength(200);
    expect(ones).toContain(
      '1111 of the 10000 entries match “tool-1”, on every page; 201 to 400 of them on this page (page 2 of 6).',
    );
    await page(service, `/r/${name}?page=51`, 400);
  });

  it('pages a proposal of 10,000 entries: the first view stays under 100 KB, each list paged by links', async () => {
    const { name, service } = await team();
    const p = proposal(
      name,
      1,
      Array.from({ length: 10_000 }, (_, i) => ({
        op: 'set' as const,
        entry: { from: { type: 'indirect', id: `t${i}` }, to: { type: 'path', path: `/${i}` } },
      })),
    );
    const submitted = await submit(service, p, ['alice']);
    expect(submitted.status, await submitted.clone().text()).toBe(201);
    await submitted.arrayBuffer();
    const id = idOf(p);
    const path = `/r/${name}/proposals/${id}`;
    const res = await service.fetch(path);
    expect((await res.arrayBuffer()).byteLength).toBeLessThan(100_000);
    const html = await page(service, path);
    const diffRows = (h: string) =>
      [...h.matchAll(/<li class="diff-add">.*?<bdi>(flake:[^<]*)<\/bdi>/g)].map((m) => m[1]);
    const proposed = (h: string) => /<ol class="changes"[^>]*>(.*?)<\/ol>/s.exec(h)?.[1]?.match(/<li /g)?.length ?? 0;
    const impactRows = (h: string) =>
      (/<h2 id="impact">.*?<tbody>(.*?)<\/tbody>/s.exec(h)?.[1] ?? '').match(/<tr/g)?.length ?? 0;
    const lintRows = (h: string) => (/<ul class="lint">(.*?)<\/ul>/s.exec(h)?.[1] ?? '').match(/<li>/g)?.length ?? 0;
    expect(diffRows(html)).toEqual(Array.from({ length: 100 }, (_, i) => `flake:t${i}`));
    expect(proposed(html)).toBe(100);
    expect(impactRows(html)).toBe(100);
    expect(html).toContain('Rows 1 to 100 of 10000 (page 1 of 100).');
    // Links to the other pages of each list, plain links that land on that list.
    expect(html).toContain(`<a href="${path}?diff=2#diff" rel="next">`);
    expect(html).toContain(`<a href="${path}?diff=100#diff">page 100</a>`);
    expect(html).toContain(`<a href="${path}?proposed=2#proposed" rel="next">`);
    expect(html).toContain(`<a href="${path}?impact=2#impact" rel="next">`);
    // Following the link as a browser without script does: its href, without the fragment.
    const next = /<a href="([^"#]*)#diff" rel="next">/.exec(html)?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(next).toBe(`${path}?diff=2`);
    const second = await page(service, next);
    expect(diffRows(second)).toEqual(Array.from({ length: 100 }, (_, i) => `flake:t${100 + i}`));
    expect(second).toContain(`<a href="${path}#diff" rel="prev">`);
    // Paging one list keeps the page of another.
    const both = await page(service, `${path}?diff=100&proposed=3`);
    expect(diffRows(both)).toEqual(Array.from({ length: 100 }, (_, i) => `flake:t${9_900 + i}`));
    expect(both).toContain('<ol class="changes" start="201">');
    expect(both).toContain(`<a href="${path}?diff=99&amp;proposed=3#diff" rel="prev">`);
    expect(both).toContain(`<a href="${path}?diff=100&amp;proposed=4#proposed" rel="next">`);
    // The impact the service keeps (its first 500 rows) is paged too, and what it left out is said.
    const impact = await page(service, `${path}?impact=5`);
    expect(impactRows(impact)).toBe(100);
    expect(impact).toContain('… and 9500 more rows the service left out.');
    await page(service, `${path}?impact=6`, 400);
    await page(service, `${path}?diff=0`, 400);
    await page(service, `${path}?diff=101`, 400);
    // Lint findings too: the service keeps 500 of them.
    expect(lintRows(html)).toBe(100);
    expect(html).toContain(`<a href="${path}?lint=2#lint" rel="next">`);
    expect(lintRows(await page(service, `${path}?lint=5`))).toBe(100);
  }, 60_000);

  it('resolves as /resolve does: the steps, or Nix’s own error text', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    for (const ref of ['nixpkgs/nixos-24.05', 'chain', 'asub', 'nixpkgs/some-branch']) {
      const json = await (
        await service.fetch(`/resolve?ref=${encodeURIComponent(ref)}&registry=${name}`)
      ).json<{
        resolved: { url: string };
        steps: { index: number; exact: boolean }[];
      }>();
      const html = await page(service, `/r/${name}/resolve?ref=${encodeURIComponent(ref)}`);
      expect(html).toContain(`<code class="resolved"><bdi>${json.resolved.url}</bdi></code>`);
      const steps = [...html.matchAll(/<li><a href="[^"]*#entry-(\d+)">/g)].map((m) => Number(m[1]));
      expect(steps).toEqual(json.steps.map((s) => s.index));
    }
    for (const ref of ['nope', 'github:', 'p/some-branch']) {
      const res = await service.fetch(`/resolve?ref=${encodeURIComponent(ref)}&registry=${name}`);
      expect(res.status, ref).toBeGreaterThanOrEqual(400);
      const problem = await res.json<{ detail: string }>();
      // The page answers with the status /resolve gives.
      const html = await page(service, `/r/${name}/resolve?ref=${encodeURIComponent(ref)}`, res.status);
      expect(html).toContain(`<code class="nix-error"><bdi>${escaped(problem.detail)}</bdi></code>`);
    }
    // The form works without script: a plain GET, its fields labelled.
    const form = await page(service, `/r/${name}/resolve`);
    expect(form).toContain(`<form class="inline" id="resolve-form" method="get" action="/r/${name}/resolve"`);
    expect(form).toContain('<label for="resolve-ref">');
    expect(form).toContain('id="resolve-ref" name="ref"');
    expect(form).not.toContain('id="answer"');
  });

  it('reads its query as /resolve does and answers with its status: + kept, overrides taken, unknown and repeated parameters refused', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const asked = [
      'ref=git+https://example.org/repo',
      'ref=nixpkgs&override-flake=nixpkgs&override-flake=github:acme/pkgs',
      'ref=nixpkgs&override-flake=nixpkgs',
      'ref=nixpkgs&override-flake=nixpkgs&override-flake=not%20a%20ref',
      'ref=nixpkgs&rev=0123',
      'ref=nixpkgs&ref=chain',
      'ref=nope',
      'ref=github:',
      'ref=',
      'ref=nixpkgs&registry=nope',
      'ref=nixpkgs&registry=a,,b',
      'ref=%E0%A4',
    ];
    for (const query of asked) {
      const api = await service.fetch(`/resolve?${query}${query.includes('registry=') ? '' : `&registry=${name}`}`);
      const json = await api.json<{ resolved?: { url: string }; detail?: string }>();
      const html = await page(service, `/r/${name}/resolve?${query}`, api.status);
      if (api.status === 200) {
        expect(html, query).toContain(`<code class="resolved"><bdi>${json.resolved?.url}</bdi></code>`);
      } else {
        expect(html, query).toContain(escaped(json.detail ?? ''));
      }
    }
    // Only Nix's own errors are introduced as Nix's; the service's refusals are said as its own.
    const notFound = await page(service, `/r/${name}/resolve?ref=nope`, 404);
    expect(notFound).toContain('Nix says: <code class="nix-error">');
    for (const [query, status, title] of [
      ['ref=nixpkgs&registry=nope', 404, 'Unknown registry'],
      ['ref=nixpkgs&registry=a,,b', 400, 'Invalid request'],
      ['ref=nixpkgs&override-flake=nixpkgs', 400, 'Invalid request'],
    ] as const) {
      const html = await page(service, `/r/${name}/resolve?${query}`, status);
      expect(html, query).toContain(`<strong>${title}:</strong> <span class="service-error">`);
      expect(html, query).not.toContain('Nix says');
    }
    // A ref with '+' resolves to itself, as /resolve reads it, not to one with a space.
    expect(await page(service, `/r/${name}/resolve?ref=git+https://example.org/repo`)).toContain(
      '<code class="resolved"><bdi>git+https://example.org/repo</bdi></code>',
    );
    // The overrides are searched first, shown, and kept in the form for the next question.
    const overridden = await page(
      service,
      `/r/${name}/resolve?ref=nixpkgs&override-flake=nixpkgs&override-flake=github:acme/pkgs`,
    );
    expect(overridden).toContain('<code class="resolved"><bdi>github:acme/pkgs</bdi></code>');
    expect(overridden).toContain(
      '<input type="hidden" name="override-flake" value="nixpkgs"/><input type="hidden" name="override-flake" value="github:acme/pkgs"/>',
    );
    expect(overridden).toContain('<li class="mono"><bdi>nixpkgs</bdi> → <bdi>github:acme/pkgs</bdi></li>');
    // Without a ref, the form alone; a bad parameter is still refused.
    await page(service, `/r/${name}/resolve`);
    await page(service, `/r/${name}/resolve?q=1`, 400);
    await page(service, `/r/${name}/resolve?override-flake=nixpkgs`, 400);
  });

  it('reads a query its form wrote (form=1) as form data, + a space, and any other query with + kept', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    /** What the page says of a query: its status and its answer's text. */
    const said = async (query: string, status: number) => {
      const html = await page(service, `/r/${name}/resolve?${query}`, status);
      return /<section id="resolve-result"[^>]*>.*<\/section>/s.exec(html)?.[0] ?? '';
    };
    for (const ref of ['git+https://example.org/a b?ref=c+d', 'b c+d', 'nixpkgs/nixos-24.05', 'github:a/b?dir=x y+z']) {
      const api = await service.fetch(`/resolve?ref=${encodeURIComponent(ref)}&registry=${name}`);
      const json = await api.json<{ resolved?: { url: string }; detail?: string }>();
      const answer = api.status === 200 ? `<bdi>${json.resolved?.url}</bdi>` : escaped(json.detail ?? '');
      // As the browser's form writes it: a space as +, a + as %2B, and the form's mark.
      const typed = `${new URLSearchParams({ ref, registry: name }).toString()}&form=1`;
      expect(typed, ref).not.toContain('%20');
      const fromForm = await said(typed, api.status);
      expect(fromForm, ref).toContain(answer);
      // The same bytes without the mark are another question: the typed space read as +.
      if (ref.includes(' ')) {
        const unmarked = await service.fetch(`/r/${name}/resolve?${typed.replace('&form=1', '')}`);
        expect(await unmarked.text(), ref).not.toContain(answer);
      }
      // As the script, a link or a person writes it: percent-encoded, + kept as +.
      expect(await said(`ref=${encodeURIComponent(ref)}&registry=${name}`, api.status), ref).toBe(fromForm);
    }
    // Without the mark, + is + (refs hold it); with it, + is a space.
    const plus = await said('ref=git+https://example.org/repo', 200);
    expect(plus).toContain('<code class="resolved"><bdi>git+https://example.org/repo</bdi></code>');
    const api = await service.fetch(
      `/resolve?ref=${encodeURIComponent('git https://example.org/repo')}&registry=${name}`,
    );
    const spaced = await api.json<{ detail: string }>();
    expect(await said('ref=git+https://example.org/repo&form=1', api.status)).toContain(escaped(spaced.detail));
    // The form's fields are kept as read: the box holds the ref with its space.
    expect(await page(service, `/r/${name}/resolve?ref=b+c%2Bd&form=1`, 400)).toContain('value="b c+d"');
    // The mark is 1 or nothing, once; what it says of the rest is as strict.
    await page(service, `/r/${name}/resolve?ref=nixpkgs&form=0`, 400);
    await page(service, `/r/${name}/resolve?ref=nixpkgs&form=1&form=1`, 400);
    await page(service, `/r/${name}/resolve?ref=%ZZ&form=1`, 400);
    // The form carries the mark, on the resolve page and on the hosted registries' page.
    expect(await page(service, `/r/${name}/resolve`)).toContain('<input type="hidden" name="form" value="1"/>');
    expect(await page(service, '/')).toContain('<input type="hidden" name="form" value="1"/>');
  });

  it('refuses a repeated, unknown or badly encoded query parameter on every page with a 400 page, as the API does', async () => {
    const { name, service } = await team();
    const p = proposal(name, 1, [
      { op: 'set', entry: { from: { type: 'indirect', id: 'q' }, to: { type: 'github', owner: 'o', repo: 'q' } } },
    ]);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const id = idOf(p);
    // Each page with the parameters it documents.
    const pages: [string, readonly string[]][] = [
      ['/', []],
      [`/r/${name}`, ['q', 'page']],
      [`/r/${name}/resolve`, ['ref', 'registry', 'override-flake']],
      [`/r/${name}/history`, ['before']],
      [`/r/${name}/proposals`, []],
      [`/r/${name}/proposals/${id}`, ['diff', 'proposed', 'impact', 'lint']],
    ];
    for (const [path, takes] of pages) {
      const unknown = await page(service, `${path}?zzz=1`, 400);
      expect(unknown, path).toContain('<h1>Invalid request</h1>');
      // One click from the page the link meant.
      expect(unknown, path).toContain(`<a href="${path}">This page without its query</a>`);
      expect(unknown, path).toContain(
        `unknown query parameter &#39;zzz&#39;: this route ${
          takes.length === 0
            ? 'takes no query parameters'
            : `takes only ${takes.map((t) => `&#39;${t}&#39;`).join(', ')}`
        }`,
      );
      expect(await page(service, `${path}?%ZZ=1`, 400), path).toContain(
        'query parameter name: not valid percent-encoding',
      );
      // The API's own answer to the same kind of query, for comparison.
      const api = await service.fetch(`/registries/${name}/proposals/${id}?zzz=1`);
      expect(api.status).toBe(400);
      await api.arrayBuffer();
    }
    for (const query of ['q=a&q=b', 'page=1&page=1', 'q=%ZZ', 'q=%E0%A4']) {
      expect(await page(service, `/r/${name}?${query}`, 400), query).toContain('<h1>Invalid request</h1>');
    }
    expect(await page(service, `/r/${name}?q=a&q=b`, 400)).toContain(
      'query parameter &#39;q&#39; is given more than once',
    );
    // A control character in the filter is named, never put raw into the page; a page past
    // the last says which pages there are.
    const nul = await page(service, `/r/${name}?q=a%00b`, 400);
    expect(nul).toContain('q: holds U+0000, a control character, which no entry can hold');
    expect(nul).not.toContain('\u0000');
    expect(await page(service, `/r/${name}?page=2`, 400)).toContain('page: must be 1, got &#39;2&#39;');
    expect(await page(service, `/r/${name}/history?before=2&before=2`, 400)).toContain(
      'query parameter &#39;before&#39; is given more than once',
    );
    // The audit's page too; what it posts is read as before.
    const posted = await page(service, `/r/${name}/proposals/${id}/audit?zzz=1`, 400, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'document=%7B%7D',
    });
    expect(posted).toContain('unknown query parameter &#39;zzz&#39;');
    // What each page documents still works: the filter as its form sends it (+ a space), paging, before.
    expect(await page(service, `/r/${name}?q=nixpkgs+nixos&page=1`)).toContain('match “nixpkgs nixos”');
    await page(service, `/r/${name}?q=&page=1`);
    await page(service, `/r/${name}/history?before=2`);
  });

  it('shows a stored message’s invisible and bidi characters, each visibly marked', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    await (await service.fetch(`/registries/${name}/flake-registry.json`)).arrayBuffer();
    // Older versions of the service accepted these in a message.
    await publish(
      name,
      2,
      { version: 2, flakes: teamRegistry.flakes.slice(1) },
      '2026-03-02T12:00:00.000Z',
      'line\u2028sep zero\u200bwidth arabic\u061cmark',
    );
    // Another isolate's view, once KV holds the version.
    const fresh = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const html = await page(fresh, `/r/${name}/history`);
    expect(html).toContain(
      'line<span class="invisible" title="U+2028 (LINE SEPARATOR, a line separator, Zl)">\\u{2028}</span>sep',
    );
    expect(html).toContain(
      'zero<span class="invisible" title="U+200B (ZERO WIDTH SPACE, a format character, Cf)">\\u{200B}</span>width',
    );
    expect(html).toContain(
      'arabic<span class="invisible" title="U+061C (ARABIC LETTER MARK, a format character, Cf)">\\u{61C}</span>mark',
    );
    for (const ch of ['\u2028', '\u200b', '\u061c']) expect(html).not.toContain(ch);
    // Each version with its change against its parent, and links to its file and record.
    expect(html).toContain('<h2 id="version-2-title">Version 2</h2>');
    expect(html).toContain('<h2 id="version-1-title">Version 1</h2>');
    expect(html).toContain('flake:nixpkgs/nixos-24.05 (exact)</bdi></span> <span class="muted">(removed)</span>');
    expect(html).toContain(`<a href="/registries/${name}/versions/2/flake-registry.json">`);
    expect(html).toContain(`<a href="/registries/${name}/versions/2">its record</a>`);
  });

  it('offers to verify the history in the browser: controls hidden until script shows them, and a note without it', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const html = await page(service, `/r/${name}/history`);
    // Its own script, on this page alone.
    expect(html).toContain(`<script type="module" src="${assets.verify.path}"></script>`);
    expect(await page(service, `/r/${name}`)).not.toContain(assets.verify.path);
    const section = /<section class="verify" id="verify"[^>]*>.*?<\/section>/s.exec(html)?.[0] ?? '';
    expect(section).toContain(`data-registry="${name}"`);
    expect(section).toContain('<h2 id="verify-title">Verify this history</h2>');
    expect(section).toMatch(
      /<div class="verify-controls" id="verify-controls" hidden="">\s*<button type="button" id="verify-button">Verify this history<\/button>/,
    );
    expect(section).toContain(
      '<progress id="verify-progress" max="1" value="0" aria-label="Verification progress" hidden="">',
    );
    expect(section).toContain('<div id="verify-result" role="status" aria-live="polite" tabindex="-1"></div>');
    expect(section).toMatch(/<noscript><p class="muted">Verification needs script, which is off in this browser: /);
    expect(section).toContain(`<code>flake-registry verify --registry ${name}</code>`);
  });

  it('shows the first 50 changes of a version on the history page and links to its record for the rest', async () => {
    const { name, service } = await team();
    const sets = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({
        op: 'set' as const,
        entry: { from: { type: 'indirect', id: `${prefix}${i}` }, to: { type: 'path', path: `/${prefix}${i}` } },
      }));
    const big = proposal(name, 1, sets(120, 'bulk'));
    expect((await submit(service, big, ['alice', 'bob'])).status).toBe(201);
    await settle(name);
    const small = proposal(name, 2, sets(50, 'few'));
    expect((await submit(service, small, ['alice', 'bob'])).status).toBe(201);
    await settle(name);
    const history = await page(service, `/r/${name}/history`);
    const section = (v: number) => history.split('<article').find((a) => a.includes(`id="version-${v}-title"`)) ?? '';
    const rows = (h: string) => h.match(/<li class="diff-add">/g)?.length ?? 0;
    expect(rows(section(2))).toBe(50);
    expect(section(2)).toContain(
      `… and 70 more changes (120 in all): <a href="/registries/${name}/versions/2">version 2&#39;s record</a> lists every one.`,
    );
    // Fifty fit: no note.
    expect(rows(section(3))).toBe(50);
    expect(section(3)).not.toContain('more change');
  });

  it('shows a proposal as a reviewer needs it, its hostile message as inert text, and the merge in the history', async () => {
    const { name, service } = await team();
    const message = 'Add tool <script>alert(1)</script> <img src=x onerror=alert(1)> "quoted" & more';
    const p = proposal(
      name,
      1,
      [
        {
          op: 'set',
          entry: {
            from: { type: 'indirect', id: 'nixpkgs' },
            to: { type: 'github', owner: 'NixOS', repo: 'nixpkgs', ref: 'nixos-25.05' },
          },
        },
      ],
      { message },
    );
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const id = idOf(p);
    const list = await page(service, `/r/${name}/proposals`);
    expect(list).toContain('<h2 id="open">Open (1)</h2>');
    expect(list).toContain(`<a href="/r/${name}/proposals/${id}">${id.slice(0, 12)}…</a>`);
    const html = await page(service, `/r/${name}/proposals/${id}`);
    const shown =
      'Add tool &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; more';
    expect(html).toContain(`<blockquote class="message" dir="ltr"><bdi>${shown}</bdi></blockquote>`);
    expect(html).not.toMatch(/<img|<script>alert/);
    expect(html).toContain('<span class="badge status-open">open</span>');
    expect(html).toContain('flake:nixpkgs</bdi></span> <span class="muted">(changed)</span>');
    expect(html).toContain('set flake:nixpkgs -&gt; github:NixOS/nixpkgs/nixos-25.05');
    // The impact: what the touched ref resolved to before and after.
    expect(html).toMatch(
      /<td class="mono"><bdi>flake:nixpkgs<\/bdi><\/td><td class="mono"><bdi>github:NixOS\/nixpkgs\/nixpkgs-unstable<\/bdi><\/td><td class="mono"><bdi>github:NixOS\/nixpkgs\/nixos-25.05<\/bdi><\/td>/,
    );
    expect(html).toContain('Policy in force (set by version 1): 1 of 2</strong> (signed by <bdi>alice</bdi>)');
    expect(html).toContain('1 more approval needed');
    expect(html).toContain(
      `<pre class="copy" id="approve-command">flake-registry approve ${id} --registry ${name} --key YOUR.sec</pre>`,
    );
    expect(html).toContain(`<time datetime="${p.expires}">`);

    expect((await approve(service, p, 'bob')).status).toBe(200);
    await settle(name);
    const merged = await page(service, `/r/${name}/proposals/${id}`);
    expect(merged).toContain('<span class="badge status-merged">merged</span>');
    expect(merged).toContain(`merged as <a href="/r/${name}/history#version-2">version 2</a>`);
    expect(merged).not.toContain('approve-command');
    const history = await page(service, `/r/${name}/history`);
    expect(history).toContain('<h2 id="version-2-title">Version 2</h2>');
    expect(history).toContain(`<blockquote class="message" dir="ltr"><bdi>${shown}</bdi></blockquote>`);
    expect(history).toContain('<bdi>alice</bdi>, <bdi>bob</bdi>');
    const closed = await page(service, `/r/${name}/proposals`);
    expect(closed).toContain('<h2 id="open">Open (0)</h2>');
    expect(closed).toContain('<span class="badge status-merged">merged</span> as version 2');
  });

  it('keeps a message that starts right to left from turning the block: the block ltr, each line isolated', async () => {
    const { name, service } = await team();
    const message = 'עדכון חבילות\nUpdate nixpkgs to 25.05.\n\n(see the changelog)';
    const p = proposal(
      name,
      1,
      [{ op: 'set', entry: { from: { type: 'indirect', id: 'rtl' }, to: { type: 'github', owner: 'o', repo: 'r' } } }],
      { message },
    );
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const html = await page(service, `/r/${name}/proposals/${idOf(p)}`);
    expect(html).toContain(
      '<blockquote class="message" dir="ltr"><bdi>עדכון חבילות</bdi>\n<bdi>Update nixpkgs to 25.05.</bdi>\n<bdi></bdi>\n<bdi>(see the changelog)</bdi></blockquote>',
    );
  });

  it('audits a pasted flake.lock against a proposal, as POST /registries/NAME/proposals/ID/audit does, from a plain form', async () => {
    const { name, service } = await team();
    const REV = 'e5d3f4a7b39d433d2fa8ef32901f05d6a0ab3ad8';
    const locked = (repo: string) => ({
      type: 'github',
      owner: 'NixOS',
      repo,
      rev: REV,
      narHash: 'sha256-l1xj7nFbi1mhSzgnqHWhkEzN2d+OqDkVNkHFwg+Ah3A=',
      lastModified: 1,
    });
    const lock = {
      version: 7,
      root: 'root',
      nodes: {
        root: { inputs: { nixpkgs: 'nixpkgs', direct: 'direct' } },
        nixpkgs: { original: { type: 'indirect', id: 'nixpkgs' }, locked: locked('nixpkgs') },
        direct: { original: { type: 'github', owner: 'NixOS', repo: 'x' }, locked: locked('x') },
      },
    };
    const p = proposal(name, 1, [
      {
        op: 'set',
        entry: { from: { type: 'indirect', id: 'nixpkgs' }, to: { type: 'github', owner: 'me', repo: 'nixpkgs' } },
      },
    ]);
    expect((await submit(service, p, ['alice'])).status).toBe(201);
    const id = idOf(p);
    const form = await page(service, `/r/${name}/proposals/${id}`);
    expect(form).toContain(`<form method="post" action="/r/${name}/proposals/${id}/audit#audit-result" class="audit">`);
    expect(form).toContain('<textarea id="audit-document" name="document"');
    const audit = (document: string, type = 'application/x-www-form-urlencoded') => ({
      method: 'POST',
      headers: { 'Content-Type': type },
      body: `document=${encodeURIComponent(document)}`,
    });
    const api = await (
      await service.fetch(`/registries/${name}/proposals/${id}/audit`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(lock),
      })
    ).json<{ changed: { id: string; before: { status: { kind: string } }; after: { status: { kind: string } } }[] }>();
    expect(api.changed.map((r) => r.id)).toEqual(['nixpkgs']);
    const html = await page(service, `/r/${name}/proposals/${id}/audit`, 200, audit(JSON.stringify(lock)));
    const rows = /<table class="audit-rows">.*?<\/table>/s.exec(html)?.[0] ?? '';
    // The row the proposal moves, as the API says: its input, its original, before, after and what changed.
    expect([...rows.matchAll(/<tr><td class="mono"><bdi>([^<]*)<\/bdi>/g)].map((m) => m[1])).toEqual(['nixpkgs']);
    expect(rows).toContain('<bdi>flake:nixpkgs</bdi>');
    expect(rows).toContain(`<span class="badge">${api.changed[0]?.before.status.kind}</span>`);
    expect(rows).toContain(
      `<span class="badge">${api.changed[0]?.after.status.kind}</span> <bdi>github:me/nixpkgs</bdi>`,
    );
    expect(rows).toContain('<li><bdi>owner: NixOS → me</bdi></li>');
    expect(html).toContain('1 of the 2 inputs of this flake.lock change between version 1 and version 2');
    // The document stays in the form.
    expect(html).toContain(`${escaped(JSON.stringify(lock))}</textarea>`);
    // A lock file of which nothing moves says so.
    const calm = { ...lock, nodes: { root: { inputs: { direct: 'direct' } }, direct: lock.nodes.direct } };
    expect(await page(service, `/r/${name}/proposals/${id}/audit`, 200, audit(JSON.stringify(calm)))).toContain(
      'Nothing changes: none of the 1 input of this flake.lock resolves differently with version 2 than with version 1.',
    );
    // Bad input is the API's problem, with its status, on the page.
    for (const [body, status, text] of [
      ['{', 400, 'Body is not JSON:</strong> <bdi>the document is not JSON'],
      [JSON.stringify({ version: 7 }), 422, 'Not a lock file or profile manifest Nix reads:</strong>'],
    ] as const) {
      expect(await page(service, `/r/${name}/proposals/${id}/audit`, status, audit(body))).toContain(
        escaped(text).replace(/&lt;/g, '<').replace(/&gt;/g, '>'),
      );
    }
    expect(
      await page(service, `/r/${name}/proposals/${id}/audit`, 400, { ...audit('{}'), body: 'document=%7B%7D&x=1' }),
    ).toContain('unknown form field &#39;x&#39;');
    await page(service, `/r/${name}/proposals/${id}/audit`, 415, audit('{}', 'text/plain'));
    await page(service, `/r/${name}/proposals/${'0'.repeat(64)}/audit`, 404, audit('{}'));
    // The audit's path is only posted to.
    const get = await service.fetch(`/r/${name}/proposals/${id}/audit`);
    expect(get.status).toBe(405);
    expect(get.headers.get('Allow')).toBe('POST');
    await get.arrayBuffer();
  });

  it('answers what it cannot show as a page with the status, JSON routes untouched', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    // Titled by what is wrong; "Something went wrong" is kept for the service's own failures.
    const unknown = await page(service, '/r/nope', 404);
    expect(unknown).toContain('<h1>Unknown registry</h1>');
    expect(unknown).toContain('no registry named &#39;nope&#39; is hosted here');
    const missing = await page(service, `/r/${name}/proposals/${'0'.repeat(64)}`, 404);
    expect(missing).toContain('<h1>Unknown proposal</h1>');
    expect(missing).toContain('has no proposal');
    const bad = await page(service, `/r/${name}/proposals/xyz`, 400);
    expect(bad).toContain('<h1>Invalid request</h1>');
    expect(bad).toContain('64 lowercase hex digits');
    expect(await page(service, `/r/${name}?page=9`, 400)).toContain('<h1>Invalid request</h1>');
    for (const page of [unknown, missing, bad]) expect(page).not.toContain('Something went wrong');
    expect(errorTitle(new Problem('storage-unavailable', 'x'))).toBe('Something went wrong');
    expect(errorTitle(new Problem('internal', 'x'))).toBe('Something went wrong');
    const json = await service.fetch('/registries');
    expect(json.headers.get('Content-Type')).toBe('application/json');
    expect(json.headers.get('Content-Security-Policy')).toBeNull();
    await json.arrayBuffer();
  });

  it('answers 405 with Allow to a method no page takes, HEAD as GET, and OPTIONS with Allow', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    for (const path of ['/', `/r/${name}`, `/r/${name}/resolve`, `/r/${name}/history`, `/r/${name}/proposals`]) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const html = await page(service, path, 405, { method, body: method === 'DELETE' ? null : 'x=1' });
        expect(html).toContain('<h1>Method not allowed</h1>');
        expect(html).toContain(`${method} is not served at ${path}; use GET, HEAD`);
        const res = await service.fetch(path, { method });
        expect(res.headers.get('Allow'), `${method} ${path}`).toBe('GET, HEAD');
        await res.arrayBuffer();
      }
      const get = await service.fetch(path);
      const head = await service.fetch(path, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
      expect(head.headers.get('Content-Security-Policy')).toBe(CSP);
      expect(await head.text()).toBe('');
      await get.arrayBuffer();
      const options = await service.fetch(path, { method: 'OPTIONS' });
      expect(options.status).toBe(204);
      expect(options.headers.get('Allow')).toBe('GET, HEAD');
    }
  });

  it('answers If-Match on a page with 412, as a page has no entity-tag; If-Match: * and If-None-Match change nothing', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    for (const path of ['/', `/r/${name}`, `/r/${name}/history`, `/r/${name}/resolve?ref=nixpkgs`]) {
      const html = await page(service, path, 412, { headers: { 'If-Match': '"abc"' } });
      expect(html).toContain('<h1>Precondition failed</h1>');
      expect(html).toContain('a page has no entity-tag');
      await page(service, path, 200, { headers: { 'If-Match': '*' } });
      await page(service, path, 200, { headers: { 'If-None-Match': '"abc"' } });
    }
    // Only a page that exists has preconditions: an unknown registry stays a 404.
    await page(service, '/r/nope', 404, { headers: { 'If-Match': '"abc"' } });
  });

  it('answers a path under the pages that is no page with an HTML 404 under the policy, JSON routes as JSON', async () => {
    const name = uniqueName('web');
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
    const slash = await page(service, `/r/${name}/`, 404);
    expect(slash).toContain('<h1>No such resource</h1>');
    expect(slash).toContain(`nothing is served at /r/${name}/`);
    expect(slash).toContain(`<a href="/r/${name}">/r/${name}, without the trailing slash</a>`);
    for (const path of ['/r', '/r/', `/r/${name}/nope`, `/r/${name}/history/2`, '/assets/0000000000000000/web.js']) {
      expect(await page(service, path, 404), path).toContain(`nothing is served at ${path}`);
    }
    // A URL over 16 KiB is refused before any route: as a page on a page's path, as JSON elsewhere.
    expect(await page(service, `/r/${name}?q=${'a'.repeat(17_000)}`, 414)).toContain(
      'the URL is longer than 16384 characters',
    );
    for (const path of ['/registries/nope/x', `/resolve?ref=${'a'.repeat(17_000)}`]) {
      const json = await service.fetch(path);
      expect(json.headers.get('Content-Type'), path).toBe('application/problem+json');
      expect(json.headers.get('Content-Security-Policy')).toBeNull();
      await json.arrayBuffer();
    }
  });

  it('serves its stylesheet, scripts and icon at versioned URLs, cached for good', async () => {
    const service = serve([]);
    for (const asset of [assets.style, assets.script, assets.verify, assets.icon]) {
      expect(asset.path).toMatch(/^\/assets\/[0-9a-f]{16}\/(web\.css|web\.js|verify\.js|icon\.svg)$/);
      const res = await service.fetch(asset.path);
      expect(res.status).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('Content-Type')).toBe(asset.contentType);
      expect(res.headers.get('Content-Security-Policy')).toBe(CSP);
      expect(await res.text()).toBe(asset.text);
    }
    // Each asset's strong entity-tag is the hash its path names: a kept copy is answered 304.
    for (const asset of [assets.style, assets.script, assets.verify, assets.icon]) {
      const etag = `"${asset.path.split('/')[2]}"`;
      const res = await service.fetch(asset.path);
      expect(res.headers.get('ETag')).toBe(etag);
      await res.arrayBuffer();
      for (const field of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const kept = await service.fetch(asset.path, { headers: { 'If-None-Match': field } });
        expect(kept.status, field).toBe(304);
        expect(kept.headers.get('ETag')).toBe(etag);
        expect(kept.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
        expect(await kept.text()).toBe('');
      }
      const other = await service.fetch(asset.path, { headers: { 'If-None-Match': '"0000000000000000"' } });
      expect(other.status).toBe(200);
      expect(await other.text()).toBe(asset.text);
      expect(await page(service, asset.path, 412, { headers: { 'If-Match': '"0000000000000000"' } })).toContain(
        '<h1>Precondition failed</h1>',
      );
    }
    // Another version's path is nothing, said as a page.
    expect(await page(service, '/assets/0000000000000000/web.js', 404)).toContain('nothing is served at');
    // An asset takes no query, as no other route takes one it does not document.
    const script = (/<script[^>]*src="([^"]+)"/.exec(await page(service, '/')) ?? [])[1] ?? '';
    expect(script).toMatch(/^\/assets\/[0-9a-f]{16}\/web\.js$/);
    expect(await page(service, `${script}?x=1`, 400)).toContain('unknown query parameter &#39;x&#39;');
  });
});
