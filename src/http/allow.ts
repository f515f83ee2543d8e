/**
 * What `Allow` says at a path, read from the routes an app registers (hono keeps them in
 * `app.routes`), so no second table of paths can drift from what is served.
 */

/** A registered route: its method and its path pattern. */
export interface Route {
  readonly method: string;
  readonly path: string;
}

/**
 * A route's path pattern against a request path: literal segments equal, `:x` any one
 * non-empty segment, a last `*` the rest of the path (a tlog-tiles path spans segments),
 * which is never empty.
 */
function matches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.at(-1) === '*') {
    if (got.length < want.length || got.slice(want.length - 1).join('/') === '') return false;
  } else if (got.length !== want.length) {
    return false;
  }
  return want.every((seg, i) => seg === '*' || (seg.startsWith(':') ? got[i] !== '' : seg === got[i]));
}

/** The methods served at `path` by `routes` (GET brings HEAD), or undefined when none is. */
export function methodsAt(routes: readonly Route[], path: string): string[] | undefined {
  // Middleware is registered too, under ALL: only handlers count.
  const methods = new Set(
    routes.filter((r) => (r.method === 'GET' || r.method === 'POST') && matches(r.path, path)).map((r) => r.method),
  );
  if (methods.size === 0) return undefined;
  return ['GET', 'HEAD', 'POST'].filter((m) => methods.has(m) || (m === 'HEAD' && methods.has('GET')));
}
