/**
 * The LLM backend (`CLASS: "wagtail_ai.ai.llm.LLMBackend"` or `"llm"`), the
 * default backend of the settings: it prompts a model of the LLM registry
 * (built-in OpenAI models, `extra-openai-models.yaml`, plugins).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, LLMBackend } from "../../mod.ts";
 *
 * const llmUserPath = await Deno.makeTempDir();
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "wagtail_ai.ai.llm.LLMBackend",
 *       CONFIG: {
 *         MODEL_ID: "4o-mini",
 *         INIT_KWARGS: { key: "sk-example", temperature: 0.2 },
 *         PROMPT_KWARGS: { system: "A custom, global system prompt." },
 *       },
 *     },
 *   },
 * }, { llmUserPath });
 * const backend = ai.getAIBackend("default") as LLMBackend;
 * assert.equal(backend.config.tokenLimit, 128000); // gpt-4o-mini's context window
 * const model = backend.getLLMModel();
 * assert.equal(model.modelId, "gpt-4o-mini");
 * assert.equal(model.key, "sk-example");
 * assert.deepEqual(model.options, { temperature: 0.2 });
 * await Deno.remove(llmUserPath);
 * ```
 *
 * @module
 */
import { ImproperlyConfigured, UnknownModelError, UnsupportedFeatureError } from "../../errors.ts";
import { getDefaultTokenLimit } from "../../tokens.ts";
import { checkImageSize, DEFAULT_MAX_IMAGE_BYTES } from "../../_image.ts";
import {
  describeType,
  optionalInteger,
  rejectSecretPlaceholder,
  rejectUnknownKeys,
  requireObject,
  requireString,
} from "../../_validate.ts";
import { checkCallOptions } from "../_messages.ts";
import { BaseBackend, configWhere } from "../base.ts";
import type { AIResponse } from "../response.ts";
import type {
  BackendContext,
  BaseBackendConfig,
  ConfigContext,
  DescribeImageOptions,
  PromptForObjectOptions,
  PromptWithContextOptions,
} from "../types.ts";
import type { ObjectCompletion } from "../../structured.ts";
import { OpenAIChatModel } from "./openai_models.ts";
import { type LLMModel, llmModelOfChecked, type LLMPromptOptions } from "./llm_model.ts";
import { type Model, type ModelPrompt, supportsImages, validateModelOptions } from "./model.ts";
import { getModel, type RegistryOptions } from "./registry.ts";
import { userDirEnvHint } from "./_user_dir.ts";

/**
 * The LLM backend's config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type LLMBackend, type LLMBackendConfig } from "../../mod.ts";
 * const llmUserPath = await Deno.makeTempDir();
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "llm",
 *       CONFIG: {
 *         MODEL_ID: "4o-mini",
 *         INIT_KWARGS: { key: "sk-test" },
 *         PROMPT_KWARGS: { system: "Be brief." },
 *       },
 *     },
 *   },
 * }, { llmUserPath });
 * const config: LLMBackendConfig = (ai.getBackend() as LLMBackend).config;
 * assert.equal(config.tokenLimit, 128000); // gpt-4o-mini's window
 * assert.equal(config.promptKwargs.system, "Be brief.");
 * await Deno.remove(llmUserPath);
 * ```
 */
export interface LLMBackendConfig extends BaseBackendConfig {
  /** `INIT_KWARGS`: `key` and model options, set on the model. */
  readonly initKwargs: Readonly<Record<string, unknown>>;
  /** `PROMPT_KWARGS`: `system`, `stream` and model options, passed with each prompt. */
  readonly promptKwargs: Readonly<Record<string, unknown>>;
}

function tokenTable(modelId: string): number | undefined {
  try {
    return getDefaultTokenLimit(modelId);
  } catch {
    return undefined;
  }
}

/**
 * How often, at most, the LLM backend checks the user directory's files for
 * changes when its context does not say (`llmCheckIntervalMs`): once a second.
 */
const DEFAULT_LLM_CHECK_INTERVAL_MS = 1000;

