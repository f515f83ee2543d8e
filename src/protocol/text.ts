/**
 * Text a proposer controls, and how it may be shown. A proposal's message, the
 * names of keys and signatures are read by the maintainers who decide whether
 * to sign: a character that is invisible, reorders what follows or moves the
 * cursor could make the text pass for something else. One rule, by Unicode
 * general category (docs/protocol.md):
 *
 * - refused everywhere: controls (Cc) but a message's newline and tab, format
 *   characters (Cf: bidi marks and overrides, zero-width characters, the BOM,
 *   tags), surrogates (Cs), private use (Co), unassigned code points (Cn), the
 *   line and paragraph separators (Zl, Zp), every other character Unicode calls
 *   default-ignorable (they render as nothing: the combining grapheme joiner,
 *   Hangul fillers, variation selectors; in a message the two emoji variation
 *   selectors U+FE0E and U+FE0F are kept right after an emoji, where they are seen), the
 *   blank braille pattern U+2800, and
 *   more than four combining marks in a row (text piled up over what follows);
 * - names are single words of letters, digits and ASCII punctuation (no space,
 *   no `:`), so that two names that look alike are alike.
 *
 * The rule applies to what is submitted from now on. Histories keep what older
 * rules let through, so the verifier does not apply it, and whatever shows
 * stored text escapes it with `showInvisible`.
 */

/**
 * U+FE0E and U+FE0F choose how the emoji before them is drawn (text or emoji presentation),
 * so right after an emoji character they are part of what is seen. Anywhere else (first, after
 * a letter or a space, or a second one in a row) they render as nothing, like every other
 * default-ignorable character, and are refused and shown as such.
 */
const PRESENTATION = '(?<=\\p{Emoji})[\\uFE0E\\uFE0F]';

const UNSAFE_IN_MESSAGE = new RegExp(
  `(?!\\n|\\t|${PRESENTATION})[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Co}\\p{Cn}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}\\u2800]|\\p{M}{5}`,
  'u',
);
/** Anything but a letter, a digit or ASCII punctuation other than `:`; default-ignorable letters too. */
const UNSAFE_IN_NAME = /\p{Default_Ignorable_Code_Point}|[^\p{L}\p{N}!-9;-@[-`{-~]/u;

const NAMES: Readonly<Record<number, string>> = {
  0x09: 'CHARACTER TABULATION',
  0x0a: 'LINE FEED',
  0x0d: 'CARRIAGE RETURN',
  0x1b: 'ESCAPE',
  0x20: 'SPACE',
  0xa0: 'NO-BREAK SPACE',
  0x061c: 'ARABIC LETTER MARK',
  0x180e: 'MONGOLIAN VOWEL SEPARATOR',
  0x200b: 'ZERO WIDTH SPACE',
  0x200c: 'ZERO WIDTH NON-JOINER',
  0x200d: 'ZERO WIDTH JOINER',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE',
  0xfff9: 'INTERLINEAR ANNOTATION ANCHOR',
  0x034f: 'COMBINING GRAPHEME JOINER',
  0xfe0e: 'VARIATION SELECTOR-15',
  0xfe0f: 'VARIATION SELECTOR-16',
  0x115f: 'HANGUL CHOSEONG FILLER',
  0x1160: 'HANGUL JUNGSEONG FILLER',
  0x3164: 'HANGUL FILLER',
  0xffa0: 'HALFWIDTH HANGUL FILLER',
  0x2800: 'BRAILLE PATTERN BLANK',
};

const CATEGORIES: readonly (readonly [RegExp, string])[] = [
  [/\p{Cc}/u, 'a control character, Cc'],
  [/\p{Cf}/u, 'a format character, Cf'],
  [/\p{Cs}/u, 'a lone surrogate, Cs'],
  [/\p{Co}/u, 'a private-use character, Co'],
  [/\p{Cn}/u, 'an unassigned code point, Cn'],
  [/\p{Zl}/u, 'a line separator, Zl'],
  [/\p{Zp}/u, 'a paragraph separator, Zp'],
  [/\p{Zs}/u, 'a space, Zs'],
  [/\p{Default_Ignorable_Code_Point}/u, 'default-ignorable'],
  [/\p{M}/u, 'a combining mark, M'],
  [/\p{S}/u, 'a symbol, S'],
];

/** `U+202E (RIGHT-TO-LEFT OVERRIDE, a format character, Cf)`. */
export function describeCharacter(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const category = CATEGORIES.find(([re]) => re.test(ch))?.[1];
  const name = NAMES[cp];
  const parts = [name, category].filter((p) => p !== undefined);
  return parts.length === 0 ? hex : `${hex} (${parts.join(', ')})`;
}

/** What is wrong with a message, naming the first refused character by code point; undefined when nothing. */
export function messageProblem(text: string): string | undefined {
  const found = UNSAFE_IN_MESSAGE.exec(text);
  if (found === null) return undefined;
  if (found[0].length > 2 && /^\p{M}+$/u.test(found[0])) {
    return `piles five combining marks or more on one character (from ${describeCharacter(found[0])}): only visible characters, spaces, newlines and tabs`;
  }
  return `holds ${describeCharacter(found[0])}: only visible characters, spaces, newlines and tabs`;
}

/** The same for a key's or a signature's name: one word of letters, digits and ASCII punctuation. */
export function nameProblem(text: string): string | undefined {
  const found = UNSAFE_IN_NAME.exec(text);
  return found === null
    ? undefined
    : `holds ${describeCharacter(found[0])}: a name is one word of letters, digits and ASCII punctuation`;
}

const INVISIBLE = new RegExp(
  `(?!\\n| |${PRESENTATION})[\\p{C}\\p{Zl}\\p{Zp}\\p{Zs}\\p{Default_Ignorable_Code_Point}\\u2800]`,
  'gu',
);

/** Each character `showInvisible` escapes, with where it is: judged in its place (a variation selector by what precedes it). */
export function invisibleCharacters(text: string): { readonly index: number; readonly ch: string }[] {
  return [...text.matchAll(INVISIBLE)].map((m) => ({ index: m.index, ch: m[0] }));
}

/**
 * Text to show, with every character the rule above refuses (and every space
 * but U+0020, and the tab) written as `\u{202E}`, so stored text (older rules let
 * more through) is seen as it is. Newlines stay: callers mark each line.
 */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`);
}

/**
 * `showInvisible` for text shown inside one line (a name in a column, an id in a list):
 * the newline is escaped too, as `\u{A}`, so the text cannot start a line of its own.
 */
export function showInvisibleInLine(text: string): string {
  return showInvisible(text).replaceAll('\n', '\\u{A}');
}

/**
 * A JSON text with the same characters written as `\uXXXX` escapes: the same
 * value once parsed, but nothing invisible reaches a terminal or an editor.
 * Only strings can hold such characters in JSON, so every match is inside one.
 */
export function escapeInvisibleInJson(json: string): string {
  return json.replace(INVISIBLE, (ch) =>
    Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}
