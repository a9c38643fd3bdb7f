/**
 * The settings object and {@link createAI}, the entry point that turns
 * settings into backends.
 *
 * The keys are those of Wagtail AI's `WAGTAIL_AI` setting, so a Wagtail AI
 * configuration moves over as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BackendFeature, createAI } from "./mod.ts";
 *
 * const ai = createAI({
 *   BACKENDS: {
 *     default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } },
 *   },
 * });
 * const backend = ai.getBackend(BackendFeature.TEXT_COMPLETION);
 * assert.ok(backend.config.tokenLimit === 4096);
 * ```
 *
 * @module
 */
import {
  BackendNotFound,
  ImproperlyConfigured,
  InvalidAIBackendError,
  InvalidProviderError,
} from "./errors.ts";
import { backendClasses } from "./backends/registry.ts";
import { EchoBackend } from "./backends/echo.ts";
import {
  type Backend,
  type BackendClass,
  type BackendContext,
  BackendFeature,
} from "./backends/types.ts";
import { createProvider, resolveProviderSettings } from "./providers/registry.ts";
import type { Provider, ProviderSettings, ResolvedProviderSettings } from "./providers/types.ts";
import { calculatorClasses, splitterClasses } from "./text_splitters/registry.ts";
import { NaiveTextSplitterCalculator } from "./text_splitters/naive.ts";
import { RecursiveCharacterTextSplitter } from "./text_splitters/recursive.ts";
import type { LengthCalculatorClass, TextSplitterClass } from "./text_splitters/types.ts";
import { getTokenCounter } from "./tokens.ts";
import { readTextFileIfExists } from "./_env.ts";
import { preloadClient } from "./_openai_client.ts";
import { guardSecrets } from "./_redact.ts";
import {
  describeType,
  nameList,
  optionalString,
  rejectUnknownKeys,
  requireObject,
} from "./_validate.ts";
import { parseYaml } from "./_yaml.ts";

/**
 * A backend's `CONFIG`. Which keys apply depends on the backend class; each
 * class rejects keys it does not know.
 */
export interface BackendConfigSettings {
  /** The model id (required, except by the provider backend: default its provider's `model`). */
  MODEL_ID?: string;
  /** The model's context window in tokens (default: the known window of `MODEL_ID`). */
  TOKEN_LIMIT?: number;
  /** LLM backend: model options such as `key` and `temperature`. */
  INIT_KWARGS?: Record<string, unknown>;
  /** LLM backend: prompt arguments such as `system`, and model options. */
  PROMPT_KWARGS?: Record<string, unknown>;
  /** OpenAI backend: seconds before a request attempt times out (default 15). */
  TIMEOUT_SECONDS?: number;
  /** OpenAI backend: the API key (default: the `OPENAI_API_KEY` environment variable). */
  OPENAI_API_KEY?: string;
  /** OpenAI backend: the API's base URL (default `https://api.openai.com/v1`). */
  API_BASE?: string;
  /** OpenAI backend: retries of a failed request (default 2). */
  MAX_RETRIES?: number;
  /** OpenAI backend: the most tokens to ask for in an answer. */
  MAX_OUTPUT_TOKENS?: number;
  /** OpenAI backend: the largest image to send, in bytes (default 20 MB). */
  MAX_IMAGE_BYTES?: number;
  /** Echo backend: the longest random pause between words, in seconds (default 0). */
  MAX_WORD_SLEEP_SECONDS?: number;
  /** Provider backend: the alias in `PROVIDERS` (default "default"). */
  PROVIDER?: string;
  /** Provider backend: `"openai"` (default) or `"llm"` messages (see `PromptStyle`). */
  PROMPT_STYLE?: "openai" | "llm";
  /** Provider backend: a system message sent first with every request. */
  SYSTEM_PROMPT?: string;
  /** Provider backend: chat options sent with every request (`temperature`...). */
  OPTIONS?: Record<string, unknown>;
  /** Keys of custom backend classes. */
  [key: string]: unknown;
}

/** A backend's `TEXT_SPLITTING`. */
export interface TextSplittingSettings {
  /** A splitter: upstream dotted name, short name (`recursive`, `dummy`) or class. */
  SPLITTER_CLASS?: string | TextSplitterClass;
  /** A length calculator: dotted name, short name (`naive`, `tiktoken`, `dummy`) or class. */
  SPLITTER_LENGTH_CALCULATOR_CLASS?: string | LengthCalculatorClass;
}

