/**
 * {@link LLMModel}: a registry model with its key and options set, ready to
 * prompt (what the `llm` tool's Python API gives after
 * `model = llm.get_model(...)` and `model.key = ...`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, LLMModel, registerPlugin, unregisterPlugin } from "../../mod.ts";
 *
 * registerPlugin({
 *   name: "upper",
 *   registerModels(register) {
 *     register({
 *       modelId: "upper",
 *       optionSchema: { suffix: { type: "str", description: "Text to add at the end." } },
 *       async *execute(prompt) {
 *         yield { type: "text", text: prompt.prompt.toUpperCase() + (prompt.options.suffix ?? "") };
 *       },
 *     });
 *   },
 * });
 * const userPath = await Deno.makeTempDir();
 * const model = new LLMModel(getModel("upper", { userPath }), { userPath, options: { suffix: "!" } });
 * assert.equal(await model.prompt("hello").text(), "HELLO!");
 * assert.equal(await model.prompt("hello", { options: { suffix: "?" } }).text(), "HELLO?");
 * unregisterPlugin("upper");
 * await Deno.remove(userPath);
 * ```
 *
 * @module
 */
import { UnsupportedFeatureError } from "../../errors.ts";
import { redact } from "../../_redact.ts";
import { readImage } from "../../_image.ts";
import type { TokenUsage } from "../../chat.ts";
import { getMaxOutputTokens, getTokenCounter } from "../../tokens.ts";
import { TOKENS_PER_IMAGE } from "../../_budget.ts";
import { AIResponse, type AnswerInfo, type RequestPlan, type ResponseEvent } from "../response.ts";
import {
  type Attachment,
  type Model,
  type ModelPrompt,
  supportsImages,
  validateModelOptions,
} from "./model.ts";
import { type ResolveKeyOptions, resolveModelKey } from "./registry.ts";

/**
 * An attachment as given to {@link LLMModel.prompt}: a ready
 * {@link Attachment}, or an image as a `Blob`/`File` or bytes (its type is
 * read from the bytes: PNG, JPEG, GIF or WebP, else an `InvalidImageError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AttachmentInput } from "./llm_model.ts";
 * const input: AttachmentInput = new File([new Uint8Array([0xff, 0xd8, 0xff])], "photo.jpg");
 * assert.ok(input instanceof Blob);
 * ```
 */
export type AttachmentInput = Attachment | Blob | Uint8Array;

/**
 * Options of the {@link LLMModel} constructor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, LLMModel, type LLMModelOptions } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * const settings: LLMModelOptions = { key: "sk-test", options: { temperature: 0 }, userPath };
 * const model = new LLMModel(getModel("gpt-4o-mini", { userPath }), settings);
 * assert.equal(model.resolveKey(), "sk-test");
 * await Deno.remove(userPath);
 * ```
 */
export interface LLMModelOptions {
  /** An explicit API key, or the name of a key in keys.json (INIT_KWARGS `key`). */
  key?: string;
  /** Model options applied to every prompt (checked against the model's schema). */
  options?: Readonly<Record<string, unknown>>;
  /** The `llm` user directory (for keys.json). */
  userPath?: string;
  /**
   * Keep keys.json as read and check it for changes (a `stat`) at most once
   * per this many milliseconds, instead of reading it at every prompt (see
   * `RegistryOptions.checkIntervalMs`).
   */
  checkIntervalMs?: number;
  /** Where the options come from, for messages (`INIT_KWARGS in CONFIG of backend "default"`). */
  where?: string;
}

/**
 * Options of {@link LLMModel.prompt}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   getModel,
 *   LLMModel,
 *   type LLMPromptOptions,
 *   registerPlugin,
 *   unregisterPlugin,
 * } from "../../mod.ts";
 * registerPlugin({
 *   name: "shown",
 *   registerModels(register) {
 *     register({
 *       modelId: "show-system",
 *       async *execute(prompt) {
 *         yield { type: "text", text: `${prompt.system}|${prompt.prompt}` };
 *       },
 *     });
 *   },
 * });
 * const userPath = await Deno.makeTempDir();
 * const options: LLMPromptOptions = { system: "Be brief.", stream: false };
 * const model = new LLMModel(getModel("show-system", { userPath }));
 * assert.equal(await model.prompt("Hello", options).text(), "Be brief.|Hello");
 * unregisterPlugin("shown");
 * await Deno.remove(userPath);
 * ```
 */
