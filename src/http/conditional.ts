/**
 * HTTP conditional requests (RFC 9110 §13) for immutable registry bodies.
 * Nix itself only ever sends `If-None-Match` with the ETag it stored
 * (libstore/filetransfer.cc); `If-Modified-Since` matters to CDNs and proxies.
 */

/** A strong validator: the body's SHA-256, so equal bytes always share it. */
export const etagFor = (sha256: string): string => `"${sha256}"`;

/**
 * The entity-tags of an `If-None-Match` value; `*` is returned as is. Members
 * that are not entity-tags are skipped, so one bad member hides no good one.
 */
export function parseEntityTags(header: string): string[] {
  return header.match(/\*|(?:W\/)?"[^"]*"/g) ?? [];
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/**
 * Whether a GET/HEAD may be answered 304. `If-None-Match` uses the weak
 * comparison (§13.1.2) and, when present, `If-Modified-Since` is ignored (§13.2.2).
 */
export function notModified(headers: Headers, etag: string, lastModified: Date): boolean {
  const inm = headers.get('If-None-Match');
  if (inm !== null) {
    // Nix sends back exactly the ETag it stored: answer that without parsing.
    if (inm === etag) return true;
    const tags = parseEntityTags(inm);
    return tags.some((tag) => tag === '*' || opaque(tag) === opaque(etag));
  }
  const ims = headers.get('If-Modified-Since');
  if (ims === null) return false;
  const since = Date.parse(ims);
  if (Number.isNaN(since)) return false;
  return Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}
