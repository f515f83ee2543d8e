import * as z from './zod.js';

/**
 * The wire shape of a flake registry file (version 2) as this service publishes
 * and accepts it: the one description other layers (HTTP validation, OpenAPI)
 * build on. It is stricter than Nix's reader, which truncates fractional
 * numbers, takes `version: 2.5` for 2 and iterates a `flakes` object's values
 * (nlohmann::json conversions in src/libfetchers/registry.cc); the Nix-exact
 * rules live in registry.ts and both are applied to a file the service publishes.
 *
 * Objects are loose because Nix ignores unknown top-level and entry keys.
 */

/**
 * Nix's `jsonToAttrs` (src/libfetchers/attrs.cc) keeps strings, numbers as
 * uint64 and booleans. Integers are limited to JavaScript's safe range so that
 * a value survives a read/write round trip unchanged.
 */
export const attrValueSchema = z.union([z.string(), z.int().check(z.nonnegative()), z.boolean()]);

export const attrsSchema = z.record(z.string(), attrValueSchema);

export const registryEntrySchema = z.looseObject({
  from: attrsSchema,
  /** May carry `dir`, which Nix moves into the entry's extra attributes. */
  to: attrsSchema.check(
    z.refine((to) => to['dir'] === undefined || typeof to['dir'] === 'string', {
      message: "input attribute 'dir' is not a string",
    }),
  ),
  /** Only JSON `true` makes an entry exact; Nix rejects a non-boolean. */
  exact: z.optional(z.boolean()),
});

export const registryFileSchema = z.looseObject({
  version: z.literal(2),
  /**
   * Nix reads a missing or null `flakes` as an empty registry, and writes null
   * itself when it has no entries (`Registry::write` dumps a never-filled json).
   */
  flakes: z.optional(z.nullable(z.array(registryEntrySchema))),
});

export type RegistryFileJson = z.infer<typeof registryFileSchema>;
export type RegistryEntryJson = z.infer<typeof registryEntrySchema>;

/**
 * The first problem zod finds, placed as Nix users would look for it: the entry
 * index when the problem is inside `flakes`, then the path inside the entry.
 */
export function firstSchemaProblem(json: unknown): { entry?: number; path: string; message: string } | undefined {
  const result = registryFileSchema.safeParse(json);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (issue === undefined) return { path: '', message: 'invalid registry file' };
  const [top, index, ...rest] = issue.path.map(String);
  if (top === 'flakes' && index !== undefined && /^\d+$/.test(index)) {
    return { entry: Number(index), path: rest.join('.'), message: issue.message };
  }
  return { path: issue.path.map(String).join('.'), message: issue.message };
}
