import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
});
