import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../scripts/cli/duration.js';
import { COMMANDS } from '../../../scripts/cli/main.js';
import { cli, tempDir } from './helpers.js';

const { dir } = tempDir();
const run = (...argv: string[]) => cli(argv, { cwd: dir });

describe('command line parsing', () => {
  it('prints the command list for --help, and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.name);
  });

  it.each(COMMANDS.map((c) => [c.name]))('%s --help shows its usage, options and an example', async (name) => {
    const r = await run(...name.split(' '), '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`usage: flake-registry ${name}`);
    expect(r.stdout).toMatch(/examples?:\n {2}flake-registry /);
    expect(r.stderr).toBe('');
  });

  it('offers --json on every command that prints data, and --url on every command that talks to the service', () => {
    for (const c of COMMANDS) expect(c.json, c.name).toBe(true);
    const offline = COMMANDS.filter((c) => !c.server).map((c) => c.name);
    expect(offline.sort()).toEqual(['keygen', 'pubkey', 'sign', 'trust-local']);
  });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate' (see flake-registry --help)"],
    [['--url', 'x'], "give a command before options like '--url' (see flake-registry --help)"],
    [
      ['propose', 'rename'],
      "unknown propose command 'rename' (set, remove, move or policy) (see flake-registry propose --help)",
    ],
    [['keygen', '--nmae', 'x'], "unknown option '--nmae' (see flake-registry keygen --help)"],
    [['keygen', '--out', 'k.sec'], 'missing --name (see flake-registry keygen --help)'],
    [['upload'], 'missing FILE (see flake-registry upload --help)'],
    [['diff', '1'], 'missing versions A and B (see flake-registry diff --help)'],
    [['show', 'a', 'b'], "unexpected argument 'b' after ID (see flake-registry show --help)"],
    [
      ['history', '--limit', 'ten'],
      "--limit must be a whole number of at least 1, got 'ten' (see flake-registry history --help)",
    ],
    [['keygen', '--name'], "option '--name' needs a value (see flake-registry keygen --help)"],
  ])('%j is a usage error (exit 2, one line with a hint)', async (argv, line) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`flake-registry: ${line}\n`);
    expect(r.stdout).toBe('');
  });
});

describe('durations (--expires-in)', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['12h', 12 * 3_600_000],
    ['7d', 7 * 86_400_000],
    ['90d', 90 * 86_400_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['91d', '0d', '7', 'd', '1w', '-1h', '1.5h', '7 days', '1s', '-5m'])('refuses %s', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration|longer than 90d|no time/);
  });

  it('names what it takes when it refuses', () => {
    expect(() => parseDuration('1s')).toThrow(
      "'1s' is not a duration: give a whole number of minutes (m), hours (h), days (d) from 1m to 90d, like 30m, 12h, 7d",
    );
    expect(() => parseDuration('91d')).toThrow("'91d' is longer than 90d, the longest a proposal may stay open");
    expect(() => parseDuration('99999999999999999999d')).toThrow('longer than 90d');
  });

  it('tells a value that starts with a dash how to give it', async () => {
    const r = await cli(['propose', 'remove', 'x', '--registry', 'global', '--key', 'k.sec', '--expires-in', '-5m'], {
      cwd: tmpdir(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--expires-in' is followed by a value starting with '-'");
    expect(r.stderr).toContain('--expires-in=VALUE');
  });
});