function registryOptions(context: BackendContext): RegistryOptions {
  const options: RegistryOptions = {
    checkIntervalMs: context.llmCheckIntervalMs ?? DEFAULT_LLM_CHECK_INTERVAL_MS,
  };
  if (context.llmUserPath !== undefined) options.userPath = context.llmUserPath;
  return options;
}

// The model each config of parseConfig() resolved to, for the constructor that follows.
interface Parsed {
  model: Model;
  init: ReturnType<typeof splitKwargs>;
  prompt: ReturnType<typeof splitKwargs>;
  /** INIT_KWARGS' model options, checked against the model (frozen). */
  initOptions: Readonly<Record<string, unknown>>;
}
// The last config of parseConfig() and what it found, for the constructor that follows it.
// Kept only for a constructor given the same config and a context that finds models alike.
let lastParsed:
  | { config: LLMBackendConfig; parsed: Parsed; userPath: string | undefined }
  | undefined;

function findModel(modelId: string, options: RegistryOptions, alias: string): Model {
  const userPath = options.userPath;
  try {
    return getModel(modelId, options);
  } catch (error) {
    if (error instanceof UnknownModelError) {
      throw new UnknownModelError(
        modelId,
        `Unknown model "${modelId}" in MODEL_ID of ${
          configWhere(alias)
        }: run the "models" command to list the models and aliases${userDirEnvHint(userPath)}`,
      );
    }
    throw error;
  }
}

function splitKwargs(
  raw: unknown,
  key: string,
  where: string,
  special: Record<string, "string" | "boolean">,
): {
  special: Record<string, unknown>;
  options: Record<string, unknown>;
  raw: Record<string, unknown>;
} {
  if (raw === undefined || raw === null) return { special: {}, options: {}, raw: {} };
  const object = requireObject(raw, `${key} in ${where}`);
  const out = { special: {} as Record<string, unknown>, options: {} as Record<string, unknown> };
  for (const [name, value] of Object.entries(object)) {
    const type = special[name];
    if (type === undefined) {
      out.options[name] = value;
      continue;
    }
    if (value === undefined || value === null) continue;
    if (typeof value !== type || (type === "string" && (value as string).trim() === "")) {
      throw new ImproperlyConfigured(
        `${key}.${name} in ${where} must be ${
          type === "string" ? "a non-empty string" : "true or false"
        }, got ${describeType(value)}`,
      );
    }
    out.special[name] = value;
  }
  return { ...out, raw: { ...object } };
}

/**
 * Prompts a model of the LLM registry. The prompt is the pre-prompt, the
 * context and the post-prompt (when given) joined by newlines, sent as the
 * user message; `PROMPT_KWARGS.system` is the system message and its other
 * keys are model options; `INIT_KWARGS` set the model's key and options.
 * Answers stream when the model can. `describeImage` sends the image as an
 * attachment to vision models and throws {@link UnsupportedFeatureError} at
 * the call for the others.
 *
 * The user directory's files (`extra-openai-models.yaml`, `aliases.json`,
 * `keys.json`) are read once and kept: building the backend again and
 * prompting open no file while they are unchanged. They are checked by
 * modification time (a `stat` of each, no file opened) at most once per
 * `llmCheckIntervalMs` of the context (`createAI()`'s option; default one
 * second, 0: at every call), and a changed, new or deleted file is seen at
 * the first call after the check is due; `ai.reload()` makes the next call
 * read them afresh.
 *
 * @example A plugin model through the LLM backend
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, registerPlugin, unregisterPlugin } from "../../mod.ts";
 *
 * registerPlugin({
 *   name: "words",
 *   registerModels(register) {
 *     register({
 *       modelId: "word-count",
 *       contextWindow: 1000,
 *       async *execute(prompt) {
 *         yield { type: "text", text: `${prompt.prompt.split(/\s+/).length} words` };
 *       },
 *     });
 *   },
 * });
 * const llmUserPath = await Deno.makeTempDir();
 * const ai = createAI(
 *   { BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "word-count" } } } },
 *   { llmUserPath },
 * );
 * const backend = ai.getAIBackend("default");
 * const answer = backend.promptWithContext({ prePrompt: "Count:", context: "one two three" });
 * assert.equal(await answer.text(), "4 words");
 * unregisterPlugin("words");
 * await Deno.remove(llmUserPath);
 * ```
 */
