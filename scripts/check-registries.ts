// Refuses to start or deploy a service whose embedded registries or policies cannot be
// published: `wrangler dev` and `wrangler deploy` run this first ([build] in
// wrangler.toml). A file Nix would read only in part would otherwise be found
// out only by the first request for it.
import { pathToFileURL } from 'node:url';
import { embeddedRegistries } from '../registries/index.js';
import { PolicyError } from '../src/protocol/policy.js';
import { prepareSeed, type EmbeddedRegistry } from '../src/store/seed.js';

/** One line per embedded registry that could never be published, naming the entry and Nix's reason. */
export function checkEmbedded(registries: readonly EmbeddedRegistry[]): string[] {
  const problems: string[] = [];
  for (const embedded of registries) {
    try {
      prepareSeed(embedded);
    } catch (error) {
      const file = error instanceof PolicyError ? `${embedded.name}.policy.json` : `${embedded.name}.json`;
      problems.push(
        `registries/${file} cannot be published: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problems = checkEmbedded(embeddedRegistries);
  for (const line of problems) console.error(line);
  if (problems.length > 0) process.exit(1);
}
