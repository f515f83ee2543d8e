import { describe, expect, it } from 'vitest';
import { NixError } from '../../src/nix/errors.js';
import {
  BadURLError,
  decodeQuery,
  encodeQuery,
  parseURL,
  parseUrlScheme,
  pathToUrlPath,
  percentDecode,
  percentEncode,
  urlPathToPath,
  urlToString,
} from '../../src/nix/url.js';

describe('percentEncode', () => {
  it.each([
    ['plain-text_1.2~', '', 'plain-text_1.2~'],
    ['a b', '', 'a%20b'],
    ['a/b?c', ':@/?', 'a/b?c'],
    ['a/b', '', 'a%2Fb'],
    ['x+y=z&w', ':@/?', 'x%2By%3Dz%26w'],
    ['ü', '', '%C3%BC'],
    ['#', '', '%23'],
    ['\n', '', '%0A'],
  ])('encodes %j (keeping %j) as %j, uppercase hex', (s, keep, out) => {
    expect(percentEncode(s, keep)).toBe(out);
  });
});

describe('percentDecode', () => {
  it.each([
    ['a%20b', 'a b'],
    ['%2f%2F', '//'],
    ['%C3%BC', 'ü'],
    ['no-escapes', 'no-escapes'],
    ['+', '+'],
  ])('decodes %j as %j', (s, out) => {
    expect(percentDecode(s)).toBe(out);
  });
  it.each(['%', '%z', '%zz', 'abc%4', '%FF', '%C3'])('refuses %j with a BadURL error', (s) => {
    expect(() => percentDecode(s)).toThrow(BadURLError);
  });
});

describe('query strings', () => {
  it('drops pairs without = and keeps the first of duplicate keys', () => {
    expect([...decodeQuery('a=1&flag&a=2&b=&&c=x=y', false)]).toEqual([
      ['a', '1'],
      ['b', ''],
      ['c', 'x=y'],
    ]);
  });
  it("iterates in key order (decoded keys, UTF-8 byte order), as Nix's std::map does", () => {
    expect([...decodeQuery('zzz=1&revCount=abc&Zzz=2&%61=3&zzz=4&%F0%9F%98%80=5&%EF%BF%BD=6', false)]).toEqual([
      ['Zzz', '2'],
      ['a', '3'],
      ['revCount', 'abc'],
      ['zzz', '1'],
      ['\uFFFD', '6'],
      ['\u{1F600}', '5'],
    ]);
  });
  it('decodes keys as well as values', () => {
    expect([...decodeQuery('k%65y=v%20w', false)]).toEqual([['key', 'v w']]);
  });
  it('allows raw spaces and quotes only when lenient', () => {
    expect([...decodeQuery('a=b c"', true)]).toEqual([['a', 'b c"']]);
    expect(() => decodeQuery('a=b c', false)).toThrow(BadURLError);
  });
  it.each(['a=[x]', 'a=b|c', 'a=%zz', 'a=\u0001'])('refuses characters outside RFC 3986: %j', (q) => {
    expect(() => decodeQuery(q, true)).toThrow(NixError);
  });
  it('prints keys sorted with current escaping', () => {
    const q = new Map([
      ['z', 'a/b:c@d?e'],
      ['a', "x y+!$'()*,;="],
    ]);
    expect(encodeQuery(q)).toBe('a=x%20y%2B%21%24%27%28%29%2A%2C%3B%3D&z=a/b:c@d?e');
  });
  it('prints keys in UTF-8 byte order', () => {
    const q = new Map([
      ['\u{1F600}', '1'],
      ['\uFFFD', '2'],
      ['B', '3'],
    ]);
    expect(encodeQuery(q)).toBe('B=3&%EF%BF%BD=2&%F0%9F%98%80=1');
  });
});

