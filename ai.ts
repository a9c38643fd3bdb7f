/**
 * The composition root: {@link createAI} turns settings into the {@link AI}
 * object, which builds backends and providers by alias and by feature.
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
  DeprecationWarning,
  ImproperlyConfigured,
  InvalidAIBackendError,
  InvalidProviderError,
  NoTokenLimitFound,
  UnknownPromptError,
} from "./errors.ts";
import { EchoBackend } from "./backends/echo.ts";
import { configWhere } from "./backends/base.ts";
import { ProviderBackend } from "./backends/provider.ts";
import {
  type Backend,
  type BackendClass,
  type BackendContext,
  BackendFeature,
} from "./backends/types.ts";
import { createProvider, resolveProviderSettings } from "./providers/registry.ts";
import { providerWhere } from "./providers/openai_compatible.ts";
import type { Provider, ResolvedProviderSettings } from "./providers/types.ts";
import {
  type AISettings,
  backendsOf,
  checkSettings,
  limitsOf,
  parseBackendEntry,
  type ParsedBackendEntry,
  parsePromptEntry,
  parsePrompts,
  type Prompt,
  type PromptSettings,
} from "./settings.ts";
import type { DocumentOptions } from "./documents/types.ts";
import type { DocumentResponse } from "./documents/response.ts";
import { processDocument } from "./documents/process.ts";
import { getDefaultTokenLimit, getTokenCounter } from "./tokens.ts";
import { type CooldownStore, MemoryCooldownStore } from "./operations/cooldown.ts";
import { MemoryLimitStore } from "./limits/memory_store.ts";
import type { LimitStore, LimitUsage } from "./limits/types.ts";
import { Limiter } from "./limits/_limiter.ts";
import type { AIEvent, EventsOptions, TelemetryTracer } from "./operations/types.ts";
import { Operations, secretsIn } from "./operations/_events.ts";
import { type BackendEntry, chainBackend } from "./operations/_backend.ts";
import { chainProvider, type ProviderEntry } from "./operations/_provider.ts";
import { type ChainGraph, resolveChain } from "./operations/_chain.ts";
import {
  type AliasOperations,
  type FallbackOn,
  parsePrices,
  splitBackendOperations,
  splitProviderOperations,
} from "./operations/_settings.ts";
import { forgetFiles } from "./backends/llm/_checked_files.ts";
import { forgetCatalogs } from "./backends/llm/registry.ts";
import { guardSecrets } from "./_redact.ts";
import { nameList, optionalString } from "./_validate.ts";

/**
 * Warnings given once per process: for each receiver (an `onWarning`
 * function, or `console` for the default), the messages it has had.
 */
const givenOnce = new WeakMap<object, Set<string>>();

/** The deprecation warning of `IMAGE_DESCRIPTION_BACKEND`, with the settings that replace it. */
function imageBackendWarning(backend: string, provider: string | undefined): string {
  if (provider === undefined || provider === backend) {
    return `IMAGE_DESCRIPTION_BACKEND is deprecated: set IMAGE_DESCRIPTION_PROVIDER: "${backend}" ` +
      `instead of IMAGE_DESCRIPTION_BACKEND: "${backend}" (getBackend(IMAGE_DESCRIPTION) then ` +
      `uses BACKENDS["${backend}"] as now, and getProviderFor(IMAGE_DESCRIPTION) ` +
      `PROVIDERS["${backend}"] when you add it)`;
  }
  return `IMAGE_DESCRIPTION_BACKEND is deprecated: rename BACKENDS["${backend}"] to ` +
    `BACKENDS["${provider}"] (the IMAGE_DESCRIPTION_PROVIDER) and remove ` +
    `IMAGE_DESCRIPTION_BACKEND: "${backend}" (getBackend(IMAGE_DESCRIPTION) then uses ` +
    `BACKENDS["${provider}"])`;
}

/** The error for a feature that is none: an alias given where a feature goes, most often. */
function unknownFeature(feature: unknown, byAlias: string): TypeError {
  return new TypeError(
    `Unknown feature "${String(feature)}" (features: ${
      Object.values(BackendFeature).join(", ")
    }): use ${byAlias}(alias) for an alias`,
  );
}

/**
 * Options of {@link createAI}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type CreateAIOptions } from "./mod.ts";
 * const warnings: Error[] = [];
 * const options: CreateAIOptions = { onWarning: (warning) => warnings.push(warning) };
 * createAI({
 *   BACKENDS: { vision: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   IMAGE_DESCRIPTION_BACKEND: "vision",
 * }, options);
 * assert.match(warnings[0].message, /IMAGE_DESCRIPTION_BACKEND is deprecated/);
 * ```
 */
