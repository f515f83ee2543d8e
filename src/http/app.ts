import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { NixError } from '../nix/errors.js';
import { StorageError } from '../store/errors.js';
import type { RegistryStore } from '../store/store.js';
import { cacheControl } from './caching.js';
import { Lru } from '../lru.js';
import { configFrom, type AppEnv, type Resolution } from './env.js';
import { Problem, problemResponse } from './problem.js';
import { registryRoutes } from './routes/registries.js';
import { resolveRoutes } from './routes/resolve.js';

/** How routes get at storage: one store per isolate, made from the bindings. */
export type StoreFactory = (env: Env) => RegistryStore;

/** Answers kept per isolate; a few MB at most. */
const RESOLUTIONS_KEPT = 4096;

export function createApp(storeFor: StoreFactory): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const resolutions = new Lru<string, Resolution>(RESOLUTIONS_KEPT);

  // Liveness only: no storage access, so it also serves as the benchmark baseline.
  app.get('/healthz', (c) => {
    c.header('Cache-Control', cacheControl.none);
    return c.json({ ok: true });
  });

  // Every read route is public: browsers and tools on other origins may read them, validators included.
  app.use(
    '*',
    cors({
      origin: '*',
      allowMethods: ['GET', 'HEAD'],
      exposeHeaders: ['ETag', 'Last-Modified', 'X-Registry-Name', 'X-Registry-Version', 'Retry-After'],
      maxAge: 86_400,
    }),
  );

  app.use('*', async (c, next) => {
    c.set('config', configFrom(c.env));
    c.set('store', storeFor(c.env));
    c.set('resolutions', resolutions);
    await next();
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
