import { parseArgs } from 'node:util';
import type { Client } from './client.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

/** One option of a command, as `util.parseArgs` takes it plus what `--help` shows. */
export interface OptionDef {
  /** `pair`: two values after the flag, repeatable (`--override-flake ORIGINAL RESOLVED`, as Nix spells it). */
  readonly type: 'string' | 'boolean' | 'pair';
  readonly short?: string;
  /** The placeholder `--help` shows after a string option: `--key FILE`. */
  readonly value?: string;
  readonly description: string;
}

export interface Args {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** The values of `pair` options, in the order given. */
  readonly pairs?: Readonly<Record<string, readonly (readonly [string, string])[]>>;
}

/** What every command runs with. */
export interface Context {
  readonly io: Io;
  /** `--json`: print data as JSON instead of text. */
  readonly json: boolean;
  /** The server, from `--url`, `FLAKE_REGISTRY_URL` or the default. */
  readonly url: string;
  /** A client of `url`; made on first use, so commands working offline never need a server. */
  client(): Client;
  /** One line (or block) of text output; nothing under `--json`. */
  say(text: string): void;
  /** The JSON form of a result; only under `--json`. */
  data(value: unknown): void;
}

export interface Command {
  /** `upload`, or `propose set` for a subcommand. */
  readonly name: string;
  readonly summary: string;
  /** After the name: `FILE --registry NAME --key KEY_FILE [options]`. */
  readonly usage: string;
  /** Paragraphs after the usage line. */
  readonly description?: readonly string[];
  readonly positionals: { readonly min: number; readonly max: number; readonly names: string };
  readonly options: Readonly<Record<string, OptionDef>>;
  readonly examples: readonly string[];
  /** Whether the command prints data (`--json` applies). */
  readonly json: boolean;
  /** Whether the command may talk to a server (`--url` applies). */
  readonly server: boolean;
  run(ctx: Context, args: Args): Promise<void>;
}

export const DEFAULT_URL = 'http://127.0.0.1:8787';

const HELP: OptionDef = { type: 'boolean', short: 'h', description: 'show this help' };
const JSON_OPTION: OptionDef = { type: 'boolean', description: 'print the result as JSON' };
const URL_OPTION: OptionDef = {
  type: 'string',
  value: 'URL',
  description: `the service (default: $FLAKE_REGISTRY_URL, else ${DEFAULT_URL})`,
};

/** A command's options with the ones every command shares. */
export function allOptions(command: Command): Record<string, OptionDef> {
  return {
    ...command.options,
    ...(command.server ? { url: URL_OPTION } : {}),
    ...(command.json ? { json: JSON_OPTION } : {}),
    help: HELP,
  };
}

/** Parses a command's arguments; any mistake is a UsageError pointing at its `--help`. */
export function parseCommandArgs(command: Command, argv: readonly string[]): Args {
  const options = allOptions(command);
  const { rest, pairs } = takePairs(command, argv);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(options).flatMap(([name, o]) =>
          o.type === 'pair'
            ? []
            : [[name, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }]],
        ),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(usageMessage(error), command.name);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values['help'] === true) return { positionals: parsed.positionals, values, pairs };
  const { min, max, names } = command.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`missing ${names}`, command.name);
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max] ?? '';
    throw new UsageError(
      max === 0 ? `unexpected argument '${extra}'` : `unexpected argument '${extra}' after ${names}`,
      command.name,
    );
  }
  return { positionals: parsed.positionals, values, pairs };
}

/**
 * Takes `--NAME A B` of the command's `pair` options out of `argv`, as Nix reads
 * `--override-flake ORIGINAL RESOLVED`: the two arguments after the flag are its values,
 * whatever they look like. Stops at `--`.
 */
function takePairs(
  command: Command,
  argv: readonly string[],
): { rest: string[]; pairs: Record<string, [string, string][]> } {
  const names = Object.entries(command.options).flatMap(([name, o]) => (o.type === 'pair' ? [name] : []));
  const pairs: Record<string, [string, string][]> = {};
  if (names.length === 0) return { rest: [...argv], pairs };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const name = names.find((n) => arg === `--${n}` || arg.startsWith(`--${n}=`));
    if (name === undefined) {
      rest.push(arg);
      continue;
    }
    const placeholder = command.options[name]?.value ?? 'A B';
    if (arg !== `--${name}` || argv.length - i - 1 < 2) {
      throw new UsageError(`option '--${name}' takes two values: --${name} ${placeholder}`, command.name);
    }
    (pairs[name] ??= []).push([argv[i + 1] as string, argv[i + 2] as string]);
    i += 2;
  }
  return { rest, pairs };
}

/** util.parseArgs's messages, shortened to the part a user needs. */
function usageMessage(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const m = /Unknown option '([^']+)'/.exec(message);
      return `unknown option '${m?.[1] ?? message}'`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const m = /Option '(?:-\w, )?(--[\w-]+)/.exec(message);
      // `--expires-in -5m`: the value starts with a dash, so it reads as an option.
      if (m?.[1] && /argument is ambiguous/.test(message)) {
        return `option '${m[1]}' is followed by a value starting with '-', which reads as an option: write ${m[1]}=VALUE if that is meant as its value`;
      }
      return m?.[1]
        ? `option '${m[1]}' ${/argument missing/.test(message) ? 'needs a value' : 'takes no value'}`
        : message;
    }
    default:
      return message.split('\n')[0] ?? message;
  }
}

/** `--help` of one command. */
export function commandHelp(command: Command): string {
  const options = allOptions(command);
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short === undefined ? '    ' : `-${o.short}, `}--${name}${o.value === undefined ? '' : ` ${o.value}`}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    `usage: flake-registry ${command.name} ${command.usage}`.trimEnd(),
    '',
    command.summary,
    ...(command.description ?? []).flatMap((p) => ['', p]),
    '',
    'options:',
    ...rows.map(([flag, description]) => `  ${flag.padEnd(width)}${description}`),
    '',
    command.examples.length === 1 ? 'example:' : 'examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** Typed access to parsed values. */
export function stringOption(args: Args, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(args: Args, name: string): boolean {
  return args.values[name] === true;
}

export function requiredOption(args: Args, name: string, command: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === '') throw new UsageError(`missing --${name}`, command);
  return value;
}

/** A whole number option (`--base 3`, `--limit 20`). */
export function numberOption(args: Args, name: string, command: string, min = 1): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) < min) {
    throw new UsageError(`--${name} must be a whole number of at least ${min}, got '${text}'`, command);
  }
  return Number(text);
}
