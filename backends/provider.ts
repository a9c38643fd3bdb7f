/**
 * The provider backend: the {@link Backend} interface running on a provider
 * from `PROVIDERS`, so code written against backends (text splitting,
 * `promptWithContext`, `describeImage`) keeps working after the move to
 * providers. `migrateSettings()` writes these backends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, ProviderBackend } from "../mod.ts";
 * const ai = createAI({
 *   PROVIDERS: { default: { provider: "ollama", model: "llama3.1:8b" } },
 *   BACKENDS: { default: { CLASS: "provider", CONFIG: { PROVIDER: "default", TOKEN_LIMIT: 8192 } } },
 * });
 * const backend = ai.getAIBackend("default") as ProviderBackend;
 * assert.equal(backend.config.modelId, "llama3.1:8b");
 * assert.equal(backend.getProvider().provider, "ollama");
 * ```
 *
 * @module
 */
import type { ChatMessage, ChatOptions, TokenUsage } from "../chat.ts";
import { ImproperlyConfigured, InvalidProviderError } from "../errors.ts";
import type { CompletionOptions, Provider } from "../providers/types.ts";
import { OpenAICompatibleProvider } from "../providers/openai_compatible.ts";
import { describeType, optionalInteger, optionalString, rejectUnknownKeys } from "../_validate.ts";
import { estimateAnswerUsage } from "../_budget.ts";
import type { ObjectCompletion } from "../structured.ts";
import { answerLimit, answerLimitOption, lowerCap, splitAnswerCap } from "./_budget.ts";
import { checkImageSize, DEFAULT_MAX_IMAGE_BYTES } from "../_image.ts";
import {
  checkCallOptions,
  checkChatOptions,
  completeAnswerOf,
  imageMessage,
  promptMessages,
} from "./_messages.ts";
import { BaseBackend, configWhere } from "./base.ts";
import {
  AIResponse,
  type AIResponseOptions,
  type CompleteAnswer,
  type RequestPlan,
  type ResponseEvent,
  type ResponseSource,
} from "./response.ts";
import { deferredStream, PreparedRequest } from "./_prepared.ts";
import type {
  BackendContext,
  BaseBackendConfig,
  ConfigContext,
  DescribeImageOptions,
  PromptForObjectOptions,
  PromptWithContextOptions,
} from "./types.ts";

/**
 * How `promptWithContext` turns its arguments into messages:
 *
 * - `"openai"` (default), as the OpenAI backend: system(prePrompt),
 *   user(context), and system(postPrompt) when given, each content as one
 *   text part.
 * - `"llm"`, as the LLM backend: one user message with
 *   `[prePrompt, context, postPrompt]` joined by "\n" (string content; an
 *   empty postPrompt is left out). The requests are the LLM backend's too:
 *   no answer cap unless `MAX_OUTPUT_TOKENS` is set, and an answer read
 *   whole by `text()` is streamed, so settings moved by `migrateSettings()`
 *   send the same requests as before.
 *
 * In both, `SYSTEM_PROMPT` (when not empty) is sent first as a system message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type PromptStyle, type ProviderBackend } from "../mod.ts";
 * const PROMPT_STYLE: PromptStyle = "llm";
 * const ai = createAI({
 *   PROVIDERS: { default: { provider: "openai", model: "gpt-4o-mini", api_key: "sk-test" } },
 *   BACKENDS: { default: { CLASS: "provider", CONFIG: { PROMPT_STYLE } } },
 * });
 * assert.equal((ai.getBackend() as ProviderBackend).config.promptStyle, "llm");
 * ```
 */
export type PromptStyle = "openai" | "llm";

