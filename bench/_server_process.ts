/**
 * A benchmark's server in a process of its own (its work must not share the
 * measured process's thread): the script prints its URL on its first line and
 * stops when its stdin closes.
 *
 * @module
 */

/** A server process started by {@link startServerProcess}. */
export interface ServerProcess {
  /** What the script printed on its first line (its base URL or origin). */
  url: string;
  /** Closes the script's stdin and waits for it to end. */
  stop(): Promise<void>;
}

/** Starts `script` (a path) with `deno run -A` and waits for the URL it prints. */
export async function startServerProcess(
  script: string,
  options: { stderr?: "inherit" | "null" } = {},
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", new URL("../deno.json", import.meta.url).pathname, script],
    stdin: "piped",
    stdout: "piped",
    stderr: options.stderr ?? "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} ended before it printed its URL`);
    text += value;
  }
  // Nothing more is read: the decoded stream is cancelled, and with it the child's stdout.
  reader.cancel().catch(() => {});
  return {
    url: text.trim().split("\n")[0],
    async stop() {
      await child.stdin.close();
      await child.status;
    },
  };
}
