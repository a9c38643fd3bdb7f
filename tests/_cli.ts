// Runs the CLI's main() with captured output.
import { main } from "../cli.ts";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  options: { stdin?: string; files?: Record<string, Uint8Array | string> } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    readFile: (path) => {
      const file = options.files?.[path];
      if (file === undefined) return Deno.readFile(path);
      return Promise.resolve(typeof file === "string" ? new TextEncoder().encode(file) : file);
    },
  });
  return { code, stdout, stderr };
}
