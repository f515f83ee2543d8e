import { describe, expect, it } from 'vitest';
import { matchPatternList } from '../../src/crypto/ssh-options.js';
import { SshReader, sshString, sshUint32, SshWireError } from '../../src/crypto/ssh-wire.js';
import { str, u32 } from './ssh-vectors.js';

const read = (bytes: Uint8Array): SshReader => new SshReader(new Uint8Array(bytes), 'the blob');

describe('the SSH wire encoding', () => {
  it('writes strings and uint32s as RFC 4251 section 5 does', () => {
    expect(sshString('ssh-ed25519')).toEqual(new Uint8Array(str('ssh-ed25519')));
    expect(sshString(new Uint8Array([1, 2]))).toEqual(new Uint8Array([0, 0, 0, 2, 1, 2]));
    expect(sshUint32(0xdeadbeef)).toEqual(new Uint8Array(u32(0xdeadbeef)));
    expect(() => sshUint32(2 ** 32)).toThrow(RangeError);
  });

  it('reads back what it writes, field by field, to the end', () => {
    const r = read(Buffer.concat([str('abc'), u32(0xffffffff), Buffer.from([7]), str(new Uint8Array([0, 1]))]));
    expect(r.text('a')).toBe('abc');
    expect(r.uint32('b')).toBe(0xffffffff);
    expect(r.byte('c')).toBe(7);
    expect(r.string('d')).toEqual(new Uint8Array([0, 1]));
    expect(() => r.end()).not.toThrow();
  });

  it.each([
    [
      'a uint32 past the end',
      new Uint8Array([0, 0, 1]),
      (r: SshReader) => r.uint32('the version'),
      /the version needs 4 bytes at offset 0, 3 remain/,
    ],
    [
      'a string longer than what remains',
      Buffer.concat([u32(10), Buffer.from('abc')]),
      (r: SshReader) => r.string('the key'),
      /the key at offset 0 says 10 bytes, 3 remain/,
    ],
    ['a length of 2^32 - 1', u32(0xffffffff), (r: SshReader) => r.string('the key'), /says 4294967295 bytes, 0 remain/],
    [
      'a NUL inside text',
      str('ssh:\0'),
      (r: SshReader) => r.text('the application'),
      /the application contains a NUL byte/,
    ],
    ['a NUL ending text', str('flake-registry\0'), (r: SshReader) => r.text('the namespace'), /contains a NUL byte/],
    [
      'text that is not UTF-8',
      str(new Uint8Array([0xc3, 0x28])),
      (r: SshReader) => r.text('the namespace'),
      /the namespace is not UTF-8/,
    ],
    [
      'bytes after the last field',
      Buffer.concat([str('a'), Buffer.from([0])]),
      (r: SshReader) => (r.text('a'), r.end()),
      /the blob has 1 bytes after its last field/,
    ],
  ])('refuses %s', (_, bytes, step, message) => {
    expect(() => step(read(bytes))).toThrow(SshWireError);
    expect(() => step(read(bytes))).toThrow(message);
  });
});

describe('pattern-lists (ssh_config PATTERNS)', () => {
  it.each([
    ['flake-registry', 'flake-registry', true],
    ['flake-registry', 'git,flake-registry', true],
    ['flake-registry', 'git', false],
    ['flake-registry', '*', true],
    ['flake-registry', 'flake-*', true],
    ['flake-registry', 'flake?registry', true],
    ['flake-registry', 'flake?', false],
    ['flake-registry', '*-registr?', true],
    ['flake-registry', '*,!flake-registry', false],
    ['flake-registry', '!git', false],
    ['flake-registry', '!git,*', true],
    ['flake-registry', 'Flake-Registry', false],
    ['flake-registry', '', false],
  ])('%s against "%s" is %s', (text, list, expected) => {
    expect(matchPatternList(text, list)).toBe(expected);
  });
});
