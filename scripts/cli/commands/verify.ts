import { encodeBase64 } from '../../../src/crypto/base64.js';
import { sha256HexSync } from '../../../src/crypto/sha256.js';
import { followLog, readVersionLeaves } from '../../../src/log/client.js';
import { LogError } from '../../../src/log/errors.js';
import { logOrigin } from '../../../src/log/origin.js';
import { parseVerifierKey, type VerifierKey } from '../../../src/log/vkey.js';
import type { HistoryVersion } from '../../../src/protocol/verify.js';
import { verifyHistory } from '../../../src/protocol/verify.js';
import { versionPageSchema } from '../../../src/api/answers.js';
import { problemLine, seg, type Client } from '../client.js';
import { numberOption, requiredOption, stringOption, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { logKeyOption } from '../log-key.js';

const PARALLEL = 8;

export const verify: Command = {
  name: 'verify',
  summary:
    'Fetch every version of a registry (record and file, exact bytes) and check the whole history offline: hash links, files, signatures under the policy in force, each proposal replayed.',
  usage: '--registry NAME [--from N]',
  description: [
    'With --from N, signatures and replays are checked from version N on (every hash link still from version 1).',
    "When the service keeps a transparency log, its whole log is checked against the history too: the checkpoint's signature, every tile against its root, and each version's leaf against its record and file. Without --log-key the key is the one the server gives, which proves only that the log and the history agree; pin it (flake-registry pubkey --vkey, or a key published out of band) to know whose log it is.",
  ],
  positionals: { min: 0, max: 0, names: '' },
  options: {
    registry: { type: 'string', value: 'NAME', description: 'the registry to verify' },
    from: { type: 'string', value: 'N', description: 'check signatures and replays from version N (default 1)' },
    'log-key': {
      type: 'string',
      value: 'VKEY',
      description:
        "the log's verifier key (NAME+ID+KEY) to check its checkpoint with (default: the one the server gives)",
    },
  },
  examples: ['flake-registry verify --registry global'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = requiredOption(args, 'registry', 'verify');
    const from = numberOption(args, 'from', 'verify') ?? 1;
    const pinned = logKeyOption(stringOption(args, 'log-key'), 'verify');
    const client = ctx.client();
    // The checkpoint first: it only ever names published versions, so the history read next covers it.
    const log = await fetchCheckpoint(client, name, pinned);
    const { latest } = await client.getJson(`/registries/${seg(name)}/versions?limit=1`, versionPageSchema);
    if (from > latest) throw new CliError(`--from ${from} is past the head of registry '${name}' (version ${latest})`);
    const versions: HistoryVersion[] = new Array<HistoryVersion>(latest);
    let done = 0;
    const progress = (): void => {
      if (ctx.io.progress) ctx.io.err(`\rfetching versions of '${name}': ${done}/${latest}`);
    };
    for (let start = 1; start <= latest; start += PARALLEL) {
      const batch = Array.from({ length: Math.min(PARALLEL, latest - start + 1) }, (_, i) => start + i);
      await Promise.all(
        batch.map(async (n) => {
          const base = `/registries/${seg(name)}/versions/${n}`;
          const [record, file] = await Promise.all([client.get(base), client.get(`${base}/flake-registry.json`)]);
          versions[n - 1] = { recordText: record.text, file: file.text };
          done++;
          progress();
        }),
      );
    }
    if (ctx.io.progress) ctx.io.err('\n');
    const result = await verifyHistory(versions, { from });
    if (!result.ok) {
      ctx.data({ registry: name, ...result });
      throw new CliError(`registry '${name}' fails verification at ${result.reason} (${result.code})`);
    }
    const logResult = 'absent' in log ? log : await checkLog(client, name, log, versions);
    ctx.data({ registry: name, ...result, log: logResult });
    if ('code' in logResult) {
      throw new CliError(`registry '${name}' fails verification: its log: ${logResult.reason} (${logResult.code})`);
    }
    ctx.say(
      `registry '${name}': ${result.versions} version${result.versions === 1 ? '' : 's'} verified; head version ${result.head.version}, sha256 ${result.head.sha256}`,
    );
    ctx.say(`policy in force: ${result.policy.threshold} of ${result.policy.keys.join(' ')}`);
    if ('absent' in logResult) ctx.say(`log: none (${logResult.absent})`);
    else {
      const lag = latest - logResult.size;
      ctx.say(
        `log: ${logResult.size} leaves verified against the history, checkpoint signed by ${logResult.key} (${logResult.pinned ? 'the key given' : 'the key the server gives'})` +
          (lag > 0 ? `; the ${lag} newest version${lag === 1 ? ' is' : 's are'} not in its checkpoint yet` : ''),
      );
    }
  },
};

interface FetchedCheckpoint {
  readonly key: VerifierKey;
  readonly pinned: boolean;
  readonly note: Uint8Array;
}

type LogResult =
  | { readonly absent: string }
  | { readonly size: number; readonly root: string; readonly key: string; readonly pinned: boolean }
  | { readonly code: string; readonly reason: string };

/** The log's key and checkpoint note, or why the service has no log. */
async function fetchCheckpoint(
  client: Client,
  name: string,
  pinned: VerifierKey | undefined,
): Promise<FetchedCheckpoint | { readonly absent: string }> {
  const base = `/registries/${seg(name)}/log`;
  const answer = async (path: string) => {
    const got = await client.raw(`${base}/${path}`);
    if (got.status === 200) return got.bytes;
    const text = new TextDecoder().decode(got.bytes);
    if (got.status === 404 && text.includes('urn:flake-registry:problem:no-log-key')) return undefined;
    throw new CliError(problemLine(got.res, text, `GET ${client.base}${base}/${path}`));
  };
  const note = await answer('checkpoint');
  if (note === undefined) {
    if (pinned) throw new CliError(`registry '${name}' has no log on this service, though --log-key was given`);
    return { absent: 'the service keeps no transparency log: no log key is configured' };
  }
  if (pinned) return { key: pinned, pinned: true, note };
  const served = await answer('key');
  if (served === undefined) return { absent: 'the service keeps no transparency log: no log key is configured' };
  try {
    return { key: parseVerifierKey(new TextDecoder().decode(served)), pinned: false, note };
  } catch (error) {
    if (error instanceof LogError)
      throw new CliError(`${client.base}${base}/key is not a verifier key: ${error.message}`);
    throw error;
  }
}

/** The whole log against the history: checkpoint, tiles, and each version's leaf against its record and file. */
async function checkLog(
  client: Client,
  name: string,
  log: FetchedCheckpoint,
  versions: readonly HistoryVersion[],
): Promise<LogResult> {
  const base = `/registries/${seg(name)}/log`;
  const encoder = new TextEncoder();
  try {
    const followed = await followLog(log.note, {
      key: log.key,
      origin: logOrigin(log.key.name, name),
      now: Date.now(),
      // The history is what is verified here, not how recent the checkpoint is.
      maxAgeMs: Number.MAX_SAFE_INTEGER,
      fetchTile: async (path) => {
        const got = await client.raw(`${base}/${path}`);
        if (got.status !== 200) {
          throw new CliError(
            problemLine(got.res, new TextDecoder().decode(got.bytes), `GET ${client.base}${base}/${path}`),
          );
        }
        return got.bytes;
      },
    });
    const { size } = followed.checkpoint;
    if (size > versions.length) {
      return {
        code: 'log-ahead',
        reason: `its checkpoint names ${size} versions, but the history has ${versions.length}`,
      };
    }
    const leaves = size === 0 ? [] : await readVersionLeaves(followed.reader, name, 1, size);
    for (const leaf of leaves) {
      const version = versions[leaf.version - 1] as HistoryVersion;
      const record = sha256HexSync(encoder.encode(version.recordText));
      const file = sha256HexSync(encoder.encode(version.file));
      if (leaf.record !== record || leaf.file !== file) {
        const what = leaf.record !== record ? `record hashes to ${record}` : `file hashes to ${file}`;
        return {
          code: 'leaf-mismatch',
          reason: `version ${leaf.version}'s ${what}, but its leaf in the log holds ${leaf.record !== record ? leaf.record : leaf.file}`,
        };
      }
    }
    return { size, root: encodeBase64(followed.checkpoint.root), key: log.key.name, pinned: log.pinned };
  } catch (error) {
    if (error instanceof LogError) return { code: error.code, reason: error.message };
    throw error;
  }
}
