/**
 * The model registry of the LLM backend: built-in OpenAI models, the models
 * of `extra-openai-models.yaml`, plugin models, and the aliases of all of
 * them and of `aliases.json`. Files are read on every call, so an edit made
 * while the process runs is seen by the next lookup; with
 * {@link RegistryOptions.checkIntervalMs} (as the LLM backend reads them) they
 * are kept as read and checked by modification time instead.
 *
 * The user directory is `options.userPath`, then the `LLM_USER_PATH`
 * environment variable, then the `llm` tool's default
 * (`~/.config/io.datasette.llm` on Linux or `$XDG_CONFIG_HOME/io.datasette.llm`,
 * `~/Library/Application Support/io.datasette.llm` on macOS,
 * `%APPDATA%\io.datasette.llm` on Windows), so an existing `llm` set-up works
 * as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, listModels } from "./registry.ts";
 *
 * const userPath = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${userPath}/aliases.json`, JSON.stringify({ fast: "4o-mini" }));
 * assert.equal(getModel("fast", { userPath }).modelId, "gpt-4o-mini");
 * const entry = listModels({ userPath }).find((item) => item.model.modelId === "gpt-4o-mini");
 * assert.deepEqual(entry?.aliases, ["4o-mini", "fast"]);
 * await Deno.remove(userPath, { recursive: true });
 * ```
 *
 * @module
 */
import { MissingAPIKeyError, UnknownModelError } from "../../errors.ts";
import { getEnv, joinPath } from "../../_env.ts";
import type { Model } from "./model.ts";
import { builtInOpenAIModels, extraOpenAIModel } from "./openai_models.ts";
import { pluginModels, pluginsVersion } from "./plugins.ts";
import {
  type CheckInterval,
  type ExtraModelEntry,
  forgetUserDir,
  KEYS_FILE,
  LLM_DEFAULT_MODEL,
  readAliases,
  readDefaultModel,
  readExtraModels,
  readKeys,
  requireUserDir,
  resolveUserDir,
  userDirEnvHint,
} from "./_user_dir.ts";

/**
 * Where the registry reads the user's files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RegistryOptions } from "./registry.ts";
 * const options: RegistryOptions = { userPath: "/tmp/llm" };
 * assert.equal(options.userPath, "/tmp/llm");
 * ```
 */
export interface RegistryOptions {
  /** The `llm` user directory (default: `LLM_USER_PATH`, then the `llm` tool's default). */
  userPath?: string;
  /**
   * Keep the files as read and check them for changes at most once per this
   * many milliseconds (0: on every call) instead of reading them on every
   * call. A check is a `stat` of each file (no file is opened): a file whose
   * modification time, change time, size or inode changed, a new file and a
   * deleted one are read (or dropped) at the check. The catalog of models is
   * then kept too, and plugins' `registerModels()` is called again only when a
   * file changed or a plugin was registered or unregistered. `ai.reload()`
   * forgets what was kept.
   */
  checkIntervalMs?: number;
}

/**
 * Where a model comes from: `"builtin"`, `"extra"` (extra-openai-models.yaml)
 * or `"plugin:<name>"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ModelSource } from "./registry.ts";
 * const source: ModelSource = "plugin:reverse";
 * assert.ok(source.startsWith("plugin:"));
 * ```
 */
export type ModelSource = "builtin" | "extra" | `plugin:${string}`;

/**
 * A model of the registry with its aliases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listModels } from "./registry.ts";
 * const userPath = await Deno.makeTempDir();
 * const first = listModels({ userPath })[0];
 * assert.deepEqual([first.model.modelId, first.aliases, first.source], ["gpt-4o", ["4o"], "builtin"]);
 * await Deno.remove(userPath);
 * ```
 */
export interface ModelEntry {
  /** The model. */
  model: Model;
  /** Every alias that resolves to it (its own, then those of aliases.json). */
  aliases: string[];
  /** Where it comes from. */
  source: ModelSource;
}

interface Catalog {
  entries: ModelEntry[];
  names: Map<string, ModelEntry>;
}

interface KeptCatalog {
  extra: readonly ExtraModelEntry[];
  aliases: Readonly<Record<string, string>>;
  plugins: number;
  catalog: Catalog;
}

// The catalogs built for checked reads, by directory: reused while the parsed
// files (kept while their text is unchanged) and the plugins are the same.
const kept = new Map<string, KeptCatalog>();
const NO_EXTRA: readonly ExtraModelEntry[] = Object.freeze([]);
const NO_ALIASES: Readonly<Record<string, string>> = Object.freeze({});
const MAX_KEPT = 64;

