/**
 * The provider registry: the built-in providers with their default base URLs
 * and key variables, {@link registerProvider} for more, `provider:model`
 * strings, and {@link createProvider}.
 *
 * Base URLs and key variables follow the vendors' OpenAI-compatible API
 * documentation and the any-llm library's provider table (the library
 * Wagtail AI 3 uses), so the same names and variables work here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listProviders, parseProviderModel } from "./registry.ts";
 * assert.deepEqual(parseProviderModel("ollama:llama3:8b"), { provider: "ollama", model: "llama3:8b" });
 * assert.ok(listProviders().some((info) => info.name === "gemini"));
 * ```
 *
 * @module
 */
import { ImproperlyConfigured } from "../errors.ts";
import { getEnv } from "../_env.ts";
import {
  describeType,
  isPlainObject,
  rejectSecretPlaceholder,
  requireObject,
} from "../_validate.ts";
import { createAzureProvider } from "./azure.ts";
import { createAnthropicProvider } from "./anthropic.ts";
import { withCompleteObject } from "./_object.ts";
import {
  openAICompatibleFactory,
  type OpenAICompatibleStrategy,
  providerWhere,
} from "./openai_compatible.ts";
import type {
  Provider,
  ProviderFactory,
  ProviderInfo,
  ProviderSettings,
  ResolvedProviderSettings,
} from "./types.ts";

interface Builtin {
  description: string;
  baseURL: string | undefined;
  keyEnv: readonly string[];
  requiresKey: boolean;
  /** What the vendor has for structured output (default: the schema in the prompt). */
  structuredOutput?: OpenAICompatibleStrategy;
  /** The API it speaks (default: OpenAI chat completions). */
  protocol?: "anthropic";
}

