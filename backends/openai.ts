/**
 * The OpenAI backend: text completion and image description through the
 * OpenAI chat completions API, or any server that speaks it (a proxy, a
 * gateway, a local server) via `API_BASE`.
 *
 * @example
 * ```ts
 * import { createAI, type OpenAIBackend } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "wagtail_ai.ai.openai.OpenAIBackend",
 *       CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test" },
 *     },
 *   },
 * });
 * const backend = ai.getAIBackend("default") as OpenAIBackend;
 * assert.equal(backend.config.tokenLimit, 128_000);
 * assert.equal(backend.config.apiBase, "https://api.openai.com/v1");
 * assert.ok(!JSON.stringify(backend).includes("sk-test"));
 * ```
 *
 * @module
 */
import type { ChatMessage, ChatOptions, TokenUsage } from "../chat.ts";
import { MissingAPIKeyError } from "../errors.ts";
import {
  chatCompletion,
  type ChatRequest,
  chatStream,
  type ClientSettings,
  DEFAULT_MAX_ANSWER_CHARS,
  DEFAULT_MAX_EVENT_CHARS,
  hostOf,
} from "../_openai/mod.ts";
import { getEnv } from "../_env.ts";
import { optionalChoice, optionalInteger, optionalSecret, optionalUrl } from "../_validate.ts";
import { type BudgetOptions, estimateAnswerUsage } from "../_budget.ts";
import { loadEngine, resolveSchema } from "../_structured/mod.ts";
import type { ChatStructuredOutputStrategy, ObjectCompletion } from "../structured.ts";
import {
  type AnswerLimit,
  answerLimit,
  answerLimitBySize,
  answerLimitOption,
  lowerCap,
  splitAnswerCap,
} from "./_budget.ts";
import { checkImageSize, DEFAULT_MAX_IMAGE_BYTES } from "../_image.ts";
import { checkCallOptions, completeAnswerOf, imageMessage, promptMessages } from "./_messages.ts";
import { BaseBackend, configWhere } from "./base.ts";
import {
  AIResponse,
  type CompleteAnswer,
  type RequestPlan,
  type ResponseEvent,
} from "./response.ts";
import { deferredStream, PreparedRequest } from "./_prepared.ts";
import type {
  BaseBackendConfig,
  ConfigContext,
  DescribeImageOptions,
  PromptForObjectOptions,
  PromptWithContextOptions,
} from "./types.ts";

/**
 * The default `API_BASE`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_OPENAI_API_BASE } from "./openai.ts";
 * assert.equal(DEFAULT_OPENAI_API_BASE, "https://api.openai.com/v1");
 * ```
 */
export const DEFAULT_OPENAI_API_BASE = "https://api.openai.com/v1";
/**
 * The default `TIMEOUT_SECONDS`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * import { DEFAULT_TIMEOUT_SECONDS, type OpenAIBackend } from "./openai.ts";
 * const backend = createAI({
 *   BACKENDS: {
 *     default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test" } },
 *   },
 * }).getAIBackend("default");
 * assert.equal((backend as OpenAIBackend).config.timeoutSeconds, DEFAULT_TIMEOUT_SECONDS);
 * ```
 */
export const DEFAULT_TIMEOUT_SECONDS = 15;
/**
 * The default `MAX_RETRIES`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * import { DEFAULT_MAX_RETRIES, type OpenAIBackend } from "./openai.ts";
 * const backend = createAI({
 *   BACKENDS: {
 *     default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test" } },
 *   },
 * }).getAIBackend("default");
 * assert.equal((backend as OpenAIBackend).config.maxRetries, DEFAULT_MAX_RETRIES);
 * ```
 */
export const DEFAULT_MAX_RETRIES = 2;
const STRATEGIES: readonly ChatStructuredOutputStrategy[] = [
  "json_schema",
  "json_object",
  "prompt",
];

