import { parseSecretKey, type SecretKey } from '../crypto/keys.js';
import { REGISTRY_NAME } from '../protocol/names.js';
import { noteKeyNameProblem } from './note.js';

/**
 * A registry log's origin line: `KEYNAME/registries/NAME/log`. The log key's
 * name stands for the service (name it after the host: `registry.example.org`),
 * so one key signs every registry's log and each log has an origin of its own,
 * a URL prefix without its scheme as tlog-tiles advises.
 */
export function logOrigin(keyName: string, registry: string): string {
  if (!REGISTRY_NAME.test(registry)) throw new RangeError(`'${registry}' is not a registry name`);
  return `${keyName}/registries/${registry}/log`;
}

/**
 * The service's log key, from the LOG_SIGNING_KEY secret (Nix's secret-key
 * format): undefined when none is set, or why the one set cannot sign notes.
 */
export async function readLogKey(
  text: string | undefined,
): Promise<{ readonly key: SecretKey } | { readonly problem: string } | undefined> {
  const trimmed = text?.trim() ?? '';
  if (trimmed === '') return undefined;
  let key: SecretKey;
  try {
    key = await parseSecretKey(trimmed);
  } catch (error) {
    return { problem: `LOG_SIGNING_KEY is not a secret key in Nix's format: ${(error as Error).message}` };
  }
  const why = noteKeyNameProblem(key.name);
  if (why !== undefined)
    return { problem: `LOG_SIGNING_KEY's name '${key.name}' ${why}, which a signed note cannot carry` };
  return { key };
}
