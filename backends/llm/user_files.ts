/**
 * Reading and writing the files of the `llm` user directory: aliases
 * (`aliases.json`), keys (`keys.json`, written with mode 0600) and the
 * default model (`default_model.txt`). The formats are the `llm` tool's, so
 * both tools share them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, removeAlias, setAlias } from "../../mod.ts";
 *
 * const userPath = await Deno.makeTempDir();
 * await setAlias("writer", "gpt-4.1", { userPath });
 * assert.equal(getModel("writer", { userPath }).modelId, "gpt-4.1");
 * assert.equal(await removeAlias("writer", { userPath }), true);
 * await Deno.remove(userPath, { recursive: true });
 * ```
 *
 * @module
 */
import { joinPath } from "../../_env.ts";
import { getModel, getUserDir, listModels, type RegistryOptions } from "./registry.ts";
import {
  ALIASES_FILE,
  DEFAULT_MODEL_FILE,
  EXTRA_MODELS_FILE,
  KEYS_FILE,
  KEYS_NOTE_NAME,
  LOGS_FILE,
  readKeys,
  writeAlias,
  writeDefaultModel,
  writeKey,
} from "./_user_dir.ts";

/**
 * The paths of the user directory's files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getUserFilePaths } from "./user_files.ts";
 * const paths = getUserFilePaths({ userPath: "/srv/llm" });
 * assert.equal(paths.keys, "/srv/llm/keys.json");
 * assert.equal(paths.extraModels, "/srv/llm/extra-openai-models.yaml");
 * ```
 */
export interface UserFilePaths {
  /** The directory. */
  dir: string;
  /** `keys.json`. */
  keys: string;
  /** `aliases.json`. */
  aliases: string;
  /** `default_model.txt`. */
  defaultModel: string;
  /** `extra-openai-models.yaml`. */
  extraModels: string;
  /** `logs.db` (the `llm` tool's log; this module does not write it). */
  logs: string;
}

/**
 * The paths of the user directory's files (they need not exist).
 *
 * @throws {ImproperlyConfigured} when the directory cannot be found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getUserFilePaths } from "./user_files.ts";
 * assert.equal(getUserFilePaths({ userPath: "/srv/llm" }).logs, "/srv/llm/logs.db");
 * ```
 */
export function getUserFilePaths(options: RegistryOptions = {}): UserFilePaths {
  const dir = getUserDir(options);
  return {
    dir,
    keys: joinPath(dir, KEYS_FILE),
    aliases: joinPath(dir, ALIASES_FILE),
    defaultModel: joinPath(dir, DEFAULT_MODEL_FILE),
    extraModels: joinPath(dir, EXTRA_MODELS_FILE),
    logs: joinPath(dir, LOGS_FILE),
  };
}

function requireName(value: unknown, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`${what} must be a non-empty string`);
  }
  return value;
}

/**
 * Every alias and the model id it resolves to (the models' own aliases and
 * those of aliases.json), as `aliases list` shows them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listAliases } from "./user_files.ts";
 * const userPath = await Deno.makeTempDir();
 * assert.equal(listAliases({ userPath })["4o"], "gpt-4o");
 * await Deno.remove(userPath);
 * ```
 */
export function listAliases(options: RegistryOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of listModels(options)) {
    for (const alias of entry.aliases) out[alias] = entry.model.modelId;
  }
  return out;
}

/**
 * Adds or changes an alias in aliases.json. The model must exist.
 *
 * @throws {UnknownModelError} when `modelId` names no model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listAliases, setAlias } from "./user_files.ts";
 * const userPath = await Deno.makeTempDir();
 * await setAlias("turbo", "gpt-3.5-turbo-16k", { userPath });
 * assert.equal(listAliases({ userPath }).turbo, "gpt-3.5-turbo-16k");
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export async function setAlias(
  alias: string,
  modelId: string,
  options: RegistryOptions = {},
): Promise<void> {
  requireName(alias, "The alias");
  requireName(modelId, "The model id");
  getModel(modelId, options);
  await writeAlias(getUserDir(options), alias, modelId);
}

/**
 * Removes an alias from aliases.json. Returns whether it was there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeAlias } from "./user_files.ts";
 * const userPath = await Deno.makeTempDir();
 * assert.equal(await removeAlias("nope", { userPath }), false);
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export async function removeAlias(alias: string, options: RegistryOptions = {}): Promise<boolean> {
  requireName(alias, "The alias");
  return await writeAlias(getUserDir(options), alias, undefined);
}

/**
 * Stores a key in keys.json (created with mode 0600, as the `llm` tool does),
 * keeping the other keys. Returns the file's path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listKeyNames, setKey } from "./user_files.ts";
 * const userPath = await Deno.makeTempDir();
 * const path = await setKey("openai", "sk-example", { userPath });
 * assert.deepEqual(listKeyNames({ userPath }), ["openai"]);
 * if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export async function setKey(
  name: string,
  value: string,
  options: RegistryOptions = {},
): Promise<string> {
  requireName(name, "The key name");
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`The value of key "${name}" must be a non-empty string`);
  }
  return await writeKey(getUserDir(options), name, value.trim());
}

/**
 * The names of the keys stored in keys.json (never their values).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listKeyNames } from "./user_files.ts";
 * const userPath = await Deno.makeTempDir();
 * assert.deepEqual(listKeyNames({ userPath }), []);
 * await Deno.remove(userPath);
 * ```
 */
export function listKeyNames(options: RegistryOptions = {}): string[] {
  return Object.keys(readKeys(getUserDir(options))).filter((name) => name !== KEYS_NOTE_NAME);
}

/**
 * Sets the default model (default_model.txt) to the id of the model that
 * `modelId` (an id or alias) names.
 *
 * @throws {UnknownModelError} when `modelId` names no model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultModelId, setDefaultModel } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * await setDefaultModel("4.1-nano", { userPath });
 * assert.equal(getDefaultModelId({ userPath }), "gpt-4.1-nano");
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export async function setDefaultModel(
  modelId: string,
  options: RegistryOptions = {},
): Promise<void> {
  requireName(modelId, "The model id");
  await writeDefaultModel(getUserDir(options), getModel(modelId, options).modelId);
}