/**
 * The provider backend's config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type ProviderBackend, type ProviderBackendConfig } from "../mod.ts";
 * const ai = createAI({
 *   PROVIDERS: { local: { provider: "ollama", model: "llama3.1:8b" } },
 *   BACKENDS: {
 *     default: { CLASS: "provider", CONFIG: { PROVIDER: "local", SYSTEM_PROMPT: "Be brief." } },
 *   },
 * });
 * const config: ProviderBackendConfig = (ai.getBackend() as ProviderBackend).config;
 * assert.equal(config.providerAlias, "local");
 * assert.equal(config.modelId, "llama3.1:8b"); // the provider's model
 * assert.equal(config.systemPrompt, "Be brief.");
 * ```
 */
export interface ProviderBackendConfig extends BaseBackendConfig {
  /** `PROVIDER`: the alias in `PROVIDERS` (default "default"). */
  readonly providerAlias: string;
  /** `PROMPT_STYLE` (default "openai"). */
  readonly promptStyle: PromptStyle;
  /** `SYSTEM_PROMPT`: a system message sent first with every request. */
  readonly systemPrompt: string | undefined;
  /** `OPTIONS`: chat options sent with every request (`temperature`...). */
  readonly options: Readonly<ChatOptions> | undefined;
  /** `MAX_OUTPUT_TOKENS`: the most answer tokens to ask for, when set. */
  readonly maxOutputTokens: number | undefined;
  /** `MAX_IMAGE_BYTES`: the largest image to send (default 20 MB). */
  readonly maxImageBytes: number;
}

const MAX_HINT = " (use MAX_OUTPUT_TOKENS)";
const RESERVED_OPTIONS: Readonly<Record<string, string>> = {
  messages: "",
  model: "",
  signal: "",
  stream: "",
  stream_options: "",
  max_tokens: MAX_HINT,
  max_completion_tokens: MAX_HINT,
  n: " (one answer per request: text() reads one)",
};

function parseOptions(value: unknown, where: string): ChatOptions | undefined {
  if (value === undefined || value === null) return undefined;
  return checkChatOptions(value, {
    where: `OPTIONS in ${where}`,
    reserved: RESERVED_OPTIONS,
    error: ImproperlyConfigured,
  });
}

/**
 * A backend that sends its prompts to a provider (`CLASS: "provider"`).
 *
 * `CONFIG` keys:
 *
 * | key | meaning |
 * | --- | --- |
 * | `PROVIDER` | the alias in `PROVIDERS` (default "default") |
 * | `MODEL_ID` | the model to ask (default: the provider's `model`) |
 * | `TOKEN_LIMIT` | the context window (default: the model's known window) |
 * | `PROMPT_STYLE` | `"openai"` (default) or `"llm"`: see {@link PromptStyle} |
 * | `SYSTEM_PROMPT` | a system message sent first |
 * | `OPTIONS` | chat options sent with every request (`temperature`, `top_p`...) |
 * | `MAX_OUTPUT_TOKENS` | cap on the answer's tokens |
 * | `MAX_IMAGE_BYTES` | the largest image to send (default 20 MB) |
 *
 * The answer is capped to what the context window leaves after the prompt
 * (with `PROMPT_STYLE: "llm"`, only by `MAX_OUTPUT_TOKENS`); a prompt over the
 * window is a `ContextLengthError` before any request. Per-call `options` go
 * over `OPTIONS`; a per-call `max_tokens` (or `max_completion_tokens`) caps
 * the answer within `MAX_OUTPUT_TOKENS`, the operator's ceiling.
 * `describeImage` sends one user message with the prompt text and the image
 * as a data URL (the type from the bytes: PNG, JPEG, GIF or WebP, else an
 * `InvalidImageError` whatever the file name says).
 * Text splitting is the base class's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * const ai = createAI({
 *   PROVIDERS: { default: { provider: "openai", model: "gpt-4o-mini", api_key: "sk-test" } },
 *   BACKENDS: { default: { CLASS: "provider", CONFIG: { PROMPT_STYLE: "llm" } } },
 * });
 * const backend = ai.getBackend();
 * assert.equal(backend.config.tokenLimit, 128_000);
 * const splitter = await backend.getTextSplitter();
 * assert.deepEqual(splitter.splitText("Short text."), ["Short text."]);
 * ```
 */
