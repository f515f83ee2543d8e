import { mkdir, readFile, rmdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { decodeBase64, encodeBase64 } from '../../../src/crypto/base64.js';
import { sha256HexSync } from '../../../src/crypto/sha256.js';
import { openCheckpoint } from '../../../src/log/checkpoint.js';
import { followLog, readVersionLeaves, type FollowedLog } from '../../../src/log/client.js';
import { LogError } from '../../../src/log/errors.js';
import type { Leaf } from '../../../src/log/leaf.js';
import { HASH_BYTES } from '../../../src/log/merkle.js';
import { ED25519 } from '../../../src/log/note.js';
import { logOrigin } from '../../../src/log/origin.js';
import { formatVerifierKey, parseVerifierKey, type VerifierKey } from '../../../src/log/vkey.js';
import { readRegistry } from '../../../src/nix/registry.js';
import { REGISTRY_NAME } from '../../../src/protocol/names.js';
import { PolicyError, readPolicy, type PolicyJson } from '../../../src/protocol/policy.js';
import { resumeHistory, type HistoryVersion, type VerifiedHead } from '../../../src/protocol/verify.js';
import { TIMEOUT_MS, problemLine, seg, type Client } from '../client.js';
import { flag, requiredOption, stringOption, type Command, type Context } from '../command.js';
import { CHECKPOINT_AGE, parseDuration } from '../duration.js';
import { stage, targetOf, withLock, type Staged } from '../atomic.js';
import { CliError, SecurityError, UnreachableError, UsageError } from '../errors.js';
import { logAnswerLimit, logKeyOption } from '../log-key.js';
import { fileProblem } from '../files.js';
import { entryDiff } from '../show.js';

/**
 * `flake-registry sync`: keeps a local registry file that is only ever a version the
 * registry's maintainers signed, shown in the registry's transparency log (docs/sync.md
 * gives the checks in order and why). Nix reads that file through a local path and so
 * verifies nothing itself.
 */

const SHA256 = /^[0-9a-f]{64}$/;
const STATE_FORMAT = 1;
const PARALLEL = 8;
const DEFAULT_MAX_AGE = '24h';

/** What sync keeps between runs: `DIR/NAME.json`, written after FILE. */
interface SyncState {
  readonly format: typeof STATE_FORMAT;
  readonly registry: string;
  /** SHA-256 of version 1's record: the history trusted starts there. */
  readonly anchor: string;
  /** The log's verifier key (NAME+ID+KEY), pinned at the first sync. */
  readonly logKey: string;
  /** The newest verified version: its number, its record's and its file's SHA-256. */
  readonly version: number;
  readonly record: string;
  readonly file: string;
  /** The policy in force after it, and the version it is in force since. */
  readonly policy: PolicyJson;
  readonly policySince: number;
  /** The last checkpoint verified: its size, root (base64), cosignature time (POSIX seconds) and note. */
  readonly checkpoint: { readonly size: number; readonly root: string; readonly time: number; readonly note: string };
}

/** A state file that is not one sync wrote: named, with why, and what to do. */
function notAState(path: string, why: string): never {
  throw new CliError(
    `${path} is not a sync state (${why}); move it away to start again from a new anchor (--trust pins the old one)`,
  );
}

function readState(text: string, path: string, registry: string): SyncState {
  const bad = (why: string): never => notAState(path, why);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (typeof json !== 'object' || json === null) return bad('not an object');
  const s = json as Partial<SyncState>;
  if (s.format !== STATE_FORMAT) return bad(`format ${String(s.format)}, this command writes ${STATE_FORMAT}`);
  if (s.registry !== registry) return bad(`it is registry '${String(s.registry)}'s`);
  if (typeof s.anchor !== 'string' || !SHA256.test(s.anchor)) return bad('no anchor');
  if (typeof s.logKey !== 'string') return bad('no log key');
  try {
    if (parseVerifierKey(s.logKey).type !== ED25519) return bad("its log key is a cosigner's key, not a log's");
  } catch (error) {
    if (error instanceof LogError) return bad(`its log key: ${error.message}`);
    throw error;
  }
  if (!Number.isSafeInteger(s.version) || (s.version ?? 0) < 1) return bad('no version');
  const version = s.version as number;
  if (typeof s.record !== 'string' || !SHA256.test(s.record)) return bad('no record hash');
  if (typeof s.file !== 'string' || !SHA256.test(s.file)) return bad('no file hash');
  try {
    readPolicy(s.policy);
  } catch (error) {
    if (error instanceof PolicyError) return bad(`its policy: ${error.message.replace(/^policy: /, '')}`);
    throw error;
  }
  if (!Number.isSafeInteger(s.policySince) || (s.policySince ?? 0) < 1 || (s.policySince ?? 0) > version + 1) {
    return bad('no policy version');
  }
  const c = s.checkpoint;
  if (typeof c !== 'object' || c === null) return bad('no checkpoint');
  if (c.size !== version) return bad(`its checkpoint is of size ${String(c.size)}, not of its version ${version}`);
  if (typeof c.note !== 'string') return bad('no checkpoint note');
  if (!Number.isSafeInteger(c.time) || c.time < 0) return bad('no checkpoint time');
  let root: Uint8Array | undefined;
  try {
    root = typeof c.root === 'string' ? decodeBase64(c.root) : undefined;
  } catch {
    root = undefined;
  }
  if (root?.length !== HASH_BYTES) return bad('its checkpoint root is not a base64 SHA-256 hash');
  return s as SyncState;
}

async function readIfThere(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new CliError(`${path} ${fileProblem(error)}`);
  }
}

