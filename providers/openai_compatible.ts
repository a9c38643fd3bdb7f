/**
 * The provider for every service that speaks the OpenAI chat-completions
 * protocol: OpenAI itself, the OpenAI-compatible endpoints of other vendors,
 * and local servers. All built-in providers are this class with different
 * defaults; {@link openAICompatibleFactory} makes a factory for another one.
 *
 * Settings keys (an entry of `PROVIDERS`):
 *
 * | key | meaning |
 * | --- | --- |
 * | `provider`, `model` | the vendor and its model (or `provider: "vendor:model"`) |
 * | `api_key` | the key (default: the vendor's environment variable) |
 * | `api_key_env` | read the key from this environment variable instead |
 * | `api_base` | the base URL (default: the vendor's) |
 * | `headers` | extra HTTP headers (secrets: never printed) |
 * | `organization` | the `OpenAI-Organization` header |
 * | `timeout` | seconds per attempt (default 120; for a stream, per chunk) |
 * | `max_retries` | retries of a failed request (default 2) |
 * | `api_version` | sent as the `api-version` query parameter |
 * | `max_answer_chars` | the longest answer, in characters (default 16 MiB) |
 * | `max_event_chars` | the longest line or event of a stream, in characters (default 1 MiB) |
 * | `structured_output` | `completeObject()`'s strategy: `json_schema`, `json_object` or `prompt` (default: the vendor's) |
 *
 * Any other key is an error that names it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider, OpenAICompatibleProvider } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "mistral", model: "mistral-small-latest", api_key: "sk-test", timeout: 30 },
 * ) as OpenAICompatibleProvider;
 * assert.equal(provider.config.baseURL, "https://api.mistral.ai/v1");
 * assert.equal(provider.config.timeoutSeconds, 30);
 * assert.ok(!JSON.stringify(provider).includes("sk-test"));
 * ```
 *
 * @module
 */
import type { ChatCompletion, ChatMessage, ChatOptions } from "../chat.ts";
import { ImproperlyConfigured, MissingAPIKeyError } from "../errors.ts";
import {
  chatCompletion,
  chatStream,
  type ClientSettings,
  DEFAULT_MAX_ANSWER_CHARS,
  DEFAULT_MAX_EVENT_CHARS,
  hostOf,
} from "../_openai/mod.ts";
import { checkCallMetadata, copyJsonData, jsonBudget } from "../_json.ts";
import { guardSecrets } from "../_redact.ts";
import {
  optionalChoice,
  optionalInteger,
  optionalNumber,
  optionalString,
  optionalStringRecord,
  optionalUrl,
  rejectUnknownKeys,
} from "../_validate.ts";
import { checkObjectArguments, loadEngine } from "../_structured/mod.ts";
import type {
  ChatStructuredOutputStrategy,
  CompleteObjectOptions,
  ObjectCompletion,
} from "../structured.ts";
import type {
  CompletionOptions,
  Provider,
  ProviderContext,
  ProviderFactory,
  ProviderStreamEvent,
  ResolvedProviderSettings,
} from "./types.ts";

/**
 * The default `timeout` of a provider, in seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   createProvider,
 *   DEFAULT_PROVIDER_TIMEOUT_SECONDS,
 *   type OpenAICompatibleProvider,
 * } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "openai", model: "gpt-4.1-mini", api_key: "sk-test" },
 * ) as OpenAICompatibleProvider;
 * assert.equal(provider.config.timeoutSeconds, DEFAULT_PROVIDER_TIMEOUT_SECONDS);
 * ```
 */
export const DEFAULT_PROVIDER_TIMEOUT_SECONDS = 120;
/**
 * The default `max_retries` of a provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   createProvider,
 *   DEFAULT_PROVIDER_MAX_RETRIES,
 *   type OpenAICompatibleProvider,
 * } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "openai", model: "gpt-4.1-mini", api_key: "sk-test" },
 * ) as OpenAICompatibleProvider;
 * assert.equal(provider.config.maxRetries, DEFAULT_PROVIDER_MAX_RETRIES);
 * ```
 */
export const DEFAULT_PROVIDER_MAX_RETRIES = 2;

