/**
 * HTTP conditional requests (RFC 9110 §13) for bodies that never change once
 * they have a validator. Nix itself only ever sends `If-None-Match` with the
 * ETag it stored (src/libstore/filetransfer.cc); the other fields matter to
 * CDNs, proxies and scripts.
 */

/** A strong validator: a SHA-256, so equal bytes always share it. */
export const etagFor = (sha256: string): string => `"${sha256}"`;

export interface Validators {
  /** A strong entity-tag, quotes included. */
  readonly etag: string;
  /** Absent for what has no modification time of its own (the API document): date preconditions are then ignored. */
  readonly lastModified?: Date;
  /**
   * Another representation of this URL has the same Last-Modified second (two
   * versions merged in one second): a date alone then cannot prove what a client
   * holds, so If-Modified-Since never answers 304 and If-Unmodified-Since fails.
   */
  readonly sharedSecond?: boolean;
}

/** What the preconditions of a GET or HEAD allow (§13.2.2, in its order). */
export type Precondition = 'proceed' | 'not-modified' | 'failed';

/**
 * `*`, or the entity-tags of a list (§8.8.3, §13.1.1). Only a field value that
 * is `*` alone is the wildcard. A member that is not exactly one entity-tag
 * (`x*y`, `W/*`, `"a"*`, an unclosed quote) is dropped, so one bad member hides
 * no good one and never matches by accident.
 */
export function parseEntityTags(value: string): '*' | string[] {
  if (value.trim() === '*') return '*';
  const tags: string[] = [];
  for (const member of splitMembers(value)) {
    if (/^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(member)) tags.push(member);
  }
  return tags;
}

/** Commas separate members except inside a quoted entity-tag (etagc allows commas). */
function splitMembers(value: string): string[] {
  const members: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      members.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  members.push(current.trim());
  return members.filter((m) => m !== '');
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

function weakMatch(field: string, etag: string): boolean {
  // Nix sends back exactly the ETag it stored: answer that without parsing.
  if (field === etag) return true;
  const tags = parseEntityTags(field);
  return tags === '*' || tags.some((tag) => opaque(tag) === opaque(etag));
}

function strongMatch(field: string, etag: string): boolean {
  const tags = parseEntityTags(field);
  return tags === '*' || tags.some((tag) => !tag.startsWith('W/') && tag === etag);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/**
 * An HTTP-date (§5.6.7) in milliseconds since the epoch, or undefined for
 * anything else: IMF-fixdate, and the obsolete RFC 850 and asctime forms that
 * recipients must still accept. A two-digit RFC 850 year more than 50 years
 * ahead is taken as the past century's (§5.6.7).
 */
export function parseHttpDate(value: string): number | undefined {
  const text = value.trim();
  let parts: { day: string; month: string; year: number; h: string; m: string; s: string } | undefined;
  let match = IMF_FIXDATE.exec(text);
  if (match) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = match;
    parts = { day, month, year: Number(year), h, m, s };
  } else if ((match = RFC850_DATE.exec(text))) {
    const [, day = '', month = '', yy = '', h = '', m = '', s = ''] = match;
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear + 50) year -= 100;
    parts = { day, month, year, h, m, s };
  } else if ((match = ASCTIME_DATE.exec(text))) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = match;
    parts = { day: day.trim(), month, year: Number(year), h, m, s };
  }
  if (!parts) return undefined;
  const month = MONTHS.indexOf(parts.month);
  const [day, h, m, s] = [parts.day, parts.h, parts.m, parts.s].map(Number) as [number, number, number, number];
  const time = Date.UTC(parts.year, month, day, h, m, s);
  const date = new Date(time);
  // Refuse dates that do not exist (31 Feb) or times out of range, rather than letting them roll over.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month || h > 23 || m > 59 || s > 60) return undefined;
  return time;
}

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000) * 1000;

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since
 * for a GET or HEAD of a representation that exists, in §13.2.2's order.
 * `If-None-Match` uses the weak comparison and `If-Match` the strong one; a
 * date field is ignored when its value is not an HTTP-date or when the
 * entity-tag field it yields to is present.
 */
export function evaluatePreconditions(headers: Headers, validators: Validators): Precondition {
  const { etag, lastModified } = validators;
  const ifMatch = headers.get('If-Match');
  if (ifMatch !== null) {
    if (!strongMatch(ifMatch, etag)) return 'failed';
  } else {
    const ius = headers.get('If-Unmodified-Since');
    const since = ius === null ? undefined : parseHttpDate(ius);
    if (
      since !== undefined &&
      lastModified !== undefined &&
      (validators.sharedSecond === true || seconds(lastModified) > since)
    ) {
      return 'failed';
    }
  }
  const inm = headers.get('If-None-Match');
  if (inm !== null) return weakMatch(inm, etag) ? 'not-modified' : 'proceed';
  const ims = headers.get('If-Modified-Since');
  const since = ims === null ? undefined : parseHttpDate(ims);
  if (
    since !== undefined &&
    lastModified !== undefined &&
    validators.sharedSecond !== true &&
    seconds(lastModified) <= since
  ) {
    return 'not-modified';
  }
  return 'proceed';
}
