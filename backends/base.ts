/**
 * The base class of backends: config parsing, text splitting and the
 * argument checks shared by every backend.
 *
 * @module
 */
import { ImproperlyConfigured, NoTokenLimitFound, UnsupportedFeatureError } from "../errors.ts";
import { getDefaultTokenLimit } from "../tokens.ts";
import type {
  LengthCalculator,
  TextSplitter,
  TextSplitterOptions,
} from "../text_splitters/types.ts";
import { guardSecrets } from "../_redact.ts";
import { optionalInteger, rejectUnknownKeys, requireString } from "../_validate.ts";
import type { AIResponse } from "./response.ts";
import type {
  Backend,
  BackendContext,
  BaseBackendConfig,
  ConfigContext,
  DescribeImageOptions,
  PromptForObjectOptions,
  PromptWithContextOptions,
  TextSplitterChoice,
} from "./types.ts";

/**
 * The checked arguments of `promptForObject()`.
 *
 * @example A backend of your own checks promptForObject()'s arguments with checkObjectOptions()
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   AIResponse,
 *   BaseBackend,
 *   type CheckedObjectPrompt,
 *   createAI,
 *   type ObjectCompletion,
 *   type PromptForObjectOptions,
 *   type PromptWithContextOptions,
 * } from "../mod.ts";
 * class TitleBackend extends BaseBackend {
 *   promptWithContext(options: PromptWithContextOptions): AIResponse {
 *     this.checkPromptOptions(options);
 *     return new AIResponse({
 *       async *stream() {
 *         yield { type: "text", text: "A title" };
 *       },
 *     });
 *   }
 *   override promptForObject<T>(options: PromptForObjectOptions<T>): Promise<ObjectCompletion<T>> {
 *     const checked: CheckedObjectPrompt = this.checkObjectOptions(options);
 *     assert.equal(checked.name, "response"); // the default name
 *     return Promise.resolve({
 *       object: { title: "A title" } as T,
 *       usage: undefined,
 *       strategy: "prompt",
 *     });
 *   }
 * }
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: TitleBackend, CONFIG: { MODEL_ID: "t", TOKEN_LIMIT: 100 } } },
 * });
 * const { object } = await ai.getAIBackend("default").promptForObject<{ title: string }>({
 *   prePrompt: "A title for:",
 *   context: "a page",
 *   schema: { type: "object", properties: { title: { type: "string" } } },
 * });
 * assert.equal(object.title, "A title");
 * ```
 */
export interface CheckedObjectPrompt {
  /** The JSON Schema (a checked copy; from a Standard Schema, the one it gives). */
  jsonSchema: JSONSchema;
  /** The schema's name. */
  name: string;
  /** The per-call options (a checked copy), when given. */
  options: ChatOptions | undefined;
}
import { checkImageArgument } from "../_image.ts";
import { checkSchemaName, resolveSchema } from "../_structured/mod.ts";
import type { ChatOptions } from "../chat.ts";
import type { JSONSchema, ObjectCompletion } from "../structured.ts";
import { checkCallOptions } from "./_messages.ts";
import { checkCallMetadata } from "../_json.ts";

/**
 * Where a backend's CONFIG is, for messages: `CONFIG of backend "default"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configWhere } from "../mod.ts";
 * assert.equal(configWhere("default"), 'CONFIG of backend "default"');
 * ```
 */
export function configWhere(alias: string): string {
  return `CONFIG of backend "${alias}"`;
}

/**
 * The base of every backend. A subclass implements
 * {@link BaseBackend.promptWithContext} (and {@link BaseBackend.describeImage}
 * when it can), and overrides the static `configKeys` and `parseConfig` to add
 * its own `CONFIG` keys.
 *
 * @example A custom backend
 * ```ts
 * import assert from "node:assert/strict";
 * import { AIResponse, BaseBackend, createAI, type PromptWithContextOptions } from "../mod.ts";
 *
 * class ShoutBackend extends BaseBackend {
 *   promptWithContext(options: PromptWithContextOptions): AIResponse {
 *     this.checkPromptOptions(options);
 *     const text = options.context.toUpperCase();
 *     return new AIResponse({ async *stream() { yield { type: "text", text }; } });
 *   }
 * }
 *
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: ShoutBackend, CONFIG: { MODEL_ID: "shout", TOKEN_LIMIT: 100 } } },
 * });
 * const answer = ai.getAIBackend("default").promptWithContext({ prePrompt: "", context: "hi" });
 * assert.ok(await answer.text() === "HI");
 * ```
 */