/** The settings keys every OpenAI-compatible provider takes. */
export const OPENAI_COMPATIBLE_KEYS: readonly string[] = [
  "provider",
  "model",
  "api_key",
  "api_key_env",
  "api_base",
  "headers",
  "organization",
  "timeout",
  "max_retries",
  "api_version",
  "max_answer_chars",
  "max_event_chars",
  "structured_output",
];

/**
 * The structured-output strategies an OpenAI-compatible service can have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   createProvider,
 *   type OpenAICompatibleProvider,
 *   type OpenAICompatibleStrategy,
 * } from "../mod.ts";
 * const strategy: OpenAICompatibleStrategy = "json_object";
 * const provider = createProvider({
 *   provider: "ollama",
 *   model: "llama3.1:8b",
 *   structured_output: strategy,
 * }) as OpenAICompatibleProvider;
 * assert.equal(provider.config.structuredOutput, "json_object");
 * ```
 */
export type OpenAICompatibleStrategy = ChatStructuredOutputStrategy;
const STRATEGIES: readonly OpenAICompatibleStrategy[] = ["json_schema", "json_object", "prompt"];

/**
 * The resolved configuration of an {@link OpenAICompatibleProvider}. The key
 * and header values are masked when the provider or this object is printed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   createProvider,
 *   type OpenAICompatibleConfig,
 *   type OpenAICompatibleProvider,
 * } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "openai", model: "gpt-4.1-mini", api_key: "sk-secret", timeout: 30 },
 * ) as OpenAICompatibleProvider;
 * const config: OpenAICompatibleConfig = provider.config;
 * assert.equal(config.baseURL, "https://api.openai.com/v1");
 * assert.equal(config.keySource, "api_key");
 * assert.equal(config.timeoutSeconds, 30);
 * assert.ok(!JSON.stringify(config).includes("sk-secret")); // masked when printed
 * ```
 */
export interface OpenAICompatibleConfig {
  /** The vendor's name (`"openai"`, `"ollama"`...). */
  readonly provider: string;
  /** The model asked by default. */
  readonly model: string;
  /** The alias in `PROVIDERS`. */
  readonly alias: string;
  /** The base URL requests go to (no trailing slash). */
  readonly baseURL: string;
  /** The API key, when there is one. */
  readonly apiKey: string | undefined;
  /** Where the key came from: `"api_key"`, `"env:NAME"`, or undefined (no key). */
  readonly keySource: string | undefined;
  /** The environment variables the key is looked up in, in order. */
  readonly keyEnv: readonly string[];
  /** The header the key is sent in (default: `Authorization: Bearer <key>`). */
  readonly keyHeader: string | undefined;
  /** Seconds per attempt (for a stream: the wait for each chunk). */
  readonly timeoutSeconds: number;
  /** Retries of a failed request. */
  readonly maxRetries: number;
  /** Extra headers. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The `OpenAI-Organization` header. */
  readonly organization: string | undefined;
  /** `api_version`, when set. */
  readonly apiVersion: string | undefined;
  /** Query parameters added to every request (`api-version`). */
  readonly query: Readonly<Record<string, string>> | undefined;
  /** `max_answer_chars`: the longest answer, in characters (default 16 MiB). */
  readonly maxAnswerChars?: number;
  /** `max_event_chars`: the longest line or event of a stream, in characters (default 1 MiB). */
  readonly maxEventChars?: number;
  /** How `completeObject()` makes the answer follow the schema (`structured_output`). */
  readonly structuredOutput: OpenAICompatibleStrategy;
  /**
   * The service's name in error messages: the provider's name at its own URL,
   * the host of `api_base` otherwise (default: the provider's name).
   */
  readonly service?: string;
}

/**
 * What an OpenAI-compatible vendor defaults to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   createProvider,
 *   type OpenAICompatibleDefaults,
 *   openAICompatibleFactory,
 *   type OpenAICompatibleProvider,
 *   registerProvider,
 *   unregisterProvider,
 * } from "../mod.ts";
 * const defaults: OpenAICompatibleDefaults = {
 *   baseURL: "http://127.0.0.1:8000/v1",
 *   keyEnv: ["IN_HOUSE_KEY"],
 *   requiresKey: false,
 *   structuredOutput: "json_schema",
 * };
 * registerProvider("in-house-llm", openAICompatibleFactory(defaults));
 * const provider = createProvider("in-house-llm:house-1", {
 *   env: () => undefined,
 * }) as OpenAICompatibleProvider;
 * assert.equal(provider.config.baseURL, "http://127.0.0.1:8000/v1");
 * assert.equal(provider.config.apiKey, undefined); // none needed
 * unregisterProvider("in-house-llm");
 * ```
 */
