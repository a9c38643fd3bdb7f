// The `llm` tool's user directory: where it is, and its files (keys.json,
// aliases.json, default_model.txt, extra-openai-models.yaml). Without a check
// interval, files are read on every lookup; with one (the LLM backend), they
// are kept as read and checked by their stat at most once per interval
// (_checked_files.ts). Parsed results are reused while a file's text is unchanged.
import { ImproperlyConfigured } from "../../errors.ts";
import {
  deniedEnv,
  FileAccessError,
  getEnv,
  homeDir,
  joinPath,
  osName,
  readTextFileIfExists,
  readTextFileIfExistsSync,
  writeTextFile,
} from "../../_env.ts";
import { parseYaml } from "../../_yaml.ts";
import { checkedText, forgetFiles } from "./_checked_files.ts";

/** The `llm` tool's application directory name. */
export const APP_NAME = "io.datasette.llm";
/** File names in the user directory. */
export const KEYS_FILE = "keys.json";
export const ALIASES_FILE = "aliases.json";
export const DEFAULT_MODEL_FILE = "default_model.txt";
export const EXTRA_MODELS_FILE = "extra-openai-models.yaml";
export const LOGS_FILE = "logs.db";

/** The `llm` tool's default model when `default_model.txt` is absent. */
export const LLM_DEFAULT_MODEL = "gpt-4o-mini";

/** The note the `llm` tool writes at the top of a new keys.json. */
export const KEYS_NOTE_NAME = "// Note";
const KEYS_NOTE = { [KEYS_NOTE_NAME]: "This file stores secret API credential keys" };

/**
 * The `llm` tool's default directory on this system (as click's
 * `get_app_dir` computes it), or undefined when the home directory is unknown.
 */
export function defaultUserDir(): string | undefined {
  const os = osName();
  if (os === "windows") {
    const base = getEnv("APPDATA") ?? homeDir();
    return base === undefined ? undefined : joinPath(base, APP_NAME);
  }
  const home = homeDir();
  if (os === "darwin") {
    return home === undefined
      ? undefined
      : joinPath(home, "Library", "Application Support", APP_NAME);
  }
  const xdg = getEnv("XDG_CONFIG_HOME");
  if (xdg !== undefined && xdg !== "") return joinPath(xdg, APP_NAME);
  return home === undefined ? undefined : joinPath(home, ".config", APP_NAME);
}

// The directory found from the environment, for checked reads: looked up again
// at most once per check interval (reading the environment asks for permission each time).
let fromEnvironment: { dir: string | undefined; at: number } | undefined;

/** Forgets the directory found from the environment (`ai.reload()`). */
export function forgetUserDir(): void {
  fromEnvironment = undefined;
}

/**
 * The user directory: `userPath`, then `LLM_USER_PATH`, then the default.
 * With a check `interval`, the one found from the environment is kept that long.
 */
export function resolveUserDir(userPath?: string, interval?: CheckInterval): string | undefined {
  if (userPath !== undefined && userPath !== "") return userPath;
  if (interval !== undefined) {
    const at = Date.now();
    const kept = fromEnvironment;
    if (kept !== undefined && at >= kept.at && at - kept.at < interval) return kept.dir;
    const dir = resolveUserDir();
    fromEnvironment = { dir, at };
    return dir;
  }
  const fromEnv = getEnv("LLM_USER_PATH");
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  return defaultUserDir();
}

/**
 * For error messages: when no `userPath` is given and the environment
 * variables that locate the user directory cannot be read (Deno without
 * `--allow-env`), a note saying so; else "".
 */
export function userDirEnvHint(userPath?: string): string {
  if (userPath !== undefined && userPath !== "") return "";
  const os = osName();
  const names = [
    "LLM_USER_PATH",
    ...(os === "windows" ? ["APPDATA", "USERPROFILE"] : os === "darwin" ? ["HOME"] : [
      "XDG_CONFIG_HOME",
      "HOME",
    ]),
  ];
  const denied = deniedEnv(names);
  return denied.length === 0
    ? ""
    : ` (the llm user directory may not be the one you meant: ${
      denied.join(", ")
    } could not be read; run with --allow-env=${denied.join(",")} or pass llmUserPath)`;
}

