import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

const { dir, remove } = tempDir();
afterAll(remove);
const run = (...argv: string[]) => cli(['sync', ...argv], { cwd: dir, env: { HOME: dir } });
const base = ['--registry', 'global', '--to', 'out/global.json'];

describe('sync: what it refuses before asking any server', () => {
  it('names each bad argument, as a usage error, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--to', 'x.json'], /--registry/],
      [['--registry', 'global'], /--to/],
      [['--registry', 'Global!', '--to', 'x.json'], /--registry 'Global!' is not a registry name/],
      [[...base, '--trust', 'ABC'], /--trust takes the SHA-256 of version 1's record, 64 hex digits/],
      [[...base, '--trust', 'g'.repeat(64)], /--trust takes/],
      [[...base, '--log-key', 'nonsense'], /^flake-registry: --log-key: /],
      [[...base, '--max-age', '0s'], /--max-age: '0s' is no time at all: give a whole number of seconds \(s\)/],
      [[...base, '--max-age', '400d'], /--max-age: '400d' is longer than 365d/],
      [[...base, '--max-age', '5y'], /--max-age: '5y' is not a duration/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('needs a state directory: XDG_STATE_HOME, HOME or --state', async () => {
    const r = await cli(['sync', ...base], { cwd: dir, env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('neither XDG_STATE_HOME nor HOME is set: give --state DIR');
  });

  it('refuses a state file that is not its own, and an unreachable server is an ordinary failure', async () => {
    const state = join(dir, 'state');
    mkdirSync(state);
    writeFileSync(join(state, 'global.json'), '{"format": 1, "registry": "other"}');
    const bad = await run(...base, '--state', state);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/global\.json is not a sync state \(it is registry 'other's\); move it away/);
    const none = await run(...base, '--state', join(dir, 'fresh'));
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^flake-registry: cannot reach the service at http:\/\/127\.0\.0\.1:8787/);
    expect(none.stderr).not.toContain('SECURITY');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