function catalog(options: RegistryOptions): Catalog {
  const interval = options.checkIntervalMs;
  if (interval === undefined) return buildCatalog(options, undefined);
  const dir = resolveUserDir(options.userPath, interval);
  const extra = dir === undefined ? NO_EXTRA : readExtraModels(dir, interval);
  const aliases = dir === undefined ? NO_ALIASES : readAliases(dir, interval);
  const plugins = pluginsVersion();
  const key = dir ?? "";
  const hit = kept.get(key);
  if (hit && hit.extra === extra && hit.aliases === aliases && hit.plugins === plugins) {
    return hit.catalog;
  }
  const built = buildCatalog(options, interval);
  kept.delete(key);
  if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!);
  kept.set(key, { extra, aliases, plugins, catalog: built });
  return built;
}

/** Forgets the catalogs, and the directory found from the environment, kept for checked reads (`ai.reload()`). */
export function forgetCatalogs(): void {
  kept.clear();
  forgetUserDir();
}

function buildCatalog(options: RegistryOptions, interval: CheckInterval): Catalog {
  const dir = resolveUserDir(options.userPath, interval);
  const registered: { model: Model; aliases: readonly string[]; source: ModelSource }[] = [];
  for (const { model, aliases } of builtInOpenAIModels()) {
    registered.push({ model, aliases, source: "builtin" });
  }
  if (dir !== undefined) {
    for (const entry of readExtraModels(dir, interval)) {
      registered.push({ model: extraOpenAIModel(entry), aliases: entry.aliases, source: "extra" });
    }
  }
  for (const { model, aliases, plugin } of pluginModels()) {
    registered.push({ model, aliases, source: `plugin:${plugin}` });
  }
  // A later model with the same id replaces an earlier one (and takes its
  // aliases); ids and aliases share one namespace in which the later
  // registration wins.
  const byId = new Map<string, ModelEntry>();
  const names = new Map<string, ModelEntry>();
  for (const item of registered) {
    const entry: ModelEntry = { model: item.model, aliases: [], source: item.source };
    const replaced = byId.get(item.model.modelId);
    if (replaced) {
      // The replaced model's aliases now name the new one.
      for (const [name, target] of names) if (target === replaced) names.set(name, entry);
      byId.delete(item.model.modelId);
    }
    byId.set(item.model.modelId, entry);
    for (const alias of item.aliases) names.set(alias, entry);
    names.set(item.model.modelId, entry);
  }
  if (dir !== undefined) {
    for (const [alias, target] of Object.entries(readAliases(dir, interval))) {
      const entry = names.get(target);
      if (entry) names.set(alias, entry);
    }
  }
  const entries = [...byId.values()];
  const live = new Set(entries);
  for (const [name, entry] of names) {
    if (!live.has(entry)) names.delete(name);
    else if (name !== entry.model.modelId) entry.aliases.push(name);
  }
  return { entries, names };
}

/**
 * Every model with its aliases: the built-in models, then those of
 * `extra-openai-models.yaml`, then plugin models.
 *
 * @throws {ImproperlyConfigured} when a user file is broken (naming the file,
 * and for YAML the line and column) or a plugin fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listModels } from "./registry.ts";
 * const userPath = await Deno.makeTempDir();
 * await Deno.writeTextFile(
 *   `${userPath}/extra-openai-models.yaml`,
 *   "- model_id: my-proxy-4o\n  model_name: gpt-4o\n  api_base: https://proxy.example/v1\n",
 * );
 * const ids = listModels({ userPath }).map((entry) => entry.model.modelId);
 * assert.ok(ids.includes("gpt-4o-mini") && ids.at(-1) === "my-proxy-4o");
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export function listModels(options: RegistryOptions = {}): ModelEntry[] {
  return catalog(options).entries;
}

/**
 * The model with this id or alias.
 *
 * @throws {UnknownModelError} naming the id and suggesting the `models` command.
 * @throws {ImproperlyConfigured} when a user file is broken.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, UnknownModelError } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * assert.equal(getModel("4.1-mini", { userPath }).modelId, "gpt-4.1-mini");
 * assert.throws(() => getModel("gpt-17", { userPath }), UnknownModelError);
 * await Deno.remove(userPath);
 * ```
 */
