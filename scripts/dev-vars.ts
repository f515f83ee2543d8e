/**
 * DEV_TRUSTED_KEYS in `.dev.vars`, the dotenv file `wrangler dev` loads: read by
 * the start-time check and edited by `flake-registry trust-local`, with one
 * reading of the file for both. The value is on one line, optionally quoted,
 * optionally followed by a `# comment`.
 */

export class DevVarsError extends Error {
  override readonly name = 'DevVarsError';
}

const LINE = /^\s*(?:export\s+)?DEV_TRUSTED_KEYS\s*=(.*)$/;

/** The lines of a text, whatever its line endings. */
export const devVarsLines = (text: string): string[] => text.replace(/\r?\n$/, '').split(/\r?\n/);

/** The words of a DEV_TRUSTED_KEYS line, or undefined for another line. */
export function trustedKeysOfLine(line: string): string[] | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  let value = (match[1] ?? '').trim();
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = value.indexOf(quote, 1);
    if (end < 0)
      throw new DevVarsError('.dev.vars: DEV_TRUSTED_KEYS must be on one line (its closing quote is missing)');
    const rest = value.slice(end + 1).trim();
    if (rest !== '' && !rest.startsWith('#')) {
      throw new DevVarsError(
        `.dev.vars: unexpected text after the quoted DEV_TRUSTED_KEYS value: ${rest.slice(0, 20)}`,
      );
    }
    value = value.slice(1, end);
  } else {
    value = value.replace(/(^|\s)#.*$/, '');
  }
  return value.split(/\s+/).filter((w) => w !== '');
}

/** Every key DEV_TRUSTED_KEYS lists in a `.dev.vars` text (all its lines, in order). */
export function devTrustedKeys(text: string): string[] {
  return devVarsLines(text).flatMap((line) => trustedKeysOfLine(line) ?? []);
}

/** The `NAME=value` line of `.dev.vars` for `name`, the value unquoted, or undefined if none (the last one wins, as in dotenv). */
export function devVar(text: string, name: string): string | undefined {
  const line = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=(.*)$`);
  let value: string | undefined;
  for (const l of devVarsLines(text)) {
    const match = line.exec(l);
    if (!match) continue;
    const raw = (match[1] ?? '').trim();
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      const end = raw.indexOf(quote, 1);
      if (end < 0) throw new DevVarsError(`.dev.vars: ${name} must be on one line (its closing quote is missing)`);
      value = raw.slice(1, end);
    } else {
      value = raw.replace(/(^|\s)#.*$/, '').trim();
    }
  }
  return value;
}

/** `text` with its `name` line set to `value` (in place of every earlier one, or added at the end). */
export function setDevVar(text: string | undefined, name: string, value: string): string {
  const lines = text === undefined || text === '' ? [] : devVarsLines(text);
  const eol = text?.includes('\r\n') ? '\r\n' : '\n';
  const line = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=`);
  const set = `${name}="${value}"`;
  const at = lines.findIndex((l) => line.test(l));
  const kept = lines.filter((l) => !line.test(l));
  if (at < 0) kept.push(set);
  else kept.splice(at, 0, set);
  return `${kept.join(eol)}${eol}`;
}