/** One entry of `BACKENDS`. */
export interface BackendSettings {
  /** The backend class: upstream dotted name, short name, registered name or class. */
  CLASS: string | BackendClass;
  /** The backend's configuration. */
  CONFIG: BackendConfigSettings;
  /** How long content is split for this backend. */
  TEXT_SPLITTING?: TextSplittingSettings;
}

/** The whole settings object (Wagtail AI's `WAGTAIL_AI`). */
export interface AISettings {
  /** Backends by alias. Default: `{default: LLM backend with gpt-3.5-turbo}`. */
  BACKENDS?: Record<string, BackendSettings>;
  /** Providers by alias. */
  PROVIDERS?: Record<string, ProviderSettings>;
  /** The backend alias for text completion (default "default"). */
  TEXT_COMPLETION_BACKEND?: string;
  /** The backend alias for image description (deprecated: use `IMAGE_DESCRIPTION_PROVIDER`). */
  IMAGE_DESCRIPTION_BACKEND?: string;
  /** The provider alias for image description (default "default"). */
  IMAGE_DESCRIPTION_PROVIDER?: string;
}

/** Options of {@link createAI}. */
export interface CreateAIOptions {
  /** The `llm` user directory (default: `LLM_USER_PATH`, then the `llm` tool's default). */
  llmUserPath?: string;
  /** Receives deprecation warnings (default: `console.warn`, once per message). */
  onWarning?: (warning: Error) => void;
}

const TOP_LEVEL_KEYS = [
  "BACKENDS",
  "PROVIDERS",
  "TEXT_COMPLETION_BACKEND",
  "IMAGE_DESCRIPTION_BACKEND",
  "IMAGE_DESCRIPTION_PROVIDER",
] as const;

/** The backends used when settings have no `BACKENDS`, as in Wagtail AI. */
export const DEFAULT_BACKENDS: Readonly<Record<string, BackendSettings>> = Object.freeze({
  default: Object.freeze({
    CLASS: "wagtail_ai.ai.llm.LLMBackend",
    CONFIG: Object.freeze({ MODEL_ID: "gpt-3.5-turbo" }),
  }),
});

/**
 * Adds a backend class under a name usable as `CLASS`.
 *
 * @throws {TypeError} when `cls` is not a backend class (a constructor with a
 * static `parseConfig`, as {@link BaseBackend} subclasses have).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, EchoBackend, registerBackendClass } from "./mod.ts";
 * class PoliteEcho extends EchoBackend {}
 * registerBackendClass("polite-echo", PoliteEcho);
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "polite-echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } } },
 * });
 * assert.ok(ai.getAIBackend("default") instanceof PoliteEcho);
 * ```
 */
export function registerBackendClass(name: string, cls: BackendClass): void {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError("registerBackendClass() needs a non-empty name");
  }
  if (!isBackendClass(cls)) {
    throw new TypeError(
      `registerBackendClass("${name}") needs a backend class with a static parseConfig()`,
    );
  }
  backendClasses.set(name, cls);
}

// The built-in CLASS names as they were, for unregisterBackendClass().
const BUILTIN_BACKEND_CLASSES: ReadonlyMap<string, BackendClass> = new Map(backendClasses);

/**
 * Removes a name added with {@link registerBackendClass}; a built-in name it
 * had replaced is the built-in again. Built-in names themselves stay. Returns
 * whether a registration was removed. Backends already built keep working.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EchoBackend, registerBackendClass, unregisterBackendClass } from "./mod.ts";
 * registerBackendClass("quiet-echo", class QuietEcho extends EchoBackend {});
 * assert.equal(unregisterBackendClass("quiet-echo"), true);
 * assert.equal(unregisterBackendClass("quiet-echo"), false);
 * assert.equal(unregisterBackendClass("echo"), false); // a built-in stays
 * ```
 */
export function unregisterBackendClass(name: string): boolean {
  const current = backendClasses.get(name);
  if (current === undefined) return false;
  const builtin = BUILTIN_BACKEND_CLASSES.get(name);
  if (builtin === current) return false;
  if (builtin) backendClasses.set(name, builtin);
  else backendClasses.delete(name);
  return true;
}

