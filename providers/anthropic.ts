/**
 * The native Anthropic provider: Claude through the Messages API
 * (`POST {api_base}/v1/messages`, `x-api-key`, `anthropic-version`), with
 * plain `fetch` (no SDK).
 *
 * - System messages before the first turn are sent as `system`; a later one
 *   (the OpenAI backend's postPrompt) as user text.
 * - Image parts: a base64 `data:` URL becomes a `base64` source whose media
 *   type is sniffed from the bytes; an `https:` URL a `url` source.
 * - `max_tokens`, which the API requires, is always sent: the call's
 *   `max_tokens` (or `max_completion_tokens`), else the model's output limit
 *   from the token table capped by what its context window leaves after the
 *   prompt (a prompt over the window is a `ContextLengthError` before any
 *   request), else {@link DEFAULT_ANTHROPIC_MAX_TOKENS}.
 * - `stop` is sent as `stop_sequences`, `user` as `metadata.user_id` (the
 *   only metadata sent: the per-call `metadata` is for usage events);
 *   OpenAI-only options (`seed`, `response_format`, penalties...) are a
 *   `TypeError` at the call; any other option (`top_k`, `thinking`...) is
 *   sent as it is.
 * - Usage comes back in our shape: `inputTokens` counts the whole prompt
 *   (prompt-cache reads and writes included).
 * - `completeObject()`: Anthropic's structured outputs (`output_config.format`)
 *   for the models that have them (Claude Sonnet 4.5, Haiku 4.5, Opus 4.5 and
 *   later) when the schema fits their subset, else a forced tool whose
 *   `input_schema` is the schema.
 *
 * Settings keys: `provider`, `model`, `api_key` (default `ANTHROPIC_API_KEY`),
 * `api_key_env`, `api_base` (default `https://api.anthropic.com`; a trailing
 * `/v1` is dropped, a query kept), `headers`, `timeout` (seconds per attempt;
 * for a stream, the server's silence between chunks), `max_retries`,
 * `max_answer_chars`, `max_event_chars` (as for the OpenAI-compatible
 * providers), `api_version` (the `anthropic-version` header, default
 * {@link DEFAULT_ANTHROPIC_VERSION}) and `structured_output` (`json_schema`,
 * `tool` or `prompt`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AnthropicProvider, createProvider } from "../mod.ts";
 * const claude = createProvider({
 *   provider: "anthropic",
 *   model: "claude-sonnet-4-5",
 *   api_key: "sk-ant-example",
 * }) as AnthropicProvider;
 * assert.equal(claude.config.baseURL, "https://api.anthropic.com");
 * assert.equal(claude.config.apiVersion, "2023-06-01");
 * assert.ok(!JSON.stringify(claude).includes("sk-ant-example"));
 * ```
 *
 * @module
 */
import type { ChatCompletion, ChatMessage } from "../chat.ts";
import type { CompleteObjectOptions, JSONSchema, ObjectCompletion } from "../structured.ts";
import { answerBudget, countSchemaTokens } from "../_budget.ts";
import { getDefaultTokenLimit, getMaxOutputTokens } from "../tokens.ts";
import { guardSecrets } from "../_redact.ts";
import { checkCallMetadata } from "../_json.ts";
import {
  type AnthropicMessage,
  type AnthropicSettings,
  type AnthropicToolUseBlock,
  type AnthropicTurn,
  createMessage,
  finishReason,
  loadClient,
  type MessagesRequest,
  messageText,
  streamMessage,
  toAnthropicOptions,
  toConversation,
  toTokenUsage,
} from "../_anthropic/mod.ts";
import {
  checkObjectArguments,
  hasObjectRoot,
  loadEngine,
  type Repair,
  wrapRoot,
} from "../_structured/mod.ts";
import { optionalChoice } from "../_validate.ts";
import {
  checkMessages,
  checkOptionsData,
  providerWhere,
  resolveOpenAICompatibleConfig,
} from "./openai_compatible.ts";
import type {
  CompletionOptions,
  Provider,
  ProviderContext,
  ProviderStreamEvent,
  ResolvedProviderSettings,
} from "./types.ts";

/**
 * The default `api_base` of the `anthropic` provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AnthropicProvider, createProvider, DEFAULT_ANTHROPIC_API_BASE } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "anthropic", model: "claude-sonnet-4-5", api_key: "sk-ant-test" },
 * ) as AnthropicProvider;
 * assert.equal(provider.config.baseURL, DEFAULT_ANTHROPIC_API_BASE);
 * ```
 */
