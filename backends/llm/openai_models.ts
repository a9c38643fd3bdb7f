/**
 * OpenAI chat models for the LLM backend: the built-in models (with the
 * `llm` tool's aliases) and the class that also serves the models of
 * `extra-openai-models.yaml` and OpenAI-compatible plugin models.
 *
 * @example An OpenAI-compatible model added by a plugin
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, OpenAIChatModel, registerPlugin, unregisterPlugin } from "../../mod.ts";
 *
 * registerPlugin({
 *   name: "local-llama",
 *   registerModels(register) {
 *     register(
 *       new OpenAIChatModel("llama3.1-local", {
 *         modelName: "llama3.1:8b",
 *         apiBase: "http://127.0.0.1:11434/v1",
 *       }),
 *       { aliases: ["llama"] },
 *     );
 *   },
 * });
 * const userPath = await Deno.makeTempDir();
 * const model = getModel("llama", { userPath }) as OpenAIChatModel;
 * assert.equal(model.modelName, "llama3.1:8b");
 * assert.equal(model.needsKey, undefined); // its own api_base: no OpenAI key is sent
 * assert.equal(model.contextWindow, 131072); // llama3.1's window, from the token table
 * unregisterPlugin("local-llama");
 * await Deno.remove(userPath);
 * ```
 *
 * @module
 */
import type { ChatMessage, ChatOptions, ContentPart } from "../../chat.ts";
import { completionUsage } from "../_messages.ts";
import { UnsupportedFeatureError } from "../../errors.ts";
import { getDefaultTokenLimit } from "../../tokens.ts";
import { chatCompletion, chatStream, type ClientSettings } from "../../_openai/mod.ts";
import { guardSecrets } from "../../_redact.ts";
import { toDataUrl } from "../../_image.ts";
import { checkSchemaName, loadEngine, resolveSchema } from "../../_structured/mod.ts";
import type {
  ChatStructuredOutputStrategy,
  ObjectCompletion,
  ObjectSchema,
} from "../../structured.ts";
import type { ResponseEvent } from "../response.ts";
import type { ExecuteContext, Model, ModelPrompt, OptionSchema } from "./model.ts";
import type { ExtraModelEntry } from "./_user_dir.ts";

/**
 * The OpenAI API's base URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPENAI_API_BASE, OpenAIChatModel } from "../../mod.ts";
 * assert.equal(new OpenAIChatModel("gpt-4o").apiBase, OPENAI_API_BASE);
 * ```
 */
export const OPENAI_API_BASE = "https://api.openai.com/v1";

/**
 * The image types OpenAI vision models take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPENAI_IMAGE_TYPES, OpenAIChatModel } from "../../mod.ts";
 * assert.deepEqual(
 *   new OpenAIChatModel("gpt-4o", { vision: true }).attachmentTypes,
 *   OPENAI_IMAGE_TYPES,
 * );
 * assert.ok(OPENAI_IMAGE_TYPES.includes("image/webp"));
 * ```
 */
export const OPENAI_IMAGE_TYPES: readonly string[] = Object.freeze([
  "image/gif",
  "image/jpeg",
  "image/png",
  "image/webp",
]);

/**
 * The options of OpenAI chat models (as the `llm` tool documents them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPENAI_CHAT_OPTIONS } from "./openai_models.ts";
 * assert.equal(OPENAI_CHAT_OPTIONS.temperature.max, 2);
 * assert.equal(OPENAI_CHAT_OPTIONS.top_p.max, 1);
 * ```
 */
