import { Hono } from 'hono';
import { NixError } from '../nix/errors.js';
import { StorageError } from '../store/errors.js';
import type { RegistryStore } from '../store/store.js';
import { cacheControl } from './caching.js';
import { Lru } from '../lru.js';
import { configFrom, type AppEnv, type Config, type Resolution } from './env.js';
import { Problem, problemResponse } from './problem.js';
import { registryRoutes } from './routes/registries.js';
import { resolveRoutes } from './routes/resolve.js';

/** How routes get at storage: one store per isolate, made from the bindings. */
export type StoreFactory = (env: Env) => RegistryStore;

const EXPOSED_HEADERS = 'ETag, Last-Modified, Retry-After, X-Registry-Name, X-Registry-Version';
const PREFLIGHT = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD',
  'Access-Control-Allow-Headers': 'If-None-Match, If-Modified-Since',
  'Access-Control-Max-Age': '86400',
};

/**
 * Answers kept per isolate, weighed by the characters of their key and body: at
 * most about 8 MB of the isolate's 128, however long the refs sent.
 */
const RESOLUTION_CHARS_KEPT = 4_000_000;

export function createApp(storeFor: StoreFactory): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const resolutions = new Lru<string, Resolution>(RESOLUTION_CHARS_KEPT, (key, r) => key.length + r.body.length);

  let config: Config | undefined;

  // Every route is public and read-only: pages and tools on other origins may read it,
  // validators included, and send conditional requests (a preflight asks first).
  app.options('*', () => new Response(null, { status: 204, headers: PREFLIGHT }));

  app.use('*', async (c, next) => {
    config ??= configFrom(c.env);
    c.set('config', config);
    c.set('store', storeFor(c.env));
    c.set('resolutions', resolutions);
    await next();
    c.res.headers.set('Access-Control-Allow-Origin', '*');
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  });

  // Liveness only: touches no storage; the benchmarks' baseline, through the same middleware.
  app.get('/healthz', (c) => {
    c.header('Cache-Control', cacheControl.none);
    return c.json({ ok: true });
  });

  app.route('/', registryRoutes);
  app.route('/', resolveRoutes);

  app.notFound((c) => problemResponse(new Problem('no-route', `nothing is served at ${c.req.path}`)));

  app.onError((error, c) => {
    const path = new URL(c.req.url).pathname;
    if (error instanceof Problem) return problemResponse(error, path);
    if (error instanceof NixError) return problemResponse(Problem.fromNix(error), path);
    if (error instanceof StorageError) {
      console.error(error.message, error.cause);
      return problemResponse(
        new Problem(
          'storage-unavailable',
          'registry storage did not answer; try again shortly',
          {},
          { 'Retry-After': '5' },
        ),
        path,
      );
    }
    console.error('unexpected error', error);
    return problemResponse(new Problem('internal', 'the service failed to answer this request'), path);
  });

  return app;
}
