/**
 * The provider contract: one configured vendor and model that answers chat
 * requests in the OpenAI chat-completion shape, and structured requests (a
 * JSON Schema in, a checked object out) with `completeObject()`.
 *
 * A provider of your own implements {@link BasicProvider} (`completion()`
 * and `stream()`); `createProvider()` and `createAI()` give it a
 * `completeObject()` built on its `completion()` with the schema in the
 * prompt (strategy `"prompt"`) unless it has its own.
 *
 * @example A provider of your own
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatCompletion } from "../chat.ts";
 * import type { BasicProvider, CompletionOptions, ProviderStreamEvent } from "./types.ts";
 *
 * class FixedProvider implements BasicProvider {
 *   readonly provider = "fixed";
 *   readonly model = "fixed-1";
 *   completion(_options: CompletionOptions): Promise<ChatCompletion> {
 *     return Promise.resolve({
 *       id: "1",
 *       object: "chat.completion",
 *       created: 0,
 *       model: this.model,
 *       choices: [{ index: 0, message: { role: "assistant", content: "OK" }, finish_reason: "stop" }],
 *     });
 *   }
 *   async *stream(_options: CompletionOptions): AsyncGenerator<ProviderStreamEvent> {
 *     yield { type: "text", text: "OK" };
 *   }
 * }
 * const answer = await new FixedProvider().completion({ messages: [{ role: "user", content: "Hi" }] });
 * assert.equal(answer.choices[0].message.content, "OK");
 * ```
 *
 * @module
 */
import type {
  CallMetadata,
  ChatCompletion,
  ChatMessage,
  ChatOptions,
  TokenUsage,
} from "../chat.ts";
import type {
  CompleteObjectOptions,
  ObjectCompletion,
  StructuredOutputStrategy,
} from "../structured.ts";

/**
 * Arguments of {@link Provider.completion} and {@link Provider.stream}: the
 * messages, an optional abort signal and model override, the call's
 * `metadata` (for usage events, never sent), and any chat option
 * (`temperature`, `max_tokens`, ...), which is sent to the service as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CompletionOptions } from "./types.ts";
 * const options: CompletionOptions = {
 *   messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
 *   temperature: 0.2,
 * };
 * assert.equal(options.messages.length, 1);
 * ```
 */
export interface CompletionOptions extends ChatOptions {
  /** The conversation: string content or content parts (`text`, `image_url`). */
  messages: ChatMessage[];
  /** Ends the request (or the stream) when aborted. */
  signal?: AbortSignal;
  /**
   * The model for this request only (default: the provider's `model`). With
   * fallbacks, it applies to this alias only: a fallback asks its own model.
   */
  model?: string;
  /** Who and what the request is for, carried by its usage events: see {@link CallMetadata}. */
  metadata?: CallMetadata;
}

/**
 * What {@link Provider.stream} yields: text pieces in order, then, when the
 * service says it, a `finish` event with why the answer ended (OpenAI's
 * `finish_reason`, Anthropic's `stop_reason` under OpenAI's names: `"stop"`,
 * or `"length"` when `max_tokens` cut it), and, when the service reports it,
 * one `usage` event at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProviderStreamEvent } from "./types.ts";
 * const events: ProviderStreamEvent[] = [
 *   { type: "text", text: "Hel" },
 *   { type: "text", text: "lo" },
 *   { type: "finish", reason: "stop" },
 *   { type: "usage", usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } },
 * ];
 * const text = events.map((e) => e.type === "text" ? e.text : "").join("");
 * assert.equal(text, "Hello");
 * assert.ok(events.some((e) => e.type === "finish" && e.reason === "stop"));
 * ```
 */
export type ProviderStreamEvent =
  | { type: "text"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; usage: TokenUsage };

/**
 * What a provider must do: answer chat requests, whole and streamed. This is
 * what a {@link ProviderFactory} returns; `createProvider()` turns it into a
 * {@link Provider} (adding `completeObject()` when it has none).
 *
 * Wrong arguments reject the promise of `completion()` and throw at the call
 * of `stream()` (a `TypeError`, before any request); network and API errors
 * reject the promise (or are thrown by the stream) as `APIError` subclasses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BasicProvider } from "./types.ts";
 * const offline: BasicProvider = {
 *   provider: "offline",
 *   model: "none",
 *   completion: () => Promise.reject(new Error("offline")),
 *   async *stream() {},
 * };
 * assert.equal(offline.completeObject, undefined);
 * ```
 */
