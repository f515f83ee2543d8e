import { clone, config, globalRegistry, type core } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod as the schemas of this project use it: `zod/mini`, whose schemas are built with functions
 * (`z.optional(s)`, `s.check(z.minLength(1))`) instead of methods. A bundle keeps only the
 * functions it calls, where a classic schema carries every method and classic zod's JSON Schema
 * output with it; the Worker's script is the smaller for it (docs/performance.md). Both share
 * zod's core: the same checks, the same messages, the same JSON Schema for the OpenAPI document
 * (scripts/openapi-document.ts).
 *
 * Every module that describes data imports zod from here, so zod's English messages, which
 * classic zod sets by itself and `zod/mini` leaves to its user, are set before any schema parses:
 * the errors a user reads for bad input are the same words.
 */
config(en());

export * from 'zod/mini';

/**
 * `schema` with `meta` (a description, an example, an `id` for the OpenAPI document's
 * components), as classic zod's `schema.meta(meta)` makes it: a copy of the schema registered
 * with it, the schema itself left as it was.
 */
export function withMeta<T extends core.$ZodType>(schema: T, meta: core.GlobalMeta): T {
  const copy = clone(schema);
  globalRegistry.add(copy, meta);
  return copy;
}