export class ProviderBackend extends BaseBackend<ProviderBackendConfig> {
  /** The `CONFIG` keys of the provider backend. */
  static override configKeys: readonly string[] = [
    ...BaseBackend.configKeys,
    "PROVIDER",
    "PROMPT_STYLE",
    "SYSTEM_PROMPT",
    "OPTIONS",
    "MAX_OUTPUT_TOKENS",
    "MAX_IMAGE_BYTES",
  ];

  /**
   * Parses `CONFIG`, building the provider to learn its model.
   *
   * @throws {ImproperlyConfigured} naming the key and the alias (for a
   * provider problem, the `PROVIDERS` entry).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, ImproperlyConfigured } from "../mod.ts";
   * const ai = createAI({
   *   PROVIDERS: { default: { provider: "ollama", model: "llama3.1:8b" } },
   *   // CONFIG as read from a settings file (not type-checked):
   *   BACKENDS: { default: { CLASS: "provider", CONFIG: JSON.parse(`{"PROMPT_STYLE": "chat"}`) } },
   * });
   * assert.throws(() => ai.getBackend(), ImproperlyConfigured); // PROMPT_STYLE ... must be "openai" or "llm"
   * ```
   */
  static override parseConfig(
    raw: Record<string, unknown>,
    context: ConfigContext,
  ): ProviderBackendConfig {
    const where = configWhere(context.alias);
    rejectUnknownKeys(raw, this.configKeys, where);
    const providerAlias = optionalString(raw.PROVIDER, "PROVIDER", where) ?? "default";
    const provider = providerFor(context, providerAlias);
    const modelId = optionalString(raw.MODEL_ID, "MODEL_ID", where) ?? provider.model;
    const tokenLimit = optionalInteger(raw.TOKEN_LIMIT, "TOKEN_LIMIT", where, { min: 1 }) ??
      this.defaultTokenLimit(modelId, context);
    const style = raw.PROMPT_STYLE ?? "openai";
    if (style !== "openai" && style !== "llm") {
      throw new ImproperlyConfigured(
        `PROMPT_STYLE in ${where} must be "openai" or "llm", got ${
          typeof style === "string" ? `"${style}"` : describeType(style)
        }`,
      );
    }
    let systemPrompt: string | undefined;
    if (raw.SYSTEM_PROMPT !== undefined && raw.SYSTEM_PROMPT !== null) {
      if (typeof raw.SYSTEM_PROMPT !== "string") {
        throw new ImproperlyConfigured(
          `SYSTEM_PROMPT in ${where} must be a string, got ${describeType(raw.SYSTEM_PROMPT)}`,
        );
      }
      systemPrompt = raw.SYSTEM_PROMPT;
    }
    return {
      modelId,
      tokenLimit,
      textSplitterClass: context.textSplitterClass,
      textSplitterLengthCalculatorClass: context.textSplitterLengthCalculatorClass,
      providerAlias,
      promptStyle: style,
      systemPrompt,
      options: parseOptions(raw.OPTIONS, where),
      maxOutputTokens: optionalInteger(raw.MAX_OUTPUT_TOKENS, "MAX_OUTPUT_TOKENS", where, {
        min: 1,
      }),
      maxImageBytes: optionalInteger(raw.MAX_IMAGE_BYTES, "MAX_IMAGE_BYTES", where, { min: 1 }) ??
        DEFAULT_MAX_IMAGE_BYTES,
    };
  }

  readonly #provider: Provider;

  /** Builds the backend; the provider comes from the context (`createAI()`). */
  constructor(config: ProviderBackendConfig, context: BackendContext) {
    super(config, context);
    this.#provider = providerFor(context, config.providerAlias);
  }