export interface BasicProvider {
  /** The vendor's name, for example `"openai"` or `"ollama"`. */
  readonly provider: string;
  /** The model asked by default. */
  readonly model: string;
  /**
   * Sends the messages and returns the answer in the OpenAI chat-completion
   * shape (`choices[0].message.content`), with `usage`, when the service
   * gives it, as `{inputTokens, outputTokens, totalTokens}` (the shape of
   * `stream()`'s usage event) and the service's own usage object as `raw`.
   * Every failure, wrong arguments included, is a rejection of the promise.
   */
  completion(options: CompletionOptions): Promise<ChatCompletion>;
  /**
   * Streams the answer: {@link ProviderStreamEvent}s, text pieces then usage.
   * Each iteration sends a new request; breaking out of the loop cancels it.
   */
  stream(options: CompletionOptions): AsyncIterable<ProviderStreamEvent>;
  /** Structured output, when the provider has its own (see {@link Provider.completeObject}). */
  completeObject?<T = unknown>(options: CompleteObjectOptions<T>): Promise<ObjectCompletion<T>>;
}

/**
 * A configured vendor and model (one entry of `PROVIDERS`).
 *
 * Wrong arguments reject the promise of `completion()` and
 * `completeObject()` and throw at the call of `stream()` (a `TypeError`,
 * before any request); network and API errors reject the promise (or are
 * thrown by the stream) as `APIError` subclasses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * const ai = createAI({ PROVIDERS: { default: { provider: "ollama", model: "llama3:8b" } } });
 * const provider = ai.getProvider();
 * assert.equal(provider.provider, "ollama");
 * assert.equal(provider.model, "llama3:8b");
 * assert.equal(typeof provider.completeObject, "function");
 * ```
 */
export interface Provider extends BasicProvider {
  /**
   * Asks for an answer that follows a JSON Schema (or a Standard Schema that
   * gives one) and resolves to `{object, usage, strategy}`: the answer
   * parsed and checked against the schema, the usage of every request made,
   * and the strategy used (the strongest the service has: see
   * `StructuredOutputStrategy`). An answer that misses the schema gets one
   * repair request showing the model what was wrong; still wrong (or not
   * JSON) is a `StructuredOutputError` with `validationErrors` and
   * `rawText`. A schema that is not an object is a `TypeError`, before any
   * request.
   */
  completeObject<T = unknown>(options: CompleteObjectOptions<T>): Promise<ObjectCompletion<T>>;
}

/**
 * One entry of `PROVIDERS`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type ProviderSettings } from "../mod.ts";
 * const local: ProviderSettings = { provider: "ollama", model: "llama3.1:8b", timeout: 300 };
 * const ai = createAI({ PROVIDERS: { default: local } });
 * assert.equal(ai.getProvider().provider, "ollama");
 * assert.equal(ai.getProviderSettings().timeout, 300);
 * ```
 */
export interface ProviderSettings {
  /** The vendor: `openai`, `azure`, `mistral`, `ollama`... or `vendor:model`. */
  provider?: string;
  /** The model id at that vendor (or `vendor:model` when `provider` is not set). */
  model?: string;
  /** The API key (default: the vendor's environment variable). */
  api_key?: string;
  /** The API's base URL (default: the vendor's). */
  api_base?: string;
  /** The environment variable that holds the key (default: the vendor's). */
  api_key_env?: string;
  /** Extra HTTP headers sent with every request (values are secrets). */
  headers?: Record<string, string>;
  /** The OpenAI organization id. */
  organization?: string;
  /** Seconds before a request times out (default 120). */
  timeout?: number;
  /** Retries of a failed request (default 2). */
  max_retries?: number;
  /** The API version (Azure's `api-version`). */
  api_version?: string;
  /** The longest answer, in characters (default 16 MiB). */
  max_answer_chars?: number;
  /** The longest line or event of a stream, in characters (default 1 MiB). */
  max_event_chars?: number;
  /** Azure: the resource endpoint, `https://<resource>.openai.azure.com`. */
  endpoint?: string;
  /** Azure: the deployment name (default: `model`). */
  deployment?: string;
  /**
   * How `completeObject()` makes the answer follow the schema (default: the
   * strongest the vendor has): `"json_schema"`, `"json_object"` or
   * `"prompt"` for OpenAI-compatible vendors, `"json_schema"`, `"tool"` or
   * `"prompt"` for `anthropic`.
   */
  structured_output?: string;
  /**
   * Aliases in `PROVIDERS` to fail over to, in order, when this one fails with
   * a retryable error (429, 5xx, connection, timeout) after its own retries,
   * before any text reached the caller, or when the prompt does not fit its
   * context window. Followed transitively; a cycle or an unknown alias is a
   * settings error (docs/operations.md).
   */
  fallbacks?: string[];
  /**
   * `"retryable"` (default): fail over on retryable errors only; `"any"`:
   * also on authentication, not-found and bad-request errors.
   */
  fallback_on?: "retryable" | "any";
  /** Fail-overs in a row after which this alias is skipped for `cooldown_seconds` (default 3; 0: never). */
  cooldown_failures?: number;
  /** Seconds an alias is skipped after `cooldown_failures` fail-overs in a row (default 30). */
  cooldown_seconds?: number;
  /**
   * The model's context window in tokens, for fallbacks by window (default:
   * the known window of `model`; unknown: no check before sending).
   */
  context_window?: number;
  /** Keys of providers added with `registerProvider()`. */
  [key: string]: unknown;
}

