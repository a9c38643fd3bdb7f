/**
 * Context windows, maximum output sizes and exact token counts per model.
 *
 * `TOKEN_LIMIT` in a backend's `CONFIG` means the model's context window: the
 * most tokens one request (prompt and answer together) may hold. When it is
 * not set, the backend takes the window from the table here.
 *
 * Token counts are exact for OpenAI models (the `cl100k_base` and
 * `o200k_base` encodings). The tokenizer is loaded on first use, not on
 * import. Models without a known encoding (Claude, Gemini, Mistral, Llama...)
 * are counted with the naive estimate of {@link NaiveTextSplitterCalculator},
 * which over-estimates English text slightly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countTokens, getDefaultTokenLimit } from "./tokens.ts";
 *
 * assert.ok(getDefaultTokenLimit("gpt-4o-2024-08-06") === 128_000);
 * assert.ok(await countTokens("Hello, world!", "gpt-4o") === 4);
 * ```
 *
 * @module
 */
import { NoTokenLimitFound } from "./errors.ts";
import { type EncodingName, loadedEncoding, loadEncoding } from "./_tokenizer/mod.ts";
import { NaiveTextSplitterCalculator } from "./text_splitters/naive.ts";

export type { EncodingName };

/**
 * What is known of a model's size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultTokenLimit, getMaxOutputTokens, type ModelLimits } from "./tokens.ts";
 * const gpt4o: ModelLimits = {
 *   contextWindow: getDefaultTokenLimit("gpt-4o"),
 *   maxOutputTokens: getMaxOutputTokens("gpt-4o"),
 * };
 * assert.ok(gpt4o.maxOutputTokens! < gpt4o.contextWindow);
 * ```
 */
export interface ModelLimits {
  /** The context window in tokens (prompt and answer together). */
  contextWindow: number;
  /** The most tokens the model writes in one answer, when known. */
  maxOutputTokens?: number;
}

// Sources (vendors' published model pages, read 2026-11):
// - OpenAI: platform.openai.com/docs/models (each model's "Context window" and
//   "Max output tokens").
// - Anthropic: docs.anthropic.com/en/docs/about-claude/models/overview.
// - Google: ai.google.dev/gemini-api/docs/models ("Input token limit",
//   "Output token limit").
// - Mistral: docs.mistral.ai/getting-started/models/models_overview.
// - Meta Llama: the model cards on llama.com (Llama 3: 8K; 3.1 to 3.3: 128K).
const K = 1024;
const BUILT_IN: ReadonlyArray<readonly [string, number, number?]> = [
  // OpenAI, cl100k_base
  ["gpt-3.5-turbo", 16_385, 4_096],
  ["gpt-3.5-turbo-16k", 16_385, 4_096],
  // The first snapshots had the original 4K window (later ones: the family's 16K).
  ["gpt-3.5-turbo-0301", 4_096, 4_096],
  ["gpt-3.5-turbo-0613", 4_096, 4_096],
  ["gpt-3.5-turbo-instruct", 4_096, 4_096],
  ["gpt-4", 8_192, 8_192],
  ["gpt-4-32k", 32_768, 32_768],
  ["gpt-4-turbo", 128_000, 4_096],
  ["gpt-4-turbo-preview", 128_000, 4_096],
  ["gpt-4-vision-preview", 128_000, 4_096],
  ["gpt-4-1106-preview", 128_000, 4_096],
  ["gpt-4-0125-preview", 128_000, 4_096],
  ["gpt-4-1106-vision-preview", 128_000, 4_096],
  // OpenAI, o200k_base
  ["gpt-4o", 128_000, 16_384],
  ["gpt-4o-mini", 128_000, 16_384],
  ["chatgpt-4o-latest", 128_000, 16_384],
  ["gpt-4.1", 1_047_576, 32_768],
  ["gpt-4.1-mini", 1_047_576, 32_768],
  ["gpt-4.1-nano", 1_047_576, 32_768],
  ["gpt-4.5-preview", 128_000, 16_384],
  ["o1", 200_000, 100_000],
  ["o1-pro", 200_000, 100_000],
  ["o1-preview", 128_000, 32_768],
  ["o1-mini", 128_000, 65_536],
  ["o3", 200_000, 100_000],
  ["o3-pro", 200_000, 100_000],
  ["o3-mini", 200_000, 100_000],
  ["o4-mini", 200_000, 100_000],
  ["gpt-5", 400_000, 128_000],
  ["gpt-5-mini", 400_000, 128_000],
  ["gpt-5-nano", 400_000, 128_000],
  ["gpt-5-chat-latest", 128_000, 16_384],
  ["gpt-5.1", 400_000, 128_000],
  // Anthropic Claude
  ["claude-3-haiku", 200_000, 4_096],
  ["claude-3-sonnet", 200_000, 4_096],
  ["claude-3-opus", 200_000, 4_096],
  ["claude-3-5-haiku", 200_000, 8_192],
  ["claude-3-5-sonnet", 200_000, 8_192],
  ["claude-3-7-sonnet", 200_000, 64_000],
  ["claude-sonnet-4", 200_000, 64_000],
  ["claude-opus-4", 200_000, 32_000],
  ["claude-opus-4-1", 200_000, 32_000],
  ["claude-sonnet-4-5", 200_000, 64_000],
  ["claude-haiku-4-5", 200_000, 64_000],
  ["claude-opus-4-5", 200_000, 64_000],
  // Mistral
  ["mistral-large", 128 * K, undefined],
  ["mistral-medium", 128 * K, undefined],
  ["mistral-small", 128 * K, undefined],
  ["ministral-8b", 128 * K, undefined],
  ["ministral-3b", 128 * K, undefined],
  ["open-mistral-nemo", 128 * K, undefined],
  ["pixtral-large", 128 * K, undefined],
  ["codestral", 256 * K, undefined],
  ["open-mistral-7b", 32 * K, undefined],
  ["open-mixtral-8x7b", 32 * K, undefined],
  ["open-mixtral-8x22b", 64 * K, undefined],
  // Meta Llama (as served by Ollama, Groq, Together...)
  ["llama3", 8_192, undefined],
  ["llama3.1", 128 * K, undefined],
  ["llama3.2", 128 * K, undefined],
  ["llama3.3", 128 * K, undefined],
  ["llama-3.1-8b-instant", 128 * K, 8_192],
  ["llama-3.3-70b-versatile", 128 * K, 32_768],
  // Google Gemini
  ["gemini-1.5-pro", 2_097_152, 8_192],
  ["gemini-1.5-flash", 1_048_576, 8_192],
  ["gemini-2.0-flash", 1_048_576, 8_192],
  ["gemini-2.0-flash-lite", 1_048_576, 8_192],
  ["gemini-2.5-pro", 1_048_576, 65_536],
  ["gemini-2.5-flash", 1_048_576, 65_536],
  ["gemini-2.5-flash-lite", 1_048_576, 65_536],
];

