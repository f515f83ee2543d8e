import { verifyServedHistory, type ServedVerification } from '../../../src/served/history.js';
import { ServedError, type ServedSource } from '../../../src/served/source.js';
import { problemLine, type Client } from '../client.js';
import { numberOption, requiredOption, stringOption, type Command } from '../command.js';
import { CliError } from '../errors.js';
import { logAnswerLimit, logKeyOption } from '../log-key.js';

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
    const source: ServedSource<Raw> = {
      getJson: (path, schema) => client.getJson(path, schema),
      get: (path) => client.get(path),
      raw: (path) => client.raw(path, logAnswerLimit(path)),
      refusal: (path, got) =>
        new CliError(problemLine(got.res, new TextDecoder().decode(got.bytes), `GET ${client.base}${path}`)),
    };
    let checked: ServedVerification;
    try {
      checked = await verifyServedHistory(source, {
        registry: name,
        from,
        ...(pinned ? { logKey: pinned } : {}),
        onProgress: ({ step, done, total }) => {
          if (step !== 'fetched' || !ctx.io.progress) return;
          ctx.io.err(`\rfetching versions of '${name}': ${done}/${total}`);
          if (done === total) ctx.io.err('\n');
        },
      });
    } catch (error) {
      throw cliError(error, name, from, client.base);
    }
    const { latest, history: result, log: logResult } = checked;
    if (!result.ok) {
      ctx.data({ registry: name, ...result });
      throw new CliError(`registry '${name}' fails verification at ${result.reason} (${result.code})`);
    }
    if (logResult === undefined) throw new Error('a verified history comes with its log check');
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

type Raw = Awaited<ReturnType<Client['raw']>>;

/** What could not be checked at all, in the command's words (its options by name). */
function cliError(error: unknown, name: string, from: number, base: string): unknown {
  if (!(error instanceof ServedError)) return error;
  switch (error.kind) {
    case 'past-head':
      return new CliError(error.message.replace(/^version \d+ is past/, `--from ${from} is past`));
    case 'no-log':
      return new CliError(`registry '${name}' has no log on this service, though --log-key was given`);
    case 'bad-log-key':
      return new CliError(`${base}${error.message}`);
    case 'refused':
    case 'not-json':
    case 'unknown-form':
    case 'timeout':
    case 'unreachable':
      return new CliError(error.message);
  }
}
