/**
 * URLs as current Nix parses and prints them (src/libutil/url.cc, which since 2.29 delegates to
 * boost::urls and therefore follows RFC 3986 strictly, plus Nix's "lenient" fix-ups).
 * Strings are handled as UTF-8 bytes when percent-encoding, as Nix's std::string is.
 */
import { compareKeys } from './attrs.js';
import { NixError } from './errors.js';

/**
 * Nix's `BadURL`. A separate class because flakeref.cc treats it differently from other
 * errors (a URL that fails to parse falls through to the path syntax).
 */
export class BadURLError extends NixError {
  constructor(message: string) {
    super('invalid-ref', message);
  }
}

export interface Authority {
  readonly host: string;
  readonly user?: string;
  readonly password?: string;
  readonly port?: number;
  /** Host was an IP literal (`[...]`); printed back inside brackets. */
  readonly ipLiteral?: boolean;
}

export interface ParsedURL {
  scheme: string;
  authority?: Authority;
  /** Decoded segments of the path split on `/` (Nix's `std::vector<std::string> path`). */
  path: string[];
  /**
   * Decoded query. Nix keeps a std::map, so parsing yields it in key order (`compareKeys`),
   * which is the order every scheme checks its parameters in, and printing sorts keys.
   */
  query: Map<string, string>;
  fragment: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// RFC 3986 character classes as boost::urls validates them (pct-encoded checked separately).
const PCHAR = "A-Za-z0-9\\-._~!$&'()*+,;=:@";
const SEGMENT_RE = new RegExp(`^(?:[${PCHAR}/]|%[0-9A-Fa-f]{2})*$`);
const QUERY_RE = new RegExp(`^(?:[${PCHAR}/?]|%[0-9A-Fa-f]{2})*$`);
const USERINFO_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*$/;
const REGNAME_RE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const IPLITERAL_RE = /^\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const VALID_PCT = /^(?:[^%]|%[0-9A-Fa-f]{2})*$/s;

const ALWAYS_KEPT = /^[A-Za-z0-9\-._~]*$/;

export function percentEncode(s: string, keep = ''): string {
  // Most segments and values (ids, owners, refs) need no escape at all: skip the byte loop.
  if (ALWAYS_KEPT.test(s)) return s;
  let out = '';
  for (const byte of encoder.encode(s)) {
    const c = String.fromCharCode(byte);
    if (byte < 0x80 && (UNRESERVED.test(c) || keep.includes(c))) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  if (!VALID_PCT.test(s)) throw new BadURLError(`invalid URI parameter '${s}': bad percent-encoding`);
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else for (const b of encoder.encode(s.charAt(i))) bytes.push(b);
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    // Nix keeps raw bytes; a JSON service cannot, so non-UTF-8 is refused.
    throw new BadURLError(`invalid URI parameter '${s}': not UTF-8 after decoding`);
  }
}

/** Nix's lenient mode escapes these before handing the text to boost (url.cc). */
function escapeChars(s: string, chars: string): string {
  let out = '';
  for (const c of s) out += chars.includes(c) ? percentEncode(c) : c;
  return out;
}

/**
 * `decodeQuery`: pairs without `=` are dropped, the first of duplicate keys wins, and the result
 * iterates in key order (decoded keys, std::map order) as Nix's std::map does, whatever the
 * order typed: `?zzz=1&revCount=abc` is checked `revCount` first.
 */
export function decodeQuery(query: string, lenient: boolean): Map<string, string> {
  const q = lenient ? escapeChars(query, ' "') : query;
  if (!QUERY_RE.test(q)) throw new BadURLError(`invalid URI query '${query}'`);
  const result = new Map<string, string>();
  if (q === '') return result;
  for (const param of q.split('&')) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const key = percentDecode(param.slice(0, eq));
    if (!result.has(key)) result.set(key, percentDecode(param.slice(eq + 1)));
  }
  return result.size < 2 ? result : new Map([...result].sort(([a], [b]) => compareKeys(a, b)));
}

/** Keys in std::map order, whatever order the map was filled in. */
export function encodeQuery(query: ReadonlyMap<string, string>): string {
  return [...query.keys()]
    .sort(compareKeys)
    .map((k) => `${percentEncode(k, ':@/?')}=${percentEncode(query.get(k) as string, ':@/?')}`)
    .join('&');
}

function parseAuthority(text: string, url: string): Authority {
  const at = text.lastIndexOf('@');
  const userinfo = at >= 0 ? text.slice(0, at) : undefined;
  let hostport = at >= 0 ? text.slice(at + 1) : text;
  let port: number | undefined;
  const portMatch = /:([0-9]*)$/.exec(hostport);
  if (portMatch && !(hostport.startsWith('[') && !hostport.includes(']:'))) {
    hostport = hostport.slice(0, portMatch.index);
    const digits = portMatch[1] as string;
    if (digits !== '') {
      port = Number(digits);
      if (digits.length > 5 || port === 0 || port > 65535) throw new BadURLError(`port '${digits}' is invalid`);
    }
  }
  const ipLiteral = hostport.startsWith('[');
  if (ipLiteral ? !IPLITERAL_RE.test(hostport) : !REGNAME_RE.test(hostport))
    throw new BadURLError(`'${url}' is not a valid URL: invalid authority`);
  if (userinfo !== undefined && !USERINFO_RE.test(userinfo))
    throw new BadURLError(`'${url}' is not a valid URL: invalid userinfo`);
  const colon = userinfo?.indexOf(':') ?? -1;
  return {
    host: ipLiteral ? hostport.slice(1, -1) : percentDecode(hostport),
    ...(userinfo !== undefined && { user: percentDecode(colon >= 0 ? userinfo.slice(0, colon) : userinfo) }),
    ...(userinfo !== undefined && colon >= 0 && { password: percentDecode(userinfo.slice(colon + 1)) }),
    ...(port !== undefined && { port }),
    ...(ipLiteral && { ipLiteral }),
  };
}