export interface OpenAICompatibleDefaults {
  /** The default base URL (`undefined`: `api_base` is required). */
  baseURL?: string;
  /** Environment variables read for the key, in order. */
  keyEnv?: readonly string[];
  /** Whether a missing key is an error (default: when `keyEnv` is not empty). */
  requiresKey?: boolean;
  /**
   * What the service supports for structured output (default `"prompt"`,
   * which every server can do): `"json_schema"` for `response_format:
   * {type: "json_schema"}`, `"json_object"` for JSON mode.
   */
  structuredOutput?: OpenAICompatibleStrategy;
}

/** `PROVIDERS["alias"]`, for messages. */
export function providerWhere(alias: string): string {
  return `PROVIDERS["${alias}"]`;
}

/**
 * Validates the OpenAI-compatible settings keys and resolves the key, base
 * URL and options into a config.
 *
 * @throws {ImproperlyConfigured} naming the alias and the key at fault.
 * @throws {MissingAPIKeyError} naming the environment variable(s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveOpenAICompatibleConfig } from "./openai_compatible.ts";
 * const config = resolveOpenAICompatibleConfig(
 *   { provider: "groq", model: "llama-3.3-70b-versatile" },
 *   { alias: "default", env: (name) => (name === "GROQ_API_KEY" ? "gsk-test" : undefined) },
 *   { baseURL: "https://api.groq.com/openai/v1", keyEnv: ["GROQ_API_KEY"] },
 * );
 * assert.equal(config.keySource, "env:GROQ_API_KEY");
 * ```
 */
export function resolveOpenAICompatibleConfig(
  settings: ResolvedProviderSettings,
  context: ProviderContext,
  defaults: OpenAICompatibleDefaults,
  extra: { allowedKeys?: readonly string[]; baseURL?: string } = {},
): OpenAICompatibleConfig {
  const where = providerWhere(context.alias);
  rejectUnknownKeys(settings, extra.allowedKeys ?? OPENAI_COMPATIBLE_KEYS, where);
  const apiKeySetting = optionalString(settings.api_key, "api_key", where);
  const apiKeyEnv = optionalString(settings.api_key_env, "api_key_env", where);
  const apiBase = optionalUrl(settings.api_base, "api_base", where);
  const headers = optionalStringRecord(settings.headers, "headers", where);
  const organization = optionalString(settings.organization, "organization", where);
  const timeout = optionalNumber(settings.timeout, "timeout", where, { min: 0, max: 3600 });
  if (timeout === 0) {
    throw new ImproperlyConfigured(`timeout in ${where} must be more than 0 seconds`);
  }
  const maxRetries = optionalInteger(settings.max_retries, "max_retries", where, {
    min: 0,
    max: 10,
  });
  const apiVersion = optionalString(settings.api_version, "api_version", where);
  const maxAnswerChars = optionalInteger(settings.max_answer_chars, "max_answer_chars", where, {
    min: 1,
  });
  const maxEventChars = optionalInteger(settings.max_event_chars, "max_event_chars", where, {
    min: 1,
  });
  const structuredOutput = optionalChoice(
    settings.structured_output,
    "structured_output",
    where,
    STRATEGIES,
  ) ?? defaults.structuredOutput ?? "prompt";

  const defaultBaseURL = defaults.baseURL?.replace(/\/+$/, "");
  const baseURL = extra.baseURL ?? apiBase ?? defaultBaseURL;
  if (baseURL === undefined) {
    throw new ImproperlyConfigured(
      `${where} (provider "${settings.provider}") needs api_base: the provider has no default URL`,
    );
  }

  const keyEnv = apiKeyEnv !== undefined ? [apiKeyEnv] : [...(defaults.keyEnv ?? [])];
  let apiKey = apiKeySetting;
  let keySource: string | undefined = apiKey === undefined ? undefined : "api_key";
  if (apiKey === undefined) {
    for (const name of keyEnv) {
      const value = context.env(name);
      if (value !== undefined && value !== "") {
        apiKey = value;
        keySource = `env:${name}`;
        break;
      }
    }
  }
  const requiresKey = apiKeyEnv !== undefined || (defaults.requiresKey ?? keyEnv.length > 0);
  if (apiKey === undefined && requiresKey) {
    const names = keyEnv.length === 1
      ? `the ${keyEnv[0]} environment variable`
      : `one of the environment variables ${keyEnv.join(", ")}`;
    throw new MissingAPIKeyError(
      `No API key for provider "${settings.provider}" of ${where}: set api_key in ${where} or ${names}`,
    );
  }

  return {
    provider: settings.provider,
    model: settings.model,
    alias: context.alias,
    baseURL,
    apiKey,
    keySource,
    keyEnv,
    keyHeader: undefined,
    timeoutSeconds: timeout ?? DEFAULT_PROVIDER_TIMEOUT_SECONDS,
    maxRetries: maxRetries ?? DEFAULT_PROVIDER_MAX_RETRIES,
    headers,
    organization,
    apiVersion,
    query: apiVersion === undefined ? undefined : { "api-version": apiVersion },
    maxAnswerChars: maxAnswerChars ?? DEFAULT_MAX_ANSWER_CHARS,
    maxEventChars: maxEventChars ?? DEFAULT_MAX_EVENT_CHARS,
    structuredOutput,
    // A proxy or a local server on api_base is named by its host, as the LLM backend does.
    service: apiBase !== undefined && apiBase !== defaultBaseURL
      ? hostOf(baseURL)
      : settings.provider,
  };
}

