import { z } from 'zod';
import { attrsSchema, registryFileSchema } from '../nix/registry-schema.js';
import { readChangeEntry, readChangeFile } from '../nix/edit.js';

/**
 * The changes a proposal carries, as they travel and are signed. Objects are
 * strict: an unknown field is refused rather than silently signed and ignored.
 * Entries and files must also read whole as Nix reads them; the refinements
 * below give Nix's reason, naming the entry.
 */

/**
 * `exact: true` names the exact entry with a `from`; left out, the non-exact
 * one. A registry may hold one of each with an equal `from` (the official
 * registry's two bare `nixpkgs` entries), so the pair names one entry.
 * `exact: false` is refused for one spelling per meaning, as in an entry.
 */
const exactSchema = z
  .literal(true, { error: 'exact is written only when true; leave it out for a non-exact entry' })
  .optional();

/** Where an entry goes: an anchor is the `from` (and exactness) of an entry already in the registry. */
export const positionSchema = z.union([
  z.literal('start'),
  z.literal('end'),
  z.strictObject({ before: attrsSchema, exact: exactSchema }),
  z.strictObject({ after: attrsSchema, exact: exactSchema }),
]);

/**
 * An entry in registry-file form (`to` may carry `dir`). `exact: false` is
 * refused: Nix writes `exact` only when true, and a signed change should have
 * one spelling per meaning, so a non-exact entry leaves the field out. A `set`
 * replaces the entry with the same `from` and exactness, if there is one.
 */
export const changeEntrySchema = z
  .strictObject({
    from: attrsSchema,
    to: attrsSchema,
    exact: exactSchema,
  })
  .superRefine((entry, ctx) => {
    const read = readChangeEntry(entry);
    if (!read.ok) ctx.addIssue({ code: 'custom', message: read.detail });
  });

/** A whole registry file as the upload tool sends it (Nix ignores unknown keys, so they are kept). */
export const changeFileSchema = registryFileSchema.superRefine((file, ctx) => {
  const read = readChangeFile(file);
  if (!read.ok) ctx.addIssue({ code: 'custom', message: read.detail });
});

export const policySchema = z.strictObject({
  keys: z.array(z.string()),
  threshold: z.int().positive(),
});

export const changeSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('set'), entry: changeEntrySchema, position: positionSchema.optional() }),
  z.strictObject({ op: z.literal('remove'), from: attrsSchema, exact: exactSchema }),
  z.strictObject({ op: z.literal('move'), from: attrsSchema, exact: exactSchema, position: positionSchema }),
  z.strictObject({ op: z.literal('file'), file: changeFileSchema }),
  z.strictObject({ op: z.literal('policy'), policy: policySchema }),
]);

export const changesSchema = z.array(changeSchema);

export type Position = z.infer<typeof positionSchema>;
export type ChangeEntry = z.infer<typeof changeEntrySchema>;
export type ChangeFile = z.infer<typeof changeFileSchema>;
export type Change = z.infer<typeof changeSchema>;