/** `parseUrlScheme`: `tarball+https` is application `tarball`, transport `https`. */
export function parseUrlScheme(scheme: string): { application?: string; transport: string } {
  const plus = scheme.indexOf('+');
  return plus < 0 ? { transport: scheme } : { application: scheme.slice(0, plus), transport: scheme.slice(plus + 1) };
}

/** `parseURL(url, lenient)`. Throws BadURLError for anything boost::urls would refuse. */
export function parseURL(url: string, lenient = false): ParsedURL {
  let text = url;
  if (lenient) {
    // Mirrors url.cc: escape ' ' '"' after the first '?', and ' ' '"' '^' after the first '#'.
    const q = text.indexOf('?');
    let fixed = '';
    if (q >= 0) {
      const rest = text.slice(q + 1);
      const h = rest.indexOf('#');
      fixed = text.slice(0, q + 1) + escapeChars(h < 0 ? rest : rest.slice(0, h), ' "');
      text = h < 0 ? '' : rest.slice(h);
    }
    const h = text.indexOf('#');
    text = h < 0 ? fixed + text : fixed + text.slice(0, h + 1) + escapeChars(text.slice(h + 1), ' "^');
  }
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  if (!SCHEME_RE.test(scheme)) throw new BadURLError(`'${url}' doesn't have a scheme`);
  let rest = text.slice(colon + 1);
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    const raw = rest.slice(hash + 1);
    if (!QUERY_RE.test(raw)) throw new BadURLError(`'${url}' is not a valid URL: invalid fragment`);
    fragment = percentDecode(raw);
    rest = rest.slice(0, hash);
  }
  let rawQuery: string | undefined;
  const qm = rest.indexOf('?');
  if (qm >= 0) {
    rawQuery = rest.slice(qm + 1);
    rest = rest.slice(0, qm);
  }
  let authority: Authority | undefined;
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const end = slash < 0 ? rest.length : slash;
    authority = parseAuthority(rest.slice(2, end), url);
    rest = rest.slice(end);
  }
  if (!SEGMENT_RE.test(rest)) throw new BadURLError(`'${url}' is not a valid URL: invalid path`);
  const transportIsFile = parseUrlScheme(scheme).transport === 'file';
  // RFC 3986 §3.2.2: only `file` may default its host, and then it must be empty.
  if (authority && authority.host !== '' && transportIsFile)
    throw new BadURLError(`file:// URL '${url}' has unexpected authority '${authorityToString(authority)}'`);
  if (transportIsFile && rest === '') rest = '/';
  return {
    scheme,
    ...(authority && { authority }),
    path: rest.split('/').map(percentDecode),
    query: rawQuery === undefined ? new Map<string, string>() : decodeQuery(rawQuery, lenient),
    fragment,
  };
}

export function authorityToString(a: Authority): string {
  let s = '';
  if (a.user !== undefined) {
    s += percentEncode(a.user);
    if (a.password !== undefined) s += ':' + percentEncode(a.password);
    s += '@';
  }
  s += a.ipLiteral ? `[${a.host}]` : percentEncode(a.host);
  if (a.port !== undefined) s += `:${a.port}`;
  return s;
}

/** `ParsedURL::to_string`. */
export function urlToString(url: ParsedURL): string {
  let s = url.scheme + ':';
  if (url.authority) s += '//' + authorityToString(url.authority);
  s += url.path.map((seg) => percentEncode(seg, ':@')).join('/');
  if (url.query.size > 0) s += '?' + encodeQuery(url.query);
  if (url.fragment !== '') s += '#' + percentEncode(url.fragment);
  return s;
}

/** `pathToUrlPath` for POSIX paths (std::filesystem iteration: empty components vanish, a trailing `/` adds two). */
export function pathToUrlPath(path: string): string[] {
  const out: string[] = path.startsWith('/') ? [''] : [];
  const parts = path.split('/').filter((p) => p !== '');
  out.push(...parts);
  if (path.endsWith('/') && parts.length > 0) out.push('');
  if (path === '' || path.endsWith('/')) out.push('');
  return out;
}

/** `urlPathToPath`: joins segments as std::filesystem's `/=` does. */
export function urlPathToPath(segments: readonly string[]): string {
  let result = '';
  for (const [i, seg] of segments.entries()) {
    if (seg.includes('/'))
      throw new BadURLError(`URL path component '${seg}' contains '/', which is not allowed in file names`);
    if (seg.includes('\0'))
      throw new BadURLError(`URL path component '${seg.replaceAll('\0', '␀')}' contains NUL byte which is not allowed`);
    if (i === 0 && seg === '') result = '/';
    else result += (result !== '' && !result.endsWith('/') ? '/' : '') + seg;
  }
  return result;
}