/**
 * Makes a factory for an OpenAI-compatible vendor, for `registerProvider()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider, openAICompatibleFactory, registerProvider } from "../mod.ts";
 * registerProvider(
 *   "scaleway",
 *   openAICompatibleFactory({ baseURL: "https://api.scaleway.ai/v1", keyEnv: ["SCW_SECRET_KEY"] }),
 *   { description: "Scaleway Generative APIs", baseURL: "https://api.scaleway.ai/v1", keyEnv: ["SCW_SECRET_KEY"] },
 * );
 * const provider = createProvider({ provider: "scaleway", model: "gpt-oss-120b", api_key: "k-test" });
 * assert.equal(provider.provider, "scaleway");
 * ```
 */
export function openAICompatibleFactory(defaults: OpenAICompatibleDefaults): ProviderFactory {
  return (settings, context) =>
    new OpenAICompatibleProvider(resolveOpenAICompatibleConfig(settings, context, defaults));
}

/**
 * The chat options of a provider call as they are sent: JSON data, copied
 * (`undefined` values left out). Anything else (a BigInt, `NaN`, `Infinity`, a
 * cycle, a `Date`) is a TypeError naming the option, as the backends say,
 * rather than a failure to send.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOptionsData } from "./openai_compatible.ts";
 * assert.deepEqual(checkOptionsData({ temperature: 0.2, user: undefined }, "completion"), {
 *   temperature: 0.2,
 * });
 * assert.throws(() => checkOptionsData({ temperature: NaN }, "completion"), TypeError);
 * ```
 */
export function checkOptionsData(options: Record<string, unknown>, method: string): ChatOptions {
  // The common case, a few options whose values are all numbers, strings, booleans or null:
  // copied as they are, with nothing to walk.
  const names = Object.keys(options);
  if (names.length <= 64) {
    const flat: ChatOptions = {};
    let simple = true;
    for (const name of names) {
      const value = options[name];
      if (value === undefined) continue;
      if (
        value === null || typeof value === "string" || typeof value === "boolean" ||
        (typeof value === "number" && Number.isFinite(value))
      ) {
        flat[name] = value;
      } else {
        simple = false;
        break;
      }
    }
    if (simple) return flat;
  }
  const check = { where: `options of ${method}()`, error: TypeError };
  const seen = new Set<object>();
  const budget = jsonBudget(check);
  const sent: ChatOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) sent[key] = copyJsonData(value, [key], check, budget, seen);
  }
  return sent;
}

const ROLES = new Set(["system", "user", "assistant"]);