function checkRegistration(fn: string, name: unknown, cls: unknown, what: string): void {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError(`${fn}() needs a non-empty name`);
  }
  if (!isConstructor(cls)) throw new TypeError(`${fn}("${name}") needs ${what}`);
}

/**
 * Adds a text splitter class under a name usable as
 * `TEXT_SPLITTING.SPLITTER_CLASS`. A backend builds it as
 * `new Splitter({chunkSize, lengthFunction, modelId})`.
 *
 * @throws {TypeError} for an empty name or when `cls` is not a class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, registerTextSplitterClass, type TextSplitterOptions } from "./mod.ts";
 * class LineSplitter {
 *   constructor(_options: TextSplitterOptions) {}
 *   splitText(text: string): string[] {
 *     return text.split("\n");
 *   }
 * }
 * registerTextSplitterClass("lines", LineSplitter);
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "echo",
 *       CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 },
 *       TEXT_SPLITTING: { SPLITTER_CLASS: "lines" },
 *     },
 *   },
 * });
 * const splitter = await ai.getBackend().getTextSplitter();
 * assert.deepEqual(splitter.splitText("a\nb"), ["a", "b"]);
 * ```
 */
export function registerTextSplitterClass(name: string, cls: TextSplitterClass): void {
  checkRegistration("registerTextSplitterClass", name, cls, "a text splitter class");
  splitterClasses.set(name, cls);
}

/**
 * Adds a length calculator class under a name usable as
 * `TEXT_SPLITTING.SPLITTER_LENGTH_CALCULATOR_CLASS`. A backend builds it as
 * `new Calculator({modelId})`.
 *
 * @throws {TypeError} for an empty name or when `cls` is not a class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type LengthCalculatorOptions, registerLengthCalculatorClass } from "./mod.ts";
 * class CharCount {
 *   constructor(_options?: LengthCalculatorOptions) {}
 *   getSplitterLength(text: string): number {
 *     return text.length;
 *   }
 * }
 * registerLengthCalculatorClass("chars", CharCount);
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "echo",
 *       CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 5 },
 *       TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "chars" },
 *     },
 *   },
 * });
 * const calculator = await ai.getBackend().getSplitterLengthCalculator();
 * assert.equal(calculator.getSplitterLength("hello"), 5);
 * ```
 */
export function registerLengthCalculatorClass(name: string, cls: LengthCalculatorClass): void {
  checkRegistration("registerLengthCalculatorClass", name, cls, "a length calculator class");
  calculatorClasses.set(name, cls);
}

function isBackendClass(value: unknown): value is BackendClass {
  return isConstructor(value) &&
    typeof (value as { parseConfig?: unknown }).parseConfig === "function";
}

/**
 * Whether `new value()` can work: a class or function, not an arrow function
 * or method (checked without calling it).
 */
function isConstructor(value: unknown): boolean {
  if (typeof value !== "function") return false;
  try {
    Reflect.construct(Object, [], value);
    return true;
  } catch {
    return false;
  }
}

function resolveNamed<T>(
  value: unknown,
  registry: Map<string, T>,
  isClass: (value: unknown) => boolean,
  key: string,
  where: string,
): T {
  if (typeof value === "function") {
    if (isClass(value)) return value as T;
    throw new ImproperlyConfigured(`${key} in ${where} is a function but not a usable class`);
  }
  if (typeof value !== "string") {
    throw new ImproperlyConfigured(
      `${key} in ${where} must be a name or a class, got ${describeType(value)}`,
    );
  }
  const found = registry.get(value);
  if (found === undefined) {
    throw new ImproperlyConfigured(
      `${key} in ${where} names an unknown class "${value}" (known: ${
        nameList([...registry.keys()])
      })`,
    );
  }
  return found;
}