function defaultStateDir(ctx: Context): string {
  // The XDG Base Directory spec: a relative path in the variable is invalid and is ignored.
  const xdg = ctx.io.env['XDG_STATE_HOME'];
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'flake-registry');
  const home = ctx.io.env['HOME'];
  if (home) return join(home, '.local', 'state', 'flake-registry');
  throw new UsageError('neither XDG_STATE_HOME nor HOME is set: give --state DIR', 'sync');
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const sha256Of = (bytes: Uint8Array | string): string =>
  sha256HexSync(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);

/** The bytes of a GET that must answer 200; anything else is an ordinary failure. */
async function getBytes(client: Client, path: string, limit?: number): Promise<Uint8Array> {
  const got = await client.raw(path, limit);
  if (got.status !== 200) {
    throw new CliError(problemLine(got.res, new TextDecoder().decode(got.bytes), `GET ${client.base}${path}`));
  }
  return got.bytes;
}

const isNoLogKey = (status: number, bytes: Uint8Array): boolean =>
  status === 404 && new TextDecoder().decode(bytes).includes('urn:flake-registry:problem:no-log-key');

export const sync: Command = {
  name: 'sync',
  summary:
    'Keep a registry file for Nix that is only ever a version the maintainers signed and the registry log shows: fetch what is new, verify it, then replace FILE atomically.',
  usage:
    '--registry NAME --to FILE [--state DIR] [--trust SHA256] [--log-key VKEY] [--max-age DURATION] [--url URL] [--json]',
  description: [
    "Point Nix at FILE (flake-registry = /var/lib/flake-registry/global.json): Nix checks nothing it reads, so sync does, in this order. The checkpoint: signed by the pinned log key, of this registry, cosigned within --max-age of this machine's clock (and not ahead of it), never smaller than or inconsistent with the last one kept, every tile read checked against it. The new versions' leaves in the log, then each new version's record and file, byte for byte the ones their leaf names; version 1's record is the anchor, and the version verified last is still the one verified. Then the new versions with the core's verifier, from the version verified last: signatures of distinct trusted keys reaching the threshold of the policy in force, policy changes by both thresholds, hash links, each merge replayed. Only then is FILE replaced (mode 0644, written and renamed), then the state.",
    "Trust starts from version 1's record: --trust SHA256 pins it (the SHA-256 of the bytes of /registries/NAME/versions/1: curl -s URL/registries/NAME/versions/1 | sha256sum); without it the first sync trusts what it sees and prints how to pin it. The log key is --log-key VKEY (flake-registry pubkey --vkey), else the one the server gives at the first sync. Both are kept in the state (DIR/NAME.json; --state DIR, default $XDG_STATE_HOME/flake-registry, else ~/.local/state/flake-registry) with the last version and checkpoint verified; a --trust or --log-key that disagrees with it is a SECURITY ERROR. The URL is not kept: a mirror serving the same signed data passes.",
    `Nothing is printed when FILE is already the newest verified version; otherwise a line per entry changed and one for the version. Each request times out after ${TIMEOUT_MS / 1000} s.`,
    'Exit status: 0 up to date or updated; 1 an ordinary failure (the server unreachable, slow or failing, an unknown registry, a service without a transparency log, a file that cannot be written), FILE untouched, so Nix goes on with the last verified version; 2 a usage error; 3 SECURITY ERROR: what was served does not verify (a rollback, a fork, a stale, future or badly signed checkpoint, a tile, record or file that does not match, a history that does not verify, an anchor or log key that is not the one pinned), FILE and the state untouched.',
  ],
  positionals: { min: 0, max: 0, names: '' },
  options: {
    registry: { type: 'string', value: 'NAME', description: 'the registry to follow' },
    to: { type: 'string', value: 'FILE', description: 'the registry file Nix reads (written atomically, mode 0644)' },
    state: {
      type: 'string',
      value: 'DIR',
      description: 'where the anchor and last verified version are kept (default $XDG_STATE_HOME/flake-registry)',
    },
    trust: { type: 'string', value: 'SHA256', description: "pin version 1's record hash (the first sync prints it)" },
    'log-key': { type: 'string', value: 'VKEY', description: "pin the registry log's verifier key (NAME+ID+KEY)" },
    'max-age': {
      type: 'string',
      value: 'DURATION',
      description: `the oldest checkpoint accepted, by its cosignature time against this clock: 90s, 30m, 12h, 7d, up to ${CHECKPOINT_AGE.max.text} (default ${DEFAULT_MAX_AGE})`,
    },
  },
  examples: [
    'flake-registry sync --registry global --to /var/lib/flake-registry/global.json --url https://registry.example.org',
    'flake-registry sync --registry global --to global.json --trust 3f1c…(64 hex digits) --log-key registry.example.org+1a2b3c4d+AQ…',
  ],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = requiredOption(args, 'registry', 'sync');
    if (!REGISTRY_NAME.test(name)) throw new UsageError(`--registry '${name}' is not a registry name`, 'sync');
    const toText = requiredOption(args, 'to', 'sync');
    if (toText.trim() === '') throw new UsageError('--to is empty: give the path of the file Nix reads', 'sync');
    const stateText = stringOption(args, 'state');
    if (stateText?.trim() === '') {
      throw new UsageError(
        '--state is empty: give a directory, or leave it out for $XDG_STATE_HOME/flake-registry',
        'sync',
      );
    }
    const to = resolve(ctx.io.cwd, toText);
    const stateDir = resolve(ctx.io.cwd, stateText ?? defaultStateDir(ctx));
    const trust = stringOption(args, 'trust')?.trim().toLowerCase();
    if (trust !== undefined && !SHA256.test(trust)) {
      throw new UsageError(`--trust takes the SHA-256 of version 1's record, 64 hex digits, got '${trust}'`, 'sync');
    }
    const given = logKeyOption(stringOption(args, 'log-key'), 'sync');
    let maxAgeMs: number;
    try {
      maxAgeMs = parseDuration(stringOption(args, 'max-age') ?? DEFAULT_MAX_AGE, CHECKPOINT_AGE);
    } catch (error) {
      throw new UsageError(`--max-age: ${(error as Error).message}`, 'sync');
    }
    try {
      await runSync(ctx, { name, to, stateDir, trust, given, maxAgeMs });
    } catch (error) {
      if (flag(args, 'json') && !(error instanceof UsageError)) ctx.data({ error: errorJson(error) });
      throw error;
    }
  },
};

