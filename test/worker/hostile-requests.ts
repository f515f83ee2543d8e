import { mulberry32 } from '../../scripts/bench/prng.js';
import { OPERATIONS } from '../../src/api/routes.js';

/**
 * Generators of requests nobody planned for, for every route: odd methods,
 * unknown, repeated and malformed query parameters, and conditional headers
 * with garbage, wildcards in the wrong places and dates in every wrong form.
 */
type Random = () => number;
const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

export interface HostileRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/JSON',
  '',
  'multipart/form-data',
];

/** Bodies for the write routes: not JSON, the wrong JSON, and near misses of a real submission. */
function body(r: Random, registry: string): string {
  const now = Date.now();
  const proposal = {
    registry: pick(r, [registry, 'global', 'nope', '', 7]),
    base: pick(r, [1, 0, -1, 2, 1.5, '1', 1e20]),
    changes: pick(r, [
      [],
      [{ op: 'set', entry: { from: { type: 'indirect', id: 'x' }, to: { type: 'github', owner: 'o', repo: 'x' } } }],
      [{ op: 'remove', from: { type: 'indirect', id: 'a' } }],
      [{ op: 'move', from: { type: 'indirect', id: 'a' }, position: { before: { type: 'indirect', id: 'a' } } }],
      [{ op: 'policy', policy: { keys: [], threshold: 0 } }],
      [{ op: 'file', file: { version: 2, flakes: [{ from: {}, to: {} }] } }],
      [{ op: 'nope' }],
      'changes',
    ]),
    message: pick(r, ['fix', '', ' ', 'x'.repeat(5000)]),
    created: pick(r, [
      new Date(now).toISOString(),
      '2026-13-45T00:00:00Z',
      'yesterday',
      new Date(now + 864e5).toISOString(),
    ]),
    expires: pick(r, [new Date(now + 3600e3).toISOString(), new Date(now - 1).toISOString(), '']),
  };
  const signature = pick(r, ['alice:' + 'A'.repeat(86) + '==', 'alice:', ':xyz', 'no-colon', 'alice:!!!!', 7]);
  return pick(r, [
    JSON.stringify({ proposal, signatures: [signature] }),
    JSON.stringify({ proposal, signatures: [] }),
    JSON.stringify({ proposal, signatures: [signature, signature], extra: true }),
    JSON.stringify({ signature }),
    JSON.stringify({ signature: 42 }),
    '{"proposal":',
    '[]',
    'null',
    '',
    '\uFEFF{}',
    '{"proposal":{"__proto__":{"x":1}},"signatures":["a:b"]}',
    String.fromCharCode(0xff, 0xfe),
  ]);
}

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'];

const SEGMENTS = (name: string) => [
  name,
  'global',
  'nope',
  'UPPER',
  '-x',
  '%00',
  '..',
  '%2e%2e',
  'a'.repeat(80),
  'é',
  '',
];
const VERSIONS = ['1', '2', '0', '-1', '01', '1e3', '0x1', '9999999999', '99999999999', '1.0', ' 1', 'x', '%31'];

const PARAM_NAMES = ['ref', 'registry', 'limit', 'before', 'rev', 'x', 'REF', 'ref ', '', '%72ef', 'registries', '&'];
const PARAM_VALUES = [
  'nixpkgs',
  'a/main',
  'global',
  'global@1',
  'global@0',
  'nope,global',
  '1',
  '0',
  '-5',
  '1e2',
  '0x10',
  '%',
  '%zz',
  '%ff',
  '',
  '+',
  'github:a/b?ref=x',
  'a'.repeat(5000),
];

const ETAGS = ['*', 'x*y', 'W/*', '"a"*', '"a", *', '""', 'W/""', '"', '"a', 'a"', ',,,', ' ', '\t"x"\t', '"a,b"'];
const DATES = [
  'Sun, 01 Mar 2026 12:00:00 GMT',
  'Sunday, 01-Mar-26 12:00:00 GMT',
  'Sun Mar  1 12:00:00 2026',
  'Sun, 31 Feb 2026 12:00:00 GMT',
  'Sun, 01 Mar 2026 25:00:00 GMT',
  '2026',
  '0',
  '-1',
  'tomorrow',
  'Mon, 01 Jan 0000 00:00:00 GMT',
  'Fri, 31 Dec 9999 23:59:59 GMT',
  '',
];

function path(r: Random, name: string, etag: () => string): string {
  const route = pick(r, OPERATIONS).path.replace(/\{([a-z]+)\}/g, ':$1');
  // Mostly real names and versions, so that requests get past routing to the rules that follow.
  let out = route
    .replace(':name', () => (r() < 0.6 ? name : pick(r, SEGMENTS(name))))
    .replace(':n', () => (r() < 0.5 ? '1' : pick(r, VERSIONS)))
    .replace(':id', () => (r() < 0.5 ? '0'.repeat(64) : pick(r, ['x', 'A'.repeat(64), '0'.repeat(63), ''])));
  if (r() < 0.1) out += '/';
  if (r() < 0.05) out = out.replace(/\//g, '//');
  const pairs: string[] = [];
  for (let i = r() < 0.5 ? 0 : int(r, 1, 4); i > 0; i--) {
    const key = pick(r, PARAM_NAMES);
    const value = pick(r, PARAM_VALUES);
    pairs.push(r() < 0.15 ? key : `${key}=${r() < 0.5 ? encodeURIComponent(value) : value}`);
  }
  if (route === '/resolve' && r() < 0.7) pairs.unshift(`ref=${encodeURIComponent(pick(r, PARAM_VALUES))}`);
  if (r() < 0.05) pairs.push(`ref=${etag()}`);
  return pairs.length === 0 && r() < 0.7 ? out : `${out}?${pairs.join('&')}`;
}

/** `count` requests from `seed`; `etag` supplies real ETags now and then, so matches happen too. */
export function generateRequests(count: number, seed: number, name: string, etag: () => string): HostileRequest[] {
  const r = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const headers: Record<string, string> = {};
    const tag = () => (r() < 0.3 ? etag() : pick(r, ETAGS));
    if (r() < 0.4) headers['If-None-Match'] = r() < 0.3 ? `${tag()}, ${tag()}` : tag();
    if (r() < 0.3) headers['If-Match'] = tag();
    if (r() < 0.3) headers['If-Modified-Since'] = pick(r, DATES);
    if (r() < 0.3) headers['If-Unmodified-Since'] = pick(r, DATES);
    if (r() < 0.1) headers['Accept-Encoding'] = pick(r, ['gzip', 'br', '*', 'identity;q=0', '']);
    const method = pick(r, METHODS);
    if (method !== 'POST' && method !== 'PUT') return { method, path: path(r, name, etag), headers };
    // Write routes, with bodies: mostly where proposals are taken.
    const target =
      r() < 0.6
        ? `/registries/${name}/proposals`
        : r() < 0.5
          ? `/registries/${name}/proposals/${'0'.repeat(64)}/approvals`
          : path(r, name, etag);
    const type = pick(r, CONTENT_TYPES);
    if (type !== '') headers['Content-Type'] = type;
    return { method, path: target, headers, body: body(r, name) };
  });
}
