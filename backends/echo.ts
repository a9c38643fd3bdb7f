/**
 * The echo backend: answers without any AI service, for development, tests
 * and demos.
 *
 * @module
 */
import type { TokenUsage } from "../chat.ts";
import { checkImageSize, checkImageType, DEFAULT_MAX_IMAGE_BYTES, imageName } from "../_image.ts";
import { getTokenCounter } from "../tokens.ts";
import { BaseBackend, configWhere } from "./base.ts";
import { AIResponse, type RequestPlan, type ResponseEvent } from "./response.ts";
import type {
  BaseBackendConfig,
  ConfigContext,
  DescribeImageOptions,
  PromptWithContextOptions,
} from "./types.ts";
import { optionalNumber } from "../_validate.ts";

/**
 * The longest `MAX_WORD_SLEEP_SECONDS`: what a timer can hold (2^31 - 1
 * milliseconds). Wagtail AI takes any non-negative number.
 */
const MAX_SLEEP_SECONDS = (2 ** 31 - 1) / 1000;

/**
 * The echo backend's config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, EchoBackend, type EchoBackendConfig } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "echo",
 *       CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000, MAX_WORD_SLEEP_SECONDS: 0.01 },
 *     },
 *   },
 * });
 * const config: EchoBackendConfig = (ai.getAIBackend("default") as EchoBackend).config;
 * assert.equal(config.maxWordSleepSeconds, 0.01);
 * ```
 */
export interface EchoBackendConfig extends BaseBackendConfig {
  /** `MAX_WORD_SLEEP_SECONDS`: the longest random pause between words, in seconds (default 0). */
  readonly maxWordSleepSeconds: number;
}

/**
 * Answers "This is an echo backend:" followed by the context's words (or the
 * image's file name), one word per chunk. With `MAX_WORD_SLEEP_SECONDS` it
 * pauses a random time up to that many seconds between words, to show
 * streaming. Per-call `options` are checked like any backend's (a bad one
 * throws at the call), then ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1024 } } },
 * });
 * const response = ai.getAIBackend("default").promptWithContext({
 *   prePrompt: "Correct this:",
 *   context: "Hello  there",
 * });
 * const chunks: string[] = [];
 * for await (const chunk of response) chunks.push(chunk);
 * assert.ok(chunks.length === 7);
 * assert.ok(await response.text() === "This is an echo backend: Hello there");
 * ```
 */
export class EchoBackend extends BaseBackend<EchoBackendConfig> {
  /** The `CONFIG` keys of the echo backend. */
  static override configKeys: readonly string[] = [
    ...BaseBackend.configKeys,
    "MAX_WORD_SLEEP_SECONDS",
  ];

  /**
   * Parses `CONFIG`, including `MAX_WORD_SLEEP_SECONDS`: any number of seconds
   * from 0 to what a timer can hold (2147483.647), as Wagtail AI takes it.
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
   * assert.equal(
   *   EchoBackend.parseConfig({ MODEL_ID: "echo", TOKEN_LIMIT: 10 }, context).maxWordSleepSeconds,
   *   0,
   * );
   * assert.throws(
   *   () =>
   *     EchoBackend.parseConfig(
   *       { MODEL_ID: "echo", TOKEN_LIMIT: 10, MAX_WORD_SLEEP_SECONDS: -1 },
   *       context,
   *     ),
   *   ImproperlyConfigured,
   * );
   * ```
   */
  static override parseConfig(
    raw: Record<string, unknown>,
    context: ConfigContext,
  ): EchoBackendConfig {
    const base = super.parseConfig(raw, context);
    const maxWordSleepSeconds = optionalNumber(
      raw.MAX_WORD_SLEEP_SECONDS,
      "MAX_WORD_SLEEP_SECONDS",
      configWhere(context.alias),
      { min: 0, max: MAX_SLEEP_SECONDS },
    ) ?? 0;
    return { ...base, maxWordSleepSeconds };
  }

  /**
   * Echoes the context's words.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * const backend = ai.getAIBackend("default");
   * assert.equal(
   *   await backend.promptWithContext({ prePrompt: "Ignored", context: "two  words" }).text(),
   *   "This is an echo backend: two words",
   * );
   * assert.throws(() => backend.promptWithContext({ prePrompt: "", context: " " }), TypeError);
   * ```
   */
  promptWithContext(options: PromptWithContextOptions): AIResponse {
    this.checkPromptOptions(options);
    const words = options.context.split(/\s+/).filter((word) => word !== "");
    const prompt = [options.prePrompt, options.context, options.postPrompt ?? ""].join("\n");
    return this.#respond(words, prompt, options.signal);
  }

  /**
   * Echoes the image's file name. The image is checked as other backends
   * check it: a PNG, JPEG, GIF or WebP image by its bytes, at most 20 MB.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, InvalidImageError } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * const backend = ai.getAIBackend("default");
   * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
   * const file = new File([png], "leaf.png");
   * assert.equal(
   *   await backend.describeImage({ image: file, prompt: "Alt text" }).text(),
   *   "This is an echo backend: leaf.png",
   * );
   * const text = new File(["not an image"], "fake.png");
   * await assert.rejects(
   *   backend.describeImage({ image: text, prompt: "Alt text" }).text(),
   *   InvalidImageError,
   * );
   * ```
   */
  override describeImage(options: DescribeImageOptions): AIResponse {
    this.checkImageOptions(options);
    const { image, fileName } = options;
    checkImageSize(image, DEFAULT_MAX_IMAGE_BYTES, fileName);
    return this.#respond(
      [imageName(image, fileName)],
      options.prompt,
      options.signal,
      image instanceof Uint8Array ? undefined : () => checkImageType(image, fileName),
    );
  }

  #respond(
    words: string[],
    prompt: string,
    signal: AbortSignal | undefined,
    before?: () => Promise<void>,
  ): AIResponse {
    const all = ["This", "is", "an", "echo", "backend:", ...words];
    const maxSleep = this.config.maxWordSleepSeconds;
    const model = this.config.modelId;
    return new AIResponse({
      answeredBy: { alias: this.alias, provider: "echo", model, backend: this.alias },
      // The answer is known before it is given: its count is the cap.
      async prepare(): Promise<RequestPlan> {
        const count = await getTokenCounter(model);
        return { model, promptTokens: count(prompt), maxOutputTokens: count(all.join(" ")) };
      },
      // No service, no usage: the prompt and the answer counted for the model.
      async estimateUsage(text: string): Promise<TokenUsage> {
        const count = await getTokenCounter(model);
        const inputTokens = count(prompt);
        const outputTokens = count(text);
        return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
      },
      async *stream(streamSignal?: AbortSignal): AsyncGenerator<ResponseEvent> {
        await before?.();
        for (let i = 0; i < all.length; i++) {
          streamSignal?.throwIfAborted();
          if (i > 0 && maxSleep > 0) await sleep(Math.random() * maxSleep * 1000, streamSignal);
          yield { type: "text", text: i === 0 ? all[i] : ` ${all[i]}` };
        }
      },
    }, { signal });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