function errorJson(error: unknown): unknown {
  if (error instanceof SecurityError) {
    return { kind: 'security', code: error.code, message: error.message, evidence: error.evidence };
  }
  const unreachable = error instanceof UnreachableError;
  return {
    kind: unreachable ? 'unreachable' : 'failure',
    code: unreachable ? 'unreachable' : 'failure',
    message: error instanceof Error ? error.message : String(error),
    evidence: [],
  };
}

interface SyncOptions {
  readonly name: string;
  readonly to: string;
  readonly stateDir: string;
  readonly trust: string | undefined;
  readonly given: VerifierKey | undefined;
  readonly maxAgeMs: number;
}

/** A refusal: `registry 'NAME': WHAT: DETAIL`, then what was expected and what was served. */
const refusal = (name: string, code: string, detail: string, evidence: readonly string[]): SecurityError =>
  new SecurityError(`registry '${name}': ${code}: ${detail}`, code, evidence);

async function runSync(ctx: Context, o: SyncOptions): Promise<void> {
  const { name } = o;
  // FILE and the state as the paths lead, through symbolic links: a link stays a link.
  const to = await targetOf(o.to);
  const statePath = await targetOf(join(o.stateDir, `${name}.json`));
  if (to === statePath) {
    throw new UsageError(`--to ${o.to} is the sync state's own file: give FILE a path outside ${o.stateDir}`, 'sync');
  }
  // One run at a time per state: a second waits, so neither writes what the other outdated.
  let made: string | undefined;
  try {
    made = await mkdir(dirname(statePath), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError(`cannot make the sync state's directory ${dirname(statePath)}: ${fileProblem(error)}`);
  }
  try {
    await withLock(`${statePath}.lock`, `the sync state ${statePath}`, () => syncLocked(ctx, o, to, statePath));
  } finally {
    // A directory made for a run that wrote nothing is not left behind.
    for (let dir = dirname(statePath); made !== undefined; dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        )) ||
        dir === made ||
        dir === dirname(dir)
      )
        break;
    }
  }
}

