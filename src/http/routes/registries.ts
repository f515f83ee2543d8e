import { Hono } from 'hono';
import { z } from 'zod';
import { cacheControl } from '../caching.js';
import type { AppEnv } from '../env.js';
import { latestVersion, parseParam, pinnedRecord, pinnedVersion, registryName, versionNumber } from '../params.js';
import { registryFileResponse } from '../registry-file.js';

const DEFAULT_REGISTRY = 'global';

const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.coerce.number().int().min(2).optional(),
});

/** Registry files (latest and versioned), the list of registries and their history. */
export const registryRoutes = new Hono<AppEnv>()
  .get('/flake-registry.json', async (c) => {
    const version = await latestVersion(c.var.store, DEFAULT_REGISTRY);
    return registryFileResponse(c.req.raw, version, cacheControl.latest(c.var.config));
  })
  .get('/registries', async (c) => {
    const store = c.var.store;
    const registries = await Promise.all(
      store.names.map(async (name) => {
        const version = await latestVersion(store, name);
        return {
          name,
          version: version.number,
          entries: version.record.entries,
          sha256: version.record.sha256,
          created: version.record.created,
          url: `/registries/${name}/versions/${version.number}/flake-registry.json`,
        };
      }),
    );
    c.header('Cache-Control', cacheControl.listing);
    return c.json({ registries });
  })
  .get('/registries/:name/flake-registry.json', async (c) => {
    const name = parseParam(registryName, c.req.param('name'), 'registry name');
    const version = await latestVersion(c.var.store, name);
    return registryFileResponse(c.req.raw, version, cacheControl.latest(c.var.config));
  })
  .get('/registries/:name/versions', async (c) => {
    const name = parseParam(registryName, c.req.param('name'), 'registry name');
    const query = parseParam(historyQuery, c.req.query(), 'query');
    const latest = await latestVersion(c.var.store, name);
    const top = Math.min(latest.number, (query.before ?? latest.number + 1) - 1);
    const numbers = Array.from({ length: Math.min(query.limit, top) }, (_, i) => top - i);
    const records = await Promise.all(numbers.map((n) => pinnedRecord(c.var.store, name, n)));
    const last = numbers.at(-1);
    c.header('Cache-Control', cacheControl.listing);
    return c.json({
      registry: name,
      latest: latest.number,
      versions: records,
      next: last !== undefined && last > 1 ? `/registries/${name}/versions?before=${last}&limit=${query.limit}` : null,
    });
  })
  .get('/registries/:name/versions/:n', async (c) => {
    const name = parseParam(registryName, c.req.param('name'), 'registry name');
    const n = parseParam(versionNumber, c.req.param('n'), 'version');
    const record = await pinnedRecord(c.var.store, name, n);
    c.header('Cache-Control', cacheControl.immutable);
    return c.json({
      ...record,
      url: `/registries/${name}/versions/${n}/flake-registry.json`,
    });
  })
  .get('/registries/:name/versions/:n/flake-registry.json', async (c) => {
    const name = parseParam(registryName, c.req.param('name'), 'registry name');
    const n = parseParam(versionNumber, c.req.param('n'), 'version');
    const version = await pinnedVersion(c.var.store, name, n);
    return registryFileResponse(c.req.raw, version, cacheControl.immutable);
  });
