import * as z from '../nix/zod.js';
import {
  fileChangeSchema,
  moveChangeSchema,
  removeChangeSchema,
  setChangeSchema,
  type EntryChange,
} from '../nix/changes.js';

/**
 * The changes a proposal carries, as they travel and are signed: the Nix
 * core's entry edits (src/nix/changes.ts), and a change of the registry's trust
 * policy, which only the protocol knows.
 */

export type { ChangeEntry, ChangeFile, EntryChange, Position } from '../nix/changes.js';

export const policySchema = z.strictObject({
  keys: z.array(
    z.withMeta(z.string(), {
      description:
        "A trusted key with its name: `NAME:BASE64` (an Ed25519 key in Nix's format), or `NAME:` and an OpenSSH public key line as a .pub, authorized_keys or allowed_signers file holds it (`alice:ssh-ed25519 AAAA… alice@laptop`, `bob:sk-ssh-ed25519@openssh.com AAAA…`). The same 32 bytes in both forms are one key.",
    }),
  ),
  threshold: z.int().check(z.positive()),
});

export const policyChangeSchema = z.strictObject({ op: z.literal('policy'), policy: policySchema });

export const changeSchema = z.discriminatedUnion('op', [
  setChangeSchema,
  removeChangeSchema,
  moveChangeSchema,
  fileChangeSchema,
  policyChangeSchema,
]);

export const changesSchema = z.array(changeSchema);

export type PolicyChange = z.infer<typeof policyChangeSchema>;
export type Change = z.infer<typeof changeSchema>;

/**
 * The entry edits of `changes`, for the Nix core, with where each stood in
 * the whole list: an edit's error names its index among all the changes.
 */
export function entryChanges(changes: readonly Change[]): { edits: EntryChange[]; index: number[] } {
  const edits: EntryChange[] = [];
  const index: number[] = [];
  changes.forEach((change, i) => {
    if (change.op === 'policy') return;
    edits.push(change);
    index.push(i);
  });
  return { edits, index };
}
