/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child, FC } from 'hono/jsx';
import type { HtmlEscapedString } from 'hono/utils/html';
import assets from './asset-paths.json';
import { MAX_URL_LENGTH } from '../http/params.js';
import { linkable, marked } from './marks.js';

/**
 * What every page is made of. Text from anyone but this service (messages,
 * refs, URLs, key names) goes through `Shown`: JSX escapes it, `<bdi>` keeps a
 * right-to-left run from reordering what follows, and every invisible
 * character is shown as a marked escape.
 */

/** Entries shown per page of a registry: a 10,000-entry registry's first view stays far under 100 KB. */
export const ENTRIES_PER_PAGE = 200;

/** The only sources a page may use: its own origin, no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers of every page and asset. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

/** What a page component renders to. */
export type Rendered = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Each asset's versioned path and type; their bytes are the deployment's static assets, not the script's. */
export const ASSETS = [assets.style, assets.script, assets.verify, assets.icon] as const;

/** The history page's verification script. */
export const VERIFY_SCRIPT = assets.verify.path;

export const Shown: FC<{ text: string }> = ({ text }) => (
  <bdi>
    {marked(text).map((run) =>
      run.kind === 'text' ? (
        run.text
      ) : (
        <span class="invisible" title={run.name}>
          {run.shown}
        </span>
      ),
    )}
  </bdi>
);

/** A URL someone wrote: a link when it is http(s), text otherwise. */
export const Url: FC<{ url: string }> = ({ url }) =>
  linkable(url) ? (
    <a href={url} rel="noreferrer nofollow">
      <Shown text={url} />
    </a>
  ) : (
    <Shown text={url} />
  );

/** Times as ISO 8601 in UTC, as the API gives them: the same on every machine. */
export const Time: FC<{ at: string }> = ({ at }) => (
  <time datetime={at}>{at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}</time>
);

/**
 * Links to the other pages of a long list: the first, the last, a few around this one, and the
 * previous and next. Plain links: paging works without script.
 */
export const Pager: FC<{ label: string; page: number; pages: number; href: (page: number) => string }> = ({
  label,
  page,
  pages,
  href,
}) => {
  if (pages <= 1) return null;
  const shown = [...new Set([1, page - 2, page - 1, page, page + 1, page + 2, pages])]
    .filter((n) => n >= 1 && n <= pages)
    .sort((a, b) => a - b);
  return (
    <nav class="pages" aria-label={label}>
      <ul>
        {page > 1 ? (
          <li>
            <a href={href(page - 1)} rel="prev">
              ← previous
            </a>
          </li>
        ) : null}
        {shown.map((n) =>
          n === page ? (
            <li>
              <a href={href(n)} aria-current="page">
                <strong>page {n}</strong>
              </a>
            </li>
          ) : (
            <li>
              <a href={href(n)}>page {n}</a>
            </li>
          ),
        )}
        {page < pages ? (
          <li>
            <a href={href(page + 1)} rel="next">
              next →
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
};

export const Badge: FC<{ status: string }> = ({ status }) => <span class={`badge status-${status}`}>{status}</span>;

export interface PageProps {
  readonly title: string;
  /** The registry the page is about: its pages are linked from the header. */
  readonly registry?: string;
  /** Scripts of this page alone, besides the one every page loads. */
  readonly scripts?: readonly string[];
  readonly children?: Child;
}

export const Page: FC<PageProps> = ({ title, registry, scripts = [], children }) => (
  <html lang="en" dir="ltr" data-page={String(ENTRIES_PER_PAGE)} data-max-url={String(MAX_URL_LENGTH)}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · flake registry`}</title>
      <link rel="icon" href={assets.icon.path} type="image/svg+xml" />
      <link rel="stylesheet" href={assets.style.path} />
      <script type="module" src={assets.script.path}></script>
      {scripts.map((src) => (
        <script type="module" src={src}></script>
      ))}
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="site">
        <nav aria-label="Site">
          <ul>
            <li>
              <a class="brand" href="/">
                flake registry
              </a>
            </li>
            {registry === undefined ? null : (
              <>
                <li>
                  <a href={`/r/${registry}`}>{registry}: entries</a>
                </li>
                <li>
                  <a href={`/r/${registry}/resolve`}>resolve</a>
                </li>
                <li>
                  <a href={`/r/${registry}/history`}>history</a>
                </li>
                <li>
                  <a href={`/r/${registry}/proposals`}>proposals</a>
                </li>
              </>
            )}
            <li>
              <a href="/openapi.json">API</a>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main">
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </html>
);

/** A finished page as an answer: HTML, never cached (pages follow the latest version), with the policy. */
export async function htmlResponse(
  page: Rendered,
  status = 200,
  headers: Readonly<Record<string, string>> = {},
): Promise<Response> {
  const html: string = (await page).toString();
  const body = `<!DOCTYPE html>${html}`;
  return new Response(body, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      ...SECURITY_HEADERS,
      ...headers,
    },
  });
}
