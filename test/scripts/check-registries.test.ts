import { describe, expect, it } from 'vitest';
import { embeddedRegistries } from '../../registries/index.js';
import { checkEmbedded } from '../../scripts/check-registries.js';

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
