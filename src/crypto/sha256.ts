const encoder = new TextEncoder();

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text` (Web Crypto: same in workerd and Node). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