/**
 * Provider settings whose `provider` and `model` are resolved (a
 * `provider:model` string has been split).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ResolvedProviderSettings } from "./types.ts";
 * const settings: ResolvedProviderSettings = { provider: "ollama", model: "llama3:8b" };
 * assert.equal(settings.model, "llama3:8b");
 * ```
 */
export interface ResolvedProviderSettings extends ProviderSettings {
  /** The vendor's name. */
  provider: string;
  /** The model id at that vendor. */
  model: string;
}

/**
 * What a {@link ProviderFactory} receives besides the settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProviderContext } from "./types.ts";
 * const context: ProviderContext = { alias: "default", env: (name) => name === "X" ? "1" : undefined };
 * assert.equal(context.env("X"), "1");
 * ```
 */
export interface ProviderContext {
  /** The alias in `PROVIDERS` (used in messages). */
  alias: string;
  /** Reads an environment variable (undefined when unset or not permitted). */
  env: (name: string) => string | undefined;
}

/**
 * Builds a provider from its settings; added with `registerProvider()`.
 * Throw `ImproperlyConfigured` (naming `PROVIDERS["<alias>"]` and the key)
 * for bad settings and `MissingAPIKeyError` for a missing key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProviderFactory } from "./types.ts";
 * const factory: ProviderFactory = (settings) => ({
 *   provider: settings.provider,
 *   model: settings.model,
 *   completion: () => Promise.reject(new Error("offline")),
 *   async *stream() {},
 * });
 * assert.equal(factory({ provider: "x", model: "y" }, { alias: "a", env: () => undefined }).model, "y");
 * ```
 */
export type ProviderFactory = (
  settings: ResolvedProviderSettings,
  context: ProviderContext,
) => BasicProvider;

/**
 * What is known about a provider name: listed by `listProviders()` and the
 * CLI's `providers` command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getProviderInfo } from "./registry.ts";
 * const info = getProviderInfo("ollama");
 * assert.equal(info?.baseURL, "http://localhost:11434/v1");
 * assert.equal(info?.requiresKey, false);
 * ```
 */
export interface ProviderInfo {
  /** The name used as `provider` in settings. */
  readonly name: string;
  /** One line about the service. */
  readonly description: string;
  /** The default base URL (`undefined` when it must be configured, as for Azure). */
  readonly baseURL: string | undefined;
  /** Environment variables read for the key, in order (empty when none). */
  readonly keyEnv: readonly string[];
  /** Whether a missing key is an error (false for local servers). */
  readonly requiresKey: boolean;
  /** Whether it is built in (false for `registerProvider()` additions). */
  readonly builtin: boolean;
  /**
   * The API it speaks: `"openai"` (chat completions), `"anthropic"` (the
   * native Messages API), or `undefined` for a `registerProvider()` addition.
   */
  readonly protocol: "openai" | "anthropic" | undefined;
  /** The structured-output strategy `completeObject()` uses by default (`undefined`: not known). */
  readonly structuredOutput: StructuredOutputStrategy | "auto" | undefined;
}
