/**
 * The settings object: its types (the keys of Wagtail AI's `WAGTAIL_AI`
 * setting, so a Wagtail AI configuration moves over as it is) and their
 * validation. {@link createAI} in ai.ts turns settings into backends and
 * providers; `loadSettings()` in load_settings.ts reads them from a file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AISettings, createAI } from "./mod.ts";
 *
 * const settings: AISettings = {
 *   BACKENDS: {
 *     default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } },
 *   },
 * };
 * assert.ok(createAI(settings).getBackend().config.tokenLimit === 4096);
 * ```
 *
 * @module
 */
import { ImproperlyConfigured, InvalidAIBackendError } from "./errors.ts";
import { backendClasses, isBackendClass } from "./backends/registry.ts";
import type { BackendClass } from "./backends/types.ts";
import type { ProviderSettings } from "./providers/types.ts";
import type { ModelPrice } from "./operations/types.ts";
import { parsePrices } from "./operations/_settings.ts";
import type { LimitsSettings } from "./limits/types.ts";
import { type ParsedLimits, parseLimits } from "./limits/_rules.ts";
import { calculatorClasses, splitterClasses } from "./text_splitters/registry.ts";
import { NaiveTextSplitterCalculator } from "./text_splitters/naive.ts";
import { RecursiveCharacterTextSplitter } from "./text_splitters/recursive.ts";
import type { LengthCalculatorClass, TextSplitterClass } from "./text_splitters/types.ts";
import {
  describeType,
  isConstructor,
  nameList,
  optionalString,
  rejectUnknownKeys,
  requireObject,
  requireString,
} from "./_validate.ts";

/**
 * A backend's `CONFIG`. Which keys apply depends on the backend class; each
 * class rejects keys it does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BackendConfigSettings, createAI } from "./mod.ts";
 * const CONFIG: BackendConfigSettings = { MODEL_ID: "echo", TOKEN_LIMIT: 2000 };
 * const ai = createAI({ BACKENDS: { default: { CLASS: "echo", CONFIG } } });
 * assert.equal(ai.getBackend().config.tokenLimit, 2000);
 * ```
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
  /**
   * Any backend: `BACKENDS` aliases to fail over to, in order, on a retryable
   * error before any text reached the caller, or when the prompt does not fit
   * `TOKEN_LIMIT` (docs/operations.md).
   */
  FALLBACKS?: string[];
  /** Any backend: `"retryable"` (default) or `"any"` (also authentication, not-found, bad-request errors). */
  FALLBACK_ON?: "retryable" | "any";
  /** Any backend: fail-overs in a row before it is skipped for `COOLDOWN_SECONDS` (default 3; 0: never). */
  COOLDOWN_FAILURES?: number;
  /** Any backend: seconds it is skipped after `COOLDOWN_FAILURES` fail-overs in a row (default 30). */
  COOLDOWN_SECONDS?: number;
  /** Keys of custom backend classes. */
  [key: string]: unknown;
}

/**
 * A backend's `TEXT_SPLITTING`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type TextSplittingSettings } from "./mod.ts";
 * const TEXT_SPLITTING: TextSplittingSettings = {
 *   SPLITTER_CLASS: "dummy",
 *   SPLITTER_LENGTH_CALCULATOR_CLASS: "dummy",
 * };
 * const ai = createAI({
 *   BACKENDS: {
 *     default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 }, TEXT_SPLITTING },
 *   },
 * });
 * const splitter = await ai.getBackend().getTextSplitter();
 * assert.deepEqual(splitter.splitText("never split"), ["never split"]);
 * const calculator = await ai.getBackend().getSplitterLengthCalculator();
 * assert.equal(calculator.getSplitterLength("abcd"), 4); // characters
 * ```
 */
export interface TextSplittingSettings {
  /** A splitter: upstream dotted name, short name (`recursive`, `dummy`) or class. */
  SPLITTER_CLASS?: string | TextSplitterClass;
  /** A length calculator: dotted name, short name (`naive`, `tiktoken`, `dummy`) or class. */
  SPLITTER_LENGTH_CALCULATOR_CLASS?: string | LengthCalculatorClass;
}

/**
 * One entry of `BACKENDS`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type BackendSettings, createAI, EchoBackend } from "./mod.ts";
 * const echo: BackendSettings = { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } };
 * const ai = createAI({ BACKENDS: { default: echo } });
 * assert.ok(ai.getAIBackend("default") instanceof EchoBackend);
 * ```
 */