// Sources: each vendor's OpenAI-compatibility page, and any-llm's provider table
// (docs/providers.md of mozilla-ai/any-llm) for the names and key variables. The
// structured-output strategy is the strongest each vendor documents for its
// OpenAI-compatible endpoint across its models: "json_schema" where
// `response_format: {type: "json_schema"}` is taken, "json_object" where only JSON
// mode is (or not by every model), else the schema in the prompt.
const BUILTINS: Readonly<Record<string, Builtin>> = {
  openai: {
    description: "OpenAI",
    baseURL: "https://api.openai.com/v1",
    keyEnv: ["OPENAI_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  azure: {
    description: "Azure OpenAI (endpoint, deployment, api_version)",
    baseURL: undefined,
    keyEnv: ["AZURE_OPENAI_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  anthropic: {
    description: "Anthropic Claude (native Messages API)",
    baseURL: "https://api.anthropic.com",
    keyEnv: ["ANTHROPIC_API_KEY"],
    requiresKey: true,
    protocol: "anthropic",
  },
  anthropic_openai: {
    description: "Anthropic Claude (OpenAI-compatible endpoint, for testing)",
    baseURL: "https://api.anthropic.com/v1",
    keyEnv: ["ANTHROPIC_API_KEY"],
    requiresKey: true,
    // The compatibility layer ignores response_format.
    structuredOutput: "prompt",
  },
  gemini: {
    description: "Google Gemini API (OpenAI-compatible endpoint)",
    baseURL: "https://generativelanguage.googleapis.com/v1beta/openai",
    keyEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  mistral: {
    description: "Mistral AI",
    baseURL: "https://api.mistral.ai/v1",
    keyEnv: ["MISTRAL_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  groq: {
    description: "Groq",
    baseURL: "https://api.groq.com/openai/v1",
    keyEnv: ["GROQ_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_object",
  },
  deepseek: {
    description: "DeepSeek",
    baseURL: "https://api.deepseek.com",
    keyEnv: ["DEEPSEEK_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_object",
  },
  openrouter: {
    description: "OpenRouter",
    baseURL: "https://openrouter.ai/api/v1",
    keyEnv: ["OPENROUTER_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  together: {
    description: "Together AI",
    baseURL: "https://api.together.xyz/v1",
    keyEnv: ["TOGETHER_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_object",
  },
  fireworks: {
    description: "Fireworks AI",
    baseURL: "https://api.fireworks.ai/inference/v1",
    keyEnv: ["FIREWORKS_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  xai: {
    description: "xAI Grok",
    baseURL: "https://api.x.ai/v1",
    keyEnv: ["XAI_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  perplexity: {
    description: "Perplexity Sonar",
    baseURL: "https://api.perplexity.ai",
    keyEnv: ["PERPLEXITY_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  cerebras: {
    description: "Cerebras Inference",
    baseURL: "https://api.cerebras.ai/v1",
    keyEnv: ["CEREBRAS_API_KEY"],
    requiresKey: true,
    structuredOutput: "json_schema",
  },
  ollama: {
    description: "Ollama (local server)",
    baseURL: "http://localhost:11434/v1",
    keyEnv: [],
    requiresKey: false,
    structuredOutput: "json_object",
  },
  lmstudio: {
    description: "LM Studio (local server)",
    baseURL: "http://localhost:1234/v1",
    keyEnv: ["LM_STUDIO_API_KEY"],
    requiresKey: false,
    structuredOutput: "json_schema",
  },
  llamacpp: {
    description: "llama.cpp server (local)",
    baseURL: "http://localhost:8080/v1",
    keyEnv: [],
    requiresKey: false,
    structuredOutput: "json_object",
  },
  vllm: {
    description: "vLLM server (local)",
    baseURL: "http://localhost:8000/v1",
    keyEnv: ["VLLM_API_KEY"],
    requiresKey: false,
    structuredOutput: "json_schema",
  },
  openai_compatible: {
    description: "Any OpenAI-compatible server at api_base (key only from api_key or api_key_env)",
    baseURL: undefined,
    keyEnv: [],
    requiresKey: false,
  },
};

interface Entry {
  factory: ProviderFactory;
  info: ProviderInfo;
}

const registry = new Map<string, Entry>();

function builtinFactory(name: string, builtin: Builtin): ProviderFactory {
  if (name === "azure") return createAzureProvider;
  if (builtin.protocol === "anthropic") return createAnthropicProvider;
  return openAICompatibleFactory(builtin);
}

for (const [name, builtin] of Object.entries(BUILTINS)) {
  registry.set(name, {
    factory: builtinFactory(name, builtin),
    info: Object.freeze({
      name,
      description: builtin.description,
      baseURL: builtin.baseURL,
      keyEnv: Object.freeze([...builtin.keyEnv]),
      requiresKey: builtin.requiresKey,
      builtin: true,
      protocol: builtin.protocol ?? "openai",
      // The native provider picks by model: structured outputs, else a forced tool.
      structuredOutput: builtin.protocol === "anthropic"
        ? "auto"
        : builtin.structuredOutput ?? "prompt",
    }),
  });
}

// The built-ins as they were, for unregisterProvider().
const BUILTIN_ENTRIES: ReadonlyMap<string, Entry> = new Map(registry);

const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/i;

/**
 * Removes a provider added with {@link registerProvider}; a built-in name it
 * had replaced is the built-in again. Built-ins themselves stay. Returns
 * whether a registration was removed. Providers already built keep working.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getProviderInfo, openAICompatibleFactory, registerProvider, unregisterProvider } from "../mod.ts";
 * registerProvider("in-house", openAICompatibleFactory({ baseURL: "http://127.0.0.1:8000/v1" }));
 * assert.equal(getProviderInfo("in-house")?.builtin, false);
 * assert.equal(unregisterProvider("in-house"), true);
 * assert.equal(getProviderInfo("in-house"), undefined);
 * assert.equal(unregisterProvider("openai"), false); // a built-in stays
 * ```
 */
export function unregisterProvider(name: string): boolean {
  const entry = registry.get(name);
  if (!entry || entry.info.builtin) return false;
  const builtin = BUILTIN_ENTRIES.get(name);
  if (builtin) registry.set(name, builtin);
  else registry.delete(name);
  return true;
}

/**
 * Adds (or replaces) a provider under `name`, usable as `provider` in
 * settings. `info` describes it for `listProviders()` and the CLI.
 *
 * @throws {TypeError} for a bad name (letters, digits, `_`, `.`, `-`; no colon) or factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider, registerProvider } from "../mod.ts";
 * registerProvider("canned", (settings) => ({
 *   provider: "canned",
 *   model: settings.model,
 *   completion: () =>
 *     Promise.resolve({
 *       id: "c",
 *       object: "chat.completion",
 *       created: 0,
 *       model: settings.model,
 *       choices: [{ index: 0, message: { role: "assistant", content: "Canned." }, finish_reason: "stop" }],
 *     }),
 *   async *stream() {
 *     yield { type: "text", text: "Canned." };
 *   },
 * }));
 * const provider = createProvider("canned:any");
 * const answer = await provider.completion({ messages: [{ role: "user", content: "Hi" }] });
 * assert.equal(answer.choices[0].message.content, "Canned.");
 * ```
 */
export function registerProvider(
  name: string,
  factory: ProviderFactory,
  info: {
    description?: string;
    baseURL?: string;
    keyEnv?: readonly string[];
    requiresKey?: boolean;
  } = {},
): void {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new TypeError(
      `registerProvider() needs a name of letters, digits, "_", "." or "-" (no colon), got ${
        typeof name === "string" ? `"${name}"` : describeType(name)
      }`,
    );
  }
  if (typeof factory !== "function") {
    throw new TypeError(`registerProvider("${name}") needs a factory function`);
  }
  const keyEnv = Object.freeze([...(info.keyEnv ?? [])]);
  registry.set(name, {
    factory,
    info: Object.freeze({
      name,
      description: info.description ?? "Registered provider",
      baseURL: info.baseURL,
      keyEnv,
      requiresKey: info.requiresKey ?? keyEnv.length > 0,
      builtin: false,
      protocol: undefined,
      structuredOutput: undefined,
    }),
  });
}

/**
 * The providers known now (built-in first, then registered), with their
 * default base URLs and key variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listProviders } from "./registry.ts";
 * const openai = listProviders().find((info) => info.name === "openai");
 * assert.deepEqual(openai?.keyEnv, ["OPENAI_API_KEY"]);
 * ```
 */
export function listProviders(): ProviderInfo[] {
  return [...registry.values()].map((entry) => entry.info);
}

/**
 * What is known about one provider name, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getProviderInfo } from "./registry.ts";
 * assert.equal(getProviderInfo("groq")?.baseURL, "https://api.groq.com/openai/v1");
 * assert.equal(getProviderInfo("nope"), undefined);
 * ```
 */
export function getProviderInfo(name: string): ProviderInfo | undefined {
  return registry.get(name)?.info;
}

function knownNames(): string {
  return [...registry.keys()].join(", ");
}

/**
 * Splits a `provider:model` string on its first colon, so the model may hold
 * colons itself (`ollama:llama3:8b`).
 *
 * @throws {ImproperlyConfigured} when there is no colon or a side is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProviderModel } from "./registry.ts";
 * assert.deepEqual(parseProviderModel("openai:gpt-4.1-mini"), { provider: "openai", model: "gpt-4.1-mini" });
 * assert.deepEqual(parseProviderModel("ollama:llama3:8b"), { provider: "ollama", model: "llama3:8b" });
 * assert.throws(() => parseProviderModel("gpt-4"), /provider:model/);
 * ```
 */
export function parseProviderModel(value: string): { provider: string; model: string } {
  if (typeof value !== "string") {
    throw new ImproperlyConfigured(`A provider:model string is needed, got ${describeType(value)}`);
  }
  const colon = value.indexOf(":");
  const provider = colon < 0 ? "" : value.slice(0, colon).trim();
  const model = colon < 0 ? "" : value.slice(colon + 1).trim();
  if (provider === "" || model === "") {
    throw new ImproperlyConfigured(
      `"${value}" is not a provider:model string (for example "openai:gpt-4.1-mini" or "ollama:llama3:8b")`,
    );
  }
  return { provider, model };
}

function nonEmptyString(value: unknown, key: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new ImproperlyConfigured(
      `${key} in ${where} must be a string, got ${describeType(value)}`,
    );
  }
  if (value.trim() === "") throw new ImproperlyConfigured(`${key} in ${where} must not be empty`);
  return value.trim();
}

/**
 * Checks one `PROVIDERS` entry and resolves its `provider` and `model`:
 * `{provider: "ollama:llama3:8b"}` and `{model: "ollama:llama3:8b"}` both
 * give `{provider: "ollama", model: "llama3:8b"}`. The provider must be known.
 *
 * @throws {ImproperlyConfigured} naming `PROVIDERS["<alias>"]` and the key;
 * for an unknown provider it lists the known names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveProviderSettings } from "./registry.ts";
 * const settings = resolveProviderSettings({ provider: "ollama:llama3:8b" }, "default");
 * assert.equal(settings.model, "llama3:8b");
 * assert.throws(() => resolveProviderSettings({ provider: "nope", model: "x" }, "default"), /known: openai/);
 * ```
 */
export function resolveProviderSettings(
  raw: ProviderSettings | string,
  alias: string,
): ResolvedProviderSettings {
  const where = providerWhere(alias);
  const entry = typeof raw === "string"
    ? parseProviderModel(raw)
    : requireObject(raw, where) as ProviderSettings;
  let provider = nonEmptyString(entry.provider, "provider", where);
  let model = nonEmptyString(entry.model, "model", where);
  if (provider === undefined) {
    if (model === undefined) throw new ImproperlyConfigured(`${where} is missing provider`);
    if (!model.includes(":")) {
      throw new ImproperlyConfigured(
        `${where} is missing provider (or give model as "provider:model")`,
      );
    }
    ({ provider, model } = parseProviderModel(model));
  } else if (provider.includes(":")) {
    if (model !== undefined) {
      throw new ImproperlyConfigured(
        `provider in ${where} is "provider:model" ("${provider}") but model is also set: give one`,
      );
    }
    ({ provider, model } = parseProviderModel(provider));
  }
  if (model === undefined) throw new ImproperlyConfigured(`${where} is missing model`);
  // Every provider's key and headers: a placeholder ("***" of printed settings, a TODO of
  // the migrate output) would otherwise be sent as the key.
  const { api_key: apiKey, headers } = entry as ProviderSettings;
  rejectSecretPlaceholder(apiKey, "api_key", where);
  if (isPlainObject(headers)) {
    for (const [name, value] of Object.entries(headers)) {
      rejectSecretPlaceholder(value, `headers.${name}`, where);
    }
  }
  if (!registry.has(provider)) {
    throw new ImproperlyConfigured(
      `Unknown provider "${provider}" in ${where} (known: ${knownNames()}; add one with registerProvider())`,
    );
  }
  return { ...entry, provider, model };
}

/**
 * Options of {@link createProvider}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider, type CreateProviderOptions, MissingAPIKeyError } from "../mod.ts";
 * const options: CreateProviderOptions = { alias: "writer", env: () => undefined };
 * assert.throws(
 *   () => createProvider("mistral:mistral-small-latest", options),
 *   (error: Error) =>
 *     error instanceof MissingAPIKeyError && error.message.includes('PROVIDERS["writer"]'),
 * );
 * ```
 */
export interface CreateProviderOptions {
  /** The alias used in messages (default "default"). */
  alias?: string;
  /** Reads environment variables (default: the process's; unset when not permitted). */
  env?: (name: string) => string | undefined;
}

/**
 * Builds a provider from one settings entry or a `provider:model` string,
 * outside of `createAI()`. A registered factory's provider without a
 * `completeObject()` of its own gets one built on its `completion()` (the
 * schema in the prompt).
 *
 * @throws {ImproperlyConfigured} for bad settings or an unknown provider.
 * @throws {MissingAPIKeyError} naming the environment variable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider, MissingAPIKeyError } from "../mod.ts";
 * const local = createProvider("lmstudio:qwen2.5-7b-instruct");
 * assert.equal(local.provider, "lmstudio");
 * assert.throws(
 *   () => createProvider({ provider: "groq", model: "llama-3.3-70b-versatile" }, { env: () => undefined }),
 *   (error: Error) => error instanceof MissingAPIKeyError && error.message.includes("GROQ_API_KEY"),
 * );
 * ```
 */
export function createProvider(
  settings: ProviderSettings | string,
  options: CreateProviderOptions = {},
): Provider {
  const alias = options.alias ?? "default";
  const resolved = resolveProviderSettings(settings, alias);
  const entry = registry.get(resolved.provider)!;
  return withCompleteObject(entry.factory(resolved, { alias, env: options.env ?? getEnv }));
}
