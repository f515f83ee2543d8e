import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedRegistries } from '../../registries/index.js';
import { checkCheckout, checkEmbedded } from '../../scripts/check-registries.js';
import { devTrustedKeys, devVar, setDevVar } from '../../scripts/dev-vars.js';
import { TEST_SECRET } from './cli/helpers.js';

describe('the embedded-registry check run before every start and deploy', () => {
  it('passes the registries this repository ships', () => {
    expect(checkEmbedded(embeddedRegistries)).toEqual([]);
  });

  it("refuses a file Nix would read only in part, naming the entry and Nix's reason", () => {
    const file = {
      version: 2,
      flakes: [
        { from: { type: 'indirect', id: 'ok' }, to: { type: 'github', owner: 'o', repo: 'ok' } },
        { from: { type: 'indirect', id: 'bad' }, to: { type: 'github', owner: 'o', repo: 'bad' }, exact: 'yes' },
      ],
    };
    const [problem, ...rest] = checkEmbedded([
      { name: 'team', file, policy: embeddedRegistries[0]?.policy, created: '2026-01-01T00:00:00Z' },
    ]);
    expect(rest).toEqual([]);
    expect(problem).toContain('registries/team.json cannot be published');
    expect(problem).toContain("from 'flake:bad'");
    expect(problem).toContain('type must be boolean');
  });

  it('refuses a policy that lists one key twice, naming the file', () => {
    const file = { version: 2, flakes: [] };
    const key = 'k1:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
    const policy = { keys: [key, key.replace('k1', 'k2')], threshold: 1 };
    const [problem] = checkEmbedded([{ name: 'team', file, policy, created: '2026-01-01T00:00:00Z' }]);
    expect(problem).toContain('registries/team.policy.json cannot be published');
    expect(problem).toContain('the same key');
  });
});

describe('keys trusted for local development, checked before a start', () => {
  it('reads DEV_TRUSTED_KEYS from .dev.vars, quoted or not', () => {
    expect(devTrustedKeys('A=1\nDEV_TRUSTED_KEYS="a:x b:y"\n')).toEqual(['a:x', 'b:y']);
    expect(devTrustedKeys("DEV_TRUSTED_KEYS='a:x'")).toEqual(['a:x']);
    expect(devTrustedKeys('OTHER=1')).toEqual([]);
    expect(devTrustedKeys('DEV_TRUSTED_KEYS="a:x"\r\nOTHER=1\r\n')).toEqual(['a:x']);
    expect(devTrustedKeys('DEV_TRUSTED_KEYS="a:x" # alice')).toEqual(['a:x']);
    expect(devTrustedKeys('DEV_TRUSTED_KEYS=a:x # alice')).toEqual(['a:x']);
    expect(() => devTrustedKeys('DEV_TRUSTED_KEYS="a:x\nb:y"')).toThrow(/one line/);
  });

  it('names .dev.vars when a key there is malformed, and accepts a key the policy already lists', () => {
    const [problem] = checkEmbedded(embeddedRegistries, ['bogus']);
    expect(problem).toContain('DEV_TRUSTED_KEYS in .dev.vars');
    const listed = (embeddedRegistries[0]?.policy as { keys: string[] }).keys[0] ?? '';
    expect(checkEmbedded(embeddedRegistries, [listed])).toEqual([]);
  });
});

describe('the log key in .dev.vars', () => {
  it('refuses a LOG_SIGNING_KEY that cannot sign notes, naming .dev.vars, and reads one set by trust-local', async () => {
    const root = mkdtempSync(join(tmpdir(), 'check-log-key-'));
    try {
      writeFileSync(join(root, '.dev.vars'), 'LOG_SIGNING_KEY="not a key"\n');
      expect(await checkCheckout(root)).toEqual([
        expect.stringMatching(/^LOG_SIGNING_KEY is not a secret key in Nix's format: .* \(in \.dev\.vars\)$/),
      ]);
      writeFileSync(join(root, '.dev.vars'), `OTHER=1\nLOG_SIGNING_KEY="${TEST_SECRET}"\n`);
      expect(await checkCheckout(root)).toEqual([]);
      expect(devVar(`LOG_SIGNING_KEY=a\nLOG_SIGNING_KEY='b' # later\n`, 'LOG_SIGNING_KEY')).toBe('b');
      expect(setDevVar('A=1\nLOG_SIGNING_KEY=a\nB=2\nLOG_SIGNING_KEY=b\n', 'LOG_SIGNING_KEY', 'c')).toBe(
        'A=1\nLOG_SIGNING_KEY="c"\nB=2\n',
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
