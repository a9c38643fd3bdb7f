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

/** The largest file {@link readTextFileIfExists} reads by default: 16 MiB. */
export const MAX_FILE_BYTES: number = 16 * 1024 * 1024;

/** Options of the file readers. */
export interface ReadOptions {
  /** The most bytes read (default {@link MAX_FILE_BYTES}); a larger file is an error. */
  maxBytes?: number;
}

const CHUNK = 64 * 1024;

function tooLarge(path: string, max: number): FileAccessError {
  return new FileAccessError(path, `it is larger than the limit of ${max} bytes`);
}

// Keeps a leading byte order mark, as Deno.readTextFile and Node's readFile do.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

function joined(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** A reader of a file opened for reading: the next bytes into `buffer`, 0 or null at the end. */
type ReadInto = (buffer: Uint8Array) => number | null;

/** Reads from `read` until the end, failing past `max` bytes (so `/dev/zero` ends at once). */
function readCapped(path: string, max: number, read: ReadInto): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const buffer = new Uint8Array(CHUNK);
    const n = read(buffer);
    if (n === null || n === 0) break;
    total += n;
    if (total > max) throw tooLarge(path, max);
    chunks.push(n === CHUNK ? buffer : buffer.subarray(0, n));
  }
  return joined(chunks, total);
}

async function readCappedAsync(
  path: string,
  max: number,
  read: (buffer: Uint8Array) => Promise<number | null>,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const buffer = new Uint8Array(CHUNK);
    const n = await read(buffer);
    if (n === null || n === 0) break;
    total += n;
    if (total > max) throw tooLarge(path, max);
    chunks.push(n === CHUNK ? buffer : buffer.subarray(0, n));
  }
  return joined(chunks, total);
}

/**
 * Reads a file's bytes, at most `options.maxBytes` (default 16 MiB): the limit
 * is checked while reading, so an endless file (`/dev/zero`) fails at once.
 * Returns `undefined` when the file does not exist; throws
 * {@link FileAccessError} when read permission is denied, the file is too
 * large or the read fails.
 */
export async function readFileIfExists(
  path: string,
  options: ReadOptions = {},
): Promise<Uint8Array | undefined> {
  const max = options.maxBytes ?? MAX_FILE_BYTES;
  const deno = denoNs();
  if (deno?.open) {
    if (!hasReadPermission(path)) {
      throw new FileAccessError(path, "read permission denied (run with --allow-read)");
    }
    let file: Deno.FsFile;
    try {
      file = await deno.open(path, { read: true });
    } catch (error) {
      if (error instanceof deno.errors.NotFound) return undefined;
      throw new FileAccessError(path, (error as Error).message);
    }
    try {
      return await readCappedAsync(path, max, (buffer) => file.read(buffer));
    } catch (error) {
      if (error instanceof FileAccessError) throw error;
      throw new FileAccessError(path, (error as Error).message);
    } finally {
      file.close();
    }
  }
  const fs = await nodeFs();
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(path, "r");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new FileAccessError(path, nodeReason(error));
  }
  try {
    return await readCappedAsync(
      path,
      max,
      async (buffer) => (await handle.read(buffer, 0, buffer.byteLength)).bytesRead,
    );
  } catch (error) {
    if (error instanceof FileAccessError) throw error;
    throw new FileAccessError(path, nodeReason(error));
  } finally {
    await handle.close();
  }
}

/**
 * Reads a UTF-8 file, at most `options.maxBytes` (default 16 MiB, checked
 * while reading). Returns `undefined` when the file does not exist; throws
 * {@link FileAccessError} when read permission is denied, the file is too
 * large or the read fails.
 */
export async function readTextFileIfExists(
  path: string,
  options: ReadOptions = {},
): Promise<string | undefined> {
  const bytes = await readFileIfExists(path, options);
  return bytes === undefined ? undefined : utf8.decode(bytes);
}

/**
 * Reads a UTF-8 file synchronously (for settings read while a backend is built),
 * at most `options.maxBytes` (default 16 MiB, checked while reading).
 * Returns `undefined` when the file does not exist; throws
 * {@link FileAccessError} when read permission is denied, the file is too
 * large or the read fails.
 */
