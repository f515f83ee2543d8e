import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

const { dir, remove } = tempDir();
afterAll(remove);

/** A service that answers one resolution and keeps the URLs it was asked. */
function service(): { asked: string[]; fetch: typeof fetch } {
  const asked: string[] = [];
  const answer = {
    ref: { url: 'flake:nixpkgs', attrs: { type: 'indirect', id: 'nixpkgs' } },
    resolved: { url: 'github:me/nixpkgs', attrs: { type: 'github', owner: 'me', repo: 'nixpkgs' } },
    steps: [
      {
        registry: '--override-flake',
        version: 0,
        index: 0,
        exact: false,
        from: 'flake:nixpkgs',
        to: 'github:me/nixpkgs',
      },
    ],
    registries: [{ name: 'global', version: 1 }],
    overrides: [{ original: 'nixpkgs', resolved: 'github:me/nixpkgs' }],
  };
  return {
    asked,
    fetch: (input) => {
      asked.push(input instanceof Request ? input.url : input.toString());
      return Promise.resolve(Response.json(answer));
    },
  };
}

describe('resolve --override-flake ORIGINAL RESOLVED', () => {
  it('sends each pair in order, as the two values of override-flake', async () => {
    const s = service();
    const r = await cli(
      [
        'resolve',
        'nixpkgs',
        '--override-flake',
        'nixpkgs',
        'github:me/nixpkgs',
        '--override-flake',
        'a&b',
        'git+https://x/y?ref=z',
      ],
      { cwd: dir, fetch: s.fetch },
    );
    expect(r).toEqual({ code: 0, stdout: 'github:me/nixpkgs\n', stderr: '' });
    expect(s.asked).toEqual([
      'http://127.0.0.1:8787/resolve?ref=nixpkgs&override-flake=nixpkgs&override-flake=github%3Ame%2Fnixpkgs&override-flake=a%26b&override-flake=git%2Bhttps%3A%2F%2Fx%2Fy%3Fref%3Dz',
    ]);
  });

  it('takes the two arguments after the flag whatever they look like, as Nix does', async () => {
    const s = service();
    const r = await cli(['resolve', '--override-flake', '--json', 'github:o/r', 'nixpkgs'], {
      cwd: dir,
      fetch: s.fetch,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(s.asked[0]).toContain('&override-flake=--json&override-flake=github%3Ao%2Fr');
    expect(r.stdout).toBe('github:me/nixpkgs\n');
  });

  it.each([
    [['resolve', 'nixpkgs', '--override-flake', 'nixpkgs']],
    [['resolve', 'nixpkgs', '--override-flake']],
    [['resolve', 'nixpkgs', '--override-flake=nixpkgs', 'github:o/r']],
  ])('%j is a usage error naming both values', async (argv) => {
    const s = service();
    const r = await cli(argv, { cwd: dir, fetch: s.fetch });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "flake-registry: option '--override-flake' takes two values: --override-flake ORIGINAL RESOLVED (see flake-registry resolve --help)\n",
    });
    expect(s.asked).toEqual([]);
  });

  it('--help shows the flag as Nix spells it', async () => {
    const r = await cli(['resolve', '--help'], { cwd: dir });
    expect(r.stdout).toContain('--override-flake ORIGINAL RESOLVED');
    expect(r.stdout).toContain('resolve ORIGINAL to RESOLVED first, as Nix does (repeatable)');
  });
});