function resolveTextSplitting(
  raw: unknown,
  alias: string,
): {
  textSplitterClass: TextSplitterClass;
  textSplitterLengthCalculatorClass: LengthCalculatorClass;
} {
  const where = `TEXT_SPLITTING of backend "${alias}"`;
  if (raw === undefined || raw === null) {
    return {
      textSplitterClass: RecursiveCharacterTextSplitter,
      textSplitterLengthCalculatorClass: NaiveTextSplitterCalculator,
    };
  }
  const object = requireObject(raw, where);
  rejectUnknownKeys(object, ["SPLITTER_CLASS", "SPLITTER_LENGTH_CALCULATOR_CLASS"], where);
  return {
    textSplitterClass: object.SPLITTER_CLASS === undefined
      ? RecursiveCharacterTextSplitter
      : resolveNamed(
        object.SPLITTER_CLASS,
        splitterClasses,
        isConstructor,
        "SPLITTER_CLASS",
        where,
      ),
    textSplitterLengthCalculatorClass: object.SPLITTER_LENGTH_CALCULATOR_CLASS === undefined
      ? NaiveTextSplitterCalculator
      : resolveNamed(
        object.SPLITTER_LENGTH_CALCULATOR_CLASS,
        calculatorClasses,
        isConstructor,
        "SPLITTER_LENGTH_CALCULATOR_CLASS",
        where,
      ),
  };
}

/**
 * The configured AI layer: backends (and providers) by alias and by feature.
 * Build it with {@link createAI}.
 */
export class AI {
  /**
   * The settings as given (a shallow copy). Printed or turned into JSON, it
   * shows secrets as `***`; read the keys themselves from it, or keep the
   * object you passed to {@link createAI}.
   */
  readonly settings: Readonly<AISettings>;
  /** The options as given. */
  readonly options: Readonly<CreateAIOptions>;
  readonly #backends: Record<string, unknown>;
  readonly #warned = new Set<string>();
  #warnedDefault = false;
  readonly #providers = new Map<string, Provider>();
  #legacyProvider: ResolvedProviderSettings | undefined;

  /** Validates the top level of `settings`; use {@link createAI}. */
  constructor(settings: AISettings = {}, options: CreateAIOptions = {}) {
    const where = "AI settings";
    const top = requireObject(settings, where);
    rejectUnknownKeys(top, TOP_LEVEL_KEYS, where);
    for (const key of TOP_LEVEL_KEYS.slice(2)) optionalString(top[key], key, where);
    if (top.PROVIDERS !== undefined) requireObject(top.PROVIDERS, "PROVIDERS");
    if (options === null || typeof options !== "object") {
      throw new TypeError("createAI() options must be an object");
    }
    if (options.onWarning !== undefined && typeof options.onWarning !== "function") {
      throw new TypeError("onWarning must be a function");
    }
    if (options.llmUserPath !== undefined && typeof options.llmUserPath !== "string") {
      throw new TypeError("llmUserPath must be a string");
    }
    this.#backends = top.BACKENDS === undefined
      ? { ...DEFAULT_BACKENDS }
      : requireObject(top.BACKENDS, "BACKENDS");
    // A shallow copy that masks secrets when printed (the given object is left as it is).
    this.settings = guardSecrets({ ...top } as AISettings);
    this.options = options;
    guardSecrets(this, () => ({ settings: this.settings }));
    if (top.IMAGE_DESCRIPTION_BACKEND !== undefined && top.IMAGE_DESCRIPTION_BACKEND !== null) {
      this.warn(
        "IMAGE_DESCRIPTION_BACKEND is deprecated: set IMAGE_DESCRIPTION_PROVIDER to a PROVIDERS alias instead",
      );
    }
  }

  /** Reports a warning through `onWarning`, or `console.warn` once per message. */
  warn(message: string): void {
    const warning = new DeprecationWarning(message);
    if (this.options.onWarning) {
      this.options.onWarning(warning);
      return;
    }
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    console.warn(`Warning: ${message}`);
  }

  /** The context every backend of this AI gets. */
  protected backendContext(alias: string): BackendContext {
    const context: BackendContext = { alias };
    if (this.options.llmUserPath !== undefined) context.llmUserPath = this.options.llmUserPath;
    if (this.options.onWarning !== undefined) context.onWarning = this.options.onWarning;
    context.getProvider = (providerAlias: string) => this.getProvider(providerAlias);
    return context;
  }

