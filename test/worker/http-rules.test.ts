import { describe, expect, it, vi } from 'vitest';
import { operationsAt, OPERATIONS } from '../../src/api/routes.js';
import { sha256Hex } from '../../src/crypto/sha256.js';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { CREATED, teamRegistry, TEST_POLICY } from './fixtures.js';
import { failingKv, serve, uniqueName } from './helpers.js';

// CREATED is 2026-03-01T12:00:00Z: the Last-Modified of every version 1 here.
const BEFORE = 'Sun, 01 Mar 2026 11:59:59 GMT';
const AT = 'Sun, 01 Mar 2026 12:00:00 GMT';

async function oneRegistry() {
  const name = uniqueName();
  const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }]);
  const body = writeRegistry(readRegistry(JSON.stringify(teamRegistry)));
  return { name, service, etag: `"${await sha256Hex(body)}"`, latest: `/registries/${name}/flake-registry.json` };
}

interface ProblemBody {
  type: string;
  detail: string;
  instance?: string;
  input?: string | null;
  parameter?: string;
  entry?: { registry: string; index: number; from: string; to: string };
}

describe('If-None-Match and If-Modified-Since', () => {
  it.each([['x*y'], ['W/*'], ['"a"*'], ['* , "x"'], ['"unclosed']])(
    'takes only a field value of * alone as the wildcard, not %s',
    async (value) => {
      const { service, latest } = await oneRegistry();
      const res = await service.fetch(latest, { headers: { 'If-None-Match': value } });
      expect(res.status).toBe(200);
    },
  );

  it('finds the ETag in a list whose members hold commas', async () => {
    const { service, etag, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-None-Match': `"a,b", ${etag}` } });
    expect(res.status).toBe(304);
  });

  it.each([
    ['IMF-fixdate', AT],
    ['RFC 850', 'Sunday, 01-Mar-26 12:00:00 GMT'],
    ['asctime', 'Sun Mar  1 12:00:00 2026'],
  ])('answers 304 to If-Modified-Since in %s form', async (_, date) => {
    const { service, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-Modified-Since': date } });
    expect(res.status).toBe(304);
  });

  it.each([['2030'], ['tomorrow'], ['2030-01-01T00:00:00Z'], ['Sun, 31 Feb 2030 00:00:00 GMT'], [`${AT}, ${AT}`]])(
    'ignores an If-Modified-Since that is not one HTTP-date: %s',
    async (date) => {
      const { service, latest } = await oneRegistry();
      const res = await service.fetch(latest, { headers: { 'If-Modified-Since': date } });
      expect(res.status).toBe(200);
    },
  );
});

describe('If-Match and If-Unmodified-Since', () => {
  it.each([
    ['the ETag', (e: string) => e, 200],
    ['*', () => '*', 200],
    ['a list holding the ETag', (e: string) => `"x", ${e}`, 200],
    ['another ETag', () => '"0000"', 412],
    ['the weak form of the ETag (If-Match compares strongly)', (e: string) => `W/${e}`, 412],
  ])('with If-Match of %s answers %i', async (_, value, status) => {
    const { service, etag, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-Match': value(etag) } });
    expect(res.status).toBe(status);
    if (status === 412) {
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect(res.headers.get('ETag')).toBe(etag);
      expect((await res.json<ProblemBody>()).type).toBe('urn:flake-registry:problem:precondition-failed');
    }
  });

  it('answers 412 when the file changed after If-Unmodified-Since, and 200 otherwise', async () => {
    const { service, latest } = await oneRegistry();
    expect((await service.fetch(latest, { headers: { 'If-Unmodified-Since': BEFORE } })).status).toBe(412);
    expect((await service.fetch(latest, { headers: { 'If-Unmodified-Since': AT } })).status).toBe(200);
    expect((await service.fetch(latest, { headers: { 'If-Unmodified-Since': 'yesterday' } })).status).toBe(200);
  });

  it('ignores If-Unmodified-Since when If-Match is present', async () => {
    const { service, etag, latest } = await oneRegistry();
    const res = await service.fetch(latest, { headers: { 'If-Match': etag, 'If-Unmodified-Since': BEFORE } });
    expect(res.status).toBe(200);
  });
});

describe('methods', () => {
  it.each([['POST'], ['PUT'], ['DELETE'], ['PATCH']])(
    'answers %s on a read route with 405, Allow and problem+json naming the path',
    async (method) => {
      const { service, latest } = await oneRegistry();
      const res = await service.fetch(latest, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('Allow')).toBe('GET, HEAD');
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      const body = await res.json<ProblemBody>();
      expect(body.type).toBe('urn:flake-registry:problem:method-not-allowed');
      expect(body.instance).toBe(latest);
    },
  );

  it('answers each path of the API document with the methods it describes, in Allow', async () => {
    const service = serve([]);
    const id = 'a'.repeat(64);
    for (const path of new Set(OPERATIONS.map((o) => o.path))) {
      const at = path
        .replace('{name}', 'global')
        .replace('{n}', '3')
        .replace('{id}', id)
        .replace('{tile}', '0/x001/234.p/5');
      const described = new Set(operationsAt(at).flatMap((o) => (o.method === 'get' ? ['GET', 'HEAD'] : ['POST'])));
      const allow = ['GET', 'HEAD', 'POST'].filter((m) => described.has(m)).join(', ');
      const res = await service.fetch(at, { method: 'DELETE' });
      expect(res.status, at).toBe(405);
      expect(res.headers.get('Allow'), at).toBe(allow);
      await res.arrayBuffer();
      const preflight = await service.fetch(at, { method: 'OPTIONS' });
      expect(preflight.headers.get('Allow'), at).toBe(allow);
    }
    // A tile path needs a tile; a registry's paths need a name.
    for (const at of ['/registries/global/log/tile/', '/registries//versions', '/registries/global/versions/3/x']) {
      const res = await service.fetch(at, { method: 'DELETE' });
      expect(res.status, at).toBe(404);
      await res.arrayBuffer();
    }
  });

  it('answers OPTIONS on a route as a CORS preflight, and on any other path with 404', async () => {
    const { service, latest } = await oneRegistry();
    const preflight = await service.fetch(latest, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('Allow')).toBe('GET, HEAD');
    expect(preflight.headers.get('Access-Control-Allow-Headers')).toContain('If-None-Match');
    const missing = await service.fetch('/no/such/path', { method: 'OPTIONS' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('Content-Type')).toBe('application/problem+json');
  });
});

describe('query parameters', () => {
  it.each([
    ['an unknown one on a file', (n: string) => `/registries/${n}/flake-registry.json?x=1`, 'x'],
    ['the rev of a ref with an unencoded &', () => `/resolve?ref=github:a/b?ref=x&rev=${'a'.repeat(40)}`, 'rev'],
    ['registries= for registry=', (n: string) => `/resolve?ref=a&registries=${n}`, 'registries'],
    ['a repeated ref', (n: string) => `/resolve?ref=a&ref=b&registry=${n}`, 'ref'],
    ['a repeated limit', (n: string) => `/registries/${n}/versions?limit=1&limit=2`, 'limit'],
    ['one on /healthz', () => '/healthz?verbose', 'verbose'],
  ])('refuses %s with 400 naming it', async (_, path, parameter) => {
    const { name, service } = await oneRegistry();
    const res = await service.fetch(path(name));
    expect(res.status).toBe(400);
    const body = await res.json<ProblemBody>();
    expect(body.parameter).toBe(parameter);
    expect(body.detail).toContain(`'${parameter}'`);
  });

  it.each([['0x10'], ['1e1'], ['+5'], ['05'], [' 5'], ['5.0'], ['0'], ['101']])(
    'takes only plain decimal numbers in range for limit, not %s',
    async (value) => {
      const { name, service } = await oneRegistry();
      const res = await service.fetch(`/registries/${name}/versions?limit=${encodeURIComponent(value)}`);
      expect(res.status).toBe(400);
      const body = await res.json<ProblemBody>();
      expect(body.parameter).toBe('limit');
      expect(body.detail).toMatch(/^limit: /);
    },
  );

  it('names before in its own errors', async () => {
    const { name, service } = await oneRegistry();
    const res = await service.fetch(`/registries/${name}/versions?before=1e3`);
    expect(res.status).toBe(400);
    expect((await res.json<ProblemBody>()).parameter).toBe('before');
  });
});

describe('/resolve errors and validators', () => {
  it.each([
    ['no ref', () => '/resolve', null],
    ['a malformed registry list', () => '/resolve?ref=a&registry=Bad!', 'a'],
    ['an unknown registry', () => '/resolve?ref=a&registry=nope', 'a'],
    ['an unknown parameter', () => '/resolve?ref=a&x=1', 'a'],
    ['an unknown version', (n: string) => `/resolve?ref=a&registry=${n}@9`, 'a'],
  ])('carries input with %s', async (_, path, input) => {
    const { name, service } = await oneRegistry();
    const res = await service.fetch(path(name));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await res.json<ProblemBody>()).input).toBe(input);
  });

  it('carries input when storage fails', async () => {
    const name = uniqueName();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const service = serve([{ name, file: teamRegistry, policy: TEST_POLICY, created: CREATED }], { kv: failingKv() });
    const res = await service.fetch(`/resolve?ref=a&registry=${name}`);
    logged.mockRestore();
    expect(res.status).toBe(503);
    expect((await res.json<ProblemBody>()).input).toBe('a');
  });

  it('names the entry whose target cannot take the ref', async () => {
    const { name, service } = await oneRegistry();
    const res = await service.fetch(`/resolve?ref=p/main&registry=${name}`);
    expect(res.status).toBe(422);
    const body = await res.json<ProblemBody>();
    expect(body.entry).toMatchObject({ registry: name, index: 5, from: 'flake:p', to: 'path:/srv/p' });
  });

  it('sends an ETag, Last-Modified and the registry versions, and answers 304 to the ETag', async () => {
    const { name, service } = await oneRegistry();
    const path = `/resolve?ref=nixpkgs&registry=${name},${name}@1`;
    const res = await service.fetch(path);
    expect(res.status).toBe(200);
    const etag = res.headers.get('ETag') ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(res.headers.get('Last-Modified')).toBe(AT);
    expect(res.headers.get('X-Registry-Name')).toBe(`${name}, ${name}`);
    expect(res.headers.get('X-Registry-Version')).toBe('1, 1');
    expect(res.headers.get('Vary')).toBe('Accept-Encoding');
    const again = await service.fetch(path, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('ETag')).toBe(etag);
    const other = await service.fetch(`/resolve?ref=a&registry=${name},${name}@1`, {
      headers: { 'If-None-Match': etag },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get('ETag')).not.toBe(etag);
  });
});

describe('HEAD', () => {
  it.each([
    ['/healthz'],
    ['/registries'],
    ['/registries/NAME/flake-registry.json'],
    ['/registries/NAME/versions'],
    ['/registries/NAME/versions/1'],
    ['/registries/NAME/versions/1/flake-registry.json'],
    ['/resolve?ref=nixpkgs&registry=NAME'],
    ['/resolve?ref=nope&registry=NAME'],
    ['/registries/NAME/versions/9'],
    ['/no/such/path'],
  ])('carries the Content-Length of GET on %s', async (template) => {
    const { name, service } = await oneRegistry();
    const path = template.replace('NAME', name);
    const get = await service.fetch(path);
    const length = (await get.arrayBuffer()).byteLength;
    const head = await service.fetch(path, { method: 'HEAD' });
    expect(head.status).toBe(get.status);
    expect(head.headers.get('Content-Length')).toBe(String(length));
    expect(await head.text()).toBe('');
  });
});