export interface CreateAIOptions {
  /** The `llm` user directory (default: `LLM_USER_PATH`, then the `llm` tool's default). */
  llmUserPath?: string;
  /**
   * How often, at most, the LLM backend checks the user directory's files
   * (`extra-openai-models.yaml`, `aliases.json`, `keys.json`) for changes, in
   * milliseconds: default 1000; 0 checks at every call. The files are read
   * once and kept; a check is a `stat` of each (no file is opened), and a file
   * whose modification time, size or inode changed, a new one and a deleted
   * one are read again (or dropped) at the first call after the check is due.
   * {@link AI.reload} makes the next call read them afresh at once.
   */
  llmCheckIntervalMs?: number;
  /**
   * Receives deprecation warnings, and what `onEvent` or `tracer` threw
   * (default: `console.warn`, once per message). The `IMAGE_DESCRIPTION_BACKEND`
   * warning comes once per process for each receiver, however many `AI`s are
   * built.
   */
  onWarning?: (warning: Error) => void;
  /**
   * Receives one usage event per request attempt and per answer (see
   * {@link AIEvent}). What it throws (or a promise it returns rejects with)
   * goes to `onWarning`: it never breaks a request.
   */
  onEvent?: (event: AIEvent) => unknown;
  /** What events carry: `includePrompts` adds the prompt and the answer's text. */
  events?: EventsOptions;
  /**
   * An OpenTelemetry tracer (`trace.getTracer("my-app")` of
   * `@opentelemetry/api`): each attempt is a client span with the GenAI
   * semantic-convention attributes.
   */
  tracer?: TelemetryTracer;
  /**
   * Where fallback cooldowns are kept (default: the `limitStore` when given,
   * else a {@link MemoryCooldownStore} of this AI): a shared store lets
   * several processes skip the same alias.
   */
  cooldownStore?: CooldownStore;
  /**
   * Where the counts of `LIMITS` (and the fallback cooldowns) are kept
   * (default: a {@link MemoryLimitStore} of this AI, for one process): the
   * Redis store of `@cms-ai/backends/redis` shares them between processes.
   */
  limitStore?: LimitStore;
}

/**
 * What {@link AI.getUsage} asks for: a `LIMITS` key and its value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { UsageQuery } from "./mod.ts";
 * const query: UsageQuery = { key: "user", value: 42 }; // counted as "42"
 * assert.equal(query.key, "user");
 * ```
 */
export interface UsageQuery {
  /** A rule's `key`: `"user"`, `"site"`, another metadata field, or `"global"`. */
  key: string;
  /** Its value (text, or a number or boolean as text; none: `"(none)"`; ignored for `"global"`). */
  value?: string | number | boolean;
}

const STORE_METHODS = [
  "reserve",
  "settle",
  "read",
  "isCoolingDown",
  "recordFailure",
  "recordSuccess",
];

/** A `BACKENDS` entry checked, with its fallback keys split off its `CONFIG`. */
interface BackendPlan extends ParsedBackendEntry {
  operations: AliasOperations;
}

/** Whether a backend class runs on a provider (its provider fallbacks join its chain). */
function isProviderBackend(cls: BackendClass): boolean {
  return cls === ProviderBackend || cls.prototype instanceof ProviderBackend;
}

/** Computes `make()` once, on first use. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * Arguments of {@link AI.processText}: the prompt, the document, and the
 * options of the run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, createMemoryCache, type ProcessTextOptions } from "./mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
 * });
 * const options: ProcessTextOptions = {
 *   prompt: "correction",
 *   text: "<p>Hello</p>",
 *   format: "html",
 *   concurrency: 2,
 *   cache: createMemoryCache(),
 * };
 * // The echo backend's answers drop the tags, so the block keeps its text.
 * assert.equal(await ai.processText(options).text(), "<p>Hello</p>");
 * ```
 */
export interface ProcessTextOptions extends DocumentOptions {
  /**
   * A prompt name (in `PROMPTS`, or `"correction"`, `"completion"`), a
   * prompt as {@link AI.getPrompt} returns it, or a {@link PromptSettings}
   * object (`LABEL` may be left out). Its `BACKEND` answers, else
   * `TEXT_COMPLETION_BACKEND`.
   */
  prompt: string | Prompt | Omit<PromptSettings, "LABEL"> & { LABEL?: string };
  /** The document (or the part of it the editor selected). */
  text: string;
}

