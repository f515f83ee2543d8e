/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON value that
 * signatures and ids are computed over.
 *
 * - no whitespace;
 * - object members sorted by their names' UTF-16 code units (RFC 8785 section 3.2.3),
 *   which is what JavaScript's default string comparison does;
 * - numbers as ECMAScript's Number::toString writes them (section 3.2.2.3), so -0 is "0";
 * - strings escaped as ECMAScript's JSON.stringify does (section 3.2.2.2): `\b \t \n \f \r`,
 *   `\"`, `\\`, other controls as `\u00xx` in lowercase hex, everything else as is.
 *
 * Values JSON cannot hold are refused rather than dropped or coerced, as JSON.stringify
 * would: undefined (also as a member value), functions, symbols, bigints, NaN and
 * infinities, strings with lone surrogates (not I-JSON, section 3.2.2.2), objects that
 * are not plain (Date, Map, class instances, anything with toJSON), symbol keys, sparse
 * arrays and cycles.
 */

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

const LONE_SURROGATE = /\p{Surrogate}/u;

function fail(path: string, what: string): never {
  throw new CanonicalJsonError(`cannot canonicalize ${path}: ${what}`);
}

function string(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) fail(path, 'the string contains a lone surrogate');
  return JSON.stringify(value);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return string(value, path);
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${value} is not a JSON number`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return fail(path, 'undefined is not JSON');
    case 'bigint':
      return fail(path, 'a bigint is not JSON (convert it to a number or a string)');
    case 'function':
    case 'symbol':
      return fail(path, `a ${typeof value} is not JSON`);
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) fail(path, 'the value contains itself');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return writeArray(value, path, ancestors);
    if (!isPlainObject(value)) fail(path, `a ${value.constructor?.name ?? 'non-plain'} object is not plain JSON data`);
    return writeObject(value as Record<string, unknown>, path, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function writeArray(value: readonly unknown[], path: string, ancestors: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) fail(`${path}[${i}]`, 'the array has a hole');
    parts.push(write(value[i], `${path}[${i}]`, ancestors));
  }
  return `[${parts.join(',')}]`;
}

function writeObject(value: Record<string, unknown>, path: string, ancestors: Set<object>): string {
  if (Object.getOwnPropertySymbols(value).length > 0) fail(path, 'symbol keys are not JSON');
  if (typeof value['toJSON'] === 'function') fail(path, 'an object with toJSON is not plain JSON data');
  // Default sort order compares UTF-16 code units, as RFC 8785 section 3.2.3 asks.
  const keys = Object.keys(value).sort();
  const parts = keys.map((key) => {
    const member = `${path}[${JSON.stringify(key)}]`;
    return `${string(key, member)}:${write(value[key], member, ancestors)}`;
  });
  return `{${parts.join(',')}}`;
}

/** The RFC 8785 canonical JSON text of `value`; throws CanonicalJsonError for what JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}