export interface BackendSettings {
  /** The backend class: upstream dotted name, short name, registered name or class. */
  CLASS: string | BackendClass;
  /** The backend's configuration. */
  CONFIG: BackendConfigSettings;
  /** How long content is split for this backend. */
  TEXT_SPLITTING?: TextSplittingSettings;
}

/**
 * How a prompt's answer goes into the text: `"replace"` puts each answer in
 * place of the chunk it was asked about ("AI Correction"); `"append"` adds the
 * answer after the text ("AI Completion").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type PromptMethod } from "./mod.ts";
 * const methods: PromptMethod[] = createAI().listPrompts().map((prompt) => prompt.method);
 * assert.deepEqual(methods, ["replace", "append"]); // the built-in correction and completion
 * ```
 */
export type PromptMethod = "replace" | "append";

/**
 * One entry of `PROMPTS`: an editor action.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type PromptSettings } from "./mod.ts";
 * const simplify: PromptSettings = {
 *   LABEL: "Simplify",
 *   DESCRIPTION: "Rewrite in plain language",
 *   PROMPT: "Rewrite the text below in plain language. Keep its markup. Reply with the text only.",
 *   METHOD: "replace",
 * };
 * const ai = createAI({ PROMPTS: { simplify } });
 * assert.equal(ai.getPrompt("simplify").label, "Simplify");
 * ```
 */
export interface PromptSettings {
  /** The name an editor shows ("AI Correction"). */
  LABEL: string;
  /** A longer description, for a tooltip. */
  DESCRIPTION?: string;
  /** The instruction sent before the text (not empty). */
  PROMPT: string;
  /** `"replace"` or `"append"`. */
  METHOD: PromptMethod;
  /** The `BACKENDS` alias that answers it (default: `TEXT_COMPLETION_BACKEND`). */
  BACKEND?: string;
}

/**
 * A prompt, checked: what `ai.getPrompt()` and `ai.listPrompts()` return, and
 * what `ai.processText()` takes besides a name or a {@link PromptSettings}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type Prompt } from "./mod.ts";
 * const correction: Prompt = createAI().getPrompt("correction");
 * assert.equal(correction.method, "replace");
 * ```
 */
export interface Prompt {
  /** The name in `PROMPTS` (or of the built-in prompt). */
  readonly name: string;
  /** `LABEL`. */
  readonly label: string;
  /** `DESCRIPTION`, when set. */
  readonly description?: string;
  /** `PROMPT`: the instruction sent before the text. */
  readonly prompt: string;
  /** `METHOD`. */
  readonly method: PromptMethod;
  /** `BACKEND`, when set. */
  readonly backend?: string;
}

/**
 * The whole settings object (Wagtail AI's `WAGTAIL_AI`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AISettings, createAI } from "./mod.ts";
 * const settings: AISettings = {
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   PROVIDERS: { default: { provider: "openai", model: "gpt-4.1-mini", api_key: "sk-test" } },
 *   TEXT_COMPLETION_BACKEND: "default",
 * };
 * const ai = createAI(settings);
 * assert.equal(ai.getBackend().config.modelId, "echo");
 * assert.equal(ai.getProviderSettings().model, "gpt-4.1-mini");
 * ```
 */
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
  /**
   * Prices by model id, in US dollars per million tokens, for the `cost` of
   * usage events (the module ships no price list: it would go stale).
   */
  PRICES?: Record<string, ModelPrice>;
  /**
   * Editor actions by name, over the built-in `correction` and `completion`
   * ({@link DEFAULT_PROMPTS}): an entry with a built-in's name replaces it, and
   * `null` removes it.
   */
  PROMPTS?: Record<string, PromptSettings | null>;
  /**
   * Rate limits and token and cost budgets per user, site (any `metadata`
   * field) or for all calls: a list of rules, or `{rules, on_store_error}`
   * (docs/operations.md).
   */
  LIMITS?: LimitsSettings;
}

const ALIAS_KEYS = [
  "TEXT_COMPLETION_BACKEND",
  "IMAGE_DESCRIPTION_BACKEND",
  "IMAGE_DESCRIPTION_PROVIDER",
] as const;

const TOP_LEVEL_KEYS = [
  "BACKENDS",
  "PROVIDERS",
  ...ALIAS_KEYS,
  "PRICES",
  "PROMPTS",
  "LIMITS",
] as const;

const PROMPT_KEYS = ["LABEL", "DESCRIPTION", "PROMPT", "METHOD", "BACKEND"] as const;
const PROMPT_METHODS: readonly PromptMethod[] = ["replace", "append"];

