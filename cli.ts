/**
 * The command line: complete text, describe images, count tokens, split
 * text, list models, manage the `llm` user directory, list providers and
 * migrate settings from backends to providers.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-env jsr:@cms-ai/backends/cli tokens -m gpt-4o article.md
 * ```
 *
 * @example Run a command from code
 * ```ts
 * import { main } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const code = await main(["tokens", "-m", "gpt-4", "-"], {
 *   stdout: (text) => void (out += text),
 *   readStdin: () => Promise.resolve("hello world"),
 * });
 * assert.equal(code, 0);
 * assert.equal(out, "2\n");
 * ```
 *
 * @module
 */
import { UsageError } from "./_cli/args.ts";
import { type CliContext, type CliIO, type Command, MAX_INPUT_BYTES } from "./_cli/context.ts";
import { coreCommands } from "./_cli/core.ts";
import { llmCommands } from "./_cli/llm.ts";
import { providerCommands } from "./_cli/providers.ts";
import { exitProcess, isMainModule, processArgs, processIO, streamIsTerminal } from "./_cli/io.ts";
import { terminalWriter } from "./_cli/terminal.ts";
import { VERSION } from "./_cli/version.ts";

export type { CliIO };

const COMMANDS: Command[] = [...coreCommands, ...llmCommands, ...providerCommands];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "Usage: cli [--user-dir DIR] COMMAND [ARGS...]",
    "       cli --version",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run 'cli COMMAND --help' for a command's options.",
  ].join("\n");
}

/**
 * The IO of a run: `io` over the defaults. Writers to a terminal escape
 * control characters; a writer (or stdin reader) given in `io` is a pipe
 * unless `io` says otherwise.
 */
function runIO(io: Partial<CliIO>): CliIO {
  const full: CliIO = { ...processIO(MAX_INPUT_BYTES), ...io };
  if (io.readStdin !== undefined && io.stdinIsTerminal === undefined) {
    full.stdinIsTerminal = () => false;
  }
  const stdoutTerminal = io.stdoutIsTerminal?.() ??
    (io.stdout === undefined && streamIsTerminal("stdout"));
  const stderrTerminal = io.stderrIsTerminal?.() ??
    (io.stderr === undefined && streamIsTerminal("stderr"));
  return {
    ...full,
    stdout: terminalWriter(full.stdout, stdoutTerminal),
    stderr: terminalWriter(full.stderr, stderrTerminal),
    stdoutIsTerminal: () => stdoutTerminal,
    stderrIsTerminal: () => stderrTerminal,
  };
}

/** One line for an error: its class and message (no "Error: Error:" for a plain Error). */
function errorLine(error: unknown): string {
  const message = error instanceof Error
    ? (error.name === "Error" || error.name === ""
      ? error.message
      : `${error.name}: ${error.message}`)
    : String(error);
  return message.split("\n")[0];
}

/**
 * Runs the CLI with `args` and returns the exit code: 0 on success, 1 when
 * the command failed (one line on stderr, no stack), 2 for wrong arguments
 * (with the usage).
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * import assert from "node:assert/strict";
 * let err = "";
 * assert.equal(await main(["no-such-command"], { stderr: (t) => void (err += t) }), 2);
 * assert.match(err, /Unknown command/);
 * ```
 */
export async function main(args: string[], io: Partial<CliIO> = {}): Promise<number> {
  const fullIO = runIO(io);
  const context: CliContext = { io: fullIO };
  const rest = [...args];
  while (rest[0] === "--user-dir" || rest[0]?.startsWith("--user-dir=")) {
    const flag = rest.shift()!;
    const dir = flag === "--user-dir" ? rest.shift() : flag.slice("--user-dir=".length);
    if (dir === undefined || dir === "") {
      await fullIO.stderr(`Error: --user-dir needs a value\n\n${usage()}\n`);
      return 2;
    }
    context.llmUserPath = dir;
  }
  const name = rest.shift();
  if (name === "--version" || name === "-V") {
    await fullIO.stdout(`cli ${VERSION}\n`);
    return 0;
  }
  const helpFor = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
  if (helpFor) {
    await fullIO.stdout(`${helpFor.usage}\n`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    await (name === undefined ? fullIO.stderr : fullIO.stdout)(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    await fullIO.stderr(`Error: Unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const end = rest.indexOf("--");
  const options = end < 0 ? rest : rest.slice(0, end);
  if (options.includes("--help") || options.includes("-h")) {
    await fullIO.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, context);
  } catch (error) {
    // The reader went away (`cli split big.md | head`): stop quietly, as Unix tools do.
    if (error instanceof Error && error.name === "BrokenPipe") return 0;
    if (error instanceof UsageError) {
      await fullIO.stderr(`Error: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    await fullIO.stderr(`Error: ${errorLine(error)}\n`);
    return 1;
  }
}

if (isMainModule(import.meta)) {
  exitProcess(await main(processArgs()));
}