async function syncLocked(ctx: Context, o: SyncOptions, to: string, statePath: string): Promise<void> {
  const { name } = o;
  const stateBytes = await readIfThere(statePath);
  const kept = stateBytes === undefined ? undefined : readState(decoder.decode(stateBytes), statePath, name);
  if (kept) await checkKeptNote(ctx, kept, statePath);
  if (kept && o.trust !== undefined && o.trust !== kept.anchor) {
    throw refusal(name, 'anchor-mismatch', '--trust is not the anchor this machine verified from', [
      `expected (kept in ${statePath}): version 1's record sha256 ${kept.anchor}`,
      `given: --trust ${o.trust}`,
    ]);
  }
  if (kept && o.given && formatVerifierKey(o.given) !== kept.logKey) {
    throw refusal(name, 'log-key-mismatch', '--log-key is not the log key this machine pinned', [
      `expected (kept in ${statePath}): ${kept.logKey}`,
      `given: --log-key ${formatVerifierKey(o.given)}`,
    ]);
  }

  // 1. The checkpoint, with the pinned key (or the one served, on first use).
  const client = ctx.client();
  const log = `/registries/${seg(name)}/log`;
  const checkpointUrl = `${client.base}${log}/checkpoint`;
  const checkpoint = await client.raw(`${log}/checkpoint`, logAnswerLimit(`${log}/checkpoint`));
  const pinnedText = kept?.logKey ?? (o.given ? formatVerifierKey(o.given) : undefined);
  if (isNoLogKey(checkpoint.status, checkpoint.bytes)) {
    if (pinnedText !== undefined) {
      throw refusal(name, 'log-missing', 'the service says it keeps no log, but a log key is pinned (a downgrade)', [
        `expected: a checkpoint signed by ${pinnedText}`,
        `served: ${checkpointUrl} answered 404 no-log-key`,
      ]);
    }
    throw new CliError(
      `registry '${name}' has no transparency log on ${client.base} (no log key is configured): sync needs the registry's transparency log`,
    );
  }
  if (checkpoint.status !== 200) {
    throw new CliError(problemLine(checkpoint.res, new TextDecoder().decode(checkpoint.bytes), `GET ${checkpointUrl}`));
  }
  if (!looksLikeNote(checkpoint.bytes)) {
    // An empty answer, a page or JSON is a wrong --url or a captive portal, not a log that lies.
    throw new CliError(
      `${checkpointUrl} answered 200 with ${checkpoint.bytes.length === 0 ? 'nothing' : 'something that is not a signed checkpoint'}: not a flake-registry-service answer (is --url right?)`,
    );
  }
  let key: VerifierKey;
  let firstUseOfKey = false;
  if (pinnedText !== undefined) key = parseVerifierKey(pinnedText);
  else {
    const served = await getBytes(client, `${log}/key`, logAnswerLimit(`${log}/key`));
    try {
      key = parseVerifierKey(new TextDecoder().decode(served));
    } catch (error) {
      if (error instanceof LogError)
        throw new CliError(`${client.base}${log}/key is not a verifier key: ${error.message}`);
      throw error;
    }
    firstUseOfKey = true;
  }
  const origin = logOrigin(key.name, name);
  const logEvidence = (): string[] => [
    `expected: a checkpoint of ${origin} signed by ${formatVerifierKey(key)}, cosigned within ${o.maxAgeMs / 1000} s` +
      (kept ? `, extending size ${kept.checkpoint.size} root ${kept.checkpoint.root}` : ''),
    `served: ${checkpointUrl} and the tiles under ${client.base}${log}/tile/`,
  ];
  let followed: FollowedLog;
  try {
    followed = await followLog(checkpoint.bytes, {
      key,
      origin,
      now: ctx.io.now().getTime(),
      maxAgeMs: o.maxAgeMs,
      ...(kept ? { kept: { size: kept.checkpoint.size, root: decodeBase64(kept.checkpoint.root) } } : {}),
      fetchTile: (path) => getBytes(client, `${log}/${path}`, logAnswerLimit(`${log}/${path}`)),
    });
  } catch (error) {
    if (error instanceof LogError) throw refusal(name, error.code, error.message, logEvidence());
    throw error;
  }
  const { size, root } = followed.checkpoint;
  if (size === 0) throw new CliError(`registry '${name}'s log is empty: nothing is published yet`);
  if (kept && size > kept.version && followed.timestamp < kept.checkpoint.time) {
    // The writer cosigns in order: a larger tree cosigned before the one kept was never its latest.
    throw refusal(
      name,
      'stale',
      `its checkpoint of size ${size} was cosigned before the one kept of size ${kept.version}`,
      [
        `expected (kept in ${statePath}): a checkpoint cosigned at ${isoTime(kept.checkpoint.time)} or later`,
        `served: ${checkpointUrl} cosigned at ${isoTime(followed.timestamp)}`,
      ],
    );
  }
  if (kept) await checkKept(followed, kept, statePath, logEvidence);
  const note = decoder.decode(checkpoint.bytes);
  const checkpointJson = {
    size,
    root: encodeBase64(root),
    time: new Date(followed.timestamp * 1000).toISOString(),
  };

  const current = await readIfThere(to);
  const fileIntact = kept !== undefined && current !== undefined && sha256Of(current) === kept.file;
  if (kept && size === kept.version) {
    // Nothing new: the checkpoint is the one kept (same size, same root), and fresh. A newer
    // cosignature is kept (an older one, from a cache, is fresh enough but not kept).
    const fresher =
      followed.timestamp > kept.checkpoint.time
        ? {
            ...kept,
            checkpoint: { ...kept.checkpoint, time: followed.timestamp, note: decoder.decode(checkpoint.bytes) },
          }
        : undefined;
    const file = fileIntact ? undefined : await verifiedFile(client, name, kept.version, kept.file);
    await commit(o, to, statePath, file, fresher);
    if (file !== undefined) {
      ctx.say(
        `${o.to} was ${current === undefined ? 'missing' : 'changed since the last sync'}: version ${kept.version} of '${name}' written again (sha256 ${kept.file})`,
      );
    }
    ctx.data({
      registry: name,
      updated: !fileIntact,
      from: kept.version,
      version: kept.version,
      sha256: kept.file,
      anchor: kept.anchor,
      checkpoint: checkpointJson,
      changes: [],
    });
    return;
  }

  // 2. The new versions' leaves, authenticated by the checkpoint.
  const first = kept ? kept.version + 1 : 1;
  const leaves = await leavesOf(followed, name, first, size, logEvidence);

  // 3. Their records and files, exactly the bytes their leaves name.
  const versions = await fetchVersions(ctx, client, name, leaves);
  const anchorServed = kept?.anchor ?? sha256Of((versions[0] as HistoryVersion).recordText);
  if (!kept && o.trust !== undefined && o.trust !== anchorServed) {
    throw refusal(name, 'anchor-mismatch', 'version 1 is not the one trusted', [
      `expected (--trust): version 1's record sha256 ${o.trust}`,
      `served: ${client.base}/registries/${seg(name)}/versions/1 with sha256 ${anchorServed}`,
    ]);
  }
  let head: VerifiedHead | undefined;
  if (kept) {
    const path = `/registries/${seg(name)}/versions/${kept.version}`;
    const served = sha256Of(await getBytes(client, path));
    if (served !== kept.record) {
      throw refusal(name, 'fork', `version ${kept.version} is not the one verified: two histories`, [
        `expected (kept in ${statePath}): version ${kept.version}'s record sha256 ${kept.record}`,
        `served: ${client.base}${path} with sha256 ${served}`,
      ]);
    }
    const file =
      fileIntact && current ? decoder.decode(current) : await verifiedFile(client, name, kept.version, kept.file);
    head = {
      registry: name,
      version: kept.version,
      recordHash: kept.record,
      file,
      policy: kept.policy,
      policySince: kept.policySince,
    };
  }

  // 4. The new versions with the core's verifier, from where it stopped.
  const result = await resumeHistory(head, versions, {
    baseFile: async (n) => {
      const [leaf] = await leavesOf(followed, name, n, n, logEvidence);
      return verifiedFile(client, name, n, (leaf as Leaf).file);
    },
  });
  if (!result.ok) {
    throw refusal(name, result.code, `the history does not verify: ${result.reason}`, [
      `expected: version ${result.version} signed and made as the policy in force and its parent require`,
      `served: ${client.base}/registries/${seg(name)}/versions/${result.version} (${result.code})`,
    ]);
  }

  // 5. FILE, then the state.
  const newest = result.verified;
  const sha256 = sha256Of(newest.file);
  const state: SyncState = {
    format: STATE_FORMAT,
    registry: name,
    anchor: anchorServed,
    logKey: formatVerifierKey(key),
    version: newest.version,
    record: newest.recordHash,
    file: sha256,
    policy: newest.policy,
    policySince: newest.policySince,
    checkpoint: { size, root: encodeBase64(root), time: followed.timestamp, note },
  };
  await commit(o, to, statePath, newest.file, state);

  const lines = head ? entryDiff(readRegistry(head.file), readRegistry(newest.file)).lines : [];
  if (kept && !fileIntact) {
    ctx.say(`${o.to} was ${current === undefined ? 'missing' : 'changed since the last sync'}: written again`);
  }
  for (const line of lines) ctx.say(line);
  ctx.say(
    kept
      ? `${name}: version ${kept.version} -> ${newest.version} (sha256 ${sha256})`
      : `${name}: version ${newest.version} (sha256 ${sha256}) written to ${o.to}`,
  );
  if (!kept && (o.trust === undefined || firstUseOfKey)) {
    const trusted = [
      ...(o.trust === undefined ? [`version 1's record sha256 ${anchorServed}`] : []),
      ...(firstUseOfKey ? [`the log key ${state.logKey}`] : []),
    ];
    const pins = [
      ...(o.trust === undefined ? [`--trust ${anchorServed}`] : []),
      ...(firstUseOfKey ? [`--log-key ${state.logKey}`] : []),
    ];
    ctx.io.err(
      `flake-registry: first sync of '${name}': trusted ${trusted.join(' and ')} as ${client.base} gave ${trusted.length === 1 ? 'it' : 'them'}; check ${trusted.length === 1 ? 'it' : 'them'} out of band and pin with ${pins.join(' ')}\n`,
    );
  }
  ctx.data({
    registry: name,
    updated: true,
    from: kept?.version ?? null,
    version: newest.version,
    sha256,
    anchor: anchorServed,
    checkpoint: checkpointJson,
    changes: lines,
  });
}

