/**
 * The migration from backends (Wagtail AI 2 style) to providers (Wagtail AI 3
 * style): {@link migrateSettings} moves what can move into `PROVIDERS`,
 * points the backends at them through the provider backend, and explains in
 * notes what stays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrateSettings } from "./migrate.ts";
 *
 * const { settings } = migrateSettings({
 *   BACKENDS: {
 *     vision: {
 *       CLASS: "wagtail_ai.ai.openai.OpenAIBackend",
 *       CONFIG: { MODEL_ID: "gpt-4-vision-preview", TOKEN_LIMIT: 300 },
 *     },
 *   },
 *   IMAGE_DESCRIPTION_BACKEND: "vision",
 * });
 * assert.deepEqual(settings.PROVIDERS?.vision, {
 *   provider: "openai",
 *   model: "gpt-4-vision-preview",
 *   timeout: 15,
 * });
 * assert.deepEqual(settings.BACKENDS?.vision, {
 *   CLASS: "provider",
 *   CONFIG: { PROVIDER: "vision", TOKEN_LIMIT: 300 },
 * });
 * assert.equal(settings.IMAGE_DESCRIPTION_PROVIDER, "vision");
 * assert.equal(settings.IMAGE_DESCRIPTION_BACKEND, undefined);
 * ```
 *
 * @module
 */
import { type AISettings, type BackendSettings, DEFAULT_BACKENDS } from "./settings.ts";
import type { ProviderSettings } from "./providers/types.ts";
import { backendClasses } from "./backends/registry.ts";
import { EchoBackend } from "./backends/echo.ts";
import { OpenAIBackend } from "./backends/openai.ts";
import { ProviderBackend } from "./backends/provider.ts";
import { LLMBackend } from "./backends/llm/backend.ts";
import type { Model } from "./backends/llm/model.ts";
import { OpenAIChatModel } from "./backends/llm/openai_models.ts";
import { getModel } from "./backends/llm/registry.ts";
import { listKeyNames } from "./backends/llm/user_files.ts";
import { getDefaultTokenLimit } from "./tokens.ts";
import { isPlainObject } from "./_validate.ts";

/**
 * Options of {@link migrateSettings}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type MigrateOptions, migrateSettings } from "./mod.ts";
 * const options: MigrateOptions = { llmUserPath: await Deno.makeTempDir() };
 * const { settings } = migrateSettings({
 *   BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-4o-mini" } } },
 * }, options);
 * assert.equal(settings.PROVIDERS?.default.model, "gpt-4o-mini");
 * await Deno.remove(options.llmUserPath!);
 * ```
 */
export interface MigrateOptions {
  /** The `llm` user directory for LLM backends (default: `LLM_USER_PATH`, then the `llm` tool's). */
  llmUserPath?: string;
}

/**
 * What {@link migrateSettings} returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrateSettings, type MigrationResult } from "./mod.ts";
 * const result: MigrationResult = migrateSettings({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * });
 * assert.equal(result.settings.BACKENDS?.default.CLASS, "echo"); // the echo backend stays
 * assert.match(result.notes.join("\n"), /echo backend/);
 * ```
 */
export interface MigrationResult {
  /** The migrated settings (a new object; the input is not changed). */
  settings: AISettings;
  /** One sentence per thing that did not move as it was, or needs a hand. */
  notes: string[];
}

const LLM_NAMES = ["wagtail_ai.ai.llm.LLMBackend", "llm", "LLMBackend"];

type Kind = "openai" | "llm" | "echo" | "provider" | "other";

function kindOf(cls: unknown): Kind {
  let resolved: unknown = cls;
  if (typeof cls === "string") {
    resolved = backendClasses.get(cls);
    if (resolved === undefined) return LLM_NAMES.includes(cls) ? "llm" : "other";
  }
  if (resolved === OpenAIBackend) return "openai";
  if (resolved === LLMBackend) return "llm";
  if (resolved === EchoBackend) return "echo";
  if (resolved === ProviderBackend) return "provider";
  return "other";
}

function className(cls: unknown): string {
  if (typeof cls === "string") return `"${cls}"`;
  if (typeof cls === "function" && cls.name) return `class ${cls.name}`;
  return "a custom class";
}

