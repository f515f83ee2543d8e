// `npm run build:cli` (and `npm install`, `npm pack`, through `prepare`): the `flake-registry`
// command as one JavaScript file, dist/flake-registry.mjs, that runs on Node 20 with no
// node_modules beside it, so it can be copied alone to a machine that keeps keys offline.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

export const DEFAULT_OUTFILE = join(ROOT, 'dist', 'flake-registry.mjs');

/** The one file, and what it is made of. */
export interface CliBuild {
  readonly outfile: string;
  readonly bytes: number;
  /** Bytes of output from each source, largest first: a package by name, or a folder of this checkout. */
  readonly sources: readonly (readonly [string, number])[];
  /** The packages from node_modules in it, each with its version. */
  readonly packages: readonly BundledPackage[];
}

export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  readonly license: string;
}

/** Where a bundled module comes from: its package (the innermost node_modules), else its folder. */
export function sourceOf(input: string): { package: string } | { folder: string } {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0) {
    const scoped = parts[at + 1]?.startsWith('@') === true;
    return { package: parts.slice(at + 1, at + (scoped ? 3 : 2)).join('/') };
  }
  return { folder: parts.length > 2 ? parts.slice(0, 2).join('/') : parts[0] === '<stdin>' ? 'entry' : input };
}

/**
 * The license text of a package the file carries: MIT and its kin ask that the notice travel
 * with every copy, and the one file is a copy of zod and @noble/hashes.
 */
function licenseText(dir: string, name: string): string {
  for (const file of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8').trim();
    if (text.includes('*/')) throw new Error(`${relative(ROOT, path)} cannot be carried in a comment: it holds '*/'`);
    return text;
  }
  throw new Error(`${name} is bundled into the command but has no LICENSE file to carry with it`);
}

function contents(metafile: Metafile): { packages: BundledPackage[]; sources: [string, number][] } {
  const [output, ...more] = Object.values(metafile.outputs);
  if (!output || more.length > 0) throw new Error('esbuild should have made exactly one file');
  const bytes = new Map<string, number>();
  const dirs = new Map<string, string>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const from = sourceOf(input);
    const key = 'package' in from ? from.package : from.folder;
    bytes.set(key, (bytes.get(key) ?? 0) + bytesInOutput);
    if ('package' in from) {
      const end = input.lastIndexOf(`node_modules/${from.package}/`) + `node_modules/${from.package}`.length;
      dirs.set(from.package, join(ROOT, input.slice(0, end)));
    }
  }
  const packages = [...dirs]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, dir]) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      return { name, version: String(manifest.version), license: licenseText(dir, name) };
    });
  return { packages, sources: [...bytes].sort((a, b) => b[1] - a[1]) };
}

/** Builds the one file at `outfile`, executable, and says what went into it. */
export async function buildCli(outfile: string = DEFAULT_OUTFILE): Promise<CliBuild> {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const options = {
    stdin: {
      // The bundle's own URL tells it whether it sits in a checkout (standalone.ts).
      contents: "import { runStandalone } from './standalone.ts';\nawait runStandalone(import.meta.url);\n",
      resolveDir: join(ROOT, 'scripts', 'cli'),
      sourcefile: 'flake-registry.ts',
      loader: 'ts',
    },
    bundle: true,
    packages: 'bundle',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Not minified: 170 KB more, and a file whoever carries it to a key-holding machine can read.
    minify: false,
    // The whole license of each bundled package follows the code instead of its one-line notice.
    legalComments: 'none',
    metafile: true,
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'warning',
    outfile,
    banner: {
      js: `#!/usr/bin/env node\n// flake-registry ${version}: the admin command of flake-registry-service in one file (Node 20 or newer).`,
    },
  } as const;
  const result = await build(options);
  const [file] = result.outputFiles;
  if (!file) throw new Error('esbuild made no file');
  const { packages, sources } = contents(result.metafile);
  const notices = packages.map((p) => `/*\n${p.name} ${p.version}\n\n${p.license}\n*/\n`).join('');
  const text = `${file.text}\n// The packages bundled into this file, with their licenses.\n${notices}`;
  // Whole or not at all: a command run while this builds never reads half a file.
  mkdirSync(dirname(outfile), { recursive: true });
  const partial = `${outfile}.${process.pid}.partial`;
  writeFileSync(partial, text);
  chmodSync(partial, 0o755);
  renameSync(partial, outfile);
  return { outfile, bytes: Buffer.byteLength(text), sources, packages };
}

const kb = (n: number): string => `${Math.round(n / 1000)} KB`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const built = await buildCli();
  const parts = built.sources.filter(([, n]) => n >= 1000).map(([name, n]) => `${name} ${kb(n)}`);
  console.log(`${relative(ROOT, built.outfile)}: ${kb(built.bytes)} (${parts.join(', ')})`);
}
