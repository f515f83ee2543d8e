import { describeCharacter, showInvisible } from '../protocol/text.js';

/**
 * Text someone wrote, cut into the runs a page shows: visible text as it is,
 * and every character `showInvisible` would escape (bidi controls, zero-width
 * characters, separators) as a mark of its own, shown as its escape
 * (`\u{202E}`) and named in full. The server's pages and the page script both
 * show text through this, so the two never differ.
 */
export type Run =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'mark'; readonly shown: string; readonly name: string };

export function marked(text: string): Run[] {
  if (showInvisible(text) === text) return text === '' ? [] : [{ kind: 'text', text }];
  const runs: Run[] = [];
  let plain = '';
  for (const ch of text) {
    const shown = showInvisible(ch);
    if (shown === ch) {
      plain += ch;
      continue;
    }
    if (plain !== '') runs.push({ kind: 'text', text: plain });
    plain = '';
    runs.push({ kind: 'mark', shown, name: describeCharacter(ch) });
  }
  if (plain !== '') runs.push({ kind: 'text', text: plain });
  return runs;
}

/** A URL a page may link to: http or https only, never `javascript:`, `data:` or a flake scheme. */
export function linkable(url: string): boolean {
  if (!/^https?:\/\//i.test(url)) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}
