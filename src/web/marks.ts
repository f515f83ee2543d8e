import { describeCharacter, invisibleCharacters, showInvisible } from '../protocol/text.js';

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
  const runs: Run[] = [];
  let at = 0;
  // Judged in place, not one character at a time: a variation selector is seen after an emoji.
  for (const { index, ch } of invisibleCharacters(text)) {
    if (index > at) runs.push({ kind: 'text', text: text.slice(at, index) });
    runs.push({ kind: 'mark', shown: showInvisible(ch), name: describeCharacter(ch) });
    at = index + ch.length;
  }
  if (at < text.length) runs.push({ kind: 'text', text: text.slice(at) });
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