/**
 * The configured AI layer: backends (and providers) by alias and by feature.
 * Build it with {@link createAI}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AI, BackendFeature, createAI } from "./mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * });
 * assert.ok(ai instanceof AI);
 * const backend = ai.getBackend(BackendFeature.TEXT_COMPLETION);
 * const answer = backend.promptWithContext({ prePrompt: "Summarise:", context: "A short text" });
 * assert.equal(await answer.text(), "This is an echo backend: A short text");
 * ```
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
  readonly #prompts: Map<string, Prompt>;
  readonly #rawProviders = new Map<string, Provider>();
  readonly #providerOperations = new Map<string, AliasOperations>();
  readonly #providerChains = new Map<string, readonly string[]>();
  readonly #backendChains = new Map<string, readonly string[]>();
  readonly #operations: Operations;
  readonly #limiter: Limiter | undefined;
  #legacyProvider: ResolvedProviderSettings | undefined;
  /** What the last preload() could not load (check() reports it). */
  #loadProblems: Error[] = [];

  /** Validates the top level of `settings`; use {@link createAI}. */
  constructor(settings: AISettings = {}, options: CreateAIOptions = {}) {
    const top = checkSettings(settings);
    if (options === null || typeof options !== "object") {
      throw new TypeError("createAI() options must be an object");
    }
    for (const name of ["onWarning", "onEvent"] as const) {
      if (options[name] !== undefined && typeof options[name] !== "function") {
        throw new TypeError(`${name} must be a function`);
      }
    }
    if (options.llmUserPath !== undefined && typeof options.llmUserPath !== "string") {
      throw new TypeError("llmUserPath must be a string");
    }
    const interval = options.llmCheckIntervalMs;
    if (
      interval !== undefined &&
      (typeof interval !== "number" || !(interval >= 0) || interval === Infinity)
    ) {
      throw new TypeError(
        `llmCheckIntervalMs must be a finite number of milliseconds, 0 or more (got ${
          String(interval)
        })`,
      );
    }
    const { tracer, cooldownStore, events } = options;
    if (tracer !== undefined && typeof tracer?.startSpan !== "function") {
      throw new TypeError("tracer must be an OpenTelemetry tracer (with startSpan())");
    }
    if (
      cooldownStore !== undefined &&
      !["isCoolingDown", "recordFailure", "recordSuccess"].every((name) =>
        typeof (cooldownStore as unknown as Record<string, unknown>)?.[name] === "function"
      )
    ) {
      throw new TypeError(
        "cooldownStore must have isCoolingDown(), recordFailure() and recordSuccess()",
      );
    }
    if (events !== undefined && (events === null || typeof events !== "object")) {
      throw new TypeError("events must be an object, for example {includePrompts: true}");
    }
    const { limitStore } = options;
    if (
      limitStore !== undefined &&
      !STORE_METHODS.every((name) =>
        typeof (limitStore as unknown as Record<string, unknown>)?.[name] === "function"
      )
    ) {
      throw new TypeError(
        `limitStore must be a LimitStore (with ${
          STORE_METHODS.map((name) => `${name}()`).join(", ")
        })`,
      );
    }
    const prices = parsePrices(top.PRICES);
    const limits = limitsOf(top);
    // What the limits and operations layers report never breaks a request, even when
    // onWarning throws.
    const warn = (warning: Error) => {
      try {
        this.#report(warning);
      } catch {
        // onWarning threw: the warning is dropped.
      }
    };
    // One store for the counts and the cooldowns, unless the options say otherwise.
    const store = limitStore ?? (limits.rules.length > 0 ? new MemoryLimitStore() : undefined);
    this.#limiter = limits.rules.length === 0 ? undefined : new Limiter(limits, store!, {
      price: (model) => prices.get(model),
      warn,
    });
    this.#operations = new Operations({
      onEvent: options.onEvent,
      tracer,
      includePrompts: events?.includePrompts,
      prices,
      store: cooldownStore ?? store ?? new MemoryCooldownStore(),
      gate: this.#limiter,
      warn,
    });
    this.#backends = backendsOf(top);
    this.#prompts = parsePrompts(top.PROMPTS);
    // A shallow copy that masks secrets when printed (the given object is left as it is).
    this.settings = guardSecrets({ ...top } as AISettings);
    this.options = options;
    guardSecrets(this, () => ({ settings: this.settings }));
    if (top.IMAGE_DESCRIPTION_BACKEND !== undefined && top.IMAGE_DESCRIPTION_BACKEND !== null) {
      this.#warnOncePerProcess(
        imageBackendWarning(
          top.IMAGE_DESCRIPTION_BACKEND as string,
          (top.IMAGE_DESCRIPTION_PROVIDER ?? undefined) as string | undefined,
        ),
      );
    }
  }

  /** Reports a warning that each receiver gets once per process. */
  #warnOncePerProcess(message: string): void {
    const receiver: object = this.options.onWarning ?? console;
    let given = givenOnce.get(receiver);
    if (given === undefined) givenOnce.set(receiver, given = new Set());
    if (given.has(message)) return;
    given.add(message);
    this.#warn(message);
  }

  /**
   * The counts of the `LIMITS` rules with `key` for `value`, as the limit
   * store has them now (answers in flight count what they reserved;
   * `cost_per_day` is in US dollars). `{key: "global"}` gives the global
   * counts; a value that calls did not give is `"(none)"`.
   *
   * @throws {TypeError} (the promise rejects) when no rule has that key.
   * @throws {Error} (the promise rejects) with the store's error when it
   * cannot be reached.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   *   LIMITS: [{ key: "user", requests_per_minute: 30, tokens_per_day: 50_000 }],
   * });
   * await ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user: "7" } })
   *   .text();
   * const { rules } = await ai.getUsage({ key: "user", value: "7" });
   * assert.equal(rules[0].counts.requests_per_minute?.used, 1);
   * assert.equal(rules[0].counts.requests_per_minute?.remaining, 29);
   * assert.ok(rules[0].counts.tokens_per_day!.used > 0);
   * ```
   */
  async getUsage(query: UsageQuery): Promise<LimitUsage> {
    if (query === null || typeof query !== "object" || typeof query.key !== "string") {
      throw new TypeError('getUsage() needs {key, value}, for example {key: "user", value: "42"}');
    }
    if (this.#limiter === undefined) {
      throw new TypeError(`No LIMITS rule has key "${query.key}" (keys: none)`);
    }
    return await this.#limiter.usage(query.key, query.value);
  }

  /** Reports a warning through `onWarning`, or `console.warn` once per message. */
  #warn(message: string): void {
    this.#report(new DeprecationWarning(message));
  }

  #report(warning: Error): void {
    if (this.options.onWarning) {
      this.options.onWarning(warning);
      return;
    }
    if (this.#warned.has(warning.message)) return;
    this.#warned.add(warning.message);
    console.warn(`Warning: ${warning.message}`);
  }

  /**
   * The context every backend of this AI gets. Its providers are the plain
   * ones: a backend's fallbacks and events run around the backend itself.
   */
  protected backendContext(alias: string): BackendContext {
    const context: BackendContext = { alias };
    if (this.options.llmUserPath !== undefined) context.llmUserPath = this.options.llmUserPath;
    if (this.options.llmCheckIntervalMs !== undefined) {
      context.llmCheckIntervalMs = this.options.llmCheckIntervalMs;
    }
    if (this.options.onWarning !== undefined) context.onWarning = this.options.onWarning;
    context.getProvider = (providerAlias: string) => this.#rawProvider(providerAlias);
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
    this.#warn(
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
    const primary = this.#rawProvider(alias);
    const chain = this.#providerChain(alias);
    const provider = chain.length === 1 && !this.#operations.active ? primary : chainProvider(
      primary,
      chain.map((name) => this.#providerEntry(name)),
      this.#providerOperationsOf(alias).fallbackOn ?? "retryable",
      this.#operations,
    );
    this.#providers.set(alias, provider);
    return provider;
  }

  /** The provider of `alias` itself, without fallbacks or events (one per alias). */
  #rawProvider(alias: string): Provider {
    const cached = this.#rawProviders.get(alias);
    if (cached) return cached;
    const { settings } = splitProviderOperations(
      this.getProviderSettings(alias),
      providerWhere(alias),
    );
    const provider = createProvider(settings, { alias });
    this.#rawProviders.set(alias, provider);
    return provider;
  }

  /** The fallback settings of a `PROVIDERS` alias (checked once). */
  #providerOperationsOf(alias: string): AliasOperations {
    let operations = this.#providerOperations.get(alias);
    if (operations === undefined) {
      operations = splitProviderOperations(this.getProviderSettings(alias), providerWhere(alias))
        .operations;
      this.#providerOperations.set(alias, operations);
    }
    return operations;
  }

  /** The chain of a `PROVIDERS` alias: itself, then its fallbacks (checked, cached). */
  #providerChain(alias: string): readonly string[] {
    let chain = this.#providerChains.get(alias);
    if (chain === undefined) {
      const providers = (this.settings.PROVIDERS ?? {}) as Record<string, unknown>;
      const graph: ChainGraph = {
        fallbacksOf: (name) => this.#providerOperationsOf(name).fallbacks,
        has: (name) => Object.hasOwn(providers, name),
        unknown: (name, from) =>
          new InvalidProviderError(
            `fallbacks in ${providerWhere(from)} names "${name}", which is not in PROVIDERS ` +
              `(known: ${nameList(Object.keys(providers))})`,
          ),
        where: (name) => `fallbacks in ${providerWhere(name)}`,
      };
      chain = resolveChain(alias, graph);
      this.#providerChains.set(alias, chain);
    }
    return chain;
  }

  #providerEntry(alias: string): ProviderEntry {
    const operations = this.#providerOperationsOf(alias);
    const provider = once(() => this.#rawProvider(alias));
    return {
      alias,
      key: `provider:${alias}`,
      cooldownFailures: operations.cooldownFailures,
      cooldownSeconds: operations.cooldownSeconds,
      contextWindow: operations.contextWindow,
      provider,
      secrets: once(() => this.#providerSecrets(alias)),
    };
  }

  #providerSecrets(alias: string): string[] {
    const secrets = secretsIn(this.getProviderSettings(alias));
    const provider = this.#rawProviders.get(alias) as { config?: unknown } | undefined;
    return secretsIn(provider?.config, 0, secrets);
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
    throw unknownFeature(feature, "getProvider");
  }

  /**
   * Checks all the settings at once, as an application's start-up should:
   * builds every `BACKENDS` and `PROVIDERS` entry, looks up the API keys that
   * the OpenAI and LLM backends otherwise look up at the first request (not
   * for the default backend of settings that have `PROVIDERS` and no
   * `BACKENDS`: no one configured it),
   * checks the fallbacks (an unknown alias, a cycle) and the aliases the
   * features name. Returns the problems found, in that order (an empty list
   * when all is well). Nothing is sent to any service.
   *
   * `check()` is synchronous, so it loads no package itself: a package that
   * the last {@link AI.preload} could not load (`openai`, `js-tiktoken`) is
   * reported last, as an `ImproperlyConfigured` naming it. Run
   * `await ai.preload().catch(() => {})` first to have it checked.
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
    // Without BACKENDS but with PROVIDERS, the default backend is no one's configuration: it
    // is still built (and so checked), but the key it would need is not asked for.
    const implicitBackends = this.settings.BACKENDS === undefined &&
      this.settings.PROVIDERS !== undefined;
    for (const alias of Object.keys(this.#backends)) {
      attempt(() => {
        if (implicitBackends) {
          this.getAIBackend(alias);
          return;
        }
        const backend = this.getAIBackend(alias) as Backend & {
          getOpenAIApiKey?: () => string;
          getLLMModel?: () => { resolveKey(): string | undefined };
        };
        if (typeof backend.getOpenAIApiKey === "function") backend.getOpenAIApiKey();
        if (typeof backend.getLLMModel === "function") backend.getLLMModel().resolveKey();
      });
      // Its fallbacks: known aliases, no cycle, and each provider fallback buildable.
      attempt(() => {
        const plan = this.#backendPlan(alias);
        const primary = this.#buildBackend(alias, plan, plan.config);
        for (const entry of this.#backendEntries(alias, plan, primary).entries) entry.backend();
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
    // As getBackend(): an IMAGE_DESCRIPTION_PROVIDER may name a backend instead of a provider.
    const imageProvider = this.settings.IMAGE_DESCRIPTION_PROVIDER ?? undefined;
    if (
      imageProvider !== undefined && !Object.hasOwn(providers, imageProvider) &&
      !Object.hasOwn(this.#backends, imageProvider)
    ) {
      attempt(() => this.getProviderFor(BackendFeature.IMAGE_DESCRIPTION));
    }
    for (const prompt of this.#prompts.values()) {
      const alias = prompt.backend;
      if (alias !== undefined && !Object.hasOwn(this.#backends, alias)) {
        attempt(() => {
          try {
            this.getAIBackend(alias);
          } catch (error) {
            if (!(error instanceof InvalidAIBackendError)) throw error;
            // Which prompt names it, so that the settings can be fixed where the mistake is.
            throw new InvalidAIBackendError(
              `PROMPTS["${prompt.name}"] has BACKEND "${alias}", which is not a backend: ` +
                error.message,
            );
          }
        });
      }
    }
    for (const problem of this.#loadProblems) {
      attempt(() => {
        throw problem;
      });
    }
    return problems;
  }

  /**
   * The prompt `name`: one of `PROMPTS`, or the built-in `correction`
   * (replace: grammar, spelling and punctuation) or `completion` (append:
   * continue the text) unless `PROMPTS` replaces or removes them.
   *
   * @throws {UnknownPromptError} (an `ImproperlyConfigured`) for any other
   * name, listing the known ones.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const ai = createAI({
   *   PROMPTS: {
   *     shorten: { LABEL: "Shorten", PROMPT: "Make the text shorter.", METHOD: "replace" },
   *   },
   * });
   * assert.equal(ai.getPrompt("shorten").method, "replace");
   * assert.equal(ai.getPrompt("completion").method, "append");
   * ```
   */
  getPrompt(name: string): Prompt {
    if (typeof name !== "string") throw new TypeError("getPrompt() needs a prompt name");
    const prompt = this.#prompts.get(name);
    if (prompt !== undefined) return prompt;
    throw new UnknownPromptError(
      name,
      `Unknown prompt "${name}" (known: ${nameList([...this.#prompts.keys()])}): add it to PROMPTS`,
    );
  }

  /**
   * Every prompt, in order: the built-in ones left, then those of `PROMPTS`
   * (for an editor's menu of actions).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const ai = createAI({
   *   PROMPTS: {
   *     completion: null, // removes the built-in prompt
   *     title: { LABEL: "Title", PROMPT: "Write a title for the text.", METHOD: "append" },
   *   },
   * });
   * assert.deepEqual(ai.listPrompts().map((prompt) => prompt.name), ["correction", "title"]);
   * ```
   */
  listPrompts(): Prompt[] {
    return [...this.#prompts.values()];
  }

  /**
   * Runs a prompt over a whole document, as Wagtail AI's editor actions do,
   * and returns a lazy {@link DocumentResponse}: iterate it for one event per
   * chunk in document order, or await `text()` for the new document.
   *
   * - `replace` prompts: the text is read as `format` (`"text"`, `"html"` or
   *   `"markdown"`) and cut into chunks of whole blocks that fit the backend
   *   (its length calculator measures them); up to `concurrency` (default 4)
   *   are sent at once, and each answer replaces its chunk. The markup stays:
   *   an answer must keep its chunk's tags (or Markdown marks) in the same
   *   order, else the chunk keeps its text and its event says
   *   `kept: "markup changed"` (so does a Markdown answer that starts a
   *   heading, list, quote or fence its chunk did not have). An HTML answer's
   *   text goes back as text: a `<` in it is written `&lt;`. An answer the
   *   output cap cut (`finish_reason` `"length"`) keeps the original too:
   *   `kept: "answer truncated"`. Spaces between chunks, and content never
   *   sent (`pre`, `code`, `script`, `style`, code blocks, HTML blocks...),
   *   stay byte for byte.
   * - `append` prompts: the whole text is sent, and the answer is added after
   *   it. A text over the context window is a `ContextLengthError` before
   *   anything is sent ("Cannot run completion on text this long"). An HTML
   *   answer keeps only tags the document itself has (and plain `p`, `br`,
   *   `strong`, `em`, `b`, `i`); any other tag, attribute or comment is
   *   written as text.
   * - `cache`: answers are kept by a hash of the method, the format, the
   *   prompt, the backend (alias, class, settings) and the chunk; chunk
   *   boundaries depend on the content, so a run over an edited document
   *   sends only the chunks around the edit. A `get` or `set` still pending
   *   when `signal` aborts no longer holds the run.
   * - `signal` aborts every request in flight; the first chunk that fails
   *   aborts the others and the run rejects with its error. Nothing
   *   half-replaced is ever returned.
   *
   * Wrong arguments throw at the call; service errors (and
   * `ContextLengthError`) surface when the response is read.
   *
   * @throws {UnknownPromptError} for an unknown prompt name.
   * @throws {TypeError} for a wrong argument (a bad prompt object, `text` not
   * a string, an unknown `format`), naming it.
   * @throws {RangeError} for `concurrency` outside 1 to 64 or a bad `chunkSize`.
   * @throws {InvalidAIBackendError} when the prompt's `BACKEND` is unknown.
   *
   * @example Correct an HTML document, chunk by chunk
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
   * });
   * const response = ai.processText({
   *   prompt: "correction",
   *   text: "<h1>Title</h1>\n<pre>code</pre>",
   *   format: "html",
   * });
   * for await (const event of response) {
   *   // The echo backend drops the tags: the block keeps its original.
   *   assert.equal(event.kept, "markup changed");
   * }
   * assert.equal(await response.text(), "<h1>Title</h1>\n<pre>code</pre>");
   * ```
   */
  processText(options: ProcessTextOptions): DocumentResponse {
    if (options === null || typeof options !== "object") {
      throw new TypeError("processText() takes an options object");
    }
    const { prompt: given, text, ...rest } = options;
    const prompt = this.#promptOf(given);
    const backend = prompt.backend === undefined
      ? this.getBackend(BackendFeature.TEXT_COMPLETION)
      : this.getAIBackend(prompt.backend);
    return processDocument({ backend, prompt: prompt.prompt, method: prompt.method, text }, rest);
  }

  #promptOf(given: unknown): Prompt {
    if (typeof given === "string") return this.getPrompt(given);
    if (given === null || typeof given !== "object" || Array.isArray(given)) {
      throw new TypeError("prompt must be a prompt name or a prompt object");
    }
    const raw = given as Record<string, unknown>;
    // A prompt as getPrompt() returns it, or as PROMPTS holds it.
    const entry = Object.hasOwn(raw, "PROMPT") || Object.hasOwn(raw, "METHOD") ? raw : {
      LABEL: raw.label,
      DESCRIPTION: raw.description,
      PROMPT: raw.prompt,
      METHOD: raw.method,
      BACKEND: raw.backend,
    };
    const name = typeof raw.name === "string" ? raw.name : "prompt";
    try {
      return parsePromptEntry(entry, name, "the prompt of processText()", { labelRequired: false });
    } catch (error) {
      if (error instanceof ImproperlyConfigured) throw new TypeError(error.message);
      throw error;
    }
  }

  /**
   * Loads now what the first request would otherwise load: the exact
   * tokenizers of the backends' models and length calculators. Call it at
   * start-up so the first answer streams without that delay (a few hundred
   * milliseconds). Entries that cannot be built are skipped: {@link AI.check}
   * reports them.
   *
   * @throws {ImproperlyConfigured} (the promise rejects) when a package cannot
   * be loaded (an application whose import map or `node_modules` lacks
   * `js-tiktoken`), naming the package; with several, one error
   * lists them all. {@link AI.check} reports them too from then on, so a
   * start-up can run `await ai.preload()` and then `ai.check()` to get every
   * problem at once.
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
    this.#loadProblems = [];
    for (const alias of Object.keys(this.#backends)) {
      let backend: Backend;
      try {
        backend = this.getAIBackend(alias);
      } catch {
        continue;
      }
      if (!(backend instanceof EchoBackend)) {
        tasks.push(getTokenCounter(backend.config.modelId));
      }
      tasks.push(backend.getSplitterLengthCalculator());
    }
    const problems: Error[] = [];
    for (const result of await Promise.allSettled(tasks)) {
      if (result.status === "fulfilled") continue;
      const reason = result.reason;
      const problem = reason instanceof ImproperlyConfigured ? reason : new ImproperlyConfigured(
        `Cannot load what the backends need: ${
          reason instanceof Error ? reason.message : String(reason)
        }`,
        { cause: reason },
      );
      if (!problems.some((known) => known.message === problem.message)) problems.push(problem);
    }
    this.#loadProblems = problems;
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) {
      throw new ImproperlyConfigured(
        problems.map((problem) => problem.message).join("; "),
        { cause: new AggregateError(problems) },
      );
    }
  }

  /**
   * Makes the next call read the `llm` user directory's files afresh
   * (`extra-openai-models.yaml`, `aliases.json`, `keys.json`), for every
   * backend of the process: the LLM backend keeps them as read and otherwise
   * sees a change at its next check (`llmCheckIntervalMs`, once a second by
   * default). Call it after editing the files, or on a signal such as SIGHUP.
   * What this module writes itself (`setKey()`, `setAlias()`, the CLI) is seen
   * at once without it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "./mod.ts";
   * const llmUserPath = await Deno.makeTempDir();
   * const settings = { BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "fast" } } } };
   * const ai = createAI(settings, { llmUserPath, llmCheckIntervalMs: 60_000 });
   * await Deno.writeTextFile(`${llmUserPath}/aliases.json`, '{"fast": "gpt-4o-mini"}');
   * ai.reload();
   * assert.equal(ai.getBackend().config.tokenLimit, 128_000);
   * await Deno.writeTextFile(`${llmUserPath}/aliases.json`, '{"fast": "gpt-4"}');
   * ai.reload(); // seen now, not a minute later
   * assert.equal(ai.getBackend().config.tokenLimit, 8192);
   * await Deno.remove(llmUserPath, { recursive: true });
   * ```
   */
  reload(): void {
    forgetFiles();
    forgetCatalogs();
  }

  /**
   * Builds the backend configured under `alias` in `BACKENDS` (a new instance
   * each call). The LLM backend reads the `llm` user directory's files once
   * and keeps them: a change is seen at the first call after its next check
   * (`llmCheckIntervalMs`: a `stat` of each file at most once a second by
   * default, and no file read while they are unchanged), or at once after
   * {@link AI.reload}.
   *
   * @throws {InvalidAIBackendError} for an unknown alias or `CLASS`.
   * @throws {ImproperlyConfigured} for a bad `CONFIG` or `TEXT_SPLITTING`, naming the key.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI, InvalidAIBackendError } from "./mod.ts";
   * const ai = createAI({
   *   BACKENDS: { fast: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * assert.equal(ai.getAIBackend("fast").config.modelId, "echo");
   * assert.notEqual(ai.getAIBackend("fast"), ai.getAIBackend("fast")); // a new instance each call
   * assert.throws(() => ai.getAIBackend("slow"), InvalidAIBackendError);
   * ```
   */
  getAIBackend(alias: string): Backend {
    const plan = this.#backendPlan(alias);
    const primary = this.#buildBackend(alias, plan, plan.config);
    const chain = this.#backendChain(alias);
    if (chain.length === 1 && !this.#operations.active && !isProviderBackend(plan.cls)) {
      return primary;
    }
    const { entries, fallbackOn } = this.#backendEntries(alias, plan, primary);
    if (entries.length === 1 && !this.#operations.active) return primary;
    return chainBackend(primary, entries, fallbackOn, this.#operations);
  }

  /** The `BACKENDS` entry of `alias`, checked, its fallback keys apart. */
  #backendPlan(alias: string): BackendPlan {
    if (typeof alias !== "string" || !Object.hasOwn(this.#backends, alias)) {
      const known = Object.keys(this.#backends);
      throw new InvalidAIBackendError(
        `Invalid AI backend "${String(alias)}": no such alias in BACKENDS (known: ${
          nameList(known)
        })`,
      );
    }
    const parsed = parseBackendEntry(this.#backends[alias], alias);
    const { operations, config } = splitBackendOperations(parsed.config, configWhere(alias));
    return { ...parsed, config, operations };
  }

  /**
   * Builds backend `alias` from its plan, with `raw` as its `CONFIG`. A
   * provider backend without `TOKEN_LIMIT` takes its provider's
   * `context_window` when set.
   */
  #buildBackend(alias: string, plan: BackendPlan, raw: Record<string, unknown>): Backend {
    const { cls, textSplitting } = plan;
    if (isProviderBackend(cls) && (raw.TOKEN_LIMIT === undefined || raw.TOKEN_LIMIT === null)) {
      const window = this.#contextWindowOf(raw.PROVIDER ?? "default");
      if (window !== undefined) raw = { ...raw, TOKEN_LIMIT: window };
    }
    const context = this.backendContext(alias);
    let config = cls.parseConfig(raw, { ...context, ...textSplitting });
    // A frozen config (a custom class's) cannot take the masking: mask a frozen copy.
    if (Object.isFrozen(config)) config = Object.freeze(guardSecrets({ ...config }));
    else guardSecrets(config);
    return new cls(config as never, context);
  }

  /**
   * `context_window` of a `PROVIDERS` alias, or undefined: also when the alias
   * or its settings are wrong, which the provider backend then reports itself
   * (naming its `PROVIDER`).
   */
  #contextWindowOf(provider: unknown): number | undefined {
    if (typeof provider !== "string" || !Object.hasOwn(this.settings.PROVIDERS ?? {}, provider)) {
      return undefined;
    }
    try {
      return this.#providerOperationsOf(provider).contextWindow;
    } catch {
      return undefined;
    }
  }

  /** The chain of a `BACKENDS` alias: itself, then its `FALLBACKS` (checked, cached). */
  #backendChain(alias: string): readonly string[] {
    let chain = this.#backendChains.get(alias);
    if (chain === undefined) {
      const graph: ChainGraph = {
        fallbacksOf: (name) => this.#backendPlan(name).operations.fallbacks,
        has: (name) => Object.hasOwn(this.#backends, name),
        unknown: (name, from) => {
          const provider = Object.hasOwn(this.settings.PROVIDERS ?? {}, name)
            ? ` (it is a PROVIDERS alias: put it in PROVIDERS["<alias>"].fallbacks, or add a provider backend for it)`
            : "";
          return new InvalidAIBackendError(
            `FALLBACKS in ${
              configWhere(from)
            } names "${name}", which is not in BACKENDS${provider} ` +
              `(known: ${nameList(Object.keys(this.#backends))})`,
          );
        },
        where: (name) => `FALLBACKS in ${configWhere(name)}`,
      };
      chain = resolveChain(alias, graph);
      this.#backendChains.set(alias, chain);
    }
    return chain;
  }

  /**
   * The entries a backend's answers run through: for each backend of its
   * chain, the backend itself or, for a provider backend, one entry per alias
   * of its provider's chain (the same backend on each provider, each with its
   * own model and window). Each alias once.
   */
  #backendEntries(
    alias: string,
    plan: BackendPlan,
    primary: Backend,
  ): { entries: BackendEntry[]; fallbackOn: FallbackOn } {
    const entries: BackendEntry[] = [];
    const keys = new Set<string>();
    const add = (entry: BackendEntry): void => {
      if (keys.has(entry.key)) return;
      keys.add(entry.key);
      entries.push(entry);
    };
    let fallbackOn = plan.operations.fallbackOn;
    for (const name of this.#backendChain(alias)) {
      const own = name === alias ? plan : this.#backendPlan(name);
      const ownBackend = name === alias
        ? () => primary
        : once(() => this.#buildBackend(name, own, own.config));
      if (!isProviderBackend(own.cls)) {
        add({
          alias: name,
          key: `backend:${name}`,
          cooldownFailures: own.operations.cooldownFailures,
          cooldownSeconds: own.operations.cooldownSeconds,
          backend: ownBackend,
          secrets: once(() => secretsIn(ownBackend().config)),
        });
        continue;
      }
      const providerAlias = optionalString(own.config.PROVIDER, "PROVIDER", configWhere(name)) ??
        "default";
      if (name === alias) fallbackOn ??= this.#providerOperationsOf(providerAlias).fallbackOn;
      for (const provider of this.#providerChain(providerAlias)) {
        const operations = this.#providerOperationsOf(provider);
        const backend = provider === providerAlias
          ? ownBackend
          : once(() => this.#buildBackend(name, own, this.#fallbackConfig(name, own, provider)));
        add({
          alias: provider,
          key: `provider:${provider}`,
          cooldownFailures: operations.cooldownFailures,
          cooldownSeconds: operations.cooldownSeconds,
          backend,
          secrets: once(() => [
            ...this.#providerSecrets(provider),
            ...secretsIn(backend().config),
          ]),
        });
      }
    }
    return { entries, fallbackOn: fallbackOn ?? "retryable" };
  }

  /**
   * The `CONFIG` of provider backend `alias` on a fallback `provider`: the
   * same prompts and options, the provider's own model and window.
   */
  #fallbackConfig(
    alias: string,
    plan: BackendPlan,
    provider: string,
  ): Record<string, unknown> {
    const { MODEL_ID: _model, TOKEN_LIMIT: _limit, ...rest } = plan.config;
    const config: Record<string, unknown> = { ...rest, PROVIDER: provider };
    const window = this.#providerOperationsOf(provider).contextWindow;
    if (window !== undefined) config.TOKEN_LIMIT = window;
    else {
      const model = this.getProviderSettings(provider).model;
      try {
        config.TOKEN_LIMIT = getDefaultTokenLimit(model);
      } catch (error) {
        if (!(error instanceof NoTokenLimitFound)) throw error;
        throw new ImproperlyConfigured(
          `No context window is known for model "${model}" of ${providerWhere(provider)}, a ` +
            `fallback of backend "${alias}": set context_window in ${providerWhere(provider)}`,
        );
      }
    }
    return config;
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
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BackendFeature, BackendNotFound, createAI } from "./mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * assert.equal(ai.getBackend().alias, "default"); // TEXT_COMPLETION_BACKEND: default "default"
   * assert.throws(() => ai.getBackend(BackendFeature.IMAGE_DESCRIPTION), BackendNotFound);
   * ```
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
      throw unknownFeature(feature, "getAIBackend");
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
      // Wagtail AI's default backend, while the settings name a default provider: say so, once.
      this.#warnedDefault = true;
      this.#warn(
        'BACKENDS is not set, so getBackend() uses the default LLM backend (gpt-3.5-turbo), not PROVIDERS["default"]: ' +
          'add BACKENDS: {default: {CLASS: "provider", CONFIG: {}}} to send text to the provider',
      );
    }
    return this.getAIBackend(alias);
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
