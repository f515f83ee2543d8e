import { createInterface } from 'node:readline/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Everything a command touches outside its arguments, so that tests can run
 * `main` in-process with their own streams, environment and directory.
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** The whole of stdin (a key given as `--key -`). */
  readStdin(): Promise<string>;
  /** At most `maxBytes` of stdin (a file given as `-`); no more is read, so an endless stream ends here. */
  readStdinUpTo(maxBytes: number): Promise<Uint8Array>;
  /** Asks a yes/no question on the terminal; only called when `interactive` is true. */
  confirm(question: string): Promise<boolean>;
  /** Whether stdin is a terminal a person can answer on. */
  readonly interactive: boolean;
  /** Whether stderr is a terminal (progress lines go there only then). */
  readonly progress: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /**
   * The checkout this CLI belongs to: where `.dev.vars` and `registries/` are. Undefined for the
   * one-file command (dist/flake-registry.mjs) once it is carried out of a checkout.
   */
  readonly root: string | undefined;
  readonly fetch: typeof fetch;
  now(): Date;
}

/** The checkout holding this file (scripts/cli/io.ts); `import.meta.dirname` would need Node 20.11. */
export const CHECKOUT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The first `maxBytes` of `stream`, then it is left unread. */
export async function readUpTo(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(bytes.subarray(0, maxBytes - size));
    size += Math.min(bytes.length, maxBytes - size);
    // Leaving the loop stops the reading (the iterator destroys the stream).
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks);
}

/** The process's own streams. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
    readStdinUpTo: (maxBytes) => readUpTo(process.stdin, maxBytes),
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
    interactive: process.stdin.isTTY === true,
    progress: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    root: CHECKOUT_ROOT,
    fetch: globalThis.fetch,
    now: () => new Date(),
  };
}
