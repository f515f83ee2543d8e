import type { Attrs } from '../nix/attrs.js';
import { readChangeEntry } from '../nix/changes.js';
import { flakeRefToString } from '../nix/flakeref.js';
import { inputToURL } from '../nix/input.js';
import type { Change, Position } from '../protocol/changes.js';
import type { ChangeLine } from './review-pages.js';

/** A proposal's changes as a reviewer reads them, one line each: what was signed, not what it does to the head. */

function url(attrs: Attrs): string {
  try {
    return inputToURL(attrs);
  } catch {
    return JSON.stringify(attrs);
  }
}

const exactly = (exact: boolean | undefined) => (exact === true ? ' (exact)' : '');

function where(position: Position | undefined): string {
  if (position === undefined) return '';
  if (position === 'start') return ', first';
  if (position === 'end') return ', last';
  return 'before' in position
    ? `, before ${url(position.before)}${exactly(position.exact)}`
    : `, after ${url(position.after)}${exactly(position.exact)}`;
}

export function changeLine(change: Change): ChangeLine {
  switch (change.op) {
    case 'set': {
      const read = readChangeEntry(change.entry);
      let target = JSON.stringify(change.entry.to);
      try {
        if (read.ok) target = flakeRefToString({ input: read.value.to, dir: read.value.dir ?? '' });
      } catch {
        // Kept as written.
      }
      return {
        op: 'set',
        text: `set ${url(change.entry.from)}${exactly(change.entry.exact)} -> ${target}${where(change.position)}`,
      };
    }
    case 'remove':
      return { op: 'remove', text: `remove ${url(change.from)}${exactly(change.exact)}` };
    case 'move':
      return { op: 'move', text: `move ${url(change.from)}${exactly(change.exact)}${where(change.position)}` };
    case 'file': {
      const count = Array.isArray((change.file as { flakes?: unknown }).flakes)
        ? (change.file as { flakes: unknown[] }).flakes.length
        : 0;
      return { op: 'file', text: `replace the whole file (${count} entries)` };
    }
    case 'policy':
      return {
        op: 'policy',
        text: `set the policy: ${change.policy.threshold} of ${change.policy.keys.length} keys (${change.policy.keys.map((k) => k.split(':')[0] ?? k).join(', ')})`,
      };
  }
}