export const OPENAI_CHAT_OPTIONS: OptionSchema = Object.freeze({
  temperature: {
    type: "float",
    min: 0,
    max: 2,
    description: "What sampling temperature to use, between 0 and 2. Higher values like 0.8 make " +
      "the output more random, lower values like 0.2 make it more focused and deterministic.",
  },
  max_tokens: {
    type: "int",
    min: 1,
    description: "Maximum number of tokens to generate.",
  },
  top_p: {
    type: "float",
    min: 0,
    max: 1,
    description: "Nucleus sampling: the model considers the tokens within the top_p probability " +
      "mass, so 0.1 means only the top 10%. Use top_p or temperature, not both.",
  },
  frequency_penalty: {
    type: "float",
    min: -2,
    max: 2,
    description:
      "Number between -2.0 and 2.0. Positive values penalize tokens by their frequency " +
      "in the text so far, making verbatim repetition less likely.",
  },
  presence_penalty: {
    type: "float",
    min: -2,
    max: 2,
    description: "Number between -2.0 and 2.0. Positive values penalize tokens that already " +
      "appeared, making new topics more likely.",
  },
  stop: {
    type: "str_or_list",
    max: 4,
    description: "A string (or up to four) where the API stops generating further tokens.",
  },
  logit_bias: {
    type: "dict",
    min: -100,
    max: 100,
    description: "Changes the likelihood of tokens: an object (or its JSON text) of token ids to " +
      "values from -100 to 100, like '{\"1712\": -100}'.",
  },
  seed: {
    type: "int",
    description: "Integer seed to attempt to sample deterministically.",
  },
  json_object: {
    type: "boolean",
    description: "Output a valid JSON object {...}. The prompt must mention JSON.",
  },
});

/**
 * The options of OpenAI reasoning models (o-series, gpt-5): the chat options
 * and `reasoning_effort`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPENAI_REASONING_OPTIONS } from "./openai_models.ts";
 * assert.deepEqual(OPENAI_REASONING_OPTIONS.reasoning_effort.choices, [
 *   "minimal",
 *   "low",
 *   "medium",
 *   "high",
 * ]);
 * ```
 */
export const OPENAI_REASONING_OPTIONS: OptionSchema = Object.freeze({
  ...OPENAI_CHAT_OPTIONS,
  reasoning_effort: {
    type: "choice",
    choices: ["minimal", "low", "medium", "high"],
    description: "How much the model reasons before answering: less is faster and uses fewer " +
      "tokens.",
  },
});

/**
 * Options of {@link OpenAIChatModel}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAIChatModel, type OpenAIChatModelOptions } from "../../mod.ts";
 * const options: OpenAIChatModelOptions = {
 *   modelName: "llama3.1:8b",
 *   apiBase: "http://127.0.0.1:11434/v1",
 *   contextWindow: 8192,
 * };
 * const model = new OpenAIChatModel("local-llama", options);
 * assert.equal(model.contextWindow, 8192);
 * assert.equal(model.supportsSchema, false); // not OpenAI's own API: the schema goes in the prompt
 * ```
 */
export interface OpenAIChatModelOptions {
  /** The model name sent to the API (default: the model id). */
  modelName?: string;
  /** The API's base URL (default `https://api.openai.com/v1`). */
  apiBase?: string;
  /** Extra HTTP headers sent with every request (values are secrets). */
  headers?: Record<string, string>;
  /**
   * The name of its key in `keys.json`; `null` for none. Default: `"openai"`,
   * or none when `apiBase` is given (an OpenAI key is never sent elsewhere).
   */
  needsKey?: string | null;
  /**
   * The environment variable of its key; `null` for none. Default:
   * `OPENAI_API_KEY` when the key name is `"openai"`, else none.
   */
  keyEnvVar?: string | null;
  /** Takes images (default `false`). */
  vision?: boolean;
  /** Can stream (default `true`). */
  canStream?: boolean;
  /** A reasoning model: `reasoning_effort`, and `max_completion_tokens` at OpenAI. */
  reasoning?: boolean;
  /** Takes a system prompt (default `true`). */
  supportsSystemPrompt?: boolean;
  /**
   * The context window. Default: the token table's entry for the model name;
   * `null` for unknown (then `TOKEN_LIMIT` must be set).
   */
  contextWindow?: number | null;
  /** An `api-version` query parameter sent with every request. */
  apiVersion?: string;
  /** A completion (not chat) model: listed, but prompts are refused. */
  completion?: boolean;
  /** The label `models` shows (default "OpenAI Chat", or "OpenAI Completion"). */
  label?: string;
  /** Seconds each request attempt may take (for streams: each wait for a chunk). Default 120. */
  timeoutSeconds?: number;
  /** Retries of a failed request (default 2). */
  maxRetries?: number;
  /**
   * Takes `response_format: {type: "json_schema"}` (the `llm` tool's
   * `supports_schema`). Default: `true` at OpenAI's own API base, else `false`
   * (structured output then puts the schema in the prompt).
   */
  supportsSchema?: boolean;
}