export function readTextFileIfExistsSync(
  path: string,
  options: ReadOptions = {},
): string | undefined {
  const max = options.maxBytes ?? MAX_FILE_BYTES;
  const deno = denoNs();
  if (deno?.openSync) {
    if (!hasReadPermission(path)) {
      throw new FileAccessError(path, "read permission denied (run with --allow-read)");
    }
    let file: Deno.FsFile;
    try {
      file = deno.openSync(path, { read: true });
    } catch (error) {
      if (error instanceof deno.errors.NotFound) return undefined;
      throw new FileAccessError(path, (error as Error).message);
    }
    try {
      return utf8.decode(readCapped(path, max, (buffer) => file.readSync(buffer)));
    } catch (error) {
      if (error instanceof FileAccessError) throw error;
      throw new FileAccessError(path, (error as Error).message);
    } finally {
      file.close();
    }
  }
  const fs = runtime.process?.getBuiltinModule?.("node:fs") as
    | {
      openSync(path: string, flags: string): number;
      readSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
      closeSync(fd: number): void;
    }
    | undefined;
  if (!fs) throw new FileAccessError(path, "synchronous file reading is not available");
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw new FileAccessError(path, nodeReason(error));
  }
  try {
    return utf8.decode(
      readCapped(path, max, (buffer) => fs.readSync(fd, buffer, 0, buffer.byteLength)),
    );
  } catch (error) {
    if (error instanceof FileAccessError) throw error;
    throw new FileAccessError(path, nodeReason(error));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A stamp of a file's state from a `stat` (which opens nothing): its
 * modification and change times, size and inode, so that an edit in place, a
 * file renamed over it and a deletion all change it. Returns `undefined` when
 * the file does not exist; throws {@link FileAccessError} when read permission
 * is denied (checked first, so Deno never prompts) or the stat fails.
 */
export function fileStampSync(path: string): string | undefined {
  const deno = denoNs();
  if (deno?.statSync) {
    if (!hasReadPermission(path)) {
      throw new FileAccessError(path, "read permission denied (run with --allow-read)");
    }
    let info: Deno.FileInfo;
    try {
      info = deno.statSync(path);
    } catch (error) {
      if (error instanceof deno.errors.NotFound) return undefined;
      throw new FileAccessError(path, (error as Error).message);
    }
    return `${info.mtime?.getTime()}:${info.ctime?.getTime()}:${info.size}:${info.ino}`;
  }
  const fs = runtime.process?.getBuiltinModule?.("node:fs") as
    | {
      statSync(
        path: string,
        options: { throwIfNoEntry: false },
      ): { mtimeMs: number; ctimeMs: number; size: number; ino: number } | undefined;
    }
    | undefined;
  if (!fs) throw new FileAccessError(path, "synchronous file access is not available");
  let info: { mtimeMs: number; ctimeMs: number; size: number; ino: number } | undefined;
  try {
    info = fs.statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw new FileAccessError(path, nodeReason(error));
  }
  return info === undefined
    ? undefined
    : `${info.mtimeMs}:${info.ctimeMs}:${info.size}:${info.ino}`;
}

/** Options of {@link writeTextFile}. */
export interface WriteOptions {
  /** The file's mode (default 0o600). */
  mode?: number;
  /**
   * Refuse to write when the path is a symbolic link (dangling or not), and
   * write through a new file renamed into place, so that no link swapped in
   * meanwhile is followed either.
   */
  refuseSymlink?: boolean;
}

function symlinkError(path: string): FileAccessError {
  return new FileAccessError(path, "it is a symbolic link: refusing to write through it");
}

function tempName(path: string): string {
  return `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Writes a UTF-8 file, creating parent directories, with the given mode (default 0o600).
 * Throws {@link FileAccessError} when write permission is denied (checked first, so
 * Deno never prompts), the path is a symbolic link and `refuseSymlink` is set, or
 * the write fails.
 */
export async function writeTextFile(
  path: string,
  text: string,
  options: WriteOptions = {},
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
      const windows = deno.build.os === "windows";
      if (options.refuseSymlink) {
        const kind = await deno.lstat(path).catch((error) => {
          if (error instanceof deno.errors.NotFound) return undefined;
          throw error;
        });
        if (kind?.isSymlink) throw symlinkError(path);
        const temp = tempName(path);
        if (hasPermission("write", temp)) {
          try {
            await deno.writeTextFile(temp, text, { mode, createNew: true });
            if (!windows) await deno.chmod(temp, mode);
            await deno.rename(temp, path);
          } catch (error) {
            await deno.remove(temp).catch(() => {});
            throw error;
          }
          return;
        }
      }
      await deno.writeTextFile(path, text, { mode });
      if (!windows) await deno.chmod(path, mode);
      return;
    }
    const fs = await nodeFs();
    await fs.mkdir(dir, { recursive: true });
    if (options.refuseSymlink) {
      const kind = await fs.lstat(path).catch((error) => {
        if ((error as { code?: string }).code === "ENOENT") return undefined;
        throw error;
      });
      if (kind?.isSymbolicLink()) throw symlinkError(path);
      const temp = tempName(path);
      try {
        await fs.writeFile(temp, text, { mode, flag: "wx" });
        await fs.chmod(temp, mode);
        await fs.rename(temp, path);
      } catch (error) {
        await fs.rm(temp, { force: true }).catch(() => {});
        throw error;
      }
      return;
    }
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