  /**
   * The settings of the provider `alias` in `PROVIDERS`, checked, with
   * `provider` and `model` resolved (a `provider:model` string is split).
   *
   * Without a `"default"` entry, `"default"` falls back to
   * `{provider: "openai", model: <MODEL_ID of the "default" backend>}` and a
   * deprecation warning is reported once (through `onWarning`, else
   * `console.warn`), as Wagtail AI 3 does. The key and header values of the
   * returned object are masked when it is printed or turned into JSON.
   *
   * @throws {InvalidProviderError} (an `ImproperlyConfigured`) for an unknown
   * alias, listing the known ones.
   * @throws {ImproperlyConfigured} for an unknown provider (listing the known
   * ones) or a bad entry, naming `PROVIDERS["<alias>"]` and the key.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const ai = createAI({ PROVIDERS: { default: { provider: "ollama:llama3:8b" } } });
   * assert.deepEqual(ai.getProviderSettings(), { provider: "ollama", model: "llama3:8b" });
   * ```
   */
  getProviderSettings(alias: string = "default"): ResolvedProviderSettings {
    if (typeof alias !== "string" || alias === "") {
      throw new TypeError("getProviderSettings() needs a provider alias");
    }
    const providers = (this.settings.PROVIDERS ?? {}) as Record<string, unknown>;
    if (Object.hasOwn(providers, alias)) {
      return guardSecrets(resolveProviderSettings(providers[alias] as never, alias));
    }
    if (alias === "default") return guardSecrets(this.#legacyDefaultProvider());
    const known = Object.keys(providers);
    throw new InvalidProviderError(
      `No provider "${alias}" in PROVIDERS (known: ${nameList(known)})`,
    );
  }

  #legacyDefaultProvider(): ResolvedProviderSettings {
    if (this.#legacyProvider) return { ...this.#legacyProvider };
    const fail = (why: string) =>
      new ImproperlyConfigured(
        `No provider "default" in PROVIDERS, and ${why} to fall back on: add PROVIDERS.default ` +
          `(for example {provider: "openai", model: "gpt-4.1-mini"})`,
      );
    if (!Object.hasOwn(this.#backends, "default")) throw fail('no backend "default"');
    const backend = this.#backends.default;
    const config = (backend !== null && typeof backend === "object")
      ? (backend as { CONFIG?: unknown }).CONFIG
      : undefined;
    const modelId = (config !== null && typeof config === "object")
      ? (config as { MODEL_ID?: unknown }).MODEL_ID
      : undefined;
    if (typeof modelId !== "string" || modelId.trim() === "") {
      throw fail('no MODEL_ID in CONFIG of backend "default"');
    }
    this.#legacyProvider = { provider: "openai", model: modelId };
    this.warn(
      `PROVIDERS has no "default" provider: falling back to {provider: "openai", model: ` +
        `"${modelId}"} from the MODEL_ID of backend "default". This fallback is deprecated: ` +
        `add PROVIDERS.default (the "migrate" command writes it)`,
    );
    return { ...this.#legacyProvider };
  }

  /**
   * The provider configured under `alias` (default "default"). One instance
   * per alias: later calls return the same object.
   *
   * @throws {ImproperlyConfigured} as {@link AI.getProviderSettings} does.
   * @throws {MissingAPIKeyError} when the provider needs a key and none is set,
   * naming the environment variable.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const ai = createAI({
   *   PROVIDERS: { default: { provider: "openai", model: "gpt-4.1-mini", api_key: "sk-test" } },
   * });
   * assert.equal(ai.getProvider().model, "gpt-4.1-mini");
   * assert.equal(ai.getProvider("default"), ai.getProvider());
   * ```
   */
  getProvider(alias: string = "default"): Provider {
    const cached = this.#providers.get(alias);
    if (cached) return cached;
    const provider = createProvider(this.getProviderSettings(alias), { alias });
    this.#providers.set(alias, provider);
    return provider;
  }

  /**
   * The provider for a feature: `"default"` for text completion,
   * `IMAGE_DESCRIPTION_PROVIDER` (default "default") for image description.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BackendFeature, createAI } from "./mod.ts";
   * const ai = createAI({
   *   PROVIDERS: {
   *     default: { provider: "ollama", model: "llama3.1" },
   *     vision: { provider: "ollama", model: "llava" },
   *   },
   *   IMAGE_DESCRIPTION_PROVIDER: "vision",
   * });
   * assert.equal(ai.getProviderFor(BackendFeature.IMAGE_DESCRIPTION).model, "llava");
   * assert.equal(ai.getProviderFor(BackendFeature.TEXT_COMPLETION).model, "llama3.1");
   * ```
   */
  getProviderFor(feature: BackendFeature): Provider {
    if (feature === BackendFeature.TEXT_COMPLETION) return this.getProvider("default");
    if (feature === BackendFeature.IMAGE_DESCRIPTION) {
      return this.getProvider(this.settings.IMAGE_DESCRIPTION_PROVIDER ?? "default");
    }
    throw new TypeError(`Unknown feature "${String(feature)}"`);
  }

  /**
   * Checks all the settings at once, as an application's start-up should:
   * builds every `BACKENDS` and `PROVIDERS` entry, looks up the API keys that
   * the OpenAI and LLM backends otherwise look up at the first request, and
   * checks the aliases the features name. Returns the problems found, in that
   * order (an empty list when all is well). Nothing is sent to any service.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, InvalidAIBackendError, MissingAPIKeyError } from "./mod.ts";
   * const ai = createAI({
   *   BACKENDS: {
   *     default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
   *     typo: { CLASS: "opnai", CONFIG: { MODEL_ID: "gpt-4o" } },
   *     keyless: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", API_BASE: "http://127.0.0.1:9/v1" } },
   *   },
   * });
   * const problems = ai.check();
   * assert.ok(problems[0] instanceof InvalidAIBackendError);
   * assert.match(problems[0].message, /"typo"/);
   * // The second problem: no key, unless OPENAI_API_KEY is set where this runs.
   * assert.ok(problems.slice(1).every((problem) => problem instanceof MissingAPIKeyError));
   * ```
   */
  check(): Error[] {
    const problems: Error[] = [];
    const seen = new Set<string>();
    const attempt = (run: () => unknown): void => {
      try {
        run();
      } catch (error) {
        const problem = error instanceof Error ? error : new Error(String(error));
        // A provider backend builds its provider: the same problem is reported once.
        const id = `${problem.name}: ${problem.message}`;
        if (seen.has(id)) return;
        seen.add(id);
        problems.push(problem);
      }
    };
    for (const alias of Object.keys(this.#backends)) {
      attempt(() => {
        const backend = this.getAIBackend(alias) as Backend & {
          getOpenAIApiKey?: () => string;
          getLLMModel?: () => { resolveKey(): string | undefined };
        };
        if (typeof backend.getOpenAIApiKey === "function") backend.getOpenAIApiKey();
        if (typeof backend.getLLMModel === "function") backend.getLLMModel().resolveKey();
      });
    }
    const providers = this.settings.PROVIDERS ?? {};
    for (const alias of Object.keys(providers)) attempt(() => this.getProvider(alias));
    const text = this.settings.TEXT_COMPLETION_BACKEND ?? "default";
    const image = this.settings.IMAGE_DESCRIPTION_BACKEND ?? undefined;
    for (const alias of [text, image]) {
      if (alias !== undefined && !Object.hasOwn(this.#backends, alias)) {
        attempt(() => this.getAIBackend(alias));
      }
    }
    const imageProvider = this.settings.IMAGE_DESCRIPTION_PROVIDER ?? undefined;
    if (imageProvider !== undefined && !Object.hasOwn(providers, imageProvider)) {
      attempt(() => this.getProviderFor(BackendFeature.IMAGE_DESCRIPTION));
    }
    return problems;
  }

  /**
   * Loads now what the first request would otherwise load: the `openai`
   * package (for backends and providers that send requests) and the exact
   * tokenizers of the backends' models and length calculators. Call it at
   * start-up so the first answer streams without that delay (a few hundred
   * milliseconds). Entries that cannot be built are skipped: {@link AI.check}
   * reports them.
   *
   * @example
   * ```ts
   * import { createAI } from "./mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
   * });
   * await ai.preload(); // nothing to load for the echo backend
   * ```
   */
  async preload(): Promise<void> {
    const tasks: Promise<unknown>[] = [];
    let sends = Object.keys(this.settings.PROVIDERS ?? {}).length > 0;
    for (const alias of Object.keys(this.#backends)) {
      let backend: Backend;
      try {
        backend = this.getAIBackend(alias);
      } catch {
        continue;
      }
      if (!(backend instanceof EchoBackend)) {
        sends = true;
        tasks.push(getTokenCounter(backend.config.modelId));
      }
      tasks.push(backend.getSplitterLengthCalculator());
    }
    if (sends) tasks.push(preloadClient());
    await Promise.allSettled(tasks);
  }

  /**
   * Builds the backend configured under `alias` in `BACKENDS` (a new instance
   * each call, so files the backend reads are read afresh).
   *
   * @throws {InvalidAIBackendError} for an unknown alias or `CLASS`.
   * @throws {ImproperlyConfigured} for a bad `CONFIG` or `TEXT_SPLITTING`, naming the key.
   */
  getAIBackend(alias: string): Backend {
    if (typeof alias !== "string" || !Object.hasOwn(this.#backends, alias)) {
      const known = Object.keys(this.#backends);
      throw new InvalidAIBackendError(
        `Invalid AI backend "${String(alias)}": no such alias in BACKENDS (known: ${
          nameList(known)
        })`,
      );
    }
    const entry = requireObject(this.#backends[alias], `BACKENDS["${alias}"]`);
    rejectUnknownKeys(entry, ["CLASS", "CONFIG", "TEXT_SPLITTING"], `BACKENDS["${alias}"]`);
    const cls = this.#resolveClass(entry.CLASS, alias);
    if (entry.CONFIG === undefined) {
      throw new ImproperlyConfigured(`BACKENDS["${alias}"] is missing CONFIG`);
    }
    const raw = requireObject(entry.CONFIG, `CONFIG of backend "${alias}"`);
    const context = this.backendContext(alias);
    let config = cls.parseConfig(raw, {
      ...context,
      ...resolveTextSplitting(entry.TEXT_SPLITTING, alias),
    });
    // A frozen config (a custom class's) cannot take the masking: mask a frozen copy.
    if (Object.isFrozen(config)) config = Object.freeze(guardSecrets({ ...config }));
    else guardSecrets(config);
    return new cls(config as never, context);
  }

  /**
   * The backend for a feature: `TEXT_COMPLETION_BACKEND` (default "default")
   * or `IMAGE_DESCRIPTION_BACKEND`; without the latter, the backend named like
   * `IMAGE_DESCRIPTION_PROVIDER` when there is one (migrated settings keep the
   * two names equal).
   *
   * With `PROVIDERS` but no `BACKENDS`, the text backend is still the default
   * LLM backend (as in Wagtail AI); a warning says how to use the provider.
   *
   * @throws {BackendNotFound} when no backend is set for the feature.
   */
  getBackend(feature: BackendFeature = BackendFeature.TEXT_COMPLETION): Backend {
    let alias: string | undefined;
    if (feature === BackendFeature.TEXT_COMPLETION) {
      alias = this.settings.TEXT_COMPLETION_BACKEND ?? "default";
    } else if (feature === BackendFeature.IMAGE_DESCRIPTION) {
      // null (an empty value in YAML) is unset, as the settings check takes it.
      alias = this.settings.IMAGE_DESCRIPTION_BACKEND ?? undefined;
      const provider = this.settings.IMAGE_DESCRIPTION_PROVIDER ?? undefined;
      if (
        alias === undefined && provider !== undefined && Object.hasOwn(this.#backends, provider)
      ) {
        alias = provider;
      }
    } else {
      throw new TypeError(`Unknown feature "${String(feature)}"`);
    }
    if (alias === undefined) {
      const provider = this.settings.IMAGE_DESCRIPTION_PROVIDER ?? undefined;
      throw new BackendNotFound(
        `No backend found for ${feature}` + (provider === undefined ? "" : (
          `: IMAGE_DESCRIPTION_PROVIDER is "${provider}" but BACKENDS has no "${provider}"; ` +
          `add BACKENDS["${provider}"] = {CLASS: "provider", CONFIG: {PROVIDER: "${provider}"}}, ` +
          `or use getProviderFor("${feature}")`
        )),
      );
    }
    if (
      alias === "default" && this.settings.BACKENDS === undefined && !this.#warnedDefault &&
      Object.hasOwn(this.settings.PROVIDERS ?? {}, "default")
    ) {
      // The seed's default backend, while the settings name a default provider: say so, once.
      this.#warnedDefault = true;
      this.warn(
        'BACKENDS is not set, so getBackend() uses the default LLM backend (gpt-3.5-turbo), not PROVIDERS["default"]: ' +
          'add BACKENDS: {default: {CLASS: "provider", CONFIG: {}}} to send text to the provider',
      );
    }
    return this.getAIBackend(alias);
  }

  #resolveClass(value: unknown, alias: string): BackendClass {
    if (value === undefined || value === null) {
      throw new InvalidAIBackendError(`Invalid AI backend "${alias}": CLASS is missing`);
    }
    if (typeof value === "function") {
      if (isBackendClass(value)) return value;
      throw new InvalidAIBackendError(
        `Invalid AI backend "${alias}": CLASS is a function but not a backend class (extend BaseBackend)`,
      );
    }
    if (typeof value !== "string") {
      throw new InvalidAIBackendError(
        `Invalid AI backend "${alias}": CLASS must be a name or a class, got ${
          describeType(value)
        }`,
      );
    }
    const found = backendClasses.get(value);
    if (found) return found;
    const why = value.includes(".") ? "cannot be imported" : "is not a known backend";
    throw new InvalidAIBackendError(
      `Invalid AI backend "${alias}": CLASS "${value}" ${why} (known: ${
        [...backendClasses.keys()].join(", ")
      }; add one with registerBackendClass())`,
    );
  }
}

/**
 * A warning about deprecated settings, passed to `onWarning`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, DeprecationWarning } from "./mod.ts";
 * const warnings: Error[] = [];
 * createAI(
 *   { BACKENDS: {}, IMAGE_DESCRIPTION_BACKEND: "vision" },
 *   { onWarning: (w) => warnings.push(w) },
 * );
 * assert.ok(warnings[0] instanceof DeprecationWarning);
 * ```
 */
export class DeprecationWarning extends Error {
  /** Builds the warning. */
  constructor(message: string) {
    super(message);
    this.name = "DeprecationWarning";
  }
}

/**
 * Builds the AI layer from settings. Only the top level is checked here; each
 * backend's settings are checked when the backend is built.
 *
 * @throws {ImproperlyConfigured} when the top level of the settings is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "./mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
 * });
 * const text = await ai.getBackend().promptWithContext({ prePrompt: "", context: "ok" }).text();
 * assert.ok(text === "This is an echo backend: ok");
 * ```
 */
export function createAI(settings?: AISettings, options?: CreateAIOptions): AI {
  return new AI(settings, options);
}

/**
 * The reason of a JSON syntax error without the file's text: V8 quotes the
 * text around the error (`Unexpected token 's', ..."api_key": sk-..."... is
 * not valid JSON`) and JavaScriptCore the token, either of which may be a key.
 */
function jsonErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/,?\s*(?:\.\.\.)?"[\s\S]*$/, "").trim() || "syntax error";
}

/**
 * Reads settings from a YAML (`.yaml`, `.yml`) or JSON file with the same
 * keys as {@link AISettings}. `CLASS` values are names there. Printed with
 * `console.log` or `Deno.inspect`, the settings show keys, header values and
 * URL credentials as `***`; the data (and `JSON.stringify` of it) is as read.
 *
 * @throws {ImproperlyConfigured} when the file is missing or malformed (the
 * message names the file, and for YAML the line and column).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSettings } from "./mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".yaml" });
 * await Deno.writeTextFile(path, "BACKENDS:\n  default:\n    CLASS: echo\n    CONFIG: {MODEL_ID: echo, TOKEN_LIMIT: 100}\n");
 * const settings = await loadSettings(path);
 * assert.ok(settings.BACKENDS?.default.CLASS === "echo");
 * await Deno.remove(path);
 * ```
 */
export async function loadSettings(path: string): Promise<AISettings> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("loadSettings() needs a file path");
  }
  let text: string | undefined;
  try {
    text = await readTextFileIfExists(path);
  } catch (error) {
    throw new ImproperlyConfigured(
      `Cannot read settings file "${path}": ${(error as Error).message}`,
    );
  }
  if (text === undefined) throw new ImproperlyConfigured(`Settings file "${path}" does not exist`);
  let data: unknown;
  if (/\.json$/i.test(path)) {
    try {
      // A byte order mark (as some editors write) is not JSON: skip it, as the YAML reader does.
      data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      throw new ImproperlyConfigured(
        `Settings file "${path}" is not valid JSON: ${jsonErrorReason(error)}`,
      );
    }
  } else {
    data = parseYaml(text, path);
  }
  if (data === null || data === undefined) return {};
  requireObject(data, `Settings file "${path}"`);
  // console.log(settings) is the first debugging step: keys show as ***. The
  // data itself (and JSON.stringify of it) is unchanged.
  return guardSecrets(data as AISettings, undefined, { json: false });
}