export class LLMBackend extends BaseBackend<LLMBackendConfig> {
  /** The `CONFIG` keys of the LLM backend. */
  static override configKeys: readonly string[] = [
    "MODEL_ID",
    "TOKEN_LIMIT",
    "INIT_KWARGS",
    "PROMPT_KWARGS",
  ];

  /**
   * Parses `CONFIG`: resolves `MODEL_ID` (an id or alias) in the registry,
   * checks `INIT_KWARGS` and `PROMPT_KWARGS` against the model's options,
   * and takes `TOKEN_LIMIT` from the model when it is not set.
   *
   * @throws {UnknownModelError} when `MODEL_ID` names no model.
   * @throws {ImproperlyConfigured} naming the key and the alias.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, ImproperlyConfigured, UnknownModelError } from "../../mod.ts";
   * const llmUserPath = await Deno.makeTempDir();
   * const badOption = createAI({
   *   BACKENDS: {
   *     default: { CLASS: "llm", CONFIG: { MODEL_ID: "4o-mini", PROMPT_KWARGS: { colour: 1 } } },
   *   },
   * }, { llmUserPath });
   * assert.throws(() => badOption.getBackend(), ImproperlyConfigured); // Unknown option "colour" ...
   * const unknown = createAI({
   *   BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "no-such-model" } } },
   * }, { llmUserPath });
   * assert.throws(() => unknown.getBackend(), UnknownModelError);
   * await Deno.remove(llmUserPath);
   * ```
   */
  static override parseConfig(
    raw: Record<string, unknown>,
    context: ConfigContext,
  ): LLMBackendConfig {
    const where = configWhere(context.alias);
    rejectUnknownKeys(raw, this.configKeys, where);
    const modelId = requireString(raw.MODEL_ID, "MODEL_ID", where);
    const explicitLimit = optionalInteger(raw.TOKEN_LIMIT, "TOKEN_LIMIT", where, { min: 1 });
    const init = splitKwargs(raw.INIT_KWARGS, "INIT_KWARGS", where, { key: "string" });
    rejectSecretPlaceholder(init.special.key, "INIT_KWARGS.key", where);
    const model = findModel(modelId, registryOptions(context), context.alias);
    const initOptions = Object.freeze(validateModelOptions(model, init.options, {
      where: `INIT_KWARGS in ${where}`,
    }));
    const prompt = splitKwargs(raw.PROMPT_KWARGS, "PROMPT_KWARGS", where, {
      system: "string",
      stream: "boolean",
    });
    validateModelOptions(model, prompt.options, { where: `PROMPT_KWARGS in ${where}` });
    const tokenLimit = explicitLimit ?? model.contextWindow ?? tokenTable(model.modelId);
    if (tokenLimit === undefined) {
      throw new ImproperlyConfigured(
        `No token limit is known for model "${modelId}"${
          model.modelId === modelId ? "" : ` ("${model.modelId}")`
        }: set TOKEN_LIMIT in ${where} to the model's context window`,
      );
    }
    const config: LLMBackendConfig = {
      modelId,
      tokenLimit,
      textSplitterClass: context.textSplitterClass,
      textSplitterLengthCalculatorClass: context.textSplitterLengthCalculatorClass,
      initKwargs: Object.freeze(init.raw),
      promptKwargs: Object.freeze(prompt.raw),
    };
    lastParsed = {
      config,
      parsed: { model, init, prompt, initOptions },
      userPath: context.llmUserPath,
    };
    return config;
  }

  readonly #llmModel: LLMModel;
  readonly #promptOptions: Omit<LLMPromptOptions, "signal" | "attachments">;