function tokenTableWindow(modelId: string): number | undefined {
  try {
    return getDefaultTokenLimit(modelId);
  } catch {
    return undefined;
  }
}

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.replace(/\/+$/, "");
  } catch {
    return "(invalid URL)";
  }
}

/**
 * An OpenAI (or OpenAI-compatible) chat model, sent through the module's
 * OpenAI-compatible client. Its `headers` never show in `JSON.stringify` or
 * `Deno.inspect`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAIChatModel } from "./openai_models.ts";
 * const model = new OpenAIChatModel("gpt-4o", { vision: true });
 * assert.equal(model.needsKey, "openai");
 * assert.equal(model.keyEnvVar, "OPENAI_API_KEY");
 * assert.ok(model.attachmentTypes.includes("image/png"));
 * assert.equal(model.contextWindow, 128000);
 * ```
 */
export class OpenAIChatModel implements Model {
  /** The id used as `MODEL_ID`. */
  readonly modelId: string;
  /** The model name sent to the API. */
  readonly modelName: string;
  /** The API's base URL. */
  readonly apiBase: string;
  /** Whether the base URL is not OpenAI's own. */
  readonly customApiBase: boolean;
  /** Extra headers (secret values). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The key's name in `keys.json`, or undefined when it needs none. */
  readonly needsKey: string | undefined;
  /** The key's environment variable, or undefined. */
  readonly keyEnvVar: string | undefined;
  /** `"OpenAI Chat"` or `"OpenAI Completion"`. */
  readonly label: string;
  /** Whether it can stream. */
  readonly canStream: boolean;
  /** The attachment types it takes (images for vision models). */
  readonly attachmentTypes: readonly string[];
  /** Whether it takes a system prompt. */
  readonly supportsSystemPrompt: boolean;
  /** Whether it is a reasoning model. */
  readonly reasoning: boolean;
  /** Whether it is a completion model (not supported for prompts). */
  readonly completion: boolean;
  /** Its options. */
  readonly optionSchema: OptionSchema;
  /** The `api-version` query parameter, when any. */
  readonly apiVersion: string | undefined;
  /** Seconds per request attempt. */
  readonly timeoutSeconds: number;
  /** Retries of a failed request. */
  readonly maxRetries: number;
  /** Whether it takes `response_format: {type: "json_schema"}`. */
  readonly supportsSchema: boolean;
  readonly #contextWindow: number | null | undefined;

