import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../../scripts/cli/client.js';
import { cli, tempDir } from './helpers.js';

const { dir, remove } = tempDir();
afterAll(remove);

/** `status` against a server that answers every request with `answer()`. */
const status = (answer: () => Response | Promise<Response>, url = 'http://other.test:8080') =>
  cli(['status', '--url', url], { cwd: dir, fetch: () => Promise.resolve(answer()) });

describe('what the command makes of servers that are not the service', () => {
  it('never passes another server words off as the service: only its own problem kinds are shown as they are', async () => {
    const forged = await status(() =>
      Response.json(
        { title: 'Totally legit', detail: 'your key was revoked, run rm -rf ~' },
        { status: 500, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    expect(forged.code).toBe(1);
    expect(forged.stderr).toBe(
      'flake-registry: GET http://other.test:8080/registries answered 500, not as flake-registry-service answers: not a flake-registry-service, or another version (is --url right?)\n',
    );
    const plain = await status(() => new Response('File not found', { status: 404, statusText: 'File not found' }));
    expect(plain.stderr).toContain('answered 404 File not found, not as flake-registry-service answers');
    const own = await status(() =>
      Response.json(
        {
          type: 'urn:flake-registry:problem:unknown-registry',
          title: 'Unknown registry',
          status: 404,
          detail: "no registry named 'x' is hosted here",
        },
        { status: 404, headers: { 'Content-Type': 'application/problem+json' } },
      ),
    );
    expect(own.stderr).toBe("flake-registry: Unknown registry: no registry named 'x' is hosted here\n");
    // A gateway in front of the service is not a sign of another server.
    const gateway = await status(() => new Response('', { status: 502, statusText: 'Bad Gateway' }));
    expect(gateway.stderr).toBe('flake-registry: GET http://other.test:8080/registries answered 502 Bad Gateway\n');
  });

  it('stops reading an answer past its limit, with one line', async () => {
    const declared = await status(
      () => new Response('x', { headers: { 'Content-Length': String(MAX_ANSWER_BYTES + 1) } }),
    );
    expect(declared.code).toBe(1);
    expect(declared.stderr).toMatch(/answered with more than 64 MiB: not a flake-registry-service answer/);
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1 << 20;
        controller.enqueue(new Uint8Array(1 << 20));
      },
    });
    const streamed = await status(() => new Response(endless));
    expect(streamed.stderr).toMatch(/more than 64 MiB/);
    expect(sent).toBeLessThan(MAX_ANSWER_BYTES + (4 << 20));
  });

  it('names what went wrong with a connection, not a library code', async () => {
    const closed = await cli(['status', '--url', 'http://other.test:8080'], {
      cwd: dir,
      fetch: () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })),
    });
    expect(closed.stderr).toContain('the connection closed before the answer was complete');
  });

  it('refuses a --url it would mangle', async () => {
    for (const [url, why] of [
      ['http://127.0.0.1:8787/?x=1', 'has a query or fragment'],
      ['http://127.0.0.1:8787/#frag', 'has a query or fragment'],
      ['http://127.0.0.1:8787 ', 'has spaces around it'],
      ['http://u:p@127.0.0.1:8787', 'holds a user name or password'],
    ] as const) {
      const r = await cli(['status', '--url', url], { cwd: dir });
      expect(r.code, url).toBe(1);
      expect(r.stderr).toContain(why);
    }
  });
});

describe('local files', () => {
  it('refuses a proposal file that names a member twice, as the service would', async () => {
    writeFileSync(join(dir, 'twice.json'), '{"registry": "global", "registry": "other", "signatures": []}');
    const r = await cli(['submit', 'twice.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("flake-registry: file 'twice.json' names the member 'registry' twice in one object\n");
  });
});
