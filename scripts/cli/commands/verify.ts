import type { HistoryVersion } from '../../../src/protocol/verify.js';
import { verifyHistory } from '../../../src/protocol/verify.js';
import { versionPageSchema } from '../../../src/api/answers.js';
import { seg } from '../client.js';
import { numberOption, requiredOption, type Command } from '../command.js';
import { CliError } from '../errors.js';

const PARALLEL = 8;

export const verify: Command = {
  name: 'verify',
  summary:
    'Fetch every version of a registry (record and file, exact bytes) and check the whole history offline: hash links, files, signatures under the policy in force, each proposal replayed.',
  usage: '--registry NAME [--from N]',
  description: [
    'With --from N, signatures and replays are checked from version N on (every hash link still from version 1).',
  ],
  positionals: { min: 0, max: 0, names: '' },
  options: {
    registry: { type: 'string', value: 'NAME', description: 'the registry to verify' },
    from: { type: 'string', value: 'N', description: 'check signatures and replays from version N (default 1)' },
  },
  examples: ['flake-registry verify --registry global'],
  json: true,
  server: true,
  run: async (ctx, args) => {
    const name = requiredOption(args, 'registry', 'verify');
    const from = numberOption(args, 'from', 'verify') ?? 1;
    const client = ctx.client();
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
    ctx.data({ registry: name, ...result });
    if (!result.ok) throw new CliError(`registry '${name}' fails verification at ${result.reason} (${result.code})`);
    ctx.say(
      `registry '${name}': ${result.versions} version${result.versions === 1 ? '' : 's'} verified; head version ${result.head.version}, sha256 ${result.head.sha256}`,
    );
    ctx.say(`policy in force: ${result.policy.threshold} of ${result.policy.keys.join(' ')}`);
  },
};
