/**
 * The shared backend contract: what every backend takes and answers.
 *
 * @module
 */
import type {
  LengthCalculator,
  LengthCalculatorClass,
  TextSplitter,
  TextSplitterClass,
} from "../text_splitters/types.ts";
import type { AIResponse } from "./response.ts";
import type { ChatOptions, ImageInput } from "../chat.ts";
import type { ObjectCompletion, ObjectSchema } from "../structured.ts";
import type { Provider } from "../providers/types.ts";
import type { CallMetadata } from "../chat.ts";

/**
 * The features a backend can be chosen for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BackendFeature } from "./types.ts";
 * assert.ok(BackendFeature.IMAGE_DESCRIPTION === "IMAGE_DESCRIPTION");
 * ```
 */
export const BackendFeature: {
  readonly TEXT_COMPLETION: "TEXT_COMPLETION";
  readonly IMAGE_DESCRIPTION: "IMAGE_DESCRIPTION";
} = Object.freeze(
  {
    TEXT_COMPLETION: "TEXT_COMPLETION",
    IMAGE_DESCRIPTION: "IMAGE_DESCRIPTION",
  } as const,
);

/** A feature name: `"TEXT_COMPLETION"` or `"IMAGE_DESCRIPTION"`. */
export type BackendFeature = typeof BackendFeature[keyof typeof BackendFeature];

/**
 * The configuration every backend has, parsed from its `CONFIG`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BaseBackendConfig, createAI, NaiveTextSplitterCalculator } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * });
 * const config: BaseBackendConfig = ai.getAIBackend("default").config;
 * assert.equal(config.modelId, "echo");
 * assert.equal(config.tokenLimit, 1000);
 * assert.equal(config.textSplitterLengthCalculatorClass, NaiveTextSplitterCalculator); // the default
 * ```
 */
export interface BaseBackendConfig {
  /** `MODEL_ID`. */
  readonly modelId: string;
  /** `TOKEN_LIMIT`, or the model's known context window. */
  readonly tokenLimit: number;
  /** The splitter class from `TEXT_SPLITTING.SPLITTER_CLASS`. */
  readonly textSplitterClass: TextSplitterClass;
  /** The calculator class from `TEXT_SPLITTING.SPLITTER_LENGTH_CALCULATOR_CLASS`. */
  readonly textSplitterLengthCalculatorClass: LengthCalculatorClass;
}

/**
 * Arguments of {@link Backend.promptWithContext}.
 *
 * @example Per-call options: a cooler, shorter answer for one action
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type PromptWithContextOptions } from "../mod.ts";
 * const backend = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * }).getAIBackend("default");
 * const args: PromptWithContextOptions = {
 *   prePrompt: "Write a title for:",
 *   context: "a long article",
 *   options: { temperature: 0.2, max_tokens: 20 },
 * };
 * assert.ok((await backend.promptWithContext(args).text()).startsWith("This is an echo backend:"));
 * assert.throws(
 *   () => backend.promptWithContext({ ...args, options: { model: "gpt-4o" } }),
 *   TypeError, // options of promptWithContext() must not set "model" (...)
 * );
 * ```
 */
export interface PromptWithContextOptions {
  /** The instruction that comes before the content ("Correct this text:"). */
  prePrompt: string;
  /** The content to work on. */
  context: string;
  /** An instruction that comes after the content. */
  postPrompt?: string;
  /** Aborts the request or stream. */
  signal?: AbortSignal;
  /**
   * Model options for this call only (`temperature`, `max_tokens`...), over the
   * backend's configured ones: a plain object of JSON data. The OpenAI and
   * provider backends send them with the request (a per-call `max_tokens` or
   * `max_completion_tokens` caps the answer, within `MAX_OUTPUT_TOKENS` (the
   * operator's ceiling) and what the context window leaves, under the key the
   * model takes); the LLM backend checks them against the model's options, over
   * `PROMPT_KWARGS`; the echo backend checks and ignores them. `messages`,
   * `model`, `stream`, `stream_options`, `n` and `signal` are refused, as is
   * anything that is not JSON data (a `TypeError` at the call). `undefined`
   * and `null` values are left out (the configured value stays). The options
   * are copied when the response is made.
   */
  options?: Readonly<ChatOptions>;
  /**
   * Who and what this call is for (`{user: "42", site: "blog"}`): JSON data
   * carried by the call's usage events and never sent to the service (see
   * `CallMetadata`). Checked at the call.
   */
  metadata?: CallMetadata;
}

