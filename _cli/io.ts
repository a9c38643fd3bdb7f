// The CLI's standard streams, arguments and exit code, on Deno or on Node: the
// only CLI module that touches `Deno.*` (or `process`), each access guarded so
// that the CLI's library side (`main()`) runs where the other is missing.
import type { CliIO } from "./context.ts";
import { FileAccessError, readFileIfExists } from "../_env.ts";

// deno-lint-ignore no-explicit-any
const runtime: any = globalThis;

type StreamName = "stdin" | "stdout" | "stderr";

/** Whether the standard stream `name` is a terminal (false when it cannot be told). */
export function streamIsTerminal(name: StreamName): boolean {
  try {
    if (runtime.Deno?.[name]?.isTerminal) return runtime.Deno[name].isTerminal() === true;
    return runtime.process?.[name]?.isTTY === true;
  } catch {
    return false;
  }
}

/** An error named "BrokenPipe" (as Deno names it): the reader of the output went away. */
function brokenPipe(cause: unknown): Error {
  const error = new Error("the output was closed (broken pipe)", { cause });
  error.name = "BrokenPipe";
  return error;
}

/** Writes all of `bytes` to the standard stream `name`. */
async function writeStream(name: "stdout" | "stderr", bytes: Uint8Array): Promise<void> {
  const deno = runtime.Deno?.[name];
  if (deno?.write) {
    let written = 0;
    while (written < bytes.byteLength) written += await deno.write(bytes.subarray(written));
    return;
  }
  const stream = runtime.process?.[name];
  if (!stream?.write) throw new Error(`there is no standard ${name.slice(3)} to write to`);
  await new Promise<void>((resolve, reject) => {
    stream.write(bytes, (error: (Error & { code?: string }) | null | undefined) => {
      if (!error) resolve();
      else reject(error.code === "EPIPE" ? brokenPipe(error) : error);
    });
  });
}

/** The chunks of standard input, as bytes. */
async function* stdinChunks(): AsyncGenerator<Uint8Array> {
  const deno = runtime.Deno?.stdin;
  if (deno?.readable) {
    const reader = (deno.readable as ReadableStream<Uint8Array>).getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  const stream = runtime.process?.stdin;
  if (stream === undefined) return;
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) yield chunk;
  } finally {
    stream.destroy?.();
  }
}

/** Standard input as text, at most `max` bytes (checked while reading, into one buffer). */
export async function readStdin(max: number): Promise<string> {
  let buffer = new Uint8Array(64 * 1024);
  let total = 0;
  for await (const chunk of stdinChunks()) {
    if (total + chunk.byteLength > max) {
      throw new Error(`standard input is larger than the limit of ${max} bytes`);
    }
    if (total + chunk.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(
        Math.min(max, Math.max(buffer.byteLength * 2, total + chunk.byteLength)),
      );
      grown.set(buffer.subarray(0, total));
      buffer = grown;
    }
    buffer.set(chunk, total);
    total += chunk.byteLength;
  }
  return new TextDecoder().decode(buffer.subarray(0, total));
}

/** A file's bytes, at most `max` (checked while reading: `/dev/zero` fails at once). */
async function readFile(path: string, max: number): Promise<Uint8Array> {
  const bytes = await readFileIfExists(path, { maxBytes: max });
  if (bytes === undefined) throw new FileAccessError(path, "no such file");
  return bytes;
}

/** The IO of the process: its standard streams and files, with `maxInput` bytes read at most. */
export function processIO(maxInput: number): CliIO {
  const encoder = new TextEncoder();
  return {
    stdout: (text) => writeStream("stdout", encoder.encode(text)),
    stderr: (text) => writeStream("stderr", encoder.encode(text)),
    readStdin: () => readStdin(maxInput),
    stdinIsTerminal: () => streamIsTerminal("stdin"),
    readFile: (path) => readFile(path, maxInput),
  };
}

/** The process's command-line arguments (after the script). */
export function processArgs(): string[] {
  if (Array.isArray(runtime.Deno?.args)) return [...runtime.Deno.args];
  const argv = runtime.process?.argv;
  return Array.isArray(argv) ? argv.slice(2) : [];
}

/**
 * Whether the module of `meta` is the program's main module: `import.meta.main`
 * where the runtime has it (Deno, Node 24), else whether Node's script path is
 * the module's file.
 */
export function isMainModule(meta: ImportMeta): boolean {
  const main = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const script = runtime.process?.argv?.[1];
  if (typeof script !== "string") return false;
  const file = (meta as { filename?: unknown }).filename;
  if (typeof file === "string") return file === script;
  try {
    return decodeURIComponent(new URL(meta.url).pathname) === script;
  } catch {
    return false;
  }
}

/** Ends the process with `code` (on Node: sets the exit code and lets the output drain). */
export function exitProcess(code: number): void {
  if (typeof runtime.Deno?.exit === "function") runtime.Deno.exit(code);
  else if (runtime.process !== undefined) runtime.process.exitCode = code;
}
