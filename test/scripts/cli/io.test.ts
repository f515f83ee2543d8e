import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readUpTo } from '../../../scripts/cli/io.js';

describe('readUpTo: a bounded read of stdin', () => {
  it('stops an endless stream at the limit, pulling no more chunks than it needs', async () => {
    let pulled = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          pulled++;
          yield Buffer.alloc(1000, 0x20);
        }
      })(),
    );
    const bytes = await readUpTo(endless, 4500);
    expect(bytes.length).toBe(4500);
    // Readable.from reads ahead a little; what matters is that the reading ends.
    expect(pulled).toBeLessThan(40);
    expect(endless.destroyed).toBe(true);
  });

  it('gives a shorter stream whole', async () => {
    const bytes = await readUpTo(Readable.from([Buffer.from('{"a": '), Buffer.from('1}')]), 100);
    expect(Buffer.from(bytes).toString()).toBe('{"a": 1}');
  });
});