async function leavesOf(
  followed: FollowedLog,
  name: string,
  from: number,
  to: number,
  evidence: () => string[],
): Promise<Leaf[]> {
  try {
    return await readVersionLeaves(followed.reader, name, from, to);
  } catch (error) {
    if (error instanceof LogError)
      throw new SecurityError(`registry '${name}': ${error.code}: ${error.message}`, error.code, evidence());
    throw error;
  }
}

/** Version n's file, which must hash to `sha256` (a kept hash or its log leaf's). */
async function verifiedFile(client: Client, name: string, n: number, sha256: string): Promise<string> {
  const path = `/registries/${seg(name)}/versions/${n}/flake-registry.json`;
  const bytes = await getBytes(client, path);
  const served = sha256Of(bytes);
  if (served !== sha256) {
    throw refusal(name, 'file-mismatch', `version ${n}'s file is not the one verified`, [
      `expected: sha256 ${sha256}`,
      `served: ${client.base}${path} with sha256 ${served}`,
    ]);
  }
  return decodeText(name, bytes, path);
}

function decodeText(name: string, bytes: Uint8Array, path: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw refusal(name, 'not-text', `${path} is not UTF-8 text`, [
      'expected: UTF-8 text',
      `served: ${bytes.length} bytes`,
    ]);
  }
}