describe('parseURL and urlToString', () => {
  it.each([
    ['https://example.org/a/b', 'https://example.org/a/b'],
    ['https://example.org', 'https://example.org'],
    ['https://example.org/', 'https://example.org/'],
    ['https://user:pw@example.org:8080/x?b=2&a=1', 'https://user:pw@example.org:8080/x?a=1&b=2'],
    ['https://example.org:/x', 'https://example.org/x'],
    ['https://[::1]:443/x', 'https://[::1]:443/x'],
    ['file:///tmp/x', 'file:///tmp/x'],
    ['file://', 'file:///'],
    ['file:/tmp/x', 'file:/tmp/x'],
    ['github:NixOS/nixpkgs', 'github:NixOS/nixpkgs'],
    ['ssh://git@github.com/o/r', 'ssh://git@github.com/o/r'],
    ['http://h/a%2Fb/c+d', 'http://h/a%2Fb/c%2Bd'],
    ['http://h/p?q=a%2fb', 'http://h/p?q=a/b'],
    ['http://EXAMPLE.org/%7e', 'http://EXAMPLE.org/~'],
    ['http://h/p#frag%20x', 'http://h/p#frag%20x'],
  ])('parses %j and prints %j', (text, out) => {
    expect(urlToString(parseURL(text, true))).toBe(out);
  });

  it('splits and decodes path segments, keeps empty ones', () => {
    const u = parseURL('github://////owner%42//repo', true);
    expect(u.scheme).toBe('github');
    expect(u.authority).toEqual({ host: '' });
    expect(u.path).toEqual(['', '', '', '', 'ownerB', '', 'repo']);
  });

  it('decodes user, password, host and port', () => {
    const u = parseURL('https://a%40b:p%3Aw@ex%41mple.org:99/', false);
    expect(u.authority).toEqual({ host: 'exAmple.org', user: 'a@b', password: 'p:w', port: 99 });
  });

  it('applies the lenient fix-ups to query and fragment only', () => {
    expect(parseURL('github:a/b?ref=x y#"q"^', true).query.get('ref')).toBe('x y');
    expect(parseURL('github:a/b#"q" ^', true).fragment).toBe('"q" ^');
    expect(() => parseURL('github:a/b c', true)).toThrow(BadURLError);
    expect(() => parseURL('github:a/b?ref=x y', false)).toThrow(BadURLError);
  });

  it.each([
    ['no-scheme/path', "doesn't have a scheme"],
    ['1abc:foo', "doesn't have a scheme"],
    ['https://host:99999/', "port '99999' is invalid"],
    ['https://host:0/', "port '0' is invalid"],
    ['file://host/x', "file:// URL 'file://host/x' has unexpected authority 'host'"],
    ['git+file://host/x', 'has unexpected authority'],
    ['http://h/%zz', 'not a valid URL'],
    ['http://h/a{b}', 'not a valid URL'],
    ['http://a b/', 'not a valid URL'],
    ['http://h/p#a#b', 'not a valid URL'],
    ['http://h\u0000/', 'not a valid URL'],
  ])('refuses %j', (text, message) => {
    expect(() => parseURL(text, true)).toThrow(message);
  });

  it('splits application and transport schemes', () => {
    expect(parseUrlScheme('tarball+https')).toEqual({ application: 'tarball', transport: 'https' });
    expect(parseUrlScheme('https')).toEqual({ transport: 'https' });
  });
});

describe('file system paths in URLs', () => {
  it.each([
    ['/foo/bar', ['', 'foo', 'bar']],
    ['/', ['', '']],
    ['/foo/', ['', 'foo', '', '']],
    ['//foo//bar', ['', 'foo', 'bar']],
    ['rel/x', ['rel', 'x']],
  ])('pathToUrlPath(%j) = %j', (p, segs) => {
    expect(pathToUrlPath(p)).toEqual(segs);
  });
  it.each([
    [['', 'foo', 'bar'], '/foo/bar'],
    [['', ''], '/'],
    [['', 'foo', '', ''], '/foo/'],
    [['rel'], 'rel'],
  ])('urlPathToPath(%j) = %j', (segs, p) => {
    expect(urlPathToPath(segs)).toBe(p);
  });
  it('refuses segments with / or NUL', () => {
    expect(() => urlPathToPath(['', 'a/b'])).toThrow("contains '/'");
    expect(() => urlPathToPath(['', 'a\0'])).toThrow('NUL byte');
  });
});
