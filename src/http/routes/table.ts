/**
 * Every path the service answers and the methods it takes there, in one place:
 * a known path asked with another method is 405 with `Allow`, an `OPTIONS`
 * there is a CORS preflight, and any other path is 404.
 */
export interface RouteInfo {
  readonly path: string;
  readonly methods: readonly string[];
}

export const ROUTES: readonly RouteInfo[] = [
  { path: '/healthz', methods: ['GET', 'HEAD'] },
  { path: '/flake-registry.json', methods: ['GET', 'HEAD'] },
  { path: '/registries', methods: ['GET', 'HEAD'] },
  { path: '/registries/:name/flake-registry.json', methods: ['GET', 'HEAD'] },
  { path: '/registries/:name/versions', methods: ['GET', 'HEAD'] },
  { path: '/registries/:name/versions/:n', methods: ['GET', 'HEAD'] },
  { path: '/registries/:name/versions/:n/flake-registry.json', methods: ['GET', 'HEAD'] },
  { path: '/resolve', methods: ['GET', 'HEAD'] },
  { path: '/registries/:name/proposals', methods: ['GET', 'HEAD', 'POST'] },
  { path: '/registries/:name/proposals/:id', methods: ['GET', 'HEAD'] },
  { path: '/registries/:name/proposals/:id/approvals', methods: ['POST'] },
  { path: '/registries/:name/policy', methods: ['GET', 'HEAD'] },
];

const compiled = ROUTES.map((route) => ({
  route,
  pattern: new RegExp(`^${route.path.replace(/:[a-z]+/g, '[^/]+').replace(/\./g, '\\.')}$`),
}));

/** The route at `path`, whatever the method. */
export function routeAt(path: string): RouteInfo | undefined {
  return compiled.find((c) => c.pattern.test(path))?.route;
}
