/**
 * Limits of the HTTP API that clients need before they send anything: the command refuses
 * locally what the service would refuse, without asking it.
 */

/** The largest request body the service takes (`413 payload-too-large` above): a registry file of about 5,000 entries fits. */
export const MAX_BODY_BYTES = 1024 * 1024;
