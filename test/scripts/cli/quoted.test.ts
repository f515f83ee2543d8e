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
    expect(line).toBe('  | ok \\u001b[8mhidden\\u202e');
  });
});
