import { MAX_LIFETIME_MS } from '../../src/protocol/proposal.js';

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNITS;

export interface DurationRule {
  /** The units taken, smallest first: `['m', 'h', 'd']`. */
  readonly units: readonly Unit[];
  /** The longest taken, in milliseconds, and how it is written (`90d`). */
  readonly max: { readonly ms: number; readonly text: string };
  /** Why there is a longest, for the message. */
  readonly why: string;
}

/** `--expires-in`: how long a proposal stays open. */
export const PROPOSAL_LIFETIME: DurationRule = {
  units: ['m', 'h', 'd'],
  max: { ms: MAX_LIFETIME_MS, text: '90d' },
  why: 'the longest a proposal may stay open',
};

/**
 * `30m`, `12h`, `7d` (and `90s` where the rule takes seconds): a whole positive
 * number and a unit, in milliseconds. The message of a refusal says what is taken.
 */
export function parseDuration(text: string, rule: DurationRule = PROPOSAL_LIFETIME): number {
  const smallest = `1${rule.units[0] ?? 'm'}`;
  const takes = `a whole number of ${rule.units.map(unitName).join(', ')} from ${smallest} to ${rule.max.text}, like ${examples(rule)}`;
  const m = /^([0-9]+)([a-z])$/.exec(text.trim());
  const unit = m?.[2] as Unit | undefined;
  if (!m || unit === undefined || !rule.units.includes(unit))
    throw new Error(`'${text}' is not a duration: give ${takes}`);
  const ms = Number(m[1]) * UNITS[unit];
  if (ms === 0) throw new Error(`'${text}' is no time at all: give ${takes}`);
  if (ms > rule.max.ms) throw new Error(`'${text}' is longer than ${rule.max.text}, ${rule.why}`);
  return ms;
}

const unitName = (u: Unit): string => ({ s: 'seconds (s)', m: 'minutes (m)', h: 'hours (h)', d: 'days (d)' })[u];

function examples(rule: DurationRule): string {
  const all: Record<Unit, string> = { s: '90s', m: '30m', h: '12h', d: '7d' };
  return rule.units.map((u) => all[u]).join(', ');
}

export const DEFAULT_EXPIRY = '7d';

/** `sync --max-age`: the oldest checkpoint cosignature sync accepts. */
export const CHECKPOINT_AGE: DurationRule = {
  units: ['s', 'm', 'h', 'd'],
  max: { ms: 365 * 86_400_000, text: '365d' },
  why: 'a view older than a year proves nothing recent',
};
