import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { decodeBase64, encodeBase64 } from '../../../src/crypto/base64.js';
import { sha256HexSync } from '../../../src/crypto/sha256.js';
import { followLog, readVersionLeaves, type FollowedLog } from '../../../src/log/client.js';
import { LogError } from '../../../src/log/errors.js';
import { logOrigin } from '../../../src/log/origin.js';
import { formatVerifierKey, parseVerifierKey, type VerifierKey } from '../../../src/log/vkey.js';
import { readRegistry } from '../../../src/nix/registry.js';
import { REGISTRY_NAME } from '../../../src/protocol/names.js';
import { verifyHistory, type HistoryVersion } from '../../../src/protocol/verify.js';
import { problemLine, seg, type Client } from '../client.js';
import { flag, requiredOption, stringOption, type Command, type Context } from '../command.js';
import { CHECKPOINT_AGE, parseDuration } from '../duration.js';
import { CliError, SecurityError, UsageError } from '../errors.js';
import { fileProblem } from '../files.js';
import { entryDiff } from '../show.js';

/**
 * `flake-registry sync`: keeps a local registry file that is only ever a version the
 * registry's maintainers signed, shown in the registry's transparency log (docs/sync.md).
 * Nix reads that file through a local path and so verifies nothing itself.
 */

const SHA256 = /^[0-9a-f]{64}$/;
const STATE_FORMAT = 1;
const PARALLEL = 8;

/** What sync keeps between runs, one file per registry in the state directory. */
interface SyncState {
  readonly format: typeof STATE_FORMAT;
  readonly registry: string;
  /** SHA-256 of version 1's record: the history sync trusts starts there. */
  readonly anchor: string;
  /** The log's verifier key, pinned at the first sync. */
  readonly logKey: string;
  /** The newest verified version: its number, its record's and file's SHA-256. */
  readonly version: number;
  readonly record: string;
  readonly file: string;
  /** The last checkpoint verified. */
  readonly checkpoint: { readonly size: number; readonly root: string; readonly time: number };
}