/**
 * The OpenAI backend's config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * import type { OpenAIBackend, OpenAIBackendConfig } from "./openai.ts";
 * const backend = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "openai",
 *       CONFIG: {
 *         MODEL_ID: "gpt-4o-mini",
 *         API_BASE: "http://127.0.0.1:8000/v1",
 *         TIMEOUT_SECONDS: 30,
 *       },
 *     },
 *   },
 * }).getAIBackend("default") as OpenAIBackend;
 * const config: OpenAIBackendConfig = backend.config;
 * assert.equal(config.apiBase, "http://127.0.0.1:8000/v1");
 * assert.equal(config.timeoutSeconds, 30);
 * assert.equal(config.structuredOutput, "json_schema");
 * ```
 */
export interface OpenAIBackendConfig extends BaseBackendConfig {
  /** `TIMEOUT_SECONDS`: how long one request attempt may take (default 15). */
  readonly timeoutSeconds: number;
  /** `OPENAI_API_KEY` from `CONFIG`, when set (it beats the environment). */
  readonly openaiApiKey: string | undefined;
  /** `API_BASE` (default `https://api.openai.com/v1`). */
  readonly apiBase: string;
  /** `MAX_RETRIES`: retries of a failed request (default 2). */
  readonly maxRetries: number;
  /** `MAX_OUTPUT_TOKENS`: the most answer tokens to ask for, when set. */
  readonly maxOutputTokens: number | undefined;
  /** `MAX_IMAGE_BYTES`: the largest image to send (default 20 MB). */
  readonly maxImageBytes: number;
  /** `MAX_ANSWER_CHARS`: the longest answer, in characters (default 16 MiB). */
  readonly maxAnswerChars: number;
  /** `MAX_EVENT_CHARS`: the longest line or event of a stream, in characters (default 1 MiB). */
  readonly maxEventChars: number;
  /**
   * `STRUCTURED_OUTPUT`: how `promptForObject()` makes the answer follow the
   * schema: `"json_schema"` (default), `"json_object"` or `"prompt"` (for a
   * server at `API_BASE` without `response_format`).
   */
  readonly structuredOutput: ChatStructuredOutputStrategy;
}

/**
 * Text completion and image description with OpenAI models.
 *
 * - `promptWithContext` sends system(prePrompt), user(context) and, when
 *   given, system(postPrompt), each as text content parts.
 * - `describeImage` sends one user message with the prompt and the image as a
 *   data URL; the type comes from the bytes (PNG, JPEG, GIF or WebP; anything
 *   else is an `InvalidImageError`, whatever the file name says).
 * - The answer is capped to what the context window leaves after the prompt
 *   (and to the model's maximum output, to `MAX_OUTPUT_TOKENS`, and to a
 *   per-call `max_tokens` within it); a prompt over the window is a
 *   `ContextLengthError` before any request.
 * - Per-call `options` (`temperature`, `seed`...) are sent with the request.
 * - Iterating a response streams; `text()` alone makes one plain request.
 *
 * @example
 * ```ts
 * import { createAI } from "../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const ai = createAI({
 *   BACKENDS: {
 *     vision: {
 *       CLASS: "openai",
 *       CONFIG: { MODEL_ID: "gpt-4-vision-preview", TOKEN_LIMIT: 300, OPENAI_API_KEY: "sk-test" },
 *     },
 *   },
 * });
 * assert.equal(ai.getAIBackend("vision").config.tokenLimit, 300);
 * ```
 */
export class OpenAIBackend extends BaseBackend<OpenAIBackendConfig> {
  /** The `CONFIG` keys of the OpenAI backend. */
  static override configKeys: readonly string[] = [
    ...BaseBackend.configKeys,
    "TIMEOUT_SECONDS",
    "OPENAI_API_KEY",
    "API_BASE",
    "MAX_RETRIES",
    "MAX_OUTPUT_TOKENS",
    "MAX_IMAGE_BYTES",
    "MAX_ANSWER_CHARS",
    "MAX_EVENT_CHARS",
    "STRUCTURED_OUTPUT",
  ];

