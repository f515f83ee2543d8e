import { Hono } from 'hono';
import { sha256Hex } from '../../crypto/sha256.js';
import { cacheControl } from '../caching.js';
import { etagFor, type Validators } from '../conditional.js';
import type { AppEnv } from '../env.js';
import { queryParams } from '../params.js';
import { respondWith } from '../representation.js';
import { staticAsset } from '../static-assets.js';

/** The document's bytes and validators, read once per isolate: they change only with a deployment. */
let served: { bytes: Uint8Array; validators: Validators } | undefined;

/**
 * src/api/openapi.json without its indentation, from the static assets (scripts/build-web.ts
 * writes it there): the script does not carry it.
 */
async function openApi(assets: Fetcher): Promise<{ bytes: Uint8Array; validators: Validators }> {
  if (!served) {
    const bytes = await staticAsset(assets, '/openapi.json');
    // A deployment's own time is not known here: no Last-Modified (a made-up one would answer
    // If-Modified-Since with 304 after a redeploy); the document is told apart by its ETag.
    served = { bytes, validators: { etag: etagFor(await sha256Hex(bytes)) } };
  }
  return served;
}

/** The service itself: liveness, and the API's own description. */
export const serviceRoutes = new Hono<AppEnv>()
  // Liveness only: touches no storage; the benchmarks' baseline, through the same middleware.
  .get('/healthz', (c) => {
    queryParams(c.req.url, []);
    c.header('Cache-Control', cacheControl.none);
    return c.json({ ok: true });
  })
  .get('/openapi.json', async (c) => {
    queryParams(c.req.url, []);
    const { bytes, validators } = await openApi(c.env.ASSETS);
    return respondWith(c.req.raw, {
      validators,
      bytes,
      contentType: 'application/json',
      headers: { 'Cache-Control': cacheControl.listing },
    });
  });
