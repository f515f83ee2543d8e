import { Hono } from 'hono';
import type { RegistryStore } from '../store/store.js';
import { Lru } from '../lru.js';
import { configFrom, localTrustedKeys, type AppEnv, type Config, type Resolution } from './env.js';
import { discardBody } from './body.js';
import { toProblem } from './errors.js';
import { Problem, problemResponse } from './problem.js';
import { registryRoutes } from './routes/registries.js';
import { serviceRoutes } from './routes/service.js';
import { proposalRoutes } from './routes/proposals.js';
import { logRoutes } from './routes/log.js';
import { resolveRoutes } from './routes/resolve.js';
import { auditRoutes } from './routes/audit.js';
import { methodsAt } from './allow.js';
import { MAX_URL_LENGTH } from './params.js';
import { errorPage, isPagePath, noPage } from '../web/errors.js';
import { webRoutes } from '../web/routes.js';

/** How routes get at storage: one store per isolate, made from the bindings. */
export type StoreFactory = (env: Env) => RegistryStore;

const EXPOSED_HEADERS = 'ETag, Last-Modified, Retry-After, Allow, X-Registry-Name, X-Registry-Version';
const ALLOWED_REQUEST_HEADERS = 'Content-Type, If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since';
/** Hosts that only this machine reaches: 127.0.0.0/8, localhost and ::1. */
const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|localhost\.?|\[::1\])$/;

/**
 * Answers kept per isolate, weighed by the characters of their key and body: at
 * most about 8 MB of the isolate's 128, however long the refs sent.
 */
const RESOLUTION_CHARS_KEPT = 4_000_000;

/** What is refused before any route runs, with the same headers as every answer. */
function guard(url: string, env: Env): Problem | undefined {
  // Cloudflare refuses longer URLs before a Worker runs; refusing them here too makes a
  // local server answer as a deployed one does (above about 100 KB the local runtime
  // answers 431 itself).
  if (url.length > MAX_URL_LENGTH) {
    return new Problem('uri-too-long', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  }
  // Keys trusted for local development must never reach a deployed service.
  if (localTrustedKeys(env).length > 0 && !LOOPBACK.test(new URL(url).hostname)) {
    return new Problem(
      'registry-misconfigured',
      'DEV_TRUSTED_KEYS is set: it trusts keys for local development only and is refused on any host but localhost',
    );
  }
  return undefined;
}

/**
 * The JSON API's routes. A 405's `Allow` is read from what they register, as the pages' is;
 * src/api/routes.ts describes the same operations for the OpenAPI document, and the contract
 * tests hold every answer to it.
 */
const API_ROUTES = [serviceRoutes, registryRoutes, resolveRoutes, proposalRoutes, logRoutes, auditRoutes];
const apiRoutes = API_ROUTES.flatMap((routes) => routes.routes);

export function createApp(storeFor: StoreFactory): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const resolutions = new Lru<string, Resolution>(RESOLUTION_CHARS_KEPT, (key, r) => key.length + r.body.length);

  let config: Config | undefined;

  app.use('*', async (c, next) => {
    const refusal = guard(c.req.url, c.env);
    if (refusal) {
      const path = new URL(c.req.url).pathname;
      c.res = isPagePath(path) ? await errorPage(refusal) : problemResponse(refusal, path);
    } else {
      config ??= configFrom(c.env);
      c.set('config', config);
      c.set('store', storeFor(c.env));
      c.set('resolutions', resolutions);
      await next();
    }
    // A body no route read (a 404, a 405, a refusal before reading) is read and dropped,
    // so the connection can carry the next request; one that does not arrive within a
    // second is let go of instead, so a body that never comes holds no answer up. A client
    // that goes away meanwhile is nobody's error.
    await discardBody(c.req.raw);
    // HEAD runs the GET handler and drops the body afterwards: a length measured
    // here is the GET's, so HEAD and GET agree on every route.
    if (c.res.body !== null && !c.res.headers.has('Content-Length')) {
      const bytes = await c.res.arrayBuffer();
      c.res = new Response(bytes, c.res);
      c.res.headers.set('Content-Length', String(bytes.byteLength));
    }
    // A platform that compresses a body keys its caches on the client's encodings.
    if ((c.res.status === 200 || c.res.status === 304) && !c.res.headers.has('Vary')) {
      c.res.headers.set('Vary', 'Accept-Encoding');
    }
    // Cloudflare sends Date on every answer; the local runtime does not (RFC 9110 §6.6.1 asks for it).
    if (!c.res.headers.has('Date')) c.res.headers.set('Date', new Date().toUTCString());
    // Pages and tools on other origins may read every answer, validators included.
    c.res.headers.set('Access-Control-Allow-Origin', '*');
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  });

  for (const routes of API_ROUTES) app.route('/', routes);
  // The web pages, on paths of their own (src/web).
  app.route('/', webRoutes);

  // No handler for this method: a known path answers a preflight or 405, any other 404.
  app.notFound((c) => {
    // The pages' paths answer as pages do, under their policy.
    if (isPagePath(c.req.path)) return noPage(c, webRoutes.routes);
    const methods = methodsAt(apiRoutes, c.req.path);
    if (!methods) return problemResponse(new Problem('no-route', `nothing is served at ${c.req.path}`), c.req.path);
    const allow = methods.join(', ');
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          Allow: allow,
          'Access-Control-Allow-Methods': allow,
          'Access-Control-Allow-Headers': ALLOWED_REQUEST_HEADERS,
          'Access-Control-Max-Age': '86400',
        },
      });
    }
    const problem = new Problem('method-not-allowed', `${c.req.method} is not served at ${c.req.path}; use ${allow}`);
    return problemResponse(problem, c.req.path, { Allow: allow });
  });

  app.onError((error, c) => problemResponse(toProblem(error), new URL(c.req.url).pathname));

  return app;
}