/**
 * Arguments of {@link Backend.describeImage}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type DescribeImageOptions } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * });
 * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
 * const args: DescribeImageOptions = {
 *   image: png,
 *   fileName: "leaf.png",
 *   prompt: "Alt text, please",
 * };
 * const answer = ai.getAIBackend("default").describeImage(args);
 * assert.equal(await answer.text(), "This is an echo backend: leaf.png");
 * ```
 */
export interface DescribeImageOptions {
  /** The image. */
  image: ImageInput;
  /** What to ask about the image ("Describe this image for alt text"). */
  prompt: string;
  /** The file name, when `image` is not a `File` (used for its type and in messages). */
  fileName?: string;
  /** Aborts the request or stream. */
  signal?: AbortSignal;
  /** Model options for this call only: as {@link PromptWithContextOptions.options}. */
  options?: Readonly<ChatOptions>;
  /** Who and what this call is for: as {@link PromptWithContextOptions.metadata}. */
  metadata?: CallMetadata;
}

/**
 * Arguments of {@link Backend.promptForObject}: the instruction, the content
 * and the JSON Schema the answer must follow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PromptForObjectOptions } from "../mod.ts";
 * const args: PromptForObjectOptions<{ title: string }> = {
 *   prePrompt: "Suggest a title for this page.",
 *   context: "Our park in spring: what flowers first, and where.",
 *   schema: { type: "object", properties: { title: { type: "string", maxLength: 60 } }, required: ["title"] },
 * };
 * assert.equal(typeof args.schema, "object");
 * ```
 */
export interface PromptForObjectOptions<T = unknown> {
  /** The instruction that comes before the content ("Suggest a title:"). */
  prePrompt: string;
  /** The content to work on. */
  context: string;
  /** The JSON Schema the answer must follow (or a Standard Schema that gives one). */
  schema: ObjectSchema<T>;
  /** The schema's name (letters, digits, `_`, `-`; default `"response"`). */
  name?: string;
  /** Aborts the request (and the repair request). */
  signal?: AbortSignal;
  /** Model options for this call only: as {@link PromptWithContextOptions.options}. */
  options?: Readonly<ChatOptions>;
  /** Who and what this call is for: as {@link PromptWithContextOptions.metadata}. */
  metadata?: CallMetadata;
}

/**
 * A configured AI backend.
 *
 * Wrong arguments and missing capabilities throw at the call; network and
 * API errors surface when the response is read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * const backend = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * }).getAIBackend("default");
 * const answer = await backend.promptWithContext({ prePrompt: "Echo:", context: "hi" }).text();
 * assert.ok(answer === "This is an echo backend: hi");
 * ```
 */
export interface Backend {
  /** The backend's alias in `BACKENDS`. */
  readonly alias: string;
  /** The parsed configuration (camelCase keys). */
  readonly config: BaseBackendConfig;
  /** Completes text: the instruction and the content in one prompt. */
  promptWithContext(options: PromptWithContextOptions): AIResponse;
  /** Describes an image. */
  describeImage(options: DescribeImageOptions): AIResponse;
  /**
   * Asks for an answer that follows a JSON Schema: the instruction and the
   * content in one prompt, the answer parsed, checked against the schema and
   * repaired once (see `Provider.completeObject()`). Resolves to
   * `{object, usage, strategy}`. Wrong arguments (a schema that is not an
   * object included) and a backend that cannot (`UnsupportedFeatureError`)
   * throw at the call; service errors and `StructuredOutputError` reject.
   */
  promptForObject<T = unknown>(options: PromptForObjectOptions<T>): Promise<ObjectCompletion<T>>;
  /** A splitter whose chunks fit this backend's `tokenLimit` (or `options.chunkSize`). */
  getTextSplitter(options?: TextSplitterChoice): Promise<TextSplitter>;
  /** The length calculator of this backend's splitter, loaded. */
  getSplitterLengthCalculator(): Promise<LengthCalculator>;
}