/** The records and files of the versions `leaves` name, each exactly the bytes its leaf names. */
async function fetchVersions(
  ctx: Context,
  client: Client,
  name: string,
  leaves: readonly Leaf[],
): Promise<HistoryVersion[]> {
  const versions = new Array<HistoryVersion>(leaves.length);
  const progress = ctx.io.progress && leaves.length > PARALLEL;
  for (let start = 0; start < leaves.length; start += PARALLEL) {
    await Promise.all(
      leaves.slice(start, start + PARALLEL).map(async (leaf, i) => {
        const base = `/registries/${seg(name)}/versions/${leaf.version}`;
        const [record, file] = await Promise.all([
          getBytes(client, base),
          getBytes(client, `${base}/flake-registry.json`),
        ]);
        for (const [what, bytes, path, expected] of [
          ['record', record, base, leaf.record],
          ['file', file, `${base}/flake-registry.json`, leaf.file],
        ] as const) {
          const served = sha256Of(bytes);
          if (served !== expected) {
            throw refusal(
              name,
              'leaf-mismatch',
              `version ${leaf.version}'s ${what} is not the one its log leaf names`,
              [
                `expected (the log's leaf ${leaf.version - 1}): ${what} sha256 ${expected}`,
                `served: ${client.base}${path} with sha256 ${served}`,
              ],
            );
          }
        }
        versions[start + i] = { recordText: decodeText(name, record, base), file: decodeText(name, file, base) };
      }),
    );
    if (progress)
      ctx.io.err(`\rfetching versions of '${name}': ${Math.min(leaves.length, start + PARALLEL)}/${leaves.length}`);
  }
  if (progress) ctx.io.err('\n');
  return versions;
}