  /**
   * Parses `CONFIG`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ImproperlyConfigured } from "../mod.ts";
   * import { OpenAIBackend } from "./openai.ts";
   * import {
   *   type ConfigContext,
   *   RecursiveCharacterTextSplitter,
   *   TiktokenLengthCalculator,
   * } from "../mod.ts";
   * const context: ConfigContext = {
   *   alias: "default",
   *   textSplitterClass: RecursiveCharacterTextSplitter,
   *   textSplitterLengthCalculatorClass: TiktokenLengthCalculator,
   * };
   * const config = OpenAIBackend.parseConfig({ MODEL_ID: "gpt-4o", MAX_RETRIES: 0 }, context);
   * assert.equal(config.maxRetries, 0);
   * assert.throws(
   *   () => OpenAIBackend.parseConfig({ MODEL_ID: "gpt-4o", TIMEOUT_SECONDS: "soon" }, context),
   *   ImproperlyConfigured,
   * );
   * ```
   */
  static override parseConfig(
    raw: Record<string, unknown>,
    context: ConfigContext,
  ): OpenAIBackendConfig {
    const base = super.parseConfig(raw, context);
    const where = configWhere(context.alias);
    return {
      ...base,
      timeoutSeconds: optionalInteger(raw.TIMEOUT_SECONDS, "TIMEOUT_SECONDS", where, {
        min: 1,
        max: 3600,
      }) ?? DEFAULT_TIMEOUT_SECONDS,
      openaiApiKey: optionalSecret(raw.OPENAI_API_KEY, "OPENAI_API_KEY", where),
      apiBase: optionalUrl(raw.API_BASE, "API_BASE", where) ?? DEFAULT_OPENAI_API_BASE,
      maxRetries: optionalInteger(raw.MAX_RETRIES, "MAX_RETRIES", where, { min: 0, max: 10 }) ??
        DEFAULT_MAX_RETRIES,
      maxOutputTokens: optionalInteger(raw.MAX_OUTPUT_TOKENS, "MAX_OUTPUT_TOKENS", where, {
        min: 1,
      }),
      maxImageBytes: optionalInteger(raw.MAX_IMAGE_BYTES, "MAX_IMAGE_BYTES", where, { min: 1 }) ??
        DEFAULT_MAX_IMAGE_BYTES,
      maxAnswerChars: optionalInteger(raw.MAX_ANSWER_CHARS, "MAX_ANSWER_CHARS", where, {
        min: 1,
      }) ?? DEFAULT_MAX_ANSWER_CHARS,
      maxEventChars: optionalInteger(raw.MAX_EVENT_CHARS, "MAX_EVENT_CHARS", where, { min: 1 }) ??
        DEFAULT_MAX_EVENT_CHARS,
      structuredOutput:
        optionalChoice(raw.STRUCTURED_OUTPUT, "STRUCTURED_OUTPUT", where, STRATEGIES) ??
          "json_schema",
    };
  }

  /**
   * The API key: `OPENAI_API_KEY` in `CONFIG`, then the `OPENAI_API_KEY`
   * environment variable (unset when env permission is denied).
   *
   * @throws {MissingAPIKeyError} naming both places.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * import type { OpenAIBackend } from "./openai.ts";
   * const backend = createAI({
   *   BACKENDS: {
   *     default: {
   *       CLASS: "openai",
   *       CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test" },
   *     },
   *   },
   * }).getAIBackend("default");
   * assert.equal((backend as OpenAIBackend).getOpenAIApiKey(), "sk-test"); // CONFIG beats the env
   * ```
   */
  getOpenAIApiKey(): string {
    const key = this.config.openaiApiKey ?? getEnv("OPENAI_API_KEY");
    if (key !== undefined && key !== "") return key;
    throw new MissingAPIKeyError(
      `No OpenAI API key for backend "${this.alias}": set OPENAI_API_KEY in ${
        configWhere(this.alias)
      } or the OPENAI_API_KEY environment variable`,
    );
  }

  /**
   * Completes text: system(prePrompt), user(context), system(postPrompt).
   *
   * @example Nothing is sent until the answer is read; wrong arguments throw at the call
   * ```ts
   * import assert from "node:assert/strict";
   * import { AIResponse, createAI } from "../mod.ts";
   * const backend = createAI({
   *   BACKENDS: {
   *     default: {
   *       CLASS: "openai",
   *       CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test" },
   *     },
   *   },
   * }).getAIBackend("default");
   * const answer = backend.promptWithContext({ prePrompt: "Correct this:", context: "Helo" });
   * assert.ok(answer instanceof AIResponse); // read it (text() or for await) to send the request
   * assert.throws(
   *   () => backend.promptWithContext({ prePrompt: "Correct this:", context: "" }),
   *   TypeError,
   * );
   * ```
   */
  promptWithContext(options: PromptWithContextOptions): AIResponse {
    this.checkPromptOptions(options);
    const messages = promptMessages(options);
    const callOptions = checkCallOptions(options.options, "promptWithContext");
    return this.#respond(messages, callOptions, options.signal);
  }

