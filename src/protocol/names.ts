/** Registry names, as they appear in URLs, KV keys and proposals. */
export const REGISTRY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A SHA-256 as every hash here is written: 64 lowercase hex digits (proposal ids, file and record hashes). */
export const SHA256_HEX = /^[0-9a-f]{64}$/;