  /** Builds the model. */
  constructor(modelId: string, options: OpenAIChatModelOptions = {}) {
    if (typeof modelId !== "string" || modelId.trim() === "") {
      throw new TypeError("OpenAIChatModel needs a non-empty model id");
    }
    this.modelId = modelId;
    this.modelName = options.modelName ?? modelId;
    this.apiBase = (options.apiBase ?? OPENAI_API_BASE).replace(/\/+$/, "");
    this.customApiBase = options.apiBase !== undefined &&
      this.apiBase !== OPENAI_API_BASE;
    this.headers = options.headers ? Object.freeze({ ...options.headers }) : undefined;
    const needsKey = options.needsKey === undefined
      ? (options.apiBase === undefined ? "openai" : null)
      : options.needsKey;
    this.needsKey = needsKey ?? undefined;
    const keyEnvVar = options.keyEnvVar === undefined
      ? (this.needsKey === "openai" ? "OPENAI_API_KEY" : null)
      : options.keyEnvVar;
    this.keyEnvVar = keyEnvVar ?? undefined;
    this.completion = options.completion ?? false;
    this.label = options.label ?? (this.completion ? "OpenAI Completion" : "OpenAI Chat");
    this.canStream = options.canStream ?? true;
    this.attachmentTypes = options.vision ? OPENAI_IMAGE_TYPES : [];
    this.supportsSystemPrompt = options.supportsSystemPrompt ?? true;
    this.reasoning = options.reasoning ?? false;
    this.optionSchema = this.reasoning ? OPENAI_REASONING_OPTIONS : OPENAI_CHAT_OPTIONS;
    this.apiVersion = options.apiVersion;
    this.timeoutSeconds = options.timeoutSeconds ?? 120;
    this.maxRetries = options.maxRetries ?? 2;
    this.supportsSchema = options.supportsSchema ?? !this.customApiBase;
    this.#contextWindow = options.contextWindow;
    guardSecrets(this, () => ({
      modelId: this.modelId,
      modelName: this.modelName,
      apiBase: safeUrl(this.apiBase),
      headers: this.headers,
      needsKey: this.needsKey,
      keyEnvVar: this.keyEnvVar,
      vision: this.attachmentTypes.length > 0,
      canStream: this.canStream,
    }));
  }

  /**
   * The context window: the given one, else the token table's entry for the
   * model name (undefined when it was given as `null` or is not known).
   */
  get contextWindow(): number | undefined {
    if (this.#contextWindow === null) return undefined;
    return this.#contextWindow ?? tokenTableWindow(this.modelName);
  }

  /**
   * The chat messages for a prompt: the system prompt, then the user prompt
   * (as text and `image_url` parts when there are attachments).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OpenAIChatModel } from "../../mod.ts";
   * const model = new OpenAIChatModel("gpt-4o-mini");
   * assert.deepEqual(
   *   model.buildMessages({ prompt: "Hi", system: "Be brief.", attachments: [], options: {} }),
   *   [
   *     { role: "system", content: "Be brief." },
   *     { role: "user", content: "Hi" },
   *   ],
   * );
   * ```
   */
  buildMessages(prompt: ModelPrompt): ChatMessage[] {
    const messages: ChatMessage[] = [];
    if (prompt.system) messages.push({ role: "system", content: prompt.system });
    if (prompt.attachments.length === 0) {
      messages.push({ role: "user", content: prompt.prompt });
      return messages;
    }
    const parts: ContentPart[] = [];
    if (prompt.prompt) parts.push({ type: "text", text: prompt.prompt });
    for (const attachment of prompt.attachments) {
      parts.push({
        type: "image_url",
        image_url: {
          url: toDataUrl({
            bytes: attachment.bytes,
            mimeType: attachment.mimeType,
            name: attachment.name ?? "image",
          }),
        },
      });
    }
    messages.push({ role: "user", content: parts });
    return messages;
  }

  /**
   * The request options for checked model options.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OpenAIChatModel } from "../../mod.ts";
   * const o3 = new OpenAIChatModel("o3", { reasoning: true });
   * assert.deepEqual(o3.buildOptions({ max_tokens: 100, json_object: true }), {
   *   max_completion_tokens: 100, // what OpenAI's reasoning models take
   *   response_format: { type: "json_object" },
   * });
   * ```
   */
  buildOptions(options: Readonly<Record<string, unknown>>): ChatOptions {
    const out: ChatOptions = {};
    for (const [name, value] of Object.entries(options)) {
      if (value === undefined || value === null) continue;
      if (name === "json_object") {
        if (value === true) out.response_format = { type: "json_object" };
      } else if (name === "max_tokens" && this.reasoning && !this.customApiBase) {
        out.max_completion_tokens = value as number;
      } else {
        out[name] = value;
      }
    }
    return out;
  }

  #clientSettings(key: string | undefined): ClientSettings {
    const settings: ClientSettings = {
      baseURL: this.apiBase,
      timeoutMs: this.timeoutSeconds * 1000,
      maxRetries: this.maxRetries,
      provider: this.customApiBase ? safeUrl(this.apiBase) : "openai",
    };
    if (key !== undefined) settings.apiKey = key;
    if (this.headers) settings.headers = { ...this.headers };
    if (this.apiVersion) settings.defaultQuery = { "api-version": this.apiVersion };
    return settings;
  }

