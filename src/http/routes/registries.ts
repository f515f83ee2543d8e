import { Hono } from 'hono';
import { ConfigurationError } from '../../store/errors.js';
import { recordHash, recordText, type VersionRecord } from '../../protocol/record.js';
import { cacheControl } from '../caching.js';
import { etagFor, type Validators } from '../conditional.js';
import type { AppEnv } from '../env.js';
import {
  decimalParam,
  latest,
  latestRecord,
  pinnedRecord,
  pinnedVersion,
  queryParams,
  registryName,
  versionNumber,
} from '../params.js';
import { registryFileResponse } from '../registry-file.js';
import { respondWith, utf8 } from '../representation.js';

const DEFAULT_REGISTRY = 'global';
const MAX_PAGE = 100;

// A record never changes: its canonical text, bytes and hash are made once per record kept.
const servedRecords = new WeakMap<VersionRecord, { bytes: Uint8Array; validators: Validators }>();

function servedRecord(record: VersionRecord): { bytes: Uint8Array; validators: Validators } {
  let served = servedRecords.get(record);
  if (!served) {
    // Exactly the bytes the next version's `parent` hashes (canonical JSON).
    const bytes = utf8(recordText(record));
    const validators = { etag: etagFor(recordHash(record)), lastModified: new Date(record.created) };
    served = { bytes, validators };
    servedRecords.set(record, served);
  }
  return served;
}

/** Registry files (latest and versioned), the list of registries and their history. */
export const registryRoutes = new Hono<AppEnv>()
  .get('/flake-registry.json', async (c) => {
    queryParams(c.req.url, []);
    const { version, head } = await latest(c.var.store, DEFAULT_REGISTRY);
    return registryFileResponse(c.req.raw, version, cacheControl.latest(c.var.config), head);
  })
  .get('/registries', async (c) => {
    queryParams(c.req.url, []);
    const store = c.var.store;
    // One registry that cannot be published is shown as such; the others are listed as usual.
    const registries = await Promise.all(
      store.names.map(async (name) => {
        try {
          const record = await latestRecord(store, name);
          return {
            name,
            version: record.version,
            entries: record.entries,
            sha256: record.sha256,
            created: record.created,
            url: `/registries/${name}/versions/${record.version}/flake-registry.json`,
          };
        } catch (error) {
          if (!(error instanceof ConfigurationError)) throw error;
          return { name, error: { type: 'urn:flake-registry:problem:registry-misconfigured', detail: error.message } };
        }
      }),
    );
    c.header('Cache-Control', cacheControl.listing);
    return c.json({ registries });
  })
  .get('/registries/:name/flake-registry.json', async (c) => {
    const name = registryName(c.req.param('name'));
    queryParams(c.req.url, []);
    const { version, head } = await latest(c.var.store, name);
    return registryFileResponse(c.req.raw, version, cacheControl.latest(c.var.config), head);
  })
  .get('/registries/:name/versions', async (c) => {
    const name = registryName(c.req.param('name'));
    const query = queryParams(c.req.url, ['limit', 'before']);
    const limit = decimalParam('limit', query.limit, 1, MAX_PAGE) ?? 20;
    const before = decimalParam('before', query.before, 2, 9_999_999_999);
    const latest = (await latestRecord(c.var.store, name)).version;
    const top = Math.min(latest, (before ?? latest + 1) - 1);
    const numbers = Array.from({ length: Math.min(limit, top) }, (_, i) => top - i);
    const records = await Promise.all(numbers.map((n) => pinnedRecord(c.var.store, name, n)));
    const last = numbers.at(-1);
    c.header('Cache-Control', cacheControl.listing);
    return c.json({
      registry: name,
      latest,
      versions: records,
      next: last !== undefined && last > 1 ? `/registries/${name}/versions?before=${last}&limit=${limit}` : null,
    });
  })
  .get('/registries/:name/versions/:n', async (c) => {
    const name = registryName(c.req.param('name'));
    const n = versionNumber(c.req.param('n'));
    queryParams(c.req.url, []);
    const record = await pinnedRecord(c.var.store, name, n);
    const served = servedRecord(record);
    return respondWith(c.req.raw, {
      validators: served.validators,
      bytes: served.bytes,
      contentType: 'application/json',
      headers: {
        'Cache-Control': cacheControl.immutable,
        'X-Registry-Name': name,
        'X-Registry-Version': String(n),
      },
    });
  })
  .get('/registries/:name/versions/:n/flake-registry.json', async (c) => {
    const name = registryName(c.req.param('name'));
    const n = versionNumber(c.req.param('n'));
    queryParams(c.req.url, []);
    const version = await pinnedVersion(c.var.store, name, n);
    return registryFileResponse(c.req.raw, version, cacheControl.immutable);
  });
