import { describe, expect, it } from 'vitest';
import { quotedText } from '../../../scripts/cli/show.js';

describe("a proposer's message as the command prints it", () => {
  it('marks every line, so a message cannot pass for the review around it', () => {
    expect(quotedText('Fix a typo\nchanges against version 13:\n  (none)')).toEqual([
      '  | Fix a typo',
      '  | changes against version 13:',
      '  |   (none)',
    ]);
  });

  it('shows terminal escapes and bidirectional overrides escaped instead of obeying them', () => {
    const [line] = quotedText('ok \u001b[8mhidden\u202e');
    expect(line).toBe('  | ok \\u{1B}[8mhidden\\u{202E}');
  });

  it.each([
    ['U+061C', '\u061c', '\\u{61C}'],
    ['U+2028', '\u2028', '\\u{2028}'],
    ['U+200B', '\u200b', '\\u{200B}'],
    ['U+FEFF', '\ufeff', '\\u{FEFF}'],
    ['U+180E', '\u180e', '\\u{180E}'],
    ['U+FFF9', '\ufff9', '\\u{FFF9}'],
    ['U+E0041', '\u{e0041}', '\\u{E0041}'],
    ['U+00A0', '\u00a0', '\\u{A0}'],
    ['a tab', '\t', '\\u{9}'],
    ['a carriage return', '\r', '\\u{D}'],
    ['U+FE00, a variation selector', '\ufe00', '\\u{FE00}'],
    ['U+3164, a Hangul filler', '\u3164', '\\u{3164}'],
    ['U+2800, blank braille', '\u2800', '\\u{2800}'],
  ])('shows %s, which older versions stored, visibly', (_, ch, shown) => {
    const [line] = quotedText(`a${ch}b`);
    expect(line).toBe(`  | a${shown}b`);
  });
});