  /**
   * The provider this backend sends its prompts to.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, type ProviderBackend } from "../mod.ts";
   * const ai = createAI({
   *   PROVIDERS: { default: { provider: "mistral", model: "mistral-small-latest", api_key: "k" } },
   *   BACKENDS: { default: { CLASS: "provider", CONFIG: { TOKEN_LIMIT: 32000 } } },
   * });
   * const provider = (ai.getBackend() as ProviderBackend).getProvider();
   * assert.equal(provider.provider, "mistral");
   * assert.equal(provider.model, "mistral-small-latest");
   * ```
   */
  getProvider(): Provider {
    return this.#provider;
  }

  /**
   * Completes text; the messages follow `PROMPT_STYLE`.
   *
   * @example With a provider that answers from memory
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   createAI,
   *   type ProviderBackend,
   *   registerProvider,
   *   unregisterProvider,
   * } from "../mod.ts";
   * registerProvider("canned-prompt", (settings) => ({
   *   provider: "canned-prompt",
   *   model: settings.model,
   *   completion: () =>
   *     Promise.resolve({
   *       id: "c",
   *       object: "chat.completion",
   *       created: 0,
   *       model: settings.model,
   *       choices: [{
   *         index: 0,
   *         message: { role: "assistant", content: "Hello." },
   *         finish_reason: "stop",
   *       }],
   *     }),
   *   async *stream() {
   *     yield { type: "text", text: "Hello." };
   *   },
   * }));
   * const ai = createAI({
   *   PROVIDERS: {
   *     default: { provider: "canned-prompt", model: "house-1", context_window: 8000 },
   *   },
   *   BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
   * });
   * const backend = ai.getAIBackend("default") as ProviderBackend;
   * assert.equal(
   *   await backend.promptWithContext({ prePrompt: "Greet:", context: "me" }).text(),
   *   "Hello.",
   * );
   * unregisterProvider("canned-prompt");
   * ```
   */
  promptWithContext(options: PromptWithContextOptions): AIResponse {
    this.checkPromptOptions(options);
    const messages = this.#leading();
    if (this.config.promptStyle === "llm") {
      const parts = [options.prePrompt, options.context];
      if (options.postPrompt) parts.push(options.postPrompt);
      messages.push({ role: "user", content: parts.join("\n") });
    } else {
      messages.push(...promptMessages(options));
    }
    const callOptions = checkCallOptions(options.options, "promptWithContext");
    return this.#respond(() => Promise.resolve(messages), callOptions, options.signal);
  }

