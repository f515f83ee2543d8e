import { MAX_LIFETIME_MS } from '../../src/protocol/proposal.js';

const UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `12h`, `7d`: how long a proposal stays open, in milliseconds; at most 90 days. */
export function parseDuration(text: string): number {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a duration like 30m, 12h or 7d`);
  const ms = Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
  if (ms > MAX_LIFETIME_MS) throw new Error(`'${text}' is longer than 90d, the longest a proposal may stay open`);
  return ms;
}

export const DEFAULT_EXPIRY = '7d';