function readState(text: string, path: string, registry: string): SyncState {
  const bad = (why: string): never => {
    throw new CliError(`${path} is not a sync state (${why}); move it away to start again from a new anchor`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  const s = json as Partial<SyncState>;
  if (typeof s !== 'object' || s === null || s.format !== STATE_FORMAT) return bad('unknown format');
  if (s.registry !== registry) return bad(`it is registry '${String(s.registry)}'s`);
  if (typeof s.anchor !== 'string' || !SHA256.test(s.anchor)) return bad('no anchor');
  if (typeof s.logKey !== 'string') return bad('no log key');
  if (!Number.isSafeInteger(s.version) || (s.version ?? 0) < 1) return bad('no version');
  if (typeof s.record !== 'string' || !SHA256.test(s.record)) return bad('no record hash');
  if (typeof s.file !== 'string' || !SHA256.test(s.file)) return bad('no file hash');
  const c = s.checkpoint;
  if (typeof c !== 'object' || c === null || c.size !== s.version || typeof c.root !== 'string') {
    return bad('no checkpoint');
  }
  return s as SyncState;
}

/** Writes `bytes` to `path` so that a reader sees the old file or the new one, never half of one. */
async function replaceFile(path: string, bytes: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new CliError(`${path} ${fileProblem(error)}`);
  }
}

function defaultStateDir(ctx: Context): string {
  const xdg = ctx.io.env['XDG_STATE_HOME'];
  if (xdg) return join(xdg, 'flake-registry');
  const home = ctx.io.env['HOME'];
  if (home) return join(home, '.local', 'state', 'flake-registry');
  throw new UsageError('neither XDG_STATE_HOME nor HOME is set: give --state DIR', 'sync');
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const sha256Of = (text: string): string => sha256HexSync(new TextEncoder().encode(text));

/** The bytes of a GET that must answer 200; anything else is an ordinary failure. */
async function getBytes(client: Client, path: string): Promise<Uint8Array> {
  const got = await client.raw(path);
  if (got.status !== 200) {
    throw new CliError(problemLine(got.res, new TextDecoder().decode(got.bytes), `GET ${client.base}${path}`));
  }
  return got.bytes;
}

async function getText(client: Client, path: string): Promise<string> {
  const bytes = await getBytes(client, path);
  try {
    return decoder.decode(bytes);
  } catch {
    throw new SecurityError(`${client.base}${path} is not UTF-8 text`, 'not-text');
  }
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
    "Point Nix at FILE (flake-registry = /var/lib/flake-registry/global.json): Nix checks nothing it reads, so sync does. Each run checks the registry log's checkpoint (signed by the pinned log key, of this registry, cosigned within --max-age of this machine's clock, never smaller than or inconsistent with the last one kept), every tile against it, each new version's leaf against its record and file, then the history (signatures of distinct trusted keys reaching each threshold, hash links, files byte for byte, each merge replayed). Only then is FILE replaced, and then the state.",
    "Trust starts from version 1's record: --trust SHA256 pins it (`history` and `status` show it); without it the first sync trusts what it sees and says how to pin it. The log key is --log-key VKEY (flake-registry pubkey --vkey), else the one the server gives at the first sync. Both are kept in the state (--state, default $XDG_STATE_HOME/flake-registry, else ~/.local/state/flake-registry), with the last version and checkpoint verified.",
    'Quiet when FILE is already the newest verified version; otherwise a line per entry changed and one for the version. Exit status: 0 up to date or updated; 1 an ordinary failure (the server unreachable or failing, each request timing out after 30 s; a file that cannot be written), FILE untouched, so Nix goes on with the last verified version; 2 a usage error; 3 SECURITY ERROR: what was served does not verify (a rollback, a fork, a stale or badly signed checkpoint, a tile, record or file that does not match, a history that does not verify), FILE and the state untouched.',
  ],
  positionals: { min: 0, max: 0, names: '' },
  options: {
    registry: { type: 'string', value: 'NAME', description: 'the registry to follow' },
    to: { type: 'string', value: 'FILE', description: 'the registry file Nix reads (written atomically, mode 0644)' },
    state: { type: 'string', value: 'DIR', description: 'where the anchor and last verified version are kept' },
    trust: { type: 'string', value: 'SHA256', description: "pin version 1's record hash (the first sync prints it)" },
    'log-key': { type: 'string', value: 'VKEY', description: "pin the registry log's verifier key (NAME+ID+KEY)" },
    'max-age': {
      type: 'string',
      value: 'DURATION',
      description:
        'the oldest checkpoint accepted, by its cosignature time against this clock: 90s, 30m, 12h, 7d (default 24h)',
    },
  },
  examples: [
    'flake-registry sync --registry global --to /var/lib/flake-registry/global.json --url https://registry.example.org',
  ],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = requiredOption(args, 'registry', 'sync');
    if (!REGISTRY_NAME.test(name)) throw new UsageError(`--registry '${name}' is not a registry name`, 'sync');
    const to = resolve(ctx.io.cwd, requiredOption(args, 'to', 'sync'));
    const stateDir = resolve(ctx.io.cwd, stringOption(args, 'state') ?? defaultStateDir(ctx));
    const trust = stringOption(args, 'trust');
    if (trust !== undefined && !SHA256.test(trust)) {
      throw new UsageError(`--trust takes the SHA-256 of version 1's record, 64 lowercase hex digits`, 'sync');
    }
    let given: VerifierKey | undefined;
    const logKeyText = stringOption(args, 'log-key');
    if (logKeyText !== undefined) {
      try {
        given = parseVerifierKey(logKeyText);
      } catch (error) {
        if (error instanceof LogError) throw new UsageError(`--log-key: ${error.message}`, 'sync');
        throw error;
      }
    }
    let maxAgeMs = 86_400_000;
    const maxAge = stringOption(args, 'max-age');
    if (maxAge !== undefined) {
      try {
        maxAgeMs = parseDuration(maxAge, CHECKPOINT_AGE);
      } catch (error) {
        throw new UsageError(`--max-age: ${(error as Error).message}`, 'sync');
      }
    }
    const json = flag(args, 'json');
    try {
      await runSync(ctx, { name, to, stateDir, trust, given, maxAgeMs });
    } catch (error) {
      if (json && (error instanceof SecurityError || error instanceof CliError)) {
        const kind = error instanceof SecurityError ? 'security' : 'failure';
        const code = error instanceof SecurityError ? error.code : undefined;
        const evidence = error instanceof SecurityError ? error.evidence : [];
        ctx.data({ registry: name, error: { kind, code, message: error.message, evidence } });
      }
      throw error;
    }
  },
};

interface SyncOptions {
  readonly name: string;
  readonly to: string;
  readonly stateDir: string;
  readonly trust: string | undefined;
  readonly given: VerifierKey | undefined;
  readonly maxAgeMs: number;
}

