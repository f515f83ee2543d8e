/**
 * The writer's own SQLite tables (one Durable Object per registry): the source
 * of truth. KV only ever receives copies of `versions` and the head. Documented
 * in docs/storage.md.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS versions (
  version INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS texts (
  key TEXT NOT NULL,
  chunk INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (key, chunk)
);
CREATE TABLE IF NOT EXISTS policies (
  since INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
  id TEXT PRIMARY KEY,
  base INTEGER NOT NULL,
  message TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  submitted TEXT NOT NULL,
  status TEXT NOT NULL,
  version INTEGER,
  outcome TEXT
);
CREATE INDEX IF NOT EXISTS proposals_by_status ON proposals (status, expires_ms);
CREATE TABLE IF NOT EXISTS signatures (
  proposal TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key TEXT NOT NULL,
  signature TEXT NOT NULL,
  added TEXT NOT NULL,
  PRIMARY KEY (proposal, key_id)
);
CREATE TABLE IF NOT EXISTS log_leaves (
  leaf INTEGER PRIMARY KEY,
  record_sha256 TEXT NOT NULL,
  file_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

/** Keys of `texts`: every value that may be large is stored there, in chunks. */
export const textKeys = {
  record: (version: number) => `record/${version}`,
  file: (version: number) => `file/${version}`,
  proposal: (id: string) => `proposal/${id}`,
  review: (id: string) => `review/${id}`,
  /** The last checkpoint note the writer signed. */
  checkpoint: 'checkpoint',
} as const;

/** Counters in `meta`. */
export const META = {
  /** Every version up to this one has its file and record in KV. */
  published: 'published',
  /** The version the KV head names. */
  headPublished: 'head_published',
  /** When the KV head was last written (ms): KV takes one write a second per key. */
  headWrittenAt: 'head_written_at',
  /** Failed publishing attempts in a row, for the retry back-off. */
  failures: 'publish_failures',
  /** The log size whose tiles KV has. */
  logPublished: 'log_published',
  /** The size of the checkpoint KV has, and when it was cosigned and written (ms). */
  checkpointSize: 'checkpoint_size',
  cosignedAt: 'cosigned_at',
  checkpointWrittenAt: 'checkpoint_written_at',
  /** The signed-note key id of the key that signed that checkpoint: another key signs anew at once. */
  checkpointKeyId: 'checkpoint_key_id',
  /** 1 while open proposals a merged policy change may have brought to their thresholds wait to be settled. */
  settlePending: 'settle_pending',
} as const;

/**
 * Durable Object SQLite holds at most 2 MB in one value: large texts (files,
 * records, proposals, reviews) are stored in chunks of this many UTF-16 code
 * units (at most 3 bytes each in UTF-8).
 */
export const TEXT_CHUNK = 500_000;
