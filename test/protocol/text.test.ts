import { describe, expect, it } from 'vitest';
import { messageProblem, nameProblem, showInvisible } from '../../src/protocol/text.js';
import { marked } from '../../src/web/marks.js';

/**
 * One rule for text a proposer controls: what the write path refuses is exactly what the pages
 * and the command mark, and what it accepts shows as it is.
 */
describe('the text rule', () => {
  const refused: [string, string, string][] = [
    ['a Hangul filler', 'blank\u3164name', 'U+3164 (HANGUL FILLER'],
    ['a variation selector first', '\uFE0Fhello', 'U+FE0F (VARIATION SELECTOR-16'],
    ['a variation selector after a letter', 'hello\uFE0E', 'U+FE0E (VARIATION SELECTOR-15'],
    ['a variation selector after a space', 'ok \uFE0F', 'U+FE0F'],
    ['a second variation selector in a row', 'ok \u2764\uFE0F\uFE0F', 'U+FE0F'],
    ['another variation selector after an emoji', 'ok \u2764\uFE01', 'U+FE01'],
    ['a zero-width space', 'zero\u200Bwidth', 'U+200B'],
  ];
  it.each(refused)('refuses %s in a message, and marks it when shown', (_, text, named) => {
    expect(messageProblem(text)).toContain(`holds ${named}`);
    expect(showInvisible(text)).not.toBe(text);
    expect(marked(text).filter((r) => r.kind === 'mark')).toHaveLength(1);
    expect(marked(text).find((r) => r.kind === 'mark')?.name).toContain(named);
  });

  const accepted: [string, string][] = [
    ['an emoji with its emoji presentation', 'Ship it \u2764\uFE0F'],
    ['an emoji with its text presentation', 'Ship it \u2764\uFE0E then'],
    ['a keycap', 'step 1\uFE0F\u20E3'],
    ['newlines', 'one\ntwo'],
    ['right-to-left letters', 'שלום עולם'],
  ];
  it.each(accepted)('accepts %s in a message, and shows it as it is', (_, text) => {
    expect(messageProblem(text)).toBeUndefined();
    expect(showInvisible(text)).toBe(text);
    expect(marked(text)).toEqual([{ kind: 'text', text }]);
  });

  it('refuses every variation selector in a name', () => {
    expect(nameProblem('alice\u2764\uFE0F')).toBeDefined();
    expect(nameProblem('alice\uFE0F')).toContain('U+FE0F');
  });

  it('marks each character in its place, the text around it kept', () => {
    expect(marked('a\uFE0Fb\u2764\uFE0Fc')).toEqual([
      { kind: 'text', text: 'a' },
      { kind: 'mark', shown: '\\u{FE0F}', name: 'U+FE0F (VARIATION SELECTOR-16, default-ignorable)' },
      { kind: 'text', text: 'b\u2764\uFE0Fc' },
    ]);
  });
});
