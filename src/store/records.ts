import * as z from 'zod';

export {
  changeSummarySchema as ChangeSummarySchema,
  versionRecordSchema as VersionRecordSchema,
  type ChangeSummary,
  type VersionRecord,
} from '../protocol/record.js';

/** The small mutable pointer to a registry's newest version. */
export const HeadSchema = z.object({
  version: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  created: z.iso.datetime(),
  /** Made in the same second as its parent (see headOf in src/writer/outcomes.ts). */
  sharedSecond: z.literal(true).optional(),
});
export type Head = z.infer<typeof HeadSchema>;
