import { describe, expect, it } from 'vitest';
import { canonicalJson, CanonicalJsonError } from '../../src/protocol/canonical.js';

/** The double with these IEEE 754 bits. */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 canonical JSON', () => {
  it('canonicalizes the example of RFC 8785 section 3.2.2', () => {
    const input = JSON.parse(`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        `"string":"€$\\u000f\\nA'B\\"\\\\\\\\\\"/"}`,
    );
  });

  it('sorts members by UTF-16 code units, as in RFC 8785 section 3.2.3', () => {
    const input = JSON.parse(`{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\u{1F600}":"Emoji: Grinning Face","\uFB33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('sorts an astral character before U+FB33, unlike a sort by code points or UTF-8', () => {
    expect(canonicalJson({ '\uFB33': 1, '\u{1F600}': 2 })).toBe('{"\u{1F600}":2,"\uFB33":1}');
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('writes the double %s as %s (RFC 8785 appendix B)', (bits, text) => {
    expect(canonicalJson(fromBits(bits))).toBe(text);
  });

  it.each([
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
    ['fff0000000000000', '-Infinity'],
  ])('refuses the double %s (%s)', (bits, shown) => {
    expect(() => canonicalJson(fromBits(bits))).toThrow(
      new CanonicalJsonError(`cannot canonicalize $: ${shown} is not a JSON number`),
    );
  });

  it('escapes controls as JCS does and leaves everything else, DEL and U+2028 included, as is', () => {
    expect(canonicalJson('\b\t\n\f\r\u0000\u001f"\\/\u007f\u2028é')).toBe(
      '"\\b\\t\\n\\f\\r\\u0000\\u001f\\"\\\\/\u007f\u2028é"',
    );
  });

  it('writes no whitespace and keeps array order', () => {
    expect(canonicalJson({ b: [3, 1, { d: null, c: 'x' }], a: {} })).toBe('{"a":{},"b":[3,1,{"c":"x","d":null}]}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('keeps a __proto__ member as data', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":1,"a":2}'))).toBe('{"__proto__":1,"a":2}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { z: 1 }))).toBe('{"z":1}');
  });

  it('gives the same text whatever order members were written in', () => {
    expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } })).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }));
  });

  it('refuses undefined anywhere rather than dropping it as JSON.stringify does', () => {
    expect(() => canonicalJson(undefined)).toThrow(/\$: undefined is not JSON/);
    expect(() => canonicalJson({ a: { b: undefined } })).toThrow(/\$\["a"\]\["b"\]: undefined is not JSON/);
    expect(() => canonicalJson([1, undefined])).toThrow(/\$\[1\]: undefined/);
  });

  it('refuses lone surrogates in strings and in member names', () => {
    expect(() => canonicalJson('a\uD800')).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ '\uDE00': 1 })).toThrow(/lone surrogate/);
    expect(canonicalJson('\uD83D\uDE00')).toBe('"😀"');
  });

  it('refuses values JSON cannot hold: functions, symbols, bigints', () => {
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/a function is not JSON/);
    expect(() => canonicalJson([Symbol('s')])).toThrow(/a symbol is not JSON/);
    expect(() => canonicalJson(1n)).toThrow(/a bigint is not JSON/);
  });

  it('refuses objects that are not plain data', () => {
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/\$\["when"\]: a Date object is not plain JSON data/);
    expect(() => canonicalJson(new Map())).toThrow(/a Map object/);
    expect(() => canonicalJson({ toJSON: () => 'x' })).toThrow(/toJSON/);
    expect(() => canonicalJson({ [Symbol('s')]: 1 })).toThrow(/symbol keys/);
    expect(() => canonicalJson(new Uint8Array(1))).toThrow(/Uint8Array/);
  });

  it('refuses sparse arrays and cycles, but not a value shared by two members', () => {
    // eslint-disable-next-line no-sparse-arrays -- the hole is what is tested
    expect(() => canonicalJson([1, , 3])).toThrow(/\$\[1\]: the array has a hole/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/\$\["self"\]: the value contains itself/);
    const shared = { n: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"n":1},"b":{"n":1}}');
  });
});
