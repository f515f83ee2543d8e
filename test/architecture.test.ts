import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The house's layers, kept by a test: every import (type-only ones included:
 * a vocabulary belongs on the lowest floor that uses it) runs down this table,
 * never up, and no module reaches itself through others.
 */

const root = join(import.meta.dirname, '..');

/** What each part of the source may import, besides itself. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'src/lru.ts': [],
  'src/crypto': ['src/lru.ts'],
  'src/nix': ['src/lru.ts'],
  'src/log': ['src/crypto', 'src/protocol/names.ts'],
  'src/protocol': ['src/nix', 'src/crypto', 'src/lru.ts'],
  'src/api': ['src/protocol', 'src/nix'],
  // What a service serves, fetched and checked: the history verifier and the log's client over the API.
  'src/served': ['src/api', 'src/log', 'src/protocol', 'src/nix', 'src/crypto', 'src/lru.ts'],
  'src/store': ['src/api', 'src/protocol', 'src/nix', 'src/crypto', 'src/lru.ts'],
  'src/writer': ['src/store', 'src/api', 'src/protocol', 'src/nix', 'src/crypto', 'src/log', 'src/lru.ts'],
  // The routes call the writer through its interface (src/writer/contract.ts) alone.
  'src/http': [
    'src/writer/contract.ts',
    'src/store',
    'src/api',
    'src/protocol',
    'src/nix',
    'src/crypto',
    'src/log',
    'src/lru.ts',
  ],
  // The app mounts the web pages (src/web) beside the routes.
  'src/http/app.ts': [
    'src/http',
    'src/web',
    'src/writer/contract.ts',
    'src/store',
    'src/api',
    'src/protocol',
    'src/nix',
    'src/crypto',
    'src/log',
    'src/lru.ts',
  ],
  // The web pages sit above the routes: they read what the routes read, through the same code.
  'src/web': [
    'src/http',
    'src/writer/contract.ts',
    'src/store',
    'src/api',
    'src/protocol',
    'src/nix',
    'src/crypto',
    'src/lru.ts',
  ],
  // The pages' script runs in browsers: it reuses the core, and the pages' own way of showing text.
  'src/web/client': ['src/web/marks.ts', 'src/served', 'src/protocol', 'src/nix', 'src/crypto', 'src/lru.ts'],
  'src/worker.ts': ['src/http', 'src/writer', 'src/store', 'src/protocol', 'src/nix', 'src/api'],
  'src/index.ts': ['src/worker.ts', 'registries'],
  // The command uses the pure core and the API's description, never the Worker's insides.
  'scripts/cli': [
    'src/served',
    'src/api',
    'src/protocol',
    'src/nix',
    'src/crypto',
    'src/log',
    'src/lru.ts',
    'scripts/dev-vars.ts',
  ],
  // The benchmarks and the checks before a start measure and check the read side too; nothing reaches the writer.
  scripts: ['src/api', 'src/store', 'src/protocol', 'src/nix', 'src/crypto', 'src/log', 'src/lru.ts', 'registries'],
  // The read benchmark runs the Worker's app in process, over a store and KV of its own.
  'scripts/bench/reads.ts': ['scripts', 'src/http/app.ts', 'src/store', 'src/protocol', 'src/nix', 'src/crypto'],
};

/** The part of the table a file belongs to: the longest key that contains it. */
function partOf(file: string): string | undefined {
  return Object.keys(MAY_IMPORT)
    .filter((key) => file === key || file.startsWith(`${key}/`))
    .sort((a, b) => b.length - a.length)[0];
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return name === 'node_modules' ? [] : sources(path);
    return /\.(ts|tsx|mts|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/g;

/** Every relative import of every file, as paths from the repository root. */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of [...sources('src'), ...sources('scripts')]) {
    const text = readFileSync(join(root, file), 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
      // A page module (`./html.js`) is a .tsx file.
      targets.push(existsSync(join(root, target)) || !existsSync(join(root, `${target}x`)) ? target : `${target}x`);
    }
    edges.set(file, targets);
  }
  return edges;
}

describe('the layers of the source', () => {
  const edges = graph();

  it('finds the imports it checks', () => {
    expect(edges.size).toBeGreaterThan(100);
    expect(edges.get('src/nix/edit.ts')).toContain('src/nix/changes.ts');
    expect(edges.get('src/web/routes.tsx')).toContain('src/web/html.tsx');
    expect(edges.get('src/http/app.ts')).toContain('src/web/routes.tsx');
  });

  it('imports only downwards: each part from the parts below it', () => {
    const wrong: string[] = [];
    for (const [file, targets] of edges) {
      const part = partOf(file);
      if (part === undefined) continue;
      for (const target of targets) {
        const allowed = [part, ...(MAY_IMPORT[part] ?? [])];
        if (!allowed.some((a) => target === a || target.startsWith(`${a}/`))) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no circles', () => {
    // Tarjan's strongly connected components: any with more than one file is a circle.
    let index = 0;
    const order = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    const visit = (v: string): void => {
      order.set(v, index);
      low.set(v, index);
      index++;
      stack.push(v);
      onStack.add(v);
      for (const w of edges.get(v) ?? []) {
        if (!edges.has(w)) continue;
        if (!order.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v) ?? 0, order.get(w) ?? 0));
        }
      }
      if (low.get(v) === order.get(v)) {
        const component: string[] = [];
        let w: string | undefined;
        do {
          w = stack.pop();
          if (w === undefined) break;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) circles.push(component.sort());
      }
    };
    for (const v of edges.keys()) if (!order.has(v)) visit(v);
    expect(circles).toEqual([]);
  });
});
