// mod.ts bundled by `deno bundle` into one ES module that Node (or Deno without
// a config) can import; `external` packages stay imports, as in an install
// whose node_modules must provide them.
import assert from "node:assert/strict";

/**
 * Bundles `entry` (default mod.ts) into `path` (leaving the `external` specifiers as imports)
 * and returns it.
 */
export async function bundleMod(
  path: string,
  external: string[] = [],
  entry = "mod.ts",
): Promise<string> {
  const built = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      ...external.flatMap((specifier) => ["--external", specifier]),
      "-o",
      path,
      entry,
    ],
    cwd: new URL("../", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  return path;
}

/** The path of `node` on PATH, or undefined. */
export function findNode(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/node`).isFile) return `${dir}/node`;
    } catch {
      // not here
    }
  }
  return undefined;
}