export const DEFAULT_ANTHROPIC_API_BASE = "https://api.anthropic.com";
/**
 * The default `api_version`: the `anthropic-version` header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AnthropicProvider, createProvider, DEFAULT_ANTHROPIC_VERSION } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "anthropic", model: "claude-sonnet-4-5", api_key: "sk-ant-test" },
 * ) as AnthropicProvider;
 * assert.equal(provider.config.apiVersion, DEFAULT_ANTHROPIC_VERSION);
 * ```
 */
export const DEFAULT_ANTHROPIC_VERSION = "2023-06-01";
/**
 * The `max_tokens` sent when neither the call nor the token table gives one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_ANTHROPIC_MAX_TOKENS } from "../mod.ts";
 * assert.equal(DEFAULT_ANTHROPIC_MAX_TOKENS, 4096);
 * ```
 */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/**
 * The settings keys the `anthropic` provider takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANTHROPIC_KEYS, createProvider, ImproperlyConfigured } from "../mod.ts";
 * assert.ok(ANTHROPIC_KEYS.includes("api_version"));
 * assert.ok(!ANTHROPIC_KEYS.includes("organization")); // an OpenAI key
 * assert.throws(
 *   () =>
 *     createProvider({
 *       provider: "anthropic",
 *       model: "claude-sonnet-4-5",
 *       api_key: "k",
 *       organization: "o",
 *     }),
 *   ImproperlyConfigured,
 * );
 * ```
 */
export const ANTHROPIC_KEYS: readonly string[] = [
  "provider",
  "model",
  "api_key",
  "api_key_env",
  "api_base",
  "headers",
  "timeout",
  "max_retries",
  "api_version",
  "max_answer_chars",
  "max_event_chars",
  "structured_output",
];

/**
 * The structured-output strategies of the Messages API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AnthropicProvider, type AnthropicStrategy, createProvider } from "../mod.ts";
 * const structured_output: AnthropicStrategy = "prompt";
 * const provider = createProvider(
 *   { provider: "anthropic", model: "claude-3-5-haiku-latest", api_key: "k", structured_output },
 * ) as AnthropicProvider;
 * assert.equal(provider.strategyFor(), "prompt");
 * ```
 */
export type AnthropicStrategy = "json_schema" | "tool" | "prompt";
const STRATEGIES: readonly AnthropicStrategy[] = ["json_schema", "tool", "prompt"];

// The models with structured outputs (output_config.format): Claude Sonnet, Haiku and
// Opus 4.5 and later, dated snapshots and vendor prefixes included.
const NATIVE_MODELS = /^(?:[\w.-]+[/.])?claude-(?:opus|sonnet|haiku)-(?:4-[5-9]|[5-9])(?:$|[-@:])/i;

/**
 * Whether a model has Anthropic's structured outputs (`output_config.format`):
 * Claude Sonnet 4.5, Haiku 4.5, Opus 4.5 and later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasNativeStructuredOutput } from "./anthropic.ts";
 * assert.ok(hasNativeStructuredOutput("claude-sonnet-4-5-20250929"));
 * assert.ok(!hasNativeStructuredOutput("claude-3-5-haiku-latest"));
 * ```
 */
export function hasNativeStructuredOutput(model: string): boolean {
  return NATIVE_MODELS.test(model);
}

/**
 * The resolved configuration of an {@link AnthropicProvider}. The key and
 * header values are masked when the provider or this object is printed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AnthropicConfig, type AnthropicProvider, createProvider } from "../mod.ts";
 * const provider = createProvider({
 *   provider: "anthropic",
 *   model: "claude-sonnet-4-5",
 *   api_key: "sk-ant-secret",
 *   headers: { "anthropic-beta": "some-beta" },
 * }) as AnthropicProvider;
 * const config: AnthropicConfig = provider.config;
 * assert.equal(config.model, "claude-sonnet-4-5");
 * assert.equal(config.keySource, "api_key");
 * assert.ok(!JSON.stringify(config).includes("sk-ant-secret")); // masked when printed
 * ```
 */