/**
 * The built-in prompts, which apply unless `PROMPTS` replaces or removes
 * them: `correction` (replace: grammar, spelling and punctuation only) and
 * `completion` (append: continue the text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_PROMPTS } from "./mod.ts";
 * assert.equal(DEFAULT_PROMPTS.correction.METHOD, "replace");
 * assert.equal(DEFAULT_PROMPTS.completion.METHOD, "append");
 * ```
 */
export const DEFAULT_PROMPTS: Readonly<Record<string, Readonly<PromptSettings>>> = Object.freeze({
  correction: Object.freeze({
    LABEL: "AI Correction",
    DESCRIPTION: "Correct grammar, spelling and punctuation",
    PROMPT: "You are a careful copy editor. Correct the grammar, spelling and punctuation of " +
      "the text that follows, and change nothing else: keep its wording, meaning, tone, " +
      "language, line breaks and paragraphs, and keep every HTML tag, attribute and Markdown " +
      "mark exactly where it is. Reply with the corrected text only, with no comment, no " +
      "quotes and no code fence.",
    METHOD: "replace" as const,
  }),
  completion: Object.freeze({
    LABEL: "AI Completion",
    DESCRIPTION: "Continue the text",
    PROMPT: "Continue the text that follows as its author would: in the same language, tone " +
      "and style, with one or two sentences that follow on from where it stops. Reply with " +
      "the continuation only: do not repeat the text, and add no comment.",
    METHOD: "append" as const,
  }),
});

/**
 * Checks one prompt entry (`where` names it in messages, for example
 * `PROMPTS["simplify"]`) and returns it as a {@link Prompt}. A prompt given
 * as an argument rather than in settings may leave out `LABEL`
 * (`labelRequired: false`).
 *
 * @throws {ImproperlyConfigured} naming `where` and the key.
 */
export function parsePromptEntry(
  raw: unknown,
  name: string,
  where: string,
  options: { labelRequired?: boolean } = {},
): Prompt {
  const entry = requireObject(raw, where);
  rejectUnknownKeys(entry, PROMPT_KEYS, where);
  const label = options.labelRequired === false
    ? optionalString(entry.LABEL, "LABEL", where) ?? name
    : requireString(entry.LABEL, "LABEL", where);
  const prompt = requireString(entry.PROMPT, "PROMPT", where);
  const method = entry.METHOD;
  if (method === undefined || method === null) {
    throw new ImproperlyConfigured(`${where} is missing METHOD ("replace" or "append")`);
  }
  if (typeof method !== "string" || !PROMPT_METHODS.includes(method as PromptMethod)) {
    const shape = typeof method === "string" ? `"${method}"` : describeType(method);
    throw new ImproperlyConfigured(
      `METHOD in ${where} must be "replace" or "append", got ${shape}`,
    );
  }
  const parsed: {
    name: string;
    label: string;
    description?: string;
    prompt: string;
    method: PromptMethod;
    backend?: string;
  } = { name, label, prompt, method: method as PromptMethod };
  const description = optionalString(entry.DESCRIPTION, "DESCRIPTION", where);
  if (description !== undefined) parsed.description = description;
  const backend = optionalString(entry.BACKEND, "BACKEND", where);
  if (backend !== undefined) parsed.backend = backend;
  return Object.freeze(parsed);
}

/**
 * The prompts of checked settings: {@link DEFAULT_PROMPTS} with `PROMPTS`
 * over them (a `null` entry removes a built-in), in that order.
 *
 * @throws {ImproperlyConfigured} naming the prompt and the key.
 */
export function parsePrompts(raw: unknown): Map<string, Prompt> {
  const prompts = new Map<string, Prompt>();
  for (const [name, entry] of Object.entries(DEFAULT_PROMPTS)) {
    prompts.set(name, parsePromptEntry(entry, name, `DEFAULT_PROMPTS["${name}"]`));
  }
  if (raw === undefined || raw === null) return prompts;
  const entries = requireObject(raw, "PROMPTS");
  for (const [name, entry] of Object.entries(entries)) {
    if (name.trim() === "") throw new ImproperlyConfigured("PROMPTS has an empty prompt name");
    if (entry === null || entry === undefined) {
      prompts.delete(name);
      continue;
    }
    prompts.set(name, parsePromptEntry(entry, name, `PROMPTS["${name}"]`));
  }
  return prompts;
}

/**
 * The backends used when settings have no `BACKENDS`, as in Wagtail AI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BACKENDS } from "./mod.ts";
 * assert.equal(DEFAULT_BACKENDS.default.CLASS, "wagtail_ai.ai.llm.LLMBackend");
 * assert.equal(DEFAULT_BACKENDS.default.CONFIG.MODEL_ID, "gpt-3.5-turbo");
 * assert.ok(Object.isFrozen(DEFAULT_BACKENDS.default));
 * ```
 */
