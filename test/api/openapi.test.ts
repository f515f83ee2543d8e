import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../src/api/examples.js';
import { OPERATIONS } from '../../src/api/routes.js';
import { OPENAPI_FILE, openApiText } from '../../scripts/build-openapi.js';

const root = join(import.meta.dirname, '..', '..');

describe('the OpenAPI document', () => {
  it('is what the schemas make today (npm run build:openapi writes it)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8'), 'src/api/openapi.json is stale: run npm run build:openapi').toBe(
      openApiText(),
    );
  });

  it('passes @redocly/cli lint with no errors or warnings', () => {
    const run = spawnSync(join(root, 'node_modules', '.bin', 'redocly'), ['lint', OPENAPI_FILE, '--format=summary'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const out = `${run.stdout}${run.stderr}`;
    expect(run.status, out).toBe(0);
    expect(out).toContain('Your API description is valid');
    expect(out).not.toMatch(/^(error|warning) /m);
  }, 60_000);

  it('gives every operation a description and an example of its success', () => {
    for (const op of OPERATIONS) {
      expect(op.description.length, op.id).toBeGreaterThan(20);
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
      expect(success.length, op.id).toBeGreaterThan(0);
      for (const [status, answer] of success) {
        // A tile is bytes: its example is the tile's path, in the parameter's example.
        const example = answer.example ?? answer.other?.example ?? (answer.other?.binary ? op.params?.path : undefined);
        expect(example, `${op.id} ${status}`).toBeDefined();
      }
    }
  });

  it('has examples that are what the schemas describe', () => {
    for (const op of OPERATIONS) {
      for (const [status, answer] of Object.entries(op.responses)) {
        if (answer.json && answer.example !== undefined && op.id !== 'openapi') {
          const parsed = answer.json.safeParse(answer.example);
          expect(parsed.success, `${op.id} ${status}: ${JSON.stringify(parsed.error?.issues[0])}`).toBe(true);
        }
      }
      if (op.body) {
        const parsed = op.body.safeParse(op.bodyExample);
        expect(parsed.success, `${op.id} body: ${JSON.stringify(parsed.error?.issues[0])}`).toBe(true);
      }
    }
    expect(EXAMPLES.proposalView.id).toMatch(/^[0-9a-f]{64}$/);
  });
});