export interface AnthropicConfig {
  /** Always `"anthropic"` (or the name it was registered under). */
  readonly provider: string;
  /** The model asked by default. */
  readonly model: string;
  /** The alias in `PROVIDERS`. */
  readonly alias: string;
  /** The base URL, without `/v1` (requests go to `{baseURL}/v1/messages`). */
  readonly baseURL: string;
  /** The API key, when there is one. */
  readonly apiKey: string | undefined;
  /** Where the key came from: `"api_key"`, `"env:NAME"`, or undefined (no key). */
  readonly keySource: string | undefined;
  /** The environment variables the key is looked up in, in order. */
  readonly keyEnv: readonly string[];
  /** Seconds per attempt (for a stream: the wait for each chunk). */
  readonly timeoutSeconds: number;
  /** Retries of a failed request. */
  readonly maxRetries: number;
  /** Extra headers (for example `anthropic-beta`). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The `anthropic-version` header. */
  readonly apiVersion: string;
  /** `max_answer_chars`: the longest answer, in characters (default 16 MiB). */
  readonly maxAnswerChars?: number;
  /** `max_event_chars`: the longest line or event of a stream, in characters (default 1 MiB). */
  readonly maxEventChars?: number;
  /** `structured_output`, when set (else: by model, see {@link hasNativeStructuredOutput}). */
  readonly structuredOutput: AnthropicStrategy | undefined;
  /**
   * The service's name in error messages: the provider's name at its own URL,
   * the host of `api_base` otherwise (default: the provider's name).
   */
  readonly service?: string;
}

/**
 * Builds an Anthropic provider (the factory registered as `anthropic`).
 *
 * @throws {ImproperlyConfigured} naming the alias and the key at fault.
 * @throws {MissingAPIKeyError} naming `ANTHROPIC_API_KEY`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAnthropicProvider } from "./anthropic.ts";
 * const provider = createAnthropicProvider(
 *   { provider: "anthropic", model: "claude-haiku-4-5", api_base: "https://gateway.example/v1" },
 *   { alias: "default", env: (name) => (name === "ANTHROPIC_API_KEY" ? "sk-ant-test" : undefined) },
 * );
 * assert.equal(provider.config.baseURL, "https://gateway.example");
 * assert.equal(provider.config.keySource, "env:ANTHROPIC_API_KEY");
 * ```
 */
export function createAnthropicProvider(
  settings: ResolvedProviderSettings,
  context: ProviderContext,
): AnthropicProvider {
  const where = providerWhere(context.alias);
  const { structured_output, ...rest } = settings;
  const structuredOutput = optionalChoice(
    structured_output,
    "structured_output",
    where,
    STRATEGIES,
  );
  const common = resolveOpenAICompatibleConfig(
    rest as ResolvedProviderSettings,
    context,
    { baseURL: DEFAULT_ANTHROPIC_API_BASE, keyEnv: ["ANTHROPIC_API_KEY"], requiresKey: true },
    { allowedKeys: ANTHROPIC_KEYS },
  );
  return new AnthropicProvider({
    provider: common.provider,
    model: common.model,
    alias: common.alias,
    // `{api_base}/v1/messages`: a base URL given with its /v1 (as the OpenAI-compatible
    // endpoint takes it) is used without; its query (a gateway's) is kept.
    baseURL: withoutV1(common.baseURL),
    apiKey: common.apiKey,
    keySource: common.keySource,
    keyEnv: common.keyEnv,
    timeoutSeconds: common.timeoutSeconds,
    maxRetries: common.maxRetries,
    headers: common.headers,
    apiVersion: common.apiVersion ?? DEFAULT_ANTHROPIC_VERSION,
    ...(common.maxAnswerChars !== undefined ? { maxAnswerChars: common.maxAnswerChars } : {}),
    ...(common.maxEventChars !== undefined ? { maxEventChars: common.maxEventChars } : {}),
    structuredOutput,
    ...(common.service !== undefined ? { service: common.service } : {}),
  });
}

/** A base URL without a trailing `/v1` (or slash) in its path; its query and fragment kept. */
function withoutV1(base: string): string {
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  url.pathname = path === "" ? "/" : path;
  const href = url.href;
  return path === "" && url.search === "" && url.hash === "" ? href.replace(/\/$/, "") : href;
}

/** A checked call: the model, the messages as Anthropic turns, the options and the signal. */
interface CheckedCall {
  model: string;
  messages: ChatMessage[];
  system: string | undefined;
  turns: AnthropicTurn[];
  maxTokens: number | undefined;
  rest: Record<string, unknown>;
  signal: AbortSignal | undefined;
}