/** The user directory, or an error saying how to set it. */
export function requireUserDir(userPath?: string): string {
  const dir = resolveUserDir(userPath);
  if (dir === undefined) {
    throw new ImproperlyConfigured(
      "Cannot find the llm user directory: set LLM_USER_PATH (or the llmUserPath option), " +
        "or allow reading HOME",
    );
  }
  return dir;
}

/**
 * How fresh a read must be: undefined reads the file; a number of
 * milliseconds keeps it as read, checked by its stat at most that often (0: on
 * every read).
 */
export type CheckInterval = number | undefined;

// The paths of each directory's files, joined once (a kept read looks them up at every call).
const paths = new Map<string, Map<string, string>>();

function fileIn(dir: string, name: string): string {
  let files = paths.get(dir);
  if (files === undefined) {
    if (paths.size >= 256) paths.clear();
    paths.set(dir, files = new Map());
  }
  let path = files.get(name);
  if (path === undefined) files.set(name, path = joinPath(dir, name));
  return path;
}

function readText(path: string, interval: CheckInterval): string | undefined {
  try {
    return interval === undefined ? readTextFileIfExistsSync(path) : checkedText(path, interval);
  } catch (error) {
    if (error instanceof FileAccessError) {
      throw new ImproperlyConfigured(error.message);
    }
    throw error;
  }
}

const parsed = new Map<string, { text: string; value: unknown }>();

function cached<T>(path: string, text: string, parse: (text: string) => T): T {
  const hit = parsed.get(path);
  if (hit && hit.text === text) return hit.value as T;
  const value = parse(text);
  parsed.set(path, { text, value });
  return value;
}

