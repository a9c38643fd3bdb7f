// What every CLI command receives.

/**
 * Where the CLI writes and reads. Tests pass their own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CliIO, main } from "../cli.ts";
 * let out = "";
 * const io: Partial<CliIO> = {
 *   stdout: (text) => void (out += text),
 *   stderr: () => {},
 *   readStdin: () => Promise.resolve(""),
 * };
 * assert.equal(await main(["--help"], io), 0);
 * assert.match(out, /Usage/);
 * ```
 */
export interface CliIO {
  /** Writes to standard output. */
  stdout(text: string): void | Promise<void>;
  /** Writes to standard error. */
  stderr(text: string): void | Promise<void>;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /**
   * Whether standard input is a terminal (then `prompt` does not read it
   * unless asked with `-`). Default: whether the process's standard input is a terminal, or `false`
   * when `readStdin` is given without it.
   */
  stdinIsTerminal?(): boolean;
  /** Reads a file as bytes. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Whether `stdout` writes to a terminal: then control characters other than
   * newline and tab are written as visible escapes. Default: for the CLI's own
   * standard output, whether it is a terminal; for a `stdout` given, false.
   */
  stdoutIsTerminal?(): boolean;
  /** The same for `stderr`. */
  stderrIsTerminal?(): boolean;
}

/** The most bytes the CLI reads from an input file or standard input: 64 MiB. */
export const MAX_INPUT_BYTES: number = 64 * 1024 * 1024;

/** The context of one CLI run. */
export interface CliContext {
  /** Input and output. */
  io: CliIO;
  /** The `llm` user directory override (`--user-dir`), when given. */
  llmUserPath?: string;
}

/** One CLI command. */
export interface Command {
  /** The command's name (`tokens`). */
  name: string;
  /** One line for the usage text. */
  summary: string;
  /** The command's own usage text. */
  usage: string;
  /** Runs the command; returns the exit code. */
  run(args: string[], context: CliContext): Promise<number>;
}

/** Reads a text argument: a file path, or "-" for standard input. */
export async function readTextArgument(path: string, io: CliIO): Promise<string> {
  if (path === "-") return await io.readStdin();
  return new TextDecoder().decode(await io.readFile(path));
}