  /**
   * Refuses, before anything is sent, what this model cannot do.
   *
   * @throws {UnsupportedFeatureError} for a completion model, a system prompt
   * the model does not take, or attachments of types it does not take.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OpenAIChatModel, UnsupportedFeatureError } from "../../mod.ts";
   * const model = new OpenAIChatModel("gpt-3.5-turbo"); // no vision
   * const image = { bytes: new Uint8Array([1]), mimeType: "image/png" };
   * model.checkPrompt({ prompt: "Hi", attachments: [], options: {} });
   * assert.throws(
   *   () => model.checkPrompt({ prompt: "Describe", attachments: [image], options: {} }),
   *   UnsupportedFeatureError,
   * );
   * ```
   */
  checkPrompt(prompt: ModelPrompt): void {
    if (this.completion) {
      throw new UnsupportedFeatureError(
        `Model "${this.modelId}" is an OpenAI completion model, which the LLM backend does not ` +
          "support: use a chat model",
      );
    }
    if (prompt.system && !this.supportsSystemPrompt) {
      throw new UnsupportedFeatureError(`Model "${this.modelId}" does not take a system prompt`);
    }
    for (const attachment of prompt.attachments) {
      if (!this.attachmentTypes.includes(attachment.mimeType)) {
        throw new UnsupportedFeatureError(
          this.attachmentTypes.length === 0
            ? `Model "${this.modelId}" cannot take attachments such as images (no vision)`
            : `Model "${this.modelId}" cannot take attachments of type ${attachment.mimeType}`,
        );
      }
    }
  }

  /**
   * Sends the prompt: streamed when `context.stream` is set, else as one
   * completion.
   *
   * @throws {UnsupportedFeatureError} for a completion model.
   *
   * @example A completion model is refused before anything is sent
   * ```ts
   * import assert from "node:assert/strict";
   * import { OpenAIChatModel, UnsupportedFeatureError } from "../../mod.ts";
   * const model = new OpenAIChatModel("gpt-3.5-turbo-instruct", { completion: true });
   * const events = model.execute({ prompt: "Hi", attachments: [], options: {} }, {
   *   key: "sk-test",
   *   stream: false,
   * });
   * await assert.rejects(events.next(), UnsupportedFeatureError);
   * ```
   */
  async *execute(prompt: ModelPrompt, context: ExecuteContext): AsyncGenerator<ResponseEvent> {
    this.checkPrompt(prompt);
    const request = {
      model: this.modelName,
      messages: this.buildMessages(prompt),
      options: this.buildOptions(prompt.options),
      ...(context.signal ? { signal: context.signal } : {}),
    };
    const settings = this.#clientSettings(context.key);
    if (context.stream && this.canStream) {
      yield* chatStream(settings, request);
      return;
    }
    const completion = await chatCompletion(settings, request);
    const text = completion.choices[0]?.message.content ?? "";
    if (text !== "") yield { type: "text", text };
    const reason = completion.choices[0]?.finish_reason;
    if (typeof reason === "string") yield { type: "finish", reason };
    const usage = completionUsage(completion.usage);
    if (usage) yield { type: "usage", usage };
  }

  /** The structured-output strategy: `"json_schema"` when it {@link supportsSchema}, else `"prompt"`. */
  get structuredOutput(): ChatStructuredOutputStrategy {
    return this.supportsSchema ? "json_schema" : "prompt";
  }

