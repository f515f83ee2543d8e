const encoder = new TextEncoder();

/**
 * Lowercase hex SHA-256 of `data`, or of the UTF-8 bytes of `data` when it is text
 * (Web Crypto: same in workerd and Node).
 */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', typeof data === 'string' ? encoder.encode(data) : data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