/**
 * Anthropic's Messages API as a {@link Provider}. Build it through
 * `createAI().getProvider()` or `createProvider()`.
 *
 * `completion()` returns the OpenAI chat-completion shape; `stream()` yields
 * `{type: "text", text}` events in order and `{type: "usage", usage}` last.
 * Wrong arguments (`TypeError`) reject the promise of `completion()` and
 * throw at the call of `stream()`, before any request; service failures are
 * `APIError` subclasses: 401/403 `AuthenticationError`, 404 `NotFoundError`
 * naming the model, 413 and "prompt is too long" `ContextLengthError`, 429
 * `RateLimitError` and 529 (overloaded) a retryable `APIError`, both retried
 * as `retry-after` says; a stream's `error` event is a
 * `StreamInterruptedError` (overloaded, internal error) or an `APIError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider } from "../mod.ts";
 * const provider = createProvider({ provider: "anthropic:claude-sonnet-4-5", api_key: "sk-ant-x" });
 * await assert.rejects(provider.completion({ messages: [] }), TypeError);
 * assert.throws(() => provider.stream({ messages: [], seed: 1 }), TypeError);
 * ```
 */
export class AnthropicProvider implements Provider {
  /** The resolved configuration (secrets masked when printed). */
  readonly config: AnthropicConfig;