  /**
   * Describes an image: the prompt and the image as a data URL in one user message.
   *
   * @example With a provider that answers from memory
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   createAI,
   *   type ProviderBackend,
   *   registerProvider,
   *   unregisterProvider,
   * } from "../mod.ts";
   * registerProvider("canned-image", (settings) => ({
   *   provider: "canned-image",
   *   model: settings.model,
   *   completion: () =>
   *     Promise.resolve({
   *       id: "c",
   *       object: "chat.completion",
   *       created: 0,
   *       model: settings.model,
   *       choices: [{
   *         index: 0,
   *         message: { role: "assistant", content: "A green leaf." },
   *         finish_reason: "stop",
   *       }],
   *     }),
   *   async *stream() {
   *     yield { type: "text", text: "A green leaf." };
   *   },
   * }));
   * const ai = createAI({
   *   PROVIDERS: { default: { provider: "canned-image", model: "house-1", context_window: 8000 } },
   *   BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
   * });
   * const backend = ai.getAIBackend("default") as ProviderBackend;
   * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
   * assert.equal(
   *   await backend.describeImage({ image: png, prompt: "Alt text" }).text(),
   *   "A green leaf.",
   * );
   * unregisterProvider("canned-image");
   * ```
   */
  override describeImage(options: DescribeImageOptions): AIResponse {
    this.checkImageOptions(options);
    checkImageSize(options.image, this.config.maxImageBytes, options.fileName);
    const maxBytes = this.config.maxImageBytes;
    const leading = this.#leading();
    return this.#respond(
      async () => [...leading, await imageMessage(options, maxBytes)],
      checkCallOptions(options.options, "describeImage"),
      options.signal,
    );
  }

  /**
   * Asks the provider for an answer that follows `schema`
   * (`provider.completeObject()`: the strongest strategy the provider has),
   * with the messages of `PROMPT_STYLE` and `SYSTEM_PROMPT`, `OPTIONS` and the
   * per-call options. The schema's tokens count in the window check, and the
   * answer is capped as for `promptWithContext`.
   *
   * @throws {TypeError} for wrong arguments (a schema that is not an object included).
   *
   * @example A provider that answers from memory (its completeObject() is built on completion())
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   createAI,
   *   type ProviderBackend,
   *   registerProvider,
   *   unregisterProvider,
   * } from "../mod.ts";
   * registerProvider("canned-object", (settings) => ({
   *   provider: "canned-object",
   *   model: settings.model,
   *   completion: () =>
   *     Promise.resolve({
   *       id: "c",
   *       object: "chat.completion",
   *       created: 0,
   *       model: settings.model,
   *       choices: [{
   *         index: 0,
   *         message: { role: "assistant", content: '{"title":"Spring"}' },
   *         finish_reason: "stop",
   *       }],
   *     }),
   *   async *stream() {
   *     yield { type: "text", text: '{"title":"Spring"}' };
   *   },
   * }));
   * const ai = createAI({
   *   PROVIDERS: {
   *     default: { provider: "canned-object", model: "house-1", context_window: 8000 },
   *   },
   *   BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
   * });
   * const backend = ai.getAIBackend("default") as ProviderBackend;
   * const { object } = await backend.promptForObject<{ title: string }>({
   *   prePrompt: "A title for:",
   *   context: "Our park in spring",
   *   schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
   * });
   * assert.equal(object.title, "Spring");
   * unregisterProvider("canned-object");
   * ```
   */
  override promptForObject<T = unknown>(
    options: PromptForObjectOptions<T>,
  ): Promise<ObjectCompletion<T>> {
    const checked = this.checkObjectOptions(options);
    const messages = this.#leading();
    if (this.config.promptStyle === "llm") {
      messages.push({ role: "user", content: [options.prePrompt, options.context].join("\n") });
    } else {
      messages.push(...promptMessages({ prePrompt: options.prePrompt, context: options.context }));
    }
    const provider = this.#provider;
    const config = this.config;
    const alias = this.alias;
    const { cap, rest } = splitAnswerCap(checked.options);
    const maxOutputTokens = lowerCap(cap, config.maxOutputTokens);
    // The schema decides the answer's format: OPTIONS' own response_format is left out.
    const { response_format: _format, tool_choice: _tool, ...configured } = config.options ?? {};
    const signal = options.signal;
    return (async () => {
      signal?.throwIfAborted();
      const limit = await answerLimitOption(messages, {
        modelId: config.modelId,
        tokenLimit: config.tokenLimit,
        maxOutputTokens,
        schema: checked.jsonSchema,
        backend: alias,
        provider: provider.provider,
        signal,
      });
      const capped = config.promptStyle !== "llm" || maxOutputTokens !== undefined;
      return await provider.completeObject<T>({
        messages,
        schema: options.schema,
        name: checked.name,
        ...(signal ? { signal } : {}),
        ...(config.modelId !== provider.model ? { model: config.modelId } : {}),
        options: { ...configured, ...rest, ...(capped ? limit : {}) },
      });
    })();
  }

  #leading(): ChatMessage[] {
    return !this.config.systemPrompt ? [] : [{ role: "system", content: this.config.systemPrompt }];
  }

  #respond(
    buildMessages: () => Promise<ChatMessage[]>,
    callOptions: ChatOptions | undefined,
    signal?: AbortSignal,
  ): AIResponse {
    const provider = this.#provider;
    const config = this.config;
    const alias = this.alias;
    // A per-call cap stays within MAX_OUTPUT_TOKENS; the other per-call options go over OPTIONS.
    const { cap, rest } = splitAnswerCap(callOptions);
    const maxOutputTokens = lowerCap(cap, config.maxOutputTokens);
    // Counted before sending; kept for an estimate when the service reports no usage.
    let promptTokens: number | undefined;
    let plan: RequestPlan | undefined;
    const request = async (
      callSignal: AbortSignal | undefined,
      prepared: boolean,
    ): Promise<CompletionOptions> => {
      // An aborted signal wins over any other outcome, as with fetch.
      callSignal?.throwIfAborted();
      const messages = await buildMessages();
      callSignal?.throwIfAborted();
      const limit = await answerLimit(messages, {
        modelId: config.modelId,
        tokenLimit: config.tokenLimit,
        maxOutputTokens,
        backend: alias,
        provider: provider.provider,
        signal: callSignal,
        // LIMITS reserve the exact prompt; a send alone counts it only near the window.
        countPrompt: prepared,
      });
      promptTokens = limit.promptTokens;
      plan = {
        model: config.modelId,
        promptTokens: promptTokens ?? 0,
        maxOutputTokens: limit.budget,
      };
      // The LLM backend sends no answer cap of its own.
      const capped = config.promptStyle !== "llm" || maxOutputTokens !== undefined;
      const built: CompletionOptions = {
        ...config.options,
        ...rest,
        messages,
        ...(capped ? limit.option : {}),
      };
      if (config.modelId !== provider.model) built.model = config.modelId;
      if (callSignal) built.signal = callSignal;
      return built;
    };
    // Built once: by prepare() (LIMITS reserve before sending), else by the send.
    const requests = new PreparedRequest(request);
    const source: ResponseSource = {
      answeredBy: {
        alias: config.providerAlias,
        provider: provider.provider,
        model: config.modelId,
        backend: alias,
      },
      async prepare(callSignal?: AbortSignal): Promise<RequestPlan> {
        await requests.prepare(callSignal);
        return plan!;
      },
      stream(callSignal?: AbortSignal): AsyncIterable<ResponseEvent> {
        return deferredStream(async () => provider.stream(await requests.take(callSignal)));
      },
      estimateUsage(text: string): Promise<TokenUsage> {
        return estimateAnswerUsage(config.modelId, promptTokens, buildMessages, text);
      },
    };
    // As the LLM backend, "llm" style streams an answer read whole too.
    if (config.promptStyle !== "llm") {
      source.complete = async (callSignal?: AbortSignal): Promise<CompleteAnswer> => {
        return completeAnswerOf(await provider.completion(await requests.take(callSignal)));
      };
    }
    // The chunks kept for replay are bounded by the provider's answer limit.
    const maxChars = provider instanceof OpenAICompatibleProvider
      ? provider.config.maxAnswerChars
      : undefined;
    const options: AIResponseOptions = {};
    if (signal !== undefined) options.signal = signal;
    if (maxChars !== undefined) options.maxChars = maxChars;
    return new AIResponse(source, options);
  }
}

function providerFor(context: BackendContext, providerAlias: string): Provider {
  if (typeof context.getProvider !== "function") {
    throw new ImproperlyConfigured(
      `Backend "${context.alias}" (ProviderBackend) needs PROVIDERS: build it with createAI()`,
    );
  }
  try {
    return context.getProvider(providerAlias);
  } catch (error) {
    // Settings errors say which backend's PROVIDER led there (the class is kept).
    if (
      error instanceof ImproperlyConfigured &&
      (error.constructor === ImproperlyConfigured || error instanceof InvalidProviderError)
    ) {
      const Class = error.constructor as typeof ImproperlyConfigured;
      throw new Class(
        `PROVIDER "${providerAlias}" in ${configWhere(context.alias)}: ${error.message}`,
        { cause: error },
      );
    }
    throw error;
  }
}
