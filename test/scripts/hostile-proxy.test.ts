import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/dev-server.js';
import {
  BASE64_ALPHABET,
  flipByte,
  startHostileProxy,
  substituteChar,
  type HostileProxy,
} from '../support/hostile-proxy.js';

/**
 * The hostile proxy itself (test/support/hostile-proxy.ts), in front of a small server whose
 * answers change on request: what each rule does must reach the client byte for byte, or the
 * attacks the sync tests stage would prove nothing.
 */
describe('the hostile proxy', () => {
  let upstream: Server;
  let proxy: HostileProxy;
  let generation = 1;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      if (req.url === '/bump' && req.method === 'POST') {
        generation++;
        res.writeHead(204).end();
        return;
      }
      const body = Buffer.from(`generation ${generation} of ${req.url ?? ''}\n`);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-generation': String(generation) });
      res.end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    proxy = await startHostileProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });

  afterEach(() => {
    proxy.reset();
    proxy.clearLog();
  });

  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const get = (path: string) => fetch(`${proxy.origin}${path}`);
  const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

  it('forwards faithfully and records what the server said', async () => {
    const res = await get('/a?x=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-generation')).toBe(String(generation));
    const body = await bytes(res);
    expect(body.toString()).toBe(`generation ${generation} of /a?x=1\n`);
    expect(proxy.recorded('/a?x=1')?.body.equals(body)).toBe(true);
    expect(proxy.requests).toEqual(['GET /a?x=1']);
  });

  it('flips one byte, and only that byte, of the answers to one path', async () => {
    proxy.on('/file', { kind: 'mutate', mutate: (b) => flipByte(b, 3) });
    const honest = Buffer.from(`generation ${generation} of /file\n`);
    const served = await bytes(await get('/file'));
    expect(served.length).toBe(honest.length);
    const differing = [...served].flatMap((b, i) => (b === honest[i] ? [] : [i]));
    expect(differing).toEqual([3]);
    expect(served[3]).toBe((honest[3] ?? 0) ^ 1);
    // What it recorded is the server's own answer; other paths pass untouched.
    expect(proxy.recorded('/file')?.body.equals(honest)).toBe(true);
    expect((await bytes(await get('/other'))).toString()).toBe(`generation ${generation} of /other\n`);
  });

  it('replaces bodies by pattern, the latest rule winning, and a rule can be taken back', async () => {
    proxy.on(/^\/r\//, { kind: 'replace', body: 'first' });
    const remove = proxy.on('/r/2', { kind: 'replace', body: 'second', status: 201 });
    expect(await (await get('/r/1')).text()).toBe('first');
    const two = await get('/r/2');
    expect([two.status, await two.text()]).toEqual([201, 'second']);
    remove();
    expect(await (await get('/r/2')).text()).toBe('first');
  });

  it('replays what the server said before it changed', async () => {
    const before = await bytes(await get('/head'));
    const then = proxy.snapshot();
    await fetch(`${proxy.origin}/bump`, { method: 'POST' });
    const now = await bytes(await get('/head'));
    expect(now.equals(before)).toBe(false);
    const stop = proxy.replay(then);
    const replayed = await get('/head');
    expect(replayed.headers.get('x-generation')).toBe(String(generation - 1));
    expect((await bytes(replayed)).equals(before)).toBe(true);
    // A path the snapshot does not hold is forwarded.
    expect((await bytes(await get('/new'))).toString()).toBe(`generation ${generation} of /new\n`);
    stop();
    expect((await bytes(await get('/head'))).equals(now)).toBe(true);
  });

  it('answers 500, delays, and drops the connection in the middle of a body', async () => {
    proxy.on('/fail', { kind: 'status', status: 500 });
    expect((await get('/fail')).status).toBe(500);

    proxy.on('/slow', { kind: 'delay', ms: 300 });
    const start = Date.now();
    expect((await get('/slow')).status).toBe(200);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);

    proxy.on('/cut', { kind: 'drop' });
    const cut = await get('/cut');
    expect(cut.status).toBe(200);
    await expect(cut.arrayBuffer()).rejects.toThrow();
  });

  it('answers 502 when the server behind it is gone', async () => {
    const address = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    proxy.retarget(`http://127.0.0.1:${await freePort()}`);
    try {
      const res = await get('/gone');
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/^bad gateway: /);
    } finally {
      proxy.retarget(address);
    }
    expect((await get('/back')).status).toBe(200);
  });

  it('changes a character of text for another of its alphabet, so the text still parses', () => {
    expect(substituteChar('abc=', 1, BASE64_ALPHABET)).toBe('acc=');
    expect(substituteChar('x/y', 1, BASE64_ALPHABET)).toBe('xAy');
    expect(substituteChar('size 9', 5, '0123456789')).toBe('size 0');
    expect(() => substituteChar('a=b', 1, BASE64_ALPHABET)).toThrow(RangeError);
    expect(() => flipByte(Buffer.from('ab'), 2)).toThrow(RangeError);
    expect(flipByte(Buffer.from('ab'), -1).toString()).toBe('ac');
  });
});
