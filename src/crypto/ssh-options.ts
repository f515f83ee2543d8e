/**
 * The options field of an allowed_signers line (ssh-keygen(1), ALLOWED SIGNERS), and the
 * pattern-lists its `namespaces` option holds (ssh_config(5), PATTERNS).
 *
 * Of OpenSSH's four options only `namespaces` is accepted, and only when it lets the key sign
 * in the namespace asked for: a line that says a key may sign only for git is kept to that
 * here too. `cert-authority` (certificates), `valid-after` and `valid-before` (a policy, not
 * the key's line, decides when a key is trusted) are refused, and so is any other word,
 * as sshsig.c's `sshsigopt_parse` refuses unknown options. Keywords are case-insensitive,
 * values are double-quoted, as OpenSSH reads them.
 */

/** Thrown with a message that names the option; the caller adds which key it was on. */
export class SshOptionError extends Error {
  override readonly name = 'SshOptionError';
}

/** Splits at commas outside double quotes; refuses an unterminated quote and empty items. */
function splitOptions(field: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of field) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      items.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (quoted) throw new SshOptionError(`options ${JSON.stringify(field)} have an unterminated quote`);
  items.push(current);
  if (items.some((item) => item === ''))
    throw new SshOptionError(`options ${JSON.stringify(field)} have an empty item`);
  return items;
}

/**
 * Whether `text` matches the glob `pattern`: `*` is any run of characters, `?` any one
 * (match.c `match_pattern`). Iterative, with one backtrack point, so no input is slow.
 */
function globMatch(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * A pattern-list as match.c's `match_pattern_list` reads it: comma-separated globs, where one
 * matching `!glob` refuses whatever else matches, and otherwise one matching glob accepts.
 */
export function matchPatternList(text: string, list: string): boolean {
  let accepted = false;
  for (const item of list.split(',')) {
    const negated = item.startsWith('!');
    if (globMatch(text, negated ? item.slice(1) : item)) {
      if (negated) return false;
      accepted = true;
    }
  }
  return accepted;
}

function dequote(keyword: string, value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"') || value.slice(1, -1).includes('"')) {
    throw new SshOptionError(`option ${keyword} needs a value in double quotes, as ${keyword}="${'…'}"`);
  }
  return value.slice(1, -1);
}

/**
 * Checks the options field of an allowed_signers line for a key that will sign in
 * `namespace`. Returns nothing: an accepted line's options change nothing further.
 */
export function checkAllowedSignersOptions(field: string, namespace: string): void {
  let namespaces: string | undefined;
  for (const item of splitOptions(field)) {
    const eq = item.indexOf('=');
    const keyword = (eq < 0 ? item : item.slice(0, eq)).toLowerCase();
    switch (keyword) {
      case 'namespaces': {
        if (eq < 0) throw new SshOptionError('option namespaces needs a value, as namespaces="flake-registry"');
        if (namespaces !== undefined) throw new SshOptionError('option namespaces is given twice');
        namespaces = dequote(keyword, item.slice(eq + 1));
        if (namespaces === '') throw new SshOptionError('option namespaces is empty');
        break;
      }
      case 'cert-authority':
        throw new SshOptionError('option cert-authority is not accepted: certificates cannot sign here, only keys');
      case 'valid-after':
      case 'valid-before':
        throw new SshOptionError(
          `option ${keyword} is not accepted: a key is trusted while the registry's policy lists it; remove the option`,
        );
      default:
        throw new SshOptionError(
          `unknown option ${JSON.stringify(item.slice(0, 40))}: an allowed_signers line here may have namespaces="…" only`,
        );
    }
  }
  if (namespaces !== undefined && !matchPatternList(namespace, namespaces)) {
    throw new SshOptionError(
      `option namespaces="${namespaces}" does not allow the namespace ${namespace}, which signatures here use`,
    );
  }
}
