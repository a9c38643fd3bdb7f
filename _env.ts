// Guarded access to the runtime. Library modules use these helpers instead of
// touching `Deno.*` directly, so that the package also runs on Node and Bun and
// so that a denied permission never crashes: it reads as "not set".

// deno-lint-ignore no-explicit-any
const runtime: any = globalThis;

function denoNs(): typeof Deno | undefined {
  return runtime.Deno as typeof Deno | undefined;
}

function nodeProcess(): { env: Record<string, string | undefined>; platform?: string } | undefined {
  const p = runtime.process;
  return p && typeof p === "object" && p.env ? p : undefined;
}

/**
 * Reads an environment variable. Returns `undefined` when it is unset, when the
 * runtime has no environment, or when permission to read it is denied (no
 * prompt, no throw).
 */
export function getEnv(name: string): string | undefined {
  const deno = denoNs();
  if (deno?.env) {
    try {
      const status = deno.permissions?.querySync?.({ name: "env", variable: name });
      if (status && status.state !== "granted") return undefined;
      return deno.env.get(name);
    } catch {
      return undefined;
    }
  }
  try {
    return nodeProcess()?.env[name];
  } catch {
    return undefined;
  }
}

/**
 * The names among `names` that {@link getEnv} cannot read because permission
 * is not granted (Deno only; elsewhere none). Checked without a prompt.
 */
export function deniedEnv(names: readonly string[]): string[] {
  const deno = denoNs();
  if (!deno?.env || !deno.permissions?.querySync) return [];
  return names.filter((name) => {
    try {
      return deno.permissions!.querySync!({ name: "env", variable: name }).state !== "granted";
    } catch {
      return true;
    }
  });
}

/**
 * Whether a connection to `host` ("name:port") may be made without Deno
 * prompting: only a "granted" state is. Outside Deno, always true.
 */
export function netAllowed(host: string): boolean {
  const deno = denoNs();
  try {
    const status = deno?.permissions?.querySync?.({ name: "net", host });
    return !status || status.state === "granted";
  } catch {
    return false;
  }
}

/** The operating system family: "windows", "darwin", "linux" or another name. */
export function osName(): string {
  const deno = denoNs();
  if (deno?.build?.os) return deno.build.os;
  const platform = nodeProcess()?.platform;
  if (platform === "win32") return "windows";
  return platform ?? "linux";
}

/** The user's home directory, or undefined when it cannot be known. */
export function homeDir(): string | undefined {
  return getEnv(osName() === "windows" ? "USERPROFILE" : "HOME");
}

// Whether `path` may be read or written without Deno prompting: only a
// "granted" state is; "prompt" and "denied" are not (so nothing ever prompts).
function hasPermission(name: "read" | "write", path: string): boolean {
  const deno = denoNs();
  try {
    const status = deno?.permissions?.querySync?.({ name, path });
    return !status || status.state === "granted";
  } catch {
    return false;
  }
}

function hasReadPermission(path: string): boolean {
  return hasPermission("read", path);
}

/** An error thrown when a file cannot be read for a reason other than absence. */
export class FileAccessError extends Error {
  /** The path that could not be read or written. */
  readonly path: string;
  /** Builds the error. */
  constructor(path: string, reason: string) {
    super(`Cannot access "${path}": ${reason}`);
    this.name = "FileAccessError";
    this.path = path;
  }
}

// Why a Node file operation failed: its permission model's refusal names the
// flag that allows it; any other failure keeps its own message.
function nodeReason(error: unknown): string {
  const { code, permission } = (error ?? {}) as { code?: string; permission?: string };
  if (code === "ERR_ACCESS_DENIED") {
    return permission === "FileSystemWrite"
      ? "write permission denied (run node with --allow-fs-write)"
      : "read permission denied (run node with --allow-fs-read)";
  }
  return (error as Error).message;
}

async function nodeFs(): Promise<typeof import("node:fs/promises")> {
  return await import("node:fs/promises");
}

/**
 * Reads a UTF-8 file. Returns `undefined` when the file does not exist;
 * throws {@link FileAccessError} when read permission is denied or the read fails.
 */
export async function readTextFileIfExists(path: string): Promise<string | undefined> {
  const deno = denoNs();
  if (deno?.readTextFile) {
    if (!hasReadPermission(path)) {
      throw new FileAccessError(path, "read permission denied (run with --allow-read)");
    }
    try {
      return await deno.readTextFile(path);
    } catch (error) {
      if (error instanceof deno.errors.NotFound) return undefined;
      throw new FileAccessError(path, (error as Error).message);
    }
  }
  try {
    return await (await nodeFs()).readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new FileAccessError(path, nodeReason(error));
  }
}

/**
 * Reads a UTF-8 file synchronously (for settings read while a backend is built).
 * Returns `undefined` when the file does not exist; throws
 * {@link FileAccessError} when read permission is denied or the read fails.
 */
export function readTextFileIfExistsSync(path: string): string | undefined {
  const deno = denoNs();
  if (deno?.readTextFileSync) {
    if (!hasReadPermission(path)) {
      throw new FileAccessError(path, "read permission denied (run with --allow-read)");
    }
    try {
      return deno.readTextFileSync(path);
    } catch (error) {
      if (error instanceof deno.errors.NotFound) return undefined;
      throw new FileAccessError(path, (error as Error).message);
    }
  }
  const fs = runtime.process?.getBuiltinModule?.("node:fs") as
    | { readFileSync(path: string, encoding: "utf8"): string }
    | undefined;
  if (!fs) throw new FileAccessError(path, "synchronous file reading is not available");
  try {
    return fs.readFileSync(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new FileAccessError(path, nodeReason(error));
  }
}

/**
 * Writes a UTF-8 file, creating parent directories, with the given mode (default 0o600).
 * Throws {@link FileAccessError} when write permission is denied (checked first, so
 * Deno never prompts) or the write fails.
 */
export async function writeTextFile(
  path: string,
  text: string,
  options: { mode?: number } = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const deno = denoNs();
  try {
    if (deno?.writeTextFile) {
      if (!hasPermission("write", dir) || !hasPermission("write", path)) {
        throw new FileAccessError(path, "write permission denied (run with --allow-write)");
      }
      await deno.mkdir(dir, { recursive: true });
      await deno.writeTextFile(path, text, { mode });
      if (deno.build.os !== "windows") await deno.chmod(path, mode);
      return;
    }
    const fs = await nodeFs();
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path, text, { mode });
    await fs.chmod(path, mode);
  } catch (error) {
    if (error instanceof FileAccessError) throw error;
    throw new FileAccessError(path, nodeReason(error));
  }
}

/** Joins path segments with "/" (or "\\" on Windows when a segment uses it). */
export function joinPath(...parts: string[]): string {
  const sep = osName() === "windows" && parts.some((p) => p.includes("\\")) ? "\\" : "/";
  return parts
    .filter((p) => p !== "")
    .map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, "") : p.replace(/^[\\/]+|[\\/]+$/g, "")))
    .join(sep);
}

/** The directory part of a path. */
export function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (i < 0) return ".";
  if (i === 0) return path[0];
  return path.slice(0, i);
}
