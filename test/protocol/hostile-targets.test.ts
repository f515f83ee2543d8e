import { describe, expect, it } from 'vitest';
import { lintRegistry } from '../../src/nix/lint.js';
import { readRegistry } from '../../src/nix/registry.js';
import { proposalSchema } from '../../src/protocol/proposal.js';
import { review } from '../../src/protocol/review.js';
import { hostileTargets } from '../support/hostile-targets.js';

const head = readRegistry(
  JSON.stringify({
    version: 2,
    flakes: [
      { from: { type: 'indirect', id: 'x' }, to: { type: 'github', owner: 'o', repo: 'x' } },
      { from: { type: 'indirect', id: 'chain' }, to: { type: 'indirect', id: 'x' } },
    ],
  }),
);
const reviewHead = { version: 1, registry: head, findings: lintRegistry(head) };

function proposalSetting(from: unknown, to: unknown): unknown {
  return {
    registry: 'global',
    base: 1,
    changes: [{ op: 'set', entry: { from, to } }],
    message: 'hostile target',
    created: '2026-01-01T00:00:00Z',
    expires: '2026-01-02T00:00:00Z',
  };
}

describe('a change with a hostile target', () => {
  const targets = hostileTargets();

  it('is generated for every input type', () => {
    const types = new Set(targets.map((t) => t.to['type']));
    expect([...types].sort()).toEqual([
      'file',
      'git',
      'github',
      'gitlab',
      'hg',
      'indirect',
      'path',
      'sourcehut',
      'tarball',
    ]);
  });

  const cases = targets.flatMap((t) => [
    [`to ${t.label}`, { type: 'indirect', id: 'x' }, t.to] as const,
    [`from ${t.label}`, t.to, { type: 'github', owner: 'o', repo: 'y' }] as const,
  ]);

  it.each(cases)(
    '%s: is refused by the proposal schema naming the change, or reviewed without the core throwing',
    (_, from, to) => {
      const parsed = proposalSchema.safeParse(proposalSetting(from, to));
      if (!parsed.success) {
        expect(parsed.error.issues[0]?.path.slice(0, 2)).toEqual(['changes', 0]);
        return;
      }
      const result = review(head, reviewHead, parsed.data);
      // Whatever the outcome, it is an answer: no exception escapes the review.
      expect(typeof result.ok).toBe('boolean');
    },
  );
});