function tokenTable(modelId: string): number | undefined {
  try {
    return getDefaultTokenLimit(modelId);
  } catch {
    return undefined;
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** One backend's move: the provider it becomes and what the backend keeps. */
interface Move {
  provider: ProviderSettings;
  config: Record<string, unknown>;
}

class Migration {
  readonly notes: string[] = [];
  readonly providers: Record<string, ProviderSettings>;
  readonly backends: Record<string, unknown> = {};
  /** Backend alias -> provider alias, for backends that moved. */
  readonly moved = new Map<string, string>();
  readonly #options: MigrateOptions;
  #keyNames: string[] | undefined;

  constructor(existing: Record<string, ProviderSettings>, options: MigrateOptions) {
    this.providers = { ...existing };
    this.#options = options;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  keyNames(): string[] {
    if (this.#keyNames === undefined) {
      try {
        this.#keyNames = listKeyNames(this.#registryOptions());
      } catch {
        this.#keyNames = [];
      }
    }
    return this.#keyNames;
  }

  #registryOptions(): { userPath?: string } {
    return this.#options.llmUserPath === undefined ? {} : { userPath: this.#options.llmUserPath };
  }

  backend(alias: string, entry: unknown): void {
    if (!isPlainObject(entry) || !isPlainObject(entry.CONFIG)) {
      this.backends[alias] = entry;
      this.note(`Backend "${alias}" was kept as it is: it has no CONFIG object to migrate.`);
      return;
    }
    const kind = kindOf(entry.CLASS);
    const config = entry.CONFIG;
    const modelId = config.MODEL_ID;
    if (kind === "provider") {
      this.backends[alias] = entry;
      return;
    }
    if (kind === "echo") {
      this.backends[alias] = entry;
      this.note(
        `Backend "${alias}" is the echo backend, which answers without an AI service: ` +
          "it has no provider and was kept as it is.",
      );
      return;
    }
    if (kind === "other") {
      this.backends[alias] = entry;
      this.note(
        `Backend "${alias}" uses ${className(entry.CLASS)}, which cannot be turned into a ` +
          "provider: it was kept as it is.",
      );
      return;
    }
    if (typeof modelId !== "string" || modelId.trim() === "") {
      this.backends[alias] = entry;
      this.note(`Backend "${alias}" was kept as it is: its CONFIG has no MODEL_ID.`);
      return;
    }
    const move = kind === "openai"
      ? this.#openai(alias, config, modelId)
      : this.#llm(alias, config, modelId);
    if (move === undefined) {
      this.backends[alias] = entry;
      return;
    }
    const providerAlias = this.#addProvider(alias, move.provider);
    const backendConfig: Record<string, unknown> = { PROVIDER: providerAlias, ...move.config };
    const migrated: Record<string, unknown> = { CLASS: "provider", CONFIG: backendConfig };
    if (entry.TEXT_SPLITTING !== undefined) {
      migrated.TEXT_SPLITTING = entry.TEXT_SPLITTING;
      this.note(
        `TEXT_SPLITTING of backend "${alias}" stays on the backend: providers do not split ` +
          "text, and the provider backend splits it as before.",
      );
    }
    this.backends[alias] = migrated;
    this.moved.set(alias, providerAlias);
  }

  #addProvider(alias: string, provider: ProviderSettings): string {
    let name = alias;
    for (let n = 2; Object.hasOwn(this.providers, name); n++) {
      if (deepEqual(this.providers[name], provider)) return name;
      name = n === 2 ? `${alias}_migrated` : `${alias}_migrated_${n}`;
    }
    if (name !== alias) {
      this.note(
        `PROVIDERS already has a different "${alias}" entry: backend "${alias}" now uses the ` +
          `new provider "${name}".`,
      );
    }
    this.providers[name] = provider;
    return name;
  }

  #openai(alias: string, config: Record<string, unknown>, modelId: string): Move {
    const provider: ProviderSettings = { provider: "openai", model: modelId };
    if (typeof config.API_BASE === "string" && config.API_BASE !== "https://api.openai.com/v1") {
      provider.api_base = config.API_BASE;
    }
    if (config.OPENAI_API_KEY !== undefined) provider.api_key = config.OPENAI_API_KEY as string;
    // Values move as they are: createAI() checks them where they land.
    provider.timeout = (config.TIMEOUT_SECONDS ?? 15) as number;
    if (config.MAX_RETRIES !== undefined) provider.max_retries = config.MAX_RETRIES as number;
    if (config.MAX_ANSWER_CHARS !== undefined) {
      provider.max_answer_chars = config.MAX_ANSWER_CHARS as number;
    }
    if (config.MAX_EVENT_CHARS !== undefined) {
      provider.max_event_chars = config.MAX_EVENT_CHARS as number;
    }
    const backendConfig: Record<string, unknown> = {};
    for (const key of ["TOKEN_LIMIT", "MAX_OUTPUT_TOKENS", "MAX_IMAGE_BYTES"]) {
      if (config[key] !== undefined) backendConfig[key] = config[key];
    }
    const unknown = Object.keys(config).filter((key) =>
      ![
        "MODEL_ID",
        "TOKEN_LIMIT",
        "MAX_OUTPUT_TOKENS",
        "MAX_IMAGE_BYTES",
        "API_BASE",
        "OPENAI_API_KEY",
        "TIMEOUT_SECONDS",
        "MAX_RETRIES",
        "MAX_ANSWER_CHARS",
        "MAX_EVENT_CHARS",
      ].includes(key)
    );
    if (unknown.length > 0) {
      this.note(
        `CONFIG of backend "${alias}" has keys the OpenAI backend does not take (${
          unknown.join(", ")
        }): they were left out.`,
      );
    }
    return { provider, config: backendConfig };
  }

  #llm(alias: string, config: Record<string, unknown>, modelId: string): Move | undefined {
    let model: Model;
    try {
      model = getModel(modelId, this.#registryOptions());
    } catch (error) {
      this.note(
        `Backend "${alias}" was kept as it is: its model could not be looked up (${
          (error as Error).message
        }).`,
      );
      return undefined;
    }
    if (
      !(model instanceof OpenAIChatModel) ||
      Object.getPrototypeOf(model) !== OpenAIChatModel.prototype
    ) {
      this.note(
        `Backend "${alias}" uses model "${model.modelId}", which is not an OpenAI-compatible ` +
          "chat model of the LLM registry (a plugin model or a special kind): it stays an LLM " +
          "backend.",
      );
      return undefined;
    }
    if (model.completion) {
      this.note(
        `Backend "${alias}" uses the completion model "${model.modelId}", which neither backends ` +
          "nor providers can prompt: it was kept as it is.",
      );
      return undefined;
    }
    const init = isPlainObject(config.INIT_KWARGS) ? { ...config.INIT_KWARGS } : {};
    const prompt = isPlainObject(config.PROMPT_KWARGS) ? { ...config.PROMPT_KWARGS } : {};
    const provider: ProviderSettings = model.customApiBase
      ? { provider: "openai_compatible", model: model.modelName, api_base: model.apiBase }
      : { provider: "openai", model: model.modelName };
    if (model.headers !== undefined) provider.headers = { ...model.headers };
    if (model.apiVersion !== undefined) provider.api_version = model.apiVersion;

    const explicitKey = init.key;
    delete init.key;
    const keyNames = this.keyNames();
    if (typeof explicitKey === "string" && explicitKey !== "") {
      if (keyNames.includes(explicitKey)) {
        this.note(
          `INIT_KWARGS.key of backend "${alias}" names the keys.json entry "${explicitKey}", ` +
            `which providers do not read: set api_key in PROVIDERS["${alias}"] ` +
            "(or api_key_env to an environment variable holding it).",
        );
      } else {
        provider.api_key = explicitKey;
      }
    } else if (model.needsKey !== undefined) {
      if (model.keyEnvVar !== undefined && provider.provider === "openai_compatible") {
        provider.api_key_env = model.keyEnvVar;
      }
      if (model.needsKey !== "openai" || keyNames.includes(model.needsKey)) {
        this.note(
          `Model "${model.modelId}" of backend "${alias}" takes its key from keys.json ("${model.needsKey}")` +
            (model.keyEnvVar ? ` or ${model.keyEnvVar}` : "") +
            `; providers read only api_key or an environment variable: set api_key in ` +
            `PROVIDERS["${alias}"]` +
            (provider.provider === "openai" ? " or OPENAI_API_KEY" : " or api_key_env") + ".",
        );
      }
    }

    const backendConfig: Record<string, unknown> = { PROMPT_STYLE: "llm" };
    const oldLimit = typeof config.TOKEN_LIMIT === "number"
      ? config.TOKEN_LIMIT
      : model.contextWindow ?? tokenTable(model.modelId);
    if (oldLimit !== undefined && oldLimit !== tokenTable(model.modelName)) {
      backendConfig.TOKEN_LIMIT = oldLimit;
    }
    if (typeof prompt.system === "string" && prompt.system !== "") {
      backendConfig.SYSTEM_PROMPT = prompt.system;
    }
    delete prompt.system;
    if (prompt.stream !== undefined) {
      this.note(
        `PROMPT_KWARGS.stream of backend "${alias}" was left out: a response streams when it is ` +
          "iterated and is read whole by text().",
      );
      delete prompt.stream;
    }
    const options: Record<string, unknown> = { ...init, ...prompt };
    if (options.max_tokens !== undefined) {
      backendConfig.MAX_OUTPUT_TOKENS = options.max_tokens;
      delete options.max_tokens;
    }
    if (options.json_object !== undefined) {
      if (options.json_object === true) options.response_format = { type: "json_object" };
      delete options.json_object;
    }
    if (Object.keys(options).length > 0) backendConfig.OPTIONS = options;
    return { provider, config: backendConfig };
  }
}