const isoTime = (seconds: number): string => new Date(seconds * 1000).toISOString();

/**
 * The state against the log it was verified with: version 1's leaf names the anchor and the
 * kept version's leaf its record and file. The checkpoint read is consistent with the one kept,
 * so a difference is the state edited since.
 */
async function checkKept(
  followed: FollowedLog,
  kept: SyncState,
  statePath: string,
  evidence: () => string[],
): Promise<void> {
  const name = kept.registry;
  const [genesis] = await leavesOf(followed, name, 1, 1, evidence);
  const [head] = kept.version === 1 ? [genesis] : await leavesOf(followed, name, kept.version, kept.version, evidence);
  const differ = (what: string, state: string, leaf: string): SecurityError =>
    refusal(name, 'state-mismatch', `the sync state's ${what} is not the one its log names: the state was changed`, [
      `expected (the log, consistent with the checkpoint kept): ${what} ${leaf}`,
      `kept in ${statePath}: ${what} ${state}`,
    ]);
  if (genesis?.record !== kept.anchor)
    throw differ("anchor (version 1's record sha256)", kept.anchor, genesis?.record ?? '');
  if (head?.record !== kept.record)
    throw differ(`version ${kept.version}'s record sha256`, kept.record, head?.record ?? '');
  if (head.file !== kept.file) throw differ(`version ${kept.version}'s file sha256`, kept.file, head.file);
}

