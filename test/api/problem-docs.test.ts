import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_KINDS, PROBLEMS } from '../../src/api/problems.js';

/** The README's error table, as a client reads it before it meets a refusal: kind → status and when. */
function readmeProblems(): Map<string, { status: number; when: string }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('### Errors')[1]?.split(/\n#{2,3} /)[0] ?? '';
  const rows = new Map<string, { status: number; when: string }>();
  for (const m of section.matchAll(/^\| `urn:flake-registry:problem:([a-z-]+)` +\| (\d{3}) +\| (.+?) +\|$/gm)) {
    rows.set(m[1] ?? '', { status: Number(m[2]), when: m[3] ?? '' });
  }
  return rows;
}

describe("the README's error table", () => {
  const rows = readmeProblems();

  it('gives each kind it lists the status the service answers with', () => {
    expect(rows.size).toBeGreaterThan(10);
    for (const kind of PROBLEM_KINDS) {
      const row = rows.get(kind);
      if (row) expect(row.status, kind).toBe(PROBLEMS[kind].status);
    }
  });

  it('says that one signature by a key no policy lists refuses the request, whatever else signed it', () => {
    // attributeSignatures: one signature that does not count refuses the lot (docs/protocol.md).
    const when = rows.get('untrusted-key')?.when ?? '';
    expect(when).toMatch(/^a signature by a key neither policy lists \(refusing the whole request\)/);
    expect(when).toMatch(/or none by the policy in force$/);
  });
});
