/** Registry names, as they appear in URLs, KV keys and proposals. */
export const REGISTRY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