/**
 * Moves backends to providers, as the upgrade to Wagtail AI 3 asks:
 *
 * - OpenAI backends become `openai` providers (`API_BASE` to `api_base`,
 *   `OPENAI_API_KEY` to `api_key`, `TIMEOUT_SECONDS` to `timeout`, default
 *   15 as before, `MAX_RETRIES` to `max_retries`, `MAX_ANSWER_CHARS` and
 *   `MAX_EVENT_CHARS` to `max_answer_chars` and `max_event_chars`).
 * - LLM backends on built-in OpenAI models become `openai` providers; on a
 *   model of `extra-openai-models.yaml`, providers with its `model_name`,
 *   `headers` and `api_version`, and with its `api_base` an
 *   `openai_compatible` provider (which, like the `llm` tool, sends no key
 *   unless one is configured). `INIT_KWARGS.key` becomes `api_key`;
 *   `PROMPT_KWARGS.system` and the model options stay on the backend as
 *   `SYSTEM_PROMPT` and `OPTIONS`, with `PROMPT_STYLE: "llm"` so the same
 *   messages are sent.
 * - Each migrated backend becomes `{CLASS: "provider", CONFIG: {PROVIDER,
 *   ...}}` under the same alias, with its `TOKEN_LIMIT` and `TEXT_SPLITTING`,
 *   so code written against backends keeps working.
 * - `IMAGE_DESCRIPTION_BACKEND` becomes `IMAGE_DESCRIPTION_PROVIDER`.
 * - What cannot move (the echo backend, plugin models, custom classes) is
 *   kept as it is, and every such case is explained in `notes`.
 *
 * Settings without `BACKENDS` migrate Wagtail AI's default (the LLM backend
 * with `gpt-3.5-turbo`). The input is not changed. Secrets are copied as they
 * are: print the result with care.
 *
 * @throws {TypeError} when `settings` is not an object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrateSettings } from "./mod.ts";
 * const llmUserPath = await Deno.makeTempDir();
 * const { settings, notes } = migrateSettings({}, { llmUserPath });
 * assert.deepEqual(settings.PROVIDERS, { default: { provider: "openai", model: "gpt-3.5-turbo" } });
 * assert.deepEqual(settings.BACKENDS?.default, {
 *   CLASS: "provider",
 *   CONFIG: { PROVIDER: "default", PROMPT_STYLE: "llm" },
 * });
 * assert.match(notes[0], /Without BACKENDS/);
 * await Deno.remove(llmUserPath);
 * ```
 */