/** Checks messages at the call, naming the first one at fault. */
export function checkMessages(messages: unknown): asserts messages is ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new TypeError("messages must be a non-empty array of chat messages");
  }
  messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    if (typeof message !== "object" || message === null) {
      throw new TypeError(`${where} must be an object with role and content`);
    }
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !ROLES.has(role)) {
      throw new TypeError(`${where}.role must be "system", "user" or "assistant"`);
    }
    if (typeof content === "string") return;
    if (!Array.isArray(content)) {
      throw new TypeError(`${where}.content must be a string or an array of content parts`);
    }
    content.forEach((part, partIndex) => {
      const at = `${where}.content[${partIndex}]`;
      const type = (part as { type?: unknown } | null)?.type;
      if (type === "text") {
        if (typeof (part as { text?: unknown }).text !== "string") {
          throw new TypeError(`${at}.text must be a string`);
        }
      } else if (type === "image_url") {
        const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
        if (typeof url !== "string" || url === "") {
          throw new TypeError(`${at}.image_url.url must be a non-empty string`);
        }
      } else {
        throw new TypeError(`${at}.type must be "text" or "image_url"`);
      }
    });
  });
}

/**
 * An OpenAI-compatible service as a {@link Provider}. Build it through
 * `createAI().getProvider()` or `createProvider()`.
 *
 * `completion()` returns the OpenAI chat-completion shape; `stream()` yields
 * `{type: "text", text}` events in order and `{type: "usage", usage}` last
 * when the service reports usage. Wrong arguments (`TypeError`) reject the
 * promise of `completion()` and throw at the call of `stream()`, before any
 * request; service failures are `APIError` subclasses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider } from "../mod.ts";
 * const provider = createProvider("ollama:llama3:8b");
 * assert.equal(provider.model, "llama3:8b");
 * await assert.rejects(provider.completion({ messages: [] }), TypeError);
 * assert.throws(() => provider.stream({ messages: [] }), TypeError);
 * ```
 */
export class OpenAICompatibleProvider implements Provider {
  /** The resolved configuration (secrets masked when printed). */
  readonly config: OpenAICompatibleConfig;

  /** Builds the provider from a resolved config. */
  constructor(config: OpenAICompatibleConfig) {
    this.config = config;
    guardSecrets(this.config);
    const headers = config.headers;
    if (headers !== undefined) {
      // Printed on its own, the headers object shows its names only.
      guardSecrets(
        headers,
        () => Object.fromEntries(Object.keys(headers).map((name) => [name, "***"])),
      );
    }
    guardSecrets(this, () => ({
      class: this.constructor.name,
      provider: this.provider,
      model: this.model,
      config: this.config,
    }));
  }

  /** The vendor's name. */
  get provider(): string {
    return this.config.provider;
  }

  /** The model asked by default. */
  get model(): string {
    return this.config.model;
  }

  /** The alias in `PROVIDERS`. */
  get alias(): string {
    return this.config.alias;
  }