export const DEFAULT_BACKENDS: Readonly<Record<string, BackendSettings>> = Object.freeze({
  default: Object.freeze({
    CLASS: "wagtail_ai.ai.llm.LLMBackend",
    CONFIG: Object.freeze({ MODEL_ID: "gpt-3.5-turbo" }),
  }),
});

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

/** Resolves `TEXT_SPLITTING` of backend `alias` to its classes (the defaults when unset). */
export function resolveTextSplitting(
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
 * Checks the top level of the settings: an object of known keys, string
 * aliases, `PROVIDERS` and `PROMPTS` objects, `PRICES`. Each `BACKENDS` and
 * `PROVIDERS` entry is checked when it is built; {@link parsePrompts} checks
 * `PROMPTS`.
 *
 * @throws {ImproperlyConfigured} naming the key at fault.
 */
export function checkSettings(settings: unknown): Record<string, unknown> {
  const where = "AI settings";
  const top = requireObject(settings, where);
  rejectUnknownKeys(top, TOP_LEVEL_KEYS, where);
  for (const key of ALIAS_KEYS) optionalString(top[key], key, where);
  if (top.PROVIDERS !== undefined) requireObject(top.PROVIDERS, "PROVIDERS");
  parsePrices(top.PRICES);
  if (top.PROMPTS !== undefined && top.PROMPTS !== null) requireObject(top.PROMPTS, "PROMPTS");
  limitsOf(top);
  return top;
}

/**
 * The `LIMITS` of checked settings, parsed (no rules when unset). A rule's
 * `aliases` may name `BACKENDS` and `PROVIDERS` aliases.
 *
 * @throws {ImproperlyConfigured} naming the rule and the key at fault.
 */
export function limitsOf(top: Record<string, unknown>): ParsedLimits {
  if (top.LIMITS === undefined || top.LIMITS === null) return parseLimits(undefined, []);
  const aliases = [
    ...Object.keys(backendsOf(top)),
    ...Object.keys((top.PROVIDERS ?? {}) as Record<string, unknown>),
  ];
  return parseLimits(top.LIMITS, [...new Set(aliases)]);
}

/** The `BACKENDS` of checked settings, or {@link DEFAULT_BACKENDS} when unset. */
export function backendsOf(top: Record<string, unknown>): Record<string, unknown> {
  return top.BACKENDS === undefined
    ? { ...DEFAULT_BACKENDS }
    : requireObject(top.BACKENDS, "BACKENDS");
}

/** A `BACKENDS` entry, checked: its class, raw `CONFIG` and text splitting classes. */
export interface ParsedBackendEntry {
  /** The backend class `CLASS` names. */
  cls: BackendClass;
  /** The raw `CONFIG` (the class's `parseConfig` checks its keys). */
  config: Record<string, unknown>;
  /** The classes `TEXT_SPLITTING` names. */
  textSplitting: {
    textSplitterClass: TextSplitterClass;
    textSplitterLengthCalculatorClass: LengthCalculatorClass;
  };
}

/**
 * Checks the `BACKENDS` entry of `alias` (keys, `CLASS`, `CONFIG`,
 * `TEXT_SPLITTING`, in that order).
 *
 * @throws {InvalidAIBackendError} for an unknown `CLASS`.
 * @throws {ImproperlyConfigured} for a bad entry, naming the key.
 */
export function parseBackendEntry(raw: unknown, alias: string): ParsedBackendEntry {
  const entry = requireObject(raw, `BACKENDS["${alias}"]`);
  rejectUnknownKeys(entry, ["CLASS", "CONFIG", "TEXT_SPLITTING"], `BACKENDS["${alias}"]`);
  const cls = resolveBackendClass(entry.CLASS, alias);
  if (entry.CONFIG === undefined) {
    throw new ImproperlyConfigured(`BACKENDS["${alias}"] is missing CONFIG`);
  }
  const config = requireObject(entry.CONFIG, `CONFIG of backend "${alias}"`);
  return { cls, config, textSplitting: resolveTextSplitting(entry.TEXT_SPLITTING, alias) };
}

/** Resolves `CLASS` of backend `alias`: a backend class, or a registered name. */
export function resolveBackendClass(value: unknown, alias: string): BackendClass {
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
      `Invalid AI backend "${alias}": CLASS must be a name or a class, got ${describeType(value)}`,
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
