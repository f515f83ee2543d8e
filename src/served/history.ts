import { versionPageSchema } from '../api/answers.js';
import type { VerifierKey } from '../log/vkey.js';
import { verifyHistory, type HistoryVersion, type VerifyResult } from '../protocol/verify.js';
import { checkLog, fetchCheckpoint, type LogResult } from './log.js';
import { ServedError, type RawAnswer, type ServedSource } from './source.js';

/**
 * A registry's whole history as a service serves it, fetched and checked: every version's
 * record and file (exact bytes) through the history verifier (src/protocol/verify.ts), then,
 * when the service keeps one, its transparency log against that history. What
 * `flake-registry verify` and the history page's button both run.
 */

/** Versions fetched at once: each is two requests. */
const PARALLEL = 8;

/** How long the checks run before giving the event loop a turn (a page repaints its progress then). */
const SLICE_MS = 25;

export interface ServedProgress {
  /** `fetched`: a version's record and file arrived; `verified`: a version passed every check. */
  readonly step: 'fetched' | 'verified';
  readonly done: number;
  readonly total: number;
}

export interface VerifyServedOptions {
  readonly registry: string;
  /** Check signatures and replays from this version on (every hash link still from version 1). */
  readonly from?: number;
  /** The log's key, pinned; without it, the one the service gives (which proves only that log and history agree). */
  readonly logKey?: VerifierKey;
  readonly onProgress?: (progress: ServedProgress) => void;
  /** The clock the checkpoint's cosignature is read against. */
  readonly now?: () => number;
}

export interface ServedVerification {
  /** The head's number when the history was read. */
  readonly latest: number;
  readonly history: VerifyResult;
  /** The log's check, once the history verified; absent when the history failed. */
  readonly log?: LogResult;
}

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export async function verifyServedHistory<A extends RawAnswer>(
  source: ServedSource<A>,
  options: VerifyServedOptions,
): Promise<ServedVerification> {
  const name = options.registry;
  const from = options.from ?? 1;
  const now = options.now ?? Date.now;
  // The checkpoint first: it only ever names published versions, so the history read next covers it.
  const log = await fetchCheckpoint(source, name, options.logKey);
  const registry = `/registries/${encodeURIComponent(name)}`;
  const { latest } = await source.getJson(`${registry}/versions?limit=1`, versionPageSchema);
  if (from > latest) {
    throw new ServedError('past-head', `version ${from} is past the head of registry '${name}' (version ${latest})`);
  }
  const versions = new Array<HistoryVersion>(latest);
  let fetched = 0;
  for (let start = 1; start <= latest; start += PARALLEL) {
    const batch = Array.from({ length: Math.min(PARALLEL, latest - start + 1) }, (_, i) => start + i);
    await Promise.all(
      batch.map(async (n) => {
        const base = `${registry}/versions/${n}`;
        const [record, file] = await Promise.all([source.get(base), source.get(`${base}/flake-registry.json`)]);
        versions[n - 1] = { recordText: record.text, file: file.text };
        fetched++;
        options.onProgress?.({ step: 'fetched', done: fetched, total: latest });
      }),
    );
  }
  let slice = Date.now();
  const history = await verifyHistory(versions, {
    from,
    onVerified: async (version) => {
      options.onProgress?.({ step: 'verified', done: version, total: latest });
      if (Date.now() - slice >= SLICE_MS) {
        await pause();
        slice = Date.now();
      }
    },
  });
  if (!history.ok) return { latest, history };
  return { latest, history, log: 'absent' in log ? log : await checkLog(source, name, log, versions, now()) };
}