export interface LLMPromptOptions {
  /** The system prompt. */
  system?: string;
  /** Files sent with the prompt (images, for vision models). */
  attachments?: readonly AttachmentInput[];
  /** Model options for this prompt; they override the model's own. */
  options?: Readonly<Record<string, unknown>>;
  /** Where `options` come from, for messages (`PROMPT_KWARGS of backend "default"`). */
  where?: string;
  /** Stream when the model can (default `true`). */
  stream?: boolean;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** The `BACKENDS` alias asking, for what `usage()` says answered (default: the model id). */
  alias?: string;
}

/** The vendor of a registry model, for what `usage()` says answered. */
function vendorOf(model: Model): string {
  const custom = (model as { customApiBase?: unknown }).customApiBase;
  if (typeof custom !== "boolean") return "llm"; // a plugin's model
  return custom ? "openai_compatible" : "openai";
}

function isAttachment(value: AttachmentInput): value is Attachment {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array) &&
    !(typeof Blob !== "undefined" && value instanceof Blob) &&
    typeof (value as Attachment).mimeType === "string" &&
    (value as Attachment).bytes instanceof Uint8Array;
}

function checkAttachmentType(model: Model, attachment: Attachment): void {
  const types = model.attachmentTypes ?? [];
  if (!types.includes(attachment.mimeType)) {
    throw new UnsupportedFeatureError(
      types.length === 0
        ? `Model "${model.modelId}" takes no attachments (it has no vision)`
        : `Model "${model.modelId}" cannot take ${attachment.mimeType} attachments (it takes ${
          types.join(", ")
        })`,
    );
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The signal has been aborted", "AbortError");
}

// A model's events that stop when the signal aborts, even from a model that
// does not watch the signal itself; the model's iterator is then closed.
async function* abortable(
  events: AsyncIterable<ResponseEvent>,
  signal: AbortSignal,
): AsyncGenerator<ResponseEvent> {
  const iterator = events[Symbol.asyncIterator]();
  let reject: (reason: unknown) => void = () => {};
  const aborted = new Promise<never>((_, fail) => reject = fail);
  aborted.catch(() => {});
  const onAbort = () => reject(abortError(signal));
  signal.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    while (true) {
      signal.throwIfAborted();
      const next = iterator.next();
      next.catch(() => {});
      const result = await Promise.race([next, aborted]);
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!finished && iterator.return) {
      // Closes the model's iterator once its pending step settles.
      Promise.resolve().then(() => iterator.return!()).catch(() => {});
    }
  }
}

// The frozen options that llmModelOfChecked() passes to the constructor, while it runs.
let trusted: Readonly<Record<string, unknown>> | undefined;

/**
 * Builds an {@link LLMModel} whose `options` are frozen and were checked for
 * `model` already (by `validateModelOptions()`, as the LLM backend checks
 * `INIT_KWARGS` in `parseConfig()`), so they are not checked again.
 */
export function llmModelOfChecked(model: Model, settings: LLMModelOptions): LLMModel {
  if (settings.options === undefined || !Object.isFrozen(settings.options)) {
    return new LLMModel(model, settings);
  }
  trusted = settings.options;
  try {
    return new LLMModel(model, settings);
  } finally {
    trusted = undefined;
  }
}

/**
 * A model with its key and options set. Its key never shows in
 * `JSON.stringify` or `Deno.inspect`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, LLMModel } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * const model = new LLMModel(getModel("4o-mini", { userPath }), {
 *   key: "sk-secret",
 *   options: { temperature: 0.2 },
 * });
 * assert.equal(model.key, "sk-secret");
 * assert.ok(!JSON.stringify(model).includes("sk-secret"));
 * assert.ok(!Deno.inspect(model).includes("sk-secret"));
 * await Deno.remove(userPath);
 * ```
 */
export class LLMModel {
  /** The registry model. */
  readonly model: Model;
  /** The explicit key (or keys.json name), when one was set. */
  readonly key: string | undefined;
  /** The checked options applied to every prompt. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The user directory used for keys.json. */
  readonly userPath: string | undefined;
  /** How often keys.json is checked for changes (undefined: read at every prompt). */
  readonly checkIntervalMs: number | undefined;

