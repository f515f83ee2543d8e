import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedRegistry } from '../../src/store/seed.js';
import { checkEmbedded } from '../../scripts/check-registries.js';
import { EmbedError, INDEX_FILE, indexText, REGISTRIES_DIR, registryNames } from '../../scripts/embed-registries.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'embed-registries.ts');

describe('the list of embedded registries (registries/index.ts)', () => {
  it('is what the files in registries/ make today (npm run build:registries writes it)', () => {
    expect(readFileSync(INDEX_FILE, 'utf8'), 'registries/index.ts is stale: run npm run build:registries').toBe(
      indexText(),
    );
  });

  describe('made from a folder', () => {
    let dir: string;
    const put = (file: string, text: string): void => writeFileSync(join(dir, file), text);

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'embed-registries-'));
      for (const file of ['global.json', 'global.policy.json'])
        copyFileSync(join(REGISTRIES_DIR, file), join(dir, file));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('takes every NAME.json with its NAME.policy.json, global first and the rest by name', () => {
      for (const name of ['team-b', 'company', 'team-a']) {
        copyFileSync(join(REGISTRIES_DIR, 'global.json'), join(dir, `${name}.json`));
        copyFileSync(join(REGISTRIES_DIR, 'global.policy.json'), join(dir, `${name}.policy.json`));
      }
      put('README.md', 'not a registry\n');
      expect(registryNames(dir)).toEqual(['global', 'company', 'team-a', 'team-b']);
      const text = indexText(dir);
      expect(text).toContain("import r3 from './team-b.json';");
      expect(text).toContain("import p3 from './team-b.policy.json';");
      expect(text).toContain("{ name: 'team-b', file: r3, policy: p3, created: GENESIS_TIME },");
    });

    it.each([
      ['a registry without its policy', ['extra.json', '{}'], 'registries/extra.json has no policy'],
      ['a policy without its registry', ['lone.policy.json', '{}'], 'registries/lone.policy.json has no registry'],
      [
        'a name that is not a registry name',
        ['Team.json', '{}'],
        "registries/Team.json: 'Team' is not a registry name",
      ],
      ['a file that is not JSON', ['global.json', '{"version": 2,'], 'registries/global.json is not JSON'],
    ])('refuses %s, naming the file', (_, [file, text], message) => {
      put(file as string, text as string);
      expect(() => registryNames(dir)).toThrow(EmbedError);
      expect(() => registryNames(dir)).toThrow(message);
    });

    it('refuses a folder with no registry', () => {
      rmSync(join(dir, 'global.json'));
      rmSync(join(dir, 'global.policy.json'));
      expect(() => registryNames(dir)).toThrow('registries/ holds no registry');
    });

    it('the build step writes DIR/index.ts, and refuses a bad folder with one line and exit 1, leaving it as it was', async () => {
      const run = (): { status: number; stdout: string; stderr: string } => {
        try {
          const stdout = execFileSync(process.execPath, ['--import', 'tsx', SCRIPT, dir], {
            stdio: 'pipe',
            encoding: 'utf8',
          });
          return { status: 0, stdout, stderr: '' };
        } catch (error) {
          return error as { status: number; stdout: string; stderr: string };
        }
      };
      expect(run()).toMatchObject({ status: 0, stdout: `wrote ${join(dir, 'index.ts')}\n` });
      const made = readFileSync(join(dir, 'index.ts'), 'utf8');
      expect(made).toBe(indexText(dir));
      // The module it wrote is the list the Worker starts with.
      const { embeddedRegistries } = (await import(join(dir, 'index.ts'))) as {
        embeddedRegistries: readonly EmbeddedRegistry[];
      };
      expect(embeddedRegistries.map((r) => r.name)).toEqual(['global']);
      expect(embeddedRegistries[0]?.file).toEqual(
        JSON.parse(readFileSync(join(REGISTRIES_DIR, 'global.json'), 'utf8')),
      );
      expect(checkEmbedded(embeddedRegistries)).toEqual([]);
      // Unchanged files: nothing written, nothing said.
      expect(run()).toMatchObject({ status: 0, stdout: '' });
      put('stray.policy.json', '{}');
      expect(run()).toMatchObject({
        status: 1,
        stderr:
          'registries/stray.policy.json has no registry: put the registry file beside it as registries/stray.json\n',
      });
      expect(readFileSync(join(dir, 'index.ts'), 'utf8')).toBe(made);
    });
  });
});
