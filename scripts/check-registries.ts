// Refuses to start or deploy a service whose embedded registries or policies cannot be
// published: `wrangler dev` and `wrangler deploy` run this first ([build] in
// wrangler.toml). A file Nix would read only in part would otherwise be found
// out only by the first request for it. Keys trusted for local development
// (DEV_TRUSTED_KEYS in .dev.vars) and a local log key (LOG_SIGNING_KEY) are checked too,
// naming that file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { embeddedRegistries } from '../registries/index.js';
import { PolicyError } from '../src/protocol/policy.js';
import { prepareSeed, type EmbeddedRegistry } from '../src/store/seed.js';
import { readLogKey } from '../src/log/origin.js';
import { DevVarsError, devTrustedKeys, devVar } from './dev-vars.js';

/** One line per embedded registry that could never be published, naming the entry and Nix's reason. */
export function checkEmbedded(registries: readonly EmbeddedRegistry[], localKeys: readonly string[] = []): string[] {
  const problems: string[] = [];
  for (const embedded of registries) {
    try {
      prepareSeed(embedded);
    } catch (error) {
      const file = error instanceof PolicyError ? `${embedded.name}.policy.json` : `${embedded.name}.json`;
      problems.push(
        `registries/${file} cannot be published: ${error instanceof Error ? error.message : String(error)}`,
      );
      continue;
    }
    if (localKeys.length === 0) continue;
    try {
      prepareSeed(embedded, localKeys);
    } catch (error) {
      problems.push(
        `DEV_TRUSTED_KEYS in .dev.vars cannot join the policy of '${embedded.name}': ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return problems;
}

/**
 * Every problem with the embedded registries and the checkout's `.dev.vars`, one line each:
 * its DEV_TRUSTED_KEYS, and its LOG_SIGNING_KEY (a key that cannot sign notes would leave the
 * local logs without checkpoints, which the log routes say only when asked).
 */
export async function checkCheckout(root: string): Promise<string[]> {
  const devVars = join(root, '.dev.vars');
  try {
    const text = existsSync(devVars) ? readFileSync(devVars, 'utf8') : '';
    const problems = checkEmbedded(embeddedRegistries, devTrustedKeys(text));
    const logKey = await readLogKey(devVar(text, 'LOG_SIGNING_KEY'));
    if (logKey && 'problem' in logKey) problems.push(`${logKey.problem} (in .dev.vars)`);
    return problems;
  } catch (error) {
    if (!(error instanceof DevVarsError)) throw error;
    return [error.message];
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problems = await checkCheckout(join(import.meta.dirname, '..'));
  for (const line of problems) console.error(line);
  if (problems.length > 0) process.exit(1);
}
