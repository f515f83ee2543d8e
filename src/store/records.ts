import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** The small mutable pointer to a registry's newest version. */
export const HeadSchema = z.object({
  version: z.number().int().positive(),
  sha256,
  created: z.iso.datetime(),
});
export type Head = z.infer<typeof HeadSchema>;

/** What changed between a version and its parent, by entry `from` URL. */
export const ChangeSummarySchema = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  moved: z.array(z.string()),
});
export type ChangeSummary = z.infer<typeof ChangeSummarySchema>;

/**
 * The immutable record of one version. `parent` links to the previous version's
 * file hash so the history can be checked offline; `source` says how the version
 * came to be (the registry's embedded file for version 1, a merged proposal after).
 */
export const VersionRecordSchema = z.object({
  registry: z.string(),
  version: z.number().int().positive(),
  sha256,
  parent: sha256.nullable(),
  created: z.iso.datetime(),
  entries: z.number().int().nonnegative(),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('embedded') }),
    z.object({
      kind: z.literal('proposal'),
      id: z.string(),
      signatures: z.array(z.string()),
    }),
  ]),
  changes: ChangeSummarySchema,
});
export type VersionRecord = z.infer<typeof VersionRecordSchema>;
