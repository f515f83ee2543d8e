// `npm run build:registries`: writes registries/index.ts, the list of registries the service
// starts with, from the files in registries/: every `NAME.json` with its `NAME.policy.json`.
// Run before every `wrangler dev` and `wrangler deploy` (wrangler.toml's [build]) and before
// `npm test`, so adding a registry is putting its two files in place; the file is rewritten only
// when it changes, and test/scripts/embed-registries.test.ts fails when the committed one is stale.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REGISTRY_NAME } from '../src/protocol/names.js';

export const REGISTRIES_DIR = join(import.meta.dirname, '..', 'registries');
export const INDEX_FILE = join(REGISTRIES_DIR, 'index.ts');

/** Listed first: the registry `/flake-registry.json` serves and `/resolve` searches by default. */
const DEFAULT_REGISTRY = 'global';

const POLICY = '.policy.json';

export class EmbedError extends Error {
  override readonly name = 'EmbedError';
}

/**
 * The names of the registries in `dir`, `global` first and the rest by name. Throws EmbedError,
 * naming the file, for a name that is not a registry name, a registry without its policy or a
 * policy without its registry, and a file that is not JSON.
 */
export function registryNames(dir: string): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const names = files.filter((f) => !f.endsWith(POLICY)).map((f) => f.slice(0, -'.json'.length));
  for (const file of files) {
    const name = file.endsWith(POLICY) ? file.slice(0, -POLICY.length) : file.slice(0, -'.json'.length);
    if (!REGISTRY_NAME.test(name)) {
      throw new EmbedError(
        `registries/${file}: '${name}' is not a registry name (lower-case letters, digits and '-', at most 63, not starting with '-')`,
      );
    }
    if (file.endsWith(POLICY) && !names.includes(name)) {
      throw new EmbedError(
        `registries/${file} has no registry: put the registry file beside it as registries/${name}.json`,
      );
    }
    try {
      JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      throw new EmbedError(`registries/${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const name of names) {
    if (!existsSync(join(dir, `${name}${POLICY}`))) {
      throw new EmbedError(
        `registries/${name}.json has no policy: put its trusted keys and threshold in registries/${name}${POLICY}`,
      );
    }
  }
  if (names.length === 0)
    throw new EmbedError('registries/ holds no registry: put NAME.json and NAME.policy.json there');
  return names.sort((a, b) => (a === DEFAULT_REGISTRY ? -1 : b === DEFAULT_REGISTRY ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** registries/index.ts as the files in `dir` make it today. */
export function indexText(dir = REGISTRIES_DIR): string {
  const names = registryNames(dir);
  const imports = names.flatMap((name, i) => [
    `import r${i} from './${name}.json';`,
    `import p${i} from './${name}${POLICY}';`,
  ]);
  const entries = names.map((name, i) => `  { name: '${name}', file: r${i}, policy: p${i}, created: GENESIS_TIME },`);
  return [
    '// Written by `npm run build:registries` (scripts/embed-registries.ts) from the files in this folder,',
    '// before every `wrangler dev`, `wrangler deploy` and `npm test`. Do not edit: add a registry by',
    '// putting NAME.json and NAME.policy.json here.',
    "import type { EmbeddedRegistry } from '../src/store/seed.js';",
    ...imports,
    '',
    '/**',
    " * The time every embedded registry's version 1 carries, on every deployment: seeding is",
    ' * deterministic, so the same files always make the same version 1, bytes and record.',
    ' */',
    "export const GENESIS_TIME = '2026-11-23T00:00:00Z';",
    '',
    '/**',
    ' * The registries the service starts with. On an empty store each becomes',
    ' * version 1 of the registry of that name, carrying `GENESIS_TIME` as its time and',
    ' * `policy` (the trusted maintainer keys and threshold, `NAME.policy.json`) as',
    ' * the policy every later change must satisfy.',
    ' */',
    'export const embeddedRegistries: readonly EmbeddedRegistry[] = [',
    ...entries,
    '];',
    '',
  ].join('\n');
}

// `tsx scripts/embed-registries.ts [DIR]`: DIR (default registries/) gets its index.ts.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2] ?? REGISTRIES_DIR;
  const index = join(dir, 'index.ts');
  let text: string;
  try {
    text = indexText(dir);
  } catch (error) {
    if (!(error instanceof EmbedError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  // Written only when it changes: `wrangler dev` rebuilds on a change of anything it bundles.
  if (!existsSync(index) || readFileSync(index, 'utf8') !== text) {
    writeFileSync(index, text);
    console.log(`wrote ${index}`);
  }
}
