import * as z from './zod.js';
import type { Attrs } from './attrs.js';
import type { EntryJson } from './entry-key.js';
import { NixError } from './errors.js';
import { readRegistry, type Registry, type RegistryEntry } from './registry.js';
import { attrsSchema, registryFileSchema } from './registry-schema.js';

/**
 * The edit vocabulary of a registry file: set, remove and move single entries,
 * or replace the whole file. The Nix core applies, diffs and merges these; the
 * protocol signs them (and adds policy changes of its own on top). Objects are
 * strict: an unknown field is refused rather than silently signed and ignored.
 * Entries and files must also read whole as Nix reads them; the refinements
 * below give Nix's reason, naming the entry.
 */

type Read<T> = { ok: true; value: T } | { ok: false; detail: string };

function readText<T>(text: string, pick: (r: Registry) => T): Read<T> {
  try {
    return { ok: true, value: pick(readRegistry(text)) };
  } catch (e) {
    if (e instanceof NixError) return { ok: false, detail: e.message };
    throw e;
  }
}

/** One entry of a change, read as Nix reads it: as the only entry of a registry file. */
export function readChangeEntry(
  entry: Readonly<EntryJson> | { from: Attrs; to: Attrs; exact?: true | undefined },
): Read<RegistryEntry> {
  const read = readText(JSON.stringify({ version: 2, flakes: [entry] }), (r) => r.entries[0]);
  if (!read.ok)
    return {
      ok: false,
      detail: read.detail.replace(/^invalid flake registry entry 0 /, 'invalid flake registry entry '),
    };
  if (read.value === undefined) return { ok: false, detail: 'invalid flake registry entry: missing' };
  return { ok: true, value: read.value };
}

/** A whole file of a `file` change; refused, naming the entry, if Nix would read it only in part. */
export function readChangeFile(file: unknown): Read<Registry> {
  return readText(JSON.stringify(file), (r) => r);
}

/**
 * `exact: true` names the exact entry with a `from`; left out, the non-exact
 * one. A registry may hold one of each with an equal `from` (the official
 * registry's two bare `nixpkgs` entries), so the pair names one entry.
 * `exact: false` is refused for one spelling per meaning, as in an entry.
 */
const exactSchema = z.optional(
  z.literal(true, { error: 'exact is written only when true; leave it out for a non-exact entry' }),
);

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
  .check(
    z.superRefine((entry, ctx) => {
      const read = readChangeEntry(entry);
      if (!read.ok) ctx.addIssue({ code: 'custom', message: read.detail });
    }),
  );

/** A whole registry file as the upload tool sends it (Nix ignores unknown keys, so they are kept). */
export const changeFileSchema = registryFileSchema.check(
  z.superRefine((file, ctx) => {
    const read = readChangeFile(file);
    if (!read.ok) ctx.addIssue({ code: 'custom', message: read.detail });
  }),
);

export const setChangeSchema = z.strictObject({
  op: z.literal('set'),
  entry: changeEntrySchema,
  position: z.optional(positionSchema),
});
export const removeChangeSchema = z.strictObject({ op: z.literal('remove'), from: attrsSchema, exact: exactSchema });
export const moveChangeSchema = z.strictObject({
  op: z.literal('move'),
  from: attrsSchema,
  exact: exactSchema,
  position: positionSchema,
});
export const fileChangeSchema = z.strictObject({ op: z.literal('file'), file: changeFileSchema });

export const entryChangeSchema = z.discriminatedUnion('op', [
  setChangeSchema,
  removeChangeSchema,
  moveChangeSchema,
  fileChangeSchema,
]);

export type Position = z.infer<typeof positionSchema>;
export type ChangeEntry = z.infer<typeof changeEntrySchema>;
export type ChangeFile = z.infer<typeof changeFileSchema>;
/** One edit of a registry file. */
export type EntryChange = z.infer<typeof entryChangeSchema>;