  /**
   * Asks for an answer that follows `options.schema` (see
   * `Provider.completeObject()`), with the strategy of
   * {@link OpenAIChatModel.structuredOutput}. A `json_object` option is left
   * out (the schema decides the format). The request is never streamed.
   *
   * @throws {TypeError} for a schema that is not an object, or a bad name.
   * @throws {UnsupportedFeatureError} for what {@link OpenAIChatModel.checkPrompt} refuses.
   *
   * @example A completion model is refused at the call, before any request
   * ```ts
   * import assert from "node:assert/strict";
   * import { OpenAIChatModel, UnsupportedFeatureError } from "../../mod.ts";
   * const model = new OpenAIChatModel("gpt-3.5-turbo-instruct", { completion: true });
   * assert.throws(
   *   () =>
   *     model.completeObject(
   *       { prompt: "A title for: hello", attachments: [], options: {} },
   *       { schema: { type: "object", properties: { title: { type: "string" } } }, key: "sk-x" },
   *     ),
   *   UnsupportedFeatureError,
   * );
   * ```
   */
  completeObject<T = unknown>(
    prompt: ModelPrompt,
    options: OpenAIModelObjectOptions<T>,
  ): Promise<ObjectCompletion<T>> {
    const schema = resolveSchema(options.schema);
    const name = checkSchemaName(options.name);
    this.checkPrompt(prompt);
    const { response_format: _format, ...chatOptions } = this.buildOptions(prompt.options);
    const settings = this.#clientSettings(options.key);
    const messages = this.buildMessages(prompt);
    return (async () => {
      const { openAIObject } = await loadEngine();
      return await openAIObject<T>(settings, {
        model: this.modelName,
        messages,
        schema,
        name,
        strategy: this.structuredOutput,
        options: chatOptions,
        signal: options.signal,
      });
    })();
  }
}

/**
 * Options of {@link OpenAIChatModel.completeObject}: the schema, and the
 * request's key and signal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OpenAIModelObjectOptions } from "../../mod.ts";
 * const options: OpenAIModelObjectOptions<{ title: string }> = {
 *   schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
 *   name: "title",
 *   key: "sk-test",
 *   signal: AbortSignal.timeout(30_000),
 * };
 * assert.equal(options.name, "title");
 * ```
 */