// A JSON error's position without any of the file's text (keys.json holds secrets).
function jsonPosition(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return ` at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  const position = /position (\d+)/.exec(message);
  return position ? ` at character ${position[1]}` : "";
}

function parseJsonObject(path: string, text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImproperlyConfigured(`"${path}" is not valid JSON${jsonPosition(error)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ImproperlyConfigured(`"${path}" must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

// What an absent file reads as: one object each, so that a kept catalog sees no change.
const NO_STRINGS: Record<string, string> = Object.freeze(Object.create(null));
const NO_MODELS: ExtraModelEntry[] = Object.freeze([]) as unknown as ExtraModelEntry[];

/** A JSON object file of string values; other values are left out. */
function readStringMap(path: string, interval: CheckInterval): Record<string, string> {
  const text = readText(path, interval);
  if (text === undefined) return NO_STRINGS;
  return cached(path, text, (source) => {
    const out: Record<string, string> = Object.create(null);
    for (const [name, value] of Object.entries(parseJsonObject(path, source))) {
      if (typeof value === "string") out[name] = value;
    }
    return out;
  });
}

/** keys.json: `{name: key}` (the llm tool's note entry included). */
export function readKeys(dir: string, interval?: CheckInterval): Record<string, string> {
  return readStringMap(fileIn(dir, KEYS_FILE), interval);
}

/** aliases.json: `{alias: model_id}`. */
export function readAliases(dir: string, interval?: CheckInterval): Record<string, string> {
  return readStringMap(fileIn(dir, ALIASES_FILE), interval);
}

/** default_model.txt, trimmed, or undefined. */
export function readDefaultModel(dir: string): string | undefined {
  const text = readText(joinPath(dir, DEFAULT_MODEL_FILE), undefined)?.trim();
  return text ? text : undefined;
}

/** One checked entry of extra-openai-models.yaml. */
export interface ExtraModelEntry {
  modelId: string;
  modelName: string;
  apiBase?: string;
  apiKeyName?: string;
  apiType?: string;
  apiVersion?: string;
  apiEngine?: string;
  headers?: Record<string, string>;
  aliases: string[];
  vision: boolean;
  audio: boolean;
  canStream: boolean;
  completion: boolean;
  reasoning: boolean;
  supportsSchema: boolean;
  supportsTools: boolean;
}

// The line of each top-level list item ("- ..." at the smallest indent), 1-based.
function itemLines(text: string): number[] {
  const lines = text.split(/\r?\n/);
  let indent: number | undefined;
  const out: number[] = [];
  for (const [index, line] of lines.entries()) {
    const match = /^(\s*)-(\s|$)/.exec(line);
    if (!match) continue;
    const width = match[1].length;
    if (indent === undefined || width < indent) {
      indent = width;
      out.length = 0;
    }
    if (width === indent) out.push(index + 1);
  }
  return out;
}

function parseExtraModels(path: string, text: string): ExtraModelEntry[] {
  // Only comments and blank lines: no models yet.
  if (text.split(/\r?\n/).every((line) => /^\s*(#.*)?$/.test(line))) return [];
  // A key repeated in one entry: the last value wins, as in the llm tool.
  const data = parseYaml(text, path, { duplicateKeys: "last" });
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) {
    throw new ImproperlyConfigured(`"${path}" must be a YAML list of models (- model_id: ...)`);
  }
  const lines = itemLines(text);
  const seen = new Set<string>();
  return data.map((item, index) => {
    const line = lines.length === data.length ? `, line ${lines[index]}` : "";
    const where = `entry ${index + 1}${line} of "${path}"`;
    const entry = parseExtraEntry(item, where);
    if (seen.has(entry.modelId)) {
      throw new ImproperlyConfigured(`${where} repeats model_id "${entry.modelId}"`);
    }
    seen.add(entry.modelId);
    return entry;
  });
}

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

// The YAML 1.1 booleans that YAML 1.2 (our parser) reads as strings.
const YAML11_BOOLEANS: Readonly<Record<string, boolean>> = Object.freeze({
  yes: true,
  Yes: true,
  YES: true,
  on: true,
  On: true,
  ON: true,
  no: false,
  No: false,
  NO: false,
  off: false,
  Off: false,
  OFF: false,
});

// An HTTP header name (a token) and a value fetch can send (one line of Latin-1).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function parseExtraEntry(item: unknown, where: string): ExtraModelEntry {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new ImproperlyConfigured(`${where} must be a mapping with a model_id`);
  }
  const raw = item as Record<string, unknown>;
  const string = (key: string, required = false): string | undefined => {
    const value = raw[key];
    if (value === undefined || value === null) {
      if (required) throw new ImproperlyConfigured(`${where} has no ${key}`);
      return undefined;
    }
    if (typeof value !== "string") {
      throw new ImproperlyConfigured(
        `${key} of ${where} must be a string (quote it in the YAML), got ${typeof value}`,
      );
    }
    if (value.trim() === "") throw new ImproperlyConfigured(`${key} of ${where} must not be empty`);
    return value;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = raw[key];
    if (value === undefined || value === null) return fallback;
    // The llm tool reads this file as YAML 1.1, where yes/no/on/off are booleans.
    if (typeof value === "string" && Object.hasOwn(YAML11_BOOLEANS, value)) {
      return YAML11_BOOLEANS[value];
    }
    if (typeof value !== "boolean") {
      throw new ImproperlyConfigured(`${key} of ${where} must be true or false`);
    }
    return value;
  };
  const modelId = string("model_id", true)!;
  const entry: ExtraModelEntry = {
    modelId,
    modelName: string("model_name") ?? modelId,
    aliases: [],
    vision: flag("vision", false),
    audio: flag("audio", false),
    canStream: flag("can_stream", true),
    completion: flag("completion", false),
    reasoning: flag("reasoning", false),
    supportsSchema: flag("supports_schema", false),
    supportsTools: flag("supports_tools", false),
  };
  const apiBase = string("api_base");
  if (apiBase !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(apiBase);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new ImproperlyConfigured(`api_base of ${where} must be an http(s) URL`);
    }
    entry.apiBase = apiBase;
  }
  for (
    const [key, field] of [
      ["api_key_name", "apiKeyName"],
      ["api_type", "apiType"],
      ["api_version", "apiVersion"],
      ["api_engine", "apiEngine"],
    ] as const
  ) {
    const value = string(key);
    if (value !== undefined) entry[field] = value;
  }
  const headers = raw.headers;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== "object" || Array.isArray(headers)) {
      throw new ImproperlyConfigured(`headers of ${where} must be a mapping of names to values`);
    }
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (FORBIDDEN.has(name)) {
        throw new ImproperlyConfigured(`headers of ${where} has a forbidden name "${name}"`);
      }
      if (!HEADER_NAME.test(name)) {
        throw new ImproperlyConfigured(
          `headers of ${where} has an invalid header name ${JSON.stringify(name.slice(0, 100))}`,
        );
      }
      let text: string;
      if (typeof value === "string") text = value;
      else if (typeof value === "number" || typeof value === "boolean") text = String(value);
      else {
        throw new ImproperlyConfigured(`headers.${name} of ${where} must be a string`);
      }
      // Never the value in the message: header values are secrets.
      if (!HEADER_VALUE.test(text)) {
        throw new ImproperlyConfigured(
          `headers.${name} of ${where} must be one line of printable characters (no line ` +
            "breaks, control characters or characters beyond Latin-1)",
        );
      }
      out[name] = text;
    }
    entry.headers = out;
  }
  const aliases = raw.aliases;
  if (aliases !== undefined && aliases !== null) {
    const list = typeof aliases === "string" ? [aliases] : aliases;
    if (
      !Array.isArray(list) ||
      !list.every((alias) => typeof alias === "string" && alias.trim() !== "")
    ) {
      throw new ImproperlyConfigured(
        `aliases of ${where} must be a list of strings (quote numbers such as "0613")`,
      );
    }
    entry.aliases = [...list];
  }
  return entry;
}

/** extra-openai-models.yaml, checked; an absent file is an empty list. */
export function readExtraModels(dir: string, interval?: CheckInterval): ExtraModelEntry[] {
  const path = fileIn(dir, EXTRA_MODELS_FILE);
  const text = readText(path, interval);
  if (text === undefined) return NO_MODELS;
  return cached(path, text, (source) => parseExtraModels(path, source));
}

async function readJsonForUpdate(
  path: string,
  fallback: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  let text: string | undefined;
  try {
    text = await readTextFileIfExists(path);
  } catch (error) {
    if (error instanceof FileAccessError) throw new ImproperlyConfigured(error.message);
    throw error;
  }
  if (text === undefined) return { ...fallback };
  return { ...parseJsonObject(path, text) };
}

async function write(path: string, text: string, mode: number): Promise<void> {
  try {
    // The user directory's files are never written through a link (keys.json leads elsewhere).
    await writeTextFile(path, text, { mode, refuseSymlink: true });
  } catch (error) {
    if (error instanceof FileAccessError) throw new ImproperlyConfigured(error.message);
    throw error;
  } finally {
    // What this module writes is seen at once, whatever the check interval.
    forgetFiles(path);
  }
}

/** Stores a key in keys.json (mode 0600), keeping the others. */
export async function writeKey(dir: string, name: string, value: string): Promise<string> {
  const path = joinPath(dir, KEYS_FILE);
  const keys = await readJsonForUpdate(path, KEYS_NOTE);
  keys[name] = value;
  await write(path, JSON.stringify(keys, null, 2) + "\n", 0o600);
  return path;
}

/** Sets (or, with `undefined`, removes) an alias in aliases.json. Returns whether it existed. */
export async function writeAlias(
  dir: string,
  alias: string,
  modelId: string | undefined,
): Promise<boolean> {
  const path = joinPath(dir, ALIASES_FILE);
  const aliases = await readJsonForUpdate(path, {});
  const existed = Object.hasOwn(aliases, alias);
  if (modelId === undefined) {
    if (!existed) return false;
    delete aliases[alias];
  } else {
    aliases[alias] = modelId;
  }
  await write(path, JSON.stringify(aliases, null, 4) + "\n", 0o644);
  return existed;
}

/** Writes default_model.txt. */
export async function writeDefaultModel(dir: string, modelId: string): Promise<void> {
  await write(joinPath(dir, DEFAULT_MODEL_FILE), modelId, 0o644);
}