/**
 * Options of {@link Backend.getTextSplitter}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type TextSplitterChoice } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * });
 * const choice: TextSplitterChoice = { chunkSize: 5, chunkOverlap: 0 };
 * const splitter = await ai.getAIBackend("default").getTextSplitter(choice);
 * assert.ok(splitter.splitText("A longer text, cut into chunks of five tokens.").length > 1);
 * ```
 */
export interface TextSplitterChoice {
  /** The chunk size in length units (default: the backend's `tokenLimit`). */
  chunkSize?: number;
  /** The overlap between chunks (default: the splitter's). */
  chunkOverlap?: number;
}

/**
 * What a backend class receives besides its config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type BackendContext,
 *   EchoBackend,
 *   NaiveTextSplitterCalculator,
 *   RecursiveCharacterTextSplitter,
 * } from "../mod.ts";
 * const context: BackendContext = {
 *   alias: "draft",
 *   onWarning: (warning) => console.warn(warning),
 * };
 * const config = EchoBackend.parseConfig({ MODEL_ID: "echo", TOKEN_LIMIT: 100 }, {
 *   ...context,
 *   textSplitterClass: RecursiveCharacterTextSplitter,
 *   textSplitterLengthCalculatorClass: NaiveTextSplitterCalculator,
 * });
 * assert.equal(new EchoBackend(config, context).alias, "draft");
 * ```
 */
export interface BackendContext {
  /** The alias in `BACKENDS`. */
  alias: string;
  /** The `llm` user directory override (`createAI` option `llmUserPath`). */
  llmUserPath?: string;
  /**
   * How often, at most, the LLM backend checks the user directory's files for
   * changes, in milliseconds (`createAI` option `llmCheckIntervalMs`; default
   * 1000, 0: at every call).
   */
  llmCheckIntervalMs?: number;
  /** Receives deprecation and other warnings. */
  onWarning?: (warning: Error) => void;
  /** Finds a provider by alias in `PROVIDERS` (for the provider backend); set by `createAI()`. */
  getProvider?: (alias: string) => Provider;
}

/**
 * What `parseConfig` receives besides the raw `CONFIG`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   type ConfigContext,
 *   EchoBackend,
 *   ImproperlyConfigured,
 *   RecursiveCharacterTextSplitter,
 *   TiktokenLengthCalculator,
 * } from "../mod.ts";
 * const context: ConfigContext = {
 *   alias: "default",
 *   textSplitterClass: RecursiveCharacterTextSplitter,
 *   textSplitterLengthCalculatorClass: TiktokenLengthCalculator,
 * };
 * assert.equal(EchoBackend.parseConfig({ MODEL_ID: "gpt-4o" }, context).tokenLimit, 128000);
 * assert.throws(
 *   () => EchoBackend.parseConfig({ MODEL_ID: "echo", COLOUR: "red" }, context),
 *   ImproperlyConfigured,
 * );
 * ```
 */
export interface ConfigContext extends BackendContext {
  /** The resolved splitter class. */
  textSplitterClass: TextSplitterClass;
  /** The resolved length calculator class. */
  textSplitterLengthCalculatorClass: LengthCalculatorClass;
}

/**
 * A backend class, as `CLASS` or `registerBackendClass()` takes it: a
 * constructor plus a static `parseConfig` that turns raw `CONFIG` into the
 * config object (extend {@link BaseBackend} to get both).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BackendClass, createAI, EchoBackend } from "../mod.ts";
 * const cls: BackendClass = EchoBackend;
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: cls, CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } } },
 * });
 * assert.ok(ai.getAIBackend("default") instanceof EchoBackend);
 * ```
 */
export interface BackendClass {
  /** Builds a backend from its parsed config. */
  new (config: never, context: BackendContext): Backend;
  /** Validates the raw `CONFIG` and returns the parsed config. */
  parseConfig(raw: Record<string, unknown>, context: ConfigContext): BaseBackendConfig;
}