export interface OpenAIModelObjectOptions<T = unknown> {
  /** The JSON Schema the answer must follow (or a Standard Schema that gives one). */
  schema: ObjectSchema<T>;
  /** The schema's name (default `"response"`). */
  name?: string;
  /**
   * The API key (see `LLMModel.resolveKey()`), or `undefined` when the
   * model needs none.
   */
  key?: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

interface BuiltIn {
  id: string;
  aliases?: string[];
  vision?: boolean;
  reasoning?: boolean;
  canStream?: boolean;
  contextWindow?: number;
}

// The built-in chat models and their aliases, as the `llm` tool ships them
// (retired models left out). Context windows come from tokens.ts unless given.
const BUILT_INS: readonly BuiltIn[] = [
  { id: "gpt-4o", aliases: ["4o"], vision: true },
  { id: "chatgpt-4o-latest", aliases: ["chatgpt-4o"], vision: true },
  { id: "gpt-4o-mini", aliases: ["4o-mini"], vision: true },
  { id: "gpt-4.1", aliases: ["4.1"], vision: true },
  { id: "gpt-4.1-mini", aliases: ["4.1-mini"], vision: true },
  { id: "gpt-4.1-nano", aliases: ["4.1-nano"], vision: true },
  { id: "gpt-3.5-turbo", aliases: ["3.5", "chatgpt"] },
  { id: "gpt-3.5-turbo-16k", aliases: ["chatgpt-16k", "3.5-16k"] },
  { id: "gpt-4", aliases: ["4", "gpt4"] },
  { id: "gpt-4-32k", aliases: ["4-32k"] },
  { id: "gpt-4-1106-preview", contextWindow: 128_000 },
  { id: "gpt-4-0125-preview", contextWindow: 128_000 },
  { id: "gpt-4-turbo-2024-04-09", vision: true },
  { id: "gpt-4-turbo", aliases: ["gpt-4-turbo-preview", "4-turbo", "4t"], vision: true },
  { id: "o1", vision: true, reasoning: true, canStream: false },
  { id: "o1-2024-12-17", vision: true, reasoning: true, canStream: false },
  { id: "o3-mini", reasoning: true },
  { id: "o3", vision: true, reasoning: true },
  { id: "o4-mini", vision: true, reasoning: true },
  { id: "gpt-5", vision: true, reasoning: true },
  { id: "gpt-5-mini", vision: true, reasoning: true },
  { id: "gpt-5-nano", vision: true, reasoning: true },
  { id: "gpt-5-2025-08-07", vision: true, reasoning: true },
  { id: "gpt-5-mini-2025-08-07", vision: true, reasoning: true },
  { id: "gpt-5-nano-2025-08-07", vision: true, reasoning: true },
  { id: "gpt-5.1", vision: true, reasoning: true },
];

let builtIns: { model: OpenAIChatModel; aliases: readonly string[] }[] | undefined;

/**
 * The built-in OpenAI models with their aliases (built once).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtInOpenAIModels } from "./openai_models.ts";
 * const gpt4o = builtInOpenAIModels().find((entry) => entry.model.modelId === "gpt-4o");
 * assert.deepEqual(gpt4o?.aliases, ["4o"]);
 * ```
 */
export function builtInOpenAIModels(): { model: OpenAIChatModel; aliases: readonly string[] }[] {
  builtIns ??= BUILT_INS.map((entry) => {
    const options: OpenAIChatModelOptions = {};
    if (entry.vision) options.vision = true;
    if (entry.reasoning) options.reasoning = true;
    if (entry.canStream === false) options.canStream = false;
    if (entry.contextWindow !== undefined) options.contextWindow = entry.contextWindow;
    return { model: new OpenAIChatModel(entry.id, options), aliases: entry.aliases ?? [] };
  });
  return builtIns;
}

/**
 * The model of one `extra-openai-models.yaml` entry, as the `llm` tool
 * builds it: with its own `api_base` it needs no key unless `api_key_name`
 * names one. Its context window is the token table's entry for its
 * `model_id` (so a custom id needs `TOKEN_LIMIT`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extraOpenAIModel } from "./openai_models.ts";
 * const model = extraOpenAIModel({
 *   modelId: "proxy-4o",
 *   modelName: "gpt-4o",
 *   apiBase: "https://proxy.example/v1",
 *   aliases: [],
 *   vision: true,
 *   audio: false,
 *   canStream: true,
 *   completion: false,
 *   reasoning: false,
 *   supportsSchema: false,
 *   supportsTools: false,
 * });
 * assert.equal(model.needsKey, undefined);
 * assert.equal(model.contextWindow, undefined);
 * ```
 */
export function extraOpenAIModel(entry: ExtraModelEntry): OpenAIChatModel {
  const options: OpenAIChatModelOptions = {
    modelName: entry.modelName,
    vision: entry.vision,
    canStream: entry.canStream,
    reasoning: entry.reasoning,
    completion: entry.completion,
    supportsSchema: entry.supportsSchema,
    contextWindow: tokenTableWindow(entry.modelId) ?? null,
  };
  if (entry.apiBase !== undefined) options.apiBase = entry.apiBase;
  if (entry.headers !== undefined) options.headers = entry.headers;
  if (entry.apiVersion !== undefined) options.apiVersion = entry.apiVersion;
  if (entry.apiKeyName !== undefined) options.needsKey = entry.apiKeyName;
  else if (entry.apiBase !== undefined) options.needsKey = null;
  if (entry.apiType === "azure" || entry.apiEngine !== undefined) {
    return new AzureStyleModel(entry.modelId, options);
  }
  return new OpenAIChatModel(entry.modelId, options);
}

// An entry with the old Azure settings (api_type azure, api_engine): listed,
// but prompts are refused with a pointer to the azure provider.
class AzureStyleModel extends OpenAIChatModel {
  override checkPrompt(): void {
    throw new UnsupportedFeatureError(
      `Model "${this.modelId}" uses api_type "azure" or api_engine, which the LLM backend does ` +
        'not support: use the "azure" provider (PROVIDERS) or an OpenAI-compatible api_base',
    );
  }
}