export function getModel(idOrAlias: string, options: RegistryOptions = {}): Model {
  if (typeof idOrAlias !== "string" || idOrAlias.trim() === "") {
    throw new TypeError("getModel() needs a model id or alias");
  }
  const { names } = catalog(options);
  const found = names.get(idOrAlias);
  if (found) return found.model;
  const lower = idOrAlias.toLowerCase();
  const matches = new Set(
    [...names].filter(([name]) => name.toLowerCase() === lower).map(([, entry]) => entry),
  );
  if (matches.size === 1) return [...matches][0].model;
  const hint = userDirEnvHint(options.userPath);
  throw new UnknownModelError(
    idOrAlias,
    `Unknown model "${idOrAlias}": run the "models" command to list the models and aliases${hint}`,
  );
}

/**
 * The default model id: `default_model.txt` in the user directory, else
 * `gpt-4o-mini` (the `llm` tool's default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultModelId } from "./registry.ts";
 * const userPath = await Deno.makeTempDir();
 * assert.equal(getDefaultModelId({ userPath }), "gpt-4o-mini");
 * await Deno.writeTextFile(`${userPath}/default_model.txt`, "4o\n");
 * assert.equal(getDefaultModelId({ userPath }), "4o");
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export function getDefaultModelId(options: RegistryOptions = {}): string {
  const dir = resolveUserDir(options.userPath);
  return (dir === undefined ? undefined : readDefaultModel(dir)) ?? LLM_DEFAULT_MODEL;
}

/**
 * The `llm` user directory: `options.userPath`, then `LLM_USER_PATH`, then
 * the `llm` tool's per-OS default. It need not exist.
 *
 * @throws {ImproperlyConfigured} when none is set and the home directory is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getUserDir } from "./registry.ts";
 * assert.equal(getUserDir({ userPath: "/srv/llm" }), "/srv/llm");
 * ```
 */
export function getUserDir(options: RegistryOptions = {}): string {
  return requireUserDir(options.userPath);
}

/**
 * Options of {@link resolveModelKey}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, type ResolveKeyOptions, resolveModelKey } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * const options: ResolveKeyOptions = { userPath, key: "sk-explicit" };
 * assert.equal(resolveModelKey(getModel("gpt-4o", { userPath }), options), "sk-explicit");
 * await Deno.remove(userPath);
 * ```
 */
export interface ResolveKeyOptions extends RegistryOptions {
  /** An explicit key (`INIT_KWARGS.key`), or the name of a key in keys.json. */
  key?: string;
}

/**
 * The API key for a model, as the `llm` tool finds it: the explicit key (or
 * the keys.json entry it names), then keys.json under the model's key name,
 * then the model's environment variable. A model that needs no key (such as
 * an extra model with its own `api_base` and no `api_key_name`) gets none
 * but an explicit one.
 *
 * @throws {MissingAPIKeyError} naming keys.json and the environment variable
 * (never a key).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, resolveModelKey } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${userPath}/keys.json`, JSON.stringify({ openai: "sk-stored", work: "sk-work" }));
 * const model = getModel("4o", { userPath });
 * assert.equal(resolveModelKey(model, { userPath }), "sk-stored");
 * assert.equal(resolveModelKey(model, { userPath, key: "work" }), "sk-work");
 * assert.equal(resolveModelKey(model, { userPath, key: "sk-explicit" }), "sk-explicit");
 * await Deno.remove(userPath, { recursive: true });
 * ```
 */
export function resolveModelKey(model: Model, options: ResolveKeyOptions = {}): string | undefined {
  const dir = resolveUserDir(options.userPath, options.checkIntervalMs);
  const keys = () => (dir === undefined ? {} : readKeys(dir, options.checkIntervalMs));
  if (options.key !== undefined && options.key !== "") {
    const stored = keys()[options.key];
    return typeof stored === "string" && stored !== "" ? stored : options.key;
  }
  if (!model.needsKey) return undefined;
  const stored = keys()[model.needsKey];
  if (typeof stored === "string" && stored !== "") return stored;
  if (model.keyEnvVar) {
    const fromEnv = getEnv(model.keyEnvVar);
    if (fromEnv) return fromEnv;
  }
  const keysPath = dir === undefined ? KEYS_FILE : joinPath(dir, KEYS_FILE);
  throw new MissingAPIKeyError(
    `No API key found for model "${model.modelId}": set INIT_KWARGS "key", store one under ` +
      `"${model.needsKey}" in ${keysPath} (the "keys set ${model.needsKey}" command)${
        model.keyEnvVar ? `, or set the ${model.keyEnvVar} environment variable` : ""
      }${userDirEnvHint(options.userPath)}`,
  );
}