const limits = new Map<string, ModelLimits>();
for (const [id, contextWindow, maxOutputTokens] of BUILT_IN) {
  limits.set(
    id,
    maxOutputTokens === undefined ? { contextWindow } : { contextWindow, maxOutputTokens },
  );
}

// Dated snapshots and tags: gpt-4o-2024-08-06, gpt-4-0613, claude-3-haiku-20240307,
// gemini-1.5-pro-002, mistral-large-latest, llama3.1:8b, openai/gpt-4o, and OpenAI
// fine-tuned models (ft:gpt-4o-mini-2024-07-18:org:name:id).
const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview-\d{2}-\d{2})$/;

function candidates(modelId: string): string[] {
  const out: string[] = [];
  let id = modelId.trim().toLowerCase();
  out.push(id);
  if (id.startsWith("ft:")) out.push(id = id.slice(3));
  const slash = id.lastIndexOf("/");
  if (slash >= 0) out.push(id = id.slice(slash + 1));
  const colon = id.indexOf(":");
  if (colon >= 0) out.push(id = id.slice(0, colon));
  while (SNAPSHOT_SUFFIX.test(id)) out.push(id = id.replace(SNAPSHOT_SUFFIX, ""));
  return out;
}

function lookup(modelId: string): ModelLimits | undefined {
  // A known id as it is (every key is trimmed and in lower case): no candidates to build.
  const exact = limits.get(modelId);
  if (exact) return exact;
  for (const id of candidates(modelId)) {
    const found = limits.get(id);
    if (found) return found;
  }
  return undefined;
}

/**
 * The context window of a model, in tokens. Dated snapshots and tags resolve
 * to their family (`gpt-4o-2024-08-06` is `gpt-4o`, `llama3.1:8b` is `llama3.1`).
 *
 * @throws {NoTokenLimitFound} when the model is not known; set `TOKEN_LIMIT`
 * for it or call {@link registerTokenLimit}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultTokenLimit } from "./tokens.ts";
 * assert.ok(getDefaultTokenLimit("gpt-4") === 8192);
 * assert.ok(getDefaultTokenLimit("claude-3-haiku-20240307") === 200_000);
 * ```
 */
export function getDefaultTokenLimit(modelId: string): number {
  const found = lookup(modelId);
  if (!found) throw new NoTokenLimitFound(modelId);
  return found.contextWindow;
}

