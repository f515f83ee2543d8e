import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegistry, writeRegistry } from '../../src/nix/registry.js';
import { startDevServer, type DevServer } from '../../scripts/dev-server.js';

const root = join(import.meta.dirname, '..', '..');

// The README's first set-up command, as a new user runs it: `npm start`, here with
// `-- --port N` on a free port and fresh local state.
describe('npm start', () => {
  let state: string;
  let server: DevServer;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'flake-registry-start-'));
    server = await startDevServer({ root, persistTo: state, command: ['npm', 'start', '--'] });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it('serves registries/global.json as the latest global registry, in canonical form', async () => {
    const res = await fetch(`${server.origin}/flake-registry.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Registry-Version')).toBe('1');
    const embedded = readFileSync(join(root, 'registries', 'global.json'), 'utf8');
    expect(await res.text()).toBe(writeRegistry(readRegistry(embedded)));
  });

  it('revalidates with a 304 and resolves refs against it', async () => {
    const first = await fetch(`${server.origin}/flake-registry.json`);
    await first.arrayBuffer();
    const etag = first.headers.get('ETag') ?? '';
    const again = await fetch(`${server.origin}/flake-registry.json`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    const resolved = await fetch(`${server.origin}/resolve?ref=nixpkgs/master`);
    expect(await resolved.json()).toMatchObject({ resolved: { url: 'github:NixOS/nixpkgs/master' } });
  });

  it('starts quietly: one line saying where it listens, no banner, stack trace or request lines', async () => {
    await (await fetch(`${server.origin}/resolve?ref=nixpkgs&registry=global@1,nope`)).arrayBuffer();
    await (await fetch(`${server.origin}/flake-registry.json`)).arrayBuffer();
    // npm start prints its line once its own check of /healthz passes, which may come a
    // moment after the launcher's.
    const line = `serving the embedded registries on ${server.origin}`;
    for (let i = 0; i < 40 && !server.log().includes(line); i++) await sleep(250);
    const log = server.log();
    expect(log, log).toContain(line);
    expect(log, log).not.toMatch(/^\s+at /m);
    expect(log, log).not.toMatch(/update available|wrangler \d|Request\.cf|ENOTFOUND/);
    expect(log, log).not.toMatch(/GET \/(resolve|flake-registry)/);
  });

  it('stays quiet when a client goes away in the middle of a body', async () => {
    const port = Number(new URL(server.origin).port);
    for (const path of ['/registries/global/proposals', '/healthz']) {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"proposal":`,
      );
      await sleep(300);
      socket.destroy();
    }
    await sleep(1_000);
    // The server still answers, and said nothing about it.
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    const log = server.log();
    expect(log, log).not.toMatch(/Network connection lost|Failed to drain|^\s+at /m);
  });

  it('stays quiet when a client goes away in the middle of an answer', async () => {
    const port = Number(new URL(server.origin).port);
    // Answers larger than a socket's buffers, so the runtime is still writing when the client leaves.
    for (let i = 0; i < 10; i++) {
      for (const path of ['/openapi.json', '/r/global', '/flake-registry.json']) {
        const socket = connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        const first = new Promise((resolve) => socket.once('data', resolve));
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        await Promise.race([first, sleep(5_000)]);
        socket.resetAndDestroy();
      }
    }
    await sleep(1_000);
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    const log = server.log();
    expect(log, log).not.toMatch(/Broken pipe|Connection reset|disconnected|stack: |^\s+at /m);
  });

  it.each([1_048_577, 2_000_000, 99_999_999_999])(
    'answers a body declared too large (%i bytes) within a second, without waiting for it',
    async (length) => {
      const port = Number(new URL(server.origin).port);
      const socket = connect(port, '127.0.0.1');
      const started = Date.now();
      const answer = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
      socket.write(
        `POST /registries/global/proposals HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      );
      const head = await Promise.race([answer, sleep(8_000).then(() => 'no answer')]);
      socket.destroy();
      expect(head).toMatch(/^HTTP\/1\.1 413 /);
      expect(Date.now() - started).toBeLessThan(8_000);
    },
  );

  it('stays quiet on a Content-Length the runtime refuses', async () => {
    const port = Number(new URL(server.origin).port);
    for (const header of ['Content-Length: 10\r\nContent-Length: 20', 'Content-Length: -1']) {
      const socket = connect(port, '127.0.0.1');
      const answer = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
      socket.write(`POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${header}\r\n\r\n`);
      expect(await Promise.race([answer, sleep(5_000).then(() => 'no answer')])).toMatch(/^HTTP\/1\.1 [45]\d\d /);
      socket.destroy();
    }
    await sleep(500);
    const log = server.log();
    expect(log, log).not.toMatch(/invalid Content-Length|stack: /);
  });

  it('stays quiet on a chunked body whose chunk size the runtime refuses', async () => {
    const port = Number(new URL(server.origin).port);
    const socket = connect(port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
    socket.write(
      'POST /audit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    );
    // The local runtime's own answer (README, "npm start"); Cloudflare's edge refuses such a body itself.
    expect(await Promise.race([answer, sleep(5_000).then(() => 'no answer')])).toMatch(/^HTTP\/1\.1 [45]\d\d /);
    socket.destroy();
    await sleep(500);
    const log = server.log();
    expect(log, log).not.toMatch(/invalid HTTP chunk size|stack: /);
  });

  it('keeps a connection usable after a request whose body no route read', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const request = (method: string, path: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: new URL(server.origin).port,
            method,
            path,
            agent,
            headers: body ? { 'Content-Type': 'application/json' } : {},
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await request('POST', '/healthz', 'x'.repeat(200_000))).toBe(405);
      expect(await request('GET', '/healthz')).toBe(200);
      expect(await request('POST', '/registries/nope/proposals', '{}')).toBe(404);
      expect(await request('GET', '/healthz')).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
