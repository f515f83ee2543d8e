/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { PROBLEMS } from '../api/problems.js';
import { methodsAt, type Route } from '../http/allow.js';
import type { AppEnv } from '../http/env.js';
import { Problem } from '../http/problem.js';
import { Page, Shown, htmlResponse } from './html.js';

/**
 * What the pages answer when there is no page: an error page under the same policy as every
 * page, for every path the pages own (`/`, `/r`, `/r/...`, `/assets/...`), where the JSON
 * routes answer problem+json. A known page asked with another method is a 405 with `Allow`,
 * read from the routes the pages register.
 */

/** Paths the pages own: anything else is the JSON API's. */
export function isPagePath(path: string): boolean {
  return path === '/' || path === '/r' || path.startsWith('/r/') || path.startsWith('/assets/');
}

/** An error page's title: what is wrong for a 4xx (the problem's title), and an apology for a 5xx. */
export const errorTitle = (problem: Problem): string =>
  problem.status >= 500 ? 'Something went wrong' : PROBLEMS[problem.kind].title;

/** A problem as a page, with its status and headers (`Retry-After`, `Allow`). */
export function errorPage(
  problem: Problem,
  headers: Readonly<Record<string, string>> = {},
  also?: { readonly href: string; readonly text: string },
): Promise<Response> {
  return htmlResponse(
    <Page title={errorTitle(problem)}>
      <p class="error" id="problem">
        <Shown text={problem.detail} />
      </p>
      <ul>
        {also === undefined ? null : (
          <li>
            <a href={also.href}>{also.text}</a>
          </li>
        )}
        <li>
          <a href="/">The hosted registries</a>
        </li>
      </ul>
    </Page>,
    problem.status,
    { ...problem.headers, ...headers },
  );
}

/** A page path with no handler for this method: 405 (204 to OPTIONS) where a page is, else 404. */
export function noPage(c: Context<AppEnv>, routes: readonly Route[]): Promise<Response> {
  const path = c.req.path;
  const methods = methodsAt(routes, path);
  if (methods === undefined) {
    const bare = path.replace(/\/+$/, '');
    const near = bare !== path && bare !== '' && methodsAt(routes, bare) !== undefined;
    return errorPage(
      new Problem('no-route', `nothing is served at ${path}`),
      {},
      near ? { href: bare, text: `${bare}, without the trailing slash` } : undefined,
    );
  }
  const allow = methods.join(', ');
  if (c.req.method === 'OPTIONS')
    return Promise.resolve(new Response(null, { status: 204, headers: { Allow: allow } }));
  return errorPage(new Problem('method-not-allowed', `${c.req.method} is not served at ${path}; use ${allow}`), {
    Allow: allow,
  });
}