export function migrateSettings(
  settings: AISettings,
  options: MigrateOptions = {},
): MigrationResult {
  if (!isPlainObject(settings)) {
    throw new TypeError("migrateSettings() needs a settings object");
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError("migrateSettings() options must be an object");
  }
  const existingProviders = isPlainObject(settings.PROVIDERS)
    ? settings.PROVIDERS as Record<string, ProviderSettings>
    : {};
  const migration = new Migration(existingProviders, options);
  const backends = settings.BACKENDS === undefined
    ? structuredClone(DEFAULT_BACKENDS) as Record<string, unknown>
    : isPlainObject(settings.BACKENDS)
    ? settings.BACKENDS as Record<string, unknown>
    : undefined;
  if (backends === undefined) {
    migration.note("BACKENDS is not an object: it was kept as it is.");
    return { settings: { ...settings }, notes: migration.notes };
  }
  if (settings.BACKENDS === undefined) {
    migration.note(
      'Without BACKENDS the default applies (the LLM backend with "gpt-3.5-turbo"): it was ' +
        "written out and migrated.",
    );
  }
  for (const [alias, entry] of Object.entries(backends)) migration.backend(alias, entry);

  const out: AISettings = { ...settings };
  delete out.IMAGE_DESCRIPTION_BACKEND;
  out.BACKENDS = migration.backends as Record<string, BackendSettings>;

  // The default provider: the one of the text-completion backend.
  const textAlias = typeof settings.TEXT_COMPLETION_BACKEND === "string"
    ? settings.TEXT_COMPLETION_BACKEND
    : "default";
  if (!Object.hasOwn(migration.providers, "default")) {
    const textProvider = migration.moved.get(textAlias);
    if (textProvider !== undefined) {
      migration.providers.default = { ...migration.providers[textProvider] };
      migration.note(
        `PROVIDERS.default is a copy of PROVIDERS["${textProvider}"], the provider of the text ` +
          `completion backend "${textAlias}" (providers use "default" for text).`,
      );
    } else {
      migration.note(
        'PROVIDERS has no "default" entry (the text completion backend could not move): ' +
          "add one, or getProvider() falls back to the deprecated default.",
      );
    }
  }

  const imageBackend = settings.IMAGE_DESCRIPTION_BACKEND;
  if (typeof imageBackend === "string") {
    const imageProvider = migration.moved.get(imageBackend);
    if (imageProvider === undefined) {
      out.IMAGE_DESCRIPTION_BACKEND = imageBackend;
      migration.note(
        `IMAGE_DESCRIPTION_BACKEND names backend "${imageBackend}", which did not move to a ` +
          "provider: it was kept (it is deprecated; set IMAGE_DESCRIPTION_PROVIDER when you can).",
      );
    } else if (
      settings.IMAGE_DESCRIPTION_PROVIDER !== undefined &&
      settings.IMAGE_DESCRIPTION_PROVIDER !== imageProvider
    ) {
      migration.note(
        `IMAGE_DESCRIPTION_PROVIDER was already set ("${settings.IMAGE_DESCRIPTION_PROVIDER}") and ` +
          `was kept; IMAGE_DESCRIPTION_BACKEND ("${imageBackend}") was dropped.`,
      );
    } else {
      out.IMAGE_DESCRIPTION_PROVIDER = imageProvider;
      if (imageProvider !== imageBackend) {
        out.IMAGE_DESCRIPTION_BACKEND = imageBackend;
        migration.note(
          `IMAGE_DESCRIPTION_BACKEND ("${imageBackend}") was kept because its provider has ` +
            `another name ("${imageProvider}").`,
        );
      }
    }
  } else if (imageBackend !== undefined) {
    out.IMAGE_DESCRIPTION_BACKEND = imageBackend as string;
  }
  if (Object.keys(migration.providers).length > 0) out.PROVIDERS = migration.providers;
  return { settings: order(out), notes: migration.notes };
}

const ORDER = [
  "PROVIDERS",
  "BACKENDS",
  "TEXT_COMPLETION_BACKEND",
  "IMAGE_DESCRIPTION_PROVIDER",
  "IMAGE_DESCRIPTION_BACKEND",
];

function order(settings: AISettings): AISettings {
  const out: Record<string, unknown> = {};
  for (const key of ORDER) {
    if ((settings as Record<string, unknown>)[key] !== undefined) {
      out[key] = (settings as Record<string, unknown>)[key];
    }
  }
  for (const [key, value] of Object.entries(settings)) {
    if (!(key in out) && value !== undefined) out[key] = value;
  }
  return out as AISettings;
}
