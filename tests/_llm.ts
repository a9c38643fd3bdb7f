// Helpers for the LLM backend tests: temporary user directories and
// subprocesses with their own environment.

/** A temporary `llm` user directory with the given files; removed on dispose. */
export interface TempUserDir extends AsyncDisposable {
  path: string;
  write(name: string, text: string): Promise<void>;
  read(name: string): Promise<string>;
}

export async function tempUserDir(files: Record<string, string> = {}): Promise<TempUserDir> {
  const path = await Deno.makeTempDir({ prefix: "llm-user-" });
  const dir: TempUserDir = {
    path,
    write: (name, text) => Deno.writeTextFile(`${path}/${name}`, text),
    read: (name) => Deno.readTextFile(`${path}/${name}`),
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
  for (const [name, text] of Object.entries(files)) await dir.write(name, text);
  return dir;
}

/** The result of a subprocess. */
export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript snippet in a new Deno process with exactly `env` (no
 * inherited environment), so that tests of environment variables such as
 * OPENAI_API_KEY do not disturb tests running in parallel. The snippet can
 * import the module as `"MOD"` (replaced by the URL of mod.ts).
 */
export async function runScript(
  code: string,
  env: Record<string, string>,
  permissions: string[] = ["--allow-env", "--allow-read", "--allow-net=127.0.0.1"],
): Promise<ScriptRun> {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const source = code.replaceAll('"MOD"', JSON.stringify(mod));
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-check", "--config", config, ...permissions, "-"],
    env: { ...env, NO_COLOR: "1", DENO_DIR: Deno.env.get("DENO_DIR") ?? defaultDenoDir() },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function defaultDenoDir(): string {
  const home = Deno.env.get("HOME") ?? "/root";
  return Deno.build.os === "darwin" ? `${home}/Library/Caches/deno` : `${home}/.cache/deno`;
}