  /**
   * Sends the messages; resolves to the OpenAI chat-completion shape. Wrong
   * arguments reject the promise with a `TypeError` (they never throw at the
   * call, so `.catch()` and `Promise.allSettled` see them).
   *
   * @example Against a local OpenAI-compatible server (here a stand-in started by the example)
   * ```ts
   * import assert from "node:assert/strict";
   * import { createProvider } from "../mod.ts";
   * const server = Deno.serve(
   *   { hostname: "127.0.0.1", port: 0, onListen() {} },
   *   () =>
   *     Response.json({
   *       id: "c1",
   *       object: "chat.completion",
   *       created: 0,
   *       model: "house-1",
   *       choices: [{
   *         index: 0,
   *         message: { role: "assistant", content: "Hello!" },
   *         finish_reason: "stop",
   *       }],
   *       usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
   *     }),
   * );
   * const provider = createProvider({
   *   provider: "openai_compatible",
   *   model: "house-1",
   *   api_base: `http://127.0.0.1:${server.addr.port}/v1`,
   * });
   * const answer = await provider.completion({ messages: [{ role: "user", content: "Hi" }] });
   * assert.equal(answer.choices[0].message.content, "Hello!");
   * assert.equal(answer.usage?.totalTokens, 7);
   * await server.shutdown();
   * ```
   */
  async completion(options: CompletionOptions): Promise<ChatCompletion> {
    const request = this.#request(options, "completion");
    return await chatCompletion(this.#clientSettings(), request);
  }

  /**
   * Streams the answer: text events, the finish reason, then usage when reported.
   * Wrong arguments throw a `TypeError` at the call.
   *
   * @example Wrong arguments throw at the call, before any request
   * ```ts
   * import assert from "node:assert/strict";
   * import { createProvider } from "../mod.ts";
   * const provider = createProvider({
   *   provider: "openai",
   *   model: "gpt-4.1-mini",
   *   api_key: "sk-test",
   * });
   * assert.throws(() => provider.stream({ messages: [] }), TypeError);
   * assert.throws(
   *   () => provider.stream({ messages: [{ role: "user", content: "Hi" }], stream: false }),
   *   TypeError,
   * );
   * ```
   */
  stream(options: CompletionOptions): AsyncIterable<ProviderStreamEvent> {
    const request = this.#request(options, "stream");
    return chatStream(this.#clientSettings(), request);
  }

  /**
   * Asks for an answer that follows `schema`, with the strategy of
   * `config.structuredOutput` (`structured_output`; by default the
   * strongest the vendor has): `response_format: {type: "json_schema"}`
   * (strict when the schema fits OpenAI's strict subset), JSON mode with the
   * schema in the prompt, or the schema in the prompt. The answer is checked
   * against the schema and repaired once; see {@link Provider.completeObject}.
   *
   * @example A schema that is not an object is refused before any request
   * ```ts
   * import assert from "node:assert/strict";
   * import { createProvider } from "../mod.ts";
   * const provider = createProvider({
   *   provider: "openai",
   *   model: "gpt-4.1-mini",
   *   api_key: "sk-test",
   * });
   * await assert.rejects(
   *   provider.completeObject({
   *     messages: [{ role: "user", content: "A title" }],
   *     schema: "title" as never,
   *   }),
   *   TypeError,
   * );
   * ```
   */
  async completeObject<T = unknown>(
    options: CompleteObjectOptions<T>,
  ): Promise<ObjectCompletion<T>> {
    const args = checkObjectArguments(options, "completeObject");
    checkMessages(args.messages);
    const { openAIObject } = await loadEngine();
    return await openAIObject<T>(this.#clientSettings(), {
      model: args.model ?? this.config.model,
      messages: args.messages,
      schema: args.schema,
      name: args.name,
      strategy: this.config.structuredOutput,
      options: args.options,
      signal: args.signal,
    });
  }

  #request(
    options: CompletionOptions,
    method: string,
  ): { model: string; messages: ChatMessage[]; options: ChatOptions; signal?: AbortSignal } {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${method}() takes an options object with messages`);
    }
    // metadata is for usage events: checked here, never sent.
    const { messages, signal, model, metadata, ...rest } = options;
    checkMessages(messages);
    checkCallMetadata(metadata, method);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError("signal must be an AbortSignal when given");
    }
    if (model !== undefined && (typeof model !== "string" || model.trim() === "")) {
      throw new TypeError("model must be a non-empty string when given");
    }
    if ("stream" in rest || "stream_options" in rest) {
      throw new TypeError(
        `${method}() does not take stream or stream_options: call stream() to stream`,
      );
    }
    const sent = checkOptionsData(rest, method);
    const request: {
      model: string;
      messages: ChatMessage[];
      options: ChatOptions;
      signal?: AbortSignal;
    } = { model: model ?? this.config.model, messages, options: sent };
    if (signal !== undefined) request.signal = signal;
    return request;
  }

  /** The client settings, built once (the client cache finds its client by this object). */
  #settings: ClientSettings | undefined;

  #clientSettings(): ClientSettings {
    return this.#settings ??= this.#buildClientSettings();
  }

  #buildClientSettings(): ClientSettings {
    const config = this.config;
    const headers: Record<string, string> = { ...config.headers };
    let apiKey = config.apiKey;
    if (apiKey !== undefined && config.keyHeader !== undefined) {
      headers[config.keyHeader] = apiKey;
      apiKey = undefined;
    }
    const settings: ClientSettings = {
      baseURL: config.baseURL,
      timeoutMs: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
      provider: config.provider,
    };
    if (config.service !== undefined) settings.service = config.service;
    if (apiKey !== undefined) settings.apiKey = apiKey;
    if (Object.keys(headers).length > 0) settings.headers = headers;
    if (config.organization !== undefined) settings.organization = config.organization;
    if (config.query !== undefined) settings.defaultQuery = { ...config.query };
    if (config.maxAnswerChars !== undefined) settings.maxAnswerChars = config.maxAnswerChars;
    if (config.maxEventChars !== undefined) settings.maxEventChars = config.maxEventChars;
    return settings;
  }
}