  /**
   * Sets a model's key and options.
   *
   * @throws {ImproperlyConfigured} for an unknown option or a bad value, naming it.
   */
  constructor(model: Model, settings: LLMModelOptions = {}) {
    this.model = model;
    this.key = settings.key === "" ? undefined : settings.key;
    const where = settings.where === undefined ? {} : { where: settings.where };
    const options = settings.options ?? {};
    // Options already checked for this model (the LLM backend's INIT_KWARGS) are not checked twice.
    this.options = options === trusted
      ? options
      : Object.freeze(validateModelOptions(model, options, where));
    this.userPath = settings.userPath;
    this.checkIntervalMs = settings.checkIntervalMs;
  }

  // What JSON and inspectors show (the key masked): methods of the class, so
  // that building a model (for every LLM backend built) defines nothing per instance.
  #view(): unknown {
    return redact({
      modelId: this.modelId,
      key: this.key,
      options: this.options,
      userPath: this.userPath,
    });
  }

  /**
   * The model as JSON, its key masked.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { getModel, LLMModel } from "../../mod.ts";
   * const userPath = await Deno.makeTempDir();
   * const model = new LLMModel(getModel("gpt-4o-mini", { userPath }), { key: "sk-secret" });
   * const json = JSON.stringify(model);
   * assert.ok(json.includes("gpt-4o-mini") && !json.includes("sk-secret"));
   * await Deno.remove(userPath);
   * ```
   */
  toJSON(): unknown {
    return this.#view();
  }

  /**
   * The model for `Deno.inspect` and `console.log`, its key masked.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { getModel, LLMModel } from "../../mod.ts";
   * const userPath = await Deno.makeTempDir();
   * const model = new LLMModel(getModel("gpt-4o-mini", { userPath }), { key: "sk-secret" });
   * assert.ok(!Deno.inspect(model).includes("sk-secret"));
   * await Deno.remove(userPath);
   * ```
   */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options?: unknown) => string,
    options: unknown,
  ): string {
    return inspect(this.#view(), options);
  }

  /**
   * The model for Node's `util.inspect`, its key masked.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { inspect } from "node:util";
   * import { getModel, LLMModel } from "../../mod.ts";
   * const userPath = await Deno.makeTempDir();
   * const model = new LLMModel(getModel("gpt-4o-mini", { userPath }), { key: "sk-secret" });
   * assert.ok(!inspect(model).includes("sk-secret"));
   * await Deno.remove(userPath);
   * ```
   */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options?: unknown) => string,
  ): string {
    return inspect(this.#view(), options);
  }

  /** The model's id. */
  get modelId(): string {
    return this.model.modelId;
  }

  /** Whether the model streams its answers. */
  get canStream(): boolean {
    return this.model.canStream !== false;
  }

  /** Whether the model takes images. */
  get vision(): boolean {
    return supportsImages(this.model);
  }

  /**
   * The key sent with requests: the explicit key (or the keys.json entry it
   * names), then keys.json under the model's key name, then its environment
   * variable; `undefined` for a model that needs none.
   *
   * @throws {MissingAPIKeyError} naming keys.json and the environment variable.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { getModel, LLMModel } from "../../mod.ts";
   * const userPath = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${userPath}/keys.json`, JSON.stringify({ work: "sk-work" }));
   * const model = new LLMModel(getModel("gpt-4o-mini", { userPath }), { key: "work", userPath });
   * assert.equal(model.resolveKey(), "sk-work"); // a keys.json name
   * await Deno.remove(userPath, { recursive: true });
   * ```
   */
  resolveKey(): string | undefined {
    const options: ResolveKeyOptions = {};
    if (this.key !== undefined) options.key = this.key;
    if (this.userPath !== undefined) options.userPath = this.userPath;
    if (this.checkIntervalMs !== undefined) options.checkIntervalMs = this.checkIntervalMs;
    return resolveModelKey(this.model, options);
  }

  /**
   * Prompts the model. Arguments, options, attachments the model cannot take
   * and a missing key throw here; the request is sent when the answer is read.
   *
   * @throws {TypeError} when `text` is not a string.
   * @throws {ImproperlyConfigured} for a bad option, naming it.
   * @throws {UnsupportedFeatureError} for attachments or a system prompt the model cannot take.
   * @throws {MissingAPIKeyError} when the model needs a key and none is found.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   getModel,
   *   LLMModel,
   *   registerPlugin,
   *   unregisterPlugin,
   *   UnsupportedFeatureError,
   * } from "../../mod.ts";
   * registerPlugin({
   *   name: "upper",
   *   registerModels(register) {
   *     register({
   *       modelId: "upper-case",
   *       async *execute(prompt) {
   *         yield { type: "text", text: prompt.prompt.toUpperCase() };
   *       },
   *     });
   *   },
   * });
   * const userPath = await Deno.makeTempDir();
   * const model = new LLMModel(getModel("upper-case", { userPath }));
   * assert.equal(await model.prompt("quiet").text(), "QUIET");
   * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
   * assert.throws(() => model.prompt("look", { attachments: [png] }), UnsupportedFeatureError); // no vision
   * unregisterPlugin("upper");
   * await Deno.remove(userPath);
   * ```
   */
  prompt(text: string, options: LLMPromptOptions = {}): AIResponse {
    if (typeof text !== "string") throw new TypeError("The prompt must be a string");
    const model = this.model;
    if (options.system !== undefined && typeof options.system !== "string") {
      throw new TypeError("system must be a string when given");
    }
    if (options.system && model.supportsSystemPrompt === false) {
      throw new UnsupportedFeatureError(`Model "${model.modelId}" does not take a system prompt`);
    }
    const inputs = options.attachments ?? [];
    if (inputs.length > 0 && (model.attachmentTypes ?? []).length === 0) {
      throw new UnsupportedFeatureError(
        `Model "${model.modelId}" takes no attachments such as images (it has no vision)`,
      );
    }
    const ready: Attachment[] = [];
    for (const input of inputs) {
      if (isAttachment(input)) {
        checkAttachmentType(model, input);
        ready.push(input);
      } else if (
        !(input instanceof Uint8Array) && !(typeof Blob !== "undefined" && input instanceof Blob)
      ) {
        throw new TypeError("An attachment must be a Blob, a File, bytes or {mimeType, bytes}");
      }
    }
    const where = options.where === undefined ? {} : { where: options.where };
    const promptOptions = {
      ...this.options,
      ...validateModelOptions(model, options.options ?? {}, where),
    };
    const base: ModelPrompt = {
      prompt: text,
      ...(options.system ? { system: options.system } : {}),
      attachments: ready,
      options: promptOptions,
    };
    model.checkPrompt?.(base);
    const key = this.resolveKey();
    const stream = options.stream !== false && this.canStream;
    const lazy = inputs.some((input) => !isAttachment(input));
    const answeredBy: AnswerInfo = options.alias === undefined
      ? { alias: model.modelId, provider: vendorOf(model), model: model.modelId }
      : {
        alias: options.alias,
        provider: vendorOf(model),
        model: model.modelId,
        backend: options.alias,
      };
    return new AIResponse({
      answeredBy,
      // For LIMITS: the prompt and the system prompt counted (and the least an image costs);
      // the cap is max_tokens when set, else the model's maximum output, else its window.
      async prepare(): Promise<RequestPlan> {
        const count = await getTokenCounter(model.modelId);
        const promptTokens = count(text) + (options.system ? count(options.system) : 0) +
          inputs.length * TOKENS_PER_IMAGE;
        const cap = promptOptions.max_tokens;
        const maxOutputTokens = typeof cap === "number" && cap >= 0
          ? cap
          : getMaxOutputTokens(model.modelId) ??
            Math.max(0, (model.contextWindow ?? 0) - promptTokens);
        return { model: model.modelId, promptTokens, maxOutputTokens };
      },
      // No usage from the service: the system prompt, the prompt and the answer counted.
      async estimateUsage(answer: string): Promise<TokenUsage> {
        const count = await getTokenCounter(model.modelId);
        const inputTokens = count(text) + (options.system ? count(options.system) : 0);
        const outputTokens = count(answer);
        return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
      },
      async *stream(signal?: AbortSignal): AsyncGenerator<ResponseEvent> {
        let prompt = base;
        if (lazy) {
          const attachments: Attachment[] = [];
          for (const input of inputs) {
            if (isAttachment(input)) {
              attachments.push(input);
              continue;
            }
            const image = await readImage(input);
            const attachment = { mimeType: image.mimeType, bytes: image.bytes, name: image.name };
            checkAttachmentType(model, attachment);
            attachments.push(attachment);
          }
          prompt = { ...base, attachments };
          model.checkPrompt?.(prompt);
        }
        signal?.throwIfAborted();
        const events = model.execute(prompt, { key, stream, ...(signal ? { signal } : {}) });
        if (!signal) {
          yield* events;
          return;
        }
        yield* abortable(events, signal);
      },
    }, options.signal ? { signal: options.signal } : {});
  }
}