/**
 * FILE's new bytes and the new state, both written and flushed before either is renamed into
 * place: a state that cannot be written leaves FILE as it was. FILE goes first, so a run killed
 * between the renames leaves a state behind FILE, which the next run writes FILE again from.
 */
async function commit(
  o: SyncOptions,
  to: string,
  statePath: string,
  file: string | undefined,
  state: SyncState | undefined,
): Promise<void> {
  let staged: Staged | undefined;
  if (state !== undefined) {
    try {
      staged = await stage(statePath, `${JSON.stringify(state, null, 2)}\n`, 0o600, 0o700);
    } catch (error) {
      throw new CliError(
        `cannot write the sync state ${statePath}: ${(error as Error).message}${file === undefined ? '' : `; ${o.to} left as it was`}`,
      );
    }
  }
  if (file !== undefined) {
    try {
      const next = await stage(to, file, 0o644, 0o755);
      await next.commit();
    } catch (error) {
      await staged?.abort();
      throw new CliError(`cannot write ${o.to}: ${(error as Error).message}`);
    }
  }
  try {
    await staged?.commit();
  } catch (error) {
    await staged?.abort();
    throw new CliError(
      `${o.to} holds version ${state?.version ?? ''}, but the sync state ${statePath} cannot be written: ${(error as Error).message}`,
    );
  }
}

/** Whether an answer can be a signed note at all: text whose first line is not empty, markup or JSON. */
function looksLikeNote(bytes: Uint8Array): boolean {
  const first = bytes[0];
  return first !== undefined && ![0x3c, 0x7b, 0x5b, 0x0a, 0x0d, 0x20, 0x09].includes(first) && bytes.includes(0x0a);
}

/**
 * The kept checkpoint is the note it was verified from: still signed by the pinned key for this
 * log, and saying the size, root and time the state holds. A state edited by hand fails here,
 * naming its file, rather than as a security error about the server on some later run.
 */
async function checkKeptNote(ctx: Context, kept: SyncState, statePath: string): Promise<void> {
  const bad = (why: string): never => notAState(statePath, why);
  const key = parseVerifierKey(kept.logKey);
  let opened: Awaited<ReturnType<typeof openCheckpoint>>;
  try {
    opened = await openCheckpoint(kept.checkpoint.note, {
      key,
      origin: logOrigin(key.name, kept.registry),
      now: ctx.io.now().getTime(),
      maxAgeMs: Number.MAX_SAFE_INTEGER,
    });
  } catch (error) {
    if (error instanceof LogError) return bad(`its checkpoint note: ${error.message}`);
    throw error;
  }
  const c = kept.checkpoint;
  if (opened.checkpoint.size !== c.size) bad(`its checkpoint note is of size ${opened.checkpoint.size}, not ${c.size}`);
  if (encodeBase64(opened.checkpoint.root) !== c.root) bad('its checkpoint note has another root');
  if (opened.timestamp !== c.time) bad(`its checkpoint note was cosigned at ${opened.timestamp}, not at ${c.time}`);
}