/**
 * The most tokens a model writes in one answer, or `undefined` when not known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getMaxOutputTokens } from "./tokens.ts";
 * assert.ok(getMaxOutputTokens("gpt-4o-mini") === 16_384);
 * assert.ok(getMaxOutputTokens("my-model") === undefined);
 * ```
 */
export function getMaxOutputTokens(modelId: string): number | undefined {
  return lookup(modelId)?.maxOutputTokens;
}

/**
 * Options of {@link registerTokenLimit}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   getMaxOutputTokens,
 *   registerTokenLimit,
 *   type RegisterTokenLimitOptions,
 * } from "./tokens.ts";
 * const options: RegisterTokenLimitOptions = { maxOutputTokens: 2_000 };
 * registerTokenLimit("in-house-model", 16_000, options);
 * assert.equal(getMaxOutputTokens("in-house-model"), 2_000);
 * ```
 */
export interface RegisterTokenLimitOptions {
  /** The most tokens the model writes in one answer. */
  maxOutputTokens?: number;
}

/**
 * Adds or replaces a model's context window (and optionally its maximum
 * output), for every backend in the process.
 *
 * @throws {RangeError} when a limit is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultTokenLimit, registerTokenLimit } from "./tokens.ts";
 * registerTokenLimit("my-company-llm", 32_000, { maxOutputTokens: 4_000 });
 * assert.ok(getDefaultTokenLimit("my-company-llm") === 32_000);
 * ```
 */
export function registerTokenLimit(
  modelId: string,
  limit: number,
  options: RegisterTokenLimitOptions = {},
): void {
  if (typeof modelId !== "string" || modelId.trim() === "") {
    throw new TypeError("modelId must be a non-empty string");
  }
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new RangeError(`Token limit for "${modelId}" must be a positive integer`);
  }
  const { maxOutputTokens } = options;
  if (
    maxOutputTokens !== undefined &&
    (!Number.isSafeInteger(maxOutputTokens) || maxOutputTokens <= 0)
  ) {
    throw new RangeError(`maxOutputTokens for "${modelId}" must be a positive integer`);
  }
  limits.set(
    modelId.trim().toLowerCase(),
    maxOutputTokens === undefined
      ? { contextWindow: limit }
      : { contextWindow: limit, maxOutputTokens },
  );
}

const O200K = /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|gpt-oss)/;
const CL100K = /^(?:gpt-3\.5|gpt-35|gpt-4|text-embedding-3|text-embedding-ada-002)/;

/**
 * The tokenizer encoding of a model, or `undefined` when it has none we know
 * (then counts are the naive estimate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getEncodingName } from "./tokens.ts";
 * assert.ok(getEncodingName("gpt-4") === "cl100k_base");
 * assert.ok(getEncodingName("gpt-4o-mini") === "o200k_base");
 * assert.ok(getEncodingName("mistral-large-latest") === undefined);
 * ```
 */
export function getEncodingName(modelId: string): EncodingName | undefined {
  for (const id of candidates(modelId)) {
    if (O200K.test(id)) return "o200k_base";
    if (CL100K.test(id)) return "cl100k_base";
  }
  return undefined;
}

/**
 * Counts the tokens of a text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getTokenCounter, type TokenCounter } from "./tokens.ts";
 * const count: TokenCounter = await getTokenCounter("gpt-4o");
 * assert.equal(count("Hello, world!"), 4);
 * ```
 */
export type TokenCounter = (text: string) => number;

const naive = new NaiveTextSplitterCalculator();
const naiveCounter: TokenCounter = (text) => naive.getSplitterLength(text);

/**
 * A synchronous counter for a model: exact for models with a known encoding
 * (loaded on the first call and shared), the naive estimate otherwise.
 * Special-token strings such as `<|endoftext|>` are counted as plain text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getTokenCounter } from "./tokens.ts";
 * const count = await getTokenCounter("gpt-4");
 * assert.ok(count("<|endoftext|>") === 7);
 * ```
 */
export async function getTokenCounter(modelId: string): Promise<TokenCounter> {
  const name = getEncodingName(modelId);
  if (!name) return naiveCounter;
  const encoding = loadedEncoding(name) ?? await loadEncoding(name);
  return (text) => encoding.count(text);
}

/**
 * The exact number of tokens of `text` for `modelId` (the naive estimate for
 * models without a known encoding). The encoding is loaded on first use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countTokens } from "./tokens.ts";
 * assert.ok(await countTokens("hello world", "gpt-3.5-turbo") === 2);
 * ```
 */
export async function countTokens(text: string, modelId: string): Promise<number> {
  if (typeof text !== "string") throw new TypeError("text must be a string");
  return (await getTokenCounter(modelId))(text);
}