async function runSync(ctx: Context, o: SyncOptions): Promise<void> {
  const { name } = o;
  const statePath = join(o.stateDir, `${name}.json`);
  const stateText = await readIfThere(statePath);
  const kept = stateText === undefined ? undefined : readState(stateText, statePath, name);
  if (kept && o.trust !== undefined && o.trust !== kept.anchor) {
    throw new SecurityError(
      `registry '${name}': --trust is not the anchor this machine verified from`,
      'anchor-mismatch',
      [`--trust ${o.trust}`, `kept in ${statePath}: ${kept.anchor}`],
    );
  }
  if (kept && o.given && formatVerifierKey(o.given) !== kept.logKey) {
    throw new SecurityError(
      `registry '${name}': --log-key is not the log key this machine pinned`,
      'log-key-mismatch',
      [`--log-key ${formatVerifierKey(o.given)}`, `kept in ${statePath}: ${kept.logKey}`],
    );
  }

  const client = ctx.client();
  const log = `/registries/${seg(name)}/log`;
  const checkpoint = await client.raw(`${log}/checkpoint`);
  const pinnedText = kept?.logKey ?? (o.given ? formatVerifierKey(o.given) : undefined);
  if (isNoLogKey(checkpoint.status, checkpoint.bytes)) {
    if (pinnedText !== undefined) {
      throw new SecurityError(
        `registry '${name}': the service says it keeps no log, but this machine pinned one`,
        'log-missing',
        [`pinned log key: ${pinnedText}`, `${client.base}${log}/checkpoint: no-log-key`],
      );
    }
    throw new CliError(
      `registry '${name}' has no transparency log on ${client.base} (no log key is configured): sync needs the registry's log`,
    );
  }
  if (checkpoint.status !== 200) {
    throw new CliError(
      problemLine(checkpoint.res, new TextDecoder().decode(checkpoint.bytes), `GET ${client.base}${log}/checkpoint`),
    );
  }
  let key: VerifierKey;
  let firstUseOfKey = false;
  if (pinnedText !== undefined) key = parseVerifierKey(pinnedText);
  else {
    const served = await getText(client, `${log}/key`);
    try {
      key = parseVerifierKey(served);
    } catch (error) {
      if (error instanceof LogError)
        throw new CliError(`${client.base}${log}/key is not a verifier key: ${error.message}`);
      throw error;
    }
    firstUseOfKey = true;
  }

  const now = ctx.io.now().getTime();
  let followed: FollowedLog;
  try {
    followed = await followLog(checkpoint.bytes, {
      key,
      origin: logOrigin(key.name, name),
      now,
      maxAgeMs: o.maxAgeMs,
      ...(kept ? { kept: { size: kept.checkpoint.size, root: decodeBase64(kept.checkpoint.root) } } : {}),
      fetchTile: (path) => getBytes(client, `${log}/${path}`),
    });
  } catch (error) {
    if (error instanceof LogError) {
      const evidence = [`checkpoint served by ${client.base}${log}/checkpoint`, `log key ${formatVerifierKey(key)}`];
      if (kept) evidence.push(`last checkpoint verified: size ${kept.checkpoint.size}, root ${kept.checkpoint.root}`);
      throw new SecurityError(`registry '${name}': ${error.message}`, error.code, evidence);
    }
    throw error;
  }
  const { size, root } = followed.checkpoint;
  if (size === 0) throw new CliError(`registry '${name}'s log is empty: nothing is published yet`);

  if (kept && size === kept.version) {
    // Nothing new; the checkpoint is the kept one, grown no further and fresh.
    const current = await readIfThere(o.to);
    if (current !== undefined && sha256Of(current) === kept.file) return;
    const file = await getText(client, `/registries/${seg(name)}/versions/${kept.version}/flake-registry.json`);
    if (sha256Of(file) !== kept.file) {
      throw new SecurityError(`registry '${name}': version ${kept.version}'s file is not the one verified`, 'fork', [
        `verified: sha256 ${kept.file}`,
        `served: sha256 ${sha256Of(file)}`,
      ]);
    }
    await writeOut(o.to, file);
    ctx.say(
      `${name}: version ${kept.version} written to ${o.to} again (it was ${current === undefined ? 'missing' : 'changed'})`,
    );
    ctx.data({ registry: name, updated: true, from: kept.version, version: kept.version, sha256: kept.file });
    return;
  }

  // Everything from version 1: the history's hash links are checked whole each time, the
  // signatures and replays from the first new version on.
  const versions = await fetchVersions(ctx, client, name, size);
  let leaves;
  try {
    leaves = await readVersionLeaves(followed.reader, name, 1, size);
  } catch (error) {
    if (error instanceof LogError) throw new SecurityError(`registry '${name}': ${error.message}`, error.code);
    throw error;
  }
  for (const leaf of leaves) {
    const version = versions[leaf.version - 1] as HistoryVersion;
    const record = sha256Of(version.recordText);
    const file = sha256Of(version.file);
    if (record !== leaf.record || file !== leaf.file) {
      const what = record !== leaf.record ? 'record' : 'file';
      throw new SecurityError(
        `registry '${name}': version ${leaf.version}'s ${what} is not the one the log holds`,
        'leaf-mismatch',
        [
          `log: ${what} sha256 ${what === 'record' ? leaf.record : leaf.file}`,
          `served: sha256 ${what === 'record' ? record : file}`,
        ],
      );
    }
  }
  const anchorServed = sha256Of((versions[0] as HistoryVersion).recordText);
  const anchor = kept?.anchor ?? o.trust;
  if (anchor !== undefined && anchor !== anchorServed) {
    throw new SecurityError(`registry '${name}': version 1 is not the one trusted`, 'anchor-mismatch', [
      `trusted: version 1's record sha256 ${anchor}`,
      `served: ${anchorServed}`,
    ]);
  }
  if (kept) {
    const served = sha256Of((versions[kept.version - 1] as HistoryVersion).recordText);
    if (served !== kept.record) {
      throw new SecurityError(
        `registry '${name}': version ${kept.version} is not the one verified: two histories`,
        'fork',
        [`verified: version ${kept.version}'s record sha256 ${kept.record}`, `served: ${served}`],
      );
    }
  }
  const result = await verifyHistory(versions, { from: kept ? kept.version + 1 : 1 });
  if (!result.ok) {
    throw new SecurityError(`registry '${name}': the history does not verify: ${result.reason}`, result.code);
  }

  const head = versions[size - 1] as HistoryVersion;
  await writeOut(o.to, head.file);
  const state: SyncState = {
    format: STATE_FORMAT,
    registry: name,
    anchor: anchorServed,
    logKey: formatVerifierKey(key),
    version: size,
    record: sha256Of(head.recordText),
    file: sha256Of(head.file),
    checkpoint: { size, root: encodeBase64(root), time: followed.timestamp },
  };
  try {
    await mkdir(o.stateDir, { recursive: true, mode: 0o700 });
    await replaceFile(statePath, `${JSON.stringify(state, null, 2)}\n`, 0o600);
  } catch (error) {
    throw new CliError(`cannot write the sync state ${statePath}: ${(error as Error).message}`);
  }

  const before = kept ? (versions[kept.version - 1] as HistoryVersion).file : undefined;
  const lines = before === undefined ? [] : entryDiff(readRegistry(before), readRegistry(head.file)).lines;
  for (const line of lines) ctx.say(line);
  ctx.say(
    kept
      ? `${name}: version ${kept.version} -> ${size} (sha256 ${state.file})`
      : `${name}: version ${size} (sha256 ${state.file}) written to ${o.to}`,
  );
  if (!kept) {
    const pin = o.trust === undefined;
    if (pin || firstUseOfKey) {
      ctx.io.err(
        `flake-registry: first sync of '${name}': trusted ${pin ? `version 1's record sha256 ${anchorServed}` : ''}${pin && firstUseOfKey ? ' and ' : ''}${firstUseOfKey ? `the log key ${state.logKey}` : ''} as ${client.base} gave ${pin && firstUseOfKey ? 'them' : 'it'}; pin ${pin && firstUseOfKey ? 'them' : 'it'} with${pin ? ` --trust ${anchorServed}` : ''}${firstUseOfKey ? ` --log-key ${state.logKey}` : ''}\n`,
      );
    }
  }
  ctx.data({
    registry: name,
    updated: true,
    from: kept?.version ?? null,
    version: size,
    sha256: state.file,
    anchor: anchorServed,
    checkpoint: state.checkpoint,
    changes: lines,
  });
}

async function writeOut(path: string, file: string): Promise<void> {
  try {
    await replaceFile(path, file, 0o644);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
  }
}

async function fetchVersions(ctx: Context, client: Client, name: string, size: number): Promise<HistoryVersion[]> {
  const versions = new Array<HistoryVersion>(size);
  for (let start = 1; start <= size; start += PARALLEL) {
    const batch = Array.from({ length: Math.min(PARALLEL, size - start + 1) }, (_, i) => start + i);
    await Promise.all(
      batch.map(async (n) => {
        const base = `/registries/${seg(name)}/versions/${n}`;
        const [recordText, file] = await Promise.all([
          getText(client, base),
          getText(client, `${base}/flake-registry.json`),
        ]);
        versions[n - 1] = { recordText, file };
      }),
    );
    if (ctx.io.progress && size > PARALLEL)
      ctx.io.err(`\rfetching versions of '${name}': ${Math.min(size, start + PARALLEL - 1)}/${size}`);
  }
  if (ctx.io.progress && size > PARALLEL) ctx.io.err('\n');
  return versions;
}