  /** Builds the provider from a resolved config. */
  constructor(config: AnthropicConfig) {
    this.config = config;
    guardSecrets(this.config);
    const headers = config.headers;
    if (headers !== undefined) {
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
   * The structured-output strategy `completeObject()` uses for `model`:
   * `structured_output`, else `"json_schema"` for the models that have
   * structured outputs and `"tool"` for the others.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { type AnthropicProvider, createProvider } from "../mod.ts";
   * const provider = createProvider(
   *   { provider: "anthropic", model: "claude-sonnet-4-5", api_key: "sk-ant-test" },
   * ) as AnthropicProvider;
   * assert.equal(provider.strategyFor(), "json_schema"); // Claude Sonnet 4.5 has structured outputs
   * assert.equal(provider.strategyFor("claude-3-5-haiku-latest"), "tool");
   * ```
   */
  strategyFor(model: string = this.config.model): AnthropicStrategy {
    return this.config.structuredOutput ??
      (hasNativeStructuredOutput(model) ? "json_schema" : "tool");
  }

  /**
   * Sends the messages; resolves to the OpenAI chat-completion shape. Wrong
   * arguments reject the promise with a `TypeError`.
   *
   * @example Wrong arguments reject the promise, before any request
   * ```ts
   * import assert from "node:assert/strict";
   * import { type AnthropicProvider, createProvider } from "../mod.ts";
   * const provider = createProvider(
   *   { provider: "anthropic", model: "claude-sonnet-4-5", api_key: "sk-ant-test" },
   * ) as AnthropicProvider;
   * await assert.rejects(provider.completion({ messages: [] }), TypeError);
   * ```
   */
  async completion(options: CompletionOptions): Promise<ChatCompletion> {
    const call = this.#check(options, "completion");
    const request = await this.#request(call, undefined, 0);
    return toCompletion(await createMessage(this.#settings(), request));
  }

  /**
   * Streams the answer: text events, the finish reason, then usage. Wrong arguments throw a
   * `TypeError` at the call.
   *
   * @example Wrong arguments throw at the call, before any request
   * ```ts
   * import assert from "node:assert/strict";
   * import { type AnthropicProvider, createProvider } from "../mod.ts";
   * const provider = createProvider(
   *   { provider: "anthropic", model: "claude-sonnet-4-5", api_key: "sk-ant-test" },
   * ) as AnthropicProvider;
   * assert.throws(
   *   () => provider.stream({ messages: [{ role: "user", content: "Hi" }], seed: 1 }),
   *   TypeError,
   * );
   * ```
   */
  stream(options: CompletionOptions): AsyncIterable<ProviderStreamEvent> {
    const call = this.#check(options, "stream");
    return streamMessage(this.#settings(), () => this.#request(call, undefined, 0), call.signal);
  }

  /**
   * Asks for an answer that follows `schema` (see {@link AnthropicProvider.strategyFor}
   * for the strategy): Anthropic's structured outputs, a forced tool whose
   * `input_schema` is the schema, or the schema in the prompt. A schema
   * outside the structured-outputs subset (an open object, `oneOf`...) goes
   * the tool way. The answer is checked and repaired once (for a tool, the
   * repair is a `tool_result` with `is_error` listing the issues); see
   * {@link Provider.completeObject}.
   *
   * @example A schema that is not an object is refused before any request
   * ```ts
   * import assert from "node:assert/strict";
   * import { type AnthropicProvider, createProvider } from "../mod.ts";
   * const provider = createProvider(
   *   { provider: "anthropic", model: "claude-sonnet-4-5", api_key: "sk-ant-test" },
   * ) as AnthropicProvider;
   * await assert.rejects(
   *   provider.completeObject({
   *     messages: [{ role: "user", content: "A title" }],
   *     schema: [] as never,
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
    const call = this.#check(
      {
        ...args.options,
        messages: args.messages,
        ...(args.model ? { model: args.model } : {}),
        ...(args.signal ? { signal: args.signal } : {}),
      },
      "completeObject",
    );
    const schema = args.schema.json;
    const { repairText, runStructured, schemaInstruction, wireSchema } = await loadEngine();
    let strategy = this.strategyFor(call.model);
    const wrapped = strategy !== "prompt" && !hasObjectRoot(schema);
    const sent = wrapped ? wrapRoot(schema) : schema;
    let extra: Record<string, unknown> = {};
    let extraSchema: JSONSchema | undefined = sent;
    if (strategy === "json_schema") {
      const wire = wireSchema(sent, "anthropic");
      if (wire.strict) {
        extra = { output_config: { format: { type: "json_schema", schema: wire.schema } } };
        extraSchema = wire.schema;
      } else {
        strategy = "tool";
      }
    }
    if (strategy === "tool") {
      extra = {
        tools: [{
          name: args.name,
          description: "Give your answer as this tool's input, following its input schema.",
          input_schema: sent,
        }],
        tool_choice: { type: "tool", name: args.name },
      };
    }
    // What the window budget counts: the messages, and the instruction when it is sent.
    let counted: ChatMessage[] = call.messages;
    if (strategy === "prompt") {
      extraSchema = undefined;
      const instruction = schemaInstruction(schema);
      call.system = call.system === undefined ? instruction : `${instruction}\n\n${call.system}`;
      counted = [{ role: "system", content: instruction }, ...call.messages];
    }
    const schemaTokens = extraSchema === undefined
      ? 0
      : await countSchemaTokens(extraSchema, call.model);
    const settings = this.#settings();
    const { scrubText, serviceLabel } = await loadClient();
    let lastToolUse: AnthropicToolUseBlock | undefined;
    return await runStructured<T>({
      schema: args.schema,
      name: args.name,
      strategy,
      wrapped,
      scrub: (text) => scrubText(text, settings),
      label: serviceLabel(settings),
      labels: { provider: this.provider, model: call.model },
      ask: async (repair) => {
        const turns = [
          ...call.turns,
          ...repairTurns(repair, lastToolUse, repairText),
        ];
        // The repair request's max_tokens leaves room for the refused answer and the issues.
        const messages: ChatMessage[] = repair === undefined ? counted : [
          ...counted,
          {
            role: "assistant",
            content: lastToolUse ? JSON.stringify(lastToolUse.input) ?? "" : repair.answer.text,
          },
          { role: "user", content: repairText(repair.issues) },
        ];
        const request = await this.#request({ ...call, turns, messages }, extra, schemaTokens);
        const message = await createMessage(settings, request);
        const truncated = message.stop_reason === "max_tokens";
        const usage = message.usage && toTokenUsage(message.usage);
        lastToolUse = strategy === "tool"
          ? message.content.find((block): block is AnthropicToolUseBlock =>
            block.type === "tool_use" && block.name === args.name
          )
          : undefined;
        if (lastToolUse) {
          return {
            answer: { text: JSON.stringify(lastToolUse.input) ?? "", value: lastToolUse.input },
            usage,
          };
        }
        return { answer: { text: messageText(message), truncated }, usage };
      },
    });
  }

  /** Checks a call's arguments and turns them into Anthropic's shapes (all at the call). */
  #check(options: CompletionOptions, method: string): CheckedCall {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${method}() takes an options object with messages`);
    }
    // metadata is for usage events and LIMITS: checked here, never sent (the API's own
    // metadata takes only user_id, which the `user` option sets).
    const { messages, signal, model, metadata, ...chatOptions } = options;
    checkCallMetadata(metadata, method);
    checkMessages(messages);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError("signal must be an AbortSignal when given");
    }
    if (model !== undefined && (typeof model !== "string" || model.trim() === "")) {
      throw new TypeError("model must be a non-empty string when given");
    }
    if ("stream" in chatOptions || "stream_options" in chatOptions) {
      throw new TypeError(
        `${method}() does not take stream or stream_options: call stream() to stream`,
      );
    }
    const conversation = toConversation(messages);
    if (conversation.messages.length === 0) {
      throw new TypeError(
        `${method}() needs a user message: the Messages API takes system text only beside one`,
      );
    }
    const { maxTokens, rest } = toAnthropicOptions(checkOptionsData(chatOptions, method), method);
    return {
      model: model ?? this.config.model,
      messages,
      system: conversation.system,
      turns: conversation.messages,
      maxTokens,
      rest,
      signal,
    };
  }

