import { Hono } from 'hono';
import document from '../../api/openapi.json';
import { sha256Hex } from '../../crypto/sha256.js';
import { cacheControl } from '../caching.js';
import { etagFor, type Validators } from '../conditional.js';
import type { AppEnv } from '../env.js';
import { queryParams } from '../params.js';
import { respondWith, utf8 } from '../representation.js';

/** The document's bytes and validators, made once per isolate: it changes only with a deployment. */
let served: { bytes: Uint8Array; validators: Validators } | undefined;

async function openApi(): Promise<{ bytes: Uint8Array; validators: Validators }> {
  if (!served) {
    const bytes = utf8(JSON.stringify(document));
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
    const { bytes, validators } = await openApi();
    return respondWith(c.req.raw, {
      validators,
      bytes,
      contentType: 'application/json',
      headers: { 'Cache-Control': cacheControl.listing },
    });
  });