  /**
   * Describes an image: the prompt and the image as a data URL in one user message.
   *
   * @example Nothing is sent until the answer is read; wrong arguments throw at the call
   * ```ts
   * import assert from "node:assert/strict";
   * import { AIResponse, createAI } from "../mod.ts";
   * const backend = createAI({
   *   BACKENDS: {
   *     default: {
   *       CLASS: "openai",
   *       CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test" },
   *     },
   *   },
   * }).getAIBackend("default");
   * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
   * assert.ok(backend.describeImage({ image: png, prompt: "Alt text" }) instanceof AIResponse);
   * assert.throws(() => backend.describeImage({ image: png, prompt: "" }), TypeError);
   * ```
   */
  override describeImage(options: DescribeImageOptions): AIResponse {
    this.checkImageOptions(options);
    checkImageSize(options.image, this.config.maxImageBytes, options.fileName);
    const maxBytes = this.config.maxImageBytes;
    return this.#respond(
      async () => [await imageMessage(options, maxBytes)],
      checkCallOptions(options.options, "describeImage"),
      options.signal,
    );
  }

  /**
   * Asks for an answer that follows `schema`: system(prePrompt) and
   * user(context), with `response_format: {type: "json_schema"}` (strict
   * when the schema fits OpenAI's strict subset; `STRUCTURED_OUTPUT` picks
   * JSON mode or the schema in the prompt instead), the answer checked and
   * repaired once. The schema's tokens count in the window check; the answer
   * is capped as for `promptWithContext`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const backend = createAI({
   *   BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x" } } },
   * }).getBackend();
   * // Wrong arguments throw at the call, before any request:
   * assert.throws(
   *   () => backend.promptForObject({ prePrompt: "Title:", context: "A page", schema: "object" as never }),
   *   TypeError,
   * );
   * ```
   *
   * @throws {TypeError} for wrong arguments (a schema that is not an object included).
   * @throws {MissingAPIKeyError} when no key is found.
   */
  override promptForObject<T = unknown>(
    options: PromptForObjectOptions<T>,
  ): Promise<ObjectCompletion<T>> {
    const checked = this.checkObjectOptions(options);
    const schema = resolveSchema(options.schema);
    const settings = this.#clientSettings();
    const config = this.config;
    const messages = promptMessages({ prePrompt: options.prePrompt, context: options.context });
    const { cap, rest } = splitAnswerCap(checked.options);
    const signal = options.signal;
    const alias = this.alias;
    return (async () => {
      signal?.throwIfAborted();
      const limit = await answerLimitOption(messages, {
        modelId: config.modelId,
        tokenLimit: config.tokenLimit,
        maxOutputTokens: lowerCap(cap, config.maxOutputTokens),
        schema: checked.jsonSchema,
        backend: alias,
        provider: "openai",
        signal,
      });
      const { openAIObject } = await loadEngine();
      return await openAIObject<T>(settings, {
        model: config.modelId,
        messages,
        schema,
        name: checked.name,
        strategy: config.structuredOutput,
        options: { ...rest, ...limit },
        signal,
      });
    })();
  }

  #respond(
    // The messages, or (an image to read first) how to build them.
    source: ChatMessage[] | (() => Promise<ChatMessage[]>),
    callOptions: ChatOptions | undefined,
    signal?: AbortSignal,
  ): AIResponse {
    const settings = this.#clientSettings();
    const config = this.config;
    const alias = this.alias;
    // A per-call cap stays within MAX_OUTPUT_TOKENS; the other per-call options are sent as they are.
    const { cap, rest } = splitAnswerCap(callOptions);
    const maxOutputTokens = lowerCap(cap, config.maxOutputTokens);
    const noOptions = callOptions === undefined;
    // Counted before sending; kept for an estimate when the service reports no usage.
    let promptTokens: number | undefined;
    let plan: RequestPlan | undefined;
    const finish = (
      messages: ChatMessage[],
      limit: AnswerLimit,
      callSignal: AbortSignal | undefined,
    ): ChatRequest => {
      promptTokens = limit.promptTokens;
      plan = {
        model: config.modelId,
        promptTokens: promptTokens ?? 0,
        maxOutputTokens: limit.budget,
      };
      const built: ChatRequest = {
        model: config.modelId,
        messages,
        options: noOptions ? limit.option : { ...rest, ...limit.option },
      };
      if (callSignal) built.signal = callSignal;
      return built;
    };
    const limitOf = (
      messages: ChatMessage[],
      callSignal: AbortSignal | undefined,
      prepared: boolean,
    ): ChatRequest | Promise<ChatRequest> => {
      const budget: BudgetOptions = {
        modelId: config.modelId,
        tokenLimit: config.tokenLimit,
        maxOutputTokens,
        backend: alias,
        provider: "openai",
        signal: callSignal,
        // LIMITS reserve the exact prompt; a send alone counts it only near the window.
        countPrompt: prepared,
      };
      // A prompt whose size alone proves that it fits: built at once, no promise between.
      const bySize = answerLimitBySize(messages, budget);
      if (bySize !== undefined) return finish(messages, bySize, callSignal);
      return answerLimit(messages, budget).then((limit) => finish(messages, limit, callSignal));
    };
    const request = (
      callSignal: AbortSignal | undefined,
      prepared: boolean,
    ): ChatRequest | Promise<ChatRequest> => {
      // An aborted signal wins over any other outcome, as with fetch.
      callSignal?.throwIfAborted();
      if (typeof source !== "function") return limitOf(source, callSignal, prepared);
      return source().then((messages) => {
        callSignal?.throwIfAborted();
        return limitOf(messages, callSignal, prepared);
      });
    };
    // Built once: by prepare() (LIMITS reserve before sending), else by the send.
    const requests = new PreparedRequest(request);
    return new AIResponse(
      {
        answeredBy: { alias, provider: "openai", model: config.modelId, backend: alias },
        async prepare(callSignal?: AbortSignal): Promise<RequestPlan> {
          await requests.prepare(callSignal);
          return plan!;
        },
        stream(callSignal?: AbortSignal): AsyncIterable<ResponseEvent> {
          return deferredStream(async () => {
            const taken = requests.take(callSignal);
            return chatStream(settings, taken instanceof Promise ? await taken : taken);
          });
        },
        async complete(callSignal?: AbortSignal): Promise<CompleteAnswer> {
          const taken = requests.take(callSignal);
          return completeAnswerOf(
            await chatCompletion(settings, taken instanceof Promise ? await taken : taken),
          );
        },
        estimateUsage(text: string): Promise<TokenUsage> {
          const messages = typeof source === "function" ? source : () => Promise.resolve(source);
          return estimateAnswerUsage(config.modelId, promptTokens, messages, text);
        },
      },
      signal === undefined ? { maxChars: config.maxAnswerChars } : {
        maxChars: config.maxAnswerChars,
        signal,
      },
    );
  }

  /** The client settings of the last request (the client cache finds its client by this object). */
  #settings: ClientSettings | undefined;

  /** The client settings, built again only when the key changed (OPENAI_API_KEY is read each time). */
  #clientSettings(): ClientSettings {
    const apiKey = this.getOpenAIApiKey();
    if (this.#settings?.apiKey === apiKey) return this.#settings;
    return this.#settings = this.#buildClientSettings(apiKey);
  }

  #buildClientSettings(apiKey: string): ClientSettings {
    return {
      apiKey,
      baseURL: this.config.apiBase,
      timeoutMs: this.config.timeoutSeconds * 1000,
      maxRetries: this.config.maxRetries,
      provider: "openai",
      backend: this.alias,
      maxAnswerChars: this.config.maxAnswerChars,
      maxEventChars: this.config.maxEventChars,
      // Errors name the service that answered: a proxy or a local server by its host.
      service: this.config.apiBase === DEFAULT_OPENAI_API_BASE
        ? "openai"
        : hostOf(this.config.apiBase),
    };
  }
}