  /** The request body, with `max_tokens` from the call or from the budget. */
  async #request(
    call: CheckedCall,
    extra: Record<string, unknown> | undefined,
    schemaTokens: number,
  ): Promise<MessagesRequest> {
    const maxTokens = call.maxTokens ?? await defaultMaxTokens(call, this.provider, schemaTokens);
    const body: MessagesRequest["body"] = {
      ...call.rest,
      ...extra,
      model: call.model,
      max_tokens: maxTokens,
      messages: call.turns,
    };
    if (call.system !== undefined) body.system = call.system;
    return call.signal ? { body, signal: call.signal } : { body };
  }

  #settings(): AnthropicSettings {
    const config = this.config;
    const settings: AnthropicSettings = {
      baseURL: config.baseURL,
      version: config.apiVersion,
      timeoutMs: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
      provider: config.provider,
    };
    if (config.apiKey !== undefined) settings.apiKey = config.apiKey;
    if (config.headers !== undefined) settings.headers = { ...config.headers };
    if (config.service !== undefined) settings.service = config.service;
    if (config.maxAnswerChars !== undefined) settings.maxAnswerChars = config.maxAnswerChars;
    if (config.maxEventChars !== undefined) settings.maxEventChars = config.maxEventChars;
    return settings;
  }
}

function tokenTable(model: string): number | undefined {
  try {
    return getDefaultTokenLimit(model);
  } catch {
    return undefined;
  }
}

/**
 * `max_tokens` when the call gives none: the model's output limit (else the
 * default) within what its known window leaves after the prompt and schema.
 */
async function defaultMaxTokens(
  call: CheckedCall,
  provider: string,
  schemaTokens: number,
): Promise<number> {
  const window = tokenTable(call.model);
  const ceiling = getMaxOutputTokens(call.model) === undefined
    ? DEFAULT_ANTHROPIC_MAX_TOKENS
    : undefined;
  if (window === undefined) return ceiling ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  return await answerBudget(call.messages, {
    modelId: call.model,
    tokenLimit: window,
    maxOutputTokens: ceiling,
    extraTokens: schemaTokens,
    hint: "shorten the prompt, or pass max_tokens to send it anyway",
    provider,
    signal: call.signal,
  });
}

/** The turns of a repair request: the refused answer and what was wrong with it. */
function repairTurns(
  repair: Repair | undefined,
  toolUse: AnthropicToolUseBlock | undefined,
  repairText: (issues: Repair["issues"]) => string,
): AnthropicTurn[] {
  if (repair === undefined) return [];
  const issues = repairText(repair.issues);
  if (toolUse !== undefined) {
    return [
      { role: "assistant", content: [toolUse] },
      {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: toolUse.id,
          is_error: true,
          content: issues,
        }],
      },
    ];
  }
  return [
    { role: "assistant", content: repair.answer.text === "" ? "(no answer)" : repair.answer.text },
    { role: "user", content: issues },
  ];
}

/** An answer in the OpenAI chat-completion shape. */
function toCompletion(message: AnthropicMessage): ChatCompletion {
  const completion: ChatCompletion = {
    id: message.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: message.model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: messageText(message) },
      finish_reason: finishReason(message.stop_reason),
    }],
  };
  if (message.usage) {
    const ours = toTokenUsage(message.usage);
    // raw: the counts in the OpenAI wire format, with Anthropic's own fields
    // (input_tokens, cache_creation_input_tokens, cache_read_input_tokens...).
    completion.usage = {
      ...ours,
      raw: {
        prompt_tokens: ours.inputTokens,
        completion_tokens: ours.outputTokens,
        total_tokens: ours.totalTokens,
        ...message.usage,
      },
    };
  }
  return completion;
}