export abstract class BaseBackend<C extends BaseBackendConfig = BaseBackendConfig>
  implements Backend {
  /** The `CONFIG` keys this class accepts. */
  static configKeys: readonly string[] = ["MODEL_ID", "TOKEN_LIMIT"];

  /**
   * Validates raw `CONFIG` and returns the base config. Subclasses call it
   * and add their own keys.
   *
   * @throws {ImproperlyConfigured} naming the key and the alias.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   BaseBackend,
   *   type ConfigContext,
   *   ImproperlyConfigured,
   *   RecursiveCharacterTextSplitter,
   *   TiktokenLengthCalculator,
   * } from "../mod.ts";
   * const context: ConfigContext = {
   *   alias: "default",
   *   textSplitterClass: RecursiveCharacterTextSplitter,
   *   textSplitterLengthCalculatorClass: TiktokenLengthCalculator,
   * };
   * assert.deepEqual(BaseBackend.parseConfig({ MODEL_ID: "house", TOKEN_LIMIT: 4096 }, context), {
   *   modelId: "house",
   *   tokenLimit: 4096,
   *   textSplitterClass: RecursiveCharacterTextSplitter,
   *   textSplitterLengthCalculatorClass: TiktokenLengthCalculator,
   * });
   * assert.throws(
   *   () => BaseBackend.parseConfig({ TOKEN_LIMIT: 4096 }, context),
   *   ImproperlyConfigured,
   * );
   * ```
   */
  static parseConfig(raw: Record<string, unknown>, context: ConfigContext): BaseBackendConfig {
    const where = configWhere(context.alias);
    rejectUnknownKeys(raw, this.configKeys, where);
    const modelId = requireString(raw.MODEL_ID, "MODEL_ID", where);
    const tokenLimit = optionalInteger(raw.TOKEN_LIMIT, "TOKEN_LIMIT", where, { min: 1 }) ??
      this.defaultTokenLimit(modelId, context);
    return {
      modelId,
      tokenLimit,
      textSplitterClass: context.textSplitterClass,
      textSplitterLengthCalculatorClass: context.textSplitterLengthCalculatorClass,
    };
  }

  /**
   * The context window used when `TOKEN_LIMIT` is not set.
   *
   * @throws {ImproperlyConfigured} naming the model and `TOKEN_LIMIT`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   BaseBackend,
   *   type ConfigContext,
   *   ImproperlyConfigured,
   *   RecursiveCharacterTextSplitter,
   *   TiktokenLengthCalculator,
   * } from "../mod.ts";
   * const context: ConfigContext = {
   *   alias: "default",
   *   textSplitterClass: RecursiveCharacterTextSplitter,
   *   textSplitterLengthCalculatorClass: TiktokenLengthCalculator,
   * };
   * assert.equal(BaseBackend.defaultTokenLimit("gpt-4", context), 8192);
   * assert.throws(
   *   () => BaseBackend.defaultTokenLimit("house-model", context),
   *   ImproperlyConfigured,
   * );
   * ```
   */
  static defaultTokenLimit(modelId: string, context: ConfigContext): number {
    try {
      return getDefaultTokenLimit(modelId);
    } catch (error) {
      if (!(error instanceof NoTokenLimitFound)) throw error;
      throw new ImproperlyConfigured(
        `No token limit is known for model "${modelId}": set TOKEN_LIMIT in ${
          configWhere(context.alias)
        } to the model's context window`,
      );
    }
  }

  /** The alias in `BACKENDS`. */
  readonly alias: string;
  /** The parsed configuration. */
  readonly config: C;

  /** Builds the backend from a parsed config. */
  constructor(config: C, context: BackendContext) {
    this.config = config;
    this.alias = context.alias;
    guardSecrets(this, () => ({
      class: this.constructor.name,
      alias: this.alias,
      config: this.config,
    }));
  }

  /**
   * Completes text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * const answer = ai.getAIBackend("default").promptWithContext({
   *   prePrompt: "Correct this:",
   *   context: "Helo",
   *   postPrompt: "Reply with the text only.",
   * });
   * assert.equal(await answer.text(), "This is an echo backend: Helo");
   * ```
   */
  abstract promptWithContext(options: PromptWithContextOptions): AIResponse;

  /**
   * Describes an image. The base class cannot.
   *
   * @throws {UnsupportedFeatureError} at the call.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AIResponse, BaseBackend, createAI, UnsupportedFeatureError } from "../mod.ts";
   * import type { PromptWithContextOptions } from "../mod.ts";
   * class TextOnly extends BaseBackend {
   *   promptWithContext(_options: PromptWithContextOptions): AIResponse {
   *     return new AIResponse({ async *stream() {} });
   *   }
   * }
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: TextOnly, CONFIG: { MODEL_ID: "t", TOKEN_LIMIT: 100 } } },
   * });
   * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
   * assert.throws(
   *   () => ai.getAIBackend("default").describeImage({ image: png, prompt: "Describe" }),
   *   UnsupportedFeatureError,
   * );
   * ```
   */
  describeImage(options: DescribeImageOptions): AIResponse {
    this.checkImageOptions(options);
    throw new UnsupportedFeatureError(
      `Backend "${this.alias}" (${this.constructor.name}) cannot describe images`,
    );
  }

  /**
   * Asks for an answer that follows a JSON Schema. The base class cannot.
   *
   * @throws {UnsupportedFeatureError} at the call (after the argument checks).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, UnsupportedFeatureError } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * const schema = { type: "object", properties: { title: { type: "string" } } } as const;
   * assert.throws(
   *   () =>
   *     ai.getAIBackend("default").promptForObject({ prePrompt: "Title:", context: "hi", schema }),
   *   UnsupportedFeatureError, // the echo backend gives no JSON
   * );
   * ```
   */
  promptForObject<T = unknown>(options: PromptForObjectOptions<T>): Promise<ObjectCompletion<T>> {
    this.checkObjectOptions(options);
    throw new UnsupportedFeatureError(
      `Backend "${this.alias}" (${this.constructor.name}) cannot answer with JSON that follows a ` +
        'schema: use an OpenAI backend or a provider backend (CLASS "provider")',
    );
  }

  /**
   * The length calculator named by `TEXT_SPLITTING`, built for this model and loaded.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: {
   *     default: {
   *       CLASS: "echo",
   *       CONFIG: { MODEL_ID: "gpt-4o", TOKEN_LIMIT: 1000 },
   *       TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "tiktoken" },
   *     },
   *   },
   * });
   * const calculator = await ai.getAIBackend("default").getSplitterLengthCalculator();
   * assert.equal(calculator.getSplitterLength("Hello, world!"), 4); // gpt-4o's tokens, loaded
   * ```
   */
  async getSplitterLengthCalculator(): Promise<LengthCalculator> {
    const calculator = new this.config.textSplitterLengthCalculatorClass({
      modelId: this.config.modelId,
    });
    await calculator.load?.();
    return calculator;
  }

  /**
   * The splitter named by `TEXT_SPLITTING`, with `tokenLimit` as chunk size
   * (as in Wagtail AI). A chunk that fills the whole window leaves no room for
   * the instruction and the answer: pass a smaller `chunkSize` (for example
   * half the window) when you send chunks as prompts.
   *
   * @throws {RangeError} when `chunkSize` is not a positive integer.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * const backend = ai.getAIBackend("default");
   * const whole = await backend.getTextSplitter(); // chunks of up to TOKEN_LIMIT
   * assert.deepEqual(whole.splitText("Short text."), ["Short text."]);
   * const small = await backend.getTextSplitter({ chunkSize: 3, chunkOverlap: 0 });
   * assert.ok(small.splitText("One two three four five six seven.").length > 1);
   * await assert.rejects(backend.getTextSplitter({ chunkSize: 0 }), RangeError);
   * ```
   */
  async getTextSplitter(options: TextSplitterChoice = {}): Promise<TextSplitter> {
    const chunkSize = options.chunkSize ?? this.config.tokenLimit;
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
      throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
    }
    const calculator = await this.getSplitterLengthCalculator();
    const splitterOptions: TextSplitterOptions = {
      chunkSize,
      lengthFunction: (text: string) => calculator.getSplitterLength(text),
      modelId: this.config.modelId,
    };
    if (options.chunkOverlap !== undefined) splitterOptions.chunkOverlap = options.chunkOverlap;
    return new this.config.textSplitterClass(splitterOptions);
  }

  /**
   * Checks the arguments of `promptWithContext`, per-call `options` included
   * (a plain object of JSON data without `messages`, `model`, `stream`,
   * `stream_options`, `n` or `signal`) and `metadata` (JSON data). An empty or
   * blank `context` is refused.
   *
   * @throws {TypeError} naming the argument (or the option).
   */
  protected checkPromptOptions(options: PromptWithContextOptions): void {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("promptWithContext() takes an options object");
    }
    if (typeof options.prePrompt !== "string") {
      throw new TypeError("prePrompt must be a string");
    }
    if (typeof options.context !== "string") throw new TypeError("context must be a string");
    if (options.postPrompt !== undefined && typeof options.postPrompt !== "string") {
      throw new TypeError("postPrompt must be a string when given");
    }
    checkSignal(options.signal);
    checkCallOptions(options.options, "promptWithContext");
    checkCallMetadata(options.metadata, "promptWithContext");
    // Nothing to complete: refused like an empty image prompt, before any request.
    if (options.context.trim() === "") throw new TypeError("context must be a non-empty string");
  }

  /**
   * Checks the arguments of `describeImage`, per-call `options` included (as
   * `checkPromptOptions`).
   *
   * @throws {TypeError} naming the argument (an empty prompt and an option included).
   */
  protected checkImageOptions(options: DescribeImageOptions): void {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("describeImage() takes an options object");
    }
    if (typeof options.prompt !== "string" || options.prompt.trim() === "") {
      throw new TypeError("prompt must be a non-empty string");
    }
    checkImageArgument(options.image);
    checkSignal(options.signal);
    checkCallOptions(options.options, "describeImage");
    checkCallMetadata(options.metadata, "describeImage");
  }

  /**
   * Checks the arguments of `promptForObject` (the schema included: a JSON
   * Schema object or a Standard Schema that gives one) and returns them
   * checked.
   *
   * @throws {TypeError} naming the argument (or the option).
   */
  protected checkObjectOptions(options: PromptForObjectOptions<unknown>): CheckedObjectPrompt {
    return checkObjectArguments(options);
  }
}

// Options a structured call sets itself.
const OBJECT_RESERVED = ["response_format", "tool_choice"];

/** Checks the arguments of `promptForObject` and returns the schema, its name and the options. */
function checkObjectArguments(options: PromptForObjectOptions<unknown>): CheckedObjectPrompt {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("promptForObject() takes an options object");
  }
  if (typeof options.prePrompt !== "string") throw new TypeError("prePrompt must be a string");
  if (typeof options.context !== "string") throw new TypeError("context must be a string");
  // Nothing to answer about: refused as promptWithContext() refuses it, before any request.
  if (options.context.trim() === "") throw new TypeError("context must be a non-empty string");
  const schema = resolveSchema(options.schema);
  const name = checkSchemaName(options.name);
  checkSignal(options.signal);
  checkCallMetadata(options.metadata, "promptForObject");
  const callOptions = checkCallOptions(options.options, "promptForObject");
  for (const key of OBJECT_RESERVED) {
    if (callOptions !== undefined && Object.hasOwn(callOptions, key)) {
      throw new TypeError(
        `options of promptForObject() must not set "${key}" (it is set from the schema)`,
      );
    }
  }
  return { jsonSchema: schema.json, name, options: callOptions };
}

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal when given");
  }
}