  /** Builds the backend: looks the model up and sets `INIT_KWARGS` on it. */
  constructor(config: LLMBackendConfig, context: BackendContext) {
    super(config, context);
    const where = configWhere(this.alias);
    const registry = registryOptions(context);
    const userPath = registry.userPath;
    // The model parseConfig() found for this config, else looked up now.
    // What parseConfig() found for this config (the model, the split and checked kwargs), else now.
    const parsed = lastParsed?.config === config && lastParsed.userPath === context.llmUserPath
      ? lastParsed.parsed
      : undefined;
    lastParsed = undefined;
    const model = parsed?.model ?? findModel(config.modelId, registry, this.alias);
    const init = parsed?.init ??
      splitKwargs(config.initKwargs, "INIT_KWARGS", where, { key: "string" });
    this.#llmModel = llmModelOfChecked(model, {
      ...(init.special.key === undefined ? {} : { key: init.special.key as string }),
      options: parsed === undefined ? init.options : parsed.initOptions,
      ...(userPath === undefined ? {} : { userPath }),
      checkIntervalMs: registry.checkIntervalMs!,
      where: `INIT_KWARGS in ${where}`,
    });
    const prompt = parsed?.prompt ?? splitKwargs(config.promptKwargs, "PROMPT_KWARGS", where, {
      system: "string",
      stream: "boolean",
    });
    this.#promptOptions = {
      options: prompt.options,
      where: `PROMPT_KWARGS in ${where}`,
      ...(prompt.special.system === undefined ? {} : { system: prompt.special.system as string }),
      ...(prompt.special.stream === undefined ? {} : { stream: prompt.special.stream as boolean }),
    };
  }

  /**
   * The model with its key and options set from `INIT_KWARGS`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, type LLMBackend } from "../../mod.ts";
   * const llmUserPath = await Deno.makeTempDir();
   * const ai = createAI({
   *   BACKENDS: {
   *     default: {
   *       CLASS: "llm",
   *       CONFIG: { MODEL_ID: "4o-mini", INIT_KWARGS: { key: "sk-test", temperature: 0.5 } },
   *     },
   *   },
   * }, { llmUserPath });
   * const model = (ai.getBackend() as LLMBackend).getLLMModel();
   * assert.equal(model.modelId, "gpt-4o-mini"); // the alias resolved
   * assert.equal(model.key, "sk-test");
   * assert.deepEqual(model.options, { temperature: 0.5 });
   * await Deno.remove(llmUserPath);
   * ```
   */
  getLLMModel(): LLMModel {
    return this.#llmModel;
  }

  /**
   * Prompts the model with `[prePrompt, context, postPrompt]` joined by
   * newlines. Per-call `options` are model options, merged over those of
   * `PROMPT_KWARGS` (and `INIT_KWARGS`) and checked against the model as
   * they are; `system` and `stream` are not model options and are refused.
   *
   * @example A cooler answer for one call
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, registerPlugin, unregisterPlugin } from "../../mod.ts";
   *
   * registerPlugin({
   *   name: "temperature",
   *   registerModels(register) {
   *     register({
   *       modelId: "show-temperature",
   *       contextWindow: 1000,
   *       optionSchema: { temperature: { type: "float", min: 0, max: 2, description: "Heat." } },
   *       async *execute(prompt) {
   *         yield { type: "text", text: `temperature ${prompt.options.temperature}` };
   *       },
   *     });
   *   },
   * });
   * const llmUserPath = await Deno.makeTempDir();
   * const backend = createAI({
   *   BACKENDS: {
   *     default: {
   *       CLASS: "llm",
   *       CONFIG: { MODEL_ID: "show-temperature", PROMPT_KWARGS: { temperature: 1 } },
   *     },
   *   },
   * }, { llmUserPath }).getAIBackend("default");
   * const args = { prePrompt: "Title:", context: "An article" };
   * assert.equal(await backend.promptWithContext(args).text(), "temperature 1");
   * const cool = backend.promptWithContext({ ...args, options: { temperature: 0.2 } });
   * assert.equal(await cool.text(), "temperature 0.2");
   * assert.throws(
   *   () => backend.promptWithContext({ ...args, options: { top_k: 5 } }),
   *   TypeError, // Unknown option "top_k" for model "show-temperature" in options...
   * );
   * unregisterPlugin("temperature");
   * await Deno.remove(llmUserPath);
   * ```
   *
   * @throws {TypeError} for wrong arguments, a per-call option the model does
   * not take included (naming it). A per-call `max_tokens` stays within one set
   * in `PROMPT_KWARGS` or `INIT_KWARGS`.
   * @throws {MissingAPIKeyError} when the model needs a key and none is found.
   */
  promptWithContext(options: PromptWithContextOptions): AIResponse {
    this.checkPromptOptions(options);
    const parts = [options.prePrompt, options.context];
    if (options.postPrompt) parts.push(options.postPrompt);
    return this.#llmModel.prompt(parts.join("\n"), {
      ...this.#promptFor(options.options, "promptWithContext"),
      ...(options.signal ? { signal: options.signal } : {}),
      alias: this.alias,
    });
  }

  // PROMPT_KWARGS with per-call model options merged over its own, checked against the model.
  #promptFor(
    given: Readonly<Record<string, unknown>> | undefined,
    method: "promptWithContext" | "describeImage" | "promptForObject",
  ): Omit<LLMPromptOptions, "signal" | "attachments"> {
    const callOptions = checkCallOptions(given, method);
    if (callOptions === undefined) return this.#promptOptions;
    const where = `options of ${method}()`;
    if (Object.hasOwn(callOptions, "system")) {
      throw new TypeError(
        `${where} must not set "system": it is not a model option (the LLM backend's system ` +
          `prompt is PROMPT_KWARGS.system in ${configWhere(this.alias)}; put per-call ` +
          "instructions in the prompt)",
      );
    }
    let checked: Record<string, unknown>;
    try {
      checked = validateModelOptions(this.#llmModel.model, callOptions, {
        where: `${where} on backend "${this.alias}"`,
      });
    } catch (error) {
      // A wrong argument of this call, not wrong settings.
      if (error instanceof ImproperlyConfigured) {
        throw new TypeError(error.message, { cause: error });
      }
      throw error;
    }
    const options: Record<string, unknown> = { ...this.#promptOptions.options, ...checked };
    // A configured answer cap (PROMPT_KWARGS or INIT_KWARGS) is a ceiling for the call's.
    for (const key of ["max_tokens", "max_completion_tokens"]) {
      const ceilings = [this.#promptOptions.options?.[key], this.#llmModel.options[key]]
        .filter((value): value is number => typeof value === "number");
      if (typeof checked[key] === "number" && ceilings.length > 0) {
        options[key] = Math.min(checked[key] as number, ...ceilings);
      }
    }
    return { ...this.#promptOptions, options };
  }

  /**
   * Asks an OpenAI-style model (a built-in one, an `extra-openai-models.yaml`
   * entry, an `OpenAIChatModel` of a plugin) for an answer that follows
   * `schema`: `[prePrompt, context]` joined by a newline as the user message,
   * `PROMPT_KWARGS.system` as the system message, with
   * `response_format: {type: "json_schema"}` when the model takes it
   * (OpenAI's own models, entries with `supports_schema: true`), else the
   * schema in the prompt; checked and repaired once.
   *
   * @throws {UnsupportedFeatureError} for a model that is not OpenAI-style.
   * @throws {TypeError} for wrong arguments (a schema that is not an object included).
   * @throws {MissingAPIKeyError} when the model needs a key and none is found.
   *
   * @example A model that is not OpenAI-style is refused at the call
   * ```ts
   * import assert from "node:assert/strict";
   * import {
   *   createAI,
   *   registerPlugin,
   *   unregisterPlugin,
   *   UnsupportedFeatureError,
   * } from "../../mod.ts";
   * registerPlugin({
   *   name: "json-less",
   *   registerModels(register) {
   *     register({
   *       modelId: "plain-words",
   *       contextWindow: 1000,
   *       attachmentTypes: ["image/png"],
   *       async *execute(prompt) {
   *         yield { type: "text", text: "not JSON" };
   *       },
   *     });
   *   },
   * });
   * const llmUserPath = await Deno.makeTempDir();
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "plain-words" } } },
   * }, { llmUserPath });
   * const schema = { type: "object", properties: { title: { type: "string" } } } as const;
   * assert.throws(
   *   () =>
   *     ai.getBackend().promptForObject({ prePrompt: "A title for:", context: "a page", schema }),
   *   UnsupportedFeatureError,
   * );
   * unregisterPlugin("json-less");
   * await Deno.remove(llmUserPath);
   * ```
   */
  override promptForObject<T = unknown>(
    options: PromptForObjectOptions<T>,
  ): Promise<ObjectCompletion<T>> {
    const checked = this.checkObjectOptions(options);
    const model = this.#llmModel.model;
    if (!(model instanceof OpenAIChatModel)) {
      throw new UnsupportedFeatureError(
        `Backend "${this.alias}" cannot answer with JSON that follows a schema: model ` +
          `"${model.modelId}" is not an OpenAI-style model (use an OpenAI model, or a provider ` +
          'backend with CLASS "provider")',
      );
    }
    const { system, options: promptOptions } = this.#promptFor(options.options, "promptForObject");
    const prompt: ModelPrompt = {
      prompt: [options.prePrompt, options.context].join("\n"),
      ...(system ? { system } : {}),
      attachments: [],
      options: { ...this.#llmModel.options, ...promptOptions },
    };
    const key = this.#llmModel.resolveKey();
    return model.completeObject<T>(prompt, {
      schema: options.schema,
      name: checked.name,
      ...(key !== undefined ? { key } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * Describes an image with a vision model: the prompt and the image as an
   * attachment.
   *
   * @throws {UnsupportedFeatureError} when the model has no vision.
   * @throws {TypeError} for wrong arguments (an empty prompt included).
   * @throws {TypeError} for a per-call option the model does not take, naming it.
   *
   * @example A plugin model that takes PNG images
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, registerPlugin, unregisterPlugin } from "../../mod.ts";
   * registerPlugin({
   *   name: "seeing",
   *   registerModels(register) {
   *     register({
   *       modelId: "image-sizes",
   *       contextWindow: 1000,
   *       attachmentTypes: ["image/png"],
   *       async *execute(prompt) {
   *         yield {
   *           type: "text",
   *           text: `${prompt.attachments[0].mimeType}, ${
   *             prompt.attachments[0].bytes.length
   *           } bytes`,
   *         };
   *       },
   *     });
   *   },
   * });
   * const llmUserPath = await Deno.makeTempDir();
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "image-sizes" } } },
   * }, { llmUserPath });
   * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
   * const answer = ai.getBackend().describeImage({ image: png, prompt: "Describe" });
   * assert.equal(await answer.text(), "image/png, 12 bytes");
   * unregisterPlugin("seeing");
   * await Deno.remove(llmUserPath);
   * ```
   */
  override describeImage(options: DescribeImageOptions): AIResponse {
    this.checkImageOptions(options);
    const model = this.#llmModel.model;
    if (!supportsImages(model)) {
      throw new UnsupportedFeatureError(
        `Backend "${this.alias}" cannot describe images: model "${model.modelId}" has no vision ` +
          "(use a vision model such as gpt-4o-mini)",
      );
    }
    // Bytes are refused at the call when they are no supported image (a Blob when it is read).
    checkImageSize(options.image, DEFAULT_MAX_IMAGE_BYTES, options.fileName);
    const named = typeof File !== "undefined" && options.image instanceof File;
    const image = options.fileName !== undefined && !named
      ? new File([options.image as Blob | Uint8Array<ArrayBuffer>], options.fileName)
      : options.image;
    return this.#llmModel.prompt(options.prompt, {
      ...this.#promptFor(options.options, "describeImage"),
      attachments: [image],
      ...(options.signal ? { signal: options.signal } : {}),
      alias: this.alias,
    });
  }
}
