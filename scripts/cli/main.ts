import { escapeInvisibleInJson, showInvisible } from '../../src/protocol/text.js';
import { Client } from './client.js';
import { commandHelp, DEFAULT_URL, parseCommandArgs, stringOption, type Command, type Context } from './command.js';
import { approve, sign, submit } from './commands/approve.js';
import { audit } from './commands/audit.js';
import { keygen, pubkey, trustLocal } from './commands/keys.js';
import { proposeMove, proposePolicy, proposeRemove, proposeSet } from './commands/propose.js';
import { diff, history, proposals, resolve, show, status } from './commands/read.js';
import { upload } from './commands/upload.js';
import { sync } from './commands/sync.js';
import { verify } from './commands/verify.js';
import {
  CliError,
  EXIT_FAILURE,
  EXIT_FINDINGS,
  EXIT_OK,
  EXIT_SECURITY,
  EXIT_USAGE,
  FindingsError,
  SecurityError,
  UsageError,
} from './errors.js';
import { processIo, type Io } from './io.js';

/** `flake-registry`: the admin CLI of the flake registry service. */

export const COMMANDS: readonly Command[] = [
  keygen,
  pubkey,
  trustLocal,
  upload,
  proposeSet,
  proposeRemove,
  proposeMove,
  proposePolicy,
  approve,
  sign,
  submit,
  show,
  proposals,
  history,
  diff,
  resolve,
  audit,
  status,
  verify,
  sync,
];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: flake-registry COMMAND [options]',
    '',
    'Manage Nix flake registries hosted by flake-registry-service: keys, signed proposals, approvals, history.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary.split(': ')[0]?.replace(/\.$/, '')}`),
    '',
    `The service is --url URL, else $FLAKE_REGISTRY_URL, else ${DEFAULT_URL}.`,
    'Secret keys are read from files or stdin (--key -), never from arguments or the environment.',
    "`flake-registry COMMAND --help` shows a command's options and an example.",
    '',
    'example:',
    '  flake-registry keygen --name alice --out alice.sec',
    '',
  ].join('\n');
}

function proposeHelp(): string {
  const subs = COMMANDS.filter((c) => c.name.startsWith('propose '));
  return [
    'usage: flake-registry propose (set|remove|move|policy) ... --registry NAME --key KEY_FILE',
    '',
    ...subs.map((c) => `  ${c.name} ${c.usage}\n      ${c.summary}`),
    '',
    '`flake-registry propose set --help` shows its options and an example.',
    '',
  ].join('\n');
}

/** Finds the command `argv` names and the arguments after it. */
function select(argv: readonly string[]): { command: Command; rest: readonly string[] } | 'help' | 'propose-help' {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return 'help';
  if (first === 'propose') {
    if (second === undefined || second === '--help' || second === '-h') return 'propose-help';
    const sub = COMMANDS.find((c) => c.name === `propose ${second}`);
    if (!sub) throw new UsageError(`unknown propose command '${second}' (set, remove, move or policy)`, 'propose');
    return { command: sub, rest: argv.slice(2) };
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    throw new UsageError(
      first.startsWith('-') ? `give a command before options like '${first}'` : `unknown command '${first}'`,
    );
  }
  return { command, rest: argv.slice(1) };
}

/** Runs the CLI on `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let contacted = false;
  try {
    const selected = select(argv);
    if (selected === 'help' || selected === 'propose-help') {
      io.out(selected === 'help' ? topHelp() : proposeHelp());
      return EXIT_OK;
    }
    const { command, rest } = selected;
    const args = parseCommandArgs(command, rest);
    if (args.values['help'] === true) {
      io.out(commandHelp(command));
      return EXIT_OK;
    }
    const json = args.values['json'] === true;
    const url = stringOption(args, 'url') ?? (io.env['FLAKE_REGISTRY_URL'] || DEFAULT_URL);
    let client: Client | undefined;
    const ctx: Context = {
      io,
      json,
      url,
      client: () => {
        contacted = true;
        return (client ??= new Client(url, io.fetch));
      },
      say: (text) => {
        // Text that came from a proposer or a server is shown as it is: nothing invisible gets through.
        if (!json) io.out(`${showInvisible(text)}\n`);
      },
      data: (value) => {
        if (json) io.out(`${escapeInvisibleInJson(JSON.stringify(value, null, 2))}\n`);
      },
    };
    await command.run(ctx, args);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error.command === undefined ? 'flake-registry --help' : `flake-registry ${error.command} --help`;
      io.err(`flake-registry: ${showInvisible(error.message)} (see ${hint})\n`);
      return EXIT_USAGE;
    }
    if (error instanceof SecurityError) {
      // The first line says what, the evidence why, and the last line the code scripts can match.
      io.err(`SECURITY ERROR: ${showInvisible(error.message)}\n`);
      for (const line of error.evidence) io.err(`  ${showInvisible(line)}\n`);
      io.err(`  code: ${error.code}\n`);
      return EXIT_SECURITY;
    }
    if (error instanceof FindingsError) {
      io.err(`flake-registry: ${showInvisible(error.message)}\n`);
      return EXIT_FINDINGS;
    }
    if (error instanceof CliError) {
      io.err(`flake-registry: ${showInvisible(error.message)}\n`);
      return EXIT_FAILURE;
    }
    // A bug, or a server that is not this service: still one line, never a stack trace.
    const message = error instanceof Error ? error.message : String(error);
    const first = showInvisible(message.split('\n')[0] ?? message);
    if (error instanceof TypeError && contacted) {
      io.err(`flake-registry: the server did not answer as flake-registry-service does (is --url right?): ${first}\n`);
    } else {
      io.err(`flake-registry: unexpected error: ${first}\n`);
    }
    return EXIT_FAILURE;
  }
}

/** The process's entry point: bin.mjs, or standalone.ts in the one-file command, which finds its own checkout. */
export async function run(io: Io = processIo()): Promise<void> {
  // A reader that stops early (`| head`) closes the pipe: stop quietly, as other tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  process.exitCode = await main(process.argv.slice(2), io);
}
